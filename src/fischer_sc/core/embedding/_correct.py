"""Local correction: remove a prior's effect from the data where ``regress_out`` cannot (per-cluster, non-linear).

``regress_out`` (``residualise``) removes what a *global* linear model of the prior explains:
one shift per label, or one linear map of the prior features. Two kinds of effect survive it,
and the factor-out sweep (docs/factor_out.md) shows both leave the prior visible:

* effects that **differ per kept cluster**: each prior label shifts each cluster its own way,
  so no single shift per label removes it;
* **non-linear** effects of continuous priors (a cycle moving cells along a curve).

The stages below generalise the linear fit *locally*; each runs only while the prior is still
visible in the data (the ``Visibility`` of ``_auto_lam``, on the exact kNN of the corrected
representation: above the target and above twice its noise, ``Visibility.noise``, the spread of
the visibility of a permuted prior), and each (the linear fit too) is kept only if it lowers that
visibility:

1. **Conditional mean on the prior** (feature priors): the mean of x over each point's
   ``SMOOTH_K`` nearest neighbours *in the prior* is subtracted (the overall mean kept): a
   nearest-neighbour regression of x on Z, the non-parametric form of the least-squares fit.
   It removes any effect that depends on the prior alone, linear or not; as it adds the noise of a
   ``SMOOTH_K``-point mean to every cell, it is kept only if it removes at least half of the
   visibility left (``SMOOTH_GAIN``).
2. **Mutual-nearest-neighbour alignment between prior groups**: groups are the labels, or for a
   feature prior k-means clusters of Z (deliberately many: n / 50, 2-8; see ``kmeans_groups``). The
   idea is that of MNN correction (Haghverdi et al. 2018), implemented from its description and
   made symmetric: for every pair of groups (a, b), the mutual nearest neighbours between a and b
   are cells in the same local state; the vectors from a's cells to their b partners, smoothed over
   a by a Gaussian kernel (bandwidth: the median distance to the ``k``-th neighbour within a), give
   every cell of a a local correction towards b. Each cell moves by the mean of its corrections
   over all groups, 1/G of the way to every other group (so groups meet in the middle and no group
   is the reference). The alignment runs only if the groups still differ: the first round's moves
   must be at least ``MIN_SIGNAL`` above those of random groups of the same sizes (aligning groups
   that no longer differ pushes the prior below chance). Rounds repeat until the visibility is at
   most ``ROUNDS_TARGET`` of the target or stops falling. A per-label shift is the special case of
   a constant correction; a shift per (label, cluster) is corrected cluster by cluster because MNN
   pairs stay within a cluster, as long as two labels' shifts of one cluster differ by less than
   the distance to the next cluster. Beyond that the data do not say which cluster of one group is
   which of another (its nearest counterpart is another cluster; even the true clusters matched as
   wholes pair some wrongly), the pairs join different clusters and the rounds pull them together:
   the prior goes, and part of the kept structure with it
   (``benchmarks/factor_out_correspondence.py``). The moves are fitted on at most ``TOTAL_ANCHORS``
   anchor cells shared by the groups (all cells of groups below their share; one distance block per
   pair of groups serves both directions) and carried to the other cells by the same kernel, so a
   round costs about ``TOTAL_ANCHORS``^2 distances plus one pass of every cell over its group's
   anchors.

Every choice (stages run, groups, rounds, visibilities) is returned in ``info`` for ``uns``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._auto_lam import AUTO_TARGET, NOISE_Z, Visibility
from ._knn import knn, knn_query
from ._mnn import kth_cols, kth_rows, mutual_pairs, smooth_from, sq_dists
from ._priors import Prior, residualise

#: Neighbours in the prior for the conditional mean (capped at a tenth of the points).
SMOOTH_K = 30
#: The conditional mean is kept only if it leaves at most this share of the visibility: it adds
#: the noise of a k-point mean to every cell, worth paying only where the effect is a function of
#: the prior (then it removes nearly all of it; where the effect differs per cluster it removes little).
SMOOTH_GAIN = 0.5
#: Neighbours between groups of the MNN alignment (capped by the group sizes).
MNN_K = 10
#: Anchors (cells with mutual partners) averaged by the Gaussian kernel at each cell.
SMOOTH_ANCHORS = 30
#: Share of the MNN move taken per round.
STEP = 1.0
#: Alignment rounds go on until the visibility is at most this share of the target (the stages
#: start only above the target): a kNN graph at 3 % of the data's visibility still gave t-SNE
#: layouts at 8 % of plain t-SNE's (the layout separates what the graph only leans towards).
ROUNDS_TARGET = 0.25
#: Largest number of alignment rounds.
MAX_ROUNDS = 8
#: Cells per group searched for mutual neighbours (anchors): ``TOTAL_ANCHORS`` shared by the groups,
#: at least ``MIN_ANCHORS`` and at most ``ANCHORS`` per group (a random subset of a larger group;
#: its other cells take the kernel average of their nearest anchors' moves). A round costs about
#: (G x anchors)^2 distances: the total, not the number of groups, sets it.
ANCHORS = 3000
MIN_ANCHORS = 200
TOTAL_ANCHORS = 8000
#: Seed offset of the random groups whose moves are the chance level (``mnn_align``).
NULL_SEED = 7919
#: The alignment runs only if the groups' first move is at least this share above chance (its
#: squared length at least twice that of random groups of the same sizes).
MIN_SIGNAL = 0.5
#: Cells per block when the anchors' moves are interpolated to the other cells.
INTERPOLATE_BLOCK = 4096
#: Range of the number of k-means groups of a feature prior, and the points per group aimed at.
KMEANS_GROUPS: tuple[int, int] = (2, 8)
GROUP_POINTS = 50
#: k-means runs per number of clusters (the one of least within-cluster sum of squares is kept).
KMEANS_RESTARTS = 5
#: Points on which the silhouette of the k-means groups is computed (recorded, not used).
SILHOUETTE_POINTS = 1000


def local_correction(
    x: np.ndarray,
    prior: Prior,
    *,
    linear: bool = True,
    local: bool = True,
    reference_x: np.ndarray | None = None,
    target: float = AUTO_TARGET,
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """``x`` with the prior's effect removed: the linear fit, then the local stages while the prior is visible.

    Parameters
    ----------
    x
        Data representation (n, d).
    prior
        The prior. Graph and dense distance priors have neither a linear model nor groups:
        ``x`` is returned unchanged.
    linear
        Subtract the least-squares fit first (``residualise``; ``sc.pp.regress_out``).
    local
        Run the local stages (conditional mean on a feature prior, MNN alignment of groups).
    reference_x
        The data whose visibility sets the target (default ``x``).
    target
        Aim: the prior's visibility in the corrected data at most ``target`` times that in ``reference_x``.
    seed
        Seed of the query points, k-means and anchor subsets.

    Returns
    -------
    The corrected representation and ``info``: ``visibility_data`` (the reference),
    ``visibility_linear`` (after the linear fit) and ``linear`` (whether it was kept: only if it
    lowered the visibility), ``visibility_noise`` (the noise of the visibility after it),
    ``conditional_mean`` (applied or not, and ``visibility_conditional_mean``), ``groups``
    (``"labels"``, ``"kmeans"`` or ``"none"``: not needed), ``n_groups``, ``silhouette`` (k-means),
    ``alignment_signal`` (the share of the first move above chance), ``alignment_rounds``, ``visibility_rounds``
    (after each round tried; a round that did not lower it is undone) and ``visibility_corrected``
    (after the last round kept).
    """
    x = np.asarray(x, dtype=np.float64)
    info: dict[str, Any] = {}
    if prior.kind not in ("labels", "features"):
        return (residualise(x, prior)[0] if linear else x), info
    vis = Visibility(prior, seed)
    # the query points' neighbours in the representation the stages start from, kept for the noise
    nb = vis.neighbours(x) if reference_x is None else None
    ref = vis.of_neighbours(nb) if nb is not None else vis.of_layout(np.asarray(reference_x, dtype=np.float64))
    goal = target * max(ref, 1e-3)
    info["visibility_data"] = ref
    v = ref
    if linear:
        xl = residualise(x, prior)[0]
        nb_l = vis.neighbours(xl)
        vl = info["visibility_linear"] = vis.of_neighbours(nb_l)
        info["linear"] = bool(abs(vl) < abs(v))  # label means can carry other structure (cell types per phase)
        if info["linear"]:
            x, v, nb = xl, vl, nb_l
    if not local:
        return x, info
    # a visibility within the noise of its measurement is chance: nothing is left to remove
    info["visibility_noise"] = noise = vis.noise(x, neighbours=nb)
    rounds_goal, goal = ROUNDS_TARGET * goal, max(goal, NOISE_Z * noise)
    if prior.kind == "features" and abs(v) > goal:
        xs = conditional_mean_residual(x, prior.values, min(SMOOTH_K, max(1, (prior.n - 1) // 10)), seed)
        vs = info["visibility_conditional_mean"] = vis.of_layout(xs)
        info["conditional_mean"] = bool(abs(vs) <= SMOOTH_GAIN * abs(v))
        if info["conditional_mean"]:
            x, v = xs, vs
    if abs(v) <= goal:
        info["groups"] = "none"
        return x, info
    if prior.kind == "labels":
        codes, info["groups"] = np.asarray(prior.values), "labels"
    else:
        codes, info["silhouette"] = kmeans_groups(prior.values, seed)
        info["groups"] = "kmeans"
    info["n_groups"] = int(np.unique(codes).size)
    x, history, info["alignment_signal"] = mnn_align(x, codes, vis, rounds_goal, v, seed=seed)
    info["alignment_rounds"] = int(sum(1 for h in history[1:] if h[1]))
    info["visibility_rounds"] = np.asarray([h[0] for h in history], dtype=np.float64)
    info["visibility_corrected"] = float(min((h[0] for h in history if h[1]), key=abs))
    return x, info


def conditional_mean_residual(x: np.ndarray, z: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """``x`` minus its mean over each point's ``k`` nearest neighbours in ``z`` (itself included), plus the overall mean."""
    z = np.asarray(z, dtype=np.float64)
    idx = knn(z, k, random_state=seed)[0]
    local = (x[idx].sum(1) + x) / (k + 1)
    return x - local + x.mean(0)


def kmeans_groups(z: np.ndarray, seed: int = 0) -> tuple[np.ndarray, float]:
    """Groups of the prior features (standardised): k-means with ``n // GROUP_POINTS`` clusters, 2-8; and their silhouette.

    The prior is over-clustered on purpose: MNN alignment between two parts of one prior group
    finds nothing to correct (the parts hold the same states), so too many groups cost little,
    while too few (two prior groups in one) leave their difference in place. A silhouette-chosen
    number of clusters picked 2 for 3 overlapping labels in the sweep (4 sd apart in 4
    dimensions) and left 12 % of the prior visible.
    """
    from scipy.cluster.vq import kmeans2

    z = np.asarray(z, dtype=np.float64)
    z = (z - z.mean(0)) / np.where(z.std(0) > 0, z.std(0), 1.0)
    rng = np.random.default_rng(seed)
    g = int(np.clip(z.shape[0] // GROUP_POINTS, min(KMEANS_GROUPS), max(KMEANS_GROUPS)))
    if g >= z.shape[0]:
        return np.zeros(z.shape[0], dtype=np.int64), float("nan")
    fits = [kmeans2(z, g, minit="++", seed=int(rng.integers(2**31))) for _ in range(KMEANS_RESTARTS)]
    labels = min(fits, key=lambda f: float(((z - f[0][f[1]]) ** 2).sum()))[1]
    sub = np.sort(rng.choice(z.shape[0], min(z.shape[0], SILHOUETTE_POINTS), replace=False))
    return np.unique(labels, return_inverse=True)[1].ravel().astype(np.int64), silhouette(z[sub], labels[sub])


def silhouette(z: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (Euclidean) of the partition ``labels`` of ``z``; points alone in their cluster score 0."""
    codes = np.unique(labels, return_inverse=True)[1].ravel()
    g = int(codes.max()) + 1
    if g < 2:
        return 0.0
    sq = np.einsum("ij,ij->i", z, z)
    d = np.sqrt(np.maximum(sq[:, None] - 2.0 * z @ z.T + sq[None, :], 0.0))
    np.fill_diagonal(d, 0.0)
    sums = np.stack([d[:, codes == c].sum(1) for c in range(g)], axis=1)
    counts = np.bincount(codes, minlength=g).astype(np.float64)
    rows = np.arange(z.shape[0])
    a = sums[rows, codes] / np.maximum(counts[codes] - 1.0, 1.0)
    other = sums / counts
    other[rows, codes] = np.inf
    b = other.min(1)
    s = np.where(counts[codes] > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def anchors_per_group(n_groups: int) -> int:
    """Cells per group searched for mutual neighbours: ``TOTAL_ANCHORS / n_groups``, within [``MIN_ANCHORS``, ``ANCHORS``]."""
    return int(np.clip(TOTAL_ANCHORS // max(n_groups, 1), MIN_ANCHORS, ANCHORS))


def _sq_dists(xq: np.ndarray, xr: np.ndarray, sq_q: np.ndarray, sq_r: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``xq`` and ``xr`` (centred data; norms given), clipped at 0."""
    d2 = xq @ xr.T
    d2 *= -2.0
    d2 += sq_q[:, None]
    d2 += sq_r[None, :]
    return np.maximum(d2, 0.0, out=d2)


def _smooth_from(d2: np.ndarray, vectors: np.ndarray, sigma: float, k: int) -> np.ndarray:
    """``kernel_smooth`` from the squared distances ``d2`` (points x anchors) to the anchors carrying ``vectors``."""
    m = min(k, d2.shape[1])
    idx = np.argpartition(d2, m - 1, axis=1)[:, :m] if m < d2.shape[1] else np.broadcast_to(np.arange(m), d2.shape)
    d = np.take_along_axis(d2, idx, axis=1)
    w = np.exp(-(d - d.min(1, keepdims=True)) / (2.0 * sigma**2))  # relative to the nearest anchor: never all zero
    return np.einsum("im,imd->id", w, vectors[idx]) / w.sum(1, keepdims=True)


def mnn_moves(x: np.ndarray, codes: np.ndarray, k: int | None = None, seed: int = 0) -> np.ndarray:
    """One round of the symmetric MNN alignment: each cell's move, the mean of its smoothed corrections towards every group.

    The moves are fitted on each group's anchors (all its cells up to ``anchors_per_group``, a
    random subset above): mutual neighbours between the anchors of every pair of groups (one
    distance block per pair serves both directions), each direction's vectors smoothed over the
    anchors by the Gaussian kernel (``SMOOTH_ANCHORS`` nearest anchors with a partner), summed
    over the other groups. Cells that are not anchors (groups above the cap) take the kernel
    average of their ``SMOOTH_ANCHORS`` nearest anchors' moves; below the cap every cell is an
    anchor and nothing is interpolated.

    The distance blocks, thresholds, mutual pairs and kernel averages are the kernels of
    ``_mnn`` (``_mnn_moves_numpy`` is the same round in numpy passes: the same pairs, the moves
    equal up to rounding).
    """
    k = MNN_K if k is None else k
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(codes == c) for c in np.unique(codes)]
    cap = anchors_per_group(len(groups))
    pools = [g if g.size <= cap else np.sort(rng.choice(g, cap, replace=False)) for g in groups]
    centre = x[np.concatenate(pools)].mean(0)
    xp = [x[p] - centre for p in pools]
    sq = [np.einsum("ij,ij->i", a, a) for a in xp]
    within = [sq_dists(a, a, s, s) for a, s in zip(xp, sq, strict=True)]
    sigmas = []
    for d2 in within:
        np.fill_diagonal(d2, 0.0)
        ka = min(k, d2.shape[0] - 1)
        sigma = float(np.median(np.sqrt(kth_rows(d2, ka + 1)))) if ka >= 1 else 1.0
        sigmas.append(sigma if sigma > 0 else 1.0)
    totals = [np.zeros_like(a) for a in xp]
    # one buffer for every transient block: the largest pair of pools, the largest interpolation block
    sizes = sorted(p.size for p in pools)
    pairs = sizes[-1] * sizes[-2] if len(sizes) > 1 else 0
    rests = [min(INTERPOLATE_BLOCK, g.size - p.size) * p.size for g, p in zip(groups, pools, strict=True)]
    scratch = np.empty(max(pairs, *rests))
    for a in range(len(pools)):
        for b in range(a + 1, len(pools)):
            if xp[a].shape[0] < 2 and xp[b].shape[0] < 2:
                continue
            d2 = sq_dists(xp[a], xp[b], sq[a], sq[b], scratch)
            kb, ka = min(k, d2.shape[1]), min(k, d2.shape[0])
            # a's k-th nearest in b, b's k-th nearest in a; the pairs within both
            ii, jj = mutual_pairs(d2, kth_rows(d2, kb), kth_cols(d2, ka))
            if ii.size == 0:
                continue
            for src, dst, i_src, i_dst in ((a, b, ii, jj), (b, a, jj, ii)):
                if xp[src].shape[0] < 2:
                    continue
                order = np.argsort(i_src, kind="stable")
                i_src, i_dst = i_src[order], i_dst[order]
                has, start, cnt = np.unique(i_src, return_index=True, return_counts=True)
                vec = np.add.reduceat(xp[dst][i_dst], start, axis=0) / cnt[:, None] - xp[src][has]
                totals[src] += smooth_from(within[src], has, vec, sigmas[src], SMOOTH_ANCHORS)
    move = np.zeros_like(x)
    for g, p, xa, s, sigma, total in zip(groups, pools, xp, sq, sigmas, totals, strict=True):
        if xa.shape[0] < 2:
            continue
        if p.size == g.size:
            move[g] = total / len(groups)
            continue
        rest = np.setdiff1d(g, p, assume_unique=True)
        move[p] = total / len(groups)
        for lo in range(0, rest.size, INTERPOLATE_BLOCK):
            xr = x[rest[lo : lo + INTERPOLATE_BLOCK]] - centre
            d2 = sq_dists(xr, xa, np.einsum("ij,ij->i", xr, xr), s, scratch)
            every = np.arange(xa.shape[0])
            move[rest[lo : lo + INTERPOLATE_BLOCK]] = smooth_from(d2, every, total, sigma, SMOOTH_ANCHORS) / len(groups)
    return move


def _mnn_moves_numpy(x: np.ndarray, codes: np.ndarray, k: int | None = None, seed: int = 0) -> np.ndarray:
    """``mnn_moves`` in numpy passes (argpartition, partition, nonzero): the reference of its kernels' test."""
    k = MNN_K if k is None else k
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(codes == c) for c in np.unique(codes)]
    cap = anchors_per_group(len(groups))
    pools = [g if g.size <= cap else np.sort(rng.choice(g, cap, replace=False)) for g in groups]
    centre = x[np.concatenate(pools)].mean(0)
    xp = [x[p] - centre for p in pools]
    sq = [np.einsum("ij,ij->i", a, a) for a in xp]
    within = [_sq_dists(a, a, s, s) for a, s in zip(xp, sq, strict=True)]
    sigmas = []
    for d2 in within:
        np.fill_diagonal(d2, 0.0)
        ka = min(k, d2.shape[0] - 1)
        sigma = float(np.median(np.sqrt(np.partition(d2, ka, axis=1)[:, ka]))) if ka >= 1 else 1.0
        sigmas.append(sigma if sigma > 0 else 1.0)
    totals = [np.zeros_like(a) for a in xp]
    for a in range(len(pools)):
        for b in range(a + 1, len(pools)):
            if xp[a].shape[0] < 2 and xp[b].shape[0] < 2:
                continue
            d2 = _sq_dists(xp[a], xp[b], sq[a], sq[b])
            kb, ka = min(k, d2.shape[1]), min(k, d2.shape[0])
            row = np.partition(d2, kb - 1, axis=1)[:, kb - 1]  # a's k-th nearest in b
            col = np.partition(np.ascontiguousarray(d2.T), ka - 1, axis=1)[:, ka - 1]  # b's k-th nearest in a
            ii, jj = np.nonzero((d2 <= row[:, None]) & (d2 <= col[None, :]))
            if ii.size == 0:
                continue
            for src, dst, i_src, i_dst in ((a, b, ii, jj), (b, a, jj, ii)):
                if xp[src].shape[0] < 2:
                    continue
                order = np.argsort(i_src, kind="stable")
                i_src, i_dst = i_src[order], i_dst[order]
                has, start, cnt = np.unique(i_src, return_index=True, return_counts=True)
                vec = np.add.reduceat(xp[dst][i_dst], start, axis=0) / cnt[:, None] - xp[src][has]
                totals[src] += _smooth_from(within[src][:, has], vec, sigmas[src], SMOOTH_ANCHORS)
    move = np.zeros_like(x)
    for g, p, xa, s, sigma, total in zip(groups, pools, xp, sq, sigmas, totals, strict=True):
        if xa.shape[0] < 2:
            continue
        if p.size == g.size:
            move[g] = total / len(groups)
            continue
        rest = np.setdiff1d(g, p, assume_unique=True)
        move[p] = total / len(groups)
        for lo in range(0, rest.size, INTERPOLATE_BLOCK):
            xr = x[rest[lo : lo + INTERPOLATE_BLOCK]] - centre
            d2 = _sq_dists(xr, xa, np.einsum("ij,ij->i", xr, xr), s)
            move[rest[lo : lo + INTERPOLATE_BLOCK]] = _smooth_from(d2, total, sigma, SMOOTH_ANCHORS) / len(groups)
    return move


def kernel_smooth(points: np.ndarray, anchors: np.ndarray, vectors: np.ndarray, sigma: float, k: int) -> np.ndarray:
    """At each point, the Gaussian-kernel average (bandwidth ``sigma``) of the ``vectors`` of its ``k`` nearest anchors."""
    m = min(k, anchors.shape[0])
    idx, d = knn_query(points, anchors, m)
    w = np.exp(-(d**2 - (d[:, :1] ** 2)) / (2.0 * sigma**2))  # relative to the nearest anchor: never all zero
    return np.einsum("im,imd->id", w, vectors[idx]) / w.sum(1, keepdims=True)


def mnn_align(
    x: np.ndarray, codes: np.ndarray, vis: Visibility, goal: float, v0: float, *, seed: int = 0
) -> tuple[np.ndarray, list[tuple[float, bool]], float]:
    """Alignment rounds while the visibility is above ``goal`` and falling, if the groups still differ.

    Before the first round, the moves are compared with those of the same round between random
    groups of the prior's group sizes (``null``): random groups move cells too, towards nearby
    cells of the other groups, by chance alone. The share of the move above chance,
    ``1 - |null|^2 / |move|^2``, must be at least ``MIN_SIGNAL``; below it the groups no longer
    differ (a weak prior the linear fit already removed) and no round runs: aligning groups that
    do not differ pulls each cell towards a partner of another group, and same-group cells end up
    farther apart than chance (the prior visible below chance in the layout).

    Returns x, the (visibility, kept) of the start and of every round tried, and the share above chance.
    """
    history: list[tuple[float, bool]] = [(float(v0), True)]
    v = v0
    move = mnn_moves(x, codes, seed=seed)
    null = mnn_moves(x, np.random.default_rng(seed + NULL_SEED).permutation(codes), seed=seed)
    signal = float(1.0 - np.sum(null**2) / max(float(np.sum(move**2)), 1e-300))
    if signal < MIN_SIGNAL:
        return x, history, signal
    for r in range(MAX_ROUNDS):
        if r:
            move = mnn_moves(x, codes, seed=seed + r)
        move *= STEP
        x_new = x + move
        v_new = vis.of_layout(x_new)
        if v_new < -goal < 0 < v:  # past the target: the step that lands on zero, if linear in the step
            x_half = x + (v / (v - v_new)) * move
            v_half = vis.of_layout(x_half)
            if abs(v_half) < abs(v_new):
                x_new, v_new = x_half, v_half
        better = abs(v_new) < abs(v)
        history.append((float(v_new), bool(better)))
        if not better:
            break
        x, v = x_new, v_new
        if abs(v) <= goal:
            break
    return x, history, signal

"""``lam="auto"``: the weight of the prior term chosen from the data while (or before) the embedding runs.

Both factor-out objectives trade two things: the prior must vanish from the layout, and the
rest of the data's neighbourhoods must stay. A fixed weight cannot do both across data sets:
how strongly the prior shapes the data (its separation, its dimension, the number and sizes of
its labels) sets how much weight removes it, and any weight beyond that only costs kept
structure. So the weight is *measured*, not fixed:

* the prior's **visibility** in a layout (or a kNN graph) is 1 - E[D^Z between neighbours] /
  E[D^Z between random pairs]: 1 when every point's neighbours share its prior value, 0 when
  the neighbours are as far apart in the prior as random points (for a label prior this is the
  share of same-label neighbours above chance, rescaled);
* JEDI (:class:`AutoLam`): the weight starts where the JS gradient balances the t-SNE repulsion
  (the two terms then pull equally), and a feedback loop measures the visibility on the running
  embedding every few iterations and raises the weight while the prior is still visible (above
  a target share of its visibility when the term was switched on), lowering it again when it
  overshoots; the weight is frozen for the last iterations so the layout converges on a fixed
  objective. The smallest weight that removes the prior is what keeps the most structure.
* CONFETTI (:func:`confetti_auto_lam`): the F-kNN graph is cheap, so a short search picks the
  smallest lambda whose graph shows the prior at most at the target share of the data graph's
  visibility (or the least visible one if none does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ._knn import knn_query
from ._priors import Prior

#: Query points per visibility measurement (a random subset above this; exact below).
VISIBILITY_QUERIES = 1000
#: Neighbourhood sizes whose visibilities are averaged (capped at a tenth of the points).
VISIBILITY_KS: tuple[int, ...] = (10, 50, 150)
#: Target: the prior's visibility at most this share of its visibility in the data.
AUTO_TARGET = 0.04
#: Permutations of the prior behind a visibility's noise (``Visibility.noise``).
NOISE_PERMUTATIONS = 20
#: Smallest factor by which ct-SNE's b moves per measurement (the step is square-rooted at each turn).
MIN_STEP = 1.1
#: A visibility within this many noise standard deviations of zero is treated as chance.
NOISE_Z = 2.0
#: Share of t-SNE's repulsion JEDI keeps at least: the weight never reaches the value at which the
#: prior term's scaling of the repulsion, 1 + lam (Gbar - c), would cancel it (the layout collapses).
REPULSION_FLOOR = 0.25
#: Candidate lambdas of CONFETTI's search (F's lambda is relative to the scaled distances).
CONFETTI_LAMS: tuple[float, ...] = (0.015, 0.03, 0.06, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: Geometric bisections of the bracket where the F-graph's visibility changes sign.
CONFETTI_BISECTIONS = 8


def pair_prior_distances(prior: Prior, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """D^Z between the points ``i[m]`` and ``j[m]`` (graph pairs without an edge count as the largest stored)."""
    v = prior.values
    if prior.kind == "labels":
        return (v[i] != v[j]).astype(np.float64)
    if prior.kind == "features":
        return np.sqrt(((v[i] - v[j]) ** 2).sum(-1))
    if prior.kind == "dense":
        return np.asarray(v[i, j], dtype=np.float64)
    g = sparse.csr_matrix(v)
    out = np.asarray(g[i, j], dtype=np.float64).ravel()
    far = float(g.data.max()) if g.nnz else 1.0
    return np.where((out > 0) | (i == j), out, far)


@dataclass
class Visibility:
    """The prior's visibility 1 - E[D^Z | neighbours] / E[D^Z | random pairs], on a fixed subset of query points."""

    prior: Prior
    seed: int = 0
    queries: np.ndarray = field(init=False)
    baseline: float = field(init=False)

    def __post_init__(self) -> None:
        n = self.prior.n
        rng = np.random.default_rng(self.seed)
        self.queries = np.sort(rng.choice(n, min(n, VISIBILITY_QUERIES), replace=False))
        a = rng.integers(n, size=20 * VISIBILITY_QUERIES)
        b = (a + rng.integers(1, n, size=a.size)) % n  # never a == b
        self.baseline = float(pair_prior_distances(self.prior, a, b).mean())

    def ks(self, n: int) -> list[int]:
        """The neighbourhood sizes used for ``n`` points."""
        return sorted({max(1, min(k, (n - 1) // 10 or 1)) for k in VISIBILITY_KS})

    def of_neighbours(self, idx: np.ndarray) -> float:
        """Visibility of neighbour lists ``idx`` (one row per query, self excluded, nearest first)."""
        if self.baseline <= 0:
            return 0.0
        ks = self.ks(self.prior.n)
        # D^Z of the largest neighbourhoods once; each k takes its prefix (a contiguous copy, so the
        # mean sums in the order the distances of idx[:, :k] alone would)
        nb = np.ascontiguousarray(idx[:, : max(ks)])
        d_all = pair_prior_distances(self.prior, np.repeat(self.queries, nb.shape[1]), nb.ravel()).reshape(nb.shape)
        values = []
        for k in ks:
            d = np.ascontiguousarray(d_all[:, :k]).ravel()
            values.append(1.0 - float(d.mean()) / self.baseline)
        return float(np.mean(values))

    def neighbours(self, y: np.ndarray) -> np.ndarray:
        """The query points' neighbour lists in the layout ``y`` (exact, self excluded, nearest first)."""
        k = max(self.ks(y.shape[0]))
        idx, _ = knn_query(y[self.queries], y, k + 1)
        # drop each query point itself (first, or tied with it at distance 0)
        keep = idx != self.queries[:, None]
        return np.array([row[m][:k] for row, m in zip(idx, keep, strict=True)])

    def of_layout(self, y: np.ndarray) -> float:
        """Visibility in the layout ``y`` (exact neighbours of the query points)."""
        return self.of_neighbours(self.neighbours(y))

    def noise(
        self, y: np.ndarray, permutations: int = NOISE_PERMUTATIONS, *, neighbours: np.ndarray | None = None
    ) -> float:
        """Standard deviation of the visibility in ``y`` of a prior independent of it: the prior's values permuted.

        The visibility of any layout scatters around its true value by about this much (its
        measurement noise); a visibility within a few of it is indistinguishable from chance.
        ``neighbours``: ``self.neighbours(y)`` when the caller has it already (one search fewer).
        """
        idx = self.neighbours(y) if neighbours is None else neighbours
        rng = np.random.default_rng(self.seed + 1)
        values = []
        for _ in range(permutations):
            perm = rng.permutation(self.prior.n)
            shuffled = Visibility.__new__(Visibility)
            shuffled.prior, shuffled.seed = self.prior.permuted(perm), self.seed
            shuffled.queries, shuffled.baseline = self.queries, self.baseline
            values.append(shuffled.of_neighbours(idx))
        return float(np.std(values))


@dataclass
class _Feedback:
    """What JEDI's and ct-SNE's controllers share: measure the visibility every ``every`` iterations in [start, freeze)."""

    visibility: Visibility
    reference: float
    start: int
    freeze: int
    every: int = 20
    target: float = AUTO_TARGET
    noise: float = 0.0

    @property
    def upper(self) -> float:
        """Visibility above which the prior counts as still visible: the target, or the noise band if wider."""
        return max(self.target * self.reference, NOISE_Z * self.noise)

    @property
    def lower(self) -> float:
        """Visibility below which the prior counts as hidden with room to spare: half the target."""
        return 0.5 * self.target * self.reference

    def checkpoint(self, iteration: int, y: np.ndarray) -> float | None:
        """The visibility of ``y`` when ``iteration`` is a checkpoint, else ``None``."""
        if self.start <= iteration < self.freeze and (iteration - self.start) % self.every == 0:
            return self.visibility.of_layout(y)
        return None


@dataclass
class AutoLam(_Feedback):
    """Feedback control of JEDI's weight on the running embedding (see the module docstring).

    Attributes
    ----------
    visibility
        How the prior's visibility is measured.
    reference
        The prior's visibility in the data (its neighbourhoods before any correction); the
        target is ``target * reference``.
    start, freeze
        The prior term starts at ``start``; the weight is fixed from ``freeze`` on.
    every
        Iterations between measurements.
    target
        The aim: visibility at most ``target`` times the visibility at ``start``.
    grow
        Factor by which the weight rises (and, by its square root, falls) per measurement.
    lam
        The current weight (set from the gradient balance at ``start``).
    history
        ``(iteration, visibility, weight)`` of every measurement.
    """

    grow: float = 1.25
    lam: float = float("nan")
    history: list[tuple[int, float, float]] = field(default_factory=list)

    def balance(self, rep_z: np.ndarray, js_part: np.ndarray) -> None:
        """The first weight: the norm of the t-SNE repulsion over that of the JS gradient (the terms pull equally)."""
        num, den = float(np.linalg.norm(rep_z)), float(np.linalg.norm(js_part))
        self.lam = float(np.clip(num / den, 0.1, 1e3)) if den > 0 and math.isfinite(num / den) else 1.0
        self._floor = 0.01 * self.lam

    def update(self, iteration: int, y: np.ndarray, g_gap: float = 0.0) -> float:
        """Measure the visibility at checkpoints, move the weight towards the target; return the weight to use now.

        ``g_gap`` is c - Gbar of the current layout: the weight used is capped below
        (1 - ``REPULSION_FLOOR``) / g_gap, where the prior term would cancel the repulsion.
        """
        cap = (1.0 - REPULSION_FLOOR) / g_gap if g_gap > 0 else math.inf
        v = self.checkpoint(iteration, y)
        if v is not None:
            if v > self.upper:
                self.lam = min(self.lam * self.grow, max(cap, self._floor))
            elif v < self.lower:  # from the weight in use (lam may sit far above the cap)
                self.lam = max(min(self.lam, cap) / math.sqrt(self.grow), self._floor)
            self.history.append((int(iteration), float(v), float(min(self.lam, cap))))
        return min(self.lam, cap)


@dataclass
class AutoBeta(_Feedback):
    """Feedback control of ct-SNE's factor ``b`` of different-label pairs on the running embedding.

    ct-SNE's ``b`` sets how freely different-label points may overlap: 1 is plain t-SNE, small
    values let the labels mix. A fixed small ``b`` (1e-4) removes a strong prior but pushes a
    weak one *below* chance (points then prefer other-label neighbours, as visible as the prior
    itself). So ``b`` starts at 1 and, every ``every`` iterations from ``start``, is divided by
    ``step`` while the visibility is above the target and multiplied by it while it is below
    minus the target; it is fixed from ``freeze`` on.

    Attributes
    ----------
    visibility, reference, start, freeze, every, target
        As for :class:`AutoLam`.
    step
        Factor by which ``b`` moves per measurement.
    lowest
        Smallest ``b``.
    beta
        The current factor.
    history
        ``(iteration, visibility, b)`` of every measurement.
    """

    step: float = math.sqrt(10.0)
    lowest: float = 1e-6
    beta: float = 1.0
    history: list[tuple[int, float, float]] = field(default_factory=list)
    _last: int = 0

    def update(self, iteration: int, y: np.ndarray) -> float:
        """Measure at checkpoints and move ``b`` towards zero visibility; return the ``b`` to use now."""
        v = self.checkpoint(iteration, y)
        if v is not None:
            # as JEDI's weight: lower b while the prior is visible, raise it again once the prior
            # is below half the target (the weakest b that hides the prior keeps the most structure)
            move = -1 if v > self.upper else 1 if v < self.lower else 0
            if move:
                if move == -self._last:  # turned back: the b that hides the prior lies between the last two
                    self.step = max(math.sqrt(self.step), MIN_STEP)
                self.beta = float(np.clip(self.beta * self.step**move, self.lowest, 1.0))
                self._last = move
            self.history.append((int(iteration), float(v), float(self.beta)))
        return self.beta


def confetti_auto_lam(
    graph_visibility, visibility: Visibility, data_idx: np.ndarray, lams: tuple[float, ...] = CONFETTI_LAMS
) -> tuple[float, list[tuple[float, float]]]:
    """CONFETTI's lambda: the first whose F-graph shows the prior at most ``AUTO_TARGET`` of the data graph.

    ``graph_visibility(lam)`` returns the visibility of the F-kNN lists of the query points;
    ``data_idx`` holds their kNN lists in the data. Visibility below zero (neighbours *avoiding*
    the prior, which F produces once lambda outweighs the data) counts as visible too: the
    target is on its absolute value. The candidates ``lams`` are tried in increasing order; when
    the visibility changes sign between two of them, the bracket is bisected (geometrically,
    ``CONFETTI_BISECTIONS`` times). If nothing reaches the target, the lambda closest to zero
    visibility is used. Returns the lambda and ``(lambda, visibility)`` of every candidate tried.
    """
    goal = AUTO_TARGET * max(visibility.of_neighbours(data_idx), 1e-3)
    tried: list[tuple[float, float]] = []

    def attempt(lam: float) -> bool:
        tried.append((float(lam), float(graph_visibility(lam))))
        return abs(tried[-1][1]) <= goal

    for lam in lams:
        if attempt(lam):
            return float(lam), tried
        if len(tried) > 1 and tried[-2][1] > 0 > tried[-1][1]:  # the zero crossing: bisect it
            lo, hi = tried[-2][0], tried[-1][0]
            for _ in range(CONFETTI_BISECTIONS):
                mid = math.sqrt(lo * hi)
                if attempt(mid):
                    return mid, tried
                lo, hi = (mid, hi) if tried[-1][1] > 0 else (lo, mid)
            break
    return min(tried, key=lambda t: abs(t[1]))[0], tried

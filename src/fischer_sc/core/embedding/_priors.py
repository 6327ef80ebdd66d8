"""Prior knowledge as distances D^Z and as affinities P': labels, features, sparse graphs, dense matrices.

A prior is kept in its compact form (label codes, a feature matrix, a sparse distance graph) and
only expanded row block by row block, so that no n x n matrix exists unless the user passed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse

PriorKind = Literal["labels", "features", "graph", "dense"]


@dataclass(frozen=True)
class Prior:
    """A prior over n points and the distance D^Z it defines.

    Attributes
    ----------
    kind
        ``"labels"`` (D^Z_ij = 0 for the same label, 1 otherwise), ``"features"`` (Euclidean
        distance between rows), ``"graph"`` (a sparse distance graph; missing pairs are as far as
        the farthest stored pair) or ``"dense"`` (an (n, n) distance matrix given by the user).
    values
        Integer label codes (n,), features (n, d), a CSR graph or a dense (n, n) array.
    description
        Text describing where the prior came from (stored in ``uns``).
    """

    kind: PriorKind
    values: np.ndarray | sparse.csr_matrix
    description: str

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.values.shape[0])

    def max_distance(self, rng: np.random.Generator) -> float:
        """The largest D^Z: exact for labels, graphs and dense matrices, estimated for features."""
        if self.kind == "labels":
            return 1.0 if np.unique(self.values).size > 1 else 0.0
        if self.kind == "graph":
            return float(self.values.data.max()) if self.values.nnz else 0.0
        if self.kind == "dense":
            return float(np.max(self.values))
        from ._confetti import estimate_max_distance

        return estimate_max_distance(self.values, rng)

    def block(self, lo: int, hi: int) -> np.ndarray:
        """D^Z of rows ``lo:hi`` to all points, (hi - lo, n); graph pairs without an edge are ``inf``."""
        v = self.values
        if self.kind == "labels":
            return (v[lo:hi, None] != v[None, :]).astype(np.float64)
        if self.kind == "features":
            return euclidean_block(v, lo, hi)
        if self.kind == "dense":
            return np.asarray(v[lo:hi], dtype=np.float64)
        rows = v[lo:hi]
        out = np.full((hi - lo, self.n), np.inf)
        r, c = rows.nonzero()
        out[r, c] = np.asarray(rows[r, c]).ravel()
        out[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
        return out


def euclidean_block(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Euclidean distances of rows ``lo:hi`` of ``x`` to all rows (hi - lo, n), clipped at 0 before the root."""
    sq = np.einsum("ij,ij->i", x, x)
    d2 = sq[lo:hi, None] - 2.0 * (x[lo:hi] @ x.T) + sq[None, :]
    d = np.sqrt(np.maximum(d2, 0.0))
    d[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
    return d


def label_prior_affinities(codes: np.ndarray, k: int, rng: np.random.Generator) -> sparse.csr_matrix:
    """A sparse *fixed-sample* label prior: p'_{j|i} uniform over up to k same-label points, symmetrised.

    JEDI does not use it any more: :class:`~fischer_sc.core.embedding._jedi.JediLabelRepulsion` works with
    the exact uniform prior over all same-label points, re-sampled in every iteration, which
    removed the prior with 16 partners where this fixed sample needed about 600.

    Groups with more than ``k + 1`` points use ``k`` same-label points of i drawn uniformly at
    random (without replacement) instead of all of them: O(n k) entries, but a different prior
    (a random graph with p' = 1/k per drawn pair), not an estimate of the uniform one. The k *nearest* same-label points would be cheaper to
    reason about but are not the same prior: they coincide with i's data neighbours, so the JS
    term then fights the KL term pair by pair (on the synthetic set of the paper the embedding
    kept less of the data, 0.09 vs 0.13 area, for the same removal of the prior). Points alone
    in their label have no prior neighbours; the result is renormalised to sum 1.
    """
    codes = np.asarray(codes)
    n = codes.shape[0]
    rows, cols, vals = [], [], []
    for label in np.unique(codes):
        members = np.flatnonzero(codes == label)
        m = members.size
        if m < 2:
            continue
        if m - 1 <= k:
            r = np.repeat(members, m)
            c = np.tile(members, m)
            keep = r != c
            rows.append(r[keep])
            cols.append(c[keep])
            vals.append(np.full(keep.sum(), 1.0 / (m - 1)))
        else:
            # k distinct positions among the m - 1 others of each point: sample from m - 1 and
            # shift past the point's own position.
            pos = np.argsort(rng.random((m, m - 1)), axis=1)[:, :k] if m <= 4 * k else _sample_rows(rng, m, k)
            own = np.arange(m)[:, None]
            pos = pos + (pos >= own)
            rows.append(np.repeat(members, k))
            cols.append(members[pos].ravel())
            vals.append(np.full(m * k, 1.0 / k))
    if not rows:
        msg = "the label prior has no two points with the same label, so it carries no neighbourhoods."
        raise ValueError(msg)
    cond = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    P = (cond + cond.T).tocsr()
    P.sum_duplicates()
    P.sort_indices()
    P.data /= P.data.sum()
    return P


def _sample_rows(rng: np.random.Generator, m: int, k: int) -> np.ndarray:
    """For each of m rows, k distinct integers drawn uniformly from [0, m - 1), in O(m k log k).

    Draws 2k integers with replacement per row; the distinct ones form a uniform random subset,
    and k of them taken in a random order are a uniform k-subset. Rows with fewer than k
    distinct draws (rare for m > 4k) are drawn again.
    """
    out = np.empty((m, k), dtype=np.int64)
    todo = np.arange(m)
    while todo.size:
        draws = np.sort(rng.integers(m - 1, size=(todo.size, 2 * k)), axis=1)
        dup = np.zeros(draws.shape, dtype=bool)
        dup[:, 1:] = draws[:, 1:] == draws[:, :-1]
        ok = (~dup).sum(axis=1) >= k
        keys = rng.random(draws.shape)
        keys[dup] = 2.0  # repeats last
        pick = np.argpartition(keys, k - 1, axis=1)[:, :k]
        out[todo[ok]] = np.take_along_axis(draws, pick, axis=1)[ok]
        todo = todo[~ok]
    return out


def prior_knn(prior: Prior, k: int, *, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest neighbours of every point under D^Z (self excluded), for non-label priors."""
    from ._knn import knn, knn_from_graph

    if prior.kind == "features":
        return knn(prior.values, k, random_state=random_state)
    if prior.kind == "graph":
        g = prior.values
        k_avail = int(np.diff(g.indptr).min()) if g.shape[0] else 0
        if k_avail < 1:
            msg = "the prior graph has points without neighbours; every row needs at least one stored distance."
            raise ValueError(msg)
        return knn_from_graph(g, min(k, k_avail))
    if prior.kind == "dense":
        n = prior.n
        idx = np.empty((n, k), dtype=np.int64)
        dist = np.empty((n, k))
        for lo in range(0, n, 1024):
            hi = min(n, lo + 1024)
            d = prior.block(lo, hi).copy()
            d[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
            part = np.argpartition(d, k - 1, axis=1)[:, :k]
            pd = np.take_along_axis(d, part, axis=1)
            order = np.argsort(pd, axis=1, kind="stable")
            idx[lo:hi] = np.take_along_axis(part, order, axis=1)
            dist[lo:hi] = np.take_along_axis(pd, order, axis=1)
        return idx, dist
    msg = f"prior_knn does not apply to {prior.kind!r} priors; use label_prior_affinities."
    raise ValueError(msg)


def prior_affinities(prior: Prior, perplexity: float, *, random_state: int = 0) -> tuple[sparse.csr_matrix, float]:
    """P' of a prior: uniform over same-label neighbours for labels, perplexity-calibrated otherwise.

    Parameters
    ----------
    prior
        The prior.
    perplexity
        Perplexity of P' (the "desired neighbourhood size in the prior space"); for label priors
        the number of same-label points sampled for large groups is 3 * perplexity.
    random_state
        Seed of an approximate kNN search and of the same-label sample.

    Returns
    -------
    ``(P', perplexity)``: the symmetric CSR prior affinities summing to 1, and the perplexity
    actually used (lower than asked when there are too few neighbours).
    """
    from ._affinities import perplexity_affinities

    n = prior.n
    k = max(1, min(n - 1, math.floor(3 * perplexity)))
    if prior.kind == "labels":
        return label_prior_affinities(prior.values, k, np.random.default_rng(random_state)), float(perplexity)
    idx, dist = prior_knn(prior, k, random_state=random_state)
    k = idx.shape[1]
    used = float(min(perplexity, max(1.0, k / 3.0))) if k < 3 * perplexity else float(perplexity)
    if used >= k:
        used = max(1.0, k - 1.0)
    if k < 2:
        msg = "the prior gives fewer than 2 neighbours per point; it cannot be calibrated to a perplexity."
        raise ValueError(msg)
    return perplexity_affinities(idx, dist, used, pair_scale=None).P, used

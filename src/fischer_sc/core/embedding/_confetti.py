"""CONFETTI's distance operator F = D'^X - (lam / 2) D'^Z + lam and its exact k nearest neighbours.

D' = D / max(D) scales both distances to [0, 1] (D'^Z is clipped to 1, because a sampled maximum
can only underestimate). Because 0 <= D'^Z <= 1, D'^X + lam / 2 <= F <= D'^X + lam, so:

* label priors (D^Z in {0, 1}): F = D'^X + lam for the same label and D'^X + lam / 2 otherwise;
  the F-kNN of i is among the k nearest same-label and the k nearest other-label points under X,
  found separately and merged: exact and O(n k) memory;
* other priors: F is computed row block by row block against all points and only the top k of
  each row is kept: exact, O(n^2) time but O(n k + block n) memory.

No n x n matrix is formed.
"""

from __future__ import annotations

import numpy as np

from ._knn import knn, knn_query
from ._priors import Prior, euclidean_block
from ._select import select_rows

#: Rows per block of the chunked top-k (block x n float64 matrices, a few of them at once).
BLOCK_BYTES = 64 * 2**20


def confetti_operator(dx: np.ndarray, dz: np.ndarray, lam: float) -> np.ndarray:
    """F = dx - (lam / 2) dz + lam on already scaled distances (dz clipped to [0, 1]); the diagonal is the caller's."""
    return dx - 0.5 * lam * np.minimum(dz, 1.0) + lam


def estimate_max_distance(x: np.ndarray, rng: np.random.Generator, n_pairs: int = 10**6) -> float:
    """max_ij ||x_i - x_j||, estimated from ``n_pairs`` random pairs and a double sweep of farthest points.

    The double sweep (farthest point from a random point, then farthest from that) finds the
    diameter's end points on most data; the estimate never exceeds the true maximum.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n < 2:
        return 0.0
    if n * n <= 4 * n_pairs:  # small: exact, in row blocks
        best = 0.0
        for lo in range(0, n, 512):
            best = max(best, float(euclidean_block(x, lo, min(n, lo + 512)).max()))
        return best
    i = rng.integers(n, size=n_pairs)
    j = rng.integers(n, size=n_pairs)
    best = float(np.sqrt(((x[i] - x[j]) ** 2).sum(1)).max())
    a = int(rng.integers(n))
    for _ in range(2):
        d = np.sqrt(((x - x[a]) ** 2).sum(1))
        a = int(d.argmax())
        best = max(best, float(d[a]))
    return best


def confetti_knn_labels(
    x: np.ndarray, codes: np.ndarray, k: int, lam: float, max_dx: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact F-kNN for a label prior by the label split (k nearest same-label + k nearest other-label).

    Returns
    -------
    ``(indices, distances)`` (n, k), rows sorted by F, self excluded.
    """
    codes = np.asarray(codes)
    n = x.shape[0]
    scale = 1.0 / max_dx if max_dx > 0 else 1.0
    single = np.unique(codes).size < 2  # one label: D^Z = 0 everywhere, F = D'^X + lam
    idx_out = np.empty((n, k), dtype=np.int64)
    dist_out = np.empty((n, k))
    for label in np.unique(codes):
        members = np.flatnonzero(codes == label)
        others = np.flatnonzero(codes != label)
        cand_i, cand_d = [], []
        k_same = min(k, members.size - 1)
        if k_same > 0:
            i, d = knn(x[members], k_same, method="exact")
            cand_i.append(members[i])
            cand_d.append(d * scale + lam)
        k_other = min(k, others.size)
        if k_other > 0:
            i, d = knn_query(x[members], x[others], k_other)
            cand_i.append(others[i])
            cand_d.append(d * scale + (lam if single else 0.5 * lam))
        ci, cd = np.hstack(cand_i), np.hstack(cand_d)
        order = _lex_order(cd, ci)[:, :k]
        idx_out[members] = np.take_along_axis(ci, order, axis=1)
        dist_out[members] = np.take_along_axis(cd, order, axis=1)
    return idx_out, dist_out


def _lex_order(d: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Row-wise order by distance, ties by index."""
    first = np.argsort(i, axis=1, kind="stable")
    d1 = np.take_along_axis(d, first, axis=1)
    second = np.argsort(d1, axis=1, kind="stable")
    return np.take_along_axis(first, second, axis=1)


def confetti_knn_blocks(
    x: np.ndarray, prior: Prior, k: int, lam: float, max_dx: float, max_dz: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact F-kNN for any prior by row blocks of F against all points, keeping the top k per row.

    Returns
    -------
    ``(indices, distances)`` (n, k), rows sorted by F, self excluded.
    """
    n = x.shape[0]
    sx = 1.0 / max_dx if max_dx > 0 else 1.0
    sz = 1.0 / max_dz if max_dz > 0 else 0.0
    block = max(1, min(n, BLOCK_BYTES // (8 * n)))
    idx_out = np.empty((n, k), dtype=np.int64)
    dist_out = np.empty((n, k))
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        dz = prior.block(lo, hi)
        dz = np.where(np.isfinite(dz), dz * sz, 1.0)
        f = confetti_operator(euclidean_block(x, lo, hi) * sx, dz, lam)
        f[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        select_rows(f, k, idx_out[lo:hi], dist_out[lo:hi])
    return idx_out, dist_out


def confetti_knn(
    x: np.ndarray, prior: Prior, k: int, lam: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest neighbours under CONFETTI's F, exact: label split for labels, row blocks otherwise.

    Parameters
    ----------
    x
        The data representation (n, d); D^X is its Euclidean distance.
    prior
        The prior D^Z.
    k
        Neighbours per point (below n).
    lam
        CONFETTI's lambda (> 0).
    rng
        Generator for the estimate of max D^X (and of max D^Z for feature priors).

    Returns
    -------
    ``(indices, distances)`` (n, k), rows sorted by F, self excluded.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    max_dx = estimate_max_distance(x, rng)
    if prior.kind == "labels":
        return confetti_knn_labels(x, prior.values, k, lam, max_dx)
    return confetti_knn_blocks(x, prior, k, lam, max_dx, prior.max_distance(rng))

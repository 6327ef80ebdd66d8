"""k-nearest neighbours: exact in row blocks (never n x n), a forest for large data, and more.

The other sources are pynndescent (on request, or for metrics the others lack) and the graphs
that scanpy stores. pynndescent is not the default because its numba code compiles afresh in
every process (it is not cached), while blocked exact search grows with n^2; above
``EXACT_MAX_COST`` the cached random-projection forest (``_rpforest``) takes over. The timings
behind these choices are in docs/dtsne.md.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import sparse

from fischer_sc.core._numba import num_threads

from ._select import select_refine, select_refine_numpy

KNNMethod = Literal["auto", "exact", "rpforest", "pynndescent"]
KNN_METHODS: tuple[str, ...] = ("auto", "exact", "rpforest", "pynndescent")
EXACT_METRICS: tuple[str, ...] = ("euclidean", "cosine")
#: ``method="auto"`` is exact while n^2 d stays below this (20 000 points x 50 dimensions).
EXACT_MAX_COST = 20_000**2 * 50
#: Memory of one block of the distance matrix: small enough to stay in cache between the BLAS
#: product that writes it and the selection that reads it (20 000 x 50: 1.38 s with 64 MB, 1.15 s).
_BLOCK_BYTES = 8 * 2**20
#: Up to this many reference points the candidates are selected in numpy
#: (``select_refine_numpy``, equal results): a few tenths of a second slower than the kernel at
#: 4 000 points, and the first call compiles one kernel fewer (about 1.2 s). Above it, the kernel.
NUMPY_SELECT_MAX_N = 4096
#: ``knn_query`` against references in at most this many dimensions (embeddings) uses a k-d
#: tree: its cost grows as n log n, the blocked scan's as (queries x references); 1 000 queries
#: against a 100 000-point layout took seconds in the scan (every factor_out visibility check).
KDTREE_MAX_DIM = 3
#: Candidates beyond k that the tree returns, to order ties at the k-th distance by index.
KDTREE_TIE_MARGIN = 8


def knn(
    X: np.ndarray,
    n_neighbors: int,
    *,
    method: KNNMethod = "auto",
    metric: str = "euclidean",
    random_state: int = 0,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_neighbors`` nearest neighbours of every row of ``X``, itself excluded.

    Parameters
    ----------
    X
        Points (n, d), finite.
    n_neighbors
        Neighbours per point, 1 <= k <= n - 1.
    method
        ``"exact"`` (blocked distances, O(n * block) memory), ``"rpforest"`` (approximate:
        random-projection trees and neighbour joins, see ``fischer_sc.core.embedding._rpforest``),
        ``"pynndescent"`` (approximate), or ``"auto"``: exact while n^2 d <= ``EXACT_MAX_COST``
        (20 000^2 x 50), the forest above, pynndescent for metrics the other two do not have.
    metric
        ``"euclidean"`` or ``"cosine"`` (1 - cosine similarity) for exact search and the forest;
        pynndescent accepts its own metrics too.
    random_state
        Seed of the forest and of pynndescent.
    n_jobs
        Threads (``None``: numba's and BLAS's defaults).

    Returns
    -------
    ``(indices, distances)``, int64 and float64 arrays (n, k), each row sorted by distance,
    ties broken by the lower index in exact mode.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 2 or not np.issubdtype(X.dtype, np.number):
        msg = f"X must be a numeric 2-D array with at least 2 rows, got shape {X.shape} and dtype {X.dtype}."
        raise ValueError(msg)
    if not np.isfinite(X).all():
        msg = "X contains NaN or infinite values; remove or impute them first."
        raise ValueError(msg)
    n = X.shape[0]
    if not isinstance(n_neighbors, int | np.integer) or not 1 <= n_neighbors <= n - 1:
        msg = f"n_neighbors={n_neighbors!r} must be an integer in [1, {n - 1}] for {n} points."
        raise ValueError(msg)
    if method not in KNN_METHODS:
        msg = f"method={method!r} is not one of {', '.join(map(repr, KNN_METHODS))}."
        raise ValueError(msg)
    if method == "auto":
        if metric not in EXACT_METRICS:
            method = "pynndescent"
        else:
            method = "exact" if n * n * X.shape[1] <= EXACT_MAX_COST else "rpforest"
    if method in ("exact", "rpforest") and metric not in EXACT_METRICS:
        msg = f"metric={metric!r} is not supported by method={method!r}; use one of {EXACT_METRICS} or method='pynndescent'."
        raise ValueError(msg)
    if method == "exact":
        return _exact(np.asarray(X, dtype=np.float64), int(n_neighbors), metric)
    if method == "rpforest":
        return _forest(np.asarray(X, dtype=np.float64), int(n_neighbors), metric, random_state, n_jobs)
    return _pynndescent(X, int(n_neighbors), metric, random_state, n_jobs)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows kept), so that Euclidean search ranks by cosine."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _forest(x: np.ndarray, k: int, metric: str, random_state: int, n_jobs: int | None) -> tuple[np.ndarray, np.ndarray]:
    from ._rpforest import rp_forest_knn

    if metric == "cosine":
        x = _unit_rows(x)
    with num_threads(n_jobs):
        indices, distances = rp_forest_knn(x - x.mean(axis=0), k, random_state=random_state)
    if metric == "cosine":  # squared chord length of unit vectors = 2 (1 - cos)
        return indices, distances**2 / 2.0
    return indices, distances


def _exact(x: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    if metric == "cosine":
        x = _unit_rows(x)
    indices, d2 = _blocked_search(x, x, k, self_excluded=True)
    if metric == "cosine":  # squared chord length of unit vectors = 2 (1 - cos)
        return indices, d2 / 2.0
    return indices, np.sqrt(d2)


def knn_query(queries: np.ndarray, reference: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_neighbors`` nearest rows of ``reference`` (Euclidean, exact) for every row of ``queries``.

    Returns ``(indices, distances)`` into ``reference``, rows sorted by (distance, index), as
    :func:`knn` does for a set against itself.
    """
    reference = np.asarray(reference, dtype=np.float64)
    queries = np.asarray(queries, dtype=np.float64)
    if not 1 <= n_neighbors <= reference.shape[0]:
        msg = f"n_neighbors={n_neighbors!r} must be an integer in [1, {reference.shape[0]}] for that many reference points."
        raise ValueError(msg)
    if reference.shape[1] <= KDTREE_MAX_DIM:
        return _kdtree_query(queries, reference, int(n_neighbors))
    indices, d2 = _blocked_search(queries, reference, int(n_neighbors), self_excluded=False)
    return indices, np.sqrt(d2)


def _kdtree_query(queries: np.ndarray, reference: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``knn_query`` through scipy's k-d tree: the same neighbours, rows sorted by (distance, index).

    The tree returns ``k + KDTREE_TIE_MARGIN`` candidates, which are re-sorted by (distance,
    index); a row whose last candidate is as close as its k-th (a tie that may reach past the
    candidates) is searched over every reference point instead.
    """
    from scipy.spatial import cKDTree

    nr = reference.shape[0]
    m = min(nr, k + KDTREE_TIE_MARGIN)
    d, idx = cKDTree(reference).query(queries, k=m)
    d, idx = d.reshape(len(queries), m), idx.reshape(len(queries), m).astype(np.int64)
    order = np.lexsort((idx, d))
    d, idx = np.take_along_axis(d, order, axis=1), np.take_along_axis(idx, order, axis=1)
    if m < nr:
        for i in np.flatnonzero(d[:, -1] <= d[:, k - 1]):
            all_d = np.sqrt(((reference - queries[i]) ** 2).sum(axis=1))
            best = np.lexsort((np.arange(nr), all_d))[:m]
            idx[i], d[i] = best, all_d[best]
    return np.ascontiguousarray(idx[:, :k]), np.ascontiguousarray(d[:, :k])


def _blocked_search(xq: np.ndarray, xr: np.ndarray, k: int, *, self_excluded: bool) -> tuple[np.ndarray, np.ndarray]:
    """Exact squared Euclidean kNN of the rows of ``xq`` among those of ``xr`` (the same array when ``self_excluded``)."""
    # Candidates come from a float32 Gram matrix (twice the BLAS speed and half the memory of
    # float64); centring keeps |x|^2 small so the expansion loses little to cancellation. The
    # spare candidates absorb what float32 rounding can reorder, and every candidate's distance
    # is then recomputed exactly in float64 before the final selection.
    mean = xr.mean(axis=0)
    xr = np.ascontiguousarray(xr - mean)
    xq = xr if self_excluded else np.ascontiguousarray(xq - mean)
    xr32 = xr.astype(np.float32)
    xq32 = xr32 if self_excluded else xq.astype(np.float32)
    nq, nr = xq.shape[0], xr.shape[0]
    sq = np.einsum("ij,ij->i", xr32, xr32)
    sq_q = sq if self_excluded else np.einsum("ij,ij->i", xq32, xq32)
    block = max(1, min(nq, _BLOCK_BYTES // (4 * nr)))
    indices = np.empty((nq, k), dtype=np.int64)
    d2 = np.empty((nq, k))
    m = min(k + 1 + k // 8, nr - 1 if self_excluded else nr)
    from threadpoolctl import threadpool_limits

    # BLAS on one thread: its worker threads keep spinning after each Gram block and took the
    # cores from the numba selection that follows (20 000 x 50 on 2 cores: 1.8 s -> 1.25 s).
    gram = np.empty((block, nr), dtype=np.float32)  # one buffer: fresh pages for every block cost ~10 %
    select = select_refine_numpy if nr <= NUMPY_SELECT_MAX_N else select_refine
    with threadpool_limits(1, user_api="blas"):
        for lo in range(0, nq, block):
            hi = min(nq, lo + block)
            np.matmul(xq32[lo:hi], xr32.T, out=gram[: hi - lo])
            self_lo = lo if self_excluded else -1
            select(gram[: hi - lo], sq_q[lo:hi], xq[lo:hi], sq, xr, self_lo, m, indices[lo:hi], d2[lo:hi])
    return indices, d2


def _pynndescent(
    x: np.ndarray, k: int, metric: str, random_state: int, n_jobs: int | None
) -> tuple[np.ndarray, np.ndarray]:
    from pynndescent import NNDescent

    with num_threads(n_jobs):
        index = NNDescent(x, n_neighbors=k + 1, metric=metric, random_state=random_state, n_jobs=n_jobs or -1)
        idx, dist = index.neighbor_graph
    n = x.shape[0]
    # Drop each row's own index; with duplicate points it need not sit in the first column.
    self_mask = idx == np.arange(n)[:, None]
    no_self = ~self_mask.any(axis=1)
    self_mask[no_self, -1] = True
    keep = ~self_mask
    return idx[keep].reshape(n, k).astype(np.int64), dist[keep].reshape(n, k).astype(np.float64)


def knn_from_graph(distances: sparse.spmatrix, n_neighbors: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, distances)`` from a kNN distance graph such as scanpy's ``obsp["distances"]``.

    Each row's stored entries are its neighbours (itself excluded). ``k`` is the smallest row
    count, or ``n_neighbors`` when given and not larger.
    """
    g = sparse.csr_matrix(distances)
    n = g.shape[0]
    counts = np.diff(g.indptr)
    if g.shape[0] != g.shape[1] or n == 0:
        msg = f"the distance graph must be a square (n, n) matrix, got {g.shape}."
        raise ValueError(msg)
    if counts.min() == 0:
        msg = (
            f"row {int(np.argmin(counts))} of the distance graph has no neighbours; recompute it with sc.pp.neighbors."
        )
        raise ValueError(msg)
    k = int(counts.min())
    if n_neighbors is not None:
        if not 1 <= n_neighbors <= k:
            msg = f"n_neighbors={n_neighbors} but the graph holds only {k} neighbours per row; rerun sc.pp.neighbors with more."
            raise ValueError(msg)
        k = n_neighbors
    indices = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k))
    for i in range(n):
        cols = g.indices[g.indptr[i] : g.indptr[i + 1]]
        vals = g.data[g.indptr[i] : g.indptr[i + 1]]
        order = np.lexsort((cols, vals))[:k]
        indices[i], dist[i] = cols[order], vals[order]
    return indices, dist

"""Kernels of the MNN alignment of ``_correct``: squared distances, k-th smallest values, mutual pairs, kernel smoothing.

Each kernel replaces a chain of numpy passes over a (cells x anchors) block of ``mnn_moves``
(the numpy chains are kept as ``_correct._mnn_moves_numpy``, the reference of the tests):

* :func:`sq_dists` turns the BLAS Gram block into clipped squared distances in one pass, with
  the same floating-point operations in the same order as ``-2 G + |q|^2 + |r|^2`` (bit-identical);
* :func:`kth_rows` / :func:`kth_cols` give the k-th smallest value of every row / column
  (bounded max-heaps; the value is the same as ``np.partition``'s, with no transposed copy);
* :func:`mutual_pairs` lists the pairs within both thresholds in row-major order (as ``np.nonzero``);
* :func:`smooth_from` is the Gaussian-kernel average over each row's ``m`` nearest anchors
  among a subset of columns, without copying the subset: the anchors are taken in the order
  (distance, index), so the sums differ from numpy's (which follow ``np.argpartition``'s
  platform-dependent order) by rounding only.

Every kernel takes a ``(lo, hi)`` range of rows (or columns) first and runs on ``run_rows``: each
row is computed the same way whatever the split, so results do not depend on the thread count.
"""

from __future__ import annotations

import math

import numpy as np

from fischer_sc.core._numba import NUMPY_ERRORS, njit

from ._select import heap_push, heap_replace_top
from ._threads import run_rows


@njit(error_model=NUMPY_ERRORS)
def _sq_dists_rows(lo: int, hi: int, d2: np.ndarray, sq_q: np.ndarray, sq_r: np.ndarray) -> None:
    """Rows ``lo:hi`` of ``sq_dists``, in place."""
    nr = d2.shape[1]
    for i in range(lo, hi):
        s = sq_q[i]
        for j in range(nr):
            v = d2[i, j] * -2.0 + s + sq_r[j]
            d2[i, j] = v if v >= 0.0 else 0.0


def sq_dists(
    xq: np.ndarray, xr: np.ndarray, sq_q: np.ndarray, sq_r: np.ndarray, scratch: np.ndarray | None = None
) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``xq`` and ``xr`` (norms given), clipped at 0.

    The Gram block comes from BLAS (``xq @ xr.T``); the kernel then forms ``-2 g + |q|^2 + |r|^2``
    and clips, the operations numpy's in-place passes perform, in the same order. ``scratch``, a
    flat float64 buffer of at least ``len(xq) * len(xr)`` entries, receives the block (a view of
    it is returned): a fresh block of a few thousand squared takes longer to page in than BLAS
    takes to fill it (2 000 x 2 000 x 14: 110 ms fresh, 15 ms into a reused buffer).
    """
    if scratch is None:
        d2 = xq @ xr.T
    else:
        d2 = scratch[: xq.shape[0] * xr.shape[0]].reshape(xq.shape[0], xr.shape[0])
        np.matmul(xq, xr.T, out=d2)
    run_rows(_sq_dists_rows, d2.shape[0], d2, sq_q, sq_r, grain=64)
    return d2


@njit(error_model=NUMPY_ERRORS)
def _kth_rows(lo: int, hi: int, d2: np.ndarray, k: int, out: np.ndarray) -> None:
    """Rows ``lo:hi`` of ``kth_rows``."""
    nc = d2.shape[1]
    heap_d = np.empty(k)
    heap_j = np.empty(k, dtype=np.int64)
    for i in range(lo, hi):
        for j in range(k):
            heap_push(heap_d, heap_j, j, d2[i, j], j)
        worst = heap_d[0]
        for j in range(k, nc):
            v = d2[i, j]
            if v < worst:
                heap_replace_top(heap_d, heap_j, k, v, j)
                worst = heap_d[0]
        out[i] = worst


def kth_rows(d2: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th smallest value of every row of ``d2`` (1 <= k <= columns): ``np.partition(d2, k - 1, 1)[:, k - 1]``."""
    out = np.empty(d2.shape[0])
    run_rows(_kth_rows, d2.shape[0], d2, int(k), out, grain=64)
    return out


@njit(error_model=NUMPY_ERRORS)
def _kth_cols(lo: int, hi: int, d2: np.ndarray, k: int, out: np.ndarray) -> None:
    """Columns ``lo:hi`` of ``kth_cols``: one heap per column, the rows scanned in order."""
    w = hi - lo
    heaps_d = np.empty((w, k))
    heaps_j = np.empty((w, k), dtype=np.int64)
    for i in range(k):
        for c in range(w):
            heap_push(heaps_d[c], heaps_j[c], i, d2[i, lo + c], i)
    for i in range(k, d2.shape[0]):
        for c in range(w):
            v = d2[i, lo + c]
            if v < heaps_d[c, 0]:
                heap_replace_top(heaps_d[c], heaps_j[c], k, v, i)
    for c in range(w):
        out[lo + c] = heaps_d[c, 0]


def kth_cols(d2: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th smallest value of every column of ``d2`` (1 <= k <= rows), without a transposed copy."""
    out = np.empty(d2.shape[1])
    run_rows(_kth_cols, d2.shape[1], d2, int(k), out, grain=64)
    return out


@njit(error_model=NUMPY_ERRORS)
def _pair_counts(lo: int, hi: int, d2: np.ndarray, row: np.ndarray, col: np.ndarray, counts: np.ndarray) -> None:
    for i in range(lo, hi):
        c = 0
        r = row[i]
        for j in range(d2.shape[1]):
            v = d2[i, j]
            if v <= r and v <= col[j]:
                c += 1
        counts[i] = c


@njit(error_model=NUMPY_ERRORS)
def _pair_fill(
    lo: int,
    hi: int,
    d2: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    start: np.ndarray,
    ii: np.ndarray,
    jj: np.ndarray,
) -> None:
    for i in range(lo, hi):
        p = start[i]
        r = row[i]
        for j in range(d2.shape[1]):
            v = d2[i, j]
            if v <= r and v <= col[j]:
                ii[p] = i
                jj[p] = j
                p += 1


def mutual_pairs(d2: np.ndarray, row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero((d2 <= row[:, None]) & (d2 <= col[None, :]))``: the pairs within both thresholds, row-major."""
    counts = np.empty(d2.shape[0], dtype=np.int64)
    run_rows(_pair_counts, d2.shape[0], d2, row, col, counts, grain=64)
    start = np.zeros(d2.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    ii = np.empty(int(start[-1]), dtype=np.int64)
    jj = np.empty(int(start[-1]), dtype=np.int64)
    run_rows(_pair_fill, d2.shape[0], d2, row, col, start, ii, jj, grain=64)
    return ii, jj


@njit(error_model=NUMPY_ERRORS)
def _smooth_rows(
    lo: int,
    hi: int,
    d2: np.ndarray,
    cols: np.ndarray,
    vectors: np.ndarray,
    denom: float,
    m: int,
    out: np.ndarray,
) -> None:
    """Rows ``lo:hi`` of ``smooth_from``."""
    nc = cols.shape[0]
    dim = vectors.shape[1]
    heap_d = np.empty(m)
    heap_j = np.empty(m, dtype=np.int64)
    acc = np.empty(dim)
    for i in range(lo, hi):
        for c in range(m):
            heap_push(heap_d, heap_j, c, d2[i, cols[c]], c)
        worst = heap_d[0]
        for c in range(m, nc):
            v = d2[i, cols[c]]
            if v < worst:
                heap_replace_top(heap_d, heap_j, m, v, c)
                worst = heap_d[0]
        # order (distance, index): insertion sort of the m entries
        for a in range(1, m):
            v, j = heap_d[a], heap_j[a]
            b = a - 1
            while b >= 0 and (heap_d[b] > v or (heap_d[b] == v and heap_j[b] > j)):
                heap_d[b + 1], heap_j[b + 1] = heap_d[b], heap_j[b]
                b -= 1
            heap_d[b + 1], heap_j[b + 1] = v, j
        dmin = heap_d[0]
        for t in range(dim):
            acc[t] = 0.0
        wsum = 0.0
        for a in range(m):
            w = math.exp(-(heap_d[a] - dmin) / denom)
            wsum += w
            c = heap_j[a]
            for t in range(dim):
                acc[t] += w * vectors[c, t]
        for t in range(dim):
            out[i, t] = acc[t] / wsum


def smooth_from(d2: np.ndarray, cols: np.ndarray, vectors: np.ndarray, sigma: float, k: int) -> np.ndarray:
    """At each row of ``d2``, the Gaussian-kernel average of ``vectors`` over its ``k`` nearest of the columns ``cols``.

    ``d2`` holds squared distances from the points (rows) to anchors (columns); ``vectors[c]``
    belongs to column ``cols[c]``. The weights are ``exp(-(d2 - d2_min) / (2 sigma^2))`` relative
    to the nearest anchor (never all zero), as ``_correct._smooth_from`` computes them on the
    copied block ``d2[:, cols]``.
    """
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    vectors = np.ascontiguousarray(vectors, dtype=np.float64)
    out = np.empty((d2.shape[0], vectors.shape[1]))
    m = min(int(k), cols.shape[0])
    run_rows(_smooth_rows, d2.shape[0], d2, cols, vectors, 2.0 * sigma**2, m, out, grain=64)
    return out

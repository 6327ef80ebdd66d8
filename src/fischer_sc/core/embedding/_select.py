"""Top-k selection per row with bounded max-heaps: the one selection every kNN search of the engine uses.

Exact kNN (:func:`select_refine` on Gram blocks), the random-projection forest
(:func:`heap_replace_top`) and CONFETTI's nearest neighbours under its operator F
(:func:`select_rows`) keep the k best candidates of a row in a max-heap and order the result by
(distance, index), so ties always resolve to the lower index.
"""

from __future__ import annotations

import numpy as np

from fischer_sc.core._numba import NUMPY_ERRORS, njit

from ._threads import run_rows


@njit(inline="always")
def heap_push(heap_d: np.ndarray, heap_j: np.ndarray, size: int, v: float, j: int) -> None:
    """Insert (v, j) into the max-heap of ``size`` entries (sift up), ordered by (value, index)."""
    pos = size
    while pos > 0:
        parent = (pos - 1) >> 1
        if heap_d[parent] > v or (heap_d[parent] == v and heap_j[parent] >= j):
            break
        heap_d[pos] = heap_d[parent]
        heap_j[pos] = heap_j[parent]
        pos = parent
    heap_d[pos] = v
    heap_j[pos] = j


@njit(inline="always")
def heap_replace_top(heap_d: np.ndarray, heap_j: np.ndarray, m: int, v: float, j: int) -> None:
    """Replace the largest entry of the full max-heap by (v, j) (sift down), ordered by (value, index).

    Ordering ties by index makes the top the entry to drop: of two equal values, the higher index.
    """
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= m:
            break
        right = child + 1
        if right < m and (
            heap_d[right] > heap_d[child] or (heap_d[right] == heap_d[child] and heap_j[right] > heap_j[child])
        ):
            child = right
        if heap_d[child] < v or (heap_d[child] == v and heap_j[child] <= j):
            break
        heap_d[pos] = heap_d[child]
        heap_j[pos] = heap_j[child]
        pos = child
    heap_d[pos] = v
    heap_j[pos] = j


@njit(inline="always")
def write_sorted(heap_d: np.ndarray, heap_j: np.ndarray, k: int, out_idx: np.ndarray, out_d: np.ndarray) -> None:
    """Write the k smallest entries of ``heap_d``/``heap_j`` ordered by (distance, index) into ``out_idx``/``out_d``.

    An insertion sort by (distance, index), in place (the heap is not needed afterwards): for the
    few dozen entries of a row as fast as ``np.argsort``, and it spares the first call compiling
    numba's quicksort and mergesort (about 6 s). The same order as a stable sort by distance of
    the entries sorted by index, since indices are distinct.
    """
    m = heap_d.shape[0]
    for a in range(1, m):
        v, j = heap_d[a], heap_j[a]
        b = a - 1
        while b >= 0 and (heap_d[b] > v or (heap_d[b] == v and heap_j[b] > j)):
            heap_d[b + 1], heap_j[b + 1] = heap_d[b], heap_j[b]
            b -= 1
        heap_d[b + 1], heap_j[b + 1] = v, j
    for t in range(k):
        out_idx[t] = heap_j[t]
        out_d[t] = heap_d[t]


@njit(error_model=NUMPY_ERRORS)
def _select_refine_rows(
    lo: int,
    hi: int,
    gram: np.ndarray,
    sq_rows: np.ndarray,
    x_rows: np.ndarray,
    sq: np.ndarray,
    x: np.ndarray,
    self_lo: int,
    heaps_d: np.ndarray,
    heaps_j: np.ndarray,
    out_idx: np.ndarray,
    out_d2: np.ndarray,
) -> None:
    """Rows ``lo`` to ``hi`` of ``select_refine``; row r keeps its heap in ``heaps_d[r]``/``heaps_j[r]`` (m entries)."""
    n = gram.shape[1]
    k = out_idx.shape[1]
    dim = x.shape[1]
    m = heaps_d.shape[1]
    for r in range(lo, hi):
        heap_d, heap_j = heaps_d[r], heaps_j[r]
        skip = self_lo + r if self_lo >= 0 else -1
        size = 0
        j = 0
        sqi = sq_rows[r]
        while size < m:  # the first m candidates fill the heap
            if j != skip:
                heap_push(heap_d, heap_j, size, sqi + sq[j] - 2.0 * gram[r, j], j)
                size += 1
            j += 1
        worst = heap_d[0]
        # The common case is a rejection: one multiply-add and a compare against a local.
        for q in range(j, n):
            v = sqi + sq[q] - 2.0 * gram[r, q]
            if v < worst and q != skip:
                heap_replace_top(heap_d, heap_j, m, v, q)
                worst = heap_d[0]
        for t in range(m):
            j = heap_j[t]
            acc = 0.0
            for c in range(dim):
                diff = x_rows[r, c] - x[j, c]
                acc += diff * diff
            heap_d[t] = acc
        write_sorted(heap_d, heap_j, k, out_idx[r], out_d2[r])


def select_refine(
    gram: np.ndarray,
    sq_rows: np.ndarray,
    x_rows: np.ndarray,
    sq: np.ndarray,
    x: np.ndarray,
    self_lo: int,
    m: int,
    out_idx: np.ndarray,
    out_d2: np.ndarray,
) -> None:
    """The k nearest reference points of every query row of a Gram block, by (squared distance, index).

    Row r of ``gram`` holds the products of query ``x_rows[r]`` (squared norm ``sq_rows[r]``) with
    every reference point ``x[j]`` (squared norm ``sq[j]``). The ``m`` smallest expansions
    |q|^2 + |x_j|^2 - 2 q.x_j are kept in a bounded max-heap, their squared distances recomputed
    directly in float64 (the BLAS expansion loses precision for close pairs), and the first k
    written out. With ``self_lo >= 0`` the queries are the reference rows ``self_lo + r``, which
    are excluded from their own lists. A serial kernel over row ranges, run on threads by
    ``run_rows`` (as a ``parallel=True`` kernel it took four times longer to compile).
    """
    rows = gram.shape[0]
    heaps_d, heaps_j = np.empty((rows, m)), np.empty((rows, m), dtype=np.int64)
    args = (gram, sq_rows, x_rows, sq, x, int(self_lo), heaps_d, heaps_j, out_idx, out_d2)
    run_rows(_select_refine_rows, rows, *args, grain=64)


def select_refine_numpy(
    gram: np.ndarray,
    sq_rows: np.ndarray,
    x_rows: np.ndarray,
    sq: np.ndarray,
    x: np.ndarray,
    self_lo: int,
    m: int,
    out_idx: np.ndarray,
    out_d2: np.ndarray,
) -> None:
    """``select_refine`` in numpy, with the kernel's floating-point operations: equal results.

    The m smallest expansions by (value, index) come from ``np.argpartition``; a row whose m-th
    value is tied with a value left out is selected again by a stable sort, so ties go to the
    lower index as in the heap. Squared distances are summed dimension by dimension from 0, as
    the kernel does, and the candidates ordered by (squared distance, index). For the few
    thousand points below ``_knn.NUMPY_SELECT_MAX_N`` this costs a few tenths of a second more
    than the kernel, and the first call compiles one kernel fewer (about 1.2 s).
    """
    rows = gram.shape[0]
    k = out_idx.shape[1]
    # float32 |q|^2 + |x|^2 (as the kernel's float32 scalars), then the float64 product term.
    v = (sq_rows[:, None] + sq[None, :]).astype(np.float64)
    v -= 2.0 * gram
    if self_lo >= 0:
        v[np.arange(rows), self_lo + np.arange(rows)] = np.inf
    cand = np.argpartition(v, m - 1, axis=1)[:, :m]
    kept = np.take_along_axis(v, cand, axis=1)
    top = kept.max(axis=1)
    ties = np.flatnonzero((v == top[:, None]).sum(axis=1) != (kept == top[:, None]).sum(axis=1))
    if ties.size:
        cand[ties] = np.argsort(v[ties], axis=1, kind="stable")[:, :m]
    cand.sort(axis=1)  # by index, so that a stable sort by distance breaks ties by index
    d2 = np.zeros(cand.shape)
    for c in range(x.shape[1]):
        diff = x_rows[:, c, None] - x[cand, c]
        d2 += diff * diff
    order = np.argsort(d2, axis=1, kind="stable")[:, :k]
    out_idx[:] = np.take_along_axis(cand, order, axis=1)
    out_d2[:] = np.take_along_axis(d2, order, axis=1)


@njit(error_model=NUMPY_ERRORS)
def _select_rows_range(
    lo: int,
    hi: int,
    values: np.ndarray,
    heaps_d: np.ndarray,
    heaps_j: np.ndarray,
    out_idx: np.ndarray,
    out_d: np.ndarray,
) -> None:
    """Rows ``lo`` to ``hi`` of ``select_rows``; row r keeps its heap in ``heaps_d[r]``/``heaps_j[r]`` (k entries)."""
    n = values.shape[1]
    k = heaps_d.shape[1]
    for r in range(lo, hi):
        heap_d, heap_j = heaps_d[r], heaps_j[r]
        for j in range(k):
            heap_push(heap_d, heap_j, j, values[r, j], j)
        worst = heap_d[0]
        for j in range(k, n):
            v = values[r, j]
            if v < worst:
                heap_replace_top(heap_d, heap_j, k, v, j)
                worst = heap_d[0]
        write_sorted(heap_d, heap_j, k, out_idx[r], out_d[r])


def select_rows(values: np.ndarray, k: int, out_idx: np.ndarray, out_d: np.ndarray) -> None:
    """The k smallest entries of every row of ``values`` and their columns, by (value, column).

    Entries equal to ``inf`` (e.g. a row's own column) are never selected before finite ones.
    Rows run on threads (``run_rows``).
    """
    rows = values.shape[0]
    heaps_d, heaps_j = np.empty((rows, k)), np.empty((rows, k), dtype=np.int64)
    run_rows(_select_rows_range, rows, values, heaps_d, heaps_j, out_idx, out_d, grain=64)


def select_rows_reference(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Slow numpy version of :func:`select_rows`: a lexicographic sort of every row (the test reference)."""
    cols = np.arange(values.shape[1])
    order = np.array([np.lexsort((cols, row))[:k] for row in values], dtype=np.int64).reshape(values.shape[0], k)
    return order, np.take_along_axis(values, order, axis=1)

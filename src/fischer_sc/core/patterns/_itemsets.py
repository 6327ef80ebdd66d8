"""Itemset utilities over CSR instance x item matrices: supports, covers and pair co-occurrence.

The numba kernels take the raw CSR (``indptr``, ``indices``, sorted and duplicate-free per row) and
CSC arrays so that the pattern miners never densify an n x m matrix. Each kernel has a slow numpy or
scipy twin (``*_reference``) that the tests compare against.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
from scipy import sparse

from fischer_sc.core._numba import njit

__all__ = [
    "binary_csr",
    "cooccurring_pairs",
    "cooccurring_pairs_reference",
    "item_label_counts",
    "item_label_counts_reference",
    "nonzero_positions",
    "nonzero_positions_reference",
    "pattern_rows",
    "pattern_rows_reference",
]


def binary_csr(X: sparse.spmatrix | np.ndarray) -> sparse.csr_matrix:
    """A binary CSR copy of ``X`` with sorted, duplicate-free indices per row (any non-zero becomes 1).

    Parameters
    ----------
    X
        Dense array or scipy sparse matrix of shape (n, m).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``int8`` data of ones, ``int64`` index arrays, canonical format.
    """
    csr = sparse.csr_matrix(X, copy=True)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    csr.sort_indices()
    out = sparse.csr_matrix(
        (np.ones(csr.nnz, dtype=np.int8), csr.indices.astype(np.int64), csr.indptr.astype(np.int64)), shape=csr.shape
    )
    out.has_sorted_indices = True
    return out


# ---------------------------------------------------------------------------------------------------------------
# Pair co-occurrence per label with an overlap filter (candidate generation of Premise-style miners)


@njit(parallel=True)
def _pair_pass(
    indptr: np.ndarray,
    indices: np.ndarray,
    col_ptr: np.ndarray,
    col_rows: np.ndarray,
    labels: np.ndarray,
    support0: np.ndarray,
    support1: np.ndarray,
    min_overlap: float,
    min_count: int,
    n_chunks: int,
    offsets: np.ndarray,
    out_a: np.ndarray,
    out_b: np.ndarray,
    out_c0: np.ndarray,
    out_c1: np.ndarray,
    n_pass: np.ndarray,
) -> None:
    # One dense accumulator per chunk of items (not per item): resetting only the touched entries
    # keeps the work proportional to sum_rows len(row)^2 instead of m^2.
    m = col_ptr.shape[0] - 1
    fill = offsets.shape[0] > 0
    for chunk in numba.prange(n_chunks):
        acc0 = np.zeros(m, dtype=np.int64)
        acc1 = np.zeros(m, dtype=np.int64)
        touched = np.empty(m, dtype=np.int64)
        for a in range(chunk, m, n_chunks):
            n_touched = 0
            for p in range(col_ptr[a], col_ptr[a + 1]):
                t = col_rows[p]
                lab = labels[t]
                for q in range(indptr[t], indptr[t + 1]):
                    b = indices[q]
                    if b <= a:
                        continue
                    if acc0[b] == 0 and acc1[b] == 0:
                        touched[n_touched] = b
                        n_touched += 1
                    if lab == 0:
                        acc0[b] += 1
                    else:
                        acc1[b] += 1
            count = 0
            pos = offsets[a] if fill else 0
            for i in range(n_touched):
                b = touched[i]
                c0 = acc0[b]
                c1 = acc1[b]
                keep = c0 + c1 >= min_count
                if keep:
                    ok = False
                    d0 = min(support0[a], support0[b])
                    if d0 > 0 and c0 > min_overlap * d0:
                        ok = True
                    d1 = min(support1[a], support1[b])
                    if d1 > 0 and c1 > min_overlap * d1:
                        ok = True
                    keep = ok
                if keep:
                    if fill:
                        out_a[pos] = a
                        out_b[pos] = b
                        out_c0[pos] = c0
                        out_c1[pos] = c1
                        pos += 1
                    count += 1
                acc0[b] = 0
                acc1[b] = 0
            n_pass[a] = count


def _check_labels(X: sparse.csr_matrix, labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        msg = f"labels must have one entry per row ({X.shape[0]}), got shape {labels.shape}."
        raise ValueError(msg)
    return labels.astype(np.int8)


def cooccurring_pairs(
    X: sparse.csr_matrix,
    labels: np.ndarray,
    *,
    min_overlap: float = 0.3,
    min_count: int = 1,
    X_csc: sparse.csc_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Item pairs whose label-restricted row sets overlap by more than ``min_overlap``.

    The overlap of items ``a, b`` in label ``y`` is ``|T_y(a) ∩ T_y(b)| / min(|T_y(a)|, |T_y(b)|)``; a
    pair is kept when it exceeds ``min_overlap`` in either label and co-occurs in at least
    ``min_count`` rows.

    Parameters
    ----------
    X
        Binary CSR matrix (n, m) from :func:`binary_csr`.
    labels
        0/1 label per row.
    min_overlap
        Overlap threshold in [0, 1].
    min_count
        Minimum number of rows containing both items.
    X_csc
        ``X`` in CSC form, if already at hand.

    Returns
    -------
    a, b, count0, count1
        ``int64`` arrays, one entry per kept pair with ``a < b``, sorted by ``(a, b)``.
    """
    labels = _check_labels(X, labels)
    csc = sparse.csc_matrix(X) if X_csc is None else X_csc
    csc.sort_indices()
    m = X.shape[1]
    support1 = _label_support(csc, labels, 1).astype(np.int64)
    support0 = np.diff(csc.indptr).astype(np.int64) - support1
    n_chunks = max(1, min(m, 4 * numba.get_num_threads()))
    args = (
        X.indptr.astype(np.int64),
        X.indices.astype(np.int64),
        csc.indptr.astype(np.int64),
        csc.indices.astype(np.int64),
        labels,
        support0,
        support1,
        float(min_overlap),
        int(min_count),
        n_chunks,
    )
    n_pass = np.zeros(m, dtype=np.int64)
    empty = np.empty(0, dtype=np.int64)
    _pair_pass(*args, empty, empty, empty, empty, empty, n_pass)
    offsets = np.concatenate(([0], np.cumsum(n_pass)))
    total = int(offsets[-1])
    out = [np.empty(total, dtype=np.int64) for _ in range(4)]
    _pair_pass(*args, offsets[:-1].copy(), *out, n_pass)
    a, b, c0, c1 = out
    order = np.lexsort((b, a))
    return a[order], b[order], c0[order], c1[order]


def _label_support(csc: sparse.csc_matrix, labels: np.ndarray, label: int) -> np.ndarray:
    cols = np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))
    return np.bincount(cols, weights=labels[csc.indices] == label, minlength=csc.shape[1])


def cooccurring_pairs_reference(
    X: sparse.csr_matrix, labels: np.ndarray, *, min_overlap: float = 0.3, min_count: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Slow scipy twin of :func:`cooccurring_pairs` (per-label sparse products ``X_y^T X_y``)."""
    labels = _check_labels(X, labels)
    Xf = sparse.csr_matrix(X, dtype=np.int64)
    co = []
    sup = []
    for y in (0, 1):
        Xy = Xf[labels == y]
        co.append((Xy.T @ Xy).toarray())
        sup.append(np.asarray(Xy.sum(axis=0)).ravel())
    m = X.shape[1]
    rows = []
    for a in range(m):
        for b in range(a + 1, m):
            c0, c1 = co[0][a, b], co[1][a, b]
            if c0 + c1 == 0 or c0 + c1 < min_count:
                continue
            d0, d1 = min(sup[0][a], sup[0][b]), min(sup[1][a], sup[1][b])
            if (d0 > 0 and c0 > min_overlap * d0) or (d1 > 0 and c1 > min_overlap * d1):
                rows.append((a, b, c0, c1))
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]


# ---------------------------------------------------------------------------------------------------------------
# Per-item label counts over a row subset (extension candidates of a rule)


@njit
def _item_label_counts(
    indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray, labels: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    c0 = np.zeros(m, dtype=np.int64)
    c1 = np.zeros(m, dtype=np.int64)
    for t in rows:
        if labels[t] == 0:
            for q in range(indptr[t], indptr[t + 1]):
                c0[indices[q]] += 1
        else:
            for q in range(indptr[t], indptr[t + 1]):
                c1[indices[q]] += 1
    return c0, c1


def item_label_counts(X: sparse.csr_matrix, rows: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every item, how many of ``rows`` contain it, split by label.

    Parameters
    ----------
    X
        Binary CSR matrix (n, m).
    rows
        Row indices (distinct).
    labels
        0/1 label per row of ``X``.

    Returns
    -------
    count0, count1
        ``int64`` arrays of length m.
    """
    labels = _check_labels(X, labels)
    return _item_label_counts(
        X.indptr,
        X.indices,
        np.asarray(rows, dtype=np.int64),
        labels,
        X.shape[1],
    )


def item_label_counts_reference(
    X: sparse.csr_matrix, rows: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Slow scipy twin of :func:`item_label_counts`."""
    labels = _check_labels(X, labels)
    rows = np.asarray(rows, dtype=np.int64)
    sub = sparse.csr_matrix(X[rows], dtype=np.int64)
    lab = labels[rows]
    return (
        np.asarray(sub[lab == 0].sum(axis=0)).ravel().astype(np.int64),
        np.asarray(sub[lab == 1].sum(axis=0)).ravel().astype(np.int64),
    )


# ---------------------------------------------------------------------------------------------------------------
# Positions of the non-zeros (row, item) in the CSR data array (cover bookkeeping per occurrence)


@njit
def _nonzero_positions(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    out = np.empty(rows.shape[0] * items.shape[0], dtype=np.int64)
    n_out = 0
    for t in rows:
        lo = indptr[t]
        hi = indptr[t + 1]
        for a in items:
            q = lo + np.searchsorted(indices[lo:hi], a)
            if q < hi and indices[q] == a:
                out[n_out] = q
                n_out += 1
    return out[:n_out]


def nonzero_positions(X: sparse.csr_matrix, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Positions in ``X.indices`` of the non-zeros ``(t, a)`` with ``t`` in ``rows`` and ``a`` in ``items``.

    Parameters
    ----------
    X
        Binary CSR matrix with sorted indices.
    rows, items
        Row and item indices.

    Returns
    -------
    numpy.ndarray
        ``int64`` positions, row by row in the order of ``rows`` and ``items``.
    """
    # The kernel is compiled for the index dtype as given: a cast would copy all of X on every call.
    return _nonzero_positions(
        X.indptr,
        X.indices,
        np.asarray(rows, dtype=np.int64),
        np.asarray(items, dtype=np.int64),
    )


def nonzero_positions_reference(X: sparse.csr_matrix, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Slow numpy twin of :func:`nonzero_positions`."""
    out = []
    for t in np.asarray(rows, dtype=np.int64):
        lo, hi = X.indptr[t], X.indptr[t + 1]
        row = X.indices[lo:hi]
        for a in np.asarray(items, dtype=np.int64):
            hit = np.flatnonzero(row == a)
            if hit.size:
                out.append(lo + hit[0])
    return np.asarray(out, dtype=np.int64)


# ---------------------------------------------------------------------------------------------------------------
# Covers of patterns with XOR clauses


def pattern_rows(X_csc: sparse.csc_matrix, clauses: Sequence[Sequence[int]]) -> np.ndarray:
    """Rows covered by a conjunction of XOR clauses: every clause has *exactly one* of its items in the row.

    Parameters
    ----------
    X_csc
        Binary CSC matrix (n, m) with sorted indices.
    clauses
        Non-empty sequence of non-empty item-index sequences.

    Returns
    -------
    numpy.ndarray
        Sorted ``int64`` row indices.
    """
    out: np.ndarray | None = None
    ptr, rows_all = X_csc.indptr, X_csc.indices
    for clause in clauses:
        parts = [rows_all[ptr[a] : ptr[a + 1]] for a in clause]
        if len(parts) == 1:
            rows = parts[0].astype(np.int64)
        else:
            uniq, cnt = np.unique(np.concatenate(parts), return_counts=True)
            rows = uniq[cnt == 1].astype(np.int64)
        out = rows if out is None else np.intersect1d(out, rows, assume_unique=True)
        if out.size == 0:
            break
    if out is None:
        msg = "a pattern needs at least one clause."
        raise ValueError(msg)
    return out


def pattern_rows_reference(X: sparse.spmatrix, clauses: Sequence[Sequence[int]]) -> np.ndarray:
    """Slow dense twin of :func:`pattern_rows`."""
    dense = sparse.csr_matrix(X).toarray() != 0
    ok = np.ones(dense.shape[0], dtype=bool)
    for clause in clauses:
        ok &= dense[:, list(clause)].sum(axis=1) == 1
    return np.flatnonzero(ok).astype(np.int64)

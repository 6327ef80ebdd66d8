"""The counting kernels the search calls, with a numpy path for small inputs in a fresh process.

numba's first call in a process pays a fixed ~1 s (building its typing and target registries, then
loading each cached kernel), and ~15 s more if the on-disk cache is empty (first run after an
install). On a few thousand instances that is longer than pypremise's C++ binary takes for the whole
search, so until a numba kernel has run in this process, inputs below ``NUMBA_MIN_NNZ`` non-zeros
take vectorised numpy/scipy twins of the four kernels. Both paths count exactly the same integers;
the Fisher tails agree to ~1e-12 relative (``tests/test_kernels.py``).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from fischer_sc.core.patterns import cooccurring_pairs, item_label_counts, nonzero_positions

from ._fisher import hypergeom_tail

# Below this many non-zeros (and before any numba kernel ran here) the numpy twins are used: at
# 60 000 non-zeros (5 000 instances of 12 tokens) the whole numpy search takes ~0.5 s, less than
# numba's first-call overhead (benchmarks/premise_startup.py).
NUMBA_MIN_NNZ = 60_000
_numba_ran = False


def choose_numba(nnz: int) -> bool:
    """True if this call should use the numba kernels (and from then on, every call in this process)."""
    global _numba_ran
    if _numba_ran or nnz >= NUMBA_MIN_NNZ:
        _numba_ran = True
    return _numba_ran


def label_counts(X: sparse.csr_matrix, rows: np.ndarray, labels: np.ndarray, numba: bool) -> tuple[np.ndarray, ...]:
    """Per item, how many of ``rows`` hold it, split by label (``item_label_counts``)."""
    if numba:
        return item_label_counts(X, rows, labels)
    rows = np.asarray(rows, dtype=np.int64)
    pos = _row_positions(X, rows)
    lab = np.repeat(np.asarray(labels)[rows] != 0, np.diff(X.indptr)[rows])
    items = X.indices[pos]
    m = X.shape[1]
    return (
        np.bincount(items[~lab], minlength=m).astype(np.int64),
        np.bincount(items[lab], minlength=m).astype(np.int64),
    )


def _row_positions(X: sparse.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Positions in ``X.indices`` of every non-zero of ``rows``, row by row."""
    starts = X.indptr[rows].astype(np.int64)
    lengths = (X.indptr[rows + 1] - X.indptr[rows]).astype(np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(total, dtype=np.int64) + offsets


def positions(X: sparse.csr_matrix, rows: np.ndarray, items: np.ndarray, numba: bool) -> np.ndarray:
    """Positions of the non-zeros ``(t, a)``, ``t`` in ``rows``, ``a`` in the sorted ``items`` (``nonzero_positions``)."""
    if numba:
        return nonzero_positions(X, rows, items)
    pos = _row_positions(X, np.asarray(rows, dtype=np.int64))
    return pos[np.isin(X.indices[pos], np.asarray(items, dtype=np.int64))]


def pairs(
    X: sparse.csr_matrix, X_csc: sparse.csc_matrix, labels: np.ndarray, min_overlap: float, min_count: int, numba: bool
) -> tuple[np.ndarray, ...]:
    """Co-occurring item pairs by label overlap (``cooccurring_pairs``), as ``a, b, count0, count1``."""
    if numba:
        return cooccurring_pairs(X, labels, min_overlap=min_overlap, min_count=min_count, X_csc=X_csc)
    lab = np.asarray(labels) != 0
    co, sup = [], []
    for y in (False, True):
        Xy = sparse.csr_matrix(X[lab == y], dtype=np.int64)
        co.append(sparse.triu(Xy.T @ Xy, k=1).tocsr())
        sup.append(np.diff(sparse.csc_matrix(Xy).indptr).astype(np.int64))
    both = (co[0] + co[1]).tocoo()
    a, b = both.row.astype(np.int64), both.col.astype(np.int64)
    c0 = np.asarray(co[0][a, b]).ravel().astype(np.int64)
    c1 = np.asarray(co[1][a, b]).ravel().astype(np.int64)
    d0 = np.minimum(sup[0][a], sup[0][b])
    d1 = np.minimum(sup[1][a], sup[1][b])
    keep = (c0 + c1 > 0) & (c0 + c1 >= min_count)
    keep &= ((d0 > 0) & (c0 > min_overlap * d0)) | ((d1 > 0) & (c1 > min_overlap * d1))
    a, b, c0, c1 = a[keep], b[keep], c0[keep], c1[keep]
    order = np.lexsort((b, a))
    return a[order], b[order], c0[order], c1[order]


def tail(
    hits: np.ndarray,
    population: int | np.ndarray,
    group: np.ndarray,
    draws: np.ndarray,
    ln_fact: np.ndarray,
    numba: bool,
) -> np.ndarray:
    """``P(H >= hits)`` for ``H ~ Hypergeometric(population, group, draws)`` (``hypergeom_tail``)."""
    if numba:
        return hypergeom_tail(hits, population, group, draws, ln_fact=ln_fact)
    h, pop, g, d = (
        v.ravel()
        for v in np.broadcast_arrays(*(np.asarray(v, dtype=np.int64) for v in (hits, population, group, draws)))
    )
    shape = np.broadcast_shapes(*(np.shape(v) for v in (hits, population, group, draws)))
    lo = np.maximum(h, np.maximum(0, d - (pop - g)))
    hi = np.minimum(d, g)
    mode = (d + 1) * (g + 1) // (pop + 2)
    # Past the mode the terms fall like exp(-k^2 / 2 var): 10 standard deviations on, below 1e-21.
    var = d * g * (pop - g) * (pop - d) / np.maximum(pop.astype(np.float64) ** 2 * (pop - 1), 1.0)
    last = np.minimum(hi, np.maximum(lo, mode) + np.ceil(10 * np.sqrt(var)).astype(np.int64) + 5)
    n_terms = np.maximum(last - lo + 1, 0)
    owner = np.repeat(np.arange(h.size), n_terms)
    x = np.arange(int(n_terms.sum()), dtype=np.int64) - np.repeat(np.cumsum(n_terms) - n_terms, n_terms)
    x += lo[owner]
    po, go, do = pop[owner], g[owner], d[owner]
    norm = ln_fact[do] + ln_fact[po - do] + ln_fact[go] + ln_fact[po - go] - ln_fact[po]
    terms = np.exp(norm - ln_fact[x] - ln_fact[do - x] - ln_fact[go - x] - ln_fact[po - go - do + x])
    out = np.minimum(np.bincount(owner, weights=terms, minlength=h.size), 1.0)
    return out.reshape(shape)

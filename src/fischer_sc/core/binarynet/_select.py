"""Which patterns DiffNaps reports, and for which groups: candidates from the network and from co-occurrence, judged on the data.

The network's encoder patterns and (optionally) patterns grown from within-group co-occurrence
(:func:`fischer_sc.core.patterns.cooccurrence_patterns`) are pooled. A pattern is kept only if
the data hold it: its joint support (rows holding every item) reaches the minimum in at least one
group. It is assigned to every group where that joint support is significantly higher than in the
other rows (one-sided Fisher exact test, Bonferroni over patterns x groups). A pattern assigned to
a group is dropped from that group when a strictly larger pattern of the same group holds at least
``nested_ratio`` of its rows there (it says nothing the larger one does not).

numpy/scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.stats import hypergeom

from fischer_sc.core.patterns import cooccurrence_patterns, extend_patterns, joint_support_test

from ._patterns import ExtractedPatterns, contains

__all__ = ["DifferentialPatterns", "differential_patterns"]

NESTED_RATIO = 0.9  # a sub-pattern holding few rows beyond a larger pattern of its group adds nothing


@dataclass
class DifferentialPatterns:
    """The reported patterns and their statistics.

    ``membership`` (m x P bool CSC), ``units`` (hidden units behind each, empty for co-occurrence
    patterns), ``source`` (``"network"``, ``"cooccurrence"`` or ``"both"``), ``present`` (n x P),
    ``counts`` (K x P joint support per group), ``p_values`` (K x P), ``assigned`` (K x P bool) and
    ``n_unsupported`` (network patterns dropped because no group holds them often enough).
    """

    membership: sparse.csc_matrix
    units: list[np.ndarray]
    source: np.ndarray
    present: np.ndarray
    counts: np.ndarray
    p_values: np.ndarray
    assigned: np.ndarray
    n_unsupported: int


def _membership(columns: list[np.ndarray], m: int) -> sparse.csc_matrix:
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in columns])]).astype(np.int64)
    indices = np.concatenate(columns).astype(np.int64) if columns else np.zeros(0, dtype=np.int64)
    return sparse.csc_matrix((np.ones(len(indices), dtype=bool), indices, indptr), shape=(m, len(columns)))


def _pool(
    found: list[tuple[np.ndarray, np.ndarray, str]],
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Identical item sets merged: units united, source ``"both"`` when the network and co-occurrence both led there."""
    columns: list[np.ndarray] = []
    units: list[np.ndarray] = []
    source: list[str] = []
    seen: dict[bytes, int] = {}
    for items, unit, src in found:
        items = np.sort(np.asarray(items, dtype=np.int64))
        key = items.tobytes()
        if key not in seen:
            seen[key] = len(columns)
            columns.append(items)
            units.append(np.asarray(unit, dtype=np.int64))
            source.append(src)
            continue
        i = seen[key]
        units[i] = np.union1d(units[i], unit).astype(np.int64)
        if source[i] != src:
            source[i] = "both"
    return columns, units, source


def _test(
    x: sparse.csr_matrix,
    labels: np.ndarray,
    n_classes: int,
    columns: list[np.ndarray],
    min_count: np.ndarray,
    level: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows holding each pattern, joint support per group, p-values and significant (group, pattern) pairs."""
    present = contains(x, _membership(columns, x.shape[1]))
    counts, p_values = joint_support_test(present, labels, n_classes)
    n_tests = max(1, counts.size)
    significant = (p_values < level / n_tests) & (counts >= np.asarray(min_count)[:, None])
    return present, counts, p_values, significant


def _drop_unions(
    x: sparse.csr_matrix, labels: np.ndarray, columns: list[np.ndarray], assigned: np.ndarray, level: float
) -> np.ndarray:
    """Unassign a pattern from a group where it splits into a smaller pattern of that group and the rest, independent there.

    Such a pattern (e.g. two patterns that happen to meet in some rows) is held no more often than
    its two parts would be by chance; the part is reported on its own. One-sided Fisher exact test,
    Bonferroni over the pairs checked.
    """
    sets = [frozenset(c.tolist()) for c in columns]
    pairs = [
        (k, q, p)
        for k in range(assigned.shape[0])
        for q in np.flatnonzero(assigned[k])
        for p in np.flatnonzero(assigned[k])
        if sets[p] < sets[q]
    ]
    out = assigned.copy()
    group_rows: dict[int, sparse.csr_matrix] = {}
    for k, q, p in pairs:
        if k not in group_rows:
            group_rows[k] = x[labels == k]
        rows = group_rows[k]
        rest = np.asarray(sorted(sets[q] - sets[p]), dtype=np.int64)
        has_p = np.asarray(rows[:, columns[p]].sum(1)).ravel() == len(columns[p])
        has_rest = np.asarray(rows[:, rest].sum(1)).ravel() == len(rest)
        n, a, b, both = rows.shape[0], int(has_p.sum()), int(has_rest.sum()), int((has_p & has_rest).sum())
        if hypergeom.sf(both - 1, n, a, b) >= level / len(pairs):
            out[k, q] = False
    return out


def _drop_nested(columns: list[np.ndarray], assigned: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Unassign a pattern from a group where a strictly larger pattern of that group holds most of its rows."""
    sets = [frozenset(c.tolist()) for c in columns]
    out = assigned.copy()
    for k in range(assigned.shape[0]):
        mine = np.flatnonzero(assigned[k])
        for p in mine:
            for q in mine:
                if len(sets[q]) > len(sets[p]) and sets[p] < sets[q] and counts[k, q] >= NESTED_RATIO * counts[k, p]:
                    out[k, p] = False
                    break
    return out


def differential_patterns(
    x: sparse.csr_matrix,
    labels: np.ndarray,
    n_classes: int,
    network: ExtractedPatterns,
    min_count: np.ndarray,
    *,
    frequent: np.ndarray | None = None,
    level: float = 0.05,
    min_size: int = 1,
) -> DifferentialPatterns:
    """Pool the network's patterns with co-occurrence patterns, keep those the data hold, test them per group.

    Parameters
    ----------
    x
        Binary data (n x m), CSR.
    labels
        Group codes 0..K-1.
    n_classes
        K.
    network
        The network's patterns, as indices of the columns of ``x``.
    min_count
        Minimum joint support per group, in rows (K,).
    frequent
        Per group, the items co-occurrence patterns may use (K x m bool, e.g. from
        :func:`fischer_sc.core.patterns.group_frequent_items`); ``None``: no co-occurrence patterns.
    level
        Family-wise level of the tests.
    min_size
        Smallest pattern kept.

    Returns
    -------
    The reported patterns with their per-group statistics.
    """
    labels = np.asarray(labels)
    min_count = np.asarray(min_count)
    found = [(network.items(i), network.units[i], "network") for i in range(network.n_patterns)]
    if frequent is not None:
        for k in range(n_classes):
            rows = np.flatnonzero(labels == k)
            grown = cooccurrence_patterns(x, rows, np.flatnonzero(frequent[k]), int(min_count[k]), level=level)
            found += [(items, np.zeros(0, dtype=np.int64), "cooccurrence") for items in grown]
    columns, units, source = _pool(found)
    keep = [i for i, c in enumerate(columns) if len(c) >= max(1, min_size)]
    columns, units, source = [columns[i] for i in keep], [units[i] for i in keep], [source[i] for i in keep]
    present, counts, p_values, significant = _test(x, labels, n_classes, columns, min_count, level)
    supported = (counts >= min_count[:, None]).any(0)
    n_unsupported = int(sum(1 for i, s in enumerate(source) if s == "network" and not supported[i]))
    if frequent is not None:
        # grow every pattern again in each group where it is significant: a pattern seeded where it is not at
        # home (in a group holding only its mislabelled rows) stops short there
        regrown = [(columns[i], units[i], source[i]) for i in np.flatnonzero(supported & ~significant.any(0))]
        for k in range(n_classes):
            mine = np.flatnonzero(significant[k])
            longer = extend_patterns(
                x,
                np.flatnonzero(labels == k),
                np.flatnonzero(frequent[k]),
                [columns[i] for i in mine],
                int(min_count[k]),
                level=level,
            )
            regrown += [(items, units[i], source[i]) for i, items in zip(mine, longer, strict=True)]
        columns, units, source = _pool(regrown)
        present, counts, p_values, significant = _test(x, labels, n_classes, columns, min_count, level)
    idx = np.flatnonzero((counts >= min_count[:, None]).any(0))
    columns, units, source = [columns[i] for i in idx], [units[i] for i in idx], [source[i] for i in idx]
    present, counts, p_values, significant = present[:, idx], counts[:, idx], p_values[:, idx], significant[:, idx]
    assigned = _drop_unions(x, labels, columns, significant, level)
    assigned = _drop_nested(columns, assigned, counts)
    # a pattern that lost every group to a larger or a smaller one is not reported; general patterns stay
    keep = np.flatnonzero(assigned.any(0) | ~significant.any(0))
    return DifferentialPatterns(
        membership=_membership([columns[i] for i in keep], x.shape[1]),
        units=[units[i] for i in keep],
        source=np.asarray([source[i] for i in keep], dtype=object),
        present=present[:, keep],
        counts=counts[:, keep],
        p_values=p_values[:, keep],
        assigned=assigned[:, keep],
        n_unsupported=n_unsupported,
    )

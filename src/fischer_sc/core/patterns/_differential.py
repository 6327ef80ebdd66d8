"""Differential patterns measured on the patterns themselves: joint support per group, its test, co-occurrence seeds.

A pattern is a set of items; its *joint support* in a group is the number of the group's rows that
hold every item. These helpers never look at single items' frequencies to decide what a pattern
is or where it belongs:

- :func:`group_frequent_items` drops only items too rare to be part of any pattern with the
  minimum joint support in some group (a pattern's joint support is at most that of each of its
  items, so no such pattern is lost);
- :func:`joint_support_test` tests a pattern's joint support in each group against the rest of the
  rows (one-sided Fisher exact test, i.e. the hypergeometric tail);
- :func:`cooccurrence_patterns` grows, within one group, sets of items that co-occur more than
  independence allows (pairwise, then each added item against the set so far). It sees patterns
  whose items are not individually enriched in the group, which a per-item test cannot;
- :func:`extend_patterns` grows given patterns by the same rule within the group they belong to.

numpy/scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.stats import hypergeom, norm

__all__ = ["cooccurrence_patterns", "extend_patterns", "group_frequent_items", "joint_support_test", "min_counts"]


def min_counts(labels: np.ndarray, n_classes: int, min_support: float) -> np.ndarray:
    """Smallest joint support, in rows, a pattern needs in each group: ``max(2, ceil(min_support * n_k))``.

    Parameters
    ----------
    labels
        Group codes 0..K-1 of the rows.
    n_classes
        K.
    min_support
        Fraction of a group's rows.

    Returns
    -------
    int64 (K,).
    """
    n_k = np.bincount(np.asarray(labels), minlength=n_classes)
    return np.maximum(2, np.ceil(min_support * n_k - 1e-9)).astype(np.int64)


def group_frequent_items(x: sparse.spmatrix, labels: np.ndarray, n_classes: int, counts: np.ndarray) -> np.ndarray:
    """Per group, whether each item is present in at least ``counts[k]`` of the group's rows.

    An item below that count in every group cannot belong to a pattern with joint support
    ``counts[k]`` in any group ``k``: dropping it loses no such pattern.

    Parameters
    ----------
    x
        Binary data (n x m).
    labels
        Group codes 0..K-1.
    n_classes
        K.
    counts
        Minimum joint support per group, in rows (from :func:`min_counts`).

    Returns
    -------
    Bool (K x m).
    """
    xs = sparse.csr_matrix(x, dtype=np.float32)
    n = xs.shape[0]
    onehot = sparse.csr_matrix((np.ones(n, dtype=np.float32), (np.asarray(labels), np.arange(n))), shape=(n_classes, n))
    per_group = np.asarray((onehot @ xs).todense())
    return per_group >= np.asarray(counts)[:, None]


def joint_support_test(present: np.ndarray, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Joint support of every pattern in every group and the one-sided Fisher exact p-value of its excess.

    The p-value of pattern ``p`` in group ``k`` is ``P(X >= n_in)`` for ``X`` hypergeometric: of the
    ``N`` rows, ``n_p`` hold the pattern and ``n_k`` are in the group.

    Parameters
    ----------
    present
        Bool (n x P): row i holds every item of pattern p.
    labels
        Group codes 0..K-1.
    n_classes
        K.

    Returns
    -------
    counts
        int64 (K x P): rows of each group holding the pattern.
    p_values
        float (K x P).
    """
    present = np.asarray(present, dtype=bool)
    labels = np.asarray(labels)
    n = present.shape[0]
    counts = np.stack([present[labels == k].sum(0) for k in range(n_classes)]).astype(np.int64)
    total = counts.sum(0)[None, :]
    n_k = np.bincount(labels, minlength=n_classes)[:, None]
    p_values = hypergeom.sf(counts - 1, n, total, n_k)
    return counts, np.clip(np.nan_to_num(p_values, nan=1.0), 0.0, 1.0)


def _overlap_z(joint: np.ndarray, n_a: np.ndarray, n_b: np.ndarray, n: int) -> np.ndarray:
    """z-score of a co-occurrence count against independence (hypergeometric mean and variance)."""
    mean = n_a * n_b / n
    var = n_a * n_b * (n - n_a) * (n - n_b) / (n * n * max(1, n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (joint - mean) / np.sqrt(var)
    return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)


@dataclass
class _Links:
    """Within-group co-occurrence of the items: which pairs co-occur beyond independence."""

    items: np.ndarray  # column indices of x
    present: np.ndarray  # bool (n_k x items)
    freq: np.ndarray
    linked: np.ndarray  # bool (items x items)
    z: np.ndarray
    grow_critical: float
    n: int
    min_count: int


def _links(
    x: sparse.spmatrix, rows: np.ndarray, items: np.ndarray, min_count: int, level: float, max_items: int
) -> _Links | None:
    items = np.asarray(items, dtype=np.int64)
    n = len(rows)
    if len(items) < 2 or n < 2:
        return None
    xk = sparse.csr_matrix(x)[rows][:, items]
    freq = np.asarray(xk.sum(0)).ravel()
    if len(items) > max_items:  # the most frequent items of the group
        keep = np.sort(np.argsort(-freq, kind="stable")[:max_items])
        items, xk, freq = items[keep], xk[:, keep], freq[keep]
    dense = xk.toarray().astype(np.float32)
    joint = dense.T @ dense
    z = _overlap_z(joint, freq[:, None], freq[None, :], n)
    n_items = len(items)
    critical = norm.isf(level / max(1, n_items * (n_items - 1) / 2))
    linked = (z > critical) & (joint >= min_count)
    np.fill_diagonal(linked, False)
    grow_critical = float(norm.isf(level / max(1, n_items)))
    return _Links(items, dense.astype(bool), freq, linked, z, grow_critical, n, int(min_count))


def _grow(g: _Links, members: list[int]) -> list[int]:
    """Add, one at a time, the linked item held by most rows holding the set, while it co-occurs beyond independence."""
    members = list(members)
    holds = g.present[:, members].all(1)
    candidates = g.linked[members].all(0)
    while True:
        candidates[members] = False
        cand = np.flatnonzero(candidates)
        if len(cand) == 0:
            break
        n_s = int(holds.sum())
        overlap = g.present[holds][:, cand].sum(0).astype(np.float64)
        zc = _overlap_z(overlap, float(n_s), g.freq[cand], g.n)
        ok = (overlap >= g.min_count) & (zc > g.grow_critical)
        if not ok.any():
            break
        best = int(cand[np.argmax(np.where(ok, overlap, -1.0))])
        members.append(best)
        holds &= g.present[:, best]
        candidates &= g.linked[best]
    return members


def cooccurrence_patterns(
    x: sparse.spmatrix,
    rows: np.ndarray,
    items: np.ndarray,
    min_count: int,
    *,
    level: float = 0.05,
    max_items: int = 5000,
    max_patterns: int = 500,
) -> list[np.ndarray]:
    """Sets of items that co-occur beyond independence within the rows ``rows`` (one group).

    Two items are linked when their co-occurrence in these rows exceeds independence (z-score of the
    hypergeometric overlap above the Bonferroni quantile over all pairs at ``level``) and reaches
    ``min_count``. From the strongest link with an item not yet in a pattern, a pattern grows greedily: among
    the items linked to all of its items, the one held by most of the rows that hold the pattern is
    added while that overlap still exceeds independence given the pattern (Bonferroni over the items)
    and the joint support stays at least ``min_count``.

    Parameters
    ----------
    x
        Binary data (n x m).
    rows
        Rows of the group.
    items
        Items to consider (e.g. those of :func:`group_frequent_items`); at most ``max_items`` of
        them, the most frequent in the group, are used.
    min_count
        Smallest joint support (rows) of a pattern.
    level
        Family-wise level of the link and growth tests.
    max_items
        Bound on the items considered (the co-occurrence matrix is ``max_items`` squared).
    max_patterns
        Bound on the patterns grown.

    Returns
    -------
    Patterns as sorted arrays of column indices of ``x``.
    """
    g = _links(x, rows, items, min_count, level, max_items)
    if g is None:
        return []
    first, second = np.nonzero(np.triu(g.linked))
    order = np.argsort(-g.z[first, second], kind="stable")
    covered = np.zeros(len(g.items), dtype=bool)
    patterns: list[np.ndarray] = []
    for e in order:
        i, j = int(first[e]), int(second[e])
        if covered[i] and covered[j]:  # both already in a pattern: a seed inside known structure
            continue
        members = _grow(g, [i, j])
        covered[members] = True
        patterns.append(np.sort(g.items[members]))
        if len(patterns) >= max_patterns:
            break
    return patterns


def extend_patterns(
    x: sparse.spmatrix,
    rows: np.ndarray,
    items: np.ndarray,
    seeds: list[np.ndarray],
    min_count: int,
    *,
    level: float = 0.05,
    max_items: int = 5000,
) -> list[np.ndarray]:
    """Grow each seed pattern within the rows ``rows`` (its group) by the rule of :func:`cooccurrence_patterns`.

    A pattern found where it is not at home (e.g. grown in a group whose rows hold only a mislabelled
    share of its rows) can stop short; grown again in the group where its joint support is
    significant, it takes the items that co-occur with it there beyond independence.

    Parameters
    ----------
    x
        Binary data (n x m).
    rows
        Rows of the group.
    items
        Items that may be added (as in :func:`cooccurrence_patterns`).
    seeds
        Patterns as arrays of column indices of ``x``.
    min_count
        Smallest joint support (rows) of an extended pattern.
    level
        Family-wise level of the growth tests.
    max_items
        Bound on the items considered.

    Returns
    -------
    One sorted pattern per seed: the seed itself when it has an item outside ``items`` or nothing to add.
    """
    g = _links(x, rows, items, min_count, level, max_items)
    out = []
    for seed in seeds:
        seed = np.sort(np.asarray(seed, dtype=np.int64))
        pos = np.searchsorted(g.items, seed) if g is not None else None
        if g is None or (pos >= len(g.items)).any() or (g.items[np.minimum(pos, len(g.items) - 1)] != seed).any():
            out.append(seed)
            continue
        out.append(np.sort(g.items[_grow(g, pos.tolist())]))
    return out

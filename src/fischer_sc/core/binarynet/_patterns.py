"""Patterns from trained binary-net weights: thresholds, de-duplication, support by sparse products.

Pure numpy/scipy (no torch): usable on saved weights and by the pruning plugins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = [
    "ExtractedPatterns",
    "contains",
    "enriched_features",
    "expand_patterns",
    "extract_patterns",
    "select_thresholds",
]


@dataclass
class ExtractedPatterns:
    """De-duplicated patterns: ``membership`` (m x P, bool CSC) and, per pattern, its hidden units."""

    membership: sparse.csc_matrix
    units: list[np.ndarray]

    @property
    def n_patterns(self) -> int:
        """Number of distinct patterns."""
        return self.membership.shape[1]

    @property
    def sizes(self) -> np.ndarray:
        """Items per pattern."""
        return np.diff(self.membership.indptr)

    def items(self, i: int) -> np.ndarray:
        """Feature indices of pattern ``i`` (sorted)."""
        return self.membership.indices[self.membership.indptr[i] : self.membership.indptr[i + 1]]


def extract_patterns(weights: np.ndarray, threshold: float, min_size: int = 1) -> ExtractedPatterns:
    """Binarise the encoder weights at ``threshold``: each hidden unit's items form a pattern.

    Units with fewer than ``min_size`` items are dropped; identical patterns are merged (the order is
    that of their first unit).

    Parameters
    ----------
    weights
        Continuous encoder weights (h x m).
    threshold
        An item belongs to a unit's pattern when its weight exceeds this.
    min_size
        Smallest pattern kept.

    Returns
    -------
    The distinct patterns and the units behind each.
    """
    mask = sparse.csr_matrix(np.asarray(weights) > threshold)
    seen: dict[bytes, int] = {}
    columns: list[np.ndarray] = []
    units: list[list[int]] = []
    for unit in range(mask.shape[0]):
        items = mask.indices[mask.indptr[unit] : mask.indptr[unit + 1]]
        if len(items) < max(1, min_size):
            continue
        key = np.sort(items).astype(np.int64).tobytes()
        if key in seen:
            units[seen[key]].append(unit)
            continue
        seen[key] = len(columns)
        columns.append(np.sort(items))
        units.append([unit])
    m = mask.shape[1]
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in columns])]).astype(np.int64)
    indices = np.concatenate(columns).astype(np.int64) if columns else np.zeros(0, dtype=np.int64)
    membership = sparse.csc_matrix((np.ones(len(indices), dtype=bool), indices, indptr), shape=(m, len(columns)))
    return ExtractedPatterns(membership=membership, units=[np.asarray(u, dtype=np.int64) for u in units])


def expand_patterns(patterns: ExtractedPatterns, kept: np.ndarray, n_features: int) -> ExtractedPatterns:
    """Patterns found on the columns ``kept`` of a matrix, as indices of all its ``n_features`` columns.

    Parameters
    ----------
    patterns
        Patterns over ``len(kept)`` features.
    kept
        The column of the full matrix behind each of those features (sorted).
    n_features
        Columns of the full matrix.

    Returns
    -------
    The same patterns and units, with ``membership`` of shape (n_features x P).
    """
    mem = patterns.membership
    membership = sparse.csc_matrix((mem.data, kept[mem.indices], mem.indptr), shape=(n_features, mem.shape[1]))
    return ExtractedPatterns(membership=membership, units=patterns.units)


def contains(x: sparse.spmatrix | np.ndarray, membership: sparse.spmatrix) -> np.ndarray:
    """Which rows contain each pattern fully, by one sparse product.

    Parameters
    ----------
    x
        Binary data (n x m).
    membership
        Pattern membership (m x P).

    Returns
    -------
    Bool array (n x P): row i holds every item of pattern p.
    """
    member = sparse.csc_matrix(membership, dtype=np.float32)
    sizes = np.asarray(member.sum(axis=0)).ravel()
    counts = sparse.csr_matrix(x, dtype=np.float32) @ member
    counts = counts.toarray() if sparse.issparse(counts) else np.asarray(counts)
    return (counts >= sizes[None, :] - 0.5) & (sizes[None, :] > 0)


def _binary_net_error(
    x: sparse.csr_matrix,
    labels: np.ndarray | None,
    weights: np.ndarray,
    bias: np.ndarray,
    class_weights: np.ndarray | None,
    threshold: float,
    class_threshold: float,
    alpha: float,
) -> tuple[float, float]:
    enc = sparse.csr_matrix((np.asarray(weights) > threshold).astype(np.float32))
    b_int = np.trunc(np.minimum(bias, -1.0))
    z = (np.asarray((x @ enc.T).todense()) + b_int[None, :]) > 0.5
    x_hat = (sparse.csr_matrix(z.astype(np.float32)) @ enc) > 0.5
    xb = sparse.csr_matrix(x, dtype=bool)
    false_one = (x_hat > xb).sum()
    missed = (xb > x_hat).sum()
    rec = float(alpha * false_one + (1 - alpha) * missed) / x.shape[0]
    if class_weights is None or labels is None:
        return rec, 0.0
    logits = z.astype(np.float32) @ (np.asarray(class_weights) > class_threshold).astype(np.float32).T
    return rec, float(np.mean(logits.argmax(1) != labels))


def select_thresholds(
    x: sparse.spmatrix,
    weights: np.ndarray,
    bias: np.ndarray,
    *,
    labels: np.ndarray | None = None,
    class_weights: np.ndarray | None = None,
    grid: Sequence[float] = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5),
    class_grid: Sequence[float] | None = None,
    alpha: float | None = None,
) -> tuple[float, float, float]:
    """The pair ``(threshold, class_threshold)`` whose binarised network errs least on ``x`` (held-out rows).

    The binarised network uses encoder ``W > threshold`` and classifier ``W_C > class_threshold``; its error is
    the weighted XOR reconstruction loss per row plus the classification error rate (the rule of
    the DiffNaps paper, App. A.2).

    Parameters
    ----------
    x
        Binary held-out rows (n x m).
    weights
        Continuous encoder weights (h x m).
    bias
        Hidden bias (h).
    labels
        Class codes of the rows (DiffNaps), or ``None``.
    class_weights
        Continuous classifier weights (K x h), or ``None``.
    grid
        Candidate encoder thresholds.
    class_grid
        Candidate classifier thresholds; ``None`` uses ``grid``.
    alpha
        Weight of a false 1; ``None``: the density of ``x``.

    Returns
    -------
    ``(threshold, class_threshold, error)``; ``class_threshold`` is ``nan`` without a classifier.
    """
    xs = sparse.csr_matrix(x, dtype=np.float32)
    if alpha is None:
        alpha = xs.nnz / max(1, xs.shape[0] * xs.shape[1])
    c_grid = [float("nan")] if class_weights is None else list(class_grid if class_grid is not None else grid)
    best = (float("nan"), float("nan"), float("inf"))
    for threshold in grid:
        for class_threshold in c_grid:
            rec, cls = _binary_net_error(xs, labels, weights, bias, class_weights, threshold, class_threshold, alpha)
            err = rec + cls
            if err < best[2]:
                best = (float(threshold), float(class_threshold), err)
    return best


def enriched_features(
    x: sparse.spmatrix, labels: np.ndarray, n_classes: int, *, level: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Features present significantly more often in some class than outside it (one-sided, Bonferroni).

    For every feature ``j`` and class ``k`` the two-proportion z-score of ``P(x_j = 1 | k)`` against
    ``P(x_j = 1 | not k)`` (pooled standard error); a feature is kept when its largest score over
    the classes exceeds the one-sided normal quantile of ``level / (m K)``.

    Parameters
    ----------
    x
        Binary data (n x m).
    labels
        Class codes 0..K-1 of the rows.
    n_classes
        K.
    level
        Family-wise error level of the m K one-sided tests.

    Returns
    -------
    keep
        Sorted indices of the kept features.
    z
        The largest z-score of every feature over the classes (m,).
    """
    from scipy.stats import norm

    xs = sparse.csr_matrix(x, dtype=np.float32)
    n, m = xs.shape
    labels = np.asarray(labels)
    onehot = sparse.csr_matrix((np.ones(n, dtype=np.float32), (labels, np.arange(n))), shape=(n_classes, n))
    counts = np.asarray((onehot @ xs).todense(), dtype=np.float64)  # K x m
    n_k = np.bincount(labels, minlength=n_classes).astype(np.float64)[:, None]
    total = counts.sum(0, keepdims=True)
    n_rest = n - n_k
    with np.errstate(divide="ignore", invalid="ignore"):
        p_in = counts / n_k
        p_out = (total - counts) / n_rest
        pooled = total / n
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n_k + 1.0 / n_rest))
        z = np.where(se > 0, (p_in - p_out) / se, 0.0)
    z = np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0).max(0)
    critical = norm.isf(level / max(1, m * n_classes))
    return np.flatnonzero(z > critical), z

"""The coverage-specificity AUC of class-specific pattern sets (DiffNaps paper, arXiv 2312.04311).

For a specificity level ``s`` in 0, 0.05, ..., 1 and each class ``k``, keep the patterns of ``k``
with P(k | p) > s that are not spurious (P(k | p) > 1/K + 0.1); the coverage of ``k`` is the
fraction of its rows that hold any kept pattern fully. The curve averages the coverage over classes,
and the AUC is the mean of the curve over the 21 levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import sparse

__all__ = ["class_soft_f1", "coverage_specificity_auc", "pattern_set_summary"]

GRID = np.round(np.linspace(0.0, 1.0, 21), 10)


def _containment(x: Any, patterns: Sequence[Iterable[int]]) -> np.ndarray:
    """Bool (n x P): row i holds every item of pattern p (one sparse product)."""
    xs = sparse.csr_matrix(x, dtype=np.float32)
    cols = [np.unique(np.asarray(list(p), dtype=np.int64)) for p in patterns]
    if not cols:
        return np.zeros((xs.shape[0], 0), dtype=bool)
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in cols])])
    member = sparse.csc_matrix(
        (np.ones(int(indptr[-1]), dtype=np.float32), np.concatenate(cols), indptr), shape=(xs.shape[1], len(cols))
    )
    counts = (xs @ member).toarray()
    sizes = np.diff(indptr)
    return counts >= sizes[None, :] - 0.5


def _check(x: Any, labels: Any) -> tuple[Any, np.ndarray]:
    labels = np.asarray(labels).astype(str)
    if labels.ndim != 1 or labels.shape[0] != x.shape[0]:
        msg = f"labels must have one entry per row of x ({x.shape[0]}), got shape {labels.shape}."
        raise ValueError(msg)
    return x, labels


def _per_class(
    x: Any, labels: np.ndarray, patterns: Mapping[str, Sequence[Iterable[int]]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per class: containment (n x P_k) and P(k | p) for each pattern of the class."""
    out = {}
    for k, pats in patterns.items():
        c = _containment(x, list(pats))
        in_k = labels == str(k)
        supp = c.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            prec = np.where(supp > 0, c[in_k].sum(0) / np.maximum(supp, 1), 0.0)
        out[str(k)] = (c, prec)
    return out


def coverage_specificity_auc(
    x: Any, labels: Any, patterns: Mapping[str, Sequence[Iterable[int]]], *, return_curve: bool = False
) -> float | tuple[float, np.ndarray]:
    """Area under the coverage-specificity curve of class-specific patterns :cite:p:`diffnaps`.

    Parameters
    ----------
    x
        Binary data (n x m), dense or sparse.
    labels
        Class of each row (n).
    patterns
        ``{class: [pattern, ...]}``, each pattern an iterable of column indices of ``x``. Every class
        in ``labels`` counts in the average; a class without patterns covers nothing.
    return_curve
        Also return the curve: mean coverage at each of the 21 specificity levels.

    Returns
    -------
    The AUC in [0, 1] (and the curve when ``return_curve``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]])
    >>> coverage_specificity_auc(x, ["a", "a", "b", "b"], {"a": [[0, 1]], "b": [[2]]})
    0.9523809523809523
    """
    x, labels = _check(x, labels)
    classes = np.unique(labels)
    unknown = set(map(str, patterns)) - set(classes)
    if unknown:
        msg = f"patterns has classes {sorted(unknown)} that do not occur in labels ({list(classes)})."
        raise ValueError(msg)
    n_classes = len(classes)
    per = _per_class(x, labels, patterns)
    curve = np.zeros(len(GRID))
    for k in classes:
        if k not in per or per[k][0].shape[1] == 0:
            continue
        c, prec = per[k]
        in_k = labels == k
        for i, s in enumerate(GRID):
            keep = (prec > s) & (prec > 1.0 / n_classes + 0.1)
            if keep.any():
                curve[i] += c[in_k][:, keep].any(axis=1).mean()
    curve /= n_classes
    auc = float(curve.mean())
    return (auc, curve) if return_curve else auc


def pattern_set_summary(x: Any, labels: Any, patterns: Mapping[str, Sequence[Iterable[int]]]) -> dict[str, float]:
    """Number of patterns, mean length and mean log-odds ln(P(p | k) / P(p | not k)) of a class-specific set.

    Parameters
    ----------
    x
        Binary data (n x m).
    labels
        Class of each row.
    patterns
        ``{class: [pattern, ...]}`` with column indices of ``x``.

    Returns
    -------
    ``{"n_patterns", "mean_length", "mean_log_odds"}``; patterns with a zero support inside or outside
    their class are skipped in the log-odds mean (``nan`` when none is left).
    """
    x, labels = _check(x, labels)
    lengths, log_odds = [], []
    for k, pats in patterns.items():
        pats = [list(p) for p in pats]
        lengths += [len(set(p)) for p in pats]
        c = _containment(x, pats)
        in_k = labels == str(k)
        if c.shape[1] == 0 or in_k.all() or not in_k.any():
            continue
        p_in, p_out = c[in_k].mean(0), c[~in_k].mean(0)
        ok = (p_in > 0) & (p_out > 0)
        log_odds += list(np.log(p_in[ok] / p_out[ok]))
    return {
        "n_patterns": float(len(lengths)),
        "mean_length": float(np.mean(lengths)) if lengths else float("nan"),
        "mean_log_odds": float(np.mean(log_odds)) if log_odds else float("nan"),
    }


def class_soft_f1(
    found: Mapping[str, Sequence[Iterable[Any]]], planted: Mapping[str, Sequence[Iterable[Any]]]
) -> dict[str, float]:
    """Soft precision, recall and F1 per class, averaged over the planted classes (the DiffNaps protocol).

    Each class's found patterns are scored against that class's planted patterns with
    :func:`~fischer_sc.metrics.soft_precision_recall_f1`; a class with no found pattern scores 0, so a
    pattern assigned to the wrong class costs recall in its true class and precision in the other.

    Parameters
    ----------
    found
        ``{class: [pattern, ...]}`` found by a method (features as indices or names).
    planted
        ``{class: [pattern, ...]}``, the ground truth, in the same feature space.

    Returns
    -------
    ``{"precision", "recall", "f1"}``, each the mean over the classes of ``planted``.
    """
    from ._patterns import soft_precision_recall_f1

    scores = np.zeros((len(planted), 3))
    for i, (k, truth) in enumerate(planted.items()):
        mine = list(found.get(k, []))
        if mine:
            scores[i] = soft_precision_recall_f1(mine, truth)
    mean = scores.mean(axis=0) if len(planted) else np.zeros(3)
    return {"precision": float(mean[0]), "recall": float(mean[1]), "f1": float(mean[2])}

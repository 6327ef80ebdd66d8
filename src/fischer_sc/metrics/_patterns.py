"""Soft precision, recall and F1 between two pattern sets (Jaccard-matched), shared by Premise and DiffNaps.

A pattern is a set of feature indices or names. Each found pattern is credited with its best Jaccard
match among the planted ones (precision) and each planted pattern with its best match among the found
ones (recall), as in the DiffNaps paper (arXiv 2312.04311, App. A.4/A.5).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np

__all__ = ["jaccard_matrix", "soft_precision_recall_f1"]


def _as_sets(patterns: Iterable[Iterable[Hashable]], name: str) -> list[frozenset]:
    if isinstance(patterns, (str, bytes)):
        msg = f"`{name}` must be a list of patterns (each an iterable of features), not a string."
        raise TypeError(msg)
    out = []
    for i, p in enumerate(patterns):
        if isinstance(p, (str, bytes)):
            msg = (
                f"`{name}[{i}]` is the string {p!r}; a pattern is an iterable of features, "
                f"wrap single-feature patterns as [{p!r}]."
            )
            raise TypeError(msg)
        s = frozenset(p)
        if not s:
            msg = f"`{name}[{i}]` is an empty pattern; drop it or give at least one feature."
            raise ValueError(msg)
        out.append(s)
    return out


def jaccard_matrix(found: Iterable[Iterable[Hashable]], planted: Iterable[Iterable[Hashable]]) -> np.ndarray:
    """Jaccard similarity between every found and every planted pattern.

    Parameters
    ----------
    found
        Patterns, each an iterable of feature indices or names.
    planted
        Patterns in the same feature space.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(found), len(planted))``; entry ``[i, j]`` is ``|f_i ∩ p_j| / |f_i ∪ p_j|``.
    """
    f = _as_sets(found, "found")
    p = _as_sets(planted, "planted")
    out = np.zeros((len(f), len(p)), dtype=np.float64)
    for i, a in enumerate(f):
        for j, b in enumerate(p):
            out[i, j] = len(a & b) / len(a | b)
    return out


def soft_precision_recall_f1(
    found: Iterable[Iterable[Hashable]], planted: Iterable[Iterable[Hashable]]
) -> tuple[float, float, float]:
    """Soft precision, recall and F1 of a found pattern set against the planted one.

    ``SoftPrec = mean over found of the best Jaccard to any planted pattern``,
    ``SoftRec = mean over planted of the best Jaccard to any found pattern``, and SoftF1 is their
    harmonic mean.

    Parameters
    ----------
    found
        Found patterns, each an iterable (set, list, tuple) of feature indices or names.
    planted
        Ground-truth patterns in the same feature space.

    Returns
    -------
    tuple of float
        ``(precision, recall, f1)``. An empty ``found`` has precision 0 (nothing found), an empty
        ``planted`` recall 0; F1 is 0 whenever precision + recall is 0.

    Examples
    --------
    >>> soft_precision_recall_f1([{1, 2}], [{1, 2}, {3}])
    (1.0, 0.5, 0.6666666666666666)
    """
    jac = jaccard_matrix(found, planted)
    n_found, n_planted = jac.shape
    if n_found == 0 or n_planted == 0:
        precision = 0.0 if n_found == 0 else float(jac.max(axis=1, initial=0.0).mean())
        recall = 0.0 if n_planted == 0 else float(jac.max(axis=0, initial=0.0).mean())
    else:
        precision = float(jac.max(axis=1).mean())
        recall = float(jac.max(axis=0).mean())
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return precision, recall, float(f1)

"""Quality of an inferred gene regulatory network against a known one: edge AUROC/AUPR, balanced accuracy, sparsity.

Networks are G x G arrays, row = regulator, column = target; an edge of the truth is a non-zero
entry (its sign is ignored). The diagonal (self-regulation) is left out by default, because
PHOENIX's decay term and most ground truths treat it differently.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata


def _pairs(scores: np.ndarray, truth: np.ndarray, exclude_diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(truth)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or s.shape != t.shape:
        msg = f"scores and truth must be square matrices of the same shape, got {s.shape} and {t.shape}."
        raise ValueError(msg)
    if not np.all(np.isfinite(s)):
        msg = "scores contains NaN or inf; pass finite edge scores."
        raise ValueError(msg)
    keep = ~np.eye(s.shape[0], dtype=bool) if exclude_diagonal else np.ones(s.shape, dtype=bool)
    return s[keep], t[keep] != 0


def edge_auroc(scores: np.ndarray, truth: np.ndarray, *, exclude_diagonal: bool = True) -> float:
    """Area under the ROC curve of edge scores against the true edges (ties count one half).

    Parameters
    ----------
    scores
        G x G edge scores, larger = more likely an edge (e.g. ``|E|`` or PHOENIX's per-target score).
    truth
        G x G true network; non-zero = edge.
    exclude_diagonal
        Leave out self-edges.

    Returns
    -------
    The AUROC, the probability that a random true edge outscores a random non-edge.
    """
    s, t = _pairs(scores, truth, exclude_diagonal)
    n_pos, n_neg = int(t.sum()), int((~t).sum())
    if n_pos == 0 or n_neg == 0:
        msg = "truth needs at least one edge and one non-edge (off the diagonal) for an AUROC."
        raise ValueError(msg)
    ranks = rankdata(s)  # average ranks: Mann-Whitney U with ties split
    return float((ranks[t].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def edge_aupr(scores: np.ndarray, truth: np.ndarray, *, exclude_diagonal: bool = True) -> float:
    """Area under the precision-recall curve as average precision, ``sum_k (R_k - R_{k-1}) P_k`` over thresholds.

    Parameters
    ----------
    scores
        G x G edge scores.
    truth
        G x G true network; non-zero = edge.
    exclude_diagonal
        Leave out self-edges.

    Returns
    -------
    The average precision (equal scores enter at one threshold, as in scikit-learn).
    """
    s, t = _pairs(scores, truth, exclude_diagonal)
    if not t.any():
        msg = "truth has no edge (off the diagonal); the AUPR is undefined."
        raise ValueError(msg)
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # the end of each run of equal scores
    tp = np.cumsum(t)[last]
    precision = tp / (last + 1)
    recall = tp / t.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def edge_balanced_accuracy(predicted: np.ndarray, truth: np.ndarray, *, exclude_diagonal: bool = True) -> float:
    """Balanced accuracy ``(TPR + TNR) / 2`` of a predicted edge set (non-zero entries) against the true edges.

    This is the edge-support definition: an edge is predicted when the network entry is non-zero,
    whatever its size (DASH's headline metric read this way).

    Parameters
    ----------
    predicted
        G x G predicted network; non-zero = predicted edge.
    truth
        G x G true network; non-zero = edge.
    exclude_diagonal
        Leave out self-edges.

    Returns
    -------
    The balanced accuracy in [0, 1]; 0.5 for predicting all or no edges.
    """
    p, t = _pairs(np.asarray(predicted, dtype=np.float64) != 0, truth, exclude_diagonal)
    p = p != 0
    if not t.any() or t.all():
        msg = "truth needs at least one edge and one non-edge (off the diagonal) for a balanced accuracy."
        raise ValueError(msg)
    tpr = (p & t).sum() / t.sum()
    tnr = (~p & ~t).sum() / (~t).sum()
    return float((tpr + tnr) / 2)


def top_edges(scores: np.ndarray, n_edges: int, *, exclude_diagonal: bool = True) -> np.ndarray:
    """A 0/1 network with the ``n_edges`` highest-scoring entries (ties: row-major order), for matched-sparsity comparisons."""
    s = np.abs(np.asarray(scores, dtype=np.float64)).copy()
    if exclude_diagonal:
        np.fill_diagonal(s, -np.inf)
    flat = np.argsort(-s.ravel(), kind="stable")[: int(n_edges)]
    out = np.zeros(s.size)
    out[flat] = 1.0
    return out.reshape(s.shape)


def sparsity(weights: np.ndarray | Sequence[np.ndarray]) -> float:
    """Fraction of zero entries of an array, or over several arrays together (e.g. a model's pruned layers)."""
    arrays = [np.asarray(weights)] if isinstance(weights, np.ndarray) else [np.asarray(w) for w in weights]
    total = sum(a.size for a in arrays)
    if total == 0:
        msg = "sparsity needs at least one entry."
        raise ValueError(msg)
    return float(sum((a == 0).sum() for a in arrays) / total)

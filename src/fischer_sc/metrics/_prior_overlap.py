"""How much of a prior an embedding still shows: label neighbourhood overlap, its area, kNN label accuracy.

Used to judge factor-out embeddings (the paper's evaluation, see docs/factor_out.md): the overlap with the data should
stay high (:func:`~fischer_sc.metrics.neighbourhood_overlap_auc` of X and Y), the overlap with the
prior should fall to chance (:func:`prior_overlap_auc`). Rankings are computed in row blocks:
O(n^2 log n) time, O(n * block) memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._checks import check_k, check_pair
from ._neighbours import _row_blocks, _sq_dists, neighbourhood_overlap_auc


def _codes(labels: np.ndarray | pd.Series, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n:
        msg = f"labels must be a 1-D array with one entry per point ({n}), got shape {labels.shape}."
        raise ValueError(msg)
    if pd.isna(labels).any():
        msg = "labels contain missing values."
        raise ValueError(msg)
    return pd.factorize(labels, sort=True)[0]


def label_neighbourhood_overlap(Y: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NOS_L(k) = (1 / n) sum_i ``|kNN_Y(i) ∩ L_i|`` / ``|L_i|`` for k = 1 .. n - 1, with L_i i's same-label points.

    Points alone in their label are left out of the mean. Random neighbourhoods give about
    k / n (the identity line); a layout that groups the labels rises far above it.

    Returns
    -------
    ``(ks, nos)``: the neighbourhood sizes 1 .. n - 1 and the score at each.
    """
    y, _ = check_pair(Y, Y)
    n = y.shape[0]
    codes = _codes(labels, n)
    sizes = np.bincount(codes)[codes] - 1
    keep = sizes > 0
    if not keep.any():
        msg = "no two points share a label; the label overlap is undefined."
        raise ValueError(msg)
    total = np.zeros(n - 1)
    for lo, hi in _row_blocks(n):
        order = np.argsort(_sq_dists(y, lo, hi), axis=1, kind="stable")[:, : n - 1]
        same = codes[order] == codes[lo:hi, None]
        frac = np.cumsum(same, axis=1) / np.maximum(sizes[lo:hi, None], 1)
        total += frac[keep[lo:hi]].sum(0)
    return np.arange(1, n), total / keep.sum()


def label_overlap_auc(Y: np.ndarray, labels: np.ndarray, *, normalize: bool = False) -> float:
    """Area between the label overlap curve and the identity line, (1 / n) sum_k (NOS_L(k) - k / n).

    About 0 when the embedding ignores the labels; the largest value, reached when every point's
    nearest neighbours are all its same-label points, is below 0.5 and depends on the label
    sizes (0.5 - m / 2n for equal groups of m points). With ``normalize=True`` the area is divided by that
    largest value, so 1 means perfectly separated labels whatever their sizes.
    """
    ks, nos = label_neighbourhood_overlap(Y, labels)
    n = ks.size + 1
    area = float(np.sum(nos - ks / n) / n)
    if not normalize:
        return area
    codes = _codes(labels, n)
    sizes = np.bincount(codes)[codes] - 1
    sizes = sizes[sizes > 0]
    # The ideal curve: the first |L_i| neighbours of i are its same-label points.
    ideal = np.minimum(ks[None, :], sizes[:, None]) / sizes[:, None]
    best = float(np.sum(ideal.mean(0) - ks / n) / n)
    return area / best


def prior_overlap_auc(Y: np.ndarray, prior: np.ndarray) -> float:
    """Area of the neighbourhood overlap of the embedding with a prior: labels (n,) or prior features (n, d).

    Labels use :func:`label_overlap_auc`; features the Euclidean neighbourhoods of the prior and
    :func:`~fischer_sc.metrics.neighbourhood_overlap_auc`. Low is what a factor-out method aims for.
    """
    prior = np.asarray(prior)
    if prior.ndim == 1 and (prior.dtype.kind in "biuOSU" or isinstance(prior, pd.Categorical)):
        return label_overlap_auc(Y, prior)
    return neighbourhood_overlap_auc(prior, Y)


def knn_label_accuracy(Y: np.ndarray, labels: np.ndarray, k: int = 15) -> float:
    """Leave-one-out accuracy of the k-nearest-neighbour majority vote in ``Y`` (ties: the smallest label).

    Reported for the prior labels (lower means the prior is factored out) and for labels the
    prior does not explain (higher means that structure survived).
    """
    from fischer_sc.core.embedding import knn

    y, _ = check_pair(Y, Y)
    n = y.shape[0]
    k = check_k(k, n)
    codes = _codes(labels, n)
    idx = knn(y, k, method="exact")[0]
    votes = np.zeros((n, codes.max() + 1), dtype=np.int64)
    np.add.at(votes, (np.repeat(np.arange(n), k), codes[idx].ravel()), 1)
    return float(np.mean(votes.argmax(1) == codes))

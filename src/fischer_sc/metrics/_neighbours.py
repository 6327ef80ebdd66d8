"""Neighbourhood measures: kNN recall, the neighbourhood-overlap curve and its area, trustworthiness.

Neighbour sets come from :func:`fischer_sc.core.embedding.knn` (exact for the sizes these measures are run
on). Measures that need full rankings work in row blocks: O(n^2) time, O(n * block) memory,
never an n x n matrix.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_k, check_pair

_BLOCK_BYTES = 32 * 2**20


def _knn_sets(x: np.ndarray, k: int) -> np.ndarray:
    from fischer_sc.core.embedding import knn

    return knn(x, k, method="exact")[0]


def _row_blocks(n: int):
    block = max(1, min(n, _BLOCK_BYTES // (8 * n)))
    for lo in range(0, n, block):
        yield lo, min(n, lo + block)


def _sq_dists(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Squared distances of rows lo..hi to all rows, with each row's own entry set to inf."""
    if x.shape[1] <= 3:  # embeddings: exact differences, no cancellation for close pairs
        d2 = ((x[lo:hi, None, :] - x[None, :, :]) ** 2).sum(-1)
    else:
        sq = np.einsum("ij,ij->i", x, x)
        d2 = np.maximum(sq[lo:hi, None] - 2.0 * x[lo:hi] @ x.T + sq[None, :], 0.0)
    d2[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
    return d2


def knn_recall(X: np.ndarray, Y: np.ndarray, k: int = 15) -> float:
    """Mean share of each point's ``k`` nearest neighbours in ``X`` that are among its ``k`` nearest in ``Y``.

    recall@k = (1 / (n k)) sum_i ``|kNN_X(i) ∩ kNN_Y(i)|``, itself excluded; 1 is perfect, k / (n - 1)
    is chance.
    """
    x, y = check_pair(X, Y)
    k = check_k(k, x.shape[0])
    nx, ny = _knn_sets(x, k), _knn_sets(y, k)
    hits = sum(np.intersect1d(a, b, assume_unique=True).size for a, b in zip(nx, ny, strict=True))
    return hits / (x.shape[0] * k)


def neighbourhood_overlap(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The neighbourhood overlap score NOS(k) = (1 / (n k)) sum_i ``|kNN_X(i) ∩ kNN_Y(i)|`` for k = 1 .. n - 1.

    Exact for every k: for each point, the neighbour at position r of the X ranking sits at
    position p_r of the Y ranking, and it is shared by the first k of both exactly when
    max(r, p_r) < k, so one cumulative count per point gives the whole curve.

    Returns
    -------
    ``(ks, nos)``: the neighbourhood sizes 1 .. n - 1 and the score at each.
    """
    x, y = check_pair(X, Y)
    n = x.shape[0]
    counts = np.zeros(n, dtype=np.int64)
    for lo, hi in _row_blocks(n):
        order_x = np.argsort(_sq_dists(x, lo, hi), axis=1, kind="stable")[:, : n - 1]
        order_y = np.argsort(_sq_dists(y, lo, hi), axis=1, kind="stable")[:, : n - 1]
        pos_y = np.full((hi - lo, n), n - 1)  # position of every point in i's Y ranking (self: last)
        np.put_along_axis(pos_y, order_y, np.arange(n - 1)[None, :].repeat(hi - lo, 0), axis=1)
        shared_from = np.maximum(np.arange(n - 1)[None, :], np.take_along_axis(pos_y, order_x, axis=1))
        counts += np.bincount(shared_from.ravel(), minlength=n)
    ks = np.arange(1, n)
    nos = np.cumsum(counts)[: n - 1] / (n * ks)
    return ks, nos


def neighbourhood_overlap_auc(X: np.ndarray, Y: np.ndarray) -> float:
    """Area between the NOS curve and the identity line, A = (1 / n) sum_k (NOS(k) - k / n).

    The identity line is the overlap of random neighbourhoods; A is at most about 0.5 (identical
    neighbourhoods) and about 0 for unrelated ones. The sum runs over k = 1 .. n - 1 (the paper's
    k = n term is 0 for every embedding).
    """
    ks, nos = neighbourhood_overlap(X, Y)
    n = ks.size + 1
    return float(np.sum(nos - ks / n) / n)


def trustworthiness(X: np.ndarray, Y: np.ndarray, k: int = 15) -> float:
    """Trustworthiness of the embedding ``Y`` of ``X`` (Venna and Kaski), as in scikit-learn.

    T(k) = 1 - 2 / (n k (2n - 3k - 1)) sum_i sum_{j in kNN_Y(i) not in kNN_X(i)} (r_X(i, j) - k),
    with r_X(i, j) the rank of j among i's neighbours in X. Penalises embedding neighbours that
    are far in the data. Requires k < n / 2.
    """
    x, y = check_pair(X, Y)
    n = x.shape[0]
    k = check_k(k, n)
    if k >= n / 2:
        msg = f"k={k} must be below n / 2 = {n / 2:g} for trustworthiness."
        raise ValueError(msg)
    ny = _knn_sets(y, k)
    penalty = 0
    for lo, hi in _row_blocks(n):
        order_x = np.argsort(_sq_dists(x, lo, hi), axis=1, kind="stable")
        rank_x = np.empty_like(order_x)
        np.put_along_axis(rank_x, order_x, np.arange(1, n + 1)[None, :].repeat(hi - lo, 0), axis=1)
        r = np.take_along_axis(rank_x, ny[lo:hi], axis=1) - k
        penalty += int(r[r > 0].sum())
    return 1.0 - 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)) * penalty


def continuity(X: np.ndarray, Y: np.ndarray, k: int = 15) -> float:
    """Continuity: trustworthiness with the roles swapped; penalises data neighbours torn apart."""
    return trustworthiness(Y, X, k)

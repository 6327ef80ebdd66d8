"""Distance and density measures: global and local distance correlations, density correlations, cluster sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats

from ._checks import check_k, check_method, check_pair


def _corr(a: np.ndarray, b: np.ndarray, method: str) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")  # constant input: correlation undefined
    if method == "spearman":
        return float(stats.spearmanr(a, b).statistic)
    return float(np.corrcoef(a, b)[0, 1])


def global_distance_correlation(
    X: np.ndarray, Y: np.ndarray, *, n_pairs: int = 1_000_000, method: str = "pearson", random_state: int = 0
) -> float:
    """Correlation of pairwise distances in ``X`` and ``Y`` over pairs i != j.

    All n (n - 1) / 2 pairs are used when there are at most ``n_pairs`` of them; otherwise
    ``n_pairs`` pairs drawn uniformly (with a fixed seed), so the cost stays O(n_pairs).
    """
    x, y = check_pair(X, Y)
    check_method(method)
    n = x.shape[0]
    if n * (n - 1) // 2 <= n_pairs:
        i, j = np.triu_indices(n, 1)
    else:
        rng = np.random.default_rng(random_state)
        i = rng.integers(0, n, n_pairs)
        j = (i + rng.integers(1, n, n_pairs)) % n  # uniform over j != i
    dx = np.linalg.norm(x[i] - x[j], axis=1)
    dy = np.linalg.norm(y[i] - y[j], axis=1)
    return _corr(dx, dy, method)


def local_distance_correlation(X: np.ndarray, Y: np.ndarray, k: int = 100) -> float:
    """Pearson correlation of d_X(i, j) and d_Y(i, j) over the pairs j in the k nearest neighbours of i in ``X``."""
    from fischer_sc.core.embedding import knn

    x, y = check_pair(X, Y)
    k = check_k(k, x.shape[0])
    idx, dx = knn(x, k, method="exact")
    dy = np.linalg.norm(y[:, None, :] - y[idx], axis=2)
    return _corr(dx.ravel(), dy.ravel(), "pearson")


def local_radius(X: np.ndarray, k: int = 10) -> np.ndarray:
    """Distance of every point to its ``k``-th nearest neighbour (itself excluded)."""
    from fischer_sc.core.embedding import knn

    x = np.asarray(X, dtype=np.float64)
    k = check_k(k, x.shape[0])
    return knn(x, k, method="exact")[1][:, k - 1]


def density_correlation(X: np.ndarray, Y: np.ndarray, k: int = 10, *, method: str = "pearson") -> float:
    """Correlation of log local radii, log r_k(i) in ``X`` against ``Y``: 1 when relative densities are kept.

    r_k(i) is the distance from i to its k-th nearest neighbour. Points with a zero radius
    (k or more duplicates) are left out, as their log is undefined.
    """
    x, y = check_pair(X, Y)
    check_method(method)
    rx, ry = local_radius(x, k), local_radius(y, k)
    ok = (rx > 0) & (ry > 0)
    return _corr(np.log(rx[ok]), np.log(ry[ok]), method)


def log_radius_correlation(X: np.ndarray, Y: np.ndarray, P: sparse.spmatrix) -> float:
    """DensMAP's density measure: Pearson correlation of log R_X(i) and log R_Y(i).

    R(i) = sum_j p_ij d_ij^2 / sum_j p_ij over the stored entries of the affinity matrix ``P``
    (n x n, sparse), with the same weights in the data and in the embedding.
    """
    x, y = check_pair(X, Y)
    p = sparse.coo_matrix(P)
    n = x.shape[0]
    if p.shape != (n, n):
        msg = f"P has shape {p.shape}; expected ({n}, {n}) for {n} points."
        raise ValueError(msg)
    weight = np.bincount(p.row, weights=p.data, minlength=n)
    if (weight <= 0).any():
        msg = f"row {int(np.argmax(weight <= 0))} of P has no positive weight; every point needs neighbours."
        raise ValueError(msg)
    rx = np.bincount(p.row, weights=p.data * ((x[p.row] - x[p.col]) ** 2).sum(1), minlength=n) / weight
    ry = np.bincount(p.row, weights=p.data * ((y[p.row] - y[p.col]) ** 2).sum(1), minlength=n) / weight
    ok = (rx > 0) & (ry > 0)
    return _corr(np.log(rx[ok]), np.log(ry[ok]), "pearson")


def cluster_size_ratios(X: np.ndarray, Y: np.ndarray, labels: np.ndarray) -> pd.Series:
    """Per cluster, how much the embedding shrinks or grows it, relative to the largest cluster.

    The radius of a cluster is the mean distance of its points to their centroid. The ratio
    radius_Y / radius_X of each cluster is divided by that of the cluster with the most points,
    so the embedding's overall scale cancels; a faithful embedding has every ratio 1. On data with
    clusters of different spread, t-SNE gives ratios far from 1; on data with clusters of
    different sizes, UMAP and t-SNE do.

    Returns
    -------
    The ratios, indexed by label, in the order of first appearance.
    """
    x, y = check_pair(X, Y)
    labels = np.asarray(labels)
    if labels.shape != (x.shape[0],):
        msg = f"labels has shape {labels.shape}; expected one label per point, ({x.shape[0]},)."
        raise ValueError(msg)
    names, first, inverse, sizes = np.unique(labels, return_index=True, return_inverse=True, return_counts=True)
    ratios = np.empty(names.size)
    for c in range(names.size):
        m = inverse == c
        rx = np.linalg.norm(x[m] - x[m].mean(0), axis=1).mean()
        ry = np.linalg.norm(y[m] - y[m].mean(0), axis=1).mean()
        ratios[c] = ry / rx if rx > 0 else np.nan
    ratios /= ratios[np.argmax(sizes)]
    order = np.argsort(first)
    return pd.Series(ratios[order], index=pd.Index(names[order], name="cluster"), name="size ratio")

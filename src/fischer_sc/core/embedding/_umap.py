"""The UMAP backend: umap-learn's fuzzy graph of given neighbours and its layout, as :func:`scanpy.tl.umap` calls them.

CONFETTI computes its own nearest neighbours (under its operator F); umap-learn only turns them
into fuzzy connectivities and lays them out.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse


def _umap_module():
    # umap's package import warns that the optional TensorFlow (ParametricUMAP) is missing.
    with warnings.catch_warnings(action="ignore", category=ImportWarning):
        from umap import umap_
    return umap_


def fuzzy_graph(indices: np.ndarray, distances: np.ndarray, n_neighbors: int, seed: int) -> sparse.csr_matrix:
    """UMAP's symmetric fuzzy connectivities of a kNN graph given as ``(indices, distances)`` (self excluded).

    The first ``n_neighbors - 1`` neighbours of each row are used, with the point itself in
    column 0 as umap-learn expects.
    """
    umap_ = _umap_module()
    n = indices.shape[0]
    knn_i = np.hstack([np.arange(n)[:, None], indices[:, : n_neighbors - 1]])
    knn_d = np.hstack([np.zeros((n, 1)), distances[:, : n_neighbors - 1]]).astype(np.float32)
    graph, _, _ = umap_.fuzzy_simplicial_set(
        np.empty((n, 0)), n_neighbors, np.random.RandomState(seed), "euclidean", knn_indices=knn_i, knn_dists=knn_d
    )
    return sparse.csr_matrix(graph)


def umap_layout(x: np.ndarray, graph: sparse.csr_matrix, seed: int, n_components: int = 2) -> np.ndarray:
    """umap-learn's layout of a fuzzy graph with scanpy's defaults (min_dist 0.5, spectral start)."""
    umap_ = _umap_module()
    a, b = umap_.find_ab_params(1.0, 0.5)
    n = x.shape[0]
    y, _ = umap_.simplicial_set_embedding(
        data=x,
        graph=graph.tocoo(),
        n_components=n_components,
        initial_alpha=1.0,
        a=a,
        b=b,
        gamma=1.0,
        negative_sample_rate=5,
        n_epochs=500 if n <= 10_000 else 200,
        init="spectral",
        random_state=np.random.RandomState(seed),
        metric="euclidean",
        metric_kwds={},
        densmap=False,
        densmap_kwds={},
        output_dens=False,
    )
    return np.asarray(y, dtype=np.float64)

"""fs.core.knn against brute force, and knn_from_graph against scanpy's graph."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scanpy as sc
from scipy import sparse
from scipy.spatial.distance import cdist

from fischer_sc.core import _knn, knn, knn_from_graph

RNG = np.random.default_rng(0)


def brute(x: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    d = cdist(x, x, metric="cosine" if metric == "cosine" else "euclidean")
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, axis=1)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize(("n", "k"), [(50, 1), (120, 10), (60, 59)])
def test_exact_matches_brute_force(metric, n, k):
    x = RNG.normal(size=(n, 7)).astype(np.float32)
    idx, dist = knn(x, k, method="exact", metric=metric)
    ref_idx, ref_dist = brute(x.astype(np.float64), k, metric)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(idx, ref_idx)
    assert idx.dtype == np.int64 and dist.dtype == np.float64


def test_block_boundaries_and_duplicates(monkeypatch):
    monkeypatch.setattr(_knn, "_BLOCK_BYTES", 8 * 103 * 7)  # blocks of 7 rows for 103 points
    x = RNG.normal(size=(103, 4))
    x[10] = x[20] = x[30]  # ties at distance 0 go to the lower index
    idx, dist = knn(x, 5, method="exact")
    ref_idx, ref_dist = brute(x, 5, "euclidean")
    np.testing.assert_allclose(dist, ref_dist, atol=1e-12)
    np.testing.assert_array_equal(idx, ref_idx)
    assert list(idx[20, :2]) == [10, 30] and (idx != np.arange(103)[:, None]).all()


def test_auto_is_exact_for_small_data():
    x = RNG.normal(size=(200, 5))
    np.testing.assert_array_equal(knn(x, 8)[0], knn(x, 8, method="exact")[0])


def test_knn_from_scanpy_graph():
    x = RNG.normal(size=(80, 6)).astype(np.float32)
    adata = ad.AnnData(x)
    sc.pp.neighbors(adata, n_neighbors=11, use_rep="X", transformer="sklearn")
    idx, dist = knn_from_graph(adata.obsp["distances"])
    ref_idx, ref_dist = brute(x.astype(np.float64), 10, "euclidean")
    assert idx.shape == (80, 10)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-5)
    assert knn_from_graph(adata.obsp["distances"], n_neighbors=4)[0].shape == (80, 4)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: knn(np.full((5, 2), np.nan), 2), r"X contains NaN"),
        (lambda: knn(np.zeros(5), 2), r"X must be a numeric 2-D array"),
        (lambda: knn(np.zeros((5, 2)), 5), r"n_neighbors=5 must be an integer in \[1, 4\]"),
        (lambda: knn(np.zeros((5, 2)), 2, method="annoy"), r"method='annoy' is not one of"),
        (lambda: knn(np.zeros((5, 2)), 2, method="exact", metric="manhattan"), r"metric='manhattan' has no exact"),
        (lambda: knn_from_graph(sparse.csr_matrix((3, 3))), r"row 0 of the distance graph has no neighbours"),
        (lambda: knn_from_graph(sparse.csr_matrix(np.ones((3, 3)) - np.eye(3)), 3), r"holds only 2 neighbours"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()

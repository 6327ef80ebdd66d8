"""fs.core.knn against brute force, and knn_from_graph against scanpy's graph."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scanpy as sc
from scipy import sparse
from scipy.spatial.distance import cdist

from fischer_sc.core.embedding import _knn, _rpforest, knn, knn_from_graph, knn_query
from fischer_sc.core.embedding._select import select_rows, select_rows_reference

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


@pytest.mark.parametrize("data", ["normal", "integer"])
def test_numpy_selection_equals_the_kernel(monkeypatch, data):
    """Below ``NUMPY_SELECT_MAX_N`` the candidates are selected in numpy: the same lists and distances, bit for bit.

    Integer coordinates make many equal distances, also at the m-th candidate, where ties must
    go to the lower index as in the kernel's heap.
    """
    monkeypatch.setattr(_knn, "_BLOCK_BYTES", 4 * 300 * 37)  # blocks of 37 rows
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 12)) if data == "normal" else rng.integers(0, 3, (300, 12)).astype(float)
    x[11] = x[12]
    queries = x[:50] + (rng.normal(size=(50, 12)) if data == "normal" else 0.0)
    out = {}
    for name, limit in (("numpy", 10**9), ("kernel", 0)):
        monkeypatch.setattr(_knn, "NUMPY_SELECT_MAX_N", limit)
        out[name] = knn(x, 25, method="exact"), knn_query(queries, x, 30)
    for (a, b), (c, d) in zip(out["numpy"], out["kernel"], strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    ref_idx, _ = brute(x, 25, "euclidean")
    if data == "normal":
        np.testing.assert_array_equal(out["numpy"][0][0], ref_idx)


@pytest.mark.parametrize("data", ["normal", "integer"])
def test_low_dimensional_query_uses_the_tree_with_the_same_result(monkeypatch, data):
    """2-D references go through the k-d tree: the lists of a brute-force (distance, index) sort.

    Integer coordinates give many ties, also across the tree's candidate margin, where rows fall
    back to a scan over every reference point.
    """
    rng = np.random.default_rng(11)
    x = rng.normal(size=(500, 2)) if data == "normal" else rng.integers(0, 6, (500, 2)).astype(float)
    queries = np.vstack([x[:40], rng.normal(size=(20, 2)) * 2])
    idx, dist = knn_query(queries, x, 30)
    d = np.sqrt(((queries[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    ref = np.array([np.lexsort((np.arange(len(x)), row))[:30] for row in d])
    np.testing.assert_array_equal(idx, ref)
    np.testing.assert_allclose(dist, np.take_along_axis(d, ref, axis=1), rtol=1e-12, atol=1e-12)
    # the same as the blocked scan that higher-dimensional references use (whose centred
    # differences order exact ties by last-ulp noise rather than by index: distances only there)
    monkeypatch.setattr(_knn, "KDTREE_MAX_DIM", 0)
    scan_idx, scan_dist = knn_query(queries, x, 30)
    np.testing.assert_allclose(dist, scan_dist, rtol=1e-12, atol=1e-12)
    if data == "normal":
        np.testing.assert_array_equal(idx, scan_idx)


def test_auto_is_exact_for_small_data():
    x = RNG.normal(size=(200, 5))
    np.testing.assert_array_equal(knn(x, 8)[0], knn(x, 8, method="exact")[0])


def test_knn_from_scanpy_graph():
    x = RNG.normal(size=(80, 6)).astype(np.float32)
    adata = ad.AnnData(x)
    sc.pp.neighbors(adata, n_neighbors=11, use_rep="X", transformer="sklearn")
    idx, dist = knn_from_graph(adata.obsp["distances"])
    ref_idx, ref_dist = brute(x.astype(np.float64), 10, "euclidean")
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-5)
    idx4, dist4 = knn_from_graph(adata.obsp["distances"], n_neighbors=4)
    np.testing.assert_array_equal(idx4, ref_idx[:, :4])
    np.testing.assert_allclose(dist4, ref_dist[:, :4], rtol=1e-5)


@pytest.mark.parametrize("k", [1, 6, 40])
def test_query_matches_brute_force(monkeypatch, k):
    monkeypatch.setattr(_knn, "_BLOCK_BYTES", 4 * 40 * 9)  # blocks of 9 query rows
    queries, reference = RNG.normal(size=(31, 5)), RNG.normal(size=(40, 5)) + 0.5
    reference[7] = reference[3]  # a tie: the lower index comes first
    idx, dist = knn_query(queries, reference, k)
    d = cdist(queries, reference)
    ref_idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, np.take_along_axis(d, ref_idx, axis=1), rtol=1e-12)
    with pytest.raises(ValueError, match=r"n_neighbors=41 must be an integer in \[1, 40\]"):
        knn_query(queries, reference, 41)


def test_row_selection_matches_a_lexicographic_sort():
    """The heap selection keeps the k smallest per row, ties (many, and at the boundary) to the lower column."""
    values = np.round(RNG.random((50, 30)) * 5)  # values 0..5: heavy ties
    values[:, 4] = np.inf
    for k in (1, 5, 29):
        idx, d = np.empty((50, k), dtype=np.int64), np.empty((50, k))
        select_rows(values, k, idx, d)
        ref_idx, ref_d = select_rows_reference(values, k)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_array_equal(d, ref_d)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: knn(np.full((5, 2), np.nan), 2), r"X contains NaN"),
        (lambda: knn(np.zeros(5), 2), r"X must be a numeric 2-D array"),
        (lambda: knn(np.zeros((5, 2)), 5), r"n_neighbors=5 must be an integer in \[1, 4\]"),
        (lambda: knn(np.zeros((5, 2)), 2, method="annoy"), r"method='annoy' is not one of"),
        (
            lambda: knn(np.zeros((5, 2)), 2, method="exact", metric="manhattan"),
            r"metric='manhattan' is not supported by method='exact'",
        ),
        (lambda: knn_from_graph(sparse.csr_matrix((3, 3))), r"row 0 of the distance graph has no neighbours"),
        (lambda: knn_from_graph(sparse.csr_matrix(np.ones((3, 3)) - np.eye(3)), 3), r"holds only 2 neighbours"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- random-projection forest ----------------------------------------------------------------


def blobs(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, dim)) * 4
    return (centres[rng.integers(0, 8, n)] + rng.normal(size=(n, dim))).astype(np.float32)


def test_rp_tree_partitions_into_small_leaves():
    x = blobs(900, 6)
    perm, start, stop = np.empty(900, dtype=np.int64), np.empty(900, dtype=np.int64), np.empty(900, dtype=np.int64)
    n_leaves = _rpforest.rp_tree(x, 3, 50, perm, start, stop)
    sizes = stop[:n_leaves] - start[:n_leaves]
    assert sizes.max() <= 50 and sizes.sum() == 900 and n_leaves >= 900 // 50
    np.testing.assert_array_equal(np.sort(perm), np.arange(900))
    # another seed draws other hyperplanes
    other = np.empty_like(perm)
    _rpforest.rp_tree(x, 4, 50, other, start.copy(), stop.copy())
    assert (other != perm).any()


def test_leaf_join_keeps_the_nearest_within_each_leaf():
    x = blobs(400, 5)
    k = 6
    perm, start, stop = np.empty(400, dtype=np.int64), np.empty(400, dtype=np.int64), np.empty(400, dtype=np.int64)
    n_leaves = _rpforest.rp_tree(x, 1, 40, perm, start, stop)
    heap_d, heap_j = np.full((400, k), np.inf), np.full((400, k), -1, dtype=np.int64)
    _rpforest.leaf_join(x, perm, start, stop, n_leaves, heap_d, heap_j)
    x64 = x.astype(np.float64)
    for leaf in range(n_leaves):
        members = perm[start[leaf] : stop[leaf]]
        d2 = ((x64[members, None] - x64[None, members]) ** 2).sum(-1)
        np.fill_diagonal(d2, np.inf)
        for row, p in enumerate(members):
            expected = np.sort(d2[row])[: min(k, len(members) - 1)]
            got = np.sort(heap_d[p][np.isfinite(heap_d[p])])
            np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_neighbour_join_and_row_sort_match_numpy():
    x = blobs(300, 4)
    k, width = 5, 3
    rng = np.random.default_rng(1)
    start = np.array([rng.choice(np.delete(np.arange(300), i), k, replace=False) for i in range(300)])
    x64 = x.astype(np.float64)
    heap_d = ((x64[:, None] - x64[start]) ** 2).sum(-1)
    heap_j = start.copy()
    _rpforest.sort_rows_descending(heap_d, heap_j)
    ref = np.lexsort((start, ((x64[:, None] - x64[start]) ** 2).sum(-1)), axis=-1)
    np.testing.assert_array_equal(heap_j[:, ::-1], np.take_along_axis(start, ref, 1))
    nearest = np.ascontiguousarray(heap_j[:, ::-1])
    _rpforest.neighbour_join(x, nearest, width, heap_d, heap_j)
    for i in range(300):
        pool = set(start[i]) | {q for j in nearest[i, :width] for q in nearest[j, :width]} - {i}
        pool = np.array(sorted(pool))
        d2 = ((x64[pool] - x64[i]) ** 2).sum(-1)
        best = pool[np.lexsort((pool, d2))[:k]]
        assert set(heap_j[i]) == set(best)


def test_forest_finds_most_neighbours_and_is_deterministic():
    x = blobs(3000, 12)
    ref_idx, ref_dist = brute(x.astype(np.float64), 15, "euclidean")
    idx, dist = knn(x, 15, method="rpforest", random_state=0)
    recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(idx, ref_idx, strict=True)])
    assert recall > 0.97
    # distances are those of the returned neighbours, rows sorted, no self, no repeats
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(dist, np.sqrt(((x64[:, None] - x64[idx]) ** 2).sum(-1)), rtol=1e-6)
    assert (np.diff(dist, axis=1) >= 0).all() and (idx != np.arange(3000)[:, None]).all()
    assert all(len(set(row)) == 15 for row in idx)
    again = knn(x, 15, method="rpforest", random_state=0, n_jobs=1)  # any thread count, same lists
    np.testing.assert_array_equal(again[0], idx)
    np.testing.assert_array_equal(again[1], dist)


def test_forest_completes_empty_rows_exactly():
    x = blobs(200, 3)
    idx, dist = _rpforest.rp_forest_knn(x, 7, n_trees=0, n_joins=0)
    ref_idx, ref_dist = brute(x.astype(np.float64), 7, "euclidean")
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-6)


def test_auto_takes_the_forest_for_large_data(monkeypatch):
    monkeypatch.setattr(_knn, "EXACT_MAX_COST", 10)
    x = blobs(500, 4)
    np.testing.assert_array_equal(knn(x, 5)[0], knn(x, 5, method="rpforest")[0])
    cos = knn(x, 5, method="rpforest", metric="cosine")
    ref_idx, ref_dist = brute(x.astype(np.float64), 5, "cosine")
    assert np.mean(cos[0] == ref_idx) > 0.95
    np.testing.assert_allclose(cos[1][cos[0] == ref_idx], ref_dist[cos[0] == ref_idx], rtol=1e-5, atol=1e-7)

"""Priors: construction and its checks, blocks of D^Z, kNN under D^Z, perplexity-calibrated P'."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import cdist

from fischer_sc.core.embedding import Prior, prior_affinities, prior_from_array
from fischer_sc.core.embedding._priors import prior_knn


def test_blocks_of_each_kind():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(20, 3))
    dz = cdist(z, z)
    np.testing.assert_allclose(Prior("features", z, "t").block(3, 9), dz[3:9], atol=1e-10)
    np.testing.assert_allclose(Prior("dense", dz, "t").block(3, 9), dz[3:9])
    codes = rng.integers(3, size=20)
    np.testing.assert_array_equal(Prior("labels", codes, "t").block(0, 20), codes[:, None] != codes[None, :])
    assert Prior("labels", codes, "t").max_distance(rng) == 1.0
    assert Prior("labels", np.zeros(5, dtype=int), "t").max_distance(rng) == 0.0
    assert Prior("dense", dz, "t").max_distance(rng) == pytest.approx(dz.max())
    graph = sparse.csr_matrix(np.triu(dz, 1) * (dz < 1.5))
    block = Prior("graph", graph, "t").block(0, 20)
    stored = graph.toarray() > 0
    np.testing.assert_allclose(block[stored], dz[stored])
    assert np.isinf(block[~stored & ~np.eye(20, dtype=bool)]).all() and not np.diag(block).any()


def test_prior_from_array_picks_the_kind():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(12, 2))
    dz = cdist(z, z)
    dense = prior_from_array(dz, 12)
    assert dense.kind == "dense" and dense.description == "user-supplied (n, n) distance matrix"
    np.testing.assert_array_equal(dense.values, dz)
    feats = prior_from_array(z, 12)
    assert feats.kind == "features" and feats.description.endswith("(2 dimensions)")
    square_features = rng.normal(size=(12, 12))  # (n, n) but not a distance matrix: features
    assert prior_from_array(square_features, 12).kind == "features"
    numbers = prior_from_array(np.arange(12.0), 12, "t")
    assert numbers.kind == "features" and numbers.values.shape == (12, 1) and numbers.description == "t"
    graph = prior_from_array(sparse.coo_matrix(dz), 12)
    assert graph.kind == "graph" and sparse.isspmatrix_csr(graph.values)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: prior_from_array(np.zeros(10), 12), ValueError, r"prior has 10 rows for 12 observations"),
        (lambda: prior_from_array(np.zeros((12, 2, 2)), 12), ValueError, r"got shape \(12, 2, 2\)"),
        (lambda: prior_from_array(sparse.eye(5), 12), ValueError, r"\(12, 12\) distance graph, got \(5, 5\)"),
        (lambda: prior_from_array(-sparse.eye(12), 12, what="g"), ValueError, r"g has negative entries"),
        (lambda: Prior("labels", np.array([0.5, 1.0]), "t"), TypeError, r"integer codes"),
        (lambda: Prior("dense", np.zeros((3, 4)), "t"), ValueError, r"must have shape \(n, n\)"),
        (lambda: Prior("graph", np.zeros((3, 3)), "t"), TypeError, r"sparse"),
        (lambda: Prior("labelz", np.zeros(3, dtype=int), "t"), ValueError, r"kind='labelz' is not one of"),
    ],
)
def test_bad_priors_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("kind", ["features", "dense", "graph"])
def test_prior_knn_and_affinities(kind):
    rng = np.random.default_rng(2)
    z = rng.normal(size=(50, 2))
    dz = cdist(z, z)
    values = {"features": z, "dense": dz, "graph": sparse.csr_matrix(dz)}[kind]
    prior = Prior(kind, values, "t")
    idx, dist = prior_knn(prior, 6)
    d = dz.copy()
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(dist, np.sort(d, axis=1)[:, :6], atol=1e-10)
    np.testing.assert_array_equal(idx, np.argsort(d, axis=1, kind="stable")[:, :6])
    P, used = prior_affinities(prior, 5.0)
    assert used == 5.0
    assert P.sum() == pytest.approx(1.0)
    assert (abs(P - P.T) > 1e-15).nnz == 0
    # P' lives on the 15 nearest prior neighbours: every stored pair is among them (one way or the other)
    near = np.zeros((50, 50), dtype=bool)
    near[np.repeat(np.arange(50), 15), np.argsort(d, axis=1, kind="stable")[:, :15].ravel()] = True
    rows, cols = P.nonzero()
    assert (near[rows, cols] | near[cols, rows]).all()


def test_prior_affinities_lower_the_perplexity_of_a_sparse_graph():
    """A graph with 4 neighbours per point allows perplexity 4/3, not the 5 asked for."""
    rng = np.random.default_rng(4)
    z = rng.normal(size=(30, 2))
    dz = cdist(z, z)
    np.fill_diagonal(dz, np.inf)
    keep = np.argsort(dz, axis=1)[:, :4]
    g = sparse.csr_matrix((np.take_along_axis(dz, keep, 1).ravel(), (np.repeat(np.arange(30), 4), keep.ravel())))
    _, used = prior_affinities(Prior("graph", g, "t"), 5.0)
    assert used == pytest.approx(4 / 3)
    with pytest.raises(ValueError, match="no neighbour order"):
        prior_knn(Prior("labels", np.zeros(4, dtype=int), "t"), 2)

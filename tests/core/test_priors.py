"""Prior distances and affinities: label P' by hand, blocks of D^Z, perplexity-calibrated P'."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import cdist

from fischer_sc.core.embedding._priors import Prior, label_prior_affinities, prior_affinities, prior_knn


def test_label_prior_small_groups_by_hand():
    codes = np.array([0, 0, 0, 1, 1])
    P = label_prior_affinities(codes, 10, np.random.default_rng(0)).toarray()
    # p_{j|i} = 1/2 in group 0, 1 in group 1; symmetrised (p_j|i + p_i|j) / 2n, then sum 1
    cond = np.zeros((5, 5))
    cond[:3, :3] = 0.5
    cond[3:, 3:] = 1.0
    np.fill_diagonal(cond, 0)
    expected = (cond + cond.T) / 10
    np.testing.assert_allclose(P, expected / expected.sum())
    assert P.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("group", [30, 400])
def test_label_prior_large_group_samples_same_label(group):
    codes = np.repeat([0, 1], group)
    P = label_prior_affinities(codes, 5, np.random.default_rng(0))
    assert (abs(P - P.T) > 1e-15).nnz == 0
    assert P.sum() == pytest.approx(1.0)
    dense = P.toarray()
    assert dense[:group, group:].sum() == 0 and np.diag(dense).sum() == 0
    assert (dense > 0).sum(1).min() >= 5
    # every point draws 5 distinct partners: the conditional rows hold mass 1 / (2n) each
    np.testing.assert_allclose(dense.sum(1).mean(), 1 / (2 * group))


def test_label_prior_without_pairs_raises():
    with pytest.raises(ValueError, match="no two points"):
        label_prior_affinities(np.arange(4), 3, np.random.default_rng(0))


def test_blocks_of_each_kind():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(20, 3))
    dz = cdist(z, z)
    np.testing.assert_allclose(Prior("features", z, "t").block(3, 9), dz[3:9], atol=1e-10)
    np.testing.assert_allclose(Prior("dense", dz, "t").block(3, 9), dz[3:9])
    codes = rng.integers(3, size=20)
    np.testing.assert_array_equal(Prior("labels", codes, "t").block(0, 20), codes[:, None] != codes[None, :])
    assert Prior("labels", codes, "t").max_distance(rng) == 1.0
    assert Prior("dense", dz, "t").max_distance(rng) == pytest.approx(dz.max())


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
    P, used = prior_affinities(prior, 5.0)
    assert used == 5.0
    assert P.sum() == pytest.approx(1.0)
    assert (abs(P - P.T) > 1e-15).nnz == 0

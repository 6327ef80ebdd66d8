"""CONFETTI: F is a metric, the exact label-split and blocked kNN equal the brute-force kNN of F."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import cdist

from fischer_sc.core.embedding._confetti import (
    confetti_knn,
    confetti_knn_blocks,
    confetti_operator,
    estimate_max_distance,
)
from fischer_sc.core.embedding._priors import Prior


def _brute(x, dz, lam, k):
    dx = cdist(x, x)
    f = confetti_operator(dx / dx.max(), dz / dz.max(), lam)
    np.fill_diagonal(f, np.inf)
    order = np.argsort(f, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(f, order, axis=1)


@pytest.mark.parametrize("lam", [0.5, 1.0, 2.0])
def test_operator_is_a_metric(lam):
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    dx, dz = cdist(x, x), cdist(z, z)
    f = confetti_operator(dx / dx.max(), dz / dz.max(), lam)
    np.fill_diagonal(f, 0.0)
    assert np.allclose(f, f.T)
    assert (f[~np.eye(40, dtype=bool)] > 0).all()
    # f_ij <= f_ik + f_kj for all triples
    assert (f[:, None, :] <= f[:, :, None] + f[None, :, :] + 1e-12).all()


@pytest.mark.parametrize("n_labels", [1, 2, 5])
def test_label_split_knn_is_exact(n_labels):
    rng = np.random.default_rng(n_labels)
    x = rng.normal(size=(120, 4))
    codes = rng.integers(n_labels, size=120)
    codes[0] = 0
    codes[1] = n_labels - 1
    k = 10
    idx, dist = confetti_knn(x, Prior("labels", codes, "test"), k, 1.0, np.random.default_rng(0))
    dz = (codes[:, None] != codes[None, :]).astype(float)
    if n_labels == 1:
        dz = dz + 0.0
        dx = cdist(x, x)
        f = dx / dx.max() + 1.0
        np.fill_diagonal(f, np.inf)
        b_idx = np.argsort(f, axis=1, kind="stable")[:, :k]
        b_dist = np.take_along_axis(f, b_idx, axis=1)
    else:
        b_idx, b_dist = _brute(x, dz, 1.0, k)
    np.testing.assert_allclose(dist, b_dist, rtol=1e-10)
    np.testing.assert_array_equal(idx, b_idx)


def test_label_split_with_tiny_group():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    codes = np.zeros(50, dtype=int)
    codes[:3] = 1  # a group smaller than k
    idx, dist = confetti_knn(x, Prior("labels", codes, "t"), 8, 1.0, np.random.default_rng(0))
    b_idx, b_dist = _brute(x, (codes[:, None] != codes[None, :]).astype(float), 1.0, 8)
    np.testing.assert_allclose(dist, b_dist, rtol=1e-10)


@pytest.mark.parametrize("kind", ["features", "dense", "graph"])
def test_blocked_knn_is_exact(kind):
    rng = np.random.default_rng(2)
    x, z = rng.normal(size=(90, 5)), rng.normal(size=(90, 2))
    dz = cdist(z, z)
    if kind == "features":
        prior = Prior("features", z, "t")
    elif kind == "dense":
        prior = Prior("dense", dz, "t")
    else:
        prior = Prior("graph", sparse.csr_matrix(dz), "t")  # every pair stored
    dx = cdist(x, x)
    idx, dist = confetti_knn_blocks(x, prior, 7, 1.0, dx.max(), dz.max())
    b_idx, b_dist = _brute(x, dz, 1.0, 7)
    np.testing.assert_allclose(dist, b_dist, rtol=1e-9)
    np.testing.assert_array_equal(idx, b_idx)


def test_graph_missing_pairs_are_farthest():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 2))
    g = sparse.random(30, 30, density=0.2, random_state=3, format="csr")
    g = (g + g.T).tocsr()
    prior = Prior("graph", g, "t")
    block = prior.block(0, 30)
    dense = g.toarray()
    missing = (dense == 0) & ~np.eye(30, dtype=bool)
    assert np.isinf(block[missing]).all()
    idx, dist = confetti_knn_blocks(x, prior, 5, 1.0, cdist(x, x).max(), g.data.max())
    # brute force with every missing pair at the largest scaled prior distance, 1
    dz = np.where(missing, g.data.max(), dense)
    b_idx, b_dist = _brute(x, dz, 1.0, 5)
    np.testing.assert_array_equal(idx, b_idx)
    np.testing.assert_allclose(dist, b_dist, rtol=1e-9)


def test_max_distance_estimate():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 3))
    assert estimate_max_distance(x, rng) == pytest.approx(cdist(x, x).max())
    big = rng.normal(size=(3000, 3))
    est = estimate_max_distance(big, rng, n_pairs=1000)
    true = max(cdist(big[i : i + 500], big).max() for i in range(0, 3000, 500))
    assert 0.9 * true <= est <= true + 1e-12

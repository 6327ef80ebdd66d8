"""The numpy twins of the counting kernels (used on small inputs in a fresh process) equal the numba kernels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.special import gammaln
from scipy.stats import hypergeom

from fischer_sc_premise._kernels import label_counts, pairs, positions, tail


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    dense = rng.random((400, 60)) < rng.uniform(0.02, 0.4, size=60)
    X = sparse.csr_matrix(dense.astype(np.int8))
    X.sort_indices()
    labels = (rng.random(400) < 0.3).astype(np.int8)
    return X, labels


@pytest.mark.parametrize("which", ["all", "some", "none"])
def test_label_counts_twins_agree(data, which):
    X, labels = data
    rows = {"all": np.arange(X.shape[0]), "some": np.arange(3, 400, 7), "none": np.empty(0, np.int64)}[which]
    fast = label_counts(X, rows, labels, True)
    slow = label_counts(X, rows, labels, False)
    dense = X.toarray()[rows] != 0
    np.testing.assert_array_equal(slow[1], dense[labels[rows] != 0].sum(axis=0))
    for f, s in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(f, s)


def test_positions_twins_agree(data):
    X, _ = data
    rows = np.arange(0, 400, 3)
    items = np.array([2, 5, 17, 40, 59])
    np.testing.assert_array_equal(np.sort(positions(X, rows, items, True)), np.sort(positions(X, rows, items, False)))


@pytest.mark.parametrize(("min_overlap", "min_count"), [(0.0, 1), (0.3, 5), (0.6, 20)])
def test_pairs_twins_agree(data, min_overlap, min_count):
    X, labels = data
    fast = pairs(X, sparse.csc_matrix(X), labels, min_overlap, min_count, True)
    slow = pairs(X, sparse.csc_matrix(X), labels, min_overlap, min_count, False)
    assert fast[0].size > 0 or min_count == 20
    order = np.lexsort((fast[1], fast[0]))
    for f, s in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(f[order], s)


def test_tail_twins_agree_with_scipy():
    rng = np.random.default_rng(3)
    pop = 3000
    ln_fact = gammaln(np.arange(pop + 1) + 1.0)
    group = rng.integers(1, pop, 200)
    draws = rng.integers(0, pop, 200)
    hits = rng.integers(0, np.minimum(group, draws) + 1)
    ref = hypergeom.sf(hits - 1, pop, group, draws)
    for numba in (True, False):
        got = tail(hits, pop, group, draws, ln_fact, numba)
        np.testing.assert_allclose(got, np.minimum(ref, 1.0), rtol=1e-9, atol=1e-300)

"""MDL code lengths (against brute-force sums) and itemset kernels (against their numpy/scipy twins)."""

from __future__ import annotations

from math import comb, log2

import numpy as np
import pytest
from scipy import sparse

from fischer_sc.core.patterns import (
    binary_csr,
    cooccurring_pairs,
    item_label_counts,
    log2_binom,
    log2_factorial_table,
    nml_binomial_complexity,
    nml_multinomial_complexity,
    nonzero_positions,
    pattern_rows,
    universal_int_length,
)
from fischer_sc.core.patterns._itemsets import (
    cooccurring_pairs_reference,
    item_label_counts_reference,
    nonzero_positions_reference,
    pattern_rows_reference,
)


def _nml_brute(n: int) -> float:
    if n == 0:
        return 0.0
    return log2(sum(comb(n, h) * (h / n) ** h * ((n - h) / n) ** (n - h) for h in range(n + 1)))


def _multinomial_brute(n: int, k: int) -> float:
    # Direct sum over compositions of n into k parts.
    from itertools import product

    total = 0.0
    for parts in product(range(n + 1), repeat=k - 1):
        if sum(parts) > n:
            continue
        counts = (*parts, n - sum(parts))
        coef = 1.0
        rest = n
        for c in counts:
            coef *= comb(rest, c)
            rest -= c
        total += coef * np.prod([(c / n) ** c for c in counts])
    return log2(total)


def test_log2_binom_matches_exact():
    for n in (0, 1, 5, 40, 300):
        for k in range(n + 1):
            assert log2_binom(n, k) == pytest.approx(log2(comb(n, k)), abs=1e-9)
    assert log2_binom(5, 0) == 0.0
    assert log2_binom(5, 5) == 0.0
    assert log2_binom(3, 4) == -np.inf
    arr = log2_binom(np.array([10, 10]), np.array([3, 7]))
    assert arr[0] == pytest.approx(arr[1])


def test_factorial_table_gives_binomials():
    lf = log2_factorial_table(200)
    for n, k in [(200, 17), (150, 75), (9, 0)]:
        assert lf[n] - lf[k] - lf[n - k] == pytest.approx(log2(comb(n, k)), abs=1e-9)
    with pytest.raises(ValueError, match="n must be"):
        log2_factorial_table(-1)


def test_nml_binomial_against_definition_and_known_values():
    assert nml_binomial_complexity(0) == 0.0
    assert nml_binomial_complexity(1) == pytest.approx(1.0)
    assert nml_binomial_complexity(2) == pytest.approx(log2(2.5))
    for n in (3, 10, 57, 400):
        assert nml_binomial_complexity(n) == pytest.approx(_nml_brute(n), rel=1e-12)
    vals = nml_binomial_complexity(np.array([[1, 2], [400, 1]]))
    assert vals.shape == (2, 2)
    assert vals[1, 0] == pytest.approx(_nml_brute(400), rel=1e-12)
    # Asymptotics: C2(n) ~ sqrt(pi n / 2) + 2/3.
    big = 10**6
    assert nml_binomial_complexity(big) == pytest.approx(log2(np.sqrt(np.pi * big / 2) + 2 / 3), rel=1e-6)


def test_nml_multinomial_recurrence():
    for n in (1, 4, 9):
        assert nml_multinomial_complexity(n, 2) == pytest.approx(_nml_brute(n), rel=1e-12)
        for k in (3, 4):
            assert nml_multinomial_complexity(n, k) == pytest.approx(_multinomial_brute(n, k), rel=1e-10)
    assert nml_multinomial_complexity(0, 5) == 0.0
    assert np.isfinite(nml_multinomial_complexity(200_000, 50))
    with pytest.raises(ValueError, match="k >= 1"):
        nml_multinomial_complexity(5, 0)


def test_universal_int_length():
    c0 = log2(2.865064)
    assert universal_int_length(1) == pytest.approx(c0)
    assert universal_int_length(2) == pytest.approx(c0 + 1.0)
    assert universal_int_length(16) == pytest.approx(c0 + 4 + 2 + 1)
    assert universal_int_length(np.array([1, 16]))[1] == pytest.approx(c0 + 7)
    # Kraft: sum 2^-L(k) <= 1.
    assert np.sum(2.0 ** -universal_int_length(np.arange(1, 100_000))) < 1.0
    with pytest.raises(ValueError, match="k >= 1"):
        universal_int_length(0)


def _random_csr(n: int, m: int, density: float, seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = rng.random((n, m)) < rng.uniform(0.02, density, size=m)
    dense[:, 3] = dense[:, 1]  # a perfectly co-occurring pair
    return binary_csr(dense)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("min_overlap", "min_count"), [(0.0, 1), (0.3, 1), (0.2, 4)])
def test_cooccurring_pairs_matches_reference(seed, min_overlap, min_count):
    X = _random_csr(300, 40, 0.4, seed)
    labels = np.random.default_rng(seed).random(300) < 0.3
    got = cooccurring_pairs(X, labels, min_overlap=min_overlap, min_count=min_count)
    ref = cooccurring_pairs_reference(X, labels, min_overlap=min_overlap, min_count=min_count)
    assert len(got[0]) > 0
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_array_equal(g, r)


def test_item_label_counts_matches_reference():
    X = _random_csr(200, 30, 0.3, 2)
    labels = np.random.default_rng(2).random(200) < 0.5
    rows = np.random.default_rng(3).choice(200, size=70, replace=False)
    for g, r in zip(item_label_counts(X, rows, labels), item_label_counts_reference(X, rows, labels), strict=True):
        np.testing.assert_array_equal(g, r)


def test_nonzero_positions_matches_reference():
    X = _random_csr(100, 25, 0.5, 4)
    rows = np.arange(0, 100, 3)
    items = np.array([0, 3, 7, 24])
    got = nonzero_positions(X, rows, items)
    np.testing.assert_array_equal(got, nonzero_positions_reference(X, rows, items))
    assert np.all(np.isin(X.indices[got], items))


def test_pattern_rows_xor_clauses():
    X = _random_csr(150, 12, 0.5, 5)
    csc = sparse.csc_matrix(X)
    for clauses in ([[0]], [[0], [2]], [[0, 5], [2]], [[1, 4, 6], [7, 8]]):
        np.testing.assert_array_equal(pattern_rows(csc, clauses), pattern_rows_reference(X, clauses))
    # A row with both items of a clause is not covered by it.
    tiny = sparse.csc_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]]))
    np.testing.assert_array_equal(pattern_rows(tiny, [[0, 1]]), [1, 2])


def test_binary_csr_canonicalises():
    X = sparse.csr_matrix((np.array([2, 3, 0]), np.array([2, 0, 1]), np.array([0, 3])), shape=(1, 3))
    B = binary_csr(X)
    assert B.indices.tolist() == [0, 2]
    assert B.data.tolist() == [1, 1]

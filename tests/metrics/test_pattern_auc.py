"""fs.metrics.coverage_specificity_auc, pattern_set_summary and class_soft_f1 on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

import fischer_sc as fs

X = np.array(
    [
        [1, 1, 0, 0],
        [1, 1, 0, 1],
        [1, 0, 0, 0],
        [0, 0, 1, 1],
        [1, 1, 1, 1],
        [0, 0, 1, 0],
    ]
)
LABELS = ["a", "a", "a", "b", "b", "b"]


def test_auc_of_perfect_patterns():
    # {0,1}: 2 of 3 'a' rows, 1 'b' row -> P(a|p) = 2/3 > 1/2 + 0.1; {2,3}: 2 of 3 'b' rows, 0 'a' rows -> 1
    auc, curve = fs.metrics.coverage_specificity_auc(X, LABELS, {"a": [[0, 1]], "b": [[2, 3]]}, return_curve=True)
    grid = np.linspace(0, 1, 21)
    cov_a = np.where(grid < 2 / 3, 2 / 3, 0.0)  # kept while 2/3 > s
    cov_b = np.where(grid < 1.0, 2 / 3, 0.0)  # P(b|p) = 2/2 = 1 > s except at s = 1
    np.testing.assert_allclose(curve, (cov_a + cov_b) / 2)
    assert auc == pytest.approx(curve.mean())
    assert fs.metrics.coverage_specificity_auc(sparse.csr_matrix(X), LABELS, {"a": [[0, 1]], "b": [[2, 3]]}) == auc


def test_spurious_patterns_count_for_nothing():
    # {0}: in 3 'a' rows and 1 'b' row: P(a|p) = 0.75 > 0.6 kept; {3}: 1 'a', 2 'b': P(a|p) = 1/3, spurious
    assert fs.metrics.coverage_specificity_auc(X, LABELS, {"a": [[3]]}) == 0.0
    assert fs.metrics.coverage_specificity_auc(X, LABELS, {}) == 0.0
    with pytest.raises(ValueError, match="do not occur"):
        fs.metrics.coverage_specificity_auc(X, LABELS, {"z": [[0]]})
    with pytest.raises(ValueError, match="one entry per row"):
        fs.metrics.coverage_specificity_auc(X, LABELS[:3], {"a": [[0]]})


def test_summary_by_hand():
    s = fs.metrics.pattern_set_summary(X, LABELS, {"a": [[0, 1]], "b": [[2, 3], [2]]})
    assert s["n_patterns"] == 3 and s["mean_length"] == pytest.approx(5 / 3)
    # {0,1}: P(p|a) = 2/3, P(p|not a) = 1/3 -> ln 2; {2,3} (2/3 vs 0) and {2} (1 vs 0) are skipped
    assert s["mean_log_odds"] == pytest.approx(np.log(2))
    s = fs.metrics.pattern_set_summary(X, LABELS, {"a": [[0, 1]], "b": [[3]]})
    # {3}: P(p|b) = 2/3, P(p|not b) = 1/3 -> ln 2 again; both kept
    assert s["mean_log_odds"] == pytest.approx(np.log(2)) and s["n_patterns"] == 2


def test_class_soft_f1_by_hand():
    planted = {"a": [{1, 2}], "b": [{3, 4, 5}]}
    found = {"a": [{1, 2}], "b": [{3, 4}]}
    scores = fs.metrics.class_soft_f1(found, planted)
    # class a: 1, 1, 1; class b: J = 2/3 both ways -> 2/3
    assert scores["f1"] == pytest.approx((1 + 2 / 3) / 2)
    # a pattern in the wrong class: class a finds nothing (0), class b's best match has J = 0
    wrong = fs.metrics.class_soft_f1({"b": [{1, 2}]}, planted)
    assert wrong == {"precision": 0.0, "recall": 0.0, "f1": 0.0}

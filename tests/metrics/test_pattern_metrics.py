from __future__ import annotations

import numpy as np
import pytest

from fischer_sc.metrics import jaccard_matrix, soft_precision_recall_f1


def test_identical_sets_score_one():
    pats = [{0, 1}, {2, 3, 4}, {"a"}]
    assert soft_precision_recall_f1(pats, pats) == (1.0, 1.0, 1.0)


def test_hand_computed_values():
    found = [{1, 2}, {5, 6}]
    planted = [{1, 2, 3}]
    # found {1,2} vs {1,2,3}: 2/3; found {5,6}: 0 -> precision 1/3; recall 2/3.
    p, r, f = soft_precision_recall_f1(found, planted)
    assert p == pytest.approx(1 / 3)
    assert r == pytest.approx(2 / 3)
    assert f == pytest.approx(2 * (1 / 3) * (2 / 3) / (1.0))


def test_split_conjunction_is_penalised():
    # Splitting the planted conjunction {a, b} into singletons gives 1/2 per match, not 1.
    p, r, f = soft_precision_recall_f1([["a"], ["b"]], [["a", "b"]])
    assert (p, r, f) == (0.5, 0.5, 0.5)


def test_matrix_against_brute_force():
    rng = np.random.default_rng(0)
    found = [set(rng.choice(20, size=rng.integers(1, 6), replace=False).tolist()) for _ in range(7)]
    planted = [set(rng.choice(20, size=rng.integers(1, 6), replace=False).tolist()) for _ in range(4)]
    jac = jaccard_matrix(found, planted)
    for i, a in enumerate(found):
        for j, b in enumerate(planted):
            assert jac[i, j] == len(a & b) / len(a | b)
    p, r, _ = soft_precision_recall_f1(found, planted)
    assert p == pytest.approx(np.mean([max(len(a & b) / len(a | b) for b in planted) for a in found]))
    assert r == pytest.approx(np.mean([max(len(a & b) / len(a | b) for a in found) for b in planted]))


def test_empty_sides():
    assert soft_precision_recall_f1([], [{1}]) == (0.0, 0.0, 0.0)
    assert soft_precision_recall_f1([{1}], []) == (0.0, 0.0, 0.0)


def test_errors_name_the_parameter():
    with pytest.raises(TypeError, match="found"):
        soft_precision_recall_f1("ab", [{1}])
    with pytest.raises(TypeError, match=r"planted\[0\]"):
        soft_precision_recall_f1([{1}], ["ab"])
    with pytest.raises(ValueError, match=r"found\[1\]"):
        soft_precision_recall_f1([{1}, set()], [{1}])

"""Network metrics against scikit-learn's reference implementations, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, balanced_accuracy_score, roc_auc_score

import fischer_sc as fs


def _case(seed=0, g=12):
    rng = np.random.default_rng(seed)
    truth = (rng.random((g, g)) < 0.2) * np.sign(rng.normal(size=(g, g)))
    scores = np.round(rng.random((g, g)) + 0.8 * (truth != 0), 1)  # rounded: many ties
    off = ~np.eye(g, dtype=bool)
    return truth, scores, off


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_and_aupr_match_sklearn(seed):
    truth, scores, off = _case(seed)
    y = truth[off] != 0
    assert fs.metrics.edge_auroc(scores, truth) == pytest.approx(roc_auc_score(y, scores[off]), abs=1e-12)
    assert fs.metrics.edge_aupr(scores, truth) == pytest.approx(average_precision_score(y, scores[off]), abs=1e-12)
    y_all = truth.ravel() != 0
    assert fs.metrics.edge_auroc(scores, truth, exclude_diagonal=False) == pytest.approx(
        roc_auc_score(y_all, scores.ravel()), abs=1e-12
    )


def test_balanced_accuracy_matches_sklearn_and_sparsity():
    truth, scores, off = _case(3)
    pred = np.where(scores > 0.9, scores, 0.0)
    ref = balanced_accuracy_score(truth[off] != 0, pred[off] != 0)
    assert fs.metrics.edge_balanced_accuracy(pred, truth) == pytest.approx(ref, abs=1e-12)
    assert fs.metrics.edge_balanced_accuracy(np.ones_like(truth), truth) == 0.5
    assert fs.metrics.sparsity([np.zeros(3), np.array([1.0, 0.0, 2.0, 0.0, 3.0])]) == pytest.approx(5 / 8)
    top = fs.metrics.top_edges(scores, 7)
    assert top.sum() == 7 and np.all(np.diag(top) == 0)
    assert scores[top == 1].min() >= scores[off][top[off] == 0].max()


def test_metric_errors():
    truth, scores, _ = _case()
    with pytest.raises(ValueError, match="same shape"):
        fs.metrics.edge_auroc(scores[:3], truth)
    with pytest.raises(ValueError, match="NaN or inf"):
        fs.metrics.edge_auroc(np.full_like(scores, np.nan), truth)
    with pytest.raises(ValueError, match="at least one edge"):
        fs.metrics.edge_auroc(scores, np.zeros_like(truth))

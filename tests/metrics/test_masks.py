"""mask_recovery against hand-counted examples and a brute-force count over random masks."""

from __future__ import annotations

import numpy as np
import pytest

import fischer_sc as fs


def test_hand_counted():
    pred = [np.array([[1, 1], [0, 0]], bool), np.array([1, 0, 0], bool)]
    true = [np.array([[1, 0], [1, 0]], bool), np.array([1, 1, 0], bool)]
    r = fs.metrics.mask_recovery(pred, true)
    # tp = 2, kept = 3, true = 4, union = 5, entries = 7
    assert r == pytest.approx({"precision": 2 / 3, "recall": 0.5, "f1": 4 / 7, "jaccard": 0.4, "density": 3 / 7})
    assert fs.metrics.mask_recovery(true, true) == pytest.approx(
        {"precision": 1.0, "recall": 1.0, "f1": 1.0, "jaccard": 1.0, "density": 4 / 7}
    )
    empty = fs.metrics.mask_recovery([np.zeros(3, bool)], [np.ones(3, bool)])
    assert empty["precision"] == 0.0 and empty["f1"] == 0.0 and empty["density"] == 0.0


def test_random_masks_against_brute_force():
    rng = np.random.default_rng(0)
    shapes = [(5, 7), (7,), (7, 3)]
    pred = [rng.random(s) < 0.3 for s in shapes]
    true = [rng.random(s) < 0.2 for s in shapes]
    p = np.concatenate([m.ravel() for m in pred])
    t = np.concatenate([m.ravel() for m in true])
    tp = sum(a and b for a, b in zip(p, t, strict=True))
    r = fs.metrics.mask_recovery(pred, true)
    assert r["precision"] == pytest.approx(tp / p.sum())
    assert r["recall"] == pytest.approx(tp / t.sum())
    assert r["jaccard"] == pytest.approx(tp / (p | t).sum())
    assert r["density"] == pytest.approx(p.mean())
    # 0/1 integer masks are accepted like booleans.
    assert fs.metrics.mask_recovery([m.astype(int) for m in pred], true) == r


def test_bad_input():
    m = [np.ones((2, 2), bool)]
    with pytest.raises(ValueError, match="one per weight matrix"):
        fs.metrics.mask_recovery(m, m * 2)
    with pytest.raises(ValueError, match="shape"):
        fs.metrics.mask_recovery(m, [np.ones((2, 3), bool)])
    with pytest.raises(TypeError, match="boolean"):
        fs.metrics.mask_recovery([np.full((2, 2), 0.5)], m)
    with pytest.raises(ValueError, match="empty"):
        fs.metrics.mask_recovery([], [])

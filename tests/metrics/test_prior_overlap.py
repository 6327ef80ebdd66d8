"""Prior-overlap measures on cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from fischer_sc.metrics import (
    knn_label_accuracy,
    label_neighbourhood_overlap,
    label_overlap_auc,
    neighbourhood_overlap_auc,
    prior_overlap_auc,
)


def test_label_overlap_on_a_line():
    # points 0, 1, 2, 10 on a line; labels a a b b
    y = np.array([[0.0], [1.0], [2.0], [10.0]])
    labels = np.array(["a", "a", "b", "b"])
    ks, nos = label_neighbourhood_overlap(y, labels)
    # rankings: 0 -> 1, 2, 3 ; 1 -> 0, 2, 3 (tie 0/2 by index) ; 2 -> 1, 0, 3 ; 3 -> 2, 1, 0
    # same-label hits (|L_i| = 1): k=1: 1, 1, 0, 1 -> 3/4 ; k=2: 1, 1, 0, 1 ; k=3: all 1
    np.testing.assert_array_equal(ks, [1, 2, 3])
    np.testing.assert_allclose(nos, [0.75, 0.75, 1.0])
    area = ((0.75 - 0.25) + (0.75 - 0.5) + (1.0 - 0.75)) / 4
    assert label_overlap_auc(y, labels) == pytest.approx(area)
    # the ideal curve is 1, 1, 1: area ((1 - .25) + (1 - .5) + (1 - .75)) / 4
    assert label_overlap_auc(y, labels, normalize=True) == pytest.approx(area / 0.375)


def test_label_overlap_separated_vs_mixed():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 100)
    separated = np.vstack([rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 50])
    mixed = rng.normal(size=(200, 2))
    assert label_overlap_auc(separated, labels) > 0.2
    # perfect separation of two groups of 100: ideal area 0.5 - 99 / 400 / ... normalised to 1
    assert label_overlap_auc(separated, labels, normalize=True) == pytest.approx(1.0)
    assert abs(label_overlap_auc(mixed, labels)) < 0.03


def test_singletons_are_left_out():
    y = np.array([[0.0], [1.0], [5.0]])
    ks, nos = label_neighbourhood_overlap(y, np.array([0, 0, 1]))
    np.testing.assert_allclose(nos, [1.0, 1.0])  # points 0 and 1 are each other's nearest


def test_prior_overlap_dispatch():
    rng = np.random.default_rng(1)
    y, z = rng.normal(size=(40, 2)), rng.normal(size=(40, 3))
    assert prior_overlap_auc(y, z) == pytest.approx(neighbourhood_overlap_auc(z, y))
    labels = rng.integers(3, size=40)
    assert prior_overlap_auc(y, labels) == pytest.approx(label_overlap_auc(y, labels))


def test_knn_label_accuracy_by_hand():
    y = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    labels = np.array([0, 0, 1, 1, 1])
    # k=1: 0->1 (0 ok), 1->0 (ok), 2->1 (0, wrong), 3->4 (ok), 4->3 (ok) -> 4/5
    assert knn_label_accuracy(y, labels, k=1) == pytest.approx(0.8)
    # k=2: 0->{1,2}: votes 0:1,1:1 tie -> 0 ok; 1->{0,2} tie -> 0 ok; 2->{1,0} -> 0 wrong; 3->{4,2} ok; 4->{3,2} ok
    assert knn_label_accuracy(y, labels, k=2) == pytest.approx(0.8)


def test_errors():
    with pytest.raises(ValueError, match="one entry per point"):
        label_overlap_auc(np.zeros((4, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="no two points"):
        label_overlap_auc(np.arange(8.0).reshape(4, 2), np.arange(4))

"""Localisation mass, Spearman similarity and SSIM against hand values, scipy and scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fischer_sc.metrics import localisation_mass, spearman_similarity, ssim


def test_localisation_mass_by_hand():
    a = np.zeros((4, 4))
    a[0, 0], a[0, 1], a[3, 3], a[2, 0] = 3.0, 1.0, 4.0, -5.0  # the negative value does not count
    region = np.zeros((4, 4), dtype=bool)
    region[:2, :2] = True
    assert localisation_mass(a, region) == pytest.approx(4.0 / 8.0)
    assert localisation_mass(a, region, positive=False) == pytest.approx(4.0 / 13.0)


def test_localisation_mass_empty_map_scores_like_a_uniform_map():
    region = np.zeros((16, 16), dtype=bool)
    region[:8, 8:] = True
    assert localisation_mass(-np.ones((16, 16)), region) == 0.25
    assert localisation_mass(np.ones((16, 16)), region) == pytest.approx(0.25)


def test_localisation_mass_batched():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 6, 6))
    region = rng.random((6, 6)) > 0.5
    out = localisation_mass(a, region)
    assert out.shape == (5,)
    np.testing.assert_allclose(out, [localisation_mass(m, region) for m in a])


def test_spearman_equals_scipy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 8, 8))
    b = a + rng.normal(size=(3, 8, 8))
    b[0, :4] = 0.0  # ties
    for abs_ in (True, False):
        want = [
            stats.spearmanr(np.abs(x).ravel() if abs_ else x.ravel(), np.abs(y).ravel() if abs_ else y.ravel())[0]
            for x, y in zip(a, b, strict=True)
        ]
        np.testing.assert_allclose(spearman_similarity(a, b, abs=abs_, batched=True), want, rtol=1e-12)
    assert spearman_similarity(a[0], a[0]) == pytest.approx(1.0)
    assert np.isnan(spearman_similarity(np.zeros((4, 4)), a[0, :4, :4]))


@pytest.mark.parametrize("shape", [(16, 16), (9, 13), (25, 25)])
def test_ssim_equals_scikit_image(shape):
    skm = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(2)
    a = rng.random(shape)
    b = np.clip(a + 0.3 * rng.normal(size=shape), 0, 1)
    want = skm.structural_similarity(a, b, win_size=7, data_range=1.0)
    assert ssim(a, b) == pytest.approx(want, rel=1e-10, abs=1e-12)
    assert ssim(a, a) == pytest.approx(1.0)


def test_ssim_batched():
    rng = np.random.default_rng(3)
    a, b = rng.random((4, 10, 10)), rng.random((4, 10, 10))
    np.testing.assert_allclose(ssim(a, b, batched=True), [ssim(x, y) for x, y in zip(a, b, strict=True)])


def test_errors_name_the_argument():
    region = np.ones((4, 4), dtype=bool)
    with pytest.raises(ValueError, match="attr contains NaN"):
        localisation_mass(np.full((4, 4), np.nan), region)
    with pytest.raises(TypeError, match="region must be a boolean"):
        localisation_mass(np.ones((4, 4)), np.ones((4, 4)))
    with pytest.raises(ValueError, match="same shape"):
        spearman_similarity(np.ones((4, 4)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="win_size"):
        ssim(np.ones((5, 5)), np.ones((5, 5)))
    with pytest.raises(ValueError, match="win_size"):
        ssim(np.ones((9, 9)), np.ones((9, 9)), win_size=4)

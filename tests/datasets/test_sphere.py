"""fischer_sc.datasets toy shapes of Mercat: planted geometry, noise level, seeds, errors."""

from __future__ import annotations

import numpy as np
import pytest

import fischer_sc as fs

d = fs.datasets


def _projection_residual(adata) -> float:
    """Noise left after projecting X onto the span of the truth (what the linear map plus noise leaves)."""
    x, truth = np.asarray(adata.X, dtype=np.float64), adata.obsm["X_truth"]
    coef, *_ = np.linalg.lstsq(truth, x, rcond=None)
    return float((x - truth @ coef).std())


def test_circle():
    a = d.circle(300, 20, noise=0.05)
    assert a.shape == (300, 20)
    np.testing.assert_allclose(np.linalg.norm(a.obsm["X_truth"], axis=1), 1)
    assert _projection_residual(a) == pytest.approx(0.05, rel=0.1)
    np.testing.assert_allclose(a.obsm["X_truth"][:, 0], np.cos(a.obs["angle"]))


def test_smiley_parts():
    a = d.smiley(10, noise=0.0)
    assert a.n_obs == 1200
    counts = a.obs["part"].value_counts()
    assert counts["outline"] == 600 and counts["mouth"] == 300 and counts["left_eye"] == 150
    truth = a.obsm["X_truth"]
    mouth = truth[(a.obs["part"] == "mouth").to_numpy()]
    np.testing.assert_allclose(np.linalg.norm(mouth, axis=1), 0.6)
    assert (mouth[:, 1] < 0).all()  # the arc from 200 to 340 degrees is below the centre
    assert _projection_residual(a) < 1e-5  # noise 0: exactly linear


def test_spiked_has_the_planted_spectrum():
    a = d.spiked(3000, 100, random_state=2)
    lam = np.sort(np.linalg.eigvalsh(np.cov(np.asarray(a.X, dtype=np.float64).T)))[::-1]
    np.testing.assert_allclose(lam[:5], np.array([20, 15, 10, 8, 6]) + 1, rtol=0.15)
    assert lam[5] < 2.0 and a.uns["spiked"]["rank"] == 5


def test_noisy_sphere_and_seeds():
    a = d.noisy_sphere(500, 30, noise=0.1, random_state=3)
    np.testing.assert_allclose(np.linalg.norm(a.obsm["X_truth"], axis=1), 1)
    assert a.obs["octant"].nunique() == 8
    assert _projection_residual(a) == pytest.approx(0.1, rel=0.1)
    b = d.noisy_sphere(500, 30, noise=0.1, random_state=3)
    np.testing.assert_array_equal(a.X, b.X)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: d.circle(2), "n must"),
        (lambda: d.noisy_sphere(100, 2), "dims"),
        (lambda: d.circle(noise=-1.0), "noise"),
        (lambda: d.spiked(spikes=[1.0, -2.0]), "spikes"),
        (lambda: d.smiley(scale=0), "scale"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()

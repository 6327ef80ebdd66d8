"""The factor-out sweep's generators: how each prior acts, sizes, seeds, checks."""

from __future__ import annotations

import numpy as np
import pytest

from fischer_sc.datasets._factor_out import factor_out_prior


def _between_share(x: np.ndarray, codes: np.ndarray) -> float:
    """Share of the variance of ``x`` explained by the group means of ``codes``."""
    means = np.array([x[codes == c].mean(0) for c in np.unique(codes)])
    fitted = means[np.searchsorted(np.unique(codes), codes)]
    return float(((fitted - x.mean(0)) ** 2).sum() / ((x - x.mean(0)) ** 2).sum())


@pytest.mark.parametrize("effect", ["linear", "per_cluster", "nonlinear"])
def test_layout_and_ideal(effect):
    a = factor_out_prior(effect, n=600, prior_dims=4, n_prior=3, noise_dims=2, random_state=0)
    assert a.shape == (600, 4 + 4 + 2) and a.X.dtype == np.float32
    assert a.obs["prior"].nunique() == 3 and a.obs["kept"].nunique() == 4
    sizes = a.obs["kept"].value_counts()
    assert sizes.max() / sizes.min() > 2  # unequal sizes (ratio 4 by default)
    np.testing.assert_array_equal(a.obsm["X_ideal"][:, 4:], a.X[:, -2:])  # the noise is shared
    prior = a.obs["prior"].cat.codes.to_numpy()
    kept = a.obs["kept"].cat.codes.to_numpy()
    # the ideal holds the kept clusters and nothing of the prior
    assert _between_share(a.obsm["X_ideal"][:, :4], kept) > 0.8
    assert _between_share(a.obsm["X_ideal"], prior) < 0.03
    shift = a.X[:, 4:8] - a.obsm["X_ideal"][:, :4]
    if effect == "per_cluster":  # each (prior label, kept cluster) pair is shifted its own way
        combo = prior * 4 + kept
        means = np.array([shift[combo == c].mean(0) for c in np.unique(combo)])
        assert np.linalg.norm(means, axis=1).min() == pytest.approx(3.0, rel=1e-5)
        assert np.unique(means.round(6), axis=0).shape[0] == np.unique(combo).size
    else:
        np.testing.assert_allclose(shift, 0.0, atol=1e-5)


def test_linear_prior_is_label_means_and_nonlinear_is_not():
    lin = factor_out_prior("linear", n=800, random_state=1)
    codes = lin.obs["prior"].cat.codes.to_numpy()
    assert _between_share(lin.X[:, :8], codes) > 0.7  # centres 6 sd apart (closest pair), noise sd 1
    non = factor_out_prior("nonlinear", n=800, random_state=1)
    codes = non.obs["prior"].cat.codes.to_numpy()
    xp = non.X[:, :8]
    # the cycle is not a linear function of its features (cos, sin): a least-squares fit leaves
    # the second harmonic; label means leave the arcs within each bin
    z = np.hstack([np.ones((800, 1)), non.obsm["X_prior"]])
    resid = xp - z @ np.linalg.lstsq(z, xp, rcond=None)[0]
    assert (resid**2).sum() / ((xp - xp.mean(0)) ** 2).sum() > 0.3
    assert _between_share(xp, codes) < 0.9


def test_seeds_and_checks():
    a, b, c = (factor_out_prior("per_cluster", n=300, random_state=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    with pytest.raises(ValueError, match="effect='batch'"):
        factor_out_prior("batch")
    with pytest.raises(ValueError, match="n_prior"):
        factor_out_prior(n_prior=1)

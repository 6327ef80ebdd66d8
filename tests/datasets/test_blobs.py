"""fs.datasets.gaussian_blobs / gaussian_mixture: planted means, spreads and sizes, seeds, round trip."""

from __future__ import annotations

import numpy as np
import pytest

import fischer_sc as fs
from fischer_sc.testing import h5ad_roundtrip


@pytest.mark.parametrize("preset", sorted(fs.datasets.PRESETS))
def test_presets_have_planted_structure(preset):
    spec = fs.datasets.PRESETS[preset]
    adata = fs.datasets.gaussian_blobs(preset, random_state=1)
    assert adata.shape == (sum(spec.sizes), spec.dims) and adata.X.dtype == np.float32
    assert adata.obs_names.is_unique
    counts = adata.obs["cluster"].value_counts(sort=False).to_numpy()
    np.testing.assert_array_equal(counts, spec.sizes)
    means = adata.uns["gaussian_blobs"]["means"]
    for c, (size, sd) in enumerate(zip(spec.sizes, spec.spreads, strict=True)):
        pts = adata.X[(adata.obs["cluster"] == str(c)).to_numpy()].astype(float)
        # the mean of `size` draws is within 5 standard errors; the pooled sd within 10 %
        assert np.abs(pts.mean(0) - means[c]).max() < 5 * sd / np.sqrt(size)
        assert pts.std(0, ddof=1).mean() == pytest.approx(sd, rel=0.1)
    if spec.means is not None:
        np.testing.assert_array_equal(means, spec.means)
    else:
        assert means.min() >= 0 and means.max() <= 50


def test_seeds_and_overrides(tmp_path):
    a = fs.datasets.gaussian_blobs("g3d", random_state=3)
    b = fs.datasets.gaussian_blobs("g3d", random_state=3)
    c = fs.datasets.gaussian_blobs("g3d", random_state=4)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    small = fs.datasets.gaussian_blobs("2d", n_samples=[5, 6, 7])
    assert small.n_obs == 18
    back = h5ad_roundtrip(a, tmp_path)
    np.testing.assert_array_equal(back.uns["gaussian_blobs"]["means"], a.uns["gaussian_blobs"]["means"])


def test_mixture():
    m = fs.datasets.gaussian_mixture(2_000, n_dims=10, n_clusters=5, random_state=0)
    assert m.shape == (2_000, 10) and m.obs["cluster"].nunique() == 5
    np.testing.assert_array_equal(m.X, fs.datasets.gaussian_mixture(2_000, n_dims=10, n_clusters=5).X)


def test_errors():
    with pytest.raises(ValueError, match=r"preset='3d' is not one of '2d'"):
        fs.datasets.gaussian_blobs("3d")
    with pytest.raises(ValueError, match=r"n_samples must give 3 positive cluster sizes"):
        fs.datasets.gaussian_blobs("2d", n_samples=[1, 2])
    with pytest.raises(ValueError, match=r"n_obs=3 must be at least n_clusters=20"):
        fs.datasets.gaussian_mixture(3)

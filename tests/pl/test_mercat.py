"""fs.pl.mercat: both hemispheres drawn where they belong, shared colours, the map view, clear errors."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import fischer_sc as fs
from fischer_sc.core.sphere import unit_rows


@pytest.fixture
def on_sphere(adata):
    y = unit_rows(np.random.default_rng(0).normal(size=(adata.n_obs, 3)))
    adata.obsm["X_mercat"] = y.astype(np.float32)
    adata.obsm["X_mercat_2d"] = np.column_stack([np.arctan2(y[:, 1], y[:, 0]), np.arcsin(y[:, 2])])
    return adata


def _offsets(ax) -> np.ndarray:
    return np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])


def test_sphere_view_draws_front_and_back(on_sphere):
    y = on_sphere.obsm["X_mercat"]
    front = y[:, 0] >= 0
    axes = fs.pl.mercat(on_sphere, color="group", show=False)
    assert len(axes) == 2
    got_front, got_back = _offsets(axes[0]), _offsets(axes[1])
    np.testing.assert_allclose(np.sort(got_front[:, 0]), np.sort(y[front, 1]), rtol=1e-5)
    np.testing.assert_allclose(np.sort(got_back[:, 0]), np.sort(-y[~front, 1]), rtol=1e-5)  # seen from behind
    assert len(on_sphere.uns["group_colors"]) == on_sphere.obs["group"].nunique()
    plt.close("all")


def test_map_view_and_key_added(on_sphere):
    on_sphere.obsm["sph"] = on_sphere.obsm["X_mercat"]
    on_sphere.obsm["sph_2d"] = on_sphere.obsm["X_mercat_2d"]
    ax = fs.pl.mercat(on_sphere, view="map", basis="sph", color="time", show=False)
    np.testing.assert_allclose(np.sort(_offsets(ax)[:, 0]), np.sort(on_sphere.obsm["sph_2d"][:, 0]), rtol=1e-5)
    fig = fs.pl.mercat(on_sphere, basis="sph", return_fig=True)
    assert len(fig.axes) >= 2
    plt.close("all")


def test_errors_name_the_fix(adata, on_sphere):
    with pytest.raises(KeyError, match=r"Run fs.tl.mercat\(adata\) first"):
        fs.pl.mercat(adata.copy().__class__(adata.X))
    with pytest.raises(ValueError, match="view"):
        fs.pl.mercat(on_sphere, view="globe")
    with pytest.raises(TypeError, match="one color"):
        fs.pl.mercat(on_sphere, color=["group", "time"], show=False)
    del on_sphere.obsm["X_mercat_2d"]
    with pytest.raises(KeyError, match="rerun fs.tl.mercat"):
        fs.pl.mercat(on_sphere, view="map")

from __future__ import annotations

import inspect

import matplotlib.pyplot as plt
import numpy as np
import pytest

import fischer_sc as fs


def _plotted(ax) -> np.ndarray:
    return np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])


@pytest.mark.parametrize("name", ["dtsne", "factor_out"])
def test_embedding_wrapper_plots_the_stored_coordinates(adata, name):
    adata.obsm[f"X_{name}"] = np.asarray(adata.obsm["X_pca"][:, :2])
    ax = getattr(fs.pl, name)(adata, color="group", show=False)
    offsets = _plotted(ax)
    # every point at its stored coordinates (sorted: scanpy may reorder points to draw them)
    np.testing.assert_allclose(np.sort(offsets[:, 0]), np.sort(adata.obsm[f"X_{name}"][:, 0]), rtol=1e-5)
    np.testing.assert_allclose(np.sort(offsets[:, 1]), np.sort(adata.obsm[f"X_{name}"][:, 1]), rtol=1e-5)
    assert ax.get_xlabel().lower() == f"{name}1"
    plt.close("all")


@pytest.mark.parametrize("name", ["dtsne", "factor_out"])
def test_embedding_wrapper_follows_key_added(adata, name):
    """``key=`` is the key_added given to the tool: the plot shows obsm[key], not the default."""
    assert "key" in inspect.signature(getattr(fs.pl, name)).parameters
    adata.obsm[f"X_{name}"] = np.zeros((adata.n_obs, 2))
    adata.obsm["mine"] = np.asarray(adata.obsm["X_pca"][:, 2:4])
    ax = getattr(fs.pl, name)(adata, key="mine", color="group", show=False)
    np.testing.assert_allclose(np.sort(_plotted(ax)[:, 0]), np.sort(adata.obsm["mine"][:, 0]), rtol=1e-5)
    plt.close("all")


def test_missing_embedding_says_what_to_run(adata):
    with pytest.raises(KeyError, match=r"Run fs.tl.dtsne\(adata\) first"):
        fs.pl.dtsne(adata)
    with pytest.raises(KeyError, match=r"No embedding adata.obsm\['mine'\].*pass key="):
        fs.pl.factor_out(adata, key="mine")

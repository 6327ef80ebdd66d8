from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import fischer_sc as fs


@pytest.mark.parametrize("name", ["dtsne", "factor_out"])
def test_embedding_wrapper_plots_the_stored_coordinates(adata, name):
    adata.obsm[f"X_{name}"] = np.asarray(adata.obsm["X_pca"][:, :2])
    ax = getattr(fs.pl, name)(adata, color="group", show=False)
    offsets = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    np.testing.assert_allclose(np.sort(offsets[:, 0]), np.sort(adata.obsm[f"X_{name}"][:, 0]), rtol=1e-5)
    assert ax.get_xlabel() == f"{name}1".upper() or ax.get_xlabel().lower() == f"{name}1"
    plt.close("all")


def test_embedding_wrapper_follows_key_added(adata):
    adata.obsm["mine"] = np.asarray(adata.obsm["X_pca"][:, :2])
    fig = fs.pl.dtsne(adata, basis="mine", color="group", return_fig=True)
    assert fig is not None
    plt.close("all")


def test_missing_embedding_says_what_to_run(adata):
    with pytest.raises(KeyError, match=r"Run fs.tl.dtsne\(adata\) first"):
        fs.pl.dtsne(adata)

"""fs.pl.diffnaps: the support heatmap shows the stored pattern activity per group; membership dots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import fischer_sc as fs

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def patterned():
    adata = fs.datasets.planted_patterns(100, 2, 200, random_state=0)
    fs.tl.diffnaps(adata, "class", n_epochs=10, progress=False)
    return adata


def test_heatmap_shows_support_per_group(patterned):
    table = patterned.uns["diffnaps"]["patterns"]
    assert table["group"].notna().any()
    fig = fs.pl.diffnaps(patterned, return_fig=True)
    heat, dots = fig.axes[:2]
    values = heat.images[0].get_array()
    first = table[table["group"].notna()].sort_values(["group", "precision"], ascending=[True, False]).iloc[0]
    holds = patterned.obsm["X_diffnaps"][:, first["pattern_id"]].astype(bool)
    classes = patterned.obs["class"].to_numpy()
    np.testing.assert_allclose(values[0], [holds[classes == c].mean() for c in ("c0", "c1")])
    assert [t.get_text() for t in heat.get_xticklabels()] == ["c0", "c1"]
    assert dots.collections and dots.get_title() == "pattern membership"
    plt.close("all")


def test_single_kind_into_given_axes(patterned):
    _, ax = plt.subplots()
    out = fs.pl.diffnaps(patterned, kind="dotplot", ax=ax)
    assert out == [ax] and ax.collections
    plt.close("all")


def test_errors(patterned, adata):
    with pytest.raises(KeyError, match="run fs.tl.diffnaps"):
        fs.pl.diffnaps(adata)
    with pytest.raises(ValueError, match="kind must be"):
        fs.pl.diffnaps(patterned, kind="pie")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="two axes"):
        fs.pl.diffnaps(patterned, ax=ax)
    plt.close("all")

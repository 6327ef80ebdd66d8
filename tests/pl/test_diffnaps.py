"""fs.pl.diffnaps: the support heatmap shows the stored pattern activity per group; membership dots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import fischer_sc as fs


@pytest.fixture(scope="module")
def patterned():
    adata = fs.datasets.planted_patterns(100, 2, 200, random_state=0)
    fs.tl.diffnaps(adata, "class", n_epochs=3, progress=False)
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


def test_key_is_the_key_added_of_either_tool(patterned):
    renamed = patterned.copy()
    renamed.obsm["pat"] = renamed.obsm.pop("X_diffnaps")
    renamed.varm["pat"] = renamed.varm.pop("diffnaps")
    renamed.uns["pat"] = renamed.uns.pop("diffnaps")  # what key_added="pat" writes
    expected = fs.pl.diffnaps(patterned, kind="heatmap", return_fig=True).axes[0].images[0].get_array()
    fig = fs.pl.diffnaps(renamed, key="pat", kind="heatmap", return_fig=True)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), expected)
    # binaps' default output (obsm["X_binaps"], no group column) with a groupby
    table = patterned.uns["diffnaps"]["patterns"][["pattern_id", "features", "size", "support", "half_support"]]
    table = table.drop_duplicates("pattern_id").sort_values("support", ascending=False)
    renamed.obsm["X_binaps"] = patterned.obsm["X_diffnaps"]
    renamed.varm["binaps"] = patterned.varm["diffnaps"]
    renamed.uns["binaps"] = {"patterns": table, "params": {}}
    fig = fs.pl.diffnaps(renamed, "class", key="binaps", kind="heatmap", return_fig=True)
    holds = patterned.obsm["X_diffnaps"][:, table["pattern_id"].iloc[0]].astype(bool)
    classes = renamed.obs["class"].to_numpy()
    np.testing.assert_allclose(fig.axes[0].images[0].get_array()[0], [holds[classes == c].mean() for c in ("c0", "c1")])
    plt.close("all")


def test_errors(patterned, adata):
    with pytest.raises(KeyError, match="run fs.tl.diffnaps"):
        fs.pl.diffnaps(adata)
    with pytest.raises(KeyError, match=r"obsm\['pat'\]"):
        fs.pl.diffnaps(patterned, key="pat")
    with pytest.raises(ValueError, match="kind must be"):
        fs.pl.diffnaps(patterned, kind="pie")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="two axes"):
        fs.pl.diffnaps(patterned, ax=ax)
    plt.close("all")


def test_no_pattern_found_gives_an_empty_figure_that_says_so(patterned):
    empty = patterned.copy()
    table = empty.uns["diffnaps"]["patterns"]
    empty.uns["diffnaps"]["patterns"] = table.iloc[0:0]
    empty.obsm["X_diffnaps"] = empty.obsm["X_diffnaps"][:, :0]
    empty.varm["diffnaps"] = empty.varm["diffnaps"][:, :0]
    fig = fs.pl.diffnaps(empty, return_fig=True)
    assert "No differential pattern" in fig.axes[0].texts[0].get_text() and not fig.axes[0].images
    general_only = patterned.copy()
    general_only.uns["diffnaps"]["patterns"] = table.assign(group=table["group"].cat.set_categories([]))
    _, ax = plt.subplots()
    assert fs.pl.diffnaps(general_only, kind="heatmap", ax=ax) == [ax]
    assert "none assigned to a group" in ax.texts[0].get_text()
    plt.close("all")

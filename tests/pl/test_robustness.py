"""Bad options to the fs.pl functions: clear errors naming the parameter (they were crashes or silent before)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

import fischer_sc as fs


@pytest.fixture(scope="module")
def patterned():
    adata = fs.datasets.planted_patterns(60, 2, 40, random_state=0)
    fs.tl.diffnaps(adata, "class", n_epochs=2, progress=False)
    return adata


@pytest.fixture(scope="module")
def network():
    net = fs.datasets.random_signed_network(5, random_state=0)
    adata = fs.datasets.simulate_grn(net, n_trajectories=6, random_state=0)
    fast = {"hidden_dim": 6, "n_epochs": 3, "prune_start": 1, "prune_every": 1, "prune_first": 0.7}
    fs.tl.dash_grn(adata, net, trajectory_key="trajectory", progress=False, prune_step=0.5, target_sparsity=0.9, **fast)
    return adata


@pytest.mark.parametrize("value", [0, -1, 2.5, "3"])
def test_grn_n_edges_must_be_a_positive_integer(network, value):
    with pytest.raises(ValueError, match=f"n_edges must be an integer >= 1, got {value!r}"):
        fs.pl.grn(network, n_edges=value, show=False)
    plt.close("all")


def test_grn_a_foreign_uns_entry_is_a_key_error(network):
    adata = network.copy()
    adata.uns["dash_grn"] = "edges.csv"
    with pytest.raises(KeyError, match=r"adata.uns\['dash_grn'\] has no dash_grn result"):
        fs.pl.grn(adata, show=False)


@pytest.mark.parametrize(("param", "value"), [("n_patterns", 0), ("n_patterns", -1), ("n_patterns", 2.5)])
def test_diffnaps_counts_must_be_positive_integers(patterned, param, value):
    with pytest.raises(ValueError, match=f"{param} must be an integer >= 1, got {value!r}"):
        fs.pl.diffnaps(patterned, show=False, **{param: value})
    plt.close("all")


def test_diffnaps_max_features_may_be_zero_but_not_negative(patterned):
    fs.pl.diffnaps(patterned, max_features=0, show=False)
    plt.close("all")
    with pytest.raises(ValueError, match="max_features must be an integer >= 0, got -1"):
        fs.pl.diffnaps(patterned, max_features=-1, show=False)

"""fs.tl.dash_grn: scanpy's contract, prior forms, exact sparsity, orientation, determinism, h5ad and model round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fischer_sc as fs
from fischer_sc.core.pruning import kept_count
from fischer_sc.testing import h5ad_roundtrip

# A short schedule: events after epochs 1, 2, 3 keep 30 %, 15 %, then exactly 10 % of every layer.
FAST = {
    "trajectory_key": "trajectory",
    "hidden_dim": 6,
    "n_epochs": 4,
    "batch_size": 64,
    "prune_start": 1,
    "prune_every": 1,
    "prune_first": 0.7,
    "prune_step": 0.5,
    "target_sparsity": 0.9,
    "progress": False,
}


@pytest.fixture(scope="module")
def sim():
    net = fs.datasets.random_signed_network(6, random_state=0)
    return fs.datasets.simulate_grn(net, n_trajectories=8, random_state=0), net


@pytest.fixture(scope="module")
def fitted(sim):
    adata, net = sim
    return fs.tl.dash_grn(adata, net, copy=True, **FAST)


def test_writes_every_key_and_leaves_the_input_alone(sim, fitted):
    adata, net = sim
    assert "dash_grn" not in adata.uns and "dash_grn" not in adata.varp
    e = fitted.varp["dash_grn"]
    assert e.shape == (6, 6) and np.isfinite(e).all()
    for col in ("dash_grn_rate", "dash_grn_min", "dash_grn_max"):
        assert col in fitted.var
    uns = fitted.uns["dash_grn"]
    edges = uns["edges"]
    assert list(edges.columns) == ["source", "target", "weight", "score", "sign", "in_prior"]
    assert len(edges) == np.count_nonzero(e)
    assert np.all(np.diff(np.abs(edges["weight"].to_numpy())) <= 0)
    src = fitted.var_names.get_indexer(edges["source"])
    tgt = fitted.var_names.get_indexer(edges["target"])
    np.testing.assert_array_equal(edges["weight"].to_numpy(), e[src, tgt])  # row = source = regulator
    np.testing.assert_array_equal(edges["in_prior"].to_numpy(), net[src, tgt] != 0)
    assert list(uns["history"].columns) == ["epoch", "train_mse", "val_mse", "sparsity", "lr", "pruned"]
    assert uns["params"]["pruning"] == "dash" and uns["params"]["random_state"] == 0


def test_pruning_reaches_its_target_exactly(fitted):
    uns = fitted.uns["dash_grn"]
    g, h = 6, 6
    kept = sum(kept_count(n, 0.1) for n in (h * g, h * g, g * h, g * h))
    assert uns["sparsity"] == pytest.approx(1 - kept / (4 * g * h), abs=1e-12)
    assert uns["history"]["pruned"].sum() == 3


def test_same_seed_same_network_and_h5ad_roundtrip(sim, fitted, tmp_path):
    adata, net = sim
    again = fs.tl.dash_grn(adata, net, copy=True, **FAST)
    np.testing.assert_array_equal(again.varp["dash_grn"], fitted.varp["dash_grn"])
    back = h5ad_roundtrip(fitted, tmp_path)
    np.testing.assert_array_equal(back.varp["dash_grn"], fitted.varp["dash_grn"])
    pd.testing.assert_frame_equal(back.uns["dash_grn"]["edges"], fitted.uns["dash_grn"]["edges"], check_dtype=False)
    assert back.uns["dash_grn"]["params"] == fitted.uns["dash_grn"]["params"]


def test_prior_forms_agree_and_key_added_and_save_model(sim, tmp_path):
    adata, net = sim
    adata = adata.copy()
    rows, cols = np.nonzero(net)
    genes = adata.var_names.to_numpy()
    table = pd.DataFrame({"source": genes[rows], "target": genes[cols], "weight": net[rows, cols]})
    adata.varp["prior"] = net
    fs.tl.dash_grn(adata, table, key_added="from_table", save_model=tmp_path / "m.pt", **FAST)
    fs.tl.dash_grn(adata, "prior", key_added="from_varp", **FAST)
    np.testing.assert_array_equal(adata.varp["from_table"], adata.varp["from_varp"])
    assert "dash_grn" not in adata.uns and "from_table_rate" in adata.var
    from fischer_sc.core.ode import load_phoenix

    model, meta = load_phoenix(tmp_path / "m.pt")
    np.testing.assert_allclose(model.effects().numpy(), adata.varp["from_table"], rtol=1e-6)
    assert meta["var_names"] == adata.var_names.tolist()


def test_orientation_regulators_in_rows():
    # the chain g0 -> g1 -> g2: E must put each regulator in the row of its edge
    net = np.zeros((3, 3))
    net[0, 1] = net[1, 2] = 1.0
    adata = fs.datasets.simulate_grn(net, n_trajectories=20, times=np.linspace(0, 6, 7), noise=0.0, random_state=0)
    fs.tl.dash_grn(
        adata,
        trajectory_key="trajectory",
        pruning="none",
        hidden_dim=8,
        n_epochs=40,
        learning_rate=0.03,
        batch_size=128,
        progress=False,
    )
    e = np.abs(adata.varp["dash_grn"])
    assert e[0, 1] > 3 * e[1, 0] and e[1, 2] > 3 * e[2, 1]
    assert (
        adata.uns["dash_grn"]["history"]["train_mse"].iloc[-1] < adata.uns["dash_grn"]["history"]["train_mse"].iloc[0]
    )


def test_no_prior_falls_back_to_magnitude_with_a_warning(sim):
    adata, _ = sim
    with pytest.warns(UserWarning, match="prunes by magnitude only"):
        out = fs.tl.dash_grn(adata, copy=True, **{**FAST, "n_epochs": 3})
    assert out.uns["dash_grn"]["params"]["pruning"] == "magnitude"


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        (None, {"time_key": "nope"}, KeyError, "time_key='nope' is not a column"),
        ("text_time", {}, ValueError, "must be numeric"),
        ("nan", {}, ValueError, "NaN or infinite"),
        (None, {"prior": pd.DataFrame({"source": ["g0", "XYZ"], "target": ["g1", "g2"]})}, KeyError, "'XYZ'"),
        (None, {"prior": np.zeros((3, 3))}, ValueError, r"has shape \(3, 3\) but adata has 6 genes"),
        (None, {"prior": "missing"}, KeyError, "not in adata.varp"),
        (None, {"pruning": "random"}, ValueError, "pruning='random' is not one of"),
        (None, {"target_sparsity": 1.0}, ValueError, "target_sparsity must be"),
        (None, {"steps_per_epoch": 0}, ValueError, "steps_per_epoch must be"),
        ("one_time", {}, ValueError, "distinct time point"),
    ],
)
def test_bad_input_raises_and_leaves_adata_unchanged(sim, change, kwargs, error, match):
    adata = sim[0].copy()
    if change == "text_time":
        adata.obs["time"] = adata.obs["time"].astype(str)
    elif change == "nan":
        adata.X[0, 0] = np.nan
    elif change == "one_time":
        adata.obs["time"] = 1.0
    before = adata.copy()
    args = {**FAST, "prior": sim[1], **kwargs}
    with pytest.raises(error, match=match):
        fs.tl.dash_grn(adata, **args)
    assert set(adata.uns) == set(before.uns) and set(adata.varp) == set(before.varp)
    assert list(adata.var.columns) == list(before.var.columns)


@pytest.mark.parametrize("steps", [1, 3, 7])
def test_default_batch_gives_steps_per_epoch_steps(sim, steps):
    """batch_size=None: batches of ``ceil(n_train / steps_per_epoch)`` pairs, so about ``steps_per_epoch`` steps."""
    adata, net = sim
    opts = {**FAST, "batch_size": None, "steps_per_epoch": steps, "n_epochs": 1, "pruning": "none"}
    params = fs.tl.dash_grn(adata, net, copy=True, **opts).uns["dash_grn"]["params"]
    n_train = params["n_train"]
    assert params["batch_size"] == -(-n_train // steps)
    assert steps / 2 < -(-n_train // params["batch_size"]) <= steps  # n_train = 30 >= steps


def test_plot_network_and_curve(fitted):
    import matplotlib.pyplot as plt

    fig = fs.pl.grn(fitted, return_fig=True)
    assert len(fig.axes) == 3  # network, loss and its sparsity twin
    plt.close(fig)
    axes = fs.pl.grn(fitted, kind="network", n_edges=5)
    arrows = [c for c in axes[0].get_children() if type(c).__name__ == "Annotation"]
    top = fitted.uns["dash_grn"]["edges"].head(5)
    assert len(arrows) == int((top["source"] != top["target"]).sum())  # self-loops are drawn as circles
    plt.close("all")
    with pytest.raises(KeyError, match="run fs.tl.dash_grn"):
        fs.pl.grn(fitted, "other")


#: The exact record of a call with FAST's options: the options used (None ones dropped), the
#: prior's description, and the training split (pairs, train/val sizes).
DASH_PARAMS = {
    "batch_size",
    "device",
    "hidden_dim",
    "lambda_motif",
    "lambda_ppi",
    "learning_rate",
    "n_epochs",
    "n_pairs",
    "n_substeps",
    "n_train",
    "n_val",
    "normalize_scores",
    "adapt_prior",
    "patience",
    "prior",
    "prior_loss_weight",
    "prune_every",
    "prune_first",
    "prune_start",
    "prune_step",
    "pruning",
    "random_state",
    "scale",
    "solver",
    "steps_per_epoch",
    "target_sparsity",
    "time_key",
    "trajectory_key",
    "val_fraction",
}


def test_params_record_has_exactly_these_keys(fitted):
    uns = fitted.uns["dash_grn"]
    assert set(uns) == {"best_epoch", "edges", "history", "params", "sparsity"}
    assert set(uns["params"]) == DASH_PARAMS


def test_adapt_prior_is_a_checked_bool():
    adata = fs.datasets.simulate_grn(fs.datasets.random_signed_network(6, random_state=0), n_trajectories=4)
    net = fs.datasets.random_signed_network(6, random_state=0)
    with pytest.raises((TypeError, ValueError), match="adapt_prior"):
        fs.tl.dash_grn(adata, net, trajectory_key="trajectory", adapt_prior="yes", progress=False)

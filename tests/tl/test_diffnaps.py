"""fs.tl.diffnaps: planted patterns recovered per group, the scanpy contract, key rule, params, errors, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse

import fischer_sc as fs
from fischer_sc.core.binarynet import binarize_matrix, extract_patterns
from fischer_sc.testing import assert_uns_equal, h5ad_roundtrip, small_adata

FAST = {"n_epochs": 3, "progress": False}

DIFFNAPS_PARAMS = {
    "groupby",
    "binarize",
    "screen",
    "hidden_dim",
    "n_epochs",
    "batch_size",
    "learning_rate",
    "lambda_c",
    "lambda_s",
    "elastic",
    "class_elastic",
    "regu_rate",
    "threshold",
    "class_threshold",
    "min_size",
    "train_fraction",
    "tied_update",
    "random_state",
    "binarize_applied",
    "alpha",
    "screen_applied",
    "n_features_used",
}


@pytest.fixture(scope="module")
def planted():
    """3 classes x 1000 rows, 500 features, 5 patterns per class, paper noise (10 random items, 2.5 %, purity 0.9)."""
    adata = fs.datasets.planted_patterns(500, 3, 1000, random_state=0)
    fs.tl.diffnaps(adata, "class", hidden_dim=250, n_epochs=25, batch_size=32, lambda_s=2.0, progress=False)
    return adata


def _found(adata, key="diffnaps"):
    table = adata.uns[key]["patterns"]
    return fs.datasets.planted_pattern_sets(table[table["group"].notna()])


def test_diffnaps_recovers_planted_class_patterns(planted):
    truth = fs.datasets.planted_pattern_sets(planted.uns["planted"]["patterns"])
    scores = fs.metrics.class_soft_f1(_found(planted), truth)
    assert scores["f1"] >= 0.7, scores


def test_each_recovered_pattern_is_assigned_to_its_class(planted):
    truth = fs.datasets.planted_pattern_sets(planted.uns["planted"]["patterns"])
    table = planted.uns["diffnaps"]["patterns"]
    table = table[table["group"].notna()]
    found = [(str(g), set(f.split(","))) for g, f in zip(table["group"], table["features"], strict=True)]
    matched = 0
    for cls, patterns in truth.items():
        for p in patterns:
            jac = [(len(p & f) / len(p | f), g) for g, f in found]
            best, group = max(jac)
            if best >= 0.5:
                matched += 1
                assert group == cls, (p, group, cls, best)
    assert matched >= 10  # of 15 planted patterns


def test_pattern_table_statistics_are_consistent(planted):
    table = planted.uns["diffnaps"]["patterns"]
    x = planted.X.toarray() > 0
    labels = planted.obs["class"].astype(str).to_numpy()
    assigned = table[table["group"].notna()]
    assert len(assigned) > 0
    for _, row in assigned.head(5).iterrows():
        cols = planted.var_names.get_indexer(row["features"].split(","))
        holds = x[:, cols].all(axis=1)
        in_g = labels == row["group"]
        assert row["n_in"] == holds[in_g].sum() and row["n_out"] == holds[~in_g].sum()
        assert row["support_in"] == pytest.approx(holds[in_g].mean())
        assert row["support_out"] == pytest.approx(holds[~in_g].mean())
        assert row["size"] == len(cols)
        np.testing.assert_array_equal(planted.obsm["X_diffnaps"][:, row["pattern_id"]], holds.astype(np.uint8))
        np.testing.assert_array_equal(np.flatnonzero(planted.varm["diffnaps"][:, row["pattern_id"]]), np.sort(cols))
    assert (assigned["precision"] > 0.5).mean() > 0.8
    # a pattern is assigned to a group exactly when its class weight for that group exceeds class_threshold
    classes = list(planted.uns["diffnaps"]["classes"])
    class_weights = planted.uns["diffnaps"]["class_weights"]
    for group, pid, weight in zip(assigned["group"], assigned["pattern_id"], assigned["class_weight"], strict=True):
        assert weight == pytest.approx(class_weights[classes.index(group), pid]) and weight > 0.3
    assert len(assigned) == (class_weights > 0.3).sum()
    general = table[table["group"].isna()]
    assert set(general["pattern_id"]) == set(np.flatnonzero((class_weights <= 0.3).all(axis=0)))
    assert (table["size"] >= 2).all()  # the default min_size


def test_coverage_specificity_auc_of_the_found_patterns(planted):
    table = planted.uns["diffnaps"]["patterns"]
    table = table[table["group"].notna()]
    pats: dict[str, list] = {}
    for g, f in zip(table["group"].astype(str), table["features"], strict=True):
        pats.setdefault(g, []).append(planted.var_names.get_indexer(f.split(",")))
    auc = fs.metrics.coverage_specificity_auc(planted.X, planted.obs["class"].astype(str), pats)
    assert auc > 0.5


def test_contract_copy_keys_params_and_h5ad_roundtrip(tmp_path):
    adata = small_adata()
    before = adata.copy()
    out = fs.tl.diffnaps(adata, "group", **FAST, copy=True)
    assert set(adata.uns) == set(before.uns) and set(adata.varm) == set(before.varm)
    assert set(adata.obsm) == set(before.obsm)
    uns = out.uns["diffnaps"]
    params = uns["params"]
    assert set(params) == DIFFNAPS_PARAMS
    assert (params["groupby"], params["binarize_applied"], params["hidden_dim"]) == ("group", "q75", 64)
    assert (params["threshold"], params["class_threshold"], params["min_size"]) == (0.3, 0.3, 2)
    assert (params["screen"], params["screen_applied"], params["n_features_used"]) == ("auto", False, adata.n_vars)
    assert params["elastic"] == [0.0, 0.0] and params["random_state"] == 0
    xb = binarize_matrix(adata.X, "q75", "X")[0].toarray() > 0
    assert params["alpha"] == pytest.approx(xb.mean())
    membership = out.varm["diffnaps"]
    assert membership.dtype == bool and membership.shape[0] == adata.n_vars
    assert (membership.sum(0) >= 2).all()  # min_size
    holds = [xb[:, membership[:, p]].all(axis=1) for p in range(membership.shape[1])]
    holds = np.stack(holds, axis=1) if holds else np.zeros((adata.n_obs, 0), dtype=bool)
    np.testing.assert_array_equal(out.obsm["X_diffnaps"], holds.astype(np.uint8))
    assert list(uns["classes"]) == ["g0", "g1", "g2"] and uns["class_weights"].shape == (3, membership.shape[1])
    assert len(uns["history"]) == FAST["n_epochs"]
    back = h5ad_roundtrip(out, tmp_path)
    assert_uns_equal(back.uns["diffnaps"], uns)
    np.testing.assert_array_equal(back.varm["diffnaps"], membership)
    assert fs.tl.diffnaps(adata, "group", **FAST) is None
    np.testing.assert_array_equal(adata.obsm["X_diffnaps"], out.obsm["X_diffnaps"])


def test_key_added_names_every_key():
    adata = small_adata()
    out = fs.tl.diffnaps(adata, "group", layer="counts", **FAST, key_added="pat", copy=True)
    ref = fs.tl.diffnaps(adata, "group", layer="counts", **FAST, copy=True)
    assert set(out.obsm) - set(adata.obsm) == {"pat"} and set(out.varm) == {"pat"} and "pat" in out.uns
    assert "diffnaps" not in out.uns and "X_pat" not in out.obsm
    np.testing.assert_array_equal(out.obsm["pat"], ref.obsm["X_diffnaps"])
    np.testing.assert_array_equal(out.varm["pat"], ref.varm["diffnaps"])
    pd.testing.assert_frame_equal(out.uns["pat"]["patterns"], ref.uns["diffnaps"]["patterns"])
    params = out.uns["pat"]["params"]
    assert set(params) == DIFFNAPS_PARAMS | {"layer", "key_added"}
    assert (params["layer"], params["key_added"]) == ("counts", "pat")


def test_same_seed_same_patterns():
    adata = fs.datasets.planted_patterns(120, 2, 150, random_state=3)
    a = fs.tl.diffnaps(adata, "class", **FAST, copy=True)
    b = fs.tl.diffnaps(adata, "class", **FAST, copy=True)
    pd.testing.assert_frame_equal(a.uns["diffnaps"]["patterns"], b.uns["diffnaps"]["patterns"])
    pd.testing.assert_frame_equal(a.uns["diffnaps"]["history"], b.uns["diffnaps"]["history"])
    np.testing.assert_array_equal(a.varm["diffnaps"], b.varm["diffnaps"])
    np.testing.assert_array_equal(a.uns["diffnaps"]["class_weights"], b.uns["diffnaps"]["class_weights"])
    c = fs.tl.diffnaps(adata, "class", **FAST, random_state=1, copy=True)
    assert not a.uns["diffnaps"]["history"].equals(c.uns["diffnaps"]["history"])


def test_sparse_and_dense_input_give_the_same_result():
    dense = fs.datasets.planted_patterns(100, 2, 100, random_state=2)
    dense.X = dense.X.toarray()
    sp = dense.copy()
    sp.X = sparse.csr_matrix(sp.X)
    a = fs.tl.diffnaps(dense, "class", **FAST, copy=True)
    b = fs.tl.diffnaps(sp, "class", **FAST, copy=True)
    pd.testing.assert_frame_equal(a.uns["diffnaps"]["patterns"], b.uns["diffnaps"]["patterns"])


@pytest.mark.parametrize(
    ("kwargs", "prepare", "error", "match"),
    [
        ({"binarize": None}, None, ValueError, "not binary.*binarize='q75'"),
        ({"groupby": "one"}, "one_group", ValueError, "needs at least 2"),
        ({"groupby": "nope"}, None, KeyError, "'nope' is not a column of adata.obs"),
        ({}, "empty_row", ValueError, "empty.*filter_cells"),
        ({}, "nan", ValueError, "NaN"),
        ({"layer": "nope"}, None, KeyError, "layer='nope'"),
        ({"binarize": "q90"}, None, ValueError, "binarize='q90' is not a rule"),
        ({"n_epochs": -1}, None, ValueError, "n_epochs must be an integer"),
        ({"threshold": 2.0}, None, ValueError, "threshold must be a finite number >= 0 and <= 1"),
        ({"class_threshold": -0.1}, None, ValueError, "class_threshold must be a finite number"),
        ({"min_size": 0}, None, ValueError, "min_size must be an integer >= 1"),
        ({"train_fraction": 0.0}, None, ValueError, "train_fraction must be a finite number > 0"),
        ({"key_added": 3}, None, TypeError, "key_added must be a non-empty string"),
        ({"elastic": (1.0,)}, None, ValueError, "elastic must be a pair"),
        ({"device": "tpu"}, None, ValueError, "device must be"),
        ({"tied_update": "triple"}, None, ValueError, "tied_update"),
        ({"screen": "yes"}, None, ValueError, "screen must be"),
        ({"screen": 1}, None, ValueError, "screen must be"),
        ({"groupby": "group"}, "missing_label", ValueError, "1 missing labels"),
        ({"screen": True}, "no_enriched", ValueError, "screen kept 0 .*screen=False"),
    ],
)
def test_errors_name_the_parameter_and_leave_adata_unchanged(kwargs, prepare, error, match):
    adata = small_adata()
    if prepare == "one_group":
        adata.obs["one"] = "a"
    elif prepare == "empty_row":
        adata.X[3] = 0.0
    elif prepare == "missing_label":
        adata.obs["group"] = adata.obs["group"].cat.add_categories("x")
        adata.obs.loc[adata.obs_names[0], "group"] = np.nan
    elif prepare == "nan":
        adata.X[0, 0] = np.nan
    elif prepare == "no_enriched":  # every feature equally frequent in both groups
        adata.X = np.tile(np.eye(2, dtype=np.float32).repeat(adata.n_vars // 2, axis=1), (adata.n_obs // 2, 1))
        adata.obs["group"] = pd.Categorical(np.repeat(["a", "b"], adata.n_obs // 2))
    before = adata.copy()
    kw = {"groupby": "group", **FAST, **kwargs}
    with pytest.raises(error, match=match):
        fs.tl.diffnaps(adata, **kw)
    assert set(adata.uns) == set(before.uns) and set(adata.varm) == set(before.varm)
    assert set(adata.obsm) == set(before.obsm)


def test_save_model(tmp_path):
    adata = small_adata()
    path = tmp_path / "model.pt"
    fs.tl.diffnaps(adata, "group", **FAST, save_model=path)
    state = torch.load(path, weights_only=False)
    assert state["weights"].shape == (64, adata.n_vars) and state["classes"] == ["g0", "g1", "g2"]
    assert state["var_names"] == list(adata.var_names)
    assert state["alpha"] == adata.uns["diffnaps"]["params"]["alpha"]
    assert "save_model" not in adata.uns["diffnaps"]["params"]
    # the saved weights give back the patterns and class weights that were written
    pats = extract_patterns(state["weights"].numpy(), 0.3, 2)
    np.testing.assert_array_equal(pats.membership.toarray(), adata.varm["diffnaps"])
    cw = np.stack([state["class_weights"].numpy()[:, u].max(1) for u in pats.units], axis=1)
    np.testing.assert_array_equal(cw, adata.uns["diffnaps"]["class_weights"])


def test_screen_trains_on_enriched_features_and_maps_patterns_back(tmp_path):
    adata = fs.datasets.planted_patterns(3000, 2, 1000, random_state=1)
    fs.tl.diffnaps(adata, "class", screen=True, n_epochs=25, batch_size=32, progress=False)
    params = adata.uns["diffnaps"]["params"]
    truth = fs.datasets.planted_pattern_sets(adata.uns["planted"]["patterns"])
    planted_items = set().union(*[p for ps in truth.values() for p in ps])
    assert params["screen_applied"] is True
    # the long patterns shared by all classes (30-75 items each) are screened out; the class ones stay
    # (an item can be lost when it is rare or also sits in a pattern of the other class)
    used = params["n_features_used"]
    assert 0.95 * len(planted_items) <= used < len(planted_items) + 20, (used, len(planted_items))
    membership = adata.varm["diffnaps"]
    assert membership.shape == (3000, adata.obsm["X_diffnaps"].shape[1])
    table = adata.uns["diffnaps"]["patterns"]
    for pid, features in zip(table["pattern_id"], table["features"], strict=True):
        assert set(adata.var_names[membership[:, pid]]) == set(features.split(","))
    scores = fs.metrics.class_soft_f1(_found(adata), truth)
    assert scores["f1"] >= 0.8, scores
    back = h5ad_roundtrip(adata, tmp_path)
    assert_uns_equal(back.uns["diffnaps"], adata.uns["diffnaps"])


def test_saved_model_of_a_screened_run_names_the_features_trained_on(tmp_path):
    adata = fs.datasets.planted_patterns(300, 2, 100, random_state=0)
    path = tmp_path / "model.pt"
    fs.tl.diffnaps(adata, "class", screen=True, **FAST, save_model=path)
    state = torch.load(path, weights_only=False)
    n_used = adata.uns["diffnaps"]["params"]["n_features_used"]
    assert n_used < adata.n_vars
    assert state["weights"].shape[1] == n_used == len(state["var_names"])
    assert set(state["var_names"]) < set(adata.var_names)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_recovers_the_planted_patterns():
    adata = fs.datasets.planted_patterns(200, 2, 500, random_state=0)
    fs.tl.diffnaps(adata, "class", n_epochs=25, batch_size=32, progress=False, device="cuda")
    truth = fs.datasets.planted_pattern_sets(adata.uns["planted"]["patterns"])
    assert fs.metrics.class_soft_f1(_found(adata), truth)["f1"] >= 0.7

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
    "min_support",
    "cooccurrence",
    "level",
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
    "n_unsupported",
}


@pytest.fixture(scope="module")
def planted():
    """3 classes x 500 rows, 500 features, 5 patterns per class, paper noise (10 random items, 2.5 %, purity 0.9)."""
    adata = fs.datasets.planted_patterns(500, 3, 500, random_state=0)
    fs.tl.diffnaps(adata, "class", n_epochs=8, batch_size=32, lambda_s=2.0, progress=False)
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
    # a pattern is assigned to a group exactly when its joint support there passes the test
    params = planted.uns["diffnaps"]["params"]
    min_count = np.maximum(2, np.ceil(params["min_support"] * planted.obs["class"].value_counts()))
    n_tests = 3 * planted.obsm["X_diffnaps"].shape[1]
    for group, n_in, p in zip(assigned["group"], assigned["n_in"], assigned["p_value"], strict=True):
        assert n_in >= min_count[group] and p < params["level"] / n_tests
    general = table[table["group"].isna()]
    held = planted.obsm["X_diffnaps"].astype(bool)
    for pid in general["pattern_id"]:  # held, not differential
        counts = [held[labels == g, pid].sum() for g in ("c0", "c1", "c2")]
        assert max(counts) >= min_count.min()
    # the class head's own verdict is recorded beside the test's
    class_weights = planted.uns["diffnaps"]["class_weights"]
    classes = list(planted.uns["diffnaps"]["classes"])
    for group, pid, head in zip(assigned["group"], assigned["pattern_id"], assigned["head_assigned"], strict=True):
        assert head == bool(np.nan_to_num(class_weights[classes.index(group), pid]) > 0.3)
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
    assert params["screen"] == "auto" and params["min_support"] == 0.05 and params["cooccurrence"] is True
    xb = binarize_matrix(adata.X, "q75", "X")[0].toarray() > 0
    groups = adata.obs["group"].to_numpy()
    min_count = {g: max(2, np.ceil(0.05 * (groups == g).sum())) for g in set(groups)}
    kept = np.any([xb[groups == g].sum(0) >= c for g, c in min_count.items()], axis=0)
    assert params["n_features_used"] == kept.sum() and params["screen_applied"] == (kept.sum() < adata.n_vars)
    assert params["elastic"] == [0.0, 0.0] and params["random_state"] == 0
    assert params["alpha"] == pytest.approx(xb[:, kept].mean())
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
        ({"min_support": 1.0}, None, ValueError, "lower min_support"),
        ({"min_support": 1.5}, None, ValueError, "min_support must be"),
        ({"level": 0.0}, None, ValueError, "level must be"),
        ({"cooccurrence": "yes"}, None, TypeError, "cooccurrence must be True or False"),
        ({"groupby": "score"}, "continuous", ValueError, r"groupby='score'.*continuous.*\d+ distinct values"),
        (
            {"groupby": "cell"},
            "many_levels",
            ValueError,
            r"adata.obs\['cell'\] has 60 distinct values, more than the 50",
        ),
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
    elif prepare == "continuous":
        adata.obs["score"] = np.linspace(0.0, 1.0, adata.n_obs) ** 2
    elif prepare == "many_levels":
        adata.obs["cell"] = pd.Categorical([f"c{i % 60}" for i in range(adata.n_obs)])
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
    params = adata.uns["diffnaps"]["params"]
    state = torch.load(path, weights_only=False)
    assert state["weights"].shape == (64, params["n_features_used"]) and state["classes"] == ["g0", "g1", "g2"]
    assert set(state["var_names"]) <= set(adata.var_names) and len(state["var_names"]) == params["n_features_used"]
    assert state["alpha"] == params["alpha"]
    assert "save_model" not in params
    # every reported network pattern is a pattern of the saved weights, with their class weights
    pats = extract_patterns(state["weights"].numpy(), 0.3, 1)
    saved = {frozenset(np.asarray(state["var_names"])[pats.items(i)]): i for i in range(pats.n_patterns)}
    table = adata.uns["diffnaps"]["patterns"]
    from_net = table[table["source"] != "cooccurrence"].drop_duplicates("pattern_id")
    for pid, features in zip(from_net["pattern_id"], from_net["features"], strict=True):
        i = saved[frozenset(features.split(","))]
        expected = state["class_weights"].numpy()[:, pats.units[i]].max(1)
        np.testing.assert_array_equal(adata.uns["diffnaps"]["class_weights"][:, pid], expected)


def test_screen_keeps_every_feature_a_pattern_can_hold_and_maps_patterns_back(tmp_path):
    adata = fs.datasets.planted_patterns(3000, 2, 300, random_state=1)
    fs.tl.diffnaps(adata, "class", hidden_dim=64, n_epochs=3, batch_size=32, progress=False)
    params = adata.uns["diffnaps"]["params"]
    truth = fs.datasets.planted_pattern_sets(adata.uns["planted"]["patterns"])
    assert params["screen_applied"] is True
    # kept: the features present in >= 5 % of some class (15 of 300 rows), nothing else
    x = adata.X.toarray() > 0
    labels = adata.obs["class"].to_numpy()
    kept = (x[labels == "c0"].sum(0) >= 15) | (x[labels == "c1"].sum(0) >= 15)
    assert params["n_features_used"] == kept.sum() < 3000
    membership = adata.varm["diffnaps"]
    assert membership.shape == (3000, adata.obsm["X_diffnaps"].shape[1])
    assert not membership[~kept].any()
    table = adata.uns["diffnaps"]["patterns"]
    for pid, features in zip(table["pattern_id"], table["features"], strict=True):
        assert set(adata.var_names[membership[:, pid]]) == set(features.split(","))
    scores = fs.metrics.class_soft_f1(_found(adata), truth)
    assert scores["f1"] >= 0.8, scores
    back = h5ad_roundtrip(adata, tmp_path)
    assert_uns_equal(back.uns["diffnaps"], adata.uns["diffnaps"])


def test_interaction_patterns_are_found_through_their_joint_support():
    # every planted item is as frequent in every class: only the joint support separates them
    adata = fs.datasets.interaction_patterns(1000, 3, 300, n_frequent=50, random_state=0)
    x = adata.X.toarray() > 0
    labels = adata.obs["class"].to_numpy()
    truth = fs.datasets.planted_pattern_sets(adata.uns["planted"]["patterns"])
    items = adata.var_names.get_indexer(sorted(set().union(*[p for ps in truth.values() for p in ps])))
    freq = np.stack([x[labels == c][:, items].mean(0) for c in ("c0", "c1", "c2")])
    assert np.abs(freq - 0.4).max() < 0.1
    fs.tl.diffnaps(adata, "class", n_epochs=2, progress=False)
    assert fs.metrics.class_soft_f1(_found(adata), truth)["f1"] >= 0.9
    # the network's patterns alone are judged by the same test: whatever it reports is held by the data
    fs.tl.diffnaps(adata, "class", n_epochs=2, cooccurrence=False, progress=False)
    table = adata.uns["diffnaps"]["patterns"]
    assert set(table["source"]) <= {"network"} and (adata.obsm["X_diffnaps"].sum(0) >= 2).all()


def test_no_reported_pattern_on_pbmc_has_joint_support_zero():
    pbmc = fs.datasets.pbmc68k_reduced()
    fs.tl.diffnaps(pbmc, "bulk_labels", n_epochs=2, progress=False)
    table = pbmc.uns["diffnaps"]["patterns"]
    held = pbmc.obsm["X_diffnaps"].astype(bool)
    assert len(table) and held.shape[1] == pbmc.varm["diffnaps"].shape[1]
    assert (held.sum(0) >= 2).all()
    assigned = table[table["group"].notna()]
    assert (assigned["n_in"] >= 2).all() and (assigned["precision"] > 0).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_recovers_the_planted_patterns():
    adata = fs.datasets.planted_patterns(200, 2, 500, random_state=0)
    fs.tl.diffnaps(adata, "class", n_epochs=25, batch_size=32, progress=False, device="cuda")
    truth = fs.datasets.planted_pattern_sets(adata.uns["planted"]["patterns"])
    assert fs.metrics.class_soft_f1(_found(adata), truth)["f1"] >= 0.7

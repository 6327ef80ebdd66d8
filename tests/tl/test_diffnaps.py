"""fs.tl.diffnaps / fs.tl.binaps: planted patterns recovered, the scanpy contract, binarisation, errors, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import fischer_sc as fs
from fischer_sc.testing import assert_uns_equal, h5ad_roundtrip, small_adata

pytest.importorskip("torch")

FAST = {"n_epochs": 3, "progress": False}


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


def test_coverage_specificity_auc_of_the_found_patterns(planted):
    table = planted.uns["diffnaps"]["patterns"]
    table = table[table["group"].notna()]
    pats: dict[str, list] = {}
    for g, f in zip(table["group"].astype(str), table["features"], strict=True):
        pats.setdefault(g, []).append(planted.var_names.get_indexer(f.split(",")))
    auc = fs.metrics.coverage_specificity_auc(planted.X, planted.obs["class"].astype(str), pats)
    assert auc > 0.5


def test_binaps_finds_the_planted_patterns_without_labels():
    adata = fs.datasets.planted_patterns(200, 2, 1000, random_state=1)
    fs.tl.binaps(adata, n_epochs=10, progress=False)
    truth = [p for ps in fs.datasets.planted_pattern_sets(adata.uns["planted"]["patterns"]).values() for p in ps]
    found = [set(f.split(",")) for f in adata.uns["binaps"]["patterns"]["features"]]
    _, recall, f1 = fs.metrics.soft_precision_recall_f1(found, truth)
    assert recall >= 0.5 and f1 >= 0.4, (recall, f1)
    table = adata.uns["binaps"]["patterns"]
    assert (table["size"] >= 2).all() and list(table.columns[:5]) == [
        "pattern_id",
        "features",
        "size",
        "support",
        "half_support",
    ]
    assert (table["half_support"] >= table["support"]).all()


@pytest.mark.parametrize("tool", ["diffnaps", "binaps"])
def test_contract_copy_key_added_and_h5ad_roundtrip(tool, tmp_path):
    adata = small_adata()
    before = adata.copy()
    kw = {"groupby": "group"} if tool == "diffnaps" else {}
    out = getattr(fs.tl, tool)(adata, **kw, **FAST, key_added="pat", copy=True)
    assert out is not adata and set(adata.uns) == set(before.uns) and set(adata.varm) == set(before.varm)
    assert "pat" in out.varm and "X_pat" in out.obsm and "pat" in out.uns
    n_pat = out.varm["pat"].shape[1]
    assert out.varm["pat"].dtype == bool and out.varm["pat"].shape == (adata.n_vars, n_pat)
    assert out.obsm["X_pat"].dtype == np.uint8 and out.obsm["X_pat"].shape == (adata.n_obs, n_pat)
    uns = out.uns["pat"]
    assert isinstance(uns["patterns"], pd.DataFrame) and isinstance(uns["history"], pd.DataFrame)
    assert len(uns["history"]) == FAST["n_epochs"]
    assert uns["params"]["binarize_applied"] == "q75" and uns["params"]["hidden_dim"] == 64
    assert "device" not in uns["params"] and "progress" not in uns["params"]
    if tool == "diffnaps":
        assert list(uns["classes"]) == ["g0", "g1", "g2"] and uns["class_weights"].shape == (3, n_pat)
    back = h5ad_roundtrip(out, tmp_path)
    assert_uns_equal(back.uns["pat"], out.uns["pat"])
    np.testing.assert_array_equal(back.varm["pat"], out.varm["pat"])
    assert getattr(fs.tl, tool)(adata, **kw, **FAST) is None and tool in adata.uns and f"X_{tool}" in adata.obsm


@pytest.mark.parametrize("tool", ["diffnaps", "binaps"])
def test_same_seed_same_patterns(tool):
    adata = fs.datasets.planted_patterns(120, 2, 150, random_state=3)
    kw = {"groupby": "class"} if tool == "diffnaps" else {}
    a = getattr(fs.tl, tool)(adata, **kw, **FAST, copy=True)
    b = getattr(fs.tl, tool)(adata, **kw, **FAST, copy=True)
    pd.testing.assert_frame_equal(a.uns[tool]["patterns"], b.uns[tool]["patterns"])
    pd.testing.assert_frame_equal(a.uns[tool]["history"], b.uns[tool]["history"])
    np.testing.assert_array_equal(a.varm[tool], b.varm[tool])
    c = getattr(fs.tl, tool)(adata, **kw, **FAST, random_state=1, copy=True)
    assert not a.uns[tool]["history"].equals(c.uns[tool]["history"])


def test_sparse_and_dense_input_give_the_same_result():
    dense = fs.datasets.planted_patterns(100, 2, 100, random_state=2)
    dense.X = dense.X.toarray()
    sp = dense.copy()
    sp.X = sparse.csr_matrix(sp.X)
    a = fs.tl.diffnaps(dense, "class", **FAST, copy=True)
    b = fs.tl.diffnaps(sp, "class", **FAST, copy=True)
    pd.testing.assert_frame_equal(a.uns["diffnaps"]["patterns"], b.uns["diffnaps"]["patterns"])


def test_binarisation_rules():
    from fischer_sc.tl._binarize import binarize_matrix

    x = np.array([[0.0, 5.0, 1.0], [2.0, 0.0, 1.0], [3.0, 0.0, 0.0], [4.0, 1.0, 1.0]])
    q = np.quantile(x, 0.75, axis=0)  # [3.25, 2.0, 1.0]
    expected = x > q
    expected[:, 2] = x[:, 2] > 1.0  # quartile is 1, not 0: strict threshold
    for data in (x, sparse.csr_matrix(x)):
        out, applied = binarize_matrix(data, "q75", "x")
        assert applied == "q75"
        np.testing.assert_array_equal(out.toarray() > 0, expected)
        np.testing.assert_array_equal(binarize_matrix(data, "nonzero", "x")[0].toarray() > 0, x != 0)
        np.testing.assert_array_equal(binarize_matrix(data, 1.5, "x")[0].toarray() > 0, x > 1.5)
    # quartile 0 (sparse column): every non-zero value is present
    y = np.zeros((8, 2))
    y[0, 0], y[1, 0], y[:, 1] = 0.3, 0.1, np.arange(8)
    out, _ = binarize_matrix(sparse.csr_matrix(y), "q75", "y")
    np.testing.assert_array_equal(out.toarray()[:, 0] > 0, y[:, 0] != 0)
    np.testing.assert_array_equal(out.toarray()[:, 1] > 0, y[:, 1] > np.quantile(y[:, 1], 0.75))
    np.testing.assert_array_equal(out.toarray(), binarize_matrix(y, "q75", "y")[0].toarray())
    b = (x > 1).astype(float)
    assert binarize_matrix(b, "auto", "b")[1] == "binary"
    assert binarize_matrix(x, "auto", "x")[1] == "q75"


def test_layer_is_used():
    adata = small_adata()
    out = fs.tl.binaps(adata, layer="counts", binarize="nonzero", **FAST, copy=True)
    assert out.uns["binaps"]["params"]["layer"] == "counts"
    assert out.uns["binaps"]["params"]["binarize_applied"] == "nonzero"


@pytest.mark.parametrize(
    ("kwargs", "prepare", "error", "match"),
    [
        ({"binarize": None}, None, ValueError, "not binary.*binarize='q75'"),
        ({"groupby": "one"}, "one_group", ValueError, "needs at least 2"),
        ({"groupby": "nope"}, None, KeyError, "groupby='nope' is not a column"),
        ({}, "empty_row", ValueError, "empty.*filter_cells"),
        ({}, "nan", ValueError, "NaN"),
        ({"layer": "nope"}, None, KeyError, "layer='nope'"),
        ({"binarize": "q90"}, None, ValueError, "binarize='q90' is not a rule"),
        ({"n_epochs": -1}, None, ValueError, "n_epochs must be an integer"),
        ({"tau_e": 2.0}, None, ValueError, "tau_e must be a number"),
        ({"elastic": (1.0,)}, None, ValueError, "elastic must be a pair"),
        ({"device": "tpu"}, None, ValueError, "device must be"),
        ({"tied_update": "triple"}, None, ValueError, "tied_update"),
        ({"screen": "yes"}, None, ValueError, "screen must be"),
        ({"screen": True}, "no_enriched", ValueError, "screen kept 0 .*screen=False"),
    ],
)
def test_errors_name_the_parameter_and_leave_adata_unchanged(kwargs, prepare, error, match):
    adata = small_adata()
    if prepare == "one_group":
        adata.obs["one"] = "a"
    elif prepare == "empty_row":
        adata.X[3] = 0.0
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


def test_binaps_rejects_non_binary_data_without_a_rule():
    with pytest.raises(ValueError, match="not binary"):
        fs.tl.binaps(small_adata(), binarize=None, **FAST)


def test_save_model(tmp_path):
    torch = pytest.importorskip("torch")
    adata = small_adata()
    path = tmp_path / "model.pt"
    fs.tl.diffnaps(adata, "group", **FAST, save_model=path)
    state = torch.load(path, weights_only=False)
    assert state["weights"].shape == (64, adata.n_vars) and state["classes"] == ["g0", "g1", "g2"]
    assert "save_model" not in adata.uns["diffnaps"]["params"]


def test_select_thresholds_returns_a_grid_point():
    from fischer_sc.core.binarynet._patterns import contains, extract_patterns, select_thresholds

    w = np.array([[0.9, 0.8, 0.05, 0.0], [0.0, 0.1, 0.9, 0.95]])
    x = sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]], dtype=float))
    tau_e, tau_c, err = select_thresholds(x, w, np.array([-1.0, -1.0]), grid=(0.05, 0.5))
    assert tau_e == 0.5 and np.isnan(tau_c) and err == 0.0
    pats = extract_patterns(np.vstack([w, w[:1]]), 0.5, min_size=2)
    assert pats.n_patterns == 2 and [list(u) for u in pats.units] == [[0, 2], [1]]
    np.testing.assert_array_equal(contains(x, pats.membership), [[True, False], [False, True], [True, True]])


def test_progress_bar_shows_and_can_be_silenced(capfd):
    adata = small_adata()
    fs.tl.binaps(adata, n_epochs=2, progress=True)
    assert "epoch" in capfd.readouterr().err
    fs.tl.binaps(adata, n_epochs=2, progress=False)
    assert capfd.readouterr().err == ""


def test_enriched_features_by_hand():
    from fischer_sc.core.binarynet._patterns import enriched_features

    x = np.array(
        [[1, 1, 1], [1, 1, 1], [1, 1, 0], [1, 1, 0], [0, 1, 1], [0, 1, 1], [0, 1, 0], [0, 1, 0]], dtype=np.float32
    )
    labels = np.repeat([0, 1], 4)
    keep, z = enriched_features(sparse.csr_matrix(x), labels, 2)
    # feature 0: 4/4 in class 0, 0/4 outside; pooled 1/2, se = sqrt(1/4 * (1/4 + 1/4)) -> z = 1 / sqrt(1/8)
    # feature 1: everywhere (se 0 -> 0); feature 2: 2/4 in each class (z 0)
    np.testing.assert_allclose(z, [np.sqrt(8.0), 0.0, 0.0], atol=1e-12)
    # one-sided Bonferroni over 3 features x 2 classes at 0.05: z > 2.394
    assert keep.tolist() == [0]
    keep, _ = enriched_features(sparse.csr_matrix(x), labels, 2, level=1e-3)  # z needs > 3.34 now
    assert keep.tolist() == []


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
    assert scores["f1"] >= 0.8, scores  # 0.90 on this machine
    back = h5ad_roundtrip(adata, tmp_path)
    assert_uns_equal(back.uns["diffnaps"], adata.uns["diffnaps"])


def test_saved_model_of_a_screened_run_names_the_features_trained_on(tmp_path):
    torch = pytest.importorskip("torch")
    adata = fs.datasets.planted_patterns(300, 2, 100, random_state=0)
    path = tmp_path / "model.pt"
    fs.tl.diffnaps(adata, "class", screen=True, **FAST, save_model=path)
    state = torch.load(path, weights_only=False)
    n_used = adata.uns["diffnaps"]["params"]["n_features_used"]
    assert n_used < adata.n_vars
    assert state["weights"].shape[1] == n_used == len(state["var_names"])
    assert set(state["var_names"]) < set(adata.var_names)

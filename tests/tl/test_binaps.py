"""fs.tl.binaps: planted patterns recovered without labels, the scanpy contract, the key rule, params, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fischer_sc as fs
from fischer_sc._utils import resolve_seed
from fischer_sc.core.binarynet import binarize_matrix
from fischer_sc.testing import assert_uns_equal, h5ad_roundtrip, small_adata

FAST = {"n_epochs": 3, "progress": False}

BINAPS_PARAMS = {
    "binarize",
    "hidden_dim",
    "n_epochs",
    "batch_size",
    "learning_rate",
    "lambda_s",
    "threshold",
    "min_size",
    "tied_update",
    "random_state",
    "binarize_applied",
    "alpha",
}


def _holds(xb: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """Which rows hold every feature of each pattern, by brute force."""
    cols = [xb[:, membership[:, p]].all(axis=1) for p in range(membership.shape[1])]
    return np.stack(cols, axis=1) if cols else np.zeros((xb.shape[0], 0), dtype=bool)


def test_binaps_finds_the_planted_patterns_without_labels():
    adata = fs.datasets.planted_patterns(200, 2, 1000, random_state=1)
    fs.tl.binaps(adata, n_epochs=10, progress=False)
    truth = [p for ps in fs.datasets.planted_pattern_sets(adata.uns["planted"]["patterns"]).values() for p in ps]
    found = [set(f.split(",")) for f in adata.uns["binaps"]["patterns"]["features"]]
    _, recall, f1 = fs.metrics.soft_precision_recall_f1(found, truth)
    assert recall >= 0.5 and f1 >= 0.4, (recall, f1)
    table = adata.uns["binaps"]["patterns"]
    assert (table["size"] >= 2).all()  # the default min_size
    assert list(table.columns) == ["pattern_id", "features", "size", "support", "half_support"]
    assert (table["half_support"] >= table["support"]).all()
    assert table["support"].is_monotonic_decreasing
    # the table, the membership and the per-observation matrix say the same thing
    holds = _holds(adata.X.toarray() > 0, adata.varm["binaps"])
    np.testing.assert_array_equal(adata.obsm["X_binaps"], holds.astype(np.uint8))
    ids = table["pattern_id"].to_numpy()
    np.testing.assert_allclose(table["support"], holds.mean(0)[ids])
    for pid, features in zip(ids, table["features"], strict=True):
        assert features == ",".join(adata.var_names[adata.varm["binaps"][:, pid]])


def test_contract_copy_keys_params_and_h5ad_roundtrip(tmp_path):
    adata = small_adata()
    before = adata.copy()
    out = fs.tl.binaps(adata, **FAST, copy=True)
    assert set(adata.uns) == set(before.uns) and set(adata.varm) == set(before.varm)
    assert set(adata.obsm) == set(before.obsm)
    params = out.uns["binaps"]["params"]
    assert set(params) == BINAPS_PARAMS
    assert (params["binarize"], params["binarize_applied"], params["hidden_dim"]) == ("auto", "q75", 64)
    assert (params["threshold"], params["min_size"], params["random_state"]) == (0.2, 2, 0)
    xb = binarize_matrix(adata.X, "q75", "X")[0].toarray() > 0
    assert params["alpha"] == pytest.approx(xb.mean())
    membership = out.varm["binaps"]
    assert membership.dtype == bool and membership.shape[0] == adata.n_vars
    np.testing.assert_array_equal(out.obsm["X_binaps"], _holds(xb, membership).astype(np.uint8))
    assert len(out.uns["binaps"]["history"]) == FAST["n_epochs"]
    back = h5ad_roundtrip(out, tmp_path)
    assert_uns_equal(back.uns["binaps"], out.uns["binaps"])
    np.testing.assert_array_equal(back.varm["binaps"], membership)
    assert fs.tl.binaps(adata, **FAST) is None
    np.testing.assert_array_equal(adata.varm["binaps"], membership)


def test_key_added_names_every_key():
    adata = small_adata()
    out = fs.tl.binaps(adata, layer="counts", binarize="nonzero", **FAST, key_added="pat", copy=True)
    ref = fs.tl.binaps(adata, layer="counts", binarize="nonzero", **FAST, copy=True)
    assert set(out.obsm) - set(adata.obsm) == {"pat"} and set(out.varm) == {"pat"} and "pat" in out.uns
    assert "binaps" not in out.uns and "X_pat" not in out.obsm
    np.testing.assert_array_equal(out.obsm["pat"], ref.obsm["X_binaps"])
    np.testing.assert_array_equal(out.varm["pat"], ref.varm["binaps"])
    params = out.uns["pat"]["params"]
    assert set(params) == BINAPS_PARAMS | {"layer", "key_added"}
    assert (params["layer"], params["key_added"], params["binarize_applied"]) == ("counts", "pat", "nonzero")
    with pytest.raises(TypeError, match="key_added must be a non-empty string"):
        fs.tl.binaps(adata, **FAST, key_added="")


def test_same_seed_same_patterns():
    adata = fs.datasets.planted_patterns(120, 2, 150, random_state=3)
    a = fs.tl.binaps(adata, **FAST, copy=True)
    b = fs.tl.binaps(adata, **FAST, copy=True)
    pd.testing.assert_frame_equal(a.uns["binaps"]["patterns"], b.uns["binaps"]["patterns"])
    pd.testing.assert_frame_equal(a.uns["binaps"]["history"], b.uns["binaps"]["history"])
    np.testing.assert_array_equal(a.varm["binaps"], b.varm["binaps"])
    c = fs.tl.binaps(adata, **FAST, random_state=1, copy=True)
    assert not a.uns["binaps"]["history"].equals(c.uns["binaps"]["history"])
    d = fs.tl.binaps(adata, **FAST, random_state=np.random.default_rng(0), copy=True)
    assert d.uns["binaps"]["params"]["random_state"] == resolve_seed(np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"binarize": None}, ValueError, "not binary.*binarize='q75'"),
        ({"threshold": 1.5}, ValueError, "threshold must be a finite number"),
        ({"min_size": 0}, ValueError, "min_size must be an integer >= 1"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate must be a finite number > 0"),
        ({"device": "tpu"}, ValueError, "device must be"),
        ({"tied_update": "triple"}, ValueError, "tied_update"),
    ],
)
def test_errors_name_the_parameter_and_leave_adata_unchanged(kwargs, error, match):
    adata = small_adata()
    with pytest.raises(error, match=match):
        fs.tl.binaps(adata, **FAST, **kwargs)
    assert "binaps" not in adata.uns and not adata.varm and "X_binaps" not in adata.obsm


def test_progress_bar_shows_and_can_be_silenced(capfd):
    adata = small_adata()
    fs.tl.binaps(adata, n_epochs=2, progress=True)
    assert "epoch" in capfd.readouterr().err
    fs.tl.binaps(adata, n_epochs=2, progress=False)
    assert capfd.readouterr().err == ""

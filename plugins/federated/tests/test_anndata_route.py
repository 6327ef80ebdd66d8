"""The AnnData route: clients from an obs key, a federated cell-label classifier, results in obs and uns."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from fischer_sc_federated import federated_classifier


def _cells(seed=0, n_donors=4, per_donor=40, n_types=3, d=12):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(n_types, d))
    donors, types, rows = [], [], []
    for k in range(n_donors):
        shift = rng.normal(0, 0.3, size=d)  # a mild donor effect
        t = rng.integers(0, n_types, per_donor)
        rows.append(centres[t] + shift + rng.normal(size=(per_donor, d)))
        donors += [f"donor{k}"] * per_donor
        types += [f"type{i}" for i in t]
    obs = pd.DataFrame({"donor": pd.Categorical(donors), "cell_type": pd.Categorical(types)})
    obs.index = obs.index.astype(str)
    return ad.AnnData(np.vstack(rows).astype(np.float32), obs=obs)


def test_writes_predictions_per_client_accuracy_and_survives_h5ad(tmp_path):
    adata = _cells()
    federated_classifier(adata, "donor", "cell_type", rounds=60, agg_period=10, lr=0.3, random_state=0)
    pred = adata.obs["federated_prediction"]
    assert list(pred.cat.categories) == ["type0", "type1", "type2"]
    test = adata.obs["federated_split"] == "test"
    assert 0.15 < test.mean() < 0.25
    acc = float((pred[test].astype(str) == adata.obs["cell_type"][test].astype(str)).mean())
    uns = adata.uns["federated"]
    assert acc == pytest.approx(uns["test_accuracy"]) and acc > 0.9
    ca = uns["client_accuracy"]
    assert list(ca["client"]) == ["donor0", "donor1", "donor2", "donor3"]
    assert int(ca["n_train"].sum() + ca["n_test"].sum()) == adata.n_obs
    for c, a in zip(ca["client"], ca["accuracy"], strict=True):
        sel = test & (adata.obs["donor"] == c)
        assert a == pytest.approx(float((pred[sel].astype(str) == adata.obs["cell_type"][sel].astype(str)).mean()))
    assert uns["params"]["method"] == "feddc" and uns["params"]["use_rep"] == "X"
    path = tmp_path / "fed.h5ad"
    adata.write_h5ad(path)
    back = ad.read_h5ad(path)
    np.testing.assert_allclose(back.uns["federated"]["client_accuracy"]["accuracy"], ca["accuracy"])
    assert back.uns["federated"]["params"]["client_key"] == "donor"


def test_copy_key_added_and_fedavg():
    adata = _cells(seed=1)
    out = federated_classifier(adata, "donor", "cell_type", method="fedavg", rounds=20, key_added="fa", copy=True)
    assert "fa_prediction" in out.obs and "fa" in out.uns and out.uns["fa"]["params"]["method"] == "fedavg"
    assert "fa_prediction" not in adata.obs and "fa" not in adata.uns


def test_bad_input_raises_and_leaves_adata_unchanged():
    adata = _cells()
    before = adata.copy()
    with pytest.raises(KeyError, match="client_key='site'"):
        federated_classifier(adata, "site", "cell_type")
    with pytest.raises(KeyError, match="label_key='label'"):
        federated_classifier(adata, "donor", "label")
    with pytest.raises(KeyError, match="use_rep='X_nope'"):
        federated_classifier(adata, "donor", "cell_type", use_rep="X_nope")
    with pytest.raises(ValueError, match="method"):
        federated_classifier(adata, "donor", "cell_type", method="scaffold")
    one = adata.copy()
    one.obs["donor"] = "d0"
    with pytest.raises(ValueError, match="at least 2"):
        federated_classifier(one, "donor", "cell_type")
    nan = adata.copy()
    nan.X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        federated_classifier(nan, "donor", "cell_type")
    assert list(adata.obs.columns) == list(before.obs.columns) and dict(adata.uns) == {}

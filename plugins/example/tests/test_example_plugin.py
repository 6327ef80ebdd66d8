import numpy as np
import pytest

import fischer_sc as fs
from fischer_sc.testing import small_adata


def test_discovered_through_entry_point():
    df = fs.plugins.list_methods()
    row = df[df["name"] == "group_centroids"]
    assert len(row) == 1
    assert row["provider"].item() == "fischer_sc_example"
    assert row["plugin"].item() == "example"
    assert row["version"].item() == "0.1.0"


def test_run_matches_numpy():
    adata = small_adata()
    out = fs.plugins.run("group_centroids", adata, "group", use_rep="X")
    x = np.asarray(adata.X, dtype=np.float64)
    g = adata.obs["group"].to_numpy()
    c0, c1 = x[g == "g0"].mean(0), x[g == "g1"].mean(0)
    assert out.loc["g0", "g1"] == pytest.approx(np.linalg.norm(c0 - c1))
    np.testing.assert_allclose(np.diag(out.to_numpy()), 0.0)


def test_errors_name_the_parameter():
    adata = small_adata()
    with pytest.raises(KeyError, match="groupby='nope'"):
        fs.plugins.run("group_centroids", adata, "nope")
    with pytest.raises(KeyError, match="use_rep='X_nope'"):
        fs.plugins.run("group_centroids", adata, "group", use_rep="X_nope")

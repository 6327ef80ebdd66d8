"""The public test helpers, which plugins use too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from fischer_sc.testing import assert_uns_equal, h5ad_roundtrip, small_adata


def test_small_adata_has_planted_groups():
    adata = small_adata(n_obs=30, n_vars=5, n_groups=3)
    assert adata.shape == (30, 5)
    assert list(adata.obs["group"].cat.categories) == ["g0", "g1", "g2"]
    x = np.asarray(adata.X)
    means = np.stack([x[adata.obs["group"] == g].mean(0) for g in ["g0", "g1", "g2"]])
    within = np.mean([x[adata.obs["group"] == g].std(0).mean() for g in ["g0", "g1", "g2"]])
    assert np.linalg.norm(means[0] - means[1]) > 3 * within  # the groups are really separated
    np.testing.assert_array_equal(small_adata().X, small_adata().X)


def test_roundtrip_keeps_nested_uns(tmp_path):
    adata = small_adata()
    adata.uns["tool"] = {
        "params": {"perplexity": 30.0, "method": "exact", "flag": True, "pair": [1, 2]},
        "table": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
        "array": np.arange(4.0),
        "graph": sparse.random(5, 5, density=0.3, format="csr", random_state=0),
    }
    back = h5ad_roundtrip(adata, tmp_path)
    assert_uns_equal(back.uns["tool"], adata.uns["tool"])


def test_uns_comparison_can_fail():
    with pytest.raises(AssertionError, match="keys differ"):
        assert_uns_equal({"a": 1}, {"b": 1})
    with pytest.raises(AssertionError, match=r"uns\['p'\]\['x'\]"):
        assert_uns_equal({"p": {"x": 1}}, {"p": {"x": 2}})
    with pytest.raises(AssertionError):
        assert_uns_equal({"a": np.arange(3)}, {"a": np.arange(1, 4)})

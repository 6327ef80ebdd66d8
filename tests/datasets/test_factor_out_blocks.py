"""The factor-out synthetic set: sizes, independence of the blocks, seeds, h5ad."""

from __future__ import annotations

import numpy as np
import pandas as pd

import fischer_sc as fs
from fischer_sc.testing import h5ad_roundtrip


def test_shape_sizes_and_blocks(tmp_path):
    adata = fs.datasets.factor_out_blocks(0)
    assert adata.shape == (2000, 14) and adata.X.dtype == np.float32
    assert sorted(adata.obs["block_a"].value_counts()) == [200, 400, 600, 800]
    assert sorted(adata.obs["block_b"].value_counts()) == [100, 300, 500, 1100]
    np.testing.assert_array_equal(adata.obsm["X_block_a"], adata.X[:, :8])
    np.testing.assert_array_equal(adata.obsm["X_block_b"], adata.X[:, 8:12])
    # independent assignments: every combination occurs, in about the product proportions
    table = pd.crosstab(adata.obs["block_a"], adata.obs["block_b"]).to_numpy()
    expected = np.outer(table.sum(1), table.sum(0)) / 2000
    assert (table > 0).all() and np.abs(table - expected).max() < 0.35 * expected.max()
    # the noise dimensions are N(0, 1)
    assert abs(adata.X[:, 12:].std() - 1) < 0.1
    back = h5ad_roundtrip(adata, tmp_path)
    np.testing.assert_array_equal(back.X, adata.X)


def test_seeds():
    a, b, c = (fs.datasets.factor_out_blocks(s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)

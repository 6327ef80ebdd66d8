"""The 14-dimensional synthetic set of the factor-out paper: two independent cluster structures plus noise."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Cluster sizes of the two blocks (the paper gives n = 2 000 and "different sizes"; these are ours).
SIZES_A = (200, 400, 600, 800)
SIZES_B = (100, 300, 500, 1100)


def _block(rng: np.random.Generator, sizes: tuple[int, ...], dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Cluster labels (shuffled, so independent of any other block) and points N(mu_c, I), mu_c ~ N(0, 10^2 I)."""
    labels = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    means = rng.normal(scale=10.0, size=(len(sizes), dims))
    return labels, means[labels] + rng.normal(size=(labels.size, dims))


def factor_out_blocks(random_state: int = 0):
    """The synthetic set of Heiter et al. (factor out prior knowledge): n = 2 000 points in 14 dimensions.

    * dimensions 1-8 (block A): 4 clusters of 200 / 400 / 600 / 800 points;
    * dimensions 9-12 (block B): an independent 4-cluster assignment of 100 / 300 / 500 / 1100 points;
    * dimensions 13-14: N(0, 1) noise.

    Cluster means are N(0, 10^2 I) in their block, points N(mean, I). The prior is block A: its
    labels (``obs["block_a"]``) or the Euclidean distance on dimensions 1-8 (``obsm["X_block_a"]``);
    a method that factors it out keeps block B (``obs["block_b"]``) visible.

    Parameters
    ----------
    random_state
        Seed of the generator.

    Returns
    -------
    :class:`~anndata.AnnData` with float32 ``X`` (2 000 x 14), ``obs["block_a"]`` and
    ``obs["block_b"]`` (categorical labels), ``obsm["X_block_a"]`` (dimensions 1-8),
    ``obsm["X_block_b"]`` (dimensions 9-12) and ``uns["factor_out_blocks"]`` (sizes and seed).
    """
    import anndata as ad

    rng = np.random.default_rng(random_state)
    la, xa = _block(rng, SIZES_A, 8)
    lb, xb = _block(rng, SIZES_B, 4)
    x = np.hstack([xa, xb, rng.normal(size=(la.size, 2))]).astype(np.float32)
    obs = pd.DataFrame(
        {
            "block_a": pd.Categorical(la.astype(str), categories=[str(i) for i in range(len(SIZES_A))]),
            "block_b": pd.Categorical(lb.astype(str), categories=[str(i) for i in range(len(SIZES_B))]),
        },
        index=pd.Index([f"cell{i}" for i in range(la.size)]),
    )
    adata = ad.AnnData(x, obs=obs)
    adata.obsm["X_block_a"] = x[:, :8].copy()
    adata.obsm["X_block_b"] = x[:, 8:12].copy()
    adata.uns["factor_out_blocks"] = {
        "random_state": int(random_state),
        "sizes_a": np.asarray(SIZES_A),
        "sizes_b": np.asarray(SIZES_B),
    }
    return adata

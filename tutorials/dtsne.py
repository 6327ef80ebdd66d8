# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Density-preserving t-SNE
#
# t-SNE and UMAP keep who is near whom, but not how spread out each region is
# {cite:p}`dtsne`. Two toy examples of the paper show it:
#
# 1. clusters with *different spreads* come out the same size;
# 2. clusters that differ only in their *number of points* come out different sizes.
#
# {func}`fs.tl.dtsne <fischer_sc.tl.dtsne>` keeps the t-SNE objective but scales the
# low-dimensional kernel of each pair by the two points' local radii from perplexity
# calibration, so relative densities survive. This tutorial reproduces both toys, comparing
# dtSNE with plain t-SNE from the same engine (`pair_scale=None`), and then embeds real cells.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
import scanpy as sc

import fischer_sc as fs

sc.settings.verbosity = 0  # no progress bars in the rendered page


def side_by_side(adata, title):
    """dtSNE and t-SNE of ``adata``, coloured by cluster, on a shared figure."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    x = adata.X
    for c in adata.obs["cluster"].cat.categories:
        m = (adata.obs["cluster"] == c).to_numpy()
        axes[0].scatter(x[m, 0], x[m, 1], s=3, label=c)
        axes[1].scatter(*adata.obsm["X_dtsne"][m].T, s=3)
        axes[2].scatter(*adata.obsm["X_tsne_core"][m].T, s=3)
    for ax, name in zip(axes, ["data", "dtSNE", "t-SNE (same engine, pair_scale=None)"], strict=True):
        ax.set_title(name)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].legend(title="cluster", markerscale=4, fontsize=8)
    fig.suptitle(title, y=1.04)
    plt.close(fig)  # returned, so the notebook shows it once whatever the matplotlib backend
    return fig


def size_ratios(adata):
    """Per cluster: radius in the embedding / radius in the data, relative to the largest cluster (ideal: all 1)."""
    return pd.DataFrame(
        {
            key: fs.metrics.cluster_size_ratios(adata.X, adata.obsm[key], adata.obs["cluster"].to_numpy())
            for key in ("X_dtsne", "X_tsne_core")
        }
    ).round(2)


# %% [markdown]
# ## Different densities
#
# Three Gaussians in 2-D with standard deviations 1, 2 and 4 and 300 points each (the
# `2d_density` preset of {func}`fs.datasets.gaussian_blobs <fischer_sc.datasets.gaussian_blobs>`).

# %%
dens = fs.datasets.gaussian_blobs("2d_density", random_state=0)
fs.tl.dtsne(dens)
fs.tl.dtsne(dens, pair_scale=None, key_added="X_tsne_core")
side_by_side(dens, "Different spreads, equal sizes")

# %% [markdown]
# t-SNE draws the three clusters at nearly the same size. dtSNE keeps their ratio: the table
# gives each cluster's radius in the embedding divided by its radius in the data, relative to
# the widest cluster, so a faithful embedding has all ratios 1.

# %%
size_ratios(dens)

# %% [markdown]
# ## Different sample sizes
#
# The same means with one spread for all, but 100, 300 and 900 points (`2d_size`). A good
# embedding draws them at the same size.

# %%
size = fs.datasets.gaussian_blobs("2d_size", random_state=0)
fs.tl.dtsne(size)
fs.tl.dtsne(size, pair_scale=None, key_added="X_tsne_core")
side_by_side(size, "Equal spreads, different sizes")

# %%
size_ratios(size)

# %% [markdown]
# The density of points differs ninefold between the clusters, so the perplexity-calibrated
# radii differ too; because dtSNE puts the radii into the kernel, a cluster with more points is
# not drawn larger than one with the same spread and fewer points.
#
# ## How well are densities kept?
#
# {func}`fs.metrics.density_correlation <fischer_sc.metrics.density_correlation>` correlates the
# log distance to the 10th neighbour in the data and in the embedding;
# {func}`fs.metrics.knn_recall <fischer_sc.metrics.knn_recall>` is the share of each point's 15
# nearest neighbours that the embedding keeps.

# %%
rows = []
for name, adata in {"2d_density": dens, "2d_size": size}.items():
    for key in ("X_dtsne", "X_tsne_core"):
        rows.append(
            {
                "data": name,
                "embedding": key,
                "density correlation": fs.metrics.density_correlation(adata.X, adata.obsm[key], k=10),
                "kNN recall@15": fs.metrics.knn_recall(adata.X, adata.obsm[key], k=15),
            }
        )
pd.DataFrame(rows).round(3)

# %% [markdown]
# ## On cells
#
# dtSNE is a scanpy tool: it reads the representation scanpy would use (here the 50 principal
# components), writes `obsm["X_dtsne"]` and `uns["dtsne"]`, and plots with
# {func}`fs.pl.dtsne <fischer_sc.pl.dtsne>` or `sc.pl.embedding(adata, "dtsne")`.

# %%
pbmc = fs.datasets.pbmc68k_reduced()
fs.tl.dtsne(pbmc)
ax = fs.pl.dtsne(pbmc, color="bulk_labels", show=False)

# %%
pbmc.uns["dtsne"]["params"], round(pbmc.uns["dtsne"]["kl_divergence"], 3)

# %% [markdown]
# ## Choices we made
#
# - **Kernel.** The paper's exact low-dimensional kernel is not public; we use
#   w_ij = 1 / (1 + gamma_ij ||y_i - y_j||^2) with gamma_ij = beta_ij / median(beta) and
#   beta_ij from the arithmetic mean of the two radii (`pair_scale="mean"`, the default). The
#   geometric mean (`"geometric"`) is available; see the API page for why `"mean"` is the default.
# - **Repulsion.** The per-pair kernel is not translation-invariant, so FFT acceleration does not
#   apply. Up to 2 000 cells the repulsion is exact; above, a Barnes-Hut tree whose cells carry
#   the first two moments of the radii (`repulsion="barnes_hut"`, `theta=0.8`).
# - **Optimisation** follows openTSNE: early exaggeration 12 for 250 iterations, then 500 more,
#   learning rate n / exaggeration, PCA initialisation scaled to standard deviation 1e-4.

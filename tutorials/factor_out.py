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
# # Factoring known structure out of an embedding
#
# An embedding of real cells is dominated by what we already know: batch, cell-cycle phase,
# the cell types we annotated. {func}`fs.tl.factor_out <fischer_sc.tl.factor_out>` computes an
# embedding that shows the structure of the data *beyond* such a prior {cite:p}`factor_out`:
#
# - **JEDI** (default) runs t-SNE while *maximising* a bounded Jensen-Shannon divergence between
#   the embedding and the prior's affinities, at t-SNE speed;
# - **CONFETTI** replaces the distance between cells by F = D'X - (lam/2) D'Z + lam, both
#   distances scaled to [0, 1], and embeds the exact nearest neighbours under F with UMAP (or the
#   package's t-SNE engine);
# - **ct-SNE** conditions t-SNE's similarities on prior labels (a baseline).
#
# We first use the synthetic set of the paper, where the truth is known, and then factor the
# cell-cycle phase out of the PBMCs that ship with scanpy.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scanpy as sc

import fischer_sc as fs

sc.settings.verbosity = 0  # no progress bars in the rendered page

# %% [markdown]
# ## Two independent cluster structures
#
# {func}`fs.datasets.factor_out_blocks <fischer_sc.datasets.factor_out_blocks>` has 14 dimensions:
# four clusters in dimensions 1-8 (block A, `obs["block_a"]`), an *independent* assignment to four
# other clusters in dimensions 9-12 (block B, `obs["block_b"]`), and two noise dimensions. Block A
# is the prior. We use 1 000 of its 2 000 points to keep this page fast.

# %%
full = fs.datasets.factor_out_blocks(random_state=0)
adata = full[np.sort(np.random.default_rng(0).choice(full.n_obs, 1000, replace=False))].copy()
pd.crosstab(adata.obs["block_a"], adata.obs["block_b"])

# %%
fs.tl.dtsne(adata, pair_scale=None, key_added="X_tsne")  # plain t-SNE: no prior
fs.tl.factor_out(adata, "block_a", method="jedi")  # JEDI with the block-A labels as prior
fs.tl.factor_out(adata, "X_block_a", key_added="X_jedi_dist")  # the default for a feature prior: JEDI
fs.tl.factor_out(adata, "block_a", key_added="X_ctsne")  # the default for a label prior: ct-SNE
fs.tl.factor_out(adata, "block_a", method="confetti", key_added="X_confetti")  # + UMAP
fs.tl.factor_out(adata, "X_block_a", method="confetti", embedding="tsne", key_added="X_confetti_dist")

# %%
runs = {
    "t-SNE (no prior)": "X_tsne",
    "JEDI (labels)": "X_factor_out",
    "JEDI (distances)": "X_jedi_dist",
    "ct-SNE (labels)": "X_ctsne",
    "CONFETTI + UMAP (labels)": "X_confetti",
    "CONFETTI + t-SNE (distances)": "X_confetti_dist",
}
fig, axes = plt.subplots(2, len(runs), figsize=(3.2 * len(runs), 6.4))
for col, (name, key) in enumerate(runs.items()):
    for row, labels in enumerate(["block_a", "block_b"]):
        ax = axes[row, col]
        for c in adata.obs[labels].cat.categories:
            m = (adata.obs[labels] == c).to_numpy()
            ax.scatter(*adata.obsm[key][m].T, s=2)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{name}\ncoloured by {labels}" if row == 0 else f"coloured by {labels}", fontsize=8)
plt.close(fig)
fig

# %% [markdown]
# Plain t-SNE shows block A as four islands and splits every block-B cluster across them. With
# the prior factored out the block-A colours mix, and the block-B clusters come together.
# The neighbourhood-overlap areas of the paper say the same in numbers: the
# label-overlap area is 0 for an embedding that ignores the labels; `normalize=True` divides it
# by its value for perfectly separated labels.

# %%
x = np.asarray(adata.X, dtype=float)
la, lb = adata.obs["block_a"].to_numpy(), adata.obs["block_b"].to_numpy()
table = pd.DataFrame(
    [
        {
            "embedding": name,
            "area vs data": fs.metrics.neighbourhood_overlap_auc(x, adata.obsm[key]),
            "prior (block A) area, normalised": fs.metrics.label_overlap_auc(adata.obsm[key], la, normalize=True),
            "hidden (block B) area, normalised": fs.metrics.label_overlap_auc(adata.obsm[key], lb, normalize=True),
            "15-NN accuracy block A": fs.metrics.knn_label_accuracy(adata.obsm[key], la),
            "15-NN accuracy block B": fs.metrics.knn_label_accuracy(adata.obsm[key], lb),
        }
        for name, key in runs.items()
    ]
).round(3)
table

# %% [markdown]
# Three things to know about the parameters (details in {doc}`../factor_out`):
#
# - The prior's linear effect is removed first (`regress_out=True`, what `sc.pp.regress_out`
#   does), then, only while the prior is still visible among the cells' neighbours, its local
#   effects (`local_correct=True`: effects that differ per cluster or are non-linear, by
#   mutual-nearest-neighbour alignment of the prior groups); the method removes what is left.
#   What these stages measured and did is in `adata.uns["factor_out"]["correction"]`. Here block
#   A acts linearly; the label means also carry each label's share of block-B clusters, so the
#   linear step leaves a trace (visibility 0.07 of the data's 1.0). The alignment's first moves
#   are only a third above those of random groups (`alignment_signal` 0.34; it runs from 0.5),
#   so no round runs and the method removes the trace in the layout.
# - `lam` weighs the prior term. `"auto"` (default) chooses it from the data: JEDI raises it on
#   the running layout until the prior's neighbourhoods are gone, CONFETTI takes the smallest
#   lambda whose graph hides the prior. The weight used is in
#   `adata.uns["factor_out"]["params"]["lam_used"]`.
# - CONFETTI's lam is the bonus, in units of the data's diameter, that pairs *dissimilar* in the
#   prior get. With a label prior every different label gets the same bonus, so each point's
#   F-neighbours come from the *nearest* other label: the labels are paired up rather than mixed,
#   and the prior stays partly visible (see the table). For label priors use JEDI or ct-SNE.
# - JEDI's label prior is the paper's: uniform over all same-label cells. Its term is estimated
#   from 8 same-label partners per cell, drawn afresh in every iteration.
#
# ## Cell cycle out of PBMCs
#
# `pbmc68k_reduced` carries the cell-cycle `phase` scored from marker genes. We factor it out of
# the 50 principal components and check that the annotated populations stay apart.

# %%
pbmc = fs.datasets.pbmc68k_reduced()
fs.tl.factor_out(pbmc, "phase", use_rep="X_pca", method="jedi")  # JEDI
fs.tl.factor_out(pbmc, "phase", method="confetti", use_rep="X_pca", key_added="X_confetti")
fs.pl.factor_out(pbmc, color=["phase", "bulk_labels"], wspace=0.5)  # JEDI: obsm["X_factor_out"]
fs.pl.factor_out(pbmc, key="X_confetti", color=["phase", "bulk_labels"], wspace=0.5)  # key = the key_added

# %% [markdown]
# CONFETTI's graph is stored as {func}`scanpy.pp.neighbors` stores one, under the record
# `uns["X_confetti_neighbors"]` (`key_added` + `"_neighbors"`), so scanpy's tools run on the
# factored-out neighbourhoods, e.g. `sc.tl.leiden(pbmc, neighbors_key="X_confetti_neighbors")`.

# %%
rows = []
for name, key in (("UMAP (no prior)", "X_umap"), ("JEDI", "X_factor_out"), ("CONFETTI + UMAP", "X_confetti")):
    y = pbmc.obsm[key]
    rows.append(
        {
            "embedding": name,
            "phase area": fs.metrics.label_overlap_auc(y, pbmc.obs["phase"]),
            "phase 15-NN accuracy": fs.metrics.knn_label_accuracy(y, pbmc.obs["phase"]),
            "bulk_labels 15-NN accuracy": fs.metrics.knn_label_accuracy(y, pbmc.obs["bulk_labels"]),
        }
    )
pd.DataFrame(rows).round(3)

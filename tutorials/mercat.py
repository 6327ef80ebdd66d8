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
# # Mercat: angle-preserving embeddings on the sphere
#
# t-SNE and UMAP keep neighbourhoods but bend or tear the global picture. Mercat
# {cite:p}`mercat` keeps the **angles of triangles** of the data instead: angles do not depend on
# scale, so one objective covers neighbourhoods and the global layout alike. The embedding lives
# on the unit sphere S², which has room for structure a plane lacks (a closed surface, a loop
# without a tear), and is drawn as two hemispheres or as a map.
#
# {func}`fs.tl.mercat <fischer_sc.tl.mercat>` denoises the data by PCA at a Marchenko-Pastur
# rank, starts from the first two principal components spread over half the sphere, and fits the
# angles of triangles sampled afresh every epoch by Riemannian gradient steps on the sphere.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scanpy as sc

import fischer_sc as fs

# %% [markdown]
# ## A sphere hidden in 50 dimensions
#
# 600 points uniform on a sphere, placed in a random 3-D subspace of R^50 with noise on every
# coordinate. A plane cannot show a sphere without folding it; Mercat can unfold it.

# %%
adata = fs.datasets.noisy_sphere(600, 50, noise=0.05)
fs.tl.mercat(adata, n_epochs=300, progress=False)
adata.uns["mercat"]["denoise_rank"], round(adata.uns["mercat"]["loss"], 4)

# %% [markdown]
# The Marchenko-Pastur rule found the three signal directions. Now compare the angles of 20 000
# random triangles in the (noise-free) data with those of Mercat (chord angles of the points on
# the sphere) and of the first two principal components:

# %%
truth = adata.obsm["X_truth"]
pca2 = np.asarray(adata.X, dtype=float) @ np.linalg.svd(adata.X - adata.X.mean(0), full_matrices=False)[2][:2].T
scores = {
    "Mercat": fs.metrics.angle_preservation(truth, adata.obsm["X_mercat"], n_triples=20_000),
    "PCA, 2-D": fs.metrics.angle_preservation(truth, pca2, n_triples=20_000),
}
pd.DataFrame(scores).T.round(3)

# %% [markdown]
# The sphere view shows the front hemisphere (centred on the data's mean direction) and the back
# one, coloured by the octant each point came from: every octant is one spherical triangle again.

# %%
fs.pl.mercat(adata, color="octant", show=False)
plt.show()

# %% [markdown]
# ## Cells on the sphere
#
# On `pbmc68k_reduced` Mercat uses the stored 50 principal components as they are (they already
# are a PCA); the map view is an equirectangular projection (longitude, latitude) that
# {func}`scanpy.pl.embedding` draws like any embedding.

# %%
pbmc = fs.datasets.pbmc68k_reduced()
fs.tl.mercat(pbmc, n_epochs=200, progress=False)
fs.pl.mercat(pbmc, color="bulk_labels", show=False)
plt.show()

# %%
fs.pl.mercat(pbmc, view="map", color="bulk_labels", show=False)
plt.show()

# %% [markdown]
# Mercat's angles against UMAP's on the same cells (angles measured on the 50 PCs):

# %%
sc.pp.neighbors(pbmc, random_state=0)
sc.tl.umap(pbmc, random_state=0)
x = pbmc.obsm["X_pca"]
pd.DataFrame(
    {
        "Mercat": fs.metrics.angle_preservation(x, pbmc.obsm["X_mercat"], n_triples=20_000),
        "UMAP": fs.metrics.angle_preservation(x, pbmc.obsm["X_umap"], n_triples=20_000),
    }
).T.round(3)

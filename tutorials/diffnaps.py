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
# # Differential patterns with DiffNaps
#
# Marker genes are found one at a time. DiffNaps {cite:p}`diffnaps` looks for *sets* of
# features that occur together in one group of cells and rarely in the others. It learns them as
# the weights of a binarised autoencoder with a classification head, trained by gradient descent,
# and judges each pattern by its joint support in every group (how many observations hold all of
# its features).
# Its unsupervised base, BinaPs {cite:p}`binaps`, finds co-occurring sets without labels.
#
# This tutorial first checks the method on data with known patterns, then mines the PBMCs that
# ship with scanpy.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
import scanpy as sc

import fischer_sc as fs

sc.settings.verbosity = 0  # no progress bars in the rendered page
pd.set_option("display.max_colwidth", 80)

# %% [markdown]
# ## Planted patterns
#
# {func}`fs.datasets.planted_patterns <fischer_sc.datasets.planted_patterns>` is the generator
# of the paper's synthetic experiments. Each class owns a few random feature sets; every row is
# the union of three of its class's patterns, plus 10 random features. Then 2.5 % of the bits of
# the contained patterns are flipped, and labels are redrawn so that only 90 % of the rows keep
# their class.

# %%
planted = fs.datasets.planted_patterns(500, n_classes=3, n_obs_per_class=500, random_state=0)
planted

# %% [markdown]
# {func}`fs.tl.diffnaps <fischer_sc.tl.diffnaps>` trains the network (here for 10 epochs; its
# hidden layer is sized for the features it trains on). After training, a hidden unit's pattern is
# the set of features whose encoder weight exceeds `threshold` (0.3). Beside the network's patterns,
# candidate patterns are grown from features that co-occur beyond independence within a group
# (`cooccurrence=True`). Every candidate is then judged on the data: it is reported only if at least
# `min_support` (5 %) of some group's observations hold *all* its features (its joint support), and
# it is assigned to the groups where that joint support is significantly higher than in the other
# observations (one-sided Fisher exact test, Bonferroni over patterns and groups; `p_value`). The
# `source` column says where a pattern came from; `head_assigned` whether the network's class head
# agrees with the test. Features present in fewer than `min_support` of every group's observations
# cannot be part of such a pattern, so the network is trained without them (`screen`).

# %%
fs.tl.diffnaps(planted, "class", n_epochs=10)
found = planted.uns["diffnaps"]["patterns"]
found[["group", "features", "size", "support_in", "support_out", "precision", "source"]].head(10)

# %% [markdown]
# The soft F1 of the paper matches every found pattern of a class with its best planted pattern of
# that class (Jaccard similarity), and the other way round; a pattern assigned to the wrong class
# counts as a miss.

# %%
truth = fs.datasets.planted_pattern_sets(planted.uns["planted"]["patterns"])
mine = fs.datasets.planted_pattern_sets(found[found["group"].notna()])
pd.Series(fs.metrics.class_soft_f1(mine, truth)).round(3)

# %% [markdown]
# ## Patterns no single feature reveals
#
# In {func}`fs.datasets.interaction_patterns <fischer_sc.datasets.interaction_patterns>` every
# planted feature is present in 40 % of the rows of *every* class; the features of a pattern occur
# together only in their own class. A marker-gene test sees nothing here: only the joint support
# separates the classes. 100 decoy features are as frequent as the planted ones.

# %%
inter = fs.datasets.interaction_patterns(1000, n_classes=3, n_obs_per_class=500, label_purity=0.9)
fs.tl.diffnaps(inter, "class", n_epochs=5)
table = inter.uns["diffnaps"]["patterns"]
truth = fs.datasets.planted_pattern_sets(inter.uns["planted"]["patterns"])
mine = fs.datasets.planted_pattern_sets(table[table["group"].notna()])
table[["group", "features", "support_in", "support_out", "p_value", "source"]].head(6)

# %%
pd.Series(fs.metrics.class_soft_f1(mine, truth)).round(3)

# %% [markdown]
# Here the co-occurrence seeds find the patterns; the network alone (`cooccurrence=False`) mostly
# merges the frequent features into large sets that no row holds, which the joint-support test then
# refuses to report (see the DiffNaps notes for the measured sweep).

# %% [markdown]
# ## Gene sets of the PBMC populations
#
# `pbmc68k_reduced` holds 700 cells with scaled expression of 765 genes. With the default
# `binarize="auto"`, a gene counts as present in a cell when its value exceeds the gene's upper
# quartile. `bulk_labels` is the FACS-sorted population of each cell.

# %%
pbmc = fs.datasets.pbmc68k_reduced()
fs.tl.diffnaps(pbmc, "bulk_labels", n_epochs=10)
patterns = pbmc.uns["diffnaps"]["patterns"]
patterns[["group", "features", "size", "support_in", "support_out", "log_odds"]].dropna(subset=["group"]).head(12)

# %% [markdown]
# The heatmap shows what fraction of each population holds each pattern fully; the dot plot shows
# which genes make up each pattern. A differential pattern is bright in its own column only.

# %%
fig = fs.pl.diffnaps(pbmc, n_patterns=12, return_fig=True)
plt.close(fig)
fig

# %% [markdown]
# The coverage-specificity AUC of the paper sums up the whole set: the share of each group's cells
# covered by patterns specific to that group, averaged over specificity levels from 0 to 1.
# `obsm["X_diffnaps"]` already says which cell holds which pattern, so each pattern is passed as
# its own column of that matrix.

# %%
table = patterns.dropna(subset=["group"])
by_group = {}
for group, pid in zip(table["group"].astype(str), table["pattern_id"], strict=True):
    by_group.setdefault(group, []).append([pid])
activity = pbmc.obsm["X_diffnaps"]
labels = pbmc.obs["bulk_labels"].astype(str)
summary = {
    "patterns": len(table),
    "mean size (genes)": table["size"].mean(),
    "mean log-odds": table["log_odds"].mean(),  # skips patterns absent outside their group
    "coverage-specificity AUC": fs.metrics.coverage_specificity_auc(activity, labels, by_group),
}
pd.Series(summary).round(3)

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
# # Dynamic gene regulatory networks with DASH
#
# Time-resolved expression tells which genes change after which. PHOENIX {cite:p}`phoenix` fits a
# neural ODE whose weights read as a signed regulator -> target network; DASH {cite:p}`dash`
# prunes it with a score that mixes weight magnitude with prior knowledge of who regulates whom.
# The prior can be incomplete or partly wrong: the data decide where it is kept.
#
# This tutorial simulates a small network with known edges, corrupts the prior, and checks what
# `fs.tl.dash_grn` recovers at its defaults; the network is small, so the numbers are rough.

# %%
# %matplotlib inline
import numpy as np
import pandas as pd
import scanpy as sc

import fischer_sc as fs
from fischer_sc.core.ode import edge_scores

sc.settings.verbosity = 0

# %% [markdown]
# ## A network with known edges
#
# {func}`fs.datasets.random_signed_network <fischer_sc.datasets.random_signed_network>` draws a
# signed network (row = regulator, column = target);
# {func}`fs.datasets.simulate_grn <fischer_sc.datasets.simulate_grn>` runs its Boolean -> Hill ODE
# from random starting states and observes every trajectory at DASH's times 0, 2, 3, 7 and 9.

# %%
truth = fs.datasets.random_signed_network(10, random_state=0)
adata = fs.datasets.simulate_grn(truth, n_trajectories=60, noise=0.025, random_state=0)
adata

# %% [markdown]
# The prior is the true network with 20 % of its edges moved to random places
# ({func}`fs.datasets.corrupt_prior <fischer_sc.datasets.corrupt_prior>`). It can be a
# `varp` key, a genes x genes array, or a decoupler-style table (`source`, `target`, `weight`),
# as here:

# %%
prior = fs.datasets.corrupt_prior(truth, 0.2, random_state=0)
rows, cols = np.nonzero(prior)
genes = adata.var_names.to_numpy()
prior_table = {"source": genes[rows], "target": genes[cols], "weight": prior[rows, cols]}
prior_table = pd.DataFrame(prior_table)
prior_table.head()

# %% [markdown]
# ## Fitting and pruning
#
# Consecutive time points of each trajectory are the training pairs. The defaults train for 70
# epochs (20 optimiser steps each) with PHOENIX's soft prior loss (weight 0.001); the first
# pruning event after epoch 25 removes 70 % of every layer, later events every 3 epochs remove
# 10 % of what is left, down to
# exactly 80 % sparsity. Each event scores a weight half by its magnitude and half by how well it
# fits the layer that would reproduce the prior (`lambda_ppi = lambda_motif = 0.5`).

# %%
fs.tl.dash_grn(adata, prior_table, trajectory_key="trajectory", progress=False)
adata.uns["dash_grn"]["edges"].head(10)

# %% [markdown]
# `varp["dash_grn"]` holds the regulator x target matrix `E`; the edge table ranks its non-zero
# entries and marks which were in the prior. The figure shows the strongest edges (solid: in the
# prior, dashed: found by the model) and the training curve with its pruning events.

# %%
fs.pl.grn(adata, n_edges=25)

# %% [markdown]
# ## Against the truth
#
# Edge AUROC of PHOENIX's per-target score, and balanced accuracy of the predicted edge set,
# next to the prior's own.

# %%
e = adata.varp["dash_grn"]
pd.DataFrame(
    {
        "edge AUROC": [fs.metrics.edge_auroc(edge_scores(e), truth), fs.metrics.edge_auroc(np.abs(prior), truth)],
        "balanced accuracy": [
            fs.metrics.edge_balanced_accuracy(e, truth),
            fs.metrics.edge_balanced_accuracy(prior, truth),
        ],
    },
    index=["dash_grn", "the prior alone"],
).round(3)

# %% [markdown]
# With 150 trajectories instead of 60 the model has more data to override the prior with;
# `benchmarks/dash_grn_sweep.py` measures DASH at these defaults against magnitude pruning, the
# unpruned model and the prior alone on several simulated networks, and `benchmarks/dash_grn.py`
# adds a GRNBoost2-style peer and the runtime at 11 and 300 genes.

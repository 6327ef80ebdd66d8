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
# # Federated learning from tiny datasets: FedDC daisy-chaining
#
# When every site of a federation (a hospital, a lab) holds only a handful of samples, models trained
# locally are poor and averaging them does not help much. FedDC (Kamp, Fischer & Vreeken, ICLR 2023,
# arXiv 2110.03469) interleaves averaging with *daisy-chaining*: between averaging rounds the server
# hands every local model on to another random client, so each model trains on a chain of small datasets.
#
# This tutorial uses the first-party plugin `fischer_sc_federated` (`plugins/federated/`) to
#
# 1. split the digits data that ships with scikit-learn over 100 clients with 4 samples each,
# 2. train the same small network with FedDC and with FedAvg in the in-process simulator,
# 3. train a cell-type classifier across sites of an AnnData object,
# 4. show the same federation on Flower, the framework a real deployment would use.
#
# It runs in well under a minute on a laptop CPU.

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fischer_sc as fs
import fischer_sc_federated as fed

fs.plugins.list_methods(domain="federated")[["name", "provider", "summary"]]

# %% [markdown]
# ## A federation of 100 clients with 4 samples each
#
# `split_clients` draws disjoint local datasets without replacement from the training pool. The model is
# an MLP with one hidden layer of 64 units; every client takes one full-batch SGD step per round.

# %%
X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split((X / 16).astype(np.float32), y, test_size=0.2, stratify=y, random_state=0)
parts = fed.split_clients(Xtr, ytr, n_clients=100, n_per_client=4, random_state=0)
print(len(parts), "clients;", parts.X.shape, "local data (clients x samples x features)")


def model_fn():
    return fed.mlp(64, 10, hidden=64)


# %% [markdown]
# FedDC hands the models on every round (`daisy_period=1`) and averages every 50 rounds; FedAvg averages
# every 50 rounds and otherwise leaves each model with its client. Both are the same engine:
# `fedavg(...)` is `feddc(..., daisy_period=None)`.

# %%
common = {"rounds": 200, "agg_period": 50, "lr": 0.1, "eval_data": (Xte, yte), "eval_every": 10, "random_state": 0}
res_dc = fed.feddc(model_fn, parts, daisy_period=1, **common)
res_avg = fed.fedavg(model_fn, parts, **common)
res_dc.history.tail(3)

# %% [markdown]
# `history` has one row per evaluation: the accuracy of the averaged model (`acc_avg_model`) and the
# mean, minimum and maximum accuracy of the clients' own models. Right after an averaging round all
# clients hold the same model and the two coincide.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, res in [("FedDC (d=1, b=50)", res_dc), ("FedAvg (b=50)", res_avg)]:
    h = res.history
    ax.plot(h["round"], h["acc_client_mean"], label=f"{name}: client models")
    ax.plot(h["round"], h["acc_avg_model"], "o", ms=3, color=ax.lines[-1].get_color())
ax.set_xlabel("round")
ax.set_ylabel("test accuracy")
ax.legend()
plt.show()
print(
    f"final accuracy: FedDC {res_dc.history.acc_avg_model.iloc[-1]:.3f}, FedAvg {res_avg.history.acc_avg_model.iloc[-1]:.3f}"
)

# %% [markdown]
# The averaged model is an ordinary torch module: `res_dc.model`, or `res_dc.predict(X)` for class codes.
# Client-side differential privacy is one option away (`dp={"clip": 2.0, "noise_multiplier": 0.01}`: every
# round's update is clipped to norm 2 and noised with standard deviation 0.01 * 2). Without it,
# daisy-chaining is *not* private against the client that receives a model.

# %% [markdown]
# ## Cells from several sites: a federated cell-type classifier
#
# `federated_classifier` takes the clients from an obs column (donor, site), holds out 20 % of every
# client's cells, trains on the rest with FedDC and writes predictions and per-client accuracy back.
# pbmc68k_reduced has no site column, so we deal its 700 cells out to 6 pretend sites.

# %%
adata = fs.datasets.pbmc68k_reduced()
adata.obs["site"] = np.random.default_rng(0).choice([f"site{i}" for i in range(6)], adata.n_obs)
fed.federated_classifier(adata, "site", "bulk_labels", use_rep="X_pca", rounds=100, agg_period=10, lr=0.1)
ca = adata.uns["federated"]["client_accuracy"]
print("held-out accuracy:", round(adata.uns["federated"]["test_accuracy"], 3))
dict(zip(ca["client"], np.round(ca["accuracy"], 3), strict=True))

# %%
adata.obs[["bulk_labels", "federated_prediction", "federated_split"]].head()

# %% [markdown]
# ## The same federation on Flower
#
# In a real deployment every client runs a Flower `ClientApp` on its own machine and the server runs
# `FedDCStrategy`, a strategy for Flower's Message API that sends every node its own model and lets the
# same `DaisyChainServer` decide on hand-offs and averaging. `run_flower_simulation` runs the whole
# federation on Flower's local simulation engine (Ray), one SuperNode per client, and returns the same
# kind of result. It needs the extra `pip install 'fischer-sc-federated[flower]'`. Starting Ray and
# exchanging messages with every node takes about a minute even for 10 clients on a small machine, so
# the cell below only runs when you set `RUN_FLOWER = True`.

# %%
RUN_FLOWER = False
if RUN_FLOWER:
    small = fed.split_clients(Xtr, ytr, n_clients=10, n_per_client=8, random_state=0)
    kw = {"rounds": 40, "daisy_period": 1, "agg_period": 10, "lr": 0.5, "eval_data": (Xte, yte), "random_state": 0}
    on_flower = fed.run_flower_simulation(model_fn, small, **kw)
    in_process = fed.feddc(model_fn, small, **kw)
    print(on_flower.history.acc_avg_model.iloc[-1], in_process.history.acc_avg_model.iloc[-1])

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
# # The method registry
#
# `fischer_sc` keeps one index of every method it knows: the built-in omics tools of `fs.tl` and
# the methods of installed plugin packages. This tutorial shows how to
#
# 1. list the registered methods and inspect one,
# 2. run a method from a plugin on a real data set,
# 3. see what a tool that has not landed yet does,
# 4. write a plugin of your own and register it,
# 5. disable plugins.
#
# It runs in a few seconds on data that ships with scanpy.

# %%
import os
import warnings

import fischer_sc as fs

fs.__version__

# %% [markdown]
# ## Listing methods
#
# {func}`fs.plugins.list_methods() <fischer_sc.plugins.list_methods>` returns a
# {class}`pandas.DataFrame` with one row per method: its name and domain, the distribution that
# provides it and that distribution's version, the plugin name (the one to use in
# `FISCHER_SC_DISABLE_PLUGINS`), a one-line summary and the paper it implements.

# %%
methods = fs.plugins.list_methods()
methods[["name", "domain", "provider", "version", "plugin", "reference"]]

# %% [markdown]
# The built-in tools are registered by the plugin `fischer_sc` itself; `group_centroids` comes
# from the example plugin package `fischer_sc_example` (in `plugins/example/` of the repository),
# which is found through its entry point exactly as a third-party package would be.
#
# Filter by domain (`"omics"`, `"nlp"`, `"vision"`, `"pruning"` or `"federated"`):

# %%
fs.plugins.list_methods(domain="omics")[["name", "provider", "summary"]]

# %%
methods.groupby("domain")["name"].apply(", ".join).to_frame("methods")

# %% [markdown]
# ## Inspecting a method
#
# {func}`fs.plugins.get <fischer_sc.plugins.get>` returns the method's
# {class}`~fischer_sc.plugins.MethodSpec`. Plugins usually register their function lazily, as a
# `"module:attr"` string, so that nothing heavy is imported while the registry is built; `get`
# imports it and checks that the modules listed in `requires` are installed.

# %%
spec = fs.plugins.get("group_centroids")
print("name:        ", spec.name)
print("domain:      ", spec.domain)
print("summary:     ", spec.summary)
print("requires:    ", spec.requires)
print("supports_gpu:", spec.supports_gpu)
print("func:        ", f"{spec.func.__module__}.{spec.func.__qualname__}")

# %% [markdown]
# An unknown name raises an {class}`~fischer_sc.plugins.UnknownMethodError` (a `KeyError`) that
# lists the names that are registered:

# %%
try:
    fs.plugins.get("group_centroid")
except KeyError as e:
    print(e)

# %% [markdown]
# ## Running a plugin's method
#
# {func}`fs.plugins.run <fischer_sc.plugins.run>` passes its arguments to the method unchanged.
# `group_centroids` computes the distances between the group means of a representation; here
# the PCA coordinates of 700 PBMCs, grouped by their `bulk_labels`.

# %%
adata = fs.datasets.pbmc68k_reduced()
adata

# %%
dist = fs.plugins.run("group_centroids", adata, "bulk_labels", use_rep="X_pca")
dist.round(1)

# %% [markdown]
# The closest pair of distinct groups:

# %%
pairs = dist.where(dist > 0).stack()
print(pairs.idxmin(), round(float(pairs.min()), 2))

# %% [markdown]
# ## Tools that have not landed yet
#
# Every `fs.tl` tool exists with its final signature, but until its implementation lands it
# raises {class}`NotImplementedError` instead of returning a placeholder. The message names the
# capability it arrives with (see the {doc}`status page <../status>`).

# %%
try:
    out = fs.tl.dtsne(adata, copy=True)
except NotImplementedError as e:
    print(f"NotImplementedError: {e}")
else:
    print("fs.tl.dtsne is implemented; it returned", type(out).__name__)

# %% [markdown]
# ## Writing a plugin
#
# A plugin implements one hook, `fischer_sc_register_methods`, marked with
# {data}`fs.hookimpl <fischer_sc.hookimpl>`, which returns
# {class}`~fischer_sc.plugins.MethodSpec` records. A package makes it discoverable with an entry
# point in the group `fischer_sc` in its `pyproject.toml`; the entry point's name (`my_plugin`)
# is the plugin's name:
#
# ```toml
# [project.entry-points.fischer_sc]
# my_plugin = "my_package.plugin"
# ```
#
# Once such a package is installed, the default registry picks it up (call
# {func}`fs.plugins.refresh() <fischer_sc.plugins.refresh>` in a running session). Here we do
# not install anything: {func}`fs.plugins.build_registry <fischer_sc.plugins.build_registry>`
# builds a fresh registry and accepts plugin objects directly, which is how tests and
# applications bundle their own methods.
#
# Our method measures how spread out each group is: the mean distance of a group's cells to their
# group's centroid.

# %%
import numpy as np
import pandas as pd

from fischer_sc.plugins import MethodSpec


def group_spread(adata, groupby, *, use_rep="X_pca"):
    """Mean Euclidean distance of each group's observations to the group centroid."""
    x = np.asarray(adata.obsm[use_rep], dtype=np.float64)
    labels = adata.obs[groupby]
    spread = {}
    for group in labels.cat.categories:
        xg = x[(labels == group).to_numpy()]
        spread[group] = float(np.linalg.norm(xg - xg.mean(axis=0), axis=1).mean())
    return pd.Series(spread, name="spread").sort_values()


class MyPlugin:
    """A plugin object: anything with a hook implementation works (a module, a class instance)."""

    @fs.hookimpl
    def fischer_sc_register_methods(self):
        return [
            MethodSpec(
                name="group_spread",
                domain="omics",
                summary="Mean distance of each group's observations to the group centroid.",
                func=group_spread,
            )
        ]


registry = fs.plugins.build_registry(plugins=[("my_plugin", MyPlugin())])
registry.names()

# %% [markdown]
# The new registry holds the built-in tools, our method, and the installed plugins. Each method
# remembers its provider:

# %%
registry.registration("group_spread").provider

# %%
registry.run("group_spread", adata, "bulk_labels")

# %% [markdown]
# The default registry of `fs.plugins.list_methods()` is untouched: `build_registry` never
# changes it.

# %%
print("group_spread in the default registry:", "group_spread" in fs.plugins.list_methods()["name"].tolist())

# %% [markdown]
# Method names are unique. A plugin that registers a name that is already taken makes building
# the registry fail with a {class}`~fischer_sc.plugins.DuplicateMethodError` naming both
# providers:


# %%
class Clash:
    @fs.hookimpl
    def fischer_sc_register_methods(self):
        return [MethodSpec(name="dtsne", domain="omics", summary="Another dtSNE.", func=group_spread)]


try:
    fs.plugins.build_registry(plugins=[("clash", Clash())])
except fs.plugins.DuplicateMethodError as e:
    print(e)

# %% [markdown]
# A broken plugin, on the other hand, does not take the others down: it is reported with a
# {class}`~fischer_sc.plugins.PluginWarning` and skipped, and the reason is kept in
# {attr}`Registry.failed <fischer_sc.plugins.Registry.failed>`.


# %%
class Broken:
    @fs.hookimpl
    def fischer_sc_register_methods(self):
        msg = "this plugin is broken"
        raise RuntimeError(msg)


with warnings.catch_warnings(record=True, action="always") as caught:
    partial = fs.plugins.build_registry(plugins=[("broken", Broken()), ("my_plugin", MyPlugin())])
for w in caught:
    print(f"{w.category.__name__}: {w.message}")
print("failed:", partial.failed)
print("group_spread still registered:", "group_spread" in partial.names())

# %% [markdown]
# ## Disabling plugins
#
# Set `FISCHER_SC_DISABLE_PLUGINS` to a comma-separated list of plugin names to block them, for
# example when a plugin is broken or two plugins clash:
#
# ```bash
# FISCHER_SC_DISABLE_PLUGINS=example python my_analysis.py
# ```
#
# `build_registry(disabled=[...])` does the same for one registry:

# %%
without_example = fs.plugins.build_registry(disabled=["example"])
print("blocked:", without_example.blocked)
print("group_centroids registered:", "group_centroids" in without_example.names())

# %% [markdown]
# The default registry reads the environment variable when it is built; after changing it in a
# running session, call {func}`fs.plugins.refresh() <fischer_sc.plugins.refresh>`:

# %%
os.environ["FISCHER_SC_DISABLE_PLUGINS"] = "example"
fs.plugins.refresh()
print("with FISCHER_SC_DISABLE_PLUGINS=example:", sorted(fs.plugins.list_methods()["plugin"].unique()))

del os.environ["FISCHER_SC_DISABLE_PLUGINS"]
fs.plugins.refresh()
print("without it:                             ", sorted(fs.plugins.list_methods()["plugin"].unique()))

# %% [markdown]
# ## Next steps
#
# - {doc}`../plugins` describes the registry in full, including the fields of
#   {class}`~fischer_sc.plugins.MethodSpec`.
# - `plugins/example/` in the repository is the template for a plugin package.

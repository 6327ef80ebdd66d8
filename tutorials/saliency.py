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
# # Class-relevant saliency maps with VAR
#
# An attribution map explains one logit in isolation, so the map for "3" on an image that also
# holds a "5", a "7" and a "9" often lights up all four digits. VAR (arXiv 2503.07346) explains
# every class of a competitor set, lets the maps compete pixel by pixel (a softmax over the classes
# of `T * A_c`, the signed maps scaled by their shared maximum, with the package's defaults; of
# `T * |A_c|` in the reference's setting) and keeps only the evidence on which the target dominates.
#
# This tutorial trains a small classifier on scikit-learn's 8x8 digits (it ships with the library,
# nothing is downloaded), tiles test digits into 2x2 grids, and compares the maps of a base method
# with and without VAR, first by eye, then with the grid pointing game.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import fischer_sc as fs
from fischer_sc_saliency import grid_pointing_game, load_digit_data, make_digit_grids, train_digits_model

torch.set_num_threads(1)  # a tiny model: one thread is fastest

# %% [markdown]
# ## A classifier of 16x16 canvases
#
# Every training digit is shown at all four quadrants of a blank 16x16 canvas; the model is the
# spec's MLP (256-256-10). The grids hold four test digits of four different classes, each of which
# the model classifies correctly when it is shown alone.

# %%
data = load_digit_data()
model = train_digits_model("mlp", data, epochs=8, random_state=0)
grids = make_digit_grids(model, data.test_images, data.test_labels, n_grids=60, random_state=0)
grids.classes[:3]  # the class in each quadrant: top-left, top-right, bottom-left, bottom-right

# %% [markdown]
# ## Maps through the registry
#
# `var_saliency` takes the model, images `(B, C, H, W)`, the target and the competitor set. Here
# the set is the four classes of the grid, and each of them is explained in turn. A tensor gives a
# tensor back, an array an array; the model is left exactly as it was. `return_details=True` also
# returns the K base maps, so base and VAR come from the same attributions.

# %%
g = 0
x = grids.x[g : g + 1]
classes = grids.classes[g].tolist()
rows = []
for c in classes:
    var_map, details = fs.plugins.run(
        "var_saliency", model, x, target=c, classes=classes, base="input_x_gradient", return_details=True
    )
    base_map = details.base_maps[0, details.target_index[0]]
    rows.append((c, base_map.sum(0), var_map[0].sum(0)))

quadrant = {c: q for q, c in enumerate(classes)}
fig, axes = plt.subplots(2, 5, figsize=(10, 4.4))
axes[0, 0].imshow(x[0, 0], cmap="gray_r")
axes[0, 0].set_title("grid")
axes[1, 0].axis("off")
for j, (c, base_map, var_map) in enumerate(rows, start=1):
    for i, (m, name) in enumerate(((base_map, "IxG"), (var_map, "VAR"))):
        pos = np.maximum(m, 0)  # the positive part, which the pointing game scores
        share = fs.metrics.localisation_mass(m, grids.regions[quadrant[c]])
        axes[i, j].imshow(pos, cmap="Reds", vmin=0, vmax=pos.max() or 1.0)
        axes[i, j].set_title(f"{name}, class {c}: {share:.2f}")
for ax in [a for a in axes.flat if a is not axes[1, 0]]:
    ax.axhline(7.5, color="0.6", lw=0.8)
    ax.axvline(7.5, color="0.6", lw=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()

# %% [markdown]
# The top row shows the positive part of input x gradient for each of the four classes, the bottom
# row the same after VAR; each title gives the share of the map's positive mass that lies in the
# class's own quadrant (0.25 is chance). Every base map spreads over all four digits; VAR removes
# most of the evidence that a competitor explains as strongly, so the maps become sparse, and the
# share in the own quadrant tends to rise. VAR never adds evidence: wherever its map is not zero,
# it has the sign of the base map and a smaller magnitude.
#
# ## The grid pointing game
#
# For every cell's class, the share of the map's positive mass that falls in that cell, averaged
# over grids and cells: 1 is perfect, 0.25 is chance. Base and VAR are scored on the same base
# maps.

# %%
for base, kw in (("input_x_gradient", None), ("integrated_gradients", {"n_steps": 16})):
    r = grid_pointing_game(model, grids, base=base, base_kwargs=kw, progress=False)
    print(f"{base:22s} base {r.base:.3f}  with VAR {r.var:.3f}  sparsity-matched control {r.control:.3f}")

# %% [markdown]
# VAR's maps are sparse, and keeping only a map's strongest pixels can raise the score by itself.
# The control scores the base map cut to as many positive pixels as VAR keeps: VAR adds class
# competition only where it beats the control. With the package's defaults (competition on the
# signed maps, `normalize="joint_max"`, τ = 0.1) it does; with the reference's setting
# (`use_abs=True, normalize=None, tau=0.01`) the gain on this MLP is no larger than the control's.
# `benchmarks/saliency_settings.py` and `benchmarks/saliency.py` measure both over several trainings,
# for an MLP and two CNNs, with the randomisation checks (`model_randomisation`, `random_logit`);
# see the documentation page on saliency for the numbers and for when VAR helps and when it does not.

"""Plots of DiffNaps/BinaPs patterns: a patterns x groups support heatmap and a membership dot plot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from fischer_sc._utils import OutputKeys, check_int, resolve_keys

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _label(row: pd.Series, max_features: int) -> str:
    feats = str(row["features"]).split(",")
    text = ",".join(feats[:max_features]) + (f",+{len(feats) - max_features}" if len(feats) > max_features else "")
    group = row.get("group")
    return f"{group}: {text}" if isinstance(group, str) else text


def _top_patterns(table: pd.DataFrame, n_patterns: int) -> pd.DataFrame:
    if "group" in table:
        assigned = table[table["group"].notna()].copy()
        if len(assigned):
            assigned["group"] = assigned["group"].astype(str)
            # the best patterns of every group, so that no group is crowded out
            per = max(1, n_patterns // max(1, assigned["group"].nunique()))
            keep = assigned.sort_values(["group", "precision"], ascending=[True, False]).groupby("group").head(per)
            return keep.head(n_patterns)
        return table.head(0)
    return table.head(n_patterns)


def _keys(adata: AnnData, key: str | None) -> OutputKeys:
    """The keys written by the tool run with ``key_added=key`` (``None``: fs.tl.diffnaps' defaults)."""
    keys = resolve_keys("diffnaps", key)
    if key in ("diffnaps", "binaps") and keys.obsm not in adata.obsm:
        keys = resolve_keys(key, None)  # the tool's own default output, e.g. obsm["X_binaps"]
    return keys


def _empty(
    adata: AnnData, uns: Mapping, ax: Axes | None, return_fig: bool, show: bool | None
) -> Figure | list[Axes] | None:
    """An axes that says no pattern was found (and why it could be), instead of an empty heatmap."""
    import matplotlib.pyplot as plt

    n_rows = len(uns["patterns"])
    reason = "no pattern" if n_rows == 0 else f"{n_rows} pattern rows, none assigned to a group"
    text = f"No differential pattern to show ({reason}).\nTry more epochs, a lower min_support, or more observations."
    fig, a = plt.subplots(figsize=(5.0, 2.0)) if ax is None else (ax.figure, ax)
    a.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=a.transAxes)
    a.set_axis_off()
    if return_fig:
        return fig
    if show:
        plt.show()
        return None
    return [a]


def diffnaps(
    adata: AnnData,
    groupby: str | None = None,
    *,
    key: str | None = None,
    kind: Literal["both", "heatmap", "dotplot"] = "both",
    n_patterns: int = 20,
    max_features: int = 4,
    cmap: str = "viridis",
    ax: Axes | None = None,
    show: bool | None = None,
    return_fig: bool = False,
) -> Figure | list[Axes] | None:
    """Patterns found by :func:`fischer_sc.tl.diffnaps` (or :func:`~fischer_sc.tl.binaps`).

    The heatmap shows, for the top patterns of each group, the fraction of every group's observations
    that hold the whole pattern (the tool's ``obsm`` entry): a differential pattern is bright in its
    own group only. The dot plot shows which features make up each pattern (its ``varm`` entry),
    dots sized by the pattern's support in its group.

    Parameters
    ----------
    adata
        Annotated data matrix after :func:`fischer_sc.tl.diffnaps`.
    groupby
        ``obs`` column of the heatmap's columns; ``None`` takes the tool's ``groupby``.
    key
        The ``key_added`` the tool was run with; the keys are found by the tools' rule
        (``obsm[key]``, ``varm[key]``, ``uns[key]``). ``None``: the defaults of
        :func:`fischer_sc.tl.diffnaps` (``obsm['X_diffnaps']``, ``varm['diffnaps']``,
        ``uns['diffnaps']``); ``"binaps"``: those of :func:`fischer_sc.tl.binaps`, together with a
        ``groupby``.
    kind
        ``"heatmap"``, ``"dotplot"`` or ``"both"`` side by side.
    n_patterns
        Patterns shown, the most precise of each group first.
    max_features
        Features written in a pattern's label before ``+k``.
    cmap
        Colour map of the heatmap.
    ax
        Axes to draw into (``kind`` must then be ``"heatmap"`` or ``"dotplot"``).
    show
        Show the figure (``plt.show()``); otherwise the axes are returned.
    return_fig
        Return the figure instead of the axes.

    Returns
    -------
    The figure with ``return_fig=True``; ``None`` with ``show=True``; otherwise the list of axes.
    """
    import matplotlib.pyplot as plt

    n_patterns = check_int(n_patterns, "n_patterns", low=1)
    max_features = check_int(max_features, "max_features", low=0)
    keys = _keys(adata, key)
    uns = adata.uns.get(keys.uns)
    if (
        not isinstance(uns, Mapping)
        or "patterns" not in uns
        or keys.obsm not in adata.obsm
        or keys.uns not in adata.varm
    ):
        msg = (
            f"No patterns under key {key!r} (looked for obsm[{keys.obsm!r}], varm[{keys.uns!r}], uns[{keys.uns!r}]); "
            "run fs.tl.diffnaps(adata, groupby) (or pass key= the key_added used)."
        )
        raise KeyError(msg)
    if kind not in ("both", "heatmap", "dotplot"):
        msg = f"kind must be 'both', 'heatmap' or 'dotplot', got {kind!r}."
        raise ValueError(msg)
    if ax is not None and kind == "both":
        msg = "With ax=, choose kind='heatmap' or kind='dotplot' (kind='both' needs two axes)."
        raise ValueError(msg)
    groupby = groupby or uns.get("params", {}).get("groupby")
    if groupby is None or groupby not in adata.obs:
        msg = f"groupby={groupby!r} is not a column of adata.obs; pass the obs column to compare groups."
        raise KeyError(msg)
    table = _top_patterns(uns["patterns"], n_patterns)
    if len(table) == 0:  # nothing found (or nothing differential): say so in an empty figure rather than fail
        return _empty(adata, uns, ax, return_fig, show)
    ids = table["pattern_id"].to_numpy().astype(int)
    labels = [_label(r, max_features) for _, r in table.iterrows()]
    groups = adata.obs[groupby].astype("category")
    present = np.asarray(adata.obsm[keys.obsm])[:, ids].astype(float)
    support = pd.DataFrame(present).groupby(groups.to_numpy(), observed=True).mean().T
    support.index = labels

    kinds = ["heatmap", "dotplot"] if kind == "both" else [kind]
    if ax is None:
        width = 4.0 + 0.45 * len(support.columns) + (4.0 if kind == "both" else 0.0)
        # The x tick labels (groups, features) stand rotated below the axes: leave them room, or a
        # figure of few patterns is too short for its own labels.
        ticks = [str(c) for c in support.columns]
        if "dotplot" in kinds:
            member_any = np.asarray(adata.varm[keys.uns])[:, ids].any(axis=1)
            ticks += [str(v) for v in adata.var_names[np.flatnonzero(member_any)[:60]]]
        label_room = 0.1 * max((len(t) for t in ticks), default=0)
        height = 1.5 + 0.3 * max(1, len(labels)) + label_room
        fig, axes = plt.subplots(1, len(kinds), figsize=(width, height), squeeze=False)
        axes = list(axes[0])
    else:
        fig, axes = ax.figure, [ax]
    for which, a in zip(kinds, axes, strict=True):
        if which == "heatmap":
            im = a.imshow(
                support.to_numpy(), aspect="auto", cmap=cmap, vmin=0.0, vmax=max(1e-9, support.to_numpy().max())
            )
            a.set_xticks(range(len(support.columns)), [str(c) for c in support.columns], rotation=90)
            a.set_yticks(range(len(labels)), labels)
            a.set_xlabel(groupby)
            a.set_title("support per group")
            fig.colorbar(im, ax=a, fraction=0.05, label="fraction holding the pattern")
        else:
            member = np.asarray(adata.varm[keys.uns])[:, ids]
            feats = np.flatnonzero(member.any(axis=1))[:60]
            yy, xx = np.nonzero(member[feats].T)
            size_col = "support_in" if "support_in" in table else "support"
            sizes = 20 + 180 * table[size_col].fillna(0).to_numpy()[yy]
            a.scatter(np.arange(len(feats))[xx], yy, s=sizes, c="k")
            a.set_xticks(range(len(feats)), [str(v) for v in adata.var_names[feats]], rotation=90)
            a.set_yticks(range(len(labels)), labels if kind != "both" else [""] * len(labels))
            a.set_ylim(len(labels) - 0.5, -0.5)
            a.set_title("pattern membership")
    fig.tight_layout()
    if return_fig:
        return fig
    if show:
        plt.show()
        return None
    return axes

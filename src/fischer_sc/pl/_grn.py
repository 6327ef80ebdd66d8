"""Plots of :func:`fischer_sc.tl.dash_grn`: the inferred network as a graph and the training curve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np

from fischer_sc._utils import check_int

if TYPE_CHECKING:
    import pandas as pd
    from anndata import AnnData
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_ACTIVATING, _REPRESSING = "tab:red", "tab:blue"


def _draw_network(a: Axes, edges: pd.DataFrame, genes: list[str]) -> None:
    from matplotlib.lines import Line2D

    angle = 2 * np.pi * np.arange(len(genes)) / max(1, len(genes))
    pos = {g: (np.cos(t), np.sin(t)) for g, t in zip(genes, angle, strict=True)}
    width = np.abs(edges["weight"].to_numpy())
    width = 0.6 + 3.0 * width / width.max() if width.size and width.max() > 0 else width
    for (_, e), w in zip(edges.iterrows(), width, strict=True):
        (x0, y0), (x1, y1) = pos[e["source"]], pos[e["target"]]
        colour = _ACTIVATING if e["sign"] > 0 else _REPRESSING
        style = "-" if e["in_prior"] else "--"
        if e["source"] == e["target"]:  # a self-loop: a small circle outside the node
            a.add_patch(_loop(x0, y0, colour, style, w))
            continue
        a.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "lw": w,
                "ls": style,
                "shrinkA": 9,
                "shrinkB": 9,
                "connectionstyle": "arc3,rad=0.12",
                "alpha": 0.8,
            },
        )
    xy = np.array([pos[g] for g in genes])
    a.scatter(xy[:, 0], xy[:, 1], s=260, c="white", edgecolors="black", zorder=3)
    for g, (x, y) in pos.items():
        a.text(1.18 * x, 1.18 * y, g, ha="center", va="center", fontsize=8)
    a.set_xlim(-1.45, 1.45)
    a.set_ylim(-1.45, 1.45)
    a.set_aspect("equal")
    a.axis("off")
    handles = [
        Line2D([], [], color=_ACTIVATING, label="activating (E > 0)"),
        Line2D([], [], color=_REPRESSING, label="repressing (E < 0)"),
        Line2D([], [], color="grey", ls="-", label="in the prior"),
        Line2D([], [], color="grey", ls="--", label="not in the prior"),
    ]
    a.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7, frameon=False)


def _loop(x: float, y: float, colour: str, style: str, width: float):
    from matplotlib.patches import Circle

    return Circle((1.1 * x, 1.1 * y), 0.08, fill=False, ec=colour, ls=style, lw=width)


def _draw_history(a: Axes, history: pd.DataFrame) -> None:
    a.plot(history["epoch"], history["train_mse"], label="train MSE")
    a.plot(history["epoch"], history["val_mse"], label="validation MSE")
    a.set_yscale("log")
    a.set_xlabel("epoch")
    a.set_ylabel("MSE")
    for epoch in history.loc[history["pruned"].astype(bool), "epoch"]:
        a.axvline(epoch, color="grey", lw=0.5, ls=":")
    twin = a.twinx()
    twin.plot(history["epoch"], history["sparsity"], color="black", lw=1, label="sparsity")
    twin.set_ylabel("sparsity (dotted: pruning events)")
    twin.set_ylim(0, 1)
    lines = a.get_lines()[:2] + twin.get_lines()
    a.legend(lines, [line.get_label() for line in lines], fontsize=7, loc="upper right")


def grn(
    adata: AnnData,
    key: str = "dash_grn",
    *,
    kind: Literal["both", "network", "loss"] = "both",
    n_edges: int = 30,
    ax: Axes | None = None,
    show: bool | None = None,
    return_fig: bool = False,
) -> Figure | list[Axes] | None:
    """The network inferred by :func:`fischer_sc.tl.dash_grn` and its training curve.

    The network is drawn on a circle of the genes it touches: arrows run regulator -> target,
    red for activating (``E > 0``) and blue for repressing edges, wider for larger ``|E|``; edges
    of the prior are solid, new ones dashed. The curve shows the training and validation MSE per
    epoch with the sparsity on a second axis; dotted lines mark the pruning events.

    Parameters
    ----------
    adata
        Annotated data matrix after :func:`fischer_sc.tl.dash_grn`.
    key
        The tool's ``key_added`` (default ``"dash_grn"``).
    kind
        ``"both"``, ``"network"`` or ``"loss"``.
    n_edges
        The strongest edges drawn.
    ax
        Axes to draw into (only with ``kind="network"`` or ``"loss"``).
    show
        Show the figure (``plt.show()``); otherwise the axes are returned.
    return_fig
        Return the figure instead of the axes.

    Returns
    -------
    The figure with ``return_fig=True``; ``None`` with ``show=True``; otherwise the list of axes.
    """
    import matplotlib.pyplot as plt

    n_edges = check_int(n_edges, "n_edges", low=1)
    if key not in adata.uns or not isinstance(adata.uns[key], Mapping) or "edges" not in adata.uns[key]:
        msg = (
            f"adata.uns[{key!r}] has no dash_grn result; run fs.tl.dash_grn(adata, ...) first (or pass its key_added)."
        )
        raise KeyError(msg)
    if kind not in ("both", "network", "loss"):
        msg = f"kind={kind!r} is not one of 'both', 'network', 'loss'."
        raise ValueError(msg)
    if ax is not None and kind == "both":
        msg = "ax needs kind='network' or kind='loss' (kind='both' draws two panels)."
        raise ValueError(msg)
    uns = adata.uns[key]
    edges = uns["edges"].head(n_edges)
    genes = [g for g in adata.var_names if g in set(edges["source"]) | set(edges["target"])]
    kinds = ["network", "loss"] if kind == "both" else [kind]
    if ax is None:
        fig, axes = plt.subplots(1, len(kinds), figsize=(5.2 * len(kinds), 4.8), squeeze=False)
        axes = list(axes[0])
    else:
        fig, axes = ax.figure, [ax]
    for a, k in zip(axes, kinds, strict=True):
        if k == "network":
            _draw_network(a, edges, genes)
            a.set_title(f"{key}: top {len(edges)} edges")
        else:
            _draw_history(a, uns["history"])
            a.set_title(f"training (final sparsity {uns['sparsity']:.2f})")
    fig.tight_layout()
    if return_fig:
        return fig
    if show:
        plt.show()
        return None
    return axes

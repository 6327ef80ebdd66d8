from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

VIEWS = ("sphere", "map")


def _obsm_key(adata: AnnData, basis: str) -> str:
    for key in (basis, f"X_{basis}"):
        if key in adata.obsm:
            return key
    msg = (
        f"No Mercat embedding {basis!r} in adata.obsm (looked for {basis!r} and 'X_{basis}'). "
        "Run fs.tl.mercat(adata) first, or pass basis= the key_added you used."
    )
    raise KeyError(msg)


def _ensure_palette(adata: AnnData, color: str | None) -> None:
    """Give a categorical ``obs`` column scanpy's default colours now, so both hemispheres share them.

    scanpy itself stores ``uns[color + "_colors"]`` when it first plots a categorical column; doing
    it before subsetting keeps a category's colour the same on the front and the back.
    """
    import pandas as pd

    if color is None or color not in adata.obs or f"{color}_colors" in adata.uns:
        return
    if not isinstance(adata.obs[color].dtype, pd.CategoricalDtype):
        return
    from scanpy.plotting import palettes

    n = len(adata.obs[color].cat.categories)
    pool = palettes.default_20 if n <= 20 else palettes.default_28 if n <= 28 else palettes.default_102
    adata.uns[f"{color}_colors"] = np.asarray([pool[i % len(pool)] for i in range(n)], dtype=object)


def mercat(
    adata: AnnData,
    *,
    color: str | None = None,
    view: Literal["sphere", "map"] = "sphere",
    basis: str = "mercat",
    show: bool | None = None,
    return_fig: bool | None = None,
    **kwargs: Any,
) -> Figure | list[Axes] | Axes | None:
    """Plot a Mercat embedding: the sphere from two sides, or its 2-D map.

    ``view="sphere"`` draws the orthographic projections of the front hemisphere (x >= 0, the
    side of the data's mean direction, seen from outside) and the back hemisphere (seen from
    behind, so left and right flip) side by side, each inside its unit-circle outline.
    ``view="map"`` is :func:`scanpy.pl.embedding` on ``obsm["X_mercat_2d"]``.

    Parameters
    ----------
    adata
        Annotated data matrix with a Mercat embedding (:func:`fischer_sc.tl.mercat`).
    color
        An ``obs`` column or a gene, as in :func:`scanpy.pl.embedding`. Categories keep their
        colour on both hemispheres.
    view
        ``"sphere"`` or ``"map"``.
    basis
        The ``key_added`` used with :func:`fischer_sc.tl.mercat`, if any.
    show
        Show the figure (``None``: scanpy's ``settings.autoshow``).
    return_fig
        Return the figure.
    **kwargs
        Passed to :func:`scanpy.pl.embedding` (``size``, ``palette``, ``legend_loc``, ``vmin``, ...).

    Returns
    -------
    The figure with ``return_fig=True``; else the axes when ``show=False`` (the two hemispheres,
    or what :func:`scanpy.pl.embedding` returns for the map); else ``None``.
    """
    import scanpy as sc

    if view not in VIEWS:
        msg = f"view={view!r} is not one of {', '.join(map(repr, VIEWS))}."
        raise ValueError(msg)
    key = _obsm_key(adata, basis)
    if view == "map":
        map_key = f"{key}_2d"
        if map_key not in adata.obsm:
            msg = f"adata.obsm[{map_key!r}] is missing; rerun fs.tl.mercat to write the map."
            raise KeyError(msg)
        return sc.pl.embedding(adata, map_key, color=color, show=show, return_fig=return_fig, **kwargs)
    if color is not None and not isinstance(color, str):
        msg = f"view='sphere' takes one color (a string), got {color!r}; loop over them or use view='map'."
        raise TypeError(msg)
    return _sphere(adata, key, color, show, return_fig, kwargs)


def _sphere(adata: AnnData, key: str, color: str | None, show, return_fig, kwargs: dict[str, Any]):
    import matplotlib.pyplot as plt
    import scanpy as sc

    from fischer_sc.core.sphere import orthographic

    y = np.asarray(adata.obsm[key], dtype=np.float64)
    if y.ndim != 2 or y.shape[1] != 3:
        msg = f"adata.obsm[{key!r}] has shape {y.shape}; the sphere view needs unit vectors (n_obs, 3)."
        raise ValueError(msg)
    _ensure_palette(adata, color)
    xy, front = orthographic(y)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), constrained_layout=True)
    circle = np.linspace(0, 2 * np.pi, 200)
    for ax, mask, title in ((axes[0], front, "front"), (axes[1], ~front, "back")):
        ax.plot(np.cos(circle), np.sin(circle), color="0.6", lw=0.8)
        ax.set_xlim(-1.08, 1.08)
        ax.set_ylim(-1.08, 1.08)
        ax.set_aspect("equal")
        if not mask.any():
            ax.set_title(f"{title} (empty)")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        sub = adata[mask].copy()
        sub.obsm["X_hemisphere"] = xy[mask]
        panel = dict(kwargs)
        if ax is axes[0]:
            panel["legend_loc"] = "none"  # one legend, beside the back panel
        label = color if color is not None else "Mercat"
        panel.setdefault("title", f"{label}: {title} hemisphere")
        sc.pl.embedding(sub, "hemisphere", color=color, ax=ax, show=False, **panel)
        ax.set_xlim(-1.08, 1.08)
        ax.set_ylim(-1.08, 1.08)
        ax.set_xlabel("")
        ax.set_ylabel("")
    if return_fig:
        return fig
    if show is None:
        show = sc.settings.autoshow
    if show:
        plt.show()
        return None
    return list(axes)

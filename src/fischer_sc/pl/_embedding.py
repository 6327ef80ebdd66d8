from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _embedding(adata: AnnData, basis: str, tool: str, kwargs: dict[str, Any]) -> Figure | Axes | list[Axes] | None:
    if basis not in adata.obsm and f"X_{basis}" not in adata.obsm:
        msg = (
            f"No embedding {basis!r} in adata.obsm (looked for {basis!r} and 'X_{basis}'). "
            f"Run fs.tl.{tool}(adata) first, or pass basis= the key_added you used."
        )
        raise KeyError(msg)
    import scanpy as sc

    return sc.pl.embedding(adata, basis, **kwargs)


def dtsne(adata: AnnData, *, basis: str = "dtsne", **kwargs: Any) -> Figure | Axes | list[Axes] | None:
    """Scatter plot in dtSNE coordinates: :func:`scanpy.pl.embedding` on ``obsm["X_dtsne"]``.

    Parameters
    ----------
    adata
        Annotated data matrix with a dtSNE embedding (:func:`fischer_sc.tl.dtsne`).
    basis
        The ``key_added`` used with :func:`fischer_sc.tl.dtsne`, if any.
    **kwargs
        Passed to :func:`scanpy.pl.embedding` (``color``, ``ax``, ``show``, ``return_fig``, ...).

    Returns
    -------
    What :func:`scanpy.pl.embedding` returns: axes, a figure with ``return_fig=True``, or ``None``.
    """
    return _embedding(adata, basis, "dtsne", kwargs)


def factor_out(adata: AnnData, *, basis: str = "factor_out", **kwargs: Any) -> Figure | Axes | list[Axes] | None:
    """Scatter plot of an embedding with a prior factored out: :func:`scanpy.pl.embedding` on ``obsm["X_factor_out"]``.

    Parameters
    ----------
    adata
        Annotated data matrix with an embedding from :func:`fischer_sc.tl.factor_out`.
    basis
        The ``key_added`` used with :func:`fischer_sc.tl.factor_out`, if any.
    **kwargs
        Passed to :func:`scanpy.pl.embedding` (``color``, ``ax``, ``show``, ``return_fig``, ...).

    Returns
    -------
    What :func:`scanpy.pl.embedding` returns: axes, a figure with ``return_fig=True``, or ``None``.
    """
    return _embedding(adata, basis, "factor_out", kwargs)

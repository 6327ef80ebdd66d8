from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fischer_sc._utils import resolve_keys

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _embedding(adata: AnnData, key: str | None, tool: str, kwargs: dict[str, Any]) -> Figure | Axes | list[Axes] | None:
    """:func:`scanpy.pl.embedding` on the coordinates that ``fs.tl.<tool>(adata, key_added=key)`` wrote."""
    basis = resolve_keys(tool, key).obsm
    if basis not in adata.obsm:
        msg = (
            f"No embedding adata.obsm[{basis!r}]. Run fs.tl.{tool}(adata) first, "
            f"or pass key= the key_added you gave fs.tl.{tool}."
        )
        raise KeyError(msg)
    import scanpy as sc

    # scanpy finds obsm["X_<tool>"] from the bare name and labels the axes "<tool>1", "<tool>2"
    return sc.pl.embedding(adata, tool if key is None else basis, **kwargs)


def dtsne(adata: AnnData, *, key: str | None = None, **kwargs: Any) -> Figure | Axes | list[Axes] | None:
    """Scatter plot in dtSNE coordinates: :func:`scanpy.pl.embedding` on ``obsm["X_dtsne"]``.

    Parameters
    ----------
    adata
        Annotated data matrix with a dtSNE embedding (:func:`fischer_sc.tl.dtsne`).
    key
        The ``key_added`` given to :func:`fischer_sc.tl.dtsne`; ``None`` plots ``obsm["X_dtsne"]``.
    **kwargs
        Passed to :func:`scanpy.pl.embedding` (``color``, ``ax``, ``show``, ``return_fig``, ...).

    Returns
    -------
    What :func:`scanpy.pl.embedding` returns: axes, a figure with ``return_fig=True``, or ``None``.
    """
    return _embedding(adata, key, "dtsne", kwargs)


def factor_out(adata: AnnData, *, key: str | None = None, **kwargs: Any) -> Figure | Axes | list[Axes] | None:
    """Scatter plot of an embedding with a prior factored out: :func:`scanpy.pl.embedding` on ``obsm["X_factor_out"]``.

    Parameters
    ----------
    adata
        Annotated data matrix with an embedding from :func:`fischer_sc.tl.factor_out`.
    key
        The ``key_added`` given to :func:`fischer_sc.tl.factor_out`; ``None`` plots ``obsm["X_factor_out"]``.
    **kwargs
        Passed to :func:`scanpy.pl.embedding` (``color``, ``ax``, ``show``, ``return_fig``, ...).

    Returns
    -------
    What :func:`scanpy.pl.embedding` returns: axes, a figure with ``return_fig=True``, or ``None``.
    """
    return _embedding(adata, key, "factor_out", kwargs)

"""Writing a cell x cell graph in the layout of :func:`scanpy.pp.neighbors`, so scanpy's tools read it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._uns import clean_params

if TYPE_CHECKING:
    from anndata import AnnData
    from scipy import sparse


def write_neighbors(
    adata: AnnData,
    key: str,
    distances: sparse.spmatrix,
    connectivities: sparse.spmatrix,
    params: dict[str, Any],
    *,
    prefix: str | None = None,
) -> None:
    """Write ``obsp[prefix + '_distances']``, ``obsp[prefix + '_connectivities']`` and the record ``uns[key]``.

    The record holds ``connectivities_key``, ``distances_key`` and ``params`` (``None`` dropped),
    as :func:`scanpy.pp.neighbors` writes it with ``key_added=key``, so that
    ``sc.tl.umap(adata, neighbors_key=key)`` and ``sc.tl.leiden(adata, neighbors_key=key)`` use the graph.
    ``params`` should hold at least ``n_neighbors``, ``method`` and ``metric``. ``prefix``
    defaults to ``key``.
    """
    prefix = key if prefix is None else prefix
    adata.obsp[f"{prefix}_distances"] = distances
    adata.obsp[f"{prefix}_connectivities"] = connectivities
    adata.uns[key] = {
        "connectivities_key": f"{prefix}_connectivities",
        "distances_key": f"{prefix}_distances",
        "params": clean_params(params),
    }

"""Data sets that ship inside installed packages: no download, so they work offline and in CI."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anndata import AnnData


def pbmc68k_reduced() -> AnnData:
    """700 PBMCs x 765 genes from 10x Genomics, processed, with ``bulk_labels`` and cell-cycle ``phase``.

    A fresh copy of the file that ships with scanpy (:func:`scanpy.datasets.pbmc68k_reduced`):
    scaled ``.X``, ``raw`` log counts, ``X_pca``, ``X_umap`` and a neighbours graph.

    Returns
    -------
    The annotated data matrix.
    """
    import scanpy as sc

    return sc.datasets.pbmc68k_reduced()


def krumsiek11() -> AnnData:
    """640 simulated myeloid progenitors x 11 transcription factors, with a known regulatory network.

    Simulated from the Boolean network of Krumsiek et al. (2011), shipped with scanpy
    (:func:`scanpy.datasets.krumsiek11`); ``obs["cell_type"]`` holds the fate.

    Returns
    -------
    The annotated data matrix.
    """
    import warnings

    import scanpy as sc

    # The shipped file repeats observation names (one block per simulated lineage). anndata
    # warns on load; we fix the names here so that users never see the warning and joins on
    # obs_names are safe. The filter is local to this call, never global.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Observation names are not unique")  # noqa: TID251 (scoped)
        adata = sc.datasets.krumsiek11()
    adata.obs_names_make_unique()
    return adata

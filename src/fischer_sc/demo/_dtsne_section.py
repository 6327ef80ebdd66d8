"""Demo section: dtSNE next to UMAP and plain t-SNE on ``pbmc68k_reduced``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ._section import MPL_SET_BAD, Section, expected_warnings, save_figure

if TYPE_CHECKING:
    from pathlib import Path

    from anndata import AnnData

PBMC = "pbmc68k_reduced"


def dtsne_section(adatas: dict[str, AnnData], out_dir: Path, *, quick: bool = False) -> Section:
    """DtSNE on ``pbmc68k_reduced`` beside UMAP and t-SNE from the same engine, with quality measures.

    Parameters
    ----------
    adatas
        The demo data sets; ``adatas["pbmc68k_reduced"]`` must hold ``obsm["X_pca"]`` and
        ``obsm["X_umap"]`` (the baseline section computes them) and gains ``obsm["X_dtsne"]`` and
        ``obsm["X_tsne_core"]``.
    out_dir
        Output directory for ``pbmc_dtsne.png``.
    quick
        Optimise for 300 iterations (100 exaggerated) instead of 750.

    Returns
    -------
    The section, with the figure and a table of density correlation and kNN recall.
    """
    import fischer_sc as fs

    adata = adatas[PBMC]
    kw = {"n_iter": 300, "early_exaggeration_iter": 100} if quick else {}
    fs.tl.dtsne(adata, use_rep="X_pca", random_state=0, progress=False, **kw)
    fs.tl.dtsne(adata, use_rep="X_pca", pair_scale=None, key_added="X_tsne_core", random_state=0, progress=False, **kw)
    with expected_warnings(MPL_SET_BAD):
        fig = fs.pl.dtsne(adata, color="bulk_labels", return_fig=True, show=False, title="dtSNE")
    figures = [save_figure(fig, out_dir, "pbmc_dtsne.png")]
    with expected_warnings(MPL_SET_BAD):
        fig = fs.pl.dtsne(
            adata, key="X_tsne_core", color="bulk_labels", return_fig=True, show=False, title="t-SNE (same engine)"
        )
    figures.append(save_figure(fig, out_dir, "pbmc_tsne_core.png"))

    x = adata.obsm["X_pca"]
    rows = []
    for name, key in (("dtSNE", "X_dtsne"), ("t-SNE (pair_scale=None)", "X_tsne_core"), ("UMAP (scanpy)", "X_umap")):
        y = adata.obsm[key]
        rows.append(
            {
                "embedding": name,
                "density correlation (k=10)": fs.metrics.density_correlation(x, y, k=10),
                "kNN recall@15": fs.metrics.knn_recall(x, y, k=15),
                "global distance correlation": fs.metrics.global_distance_correlation(x, y, random_state=0),
            }
        )
    table = pd.DataFrame(rows).round(3)
    text = (
        "`fs.tl.dtsne(adata)` embeds the 50 principal components of the PBMCs with density-preserving t-SNE "
        "(Fischer, Burkholz and Vreeken 2023): the low-dimensional kernel of each pair is scaled by the two cells' "
        "radii from perplexity calibration, so populations that are more variable in expression are drawn wider. "
        "Beside it, plain t-SNE from the same engine (`pair_scale=None`). The table compares them with scanpy's "
        "UMAP from the section above: the density correlation is the Pearson correlation of the log distance to "
        "the 10th neighbour in PCA space and in the embedding; kNN recall is the share of each cell's 15 nearest "
        "neighbours kept; the global distance correlation compares all pairwise distances."
    )
    if quick:
        text += " (Quick run: 300 iterations.)"
    return Section(
        title=f"dtSNE on {PBMC}",
        text=text,
        figures=figures,
        tables=[("Embedding quality against the 50 principal components", table)],
        methods=("dtsne",),
    )

"""Demo section: Mercat puts ``pbmc68k_reduced`` on the sphere, beside UMAP's angles and distances."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ._section import MPL_SET_BAD, Section, expected_warnings, save_figure

if TYPE_CHECKING:
    from pathlib import Path

    from anndata import AnnData

PBMC = "pbmc68k_reduced"


def mercat_section(adatas: dict[str, AnnData], out_dir: Path, *, quick: bool = False) -> Section:
    """Mercat on ``pbmc68k_reduced``: both hemispheres, the map, and angle/distance/neighbour measures.

    Parameters
    ----------
    adatas
        The demo data sets; ``adatas["pbmc68k_reduced"]`` must hold ``obsm["X_pca"]`` and
        ``obsm["X_umap"]`` (the baseline section computes them) and gains ``obsm["X_mercat"]``,
        ``obsm["X_mercat_2d"]`` and ``uns["mercat"]``.
    out_dir
        Output directory for ``pbmc_mercat_sphere.png`` and ``pbmc_mercat_map.png``.
    quick
        Optimise for 150 epochs instead of 500.

    Returns
    -------
    The section, with the two figures and a table of angle, distance and neighbourhood measures.
    """
    import fischer_sc as fs

    adata = adatas[PBMC]
    fs.tl.mercat(adata, use_rep="X_pca", n_epochs=150 if quick else 500, random_state=0, progress=False)
    with expected_warnings(MPL_SET_BAD):
        fig = fs.pl.mercat(adata, color="bulk_labels", return_fig=True, show=False)
    figures = [save_figure(fig, out_dir, "pbmc_mercat_sphere.png")]
    with expected_warnings(MPL_SET_BAD):
        fig = fs.pl.mercat(adata, view="map", color="bulk_labels", return_fig=True, show=False, title="Mercat map")
    figures.append(save_figure(fig, out_dir, "pbmc_mercat_map.png"))

    x = adata.obsm["X_pca"]
    m = fs.metrics
    rows = []
    for name, key in (("Mercat (sphere, chord)", "X_mercat"), ("UMAP (scanpy)", "X_umap")):
        y = adata.obsm[key]
        rows.append(
            {
                "embedding": name,
                "angle rank correlation": m.angle_preservation(x, y, n_triples=50_000)["spearman"],
                "local angle rank correlation": m.angle_preservation(x, y, n_triples=50_000, triples="local")[
                    "spearman"
                ],
                "distance rank correlation": m.distance_preservation(x, y, n_pairs=200_000),
                "triplet accuracy": m.triplet_accuracy(x, y),
                "kNN recall@15": m.knn_recall(x, y, k=15),
            }
        )
    table = pd.DataFrame(rows).round(3)
    text = (
        "`fs.tl.mercat(adata)` places the PBMCs on the unit sphere so that the angles of triangles of cells in "
        "the 50 principal components are kept (Fischer and Ma 2024): at vertex j of a triple (i, j, k), the angle "
        "between x_i - x_j and x_k - x_j. Triples are drawn afresh every epoch, one in ten among neighbours, one in "
        "ten half near and half far, the rest at random, so local and global angles are fitted together. The sphere "
        "view shows the front hemisphere (centred on the cells' mean direction) and the back one seen from "
        "behind; the map is the equirectangular projection (longitude, latitude). The table compares the angles "
        f"of random and of local triangles, all distances, random triplets' order and the 15 nearest "
        f"neighbours with UMAP's ({adata.uns['mercat']['denoise_rule']}: rank "
        f"{adata.uns['mercat']['denoise_rank']})."
    )
    if quick:
        text += " (Quick run: 150 epochs.)"
    return Section(
        title=f"Mercat on {PBMC}",
        text=text,
        figures=figures,
        tables=[("Angle, distance and neighbourhood preservation against the 50 principal components", table)],
        methods=("mercat",),
    )

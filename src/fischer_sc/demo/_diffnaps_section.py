"""Demo section: DiffNaps patterns of the PBMC populations, and BinaPs/DiffNaps on planted patterns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ._section import Section, save_figure

if TYPE_CHECKING:
    from pathlib import Path

    from anndata import AnnData

PBMC = "pbmc68k_reduced"


def _planted_scores(quick: bool) -> pd.DataFrame:
    import fischer_sc as fs

    planted = fs.datasets.planted_patterns(500, 3, 1000, random_state=0)
    epochs = 10 if quick else 25
    fs.tl.diffnaps(planted, "class", hidden_dim=250, n_epochs=epochs, batch_size=32, lambda_s=2.0, progress=False)
    fs.tl.binaps(planted, n_epochs=epochs, progress=False)
    per_class = fs.datasets.planted_pattern_sets(planted.uns["planted"]["patterns"])
    table = planted.uns["diffnaps"]["patterns"]
    found = fs.datasets.planted_pattern_sets(table[table["group"].notna()])
    rows = [{"method": "DiffNaps (per class)", **fs.metrics.class_soft_f1(found, per_class)}]
    union = [p for ps in per_class.values() for p in ps]
    binaps_found = [set(f.split(",")) for f in planted.uns["binaps"]["patterns"]["features"]]
    p, r, f = fs.metrics.soft_precision_recall_f1(binaps_found, union) if binaps_found else (0.0, 0.0, 0.0)
    rows.append({"method": "BinaPs (all planted, no labels)", "precision": p, "recall": r, "f1": f})
    return pd.DataFrame(rows).round(3)


def diffnaps_section(adatas: dict[str, AnnData], out_dir: Path, *, quick: bool = False) -> Section:
    """DiffNaps on ``pbmc68k_reduced``'s ``bulk_labels``, and both pattern miners on planted patterns.

    Parameters
    ----------
    adatas
        The demo data sets; ``adatas["pbmc68k_reduced"]`` gains ``varm["diffnaps"]``,
        ``obsm["X_diffnaps"]`` and ``uns["diffnaps"]``.
    out_dir
        Output directory for ``pbmc_diffnaps.png``.
    quick
        Train for 10 epochs instead of 25.

    Returns
    -------
    The section, with the pattern heatmap, the top patterns per population and the soft-F1 of
    both tools on planted patterns.
    """
    import matplotlib.pyplot as plt

    import fischer_sc as fs

    adata = adatas[PBMC]
    epochs = 10 if quick else 25
    fs.tl.diffnaps(adata, "bulk_labels", n_epochs=epochs, random_state=0, progress=False)
    fig = fs.pl.diffnaps(adata, n_patterns=12, return_fig=True)
    figures = [save_figure(fig, out_dir, "pbmc_diffnaps.png")]
    plt.close(fig)
    table = adata.uns["diffnaps"]["patterns"]
    top = table[table["group"].notna()].sort_values(["group", "precision"], ascending=[True, False])
    top = top.groupby("group", observed=True).head(2)
    top = top[["group", "features", "size", "support_in", "support_out", "precision"]].round(3)
    top["group"] = top["group"].astype(str)
    scores = _planted_scores(quick)
    n_groups = top["group"].nunique()
    text = (
        "`fs.tl.diffnaps(adata, 'bulk_labels')` (Walter, Fischer and Vreeken, AAAI 2024) learns gene sets that are "
        "present together in one FACS-sorted population and rarely in the others, as the binarised weights of an "
        "autoencoder with a classification head. A gene counts as present in a cell when its scaled expression is "
        "above the gene's upper quartile (`binarize='auto'`). "
        f"{len(table)} pattern rows were found; {n_groups} populations have at least one pattern. The heatmap "
        "gives the share of each population holding each pattern fully; the table lists the two most precise "
        "patterns of each population (support inside and outside the group, and P(group | pattern)). "
        "\n\n"
        "On planted data (500 features, 3 classes x 1000 rows, 5 patterns per class, the paper's noise: 10 random "
        "features per row, 2.5 % flipped bits, 90 % label purity), the soft F1 of the found patterns against the "
        "planted ones is given for DiffNaps (per class: a pattern assigned to the wrong class counts as a miss) and "
        "for BinaPs, which sees no labels (`fs.tl.binaps`)."
    )
    if quick:
        text += f" (Quick run: {epochs} epochs.)"
    return Section(
        title=f"DiffNaps patterns on {PBMC}",
        text=text,
        figures=figures,
        tables=[
            ("The most precise patterns of each population", top),
            ("Soft precision, recall and F1 on planted patterns", scores),
        ],
        methods=("diffnaps", "binaps"),
    )

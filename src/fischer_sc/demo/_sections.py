"""The sections of the demo, in report order.

To add one (e.g. for a newly implemented tool), write a function with the signature of
:class:`~fischer_sc.demo.SectionFunc`, in its own small module if it is long, and append it
to :data:`SECTIONS`. It must run the tool for real; list the registry names it runs in
:attr:`Section.methods`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ._dash_section import dash_section
from ._diffnaps_section import diffnaps_section
from ._dtsne_section import dtsne_section
from ._factor_out_section import factor_out_section
from ._mercat_section import mercat_section
from ._section import MPL_SET_BAD, Section, SectionFunc, expected_warnings, save_figure
from ._status import AVAILABLE, PENDING, method_status

if TYPE_CHECKING:
    from pathlib import Path

    from anndata import AnnData

PBMC = "pbmc68k_reduced"
KRUMSIEK = "krumsiek11"
RANDOM_STATE = 0
PLUGIN_METHOD = "group_centroids"


def registry_section(adatas: dict[str, AnnData], out_dir: Path, *, quick: bool = False) -> Section:
    """The method registry: every registered method, and which omics tools are implemented.

    Parameters
    ----------
    adatas
        The demo data sets (unused).
    out_dir
        Output directory (unused: no figures).
    quick
        Unused.

    Returns
    -------
    The section, with the registry table and the status of the omics methods.
    """
    import fischer_sc as fs

    methods = fs.plugins.list_methods()
    status = method_status("omics")
    available = status.loc[status["status"] == AVAILABLE, "name"].tolist()
    pending = status.loc[status["status"] == PENDING, "name"].tolist()
    providers = sorted(methods["provider"].unique())
    failed = fs.plugins.registry().failed

    text = (
        f"fischer_sc keeps one index of all its methods: the built-in tools of `fs.tl` and the methods "
        f"of plugin packages, registered through the entry-point group `fischer_sc`. "
        f"{len(methods)} methods are registered here, from {len(providers)} provider(s) "
        f"({', '.join(providers)}); list them with `fs.plugins.list_methods()` and call any of them "
        f"with `fs.plugins.run(name, ...)`."
        "\n\n"
        f"Each omics method was called once on `fischer_sc.testing.small_adata()`: "
        f"{len(available)} available ({', '.join(available) or 'none yet'}), "
        f"{len(pending)} pending ({', '.join(pending) or 'none'}). "
        "A pending tool already has its final signature and raises NotImplementedError until it lands; "
        "every available tool runs on real data in a section of its own below."
    )
    if failed:
        text += "\n\nSkipped plugins: " + "; ".join(f"{name}: {why}" for name, why in sorted(failed.items())) + "."
    return Section(
        title="Method registry",
        text=text,
        tables=[
            (
                "Registered methods (fs.plugins.list_methods())",
                methods[["name", "domain", "provider", "version", "summary"]],
            ),
            ("Omics methods: implemented or pending", status),
        ],
    )


def pbmc_section(adatas: dict[str, AnnData], out_dir: Path, *, quick: bool = False) -> Section:
    """Baseline embedding of ``pbmc68k_reduced``: PCA, kNN graph and UMAP, coloured by cell type and phase.

    Parameters
    ----------
    adatas
        The demo data sets; ``adatas["pbmc68k_reduced"]`` gains ``obsm["X_pca"]``,
        ``obsm["X_umap"]`` and the neighbours graph, recomputed with ``random_state=0``.
    out_dir
        Output directory for ``pbmc_pca.png`` and ``pbmc_umap.png``.
    quick
        Run UMAP for 100 epochs instead of scanpy's default.

    Returns
    -------
    The section, with both figures and a table of cells per type and phase.
    """
    import scanpy as sc

    adata = adatas[PBMC]
    sc.pp.pca(adata, n_comps=50, random_state=RANDOM_STATE)
    sc.pp.neighbors(adata, n_neighbors=15, random_state=RANDOM_STATE)
    sc.tl.umap(adata, random_state=RANDOM_STATE, maxiter=100 if quick else None)

    colors = ["bulk_labels", "phase"]
    figures = []
    for basis in ("pca", "umap"):
        with expected_warnings(MPL_SET_BAD):
            fig = sc.pl.embedding(adata, basis, color=colors, wspace=0.45, return_fig=True, show=False)
        figures.append(save_figure(fig, out_dir, f"pbmc_{basis}.png"))

    counts = pd.crosstab(adata.obs["bulk_labels"], adata.obs["phase"], margins=True, margins_name="total")
    counts = counts.rename_axis(index="bulk_labels", columns=None).reset_index()
    var_ratio = adata.uns["pca"]["variance_ratio"]
    text = (
        f"{adata.n_obs} peripheral blood mononuclear cells x {adata.n_vars} genes from 10x Genomics, "
        "the processed subset that ships with scanpy. This is the baseline the fischer_sc embeddings are "
        "compared with: 50 principal components of the scaled matrix "
        f"(the first two explain {100 * var_ratio[:2].sum():.1f}% of the variance), a 15-nearest-neighbour "
        "graph on them and UMAP, all with random_state=0. "
        "Colours: `bulk_labels`, the FACS-sorted population each cell was annotated with, and `phase`, "
        "the cell-cycle phase scored from marker genes."
    )
    if quick:
        text += " (Quick run: UMAP optimised for 100 epochs only.)"
    return Section(
        title=f"Baseline embedding on {PBMC}",
        text=text,
        figures=figures,
        tables=[("Cells per annotated population and cell-cycle phase", counts)],
    )


def krumsiek_section(adatas: dict[str, AnnData], out_dir: Path, *, quick: bool = False) -> Section:
    """``krumsiek11``, simulated myeloid differentiation: PCA by fate and the mean of each gene per fate.

    Parameters
    ----------
    adatas
        The demo data sets; ``adatas["krumsiek11"]`` gains ``obsm["X_pca"]``.
    out_dir
        Output directory for ``krumsiek_pca.png``.
    quick
        Unused (the section is cheap).

    Returns
    -------
    The section, with the PCA figure and a genes x fates table of mean expression.
    """
    import scanpy as sc

    adata = adatas[KRUMSIEK]
    sc.pp.pca(adata, random_state=RANDOM_STATE)
    with expected_warnings(MPL_SET_BAD):
        fig = sc.pl.embedding(adata, "pca", color="cell_type", return_fig=True, show=False)
    figure = save_figure(fig, out_dir, "krumsiek_pca.png")

    expr = adata.to_df()
    fates = adata.obs["cell_type"]
    means = expr.groupby(fates, observed=True).mean().T
    genes = pd.DataFrame({"gene": adata.var_names})
    genes["mean"] = expr.mean().to_numpy()
    for fate in means.columns:
        genes[f"mean in {fate}"] = means[fate].to_numpy()
    genes["highest in"] = means.idxmax(axis=1).to_numpy()
    numeric = genes.columns[1:-1]
    genes[numeric] = genes[numeric].round(3) + 0.0  # + 0.0 turns -0.0 (simulation noise) into 0.0

    sizes = ", ".join(f"{n} {fate}" for fate, n in fates.value_counts(sort=False).items())
    text = (
        f"{adata.n_obs} cells x {adata.n_vars} transcription factors simulated from the Boolean network of "
        "myeloid differentiation of Krumsiek et al. (2011), shipped with scanpy: a common progenitor "
        "state that branches into erythrocytes (Ery), megakaryocytes (Mk), monocytes (Mo) and neutrophils (Neu) "
        f"({sizes}). PCA with random_state=0, coloured by `cell_type`; the table gives each gene's mean "
        "per fate, which picks out the genes that mark each branch. Its regulatory network is known, which makes it the "
        "test case of the dynamic GRN section (DASH-pruned PHOENIX) once that tool lands."
    )
    return Section(
        title=f"{KRUMSIEK} (simulated myeloid differentiation)",
        text=text,
        figures=[figure],
        tables=[("The 11 genes: mean expression overall and per fate", genes)],
    )


def plugin_section(adatas: dict[str, AnnData], out_dir: Path, *, quick: bool = False) -> Section:
    """A plugin method called through the registry: ``group_centroids`` of the example plugin on ``pbmc68k_reduced``.

    Parameters
    ----------
    adatas
        The demo data sets; reads ``adatas["pbmc68k_reduced"].obsm["X_pca"]``.
    out_dir
        Output directory (unused: no figures).
    quick
        Unused (the section is cheap).

    Returns
    -------
    The section, with the distances between the population centroids, or a note on how to install
    the example plugin when it is missing.
    """
    import fischer_sc as fs

    title = "A plugin method through the registry"
    if PLUGIN_METHOD not in fs.plugins.registry().methods:
        text = (
            f"The example plugin, which registers `{PLUGIN_METHOD}`, is not installed (or is disabled), so this "
            "section is empty. Install it with `pip install -e plugins/example`; `make demo` does."
        )
        return Section(title=title, text=text)
    provider = fs.plugins.registry().registration(PLUGIN_METHOD).provider.distribution
    adata = adatas[PBMC]
    dist = fs.plugins.run(PLUGIN_METHOD, adata, "bulk_labels", use_rep="X_pca")
    dist = dist.round(1).rename_axis(index="bulk_labels").reset_index()
    text = (
        f"The plugin package {provider} registers `{PLUGIN_METHOD}` through the entry-point group "
        "`fischer_sc`, exactly as a third-party package would; fischer_sc itself does not import it. Called by "
        f"name, `fs.plugins.run({PLUGIN_METHOD!r}, adata, 'bulk_labels', use_rep='X_pca')`, it gives the distances "
        f"between the mean positions of the annotated populations of {PBMC} in PCA space."
    )
    return Section(
        title=title,
        text=text,
        tables=[("Distances between population centroids in PCA space (50 components)", dist)],
        methods=(PLUGIN_METHOD,),
    )


SECTIONS: list[SectionFunc] = [
    registry_section,
    pbmc_section,
    dtsne_section,
    mercat_section,
    krumsiek_section,
    plugin_section,
    diffnaps_section,
    factor_out_section,
    dash_section,
]
"""The sections of the report, in order. Append a function to add a section."""

"""Running the demo: load the data, run every section, save ``demo.h5ad`` and the report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scanpy import logging as logg

from ._report import write_report
from ._section import Section
from ._sections import KRUMSIEK, PBMC, SECTIONS

if TYPE_CHECKING:
    from collections.abc import Sequence
    from os import PathLike

    from anndata import AnnData

    from ._section import SectionFunc

H5AD_NAME = "demo.h5ad"


def load_data() -> dict[str, AnnData]:
    """The data sets of the demo, all shipped with installed packages (no download).

    Returns
    -------
    ``{"pbmc68k_reduced": ..., "krumsiek11": ...}``, fresh copies from :mod:`fischer_sc.datasets`;
    the obs names of ``krumsiek11`` are made unique.
    """
    import fischer_sc as fs

    return {PBMC: fs.datasets.pbmc68k_reduced(), KRUMSIEK: fs.datasets.krumsiek11()}


def run(
    out: str | PathLike[str] = "results",
    *,
    quick: bool = False,
    sections: Sequence[SectionFunc] | None = None,
) -> Path:
    """Run the end-to-end demo and write its results into ``out``.

    Parameters
    ----------
    out
        Output directory, created if missing. Existing files of the same names are overwritten.
    quick
        Skip or shorten expensive steps (for tests).
    sections
        Section functions to run, in order; ``None`` runs :data:`fischer_sc.demo.SECTIONS`.

    Returns
    -------
    The path of ``report.html``. Next to it: ``demo.h5ad`` (``pbmc68k_reduced`` with every result,
    e.g. ``obsm["X_pca"]`` and ``obsm["X_umap"]``) and the PNG figures the report shows.

    Examples
    --------
    >>> import fischer_sc as fs
    >>> report = fs.demo.run("results", quick=True)  # doctest: +SKIP
    """
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = logg.info(f"fischer_sc demo ({'quick' if quick else 'full'} run) into {out_dir}")
    adatas = load_data()
    done: list[Section] = []
    for func in SECTIONS if sections is None else sections:
        t = logg.info(f"demo: running {getattr(func, '__name__', func)!s}")
        section = func(adatas, out_dir, quick=quick)
        if not isinstance(section, Section):
            msg = f"Demo section {func!r} returned {type(section).__name__}; it must return a fischer_sc.demo.Section."
            raise TypeError(msg)
        done.append(section)
        logg.info(f"    finished {section.title!r}", time=t)
    adatas[PBMC].write_h5ad(out_dir / H5AD_NAME)
    report = write_report(done, out_dir, quick=quick)
    logg.info(f"    finished: {report}", time=start)
    return report

"""The unit of the demo: a :class:`Section` and the helpers a section function uses."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from anndata import AnnData
    from matplotlib.figure import Figure

FIGURE_DPI = 100


@dataclass(slots=True)
class Section:
    """One part of the demo report.

    Parameters
    ----------
    title
        Heading of the section.
    text
        What the section shows, in a few sentences; blank lines separate paragraphs and
        text in single backticks is set as code.
    figures
        File names of PNG figures written into the output directory, relative to it.
    tables
        ``(caption, table)`` pairs, rendered without the index (move it into a column to show it).
    methods
        Names of registered methods (:func:`fischer_sc.plugins.list_methods`) that this section runs.
    """

    title: str
    text: str
    figures: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    methods: tuple[str, ...] = ()


class SectionFunc(Protocol):
    """A section of the demo: computes on the data, writes its figures into ``out_dir``, describes them."""

    def __call__(self, adatas: dict[str, AnnData], out_dir: Path, *, quick: bool = False) -> Section:
        """Run the section.

        Parameters
        ----------
        adatas
            The demo data sets by name (see :func:`fischer_sc.demo.load_data`); a section may add
            results to them, and what it adds to ``"pbmc68k_reduced"`` is saved in ``demo.h5ad``.
        out_dir
            Directory to write figures into.
        quick
            Skip or shorten expensive steps.

        Returns
        -------
        The section for the report.
        """
        ...


def save_figure(fig: Figure, out_dir: Path, name: str) -> str:
    """Save ``fig`` as PNG into ``out_dir`` and close it.

    Parameters
    ----------
    fig
        The figure, e.g. from a scanpy plotting function with ``return_fig=True, show=False``.
    out_dir
        Output directory of the demo.
    name
        File name, ending in ``.png``.

    Returns
    -------
    ``name``, for :attr:`Section.figures`.

    Raises
    ------
    ValueError
        If ``name`` does not end in ``.png`` (the figure is closed all the same).
    """
    import matplotlib.pyplot as plt

    try:
        if not name.endswith(".png"):
            msg = f"Figure name {name!r} must end in '.png'."
            raise ValueError(msg)
        fig.savefig(out_dir / name, dpi=FIGURE_DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return name


@contextmanager
def expected_warnings(*patterns: str) -> Iterator[None]:
    """Swallow third-party warnings whose message matches one of ``patterns`` (regexes); re-emit all others.

    Only for warnings the demo cannot avoid by calling a library differently; global warning
    filters are left alone.
    """
    with warnings.catch_warnings(record=True, action="always") as caught:
        yield
    for w in caught:
        if not any(re.search(p, str(w.message)) for p in patterns):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


# Emitted by scanpy's embedding plots (cmap.set_bad) under matplotlib >= 3.10; nothing a caller can change.
MPL_SET_BAD = r"The set_bad function will be deprecated"

__all__ = ["FIGURE_DPI", "MPL_SET_BAD", "Section", "SectionFunc", "expected_warnings", "save_figure"]

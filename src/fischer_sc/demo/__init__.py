"""The end-to-end demo: ``python -m fischer_sc.demo --out results`` (or ``make demo``).

It runs on data that ships with the installed packages and writes into the output directory
``demo.h5ad``, PNG figures and ``report.html``, which shows them section by section.
Programmatically: :func:`run`. Each section is a :class:`SectionFunc` in :data:`SECTIONS`.
"""

from __future__ import annotations

from ._report import render_report, write_report
from ._run import H5AD_NAME, load_data, run
from ._section import Section, SectionFunc, expected_warnings, save_figure
from ._sections import SECTIONS, krumsiek_section, pbmc_section, plugin_section, registry_section
from ._status import PROBE_KWARGS, method_status

__all__ = [
    "H5AD_NAME",
    "PROBE_KWARGS",
    "SECTIONS",
    "Section",
    "SectionFunc",
    "expected_warnings",
    "krumsiek_section",
    "load_data",
    "method_status",
    "pbmc_section",
    "plugin_section",
    "registry_section",
    "render_report",
    "run",
    "save_figure",
    "write_report",
]

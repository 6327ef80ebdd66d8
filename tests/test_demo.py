from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import fischer_sc as fs
from fischer_sc.demo import SECTIONS, Section, expected_warnings, run, save_figure, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXPECTED_FIGURES = {"pbmc_pca.png", "pbmc_umap.png", "pbmc_dtsne.png", "pbmc_tsne_core.png", "krumsiek_pca.png"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, list[Section]]:
    """Run the quick demo once; also keep the Section objects the default sections return."""
    out = tmp_path_factory.mktemp("demo")
    returned: list[Section] = []

    def recording(func):
        def wrapper(adatas, out_dir, *, quick=False):
            section = func(adatas, out_dir, quick=quick)
            returned.append(section)
            return section

        wrapper.__name__ = func.__name__
        return wrapper

    report = run(out, quick=True, sections=[recording(f) for f in SECTIONS])
    return report, returned


def _assert_valid_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path.name} is not a PNG"
    image = plt.imread(path)  # decodes the whole file
    assert image.ndim == 3
    assert image.shape[0] > 100
    assert image.shape[1] > 100
    assert np.ptp(image) > 0, f"{path.name} is blank"


@pytest.mark.slow
def test_run_writes_h5ad_figures_and_report(demo):
    report, _ = demo
    out = report.parent
    assert report == out / "report.html"

    adata = ad.read_h5ad(out / "demo.h5ad")
    assert adata.shape == (700, 765)
    assert {"X_pca", "X_umap"} <= set(adata.obsm)
    assert adata.obsm["X_umap"].shape == (700, 2)
    assert np.isfinite(adata.obsm["X_umap"]).all()
    assert {"connectivities", "distances"} <= set(adata.obsp)
    assert {"pca", "neighbors", "umap"} <= set(adata.uns)

    pngs = {p.name for p in out.glob("*.png")}
    assert pngs >= EXPECTED_FIGURES
    html = report.read_text(encoding="utf-8")
    for name in pngs:
        _assert_valid_png(out / name)
        assert f'<img src="{name}"' in html

    # the registry table, with every registered method
    assert "<td>dtsne</td>" in html
    for name in fs.plugins.list_methods()["name"]:
        assert f"<td>{name}</td>" in html
    for title in ("Method registry", "Baseline embedding on pbmc68k_reduced", "krumsiek11"):
        assert title in html


@pytest.mark.slow
def test_registry_section_reports_status_and_available_tools_run(demo):
    _, sections = demo
    assert len(sections) == len(SECTIONS)
    registry = next(s for s in sections if s.title == "Method registry")
    status = dict(registry.tables)["Omics methods: implemented or pending"]
    omics = set(fs.plugins.list_methods(domain="omics")["name"])
    assert set(status["name"]) == omics
    assert set(status["status"]) <= {"available", "pending", "missing dependency", "not probed"}
    builtin = status[status["provider"] == "fischer_sc"]
    assert set(builtin["status"]) <= {"available", "pending"}
    # an implemented tool must really run in a section of its own
    available = set(status.loc[status["status"] == "available", "name"])
    demoed = {m for s in sections for m in s.methods}
    missing = available - demoed
    assert not missing, (
        f"implemented but not run by any demo section (append one to fischer_sc.demo.SECTIONS): {missing}"
    )


@pytest.mark.slow
def test_cli(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fischer_sc.demo", "--out", str(tmp_path), "--quick"],
        check=True,
        capture_output=True,
        text=True,
    )
    report = tmp_path / "report.html"
    assert report.is_file()
    assert (tmp_path / "demo.h5ad").is_file()
    assert result.stdout.strip().splitlines() == [f"fischer_sc demo: report written to {report}"]
    html = report.read_text(encoding="utf-8")
    for name in EXPECTED_FIGURES:
        assert f'<img src="{name}"' in html


def test_cli_help():
    result = subprocess.run(
        [sys.executable, "-m", "fischer_sc.demo", "--help"], check=True, capture_output=True, text=True
    )
    assert "--out" in result.stdout
    assert "--quick" in result.stdout


def test_appended_section_is_rendered(tmp_path):
    def custom(adatas, out_dir, *, quick=False):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        name = save_figure(fig, out_dir, "custom.png")
        table = pd.DataFrame({"a & b": [1, 2], "c": ["<x>", "y"]})
        return Section("Custom <tool>", "Shows `fs.tl.x` & more.\n\nSecond paragraph.", [name], [("Caption", table)])

    report = run(tmp_path, quick=True, sections=[custom])
    html = report.read_text(encoding="utf-8")
    assert '<img src="custom.png"' in html
    assert "<h2>Custom &lt;tool&gt;</h2>" in html
    assert "<code>fs.tl.x</code> &amp; more." in html
    assert "<caption>Caption</caption>" in html
    assert "&lt;x&gt;" in html
    assert len(re.findall(r"<p>", html)) == 2
    _assert_valid_png(tmp_path / "custom.png")
    assert (tmp_path / "demo.h5ad").is_file()


def test_section_must_return_section(tmp_path):
    with pytest.raises(TypeError, match="must return a fischer_sc.demo.Section"):
        run(tmp_path, sections=[lambda adatas, out_dir, *, quick=False: "not a section"])


def test_missing_figure_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png"):
        write_report([Section("A", "text", ["nope.png"])], tmp_path)


def test_save_figure_needs_png(tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="must end in '.png'"):
        save_figure(fig, tmp_path, "figure.jpg")
    assert not plt.fignum_exists(fig.number)


def test_expected_warnings_swallows_only_matching():
    with expected_warnings("known noise"):
        warnings.warn("some known noise here", UserWarning, stacklevel=1)
    with pytest.warns(UserWarning, match="something else"), expected_warnings("known noise"):
        warnings.warn("something else", UserWarning, stacklevel=1)

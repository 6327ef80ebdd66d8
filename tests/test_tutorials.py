"""Every tutorial in tutorials/ runs end to end as a notebook, exactly as the docs build executes it."""

from __future__ import annotations

from pathlib import Path

import pytest

TUTORIALS_DIR = Path(__file__).resolve().parents[1] / "tutorials"
# The same files the docs build renders (docs/conf.py): notebooks and percent scripts, not private helpers.
TUTORIALS = sorted(
    p for pattern in ("*.py", "*.ipynb") for p in TUTORIALS_DIR.glob(pattern) if not p.name.startswith("_")
)
TIMEOUT = 600  # seconds per cell


def test_tutorials_found():
    assert TUTORIALS, f"no tutorials found in {TUTORIALS_DIR}"


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial_runs(path: Path, tmp_path: Path):
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(path, fmt="py:percent" if path.suffix == ".py" else None)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=TIMEOUT,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()
    except CellExecutionError as e:
        pytest.fail(f"{path.name} failed:\n{e}", pytrace=False)

    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: cells produced errors: {errors}"

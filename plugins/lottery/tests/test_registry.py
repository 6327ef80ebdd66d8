"""The plugin is found through its entry point and its hooks import no torch."""

from __future__ import annotations

import subprocess
import sys

import fischer_sc as fs


def test_listed_with_provider():
    df = fs.plugins.list_methods(domain="pruning")
    rows = df.set_index("name")
    for name in ("plant_n_seek", "prune_at_init", "edge_popup", "imp"):
        assert rows.loc[name, "provider"] == "fischer-sc-lottery"
        assert rows.loc[name, "plugin"] == "lottery"
    assert callable(fs.plugins.get("imp").func)


def test_hooks_import_no_torch():
    code = (
        "import sys\n"
        "import fischer_sc_lottery.plugin\n"
        "import fischer_sc_lottery\n"
        "import fischer_sc as fs\n"
        "fs.plugins.list_methods()\n"
        "fischer_sc_lottery.plant_n_seek('circle', 4, 50)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_run_through_the_registry():
    net = fs.plugins.run("plant_n_seek", task="relu", depth=4, width=20, random_state=0)
    assert net.density == 3 / (20 + 400 + 20)

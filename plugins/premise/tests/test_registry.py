"""The plugin is registered through the entry point, runs through fs.plugins.run and can be disabled by name."""

from __future__ import annotations

import pytest

import fischer_sc as fs
from fischer_sc.plugins import UnknownMethodError
from fischer_sc_premise import planted_errors


def test_listed_with_provider(fresh_registry):
    row = fs.plugins.list_methods().set_index("name").loc["premise"]
    assert (row["provider"], row["plugin"], row["domain"]) == ("fischer_sc_premise", "premise", "nlp")


def test_runs_through_the_registry(fresh_registry):
    d = planted_errors(2000, 100, rule_sizes=(2,), rule_rate=0.08, random_state=0)
    df = fs.plugins.run("premise", d.X, d.is_error, progress=False)
    assert df.iloc[0]["pattern"] == " & ".join(str(t) for t in d.rules[0])
    assert df.iloc[0]["direction"] == "error"


def test_disabled_by_name(monkeypatch, fresh_registry):
    monkeypatch.setenv("FISCHER_SC_DISABLE_PLUGINS", "premise")
    fs.plugins.refresh()
    assert "premise" not in fs.plugins.list_methods()["name"].tolist()
    with pytest.raises(UnknownMethodError, match="FISCHER_SC_DISABLE_PLUGINS"):
        fs.plugins.get("premise")


def test_import_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, fischer_sc; fischer_sc.plugins.list_methods(); "
        "print('fischer_sc_premise' in sys.modules, 'fischer_sc_premise._premise' in sys.modules, 'numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # Listing loads the plugin's hook module only: not its implementation, not numba.
    assert out.split() == ["True", "False", "False"]

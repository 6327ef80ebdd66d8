"""The plugin is found through its entry point, listed with its provider and runs through the registry."""

from __future__ import annotations

import subprocess
import sys

import pytest

import fischer_sc as fs


@pytest.fixture
def fresh_registry():
    from fischer_sc.plugins import _manager

    _manager.registry.cache_clear()
    yield
    _manager.registry.cache_clear()


def test_listed_with_provider(fresh_registry):
    df = fs.plugins.list_methods().set_index("name")
    for name in ("feddc", "feddc_daisy", "fedavg", "federated_classifier"):
        row = df.loc[name]
        assert (row["provider"], row["plugin"], row["domain"]) == ("fischer-sc-federated", "federated", "federated")


def test_runs_through_the_registry(fresh_registry, digits):
    from fischer_sc_federated import mlp, split_clients

    Xtr, Xte, ytr, yte = digits
    parts = split_clients(Xtr, ytr, 10, 4, random_state=0)
    kw = {"rounds": 4, "agg_period": 2, "eval_data": (Xte, yte), "random_state": 0}
    a = fs.plugins.run("feddc", lambda: mlp(64, 10), parts, daisy_period=1, **kw)
    b = fs.plugins.run("feddc_daisy", lambda: mlp(64, 10), parts, daisy_period=1, **kw)
    assert a.history.equals(b.history)
    c = fs.plugins.run("fedavg", lambda: mlp(64, 10), parts, **kw)
    assert list(c.history.columns[:3]) == ["round", "action", "acc_avg_model"]


def test_entry_point_module_imports_neither_torch_nor_flwr():
    code = (
        "import sys, fischer_sc_federated.plugin, fischer_sc_federated; "
        "print('torch' in sys.modules, 'flwr' in sys.modules, 'fischer_sc_federated.sim' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]

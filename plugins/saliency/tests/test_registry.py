"""Registered through the entry point only, listed with its provider, runs through fs.plugins.run, imports no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import fischer_sc as fs


@pytest.fixture
def fresh_registry():
    from fischer_sc.plugins import _manager

    _manager.registry.cache_clear()
    yield
    _manager.registry.cache_clear()


def test_listed_with_provider(fresh_registry):
    row = fs.plugins.list_methods().set_index("name").loc["var_saliency"]
    assert (row["provider"], row["plugin"], row["domain"]) == ("fischer-sc-saliency", "saliency", "vision")
    assert row["reference"] == "arXiv:2503.07346"


def test_runs_through_the_registry(fresh_registry, tiny_cnn, images):
    from fischer_sc_saliency import var_attribution

    kw = {"target": 2, "classes": [0, 2, 4], "base": "input_x_gradient", "temperature": 10, "tau": 0.01}
    out = fs.plugins.run("var_saliency", tiny_cnn, images, **kw)
    torch.testing.assert_close(out, var_attribution(tiny_cnn, images, **kw))


def test_plugin_module_imports_no_torch():
    code = (
        "import sys, fischer_sc_saliency.plugin as p; "
        "[spec] = p.fischer_sc_register_methods(); print(spec.name, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["var_saliency", "False"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"classes": [2]}, "K >= 2"),
        ({"target": 4, "classes": [0, 1, 2]}, "target 4 .* is not in classes"),
        ({"classes": [0, 2], "tau": 0.5}, "tau"),  # K = 2: tau must be < 1/2, the bound itself is out
        ({"classes": [0, 2], "tau": -0.01}, "tau"),
        ({"nan": float("nan")}, "NaN"),
        ({"nan": float("inf")}, "infinite"),
    ],
)
def test_clear_errors_through_the_registry(fresh_registry, tiny_cnn, images, kwargs, match):
    kw = {"target": 2, "base": "input_x_gradient"} | kwargs
    x = images.clone()
    if "nan" in kw:
        x[1, 0, 3, 3] = kw.pop("nan")
    with pytest.raises(ValueError, match=match):
        fs.plugins.run("var_saliency", tiny_cnn, x, **kw)
    # the bound is strict: just inside it runs (K = 2, tau < 1/2)
    fs.plugins.run("var_saliency", tiny_cnn, images, target=2, classes=[0, 2], tau=0.49, base="gradient")

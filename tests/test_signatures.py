"""scanpy's function contract, checked for every public function of fs.tl and fs.pl."""

from __future__ import annotations

import inspect

import pytest

import fischer_sc as fs
from fischer_sc.testing import tool_signature_problems


def _public_functions(module):
    return [getattr(module, name) for name in module.__all__ if inspect.isfunction(getattr(module, name))]


TOOLS = _public_functions(fs.tl)
PLOTS = _public_functions(fs.pl)


def test_every_registered_omics_method_is_a_tool():
    names = set(fs.plugins.list_methods(domain="omics").query("provider == 'fischer_sc'")["name"])
    assert names == {f.__name__ for f in TOOLS}


@pytest.mark.parametrize("func", TOOLS, ids=lambda f: f.__name__)
def test_tool_signature(func):
    assert tool_signature_problems(func, kind="tl") == []


@pytest.mark.parametrize("func", PLOTS, ids=lambda f: f.__name__)
def test_plot_signature(func):
    assert tool_signature_problems(func, kind="pl") == []


@pytest.mark.parametrize("func", TOOLS + PLOTS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_docstring_documents_every_parameter_and_returns(func):
    doc = inspect.getdoc(func) or ""
    for name, p in inspect.signature(func).parameters.items():
        label = f"**{name}" if p.kind is p.VAR_KEYWORD else name
        assert f"\n{label}\n" in f"\n{doc}\n", f"{func.__name__}: parameter {name!r} is not documented"
    assert "Returns\n-------" in doc


def test_checker_catches_violations():
    def bad(data, a, b, c, *args, copy=True, key_added="x", random_state=None): ...

    problems = "\n".join(tool_signature_problems(bad))
    for expected in (
        "first parameter must be 'adata'",
        "4 positional",
        "*args",
        "'copy' must default to False",
        "'key_added' must default to None",
        "'random_state' must default to 0",
        "AnnData | None",
    ):
        assert expected in problems

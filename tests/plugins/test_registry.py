"""The method registry: built-ins, entry points, provenance, conflicts, broken and disabled plugins."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fischer_sc as fs
from fischer_sc.plugins import (
    DuplicateMethodError,
    HookSpecs,
    MethodSpec,
    PluginWarning,
    UnknownMethodError,
    build_registry,
)

OMICS = {"dtsne", "mercat", "factor_out", "binaps", "diffnaps", "dash_grn"}


def _spec(name: str = "toy", **kw) -> MethodSpec:
    kw.setdefault("func", lambda x, *, k=1: x * k)
    return MethodSpec(name=name, domain=kw.pop("domain", "nlp"), summary=f"{name} summary", **kw)


class _Plugin:
    """A plugin object returning fixed records."""

    def __init__(self, *specs: MethodSpec) -> None:
        self.specs = specs

    @fs.hookimpl
    def fischer_sc_register_methods(self):
        return list(self.specs)


def _write_dist(root: Path, dist: str, version: str, module_source: str, ep_name: str | None = None) -> None:
    """A package that is not in this repo: a module and its dist-info with an entry point, on a path."""
    module = dist.replace("-", "_")
    (root / f"{module}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[fischer_sc]\n{ep_name or module} = {module}\n")


THIRD_PARTY = """
    import fischer_sc as fs
    from fischer_sc.plugins import MethodSpec

    def double(values, *, factor=2):
        return [v * factor for v in values]

    @fs.hookimpl
    def fischer_sc_register_methods():
        return [MethodSpec(name="tp_double", domain="nlp", summary="Doubles its input.",
                           func="thirdparty_plugin:double", reference="arXiv:0000.00000")]
"""


# --- built-ins -----------------------------------------------------------------------------------


def test_builtin_omics_tools_are_registered(fresh_registry):
    df = fs.plugins.list_methods(domain="omics")
    builtin = df[df["provider"] == "fischer_sc"]
    assert set(builtin["name"]) == OMICS
    assert (builtin["version"] == fs.__version__).all()
    assert (builtin["plugin"] == "fischer_sc").all()
    assert list(df.columns[:5]) == ["name", "domain", "provider", "version", "plugin"]
    assert "summary" in df.columns


def test_builtin_func_resolves_to_the_tool(fresh_registry):
    for name in OMICS:
        assert fs.plugins.get(name).func is getattr(fs.tl, name)


def test_registry_is_cached_and_refresh_rebuilds(fresh_registry):
    first = fs.plugins.registry()
    assert fs.plugins.registry() is first
    assert fs.plugins.refresh() is not first


def test_list_methods_rejects_a_domain_no_method_has():
    with pytest.raises(
        ValueError, match=r"no registered method has domain='genomics'; the registered domains are .*omics"
    ):
        fs.plugins.list_methods(domain="genomics")


# --- plugin objects, conflicts -------------------------------------------------------------------


def test_plugin_object_is_registered_and_runs():
    reg = build_registry(entry_points=False, plugins=[("mine", _Plugin(_spec("toy")))])
    assert reg.methods["toy"].provider.plugin == "mine"
    assert reg.run("toy", 3, k=4) == 12
    assert "toy" in reg.names() and "dtsne" in reg.names()


def test_duplicate_method_name_names_both_providers():
    with pytest.raises(DuplicateMethodError, match=r"'toy' is registered twice.*'first'.*'second'"):
        build_registry(
            entry_points=False, plugins=[("first", _Plugin(_spec("toy"))), ("second", _Plugin(_spec("toy")))]
        )


def test_plugin_shadowing_a_builtin_is_a_conflict():
    with pytest.raises(DuplicateMethodError, match=r"'dtsne'.*'fischer_sc'.*'shadow'"):
        build_registry(entry_points=False, plugins=[("shadow", _Plugin(_spec("dtsne", domain="omics")))])


def test_non_methodspec_record_raises_type_error_naming_the_plugin():
    class Bad:
        @fs.hookimpl
        def fischer_sc_register_methods(self):
            return [{"name": "x"}]

    with pytest.raises(TypeError, match="plugin 'bad' .* returned dict"):
        build_registry(entry_points=False, plugins=[("bad", Bad())])


def test_hook_that_raises_warns_and_is_skipped():
    class Raising:
        @fs.hookimpl
        def fischer_sc_register_methods(self):
            msg = "boom"
            raise RuntimeError(msg)

    with pytest.warns(PluginWarning, match="'raising'.*RuntimeError: boom"):
        reg = build_registry(entry_points=False, plugins=[("raising", Raising()), ("ok", _Plugin(_spec("toy")))])
    assert "toy" in reg.methods
    assert "raising" in reg.failed


def test_misspelt_hook_warns_and_is_skipped():
    class Typo:
        @fs.hookimpl
        def fischer_sc_register_method(self):  # missing the final "s"
            return [_spec("typo")]

    with pytest.warns(PluginWarning, match="'typo' is skipped.*unknown hook"):
        reg = build_registry(entry_points=False, plugins=[("typo", Typo()), ("ok", _Plugin(_spec("toy")))])
    assert "typo" in reg.failed and "typo" not in reg.methods and "toy" in reg.methods


def test_disabled_blocks_a_plugin_object():
    reg = build_registry(entry_points=False, plugins=[("mine", _Plugin(_spec("toy")))], disabled=["mine"])
    assert "toy" not in reg.methods
    assert reg.blocked == ("mine",)


# --- lazy resolution and requirements ------------------------------------------------------------


def test_lazy_func_is_resolved_on_get_only():
    spec = _spec("lazy", func="fischer_sc_no_such_module.impl:run")
    reg = build_registry(entry_points=False, plugins=[("lazy", _Plugin(spec))])  # registering imports nothing
    assert reg.methods["lazy"].spec.func == "fischer_sc_no_such_module.impl:run"
    with pytest.raises(ImportError, match=r"'lazy' \(from .*\) points to 'fischer_sc_no_such_module.impl:run'"):
        reg.get("lazy")


def test_lazy_func_resolves_nested_attribute():
    reg = build_registry(entry_points=False, plugins=[("p", _Plugin(_spec("j", func="os.path:join")))])
    import os.path

    assert reg.get("j").func is os.path.join
    assert reg.run("j", "a", "b") == os.path.join("a", "b")


def test_missing_requirement_gives_the_install_command():
    spec = _spec("needy", requires=("fischer_sc_missing_dependency",))
    reg = build_registry(entry_points=False, plugins=[("needy", _Plugin(spec))])
    with pytest.raises(ImportError, match="pip install fischer_sc_missing_dependency"):
        reg.get("needy")


def test_unknown_name_lists_the_known_ones(fresh_registry):
    with pytest.raises(UnknownMethodError, match=r"No method named 'dtnse'.*Choose one of: .*dtsne") as info:
        fs.plugins.get("dtnse")
    assert isinstance(info.value, KeyError)
    assert not str(info.value).startswith("'")  # readable, not KeyError's quoted repr


# --- MethodSpec validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "Bad-Name"}, ValueError, "lower_snake_case"),
        ({"domain": "Spatial Omics"}, ValueError, "domain 'Spatial Omics' must be a lower_snake_case word"),
        ({"domain": ""}, ValueError, "must be a lower_snake_case word"),
        ({"domain": None}, ValueError, "must be a lower_snake_case word"),
        ({"func": "not a path"}, ValueError, "'package.module:attr'"),
        ({"func": 3}, TypeError, "must be a callable"),
        ({"requires": (1,)}, TypeError, "requires must hold strings"),
    ],
)
def test_methodspec_validates_its_fields(kwargs, error, match):
    base = {"name": "ok", "domain": "nlp", "summary": "s", "func": print}
    with pytest.raises(error, match=match):
        MethodSpec(**(base | kwargs))


def test_methodspec_is_frozen_and_normalises_requires():
    spec = MethodSpec(name="ok", domain="vision", summary="s", func=print, requires="torch")
    assert spec.requires == ("torch",)
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]


def test_a_plugin_may_bring_its_own_domain():
    reg = build_registry(entry_points=False, plugins=[("spatial_pkg", _Plugin(_spec("niches", domain="spatial")))])
    assert reg.methods["niches"].spec.domain == "spatial"
    assert "spatial" not in fs.plugins.KNOWN_DOMAINS


def test_third_party_distribution_with_a_new_domain_is_listed_and_runs(tmp_path, monkeypatch, fresh_registry):
    _write_dist(
        tmp_path,
        "tabular_plugin",
        "0.1.0",
        THIRD_PARTY.replace("tp_double", "tab_double")
        .replace('domain="nlp"', 'domain="tabular"')
        .replace("thirdparty_plugin", "tabular_plugin"),
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fs.plugins.refresh()
    df = fs.plugins.list_methods(domain="tabular")
    assert df[["name", "domain", "provider"]].to_numpy().tolist() == [["tab_double", "tabular", "tabular_plugin"]]
    assert "tabular" in set(fs.plugins.list_methods()["domain"])
    assert fs.plugins.run("tab_double", [2], factor=5) == [10]


# --- entry points: real distributions on sys.path ------------------------------------------------


def test_third_party_distribution_is_discovered(tmp_path, monkeypatch, fresh_registry):
    _write_dist(tmp_path, "thirdparty_plugin", "1.2.3", THIRD_PARTY)
    monkeypatch.syspath_prepend(str(tmp_path))
    df = fs.plugins.refresh() and fs.plugins.list_methods(domain="nlp")
    row = df[df["name"] == "tp_double"]
    assert row[["provider", "version", "plugin"]].to_numpy().tolist() == [
        ["thirdparty_plugin", "1.2.3", "thirdparty_plugin"]
    ]
    assert row["summary"].item() == "Doubles its input."
    assert fs.plugins.run("tp_double", [1, 2], factor=3) == [3, 6]


def test_broken_distribution_warns_and_the_rest_works(tmp_path, monkeypatch, fresh_registry):
    _write_dist(tmp_path, "thirdparty_plugin", "1.2.3", THIRD_PARTY)
    _write_dist(tmp_path, "broken_plugin", "0.0.1", "import fischer_sc_this_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(
        PluginWarning, match=r"'broken_plugin' from broken_plugin 0.0.1 failed to import.*ModuleNotFoundError"
    ):
        reg = fs.plugins.refresh()
    assert "broken_plugin" in reg.failed
    assert fs.plugins.run("tp_double", [2]) == [4]
    assert "dtsne" in fs.plugins.list_methods()["name"].tolist()


def test_two_distributions_with_one_method_name_raise(tmp_path, monkeypatch, fresh_registry):
    _write_dist(tmp_path, "thirdparty_plugin", "1.2.3", THIRD_PARTY)
    _write_dist(
        tmp_path, "copycat_plugin", "9.0", THIRD_PARTY.replace("thirdparty_plugin:double", "copycat_plugin:double")
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DuplicateMethodError, match=r"copycat_plugin 9.0.*thirdparty_plugin 1.2.3"):
        fs.plugins.refresh()


def test_environment_variable_disables_by_name(tmp_path, monkeypatch, fresh_registry):
    _write_dist(tmp_path, "thirdparty_plugin", "1.2.3", THIRD_PARTY, ep_name="tp")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("FISCHER_SC_DISABLE_PLUGINS", " tp , example")
    reg = fs.plugins.refresh()
    assert reg.blocked == ("tp", "example")
    names = fs.plugins.list_methods()["name"].tolist()
    assert "tp_double" not in names and "group_centroids" not in names and "dtsne" in names
    with pytest.raises(UnknownMethodError, match="FISCHER_SC_DISABLE_PLUGINS"):
        fs.plugins.get("tp_double")


def test_first_party_example_plugin_is_an_entry_point(fresh_registry):
    row = fs.plugins.list_methods().set_index("name").loc["group_centroids"]
    assert (row["provider"], row["plugin"]) == ("fischer_sc_example", "example")


# --- import stays light; hooks are documented and tested -----------------------------------------


def test_import_is_light():
    code = (
        "import sys, fischer_sc as fs; fs.hookimpl; "
        "heavy = [m for m in ('torch', 'fischer_sc_example', 'scanpy', 'pandas') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_registry_use_does_not_import_torch():
    code = "import sys, fischer_sc as fs; fs.plugins.list_methods(); fs.plugins.get('dtsne'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_hookspec_is_documented_and_tested():
    source = Path(__file__).read_text()
    hooks = [name for name, _ in inspect.getmembers(HookSpecs, inspect.isfunction) if name.startswith("fischer_sc_")]
    assert hooks == ["fischer_sc_register_methods"]
    for name in hooks:
        assert inspect.getdoc(getattr(HookSpecs, name)), f"hookspec {name} needs a docstring"
        assert source.count(f"def {name}") >= 2, f"hookspec {name} needs tests"

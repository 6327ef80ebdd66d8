"""Building the registry: built-ins first, then entry points of group ``fischer_sc``.

Building is lazy and cached (:func:`registry`); ``import fischer_sc`` never loads a plugin.
A plugin that fails to import, to register or to answer the hook is reported with a
:class:`PluginWarning` and skipped, so one broken package cannot take the others down.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata as md
import importlib.util
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from fischer_sc._version import __version__

from ._builtin import BUILTIN_PLUGIN, BuiltinMethods
from ._errors import DuplicateMethodError, PluginWarning, UnknownMethodError
from ._spec import PROJECT, HookSpecs, MethodSpec

ENTRY_POINT_GROUP = "fischer_sc"
DISABLE_ENV = "FISCHER_SC_DISABLE_PLUGINS"


@dataclass(frozen=True, slots=True)
class Provider:
    """Who registered a plugin: the plugin's registered name and the distribution that ships it."""

    plugin: str
    distribution: str
    version: str


@dataclass(frozen=True, slots=True)
class Registration:
    """A :class:`MethodSpec` together with its provider."""

    spec: MethodSpec
    provider: Provider


@dataclass(slots=True)
class Registry:
    """The methods known to fischer_sc, indexed by name.

    Build one with :func:`build_registry`; :func:`registry` returns the cached default.
    """

    manager: pluggy.PluginManager
    methods: dict[str, Registration] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    """Plugins that were skipped, mapped to the reason."""
    blocked: tuple[str, ...] = ()

    def names(self) -> list[str]:
        """Sorted names of every registered method."""
        return sorted(self.methods)

    def registration(self, name: str) -> Registration:
        """The :class:`Registration` of ``name``; an unknown name lists the known ones."""
        try:
            return self.methods[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            msg = (
                f"No method named {name!r} is registered. Choose one of: {known}. "
                "A method from a plugin package appears once the package is installed "
                f"(and not listed in {DISABLE_ENV}); call fischer_sc.plugins.refresh() after installing it."
            )
            raise UnknownMethodError(msg) from None

    def get(self, name: str) -> MethodSpec:
        """The spec of ``name`` with ``func`` resolved to a callable and ``requires`` checked."""
        reg = self.registration(name)
        _check_requires(reg)
        if isinstance(reg.spec.func, str):
            return replace(reg.spec, func=_resolve(reg.spec.func, reg))
        return reg.spec

    def run(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call the method ``name`` with the given arguments and return what it returns."""
        return self.get(name).func(*args, **kwargs)  # type: ignore[operator]


def _check_requires(reg: Registration) -> None:
    missing = [mod for mod in reg.spec.requires if importlib.util.find_spec(mod.split(".")[0]) is None]
    if missing:
        msg = (
            f"Method {reg.spec.name!r} (from {reg.provider.distribution}) needs {', '.join(missing)}, "
            f"which is not installed. Install it, e.g. `pip install {' '.join(missing)}`."
        )
        raise ImportError(msg)


def _resolve(target: str, reg: Registration) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        msg = (
            f"Method {reg.spec.name!r} (from {reg.provider.distribution} {reg.provider.version}) "
            f"points to {target!r}, which cannot be loaded: {e}. Reinstall or upgrade {reg.provider.distribution}."
        )
        raise ImportError(msg) from e
    if not callable(obj):
        msg = f"Method {reg.spec.name!r}: {target!r} is not callable (got {type(obj).__name__})."
        raise TypeError(msg)
    return obj


def disabled_plugins(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Plugin names listed in ``FISCHER_SC_DISABLE_PLUGINS`` (comma separated)."""
    raw = (os.environ if environ is None else environ).get(DISABLE_ENV, "")
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def _warn(msg: str) -> None:
    warnings.warn(msg, PluginWarning, stacklevel=3)


def build_registry(
    *,
    entry_points: bool = True,
    plugins: Iterable[tuple[str, object]] = (),
    disabled: Iterable[str] | None = None,
) -> Registry:
    """Build a fresh, uncached registry.

    Parameters
    ----------
    entry_points
        Load the plugins installed in the entry-point group ``fischer_sc``.
    plugins
        Extra ``(name, plugin_object)`` pairs registered after the built-ins, before entry points
        (useful for tests and for applications that bundle their own methods).
    disabled
        Plugin names to block; ``None`` reads ``FISCHER_SC_DISABLE_PLUGINS``.

    Returns
    -------
    The registry. Duplicate method names raise :class:`DuplicateMethodError` naming both providers.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(HookSpecs)
    blocked = disabled_plugins() if disabled is None else tuple(disabled)
    for name in blocked:
        pm.set_blocked(name)
    reg = Registry(manager=pm, blocked=blocked)
    providers: dict[str, Provider] = {}

    def register(name: str, obj: object, provider: Provider) -> None:
        if pm.is_blocked(name):
            return
        try:
            pm.register(obj, name=name)
        except Exception as e:  # noqa: BLE001 (pluggy raises ValueError or PluginValidationError)
            reg.failed[name] = f"could not be registered: {e}"
            _warn(
                f"fischer_sc plugin {name!r} from {provider.distribution} could not be registered and is skipped: {e}"
            )
            return
        providers[name] = provider

    register(BUILTIN_PLUGIN, BuiltinMethods(), Provider(BUILTIN_PLUGIN, "fischer_sc", __version__))
    for name, obj in plugins:
        register(name, obj, Provider(name, getattr(obj, "__name__", type(obj).__name__), "local"))
    if entry_points:
        for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
            if ep.name in blocked:
                continue
            dist = ep.dist.name if ep.dist is not None else "unknown"
            version = ep.dist.version if ep.dist is not None else "unknown"
            try:
                obj = ep.load()
            except Exception as e:  # noqa: BLE001 (any import-time error of a third-party package)
                reg.failed[ep.name] = f"failed to import: {type(e).__name__}: {e}"
                _warn(
                    f"fischer_sc plugin {ep.name!r} from {dist} {version} failed to import and is skipped "
                    f"({type(e).__name__}: {e}). Fix or uninstall {dist}, or set {DISABLE_ENV}={ep.name}."
                )
                continue
            register(ep.name, obj, Provider(ep.name, dist, version))

    _drop_unknown_hooks(pm, reg)
    _collect(pm, reg, providers)
    return reg


def _drop_unknown_hooks(pm: pluggy.PluginManager, reg: Registry) -> None:
    # check_pending catches misspelt hooks (fischer_sc_register_method); skip the offender, keep the rest.
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as e:
            name = pm.get_name(e.plugin) or repr(e.plugin)
            pm.unregister(e.plugin)
            reg.failed[name] = f"implements an unknown hook: {e}"
            _warn(f"fischer_sc plugin {name!r} is skipped: {e}")


def _collect(pm: pluggy.PluginManager, reg: Registry, providers: dict[str, Provider]) -> None:
    # Call each implementation on its own so every record keeps its provider. get_hookimpls() is in
    # registration order (built-ins first), so a conflict names the earlier provider first.
    for impl in pm.hook.fischer_sc_register_methods.get_hookimpls():
        provider = providers[impl.plugin_name]
        try:
            records = impl.function() or ()
            records = list(records)
        except Exception as e:  # noqa: BLE001
            reg.failed[impl.plugin_name] = f"raised in fischer_sc_register_methods: {type(e).__name__}: {e}"
            _warn(
                f"fischer_sc plugin {impl.plugin_name!r} from {provider.distribution} raised {type(e).__name__}: {e}; skipped."
            )
            continue
        for spec in records:
            if not isinstance(spec, MethodSpec):
                msg = (
                    f"fischer_sc plugin {impl.plugin_name!r} from {provider.distribution} returned "
                    f"{type(spec).__name__} from fischer_sc_register_methods; return fischer_sc.plugins.MethodSpec records."
                )
                raise TypeError(msg)
            if spec.name in reg.methods:
                first = reg.methods[spec.name].provider
                msg = (
                    f"Method name {spec.name!r} is registered twice: by plugin {first.plugin!r} "
                    f"({first.distribution} {first.version}) and by plugin {provider.plugin!r} "
                    f"({provider.distribution} {provider.version}). Uninstall one of them, or disable one with "
                    f"{DISABLE_ENV}={provider.plugin}."
                )
                raise DuplicateMethodError(msg)
            reg.methods[spec.name] = Registration(spec, provider)


@functools.cache
def registry() -> Registry:
    """The default registry, built on first use and cached. :func:`refresh` rebuilds it."""
    return build_registry()


def refresh() -> Registry:
    """Forget the cached registry (after installing a plugin, or changing ``FISCHER_SC_DISABLE_PLUGINS``)."""
    registry.cache_clear()
    return registry()

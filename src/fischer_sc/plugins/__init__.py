"""The method registry: every fischer_sc method, built in or from a plugin package, in one index.

Plugins are installable packages that declare an entry point in the group ``fischer_sc``
pointing to an object (usually a module) with a :data:`fischer_sc.hookimpl`-decorated
``fischer_sc_register_methods`` function returning :class:`MethodSpec` records.
Set ``FISCHER_SC_DISABLE_PLUGINS=name1,name2`` to block plugins by their entry-point name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._builtin import builtin_spec
from ._errors import DuplicateMethodError, PluginWarning, UnknownMethodError
from ._manager import (
    DISABLE_ENV,
    ENTRY_POINT_GROUP,
    Provider,
    Registration,
    Registry,
    build_registry,
    disabled_plugins,
    refresh,
    registry,
)
from ._spec import KNOWN_DOMAINS, HookSpecs, MethodSpec, hookimpl, hookspec

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "DuplicateMethodError",
    "KNOWN_DOMAINS",
    "HookSpecs",
    "MethodSpec",
    "PluginWarning",
    "Provider",
    "Registration",
    "Registry",
    "UnknownMethodError",
    "build_registry",
    "builtin_spec",
    "disabled_plugins",
    "get",
    "hookimpl",
    "hookspec",
    "list_methods",
    "refresh",
    "registry",
    "run",
]

_COLUMNS = ["name", "domain", "provider", "version", "plugin", "summary", "reference", "supports_gpu"]


def list_methods(domain: str | None = None) -> pd.DataFrame:
    """List the registered methods.

    Parameters
    ----------
    domain
        Keep only one domain: a known one (``"omics"``, ``"nlp"``, ``"vision"``, ``"pruning"``,
        ``"federated"``) or any other that an installed plugin registers.

    Returns
    -------
    One row per method, sorted by domain and name, with columns ``name``, ``domain``,
    ``provider`` (the distribution that ships it), ``version`` (of that distribution),
    ``plugin`` (the name to use in ``FISCHER_SC_DISABLE_PLUGINS``), ``summary``, ``reference``
    and ``supports_gpu``.

    Examples
    --------
    >>> import fischer_sc as fs
    >>> df = fs.plugins.list_methods(domain="omics")
    >>> sorted(df["name"])[:3]
    ['binaps', 'dash_grn', 'diffnaps']
    """
    import pandas as pd  # only here: keeps `import fischer_sc` light

    methods = registry().methods.values()
    present = sorted({r.spec.domain for r in methods})
    if domain is not None and domain not in present:
        msg = f"no registered method has domain={domain!r}; the registered domains are {', '.join(present)} (or None for all)."
        raise ValueError(msg)

    rows = [
        {
            "name": r.spec.name,
            "domain": r.spec.domain,
            "provider": r.provider.distribution,
            "version": r.provider.version,
            "plugin": r.provider.plugin,
            "summary": r.spec.summary,
            "reference": r.spec.reference,
            "supports_gpu": r.spec.supports_gpu,
        }
        for r in methods
        if domain is None or r.spec.domain == domain
    ]
    df = pd.DataFrame(rows, columns=_COLUMNS)
    return df.sort_values(["domain", "name"], ignore_index=True)


def get(name: str) -> MethodSpec:
    """The :class:`MethodSpec` of a registered method, with ``func`` resolved to a callable.

    Raises :class:`UnknownMethodError` (a :class:`KeyError`) listing the known names for an
    unknown ``name``, and :class:`ImportError` with the install command when a module in
    ``requires`` is missing.
    """
    return registry().get(name)


def run(name: str, /, *args: Any, **kwargs: Any) -> Any:
    """Run a registered method: ``fs.plugins.run("dtsne", adata, perplexity=50)``.

    Positional and keyword arguments go to the method unchanged; its return value is returned.
    """
    return registry().run(name, *args, **kwargs)

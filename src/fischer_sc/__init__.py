"""fischer_sc: interpretable machine learning for AnnData, and a registry for its plugins.

Import it as ``fs``. Submodules load on first access so that ``import fischer_sc`` stays light:
it never imports torch, scanpy's plotting stack or any plugin.

>>> import fischer_sc as fs
>>> "dtsne" in fs.plugins.list_methods()["name"].tolist()
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__
from .plugins._spec import hookimpl

if TYPE_CHECKING:
    from . import core, datasets, metrics, pl, plugins, tl

__all__ = ["__version__", "core", "datasets", "hookimpl", "metrics", "pl", "plugins", "tl"]

_SUBMODULES = frozenset({"core", "datasets", "metrics", "pl", "plugins", "tl", "demo"})


def __getattr__(name: str):
    # PEP 562: load submodules lazily, so `fs.tl` costs nothing until used.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)

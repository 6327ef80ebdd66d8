"""Premise as a fischer_sc plugin: MDL token patterns that separate a classifier's errors from its hits.

The public names load on first access, so that listing the registry (which imports this package's
``plugin`` module) does not load the implementation or numba.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._premise import premise
    from ._synthetic import PlantedErrors, planted_errors

__all__ = ["PlantedErrors", "planted_errors", "premise"]

_LAZY = {"premise": "._premise", "planted_errors": "._synthetic", "PlantedErrors": "._synthetic"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

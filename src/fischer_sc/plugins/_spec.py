"""The hook specification and the record every method is registered as."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

PROJECT = "fischer_sc"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for plugin hook implementations: decorate ``fischer_sc_register_methods`` with it."""

#: The domains of the first-party methods. A domain is an open word: third-party packages may bring
#: their own (say ``"spatial"``); the registry never rejects a method for its domain.
KNOWN_DOMAINS = ("omics", "nlp", "vision", "pruning", "federated")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LAZY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """One registered method: what it is, where it comes from and how to call it.

    Parameters
    ----------
    name
        Unique name, lower_snake_case; the key of :func:`fischer_sc.plugins.get`.
    domain
        The field the method serves, lower_snake_case: one of the known domains (``"omics"``,
        ``"nlp"``, ``"vision"``, ``"pruning"``, ``"federated"``) or a new one a plugin brings
        (``"spatial"``, ``"tabular"``, ...).
    summary
        One line saying what the method does.
    func
        The callable, or a lazy ``"package.module:attr"`` string resolved on first use, which
        keeps heavy imports (torch) out of registration.
    reference
        arXiv id or DOI of the paper the method implements.
    requires
        Importable module names the method needs; checked when resolved, not when registered.
    supports_gpu
        Whether the method can run on a CUDA device (``device="cuda"``).
    writes
        Optional, for documentation: the AnnData fields the method writes.
    """

    name: str
    domain: str
    summary: str
    func: Callable[..., Any] | str
    reference: str = ""
    requires: tuple[str, ...] = ()
    supports_gpu: bool = False
    writes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            msg = f"MethodSpec name {self.name!r} must be lower_snake_case (letters, digits, underscores)."
            raise ValueError(msg)
        if not isinstance(self.domain, str) or not _NAME.match(self.domain):
            msg = (
                f"MethodSpec {self.name!r}: domain {self.domain!r} must be a lower_snake_case word, "
                f"e.g. one of the known domains {', '.join(KNOWN_DOMAINS)} or a new one such as 'spatial'."
            )
            raise ValueError(msg)
        if isinstance(self.func, str):
            if not _LAZY.match(self.func):
                msg = f"MethodSpec {self.name!r}: func {self.func!r} must be a callable or a 'package.module:attr' string."
                raise ValueError(msg)
        elif not callable(self.func):
            msg = f"MethodSpec {self.name!r}: func must be a callable or a 'package.module:attr' string, got {type(self.func).__name__}."
            raise TypeError(msg)
        # Accept any iterable of strings, store tuples so the record stays hashable.
        object.__setattr__(self, "requires", _str_tuple(self.requires, "requires", self.name))
        object.__setattr__(self, "writes", _str_tuple(self.writes, "writes", self.name))


def _str_tuple(values: Iterable[str] | str, what: str, name: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    out = tuple(values)
    if not all(isinstance(v, str) for v in out):
        msg = f"MethodSpec {name!r}: {what} must hold strings only."
        raise TypeError(msg)
    return out


class HookSpecs:
    """The hooks a fischer_sc plugin may implement."""

    @hookspec
    def fischer_sc_register_methods(self) -> Iterable[MethodSpec]:  # type: ignore[empty-body]
        """Return the :class:`MethodSpec` records this plugin provides.

        Called once when the registry is first built. Keep it cheap: return records whose ``func``
        is a lazy ``"module:attr"`` string when the implementation imports heavy libraries.
        """

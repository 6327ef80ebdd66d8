"""Validators of tool options: each raises a ``ValueError``/``TypeError`` that names the parameter and the fix.

Tools call them before any work is done, so ``adata`` is unchanged when an option is bad.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return " and ".join(parts)


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> float:
    """``value`` as a finite float within the bounds, or a ``ValueError`` naming ``name``.

    ``low_open``/``high_open`` exclude the bound itself; ``hint`` is appended to the message
    (e.g. the usual value).
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        bound = _bounds(low, high, low_open, high_open)
        msg = (
            f"{name} must be a finite number{' ' + bound if bound else ''}, got {value!r}{'; ' + hint if hint else ''}."
        )
        raise ValueError(msg)
    return float(value)


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None, hint: str = "") -> int:
    """``value`` as an int within ``[low, high]``, or a ``ValueError`` naming ``name`` (bools are rejected)."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        bound = _bounds(low, high, False, False)
        msg = f"{name} must be an integer{' ' + bound if bound else ''}, got {value!r}{'; ' + hint if hint else ''}."
        raise ValueError(msg)
    return int(value)


def check_choice(value: Any, name: str, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices``, else a ``ValueError`` listing them."""
    try:
        ok = value in choices
    except TypeError:  # unhashable value against a set
        ok = False
    if not ok:
        msg = f"{name}={value!r} is not one of {', '.join(map(repr, choices))}."
        raise ValueError(msg)
    return value


def check_bool(value: Any, name: str) -> bool:
    """``value`` if it is a bool, else a ``TypeError`` naming ``name``."""
    if not isinstance(value, bool):
        msg = f"{name} must be True or False, got {value!r}."
        raise TypeError(msg)
    return value

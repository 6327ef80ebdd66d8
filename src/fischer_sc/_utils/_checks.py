"""Validators of tool options: each raises a ``ValueError``/``TypeError`` that names the parameter and the fix.

Tools call them before any work is done, so ``adata`` is unchanged when an option is bad.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Collection
from pathlib import Path
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


def check_adata(adata: Any, tool: str) -> None:
    """A ``TypeError`` naming ``tool`` unless ``adata`` is an :class:`~anndata.AnnData` (e.g. an array was passed)."""
    from anndata import AnnData

    if not isinstance(adata, AnnData):
        msg = (
            f"{tool} takes an AnnData as its first argument, got {type(adata).__name__}; "
            "wrap an array first, e.g. anndata.AnnData(X)."
        )
        raise TypeError(msg)


def check_metric(metric: Any) -> Any:
    """``metric`` if the kNN search knows it (``"euclidean"``, ``"cosine"``, a pynndescent name or a numba function).

    Otherwise a ``ValueError``/``TypeError`` naming ``metric`` and the fix, before any work is done
    (pynndescent's own message names neither, and a plain Python function fails deep in numba).
    """
    if metric in ("euclidean", "cosine"):
        return metric
    if callable(metric):
        if not hasattr(metric, "py_func"):  # numba's dispatchers keep the Python function there
            msg = (
                "metric: a custom distance must be a numba-compiled function (decorate it with @numba.njit), "
                "as pynndescent requires; or use a metric name such as 'euclidean'."
            )
            raise TypeError(msg)
        return metric
    if not isinstance(metric, str):
        msg = f"metric must be a string such as 'euclidean' or 'cosine', got {type(metric).__name__}."
        raise TypeError(msg)
    from pynndescent.distances import named_distances

    if metric not in named_distances:
        msg = (
            f"metric={metric!r} is not a metric the neighbour search knows; use 'euclidean', 'cosine' or a "
            f"pynndescent metric such as 'manhattan', 'correlation' or 'chebyshev'."
        )
        raise ValueError(msg)
    return metric


def check_save_path(value: Any, name: str) -> Path | None:
    """``None``, or ``value`` as a :class:`~pathlib.Path` whose directory exists.

    Checked before training so a typo in the path does not cost the whole run (and the result).
    """
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        msg = f"{name} must be a file path (str or os.PathLike) or None, got {type(value).__name__}."
        raise TypeError(msg)
    path = Path(value)
    if path.is_dir():
        msg = f"{name}={str(value)!r} is a directory; pass a file path, e.g. {str(path / 'model.pt')!r}."
        raise ValueError(msg)
    parent = path.parent if str(path.parent) else Path()
    if not parent.is_dir():
        msg = f"{name}={str(value)!r}: the directory {str(parent)!r} does not exist; create it first."
        raise ValueError(msg)
    return path

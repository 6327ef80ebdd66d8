"""Whether to show progress bars, and how many threads to use, following scanpy's settings."""

from __future__ import annotations

import numbers
import os
import sys
from typing import Any

# scanpy's defaults, in force until scanpy is imported (its settings can only change after that).
_DEFAULT_VERBOSITY = 1
_DEFAULT_N_JOBS = 1


def _scanpy_setting(name: str, default: Any) -> Any:
    """A value of ``scanpy.settings`` if scanpy is loaded, else scanpy's default.

    Importing scanpy only to read a default would cost a second on every call of a tool that
    otherwise never needs it.
    """
    sc = sys.modules.get("scanpy")
    return default if sc is None else getattr(sc.settings, name)


def progress_enabled(progress: bool) -> bool:
    """Bars show when the caller asks for them, unless scanpy's verbosity is 0 (errors only).

    scanpy's default verbosity (1, warnings) shows them, as users of long-running tools expect;
    ``sc.settings.verbosity = 0`` silences every bar at once.
    """
    if not progress:
        return False
    return _scanpy_setting("verbosity", _DEFAULT_VERBOSITY) >= 1  # scanpy's Verbosity.warning, its default


def resolve_n_jobs(n_jobs: int | None) -> int:
    """``None`` -> :attr:`scanpy.settings.n_jobs`; ``-1`` (or any value < 1) -> every core."""
    if n_jobs is None:
        n_jobs = _scanpy_setting("n_jobs", _DEFAULT_N_JOBS)
    if not isinstance(n_jobs, numbers.Integral) or isinstance(n_jobs, bool):
        msg = f"n_jobs must be an int or None, got {type(n_jobs).__name__}."
        raise TypeError(msg)
    return int(n_jobs) if n_jobs >= 1 else (os.cpu_count() or 1)

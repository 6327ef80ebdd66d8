"""Whether to show progress bars, and how many threads to use, following scanpy's settings."""

from __future__ import annotations

import os


def progress_enabled(progress: bool) -> bool:
    """Bars show when the caller asks for them, unless scanpy's verbosity is 0 (errors only).

    scanpy's default verbosity (1, warnings) shows them, as users of long-running tools expect;
    ``sc.settings.verbosity = 0`` silences every bar at once.
    """
    if not progress:
        return False
    import scanpy as sc

    return sc.settings.verbosity >= 1  # scanpy's Verbosity.warning, its default


def resolve_n_jobs(n_jobs: int | None) -> int:
    """``None`` -> :attr:`scanpy.settings.n_jobs`; ``-1`` (or any value < 1) -> every core."""
    if n_jobs is None:
        import scanpy as sc

        n_jobs = sc.settings.n_jobs
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool):
        msg = f"n_jobs must be an int or None, got {type(n_jobs).__name__}."
        raise TypeError(msg)
    return n_jobs if n_jobs >= 1 else (os.cpu_count() or 1)

"""The one way to compile a numba kernel in fischer_sc (raw ``numba.njit`` is banned by ruff)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])

#: ``error_model`` of the engine's row kernels: numpy's (a division by zero gives inf or nan)
#: rather than Python's (a test and a branch before every division, to raise
#: ``ZeroDivisionError``). The kernels' divisors are positive by construction; this is also the
#: error model numba gives the bodies of ``prange`` loops, which these kernels replaced.
NUMPY_ERRORS = "numpy"


def njit(func: F | None = None, /, *, parallel: bool = False, fastmath: bool = False, **options: Any) -> Any:
    """Compile ``func`` with numba in nopython mode, ``cache=True`` and ``nogil=True``.

    Caching keeps a second import from paying the compile time again; releasing the GIL lets
    callers run kernels from threads. Use ``parallel=True`` only on kernels whose outer loop is a
    ``numba.prange``; ``fastmath`` only where reassociation cannot change a result that a test
    compares exactly.

    Usable bare (``@njit``) or with options (``@njit(parallel=True)``).
    """
    decorate = numba.njit(cache=True, nogil=True, parallel=parallel, fastmath=fastmath, **options)  # noqa: TID251
    return decorate if func is None else decorate(func)


@contextmanager
def num_threads(n_jobs: int | None) -> Iterator[None]:
    """Run numba's parallel kernels on ``n_jobs`` threads inside the block (``None``: leave as is).

    numba's thread count is process-wide, so it is restored on exit; values above the launched
    pool size are capped to it rather than raising.
    """
    if n_jobs is None:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n_jobs), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)

"""Row-parallel kernels without numba's parfors: serial kernels over a row range, run from a thread pool.

numba's ``parallel=True`` compiles every ``prange`` loop into a gufunc through its parfor passes,
which made the engine's kernels three to five times slower to compile than the same loops
compiled serially (numba 0.68, seconds in a process with an empty cache: Barnes-Hut traversal
15-23 as a parallel kernel, 2.3-3.0 serially; kNN selection 8-12 against 1.3-1.8;
``benchmarks/results/first_call.md``).
That compilation is what a new user waits for on the first call. The engine's row loops
therefore compile as serial kernels that take a ``(lo, hi)`` range of rows (or blocks) as their
first two arguments and release the GIL (``nogil=True``, set by ``fischer_sc.core.njit``), and
``run_rows`` runs them on consecutive row ranges from a pool of Python threads.

Each kernel writes only its own rows and computes each row the same way whatever the range, so
results do not depend on the number of threads. The thread count follows numba's
(``numba.get_num_threads``), so ``fischer_sc.core.num_threads(n_jobs)`` sets it for both kinds of
kernel.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba

_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_LOCK = threading.Lock()
#: Ranges per thread: more than one evens out rows of unequal cost (Barnes-Hut walks differ).
CHUNKS_PER_THREAD = 4


def _pool(workers: int) -> ThreadPoolExecutor:
    """The shared pool, grown to at least ``workers`` threads (created on first use)."""
    global _POOL, _POOL_SIZE
    with _LOCK:
        if _POOL is None or workers > _POOL_SIZE:
            if _POOL is not None:
                _POOL.shutdown(wait=True)
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fischer_sc-rows")
            _POOL_SIZE = workers
        return _POOL


def row_ranges(n: int, threads: int, grain: int) -> list[tuple[int, int]]:
    """Consecutive ``(lo, hi)`` ranges covering ``range(n)``.

    Each range has at least ``grain`` rows, and there are at most ``CHUNKS_PER_THREAD * threads``
    of them (one range when ``threads`` is 1 or ``n < 2 * grain``).
    """
    if n <= 0:
        return []
    chunks = 1 if threads <= 1 else max(1, min(CHUNKS_PER_THREAD * threads, n // max(grain, 1)))
    step = -(-n // chunks)
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def run_rows(kernel: Callable[..., Any], n: int, *args: Any, grain: int = 256) -> None:
    """Run ``kernel(lo, hi, *args)`` over consecutive ranges of ``range(n)`` on numba's thread count.

    ``grain`` is the fewest rows worth a range of its own: below ``2 * grain`` rows the kernel
    runs once, in the calling thread. The calling thread takes ranges too; an exception in any
    range is raised here.
    """
    threads = numba.get_num_threads()
    ranges = row_ranges(n, threads, grain)
    if len(ranges) <= 1:
        if ranges:
            kernel(0, n, *args)
        return
    # Every participant (the caller and threads - 1 workers) takes the next range until none is
    # left; ``next`` on an itertools counter is atomic under the GIL.
    counter = itertools.count()

    def work() -> None:
        for i in counter:
            if i >= len(ranges):
                return
            kernel(ranges[i][0], ranges[i][1], *args)

    pool = _pool(threads - 1)
    futures = [pool.submit(work) for _ in range(min(threads, len(ranges)) - 1)]
    try:
        work()
    finally:
        for f in futures:
            f.exception()  # wait for every worker before raising
    for f in futures:
        f.result()

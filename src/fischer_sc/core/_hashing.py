"""Counter-based random numbers for numba kernels: a hash of (seed, counters) instead of a global RNG state.

A kernel that draws from ``mix64(seed + ...)`` gives the same draws on any number of threads
and in any order of evaluation, which keeps results independent of ``n_jobs``.
"""

from __future__ import annotations

from ._numba import njit


@njit(inline="always")
def mix64(z: int) -> int:
    """splitmix64's finaliser in wrapping int64 arithmetic: a well-mixed hash of ``z`` in [0, 2**63).

    The two multipliers are splitmix64's 0xBF58476D1CE4E5B9 and 0x94D049BB133111EB written as
    signed int64, so the kernels need no unsigned types. The shifts are arithmetic, so the last
    ``z ^ (z >> 31)`` always clears the sign bit: use bits 0-62 (callers take low bits or
    multiply-shift them).
    """
    z = (z ^ (z >> 30)) * -4658895280553007687
    z = (z ^ (z >> 27)) * -7723592293110705685
    return z ^ (z >> 31)


def _wrap(u: int) -> int:
    u &= (1 << 64) - 1
    return u - (1 << 64) if u >= 1 << 63 else u


def mix64_reference(z: int) -> int:
    """The same hash in Python's unbounded integers, wrapped to int64 after every step (the test reference).

    Python's ``>>`` on a negative int is arithmetic, like numba's on int64.
    """
    z = _wrap(z)
    z = _wrap((z ^ (z >> 30)) * -4658895280553007687)
    z = _wrap((z ^ (z >> 27)) * -7723592293110705685)
    return z ^ (z >> 31)

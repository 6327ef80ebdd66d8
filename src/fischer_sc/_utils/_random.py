"""Seeds: one ``random_state`` argument becomes a numpy Generator or one int seed for the engines."""

from __future__ import annotations

import numbers

import numpy as np

_SEED_MAX = np.iinfo(np.int64).max


def resolve_rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from an int seed, a Generator (used as is) or ``None`` (fresh entropy).

    Accepting a Generator keeps us ready for scanpy's move from ``random_state`` to ``rng``.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            msg = f"random_state must be a non-negative integer, a numpy Generator or None, got {random_state}."
            raise ValueError(msg)
        return np.random.default_rng(int(random_state))
    msg = (
        f"random_state must be an int, a numpy.random.Generator or None, got {type(random_state).__name__}. "
        "Pass e.g. random_state=0."
    )
    raise TypeError(msg)


def resolve_seed(random_state: int | np.random.Generator | None) -> int:
    """One int seed in [0, 2**31 - 1) for the engines, drawn from :func:`resolve_rng` (an int seed gives the same int every time)."""
    return int(resolve_rng(random_state).integers(2**31 - 1))


def resolve_random_state(random_state: int | np.random.Generator | None) -> tuple[int, int]:
    """``(recorded, seed)``: the int a tool records as ``params["random_state"]`` and the engine seed from it.

    An int is recorded as given. ``None`` or a Generator first draws one int, which is recorded,
    so that passing the recorded value again reproduces the run (recording the engine seed
    itself would not: it is the seed *drawn from* an int). ``seed`` is :func:`resolve_seed` of
    the recorded int, so int seeds give the same engines as before.
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        resolve_rng(random_state)  # validates (non-negative)
        recorded = int(random_state)
    else:
        recorded = int(resolve_rng(random_state).integers(2**31 - 1))
    return recorded, resolve_seed(recorded)

"""Density schedules for iterative pruning (IMP, iterative SynFlow) and annealed supermasks."""

from __future__ import annotations

import math

from ._masks import check_density

__all__ = ["density_schedule"]


def density_schedule(final_density: float, n_rounds: int, *, start: float = 1.0) -> list[float]:
    """Geometric schedule from ``start`` down to ``final_density`` in ``n_rounds`` rounds.

    Round ``e = 1..n_rounds`` keeps ``start * (final_density / start) ** (e / n_rounds)``, so every
    round removes the same fraction of what is left (IMP's "prune p % per round"). With
    ``start=1`` this is the exponential schedule ``k^(e / E)`` of iterative SynFlow; with
    ``start=0.6`` and ``n_rounds=levels`` it is the geometric annealing of strong-ticket search.

    Parameters
    ----------
    final_density
        Kept fraction after the last round, in (0, 1].
    n_rounds
        Number of rounds, >= 1.
    start
        Kept fraction before the first round, in [final_density, 1].

    Returns
    -------
    ``n_rounds`` densities, non-increasing; the last is exactly ``final_density``.
    """
    final_density = check_density(final_density, "final_density")
    start = check_density(start, "start")
    if isinstance(n_rounds, bool) or not isinstance(n_rounds, int) or n_rounds < 1:
        msg = f"n_rounds={n_rounds!r} must be an integer >= 1."
        raise ValueError(msg)
    if final_density > start:
        msg = f"final_density={final_density} exceeds start={start}; a pruning schedule only removes entries."
        raise ValueError(msg)
    ratio = math.log(final_density / start)
    out = [start * math.exp(ratio * e / n_rounds) for e in range(1, n_rounds + 1)]
    out[-1] = final_density  # exact, whatever the rounding of exp/log
    return out

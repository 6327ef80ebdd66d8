"""One-sided Fisher exact test as a hypergeometric upper tail, vectorised in numba over many candidates.

``scipy.stats.hypergeom.sf`` loops in Python per element, which dominated the search when every
pool of candidates is filtered by the test; this kernel sums the tail in log space from a table of
``ln k!`` and stops once past the mode the terms no longer change the sum.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from fischer_sc.core import njit


@njit
def _tail(
    hits: np.ndarray, populations: np.ndarray, group: np.ndarray, draws: np.ndarray, ln_fact: np.ndarray
) -> np.ndarray:
    out = np.empty(hits.shape[0], dtype=np.float64)
    for i in range(hits.shape[0]):
        g, d, h, population = group[i], draws[i], hits[i], populations[i]
        ln_total = ln_fact[population]
        lo = max(h, max(0, d - (population - g)))
        hi = min(d, g)
        if lo > hi:
            out[i] = 0.0
            continue
        norm = ln_fact[d] + ln_fact[population - d] + ln_fact[g] + ln_fact[population - g] - ln_total
        mode = (d + 1) * (g + 1) // (population + 2)
        s = 0.0
        for x in range(lo, hi + 1):
            ln_term = norm - ln_fact[x] - ln_fact[d - x] - ln_fact[g - x] - ln_fact[population - g - d + x]
            term = np.exp(ln_term)
            s += term
            # Past the mode the terms only shrink (geometrically), so a negligible one ends the tail.
            if x > mode and term < 1e-17 * s:
                break
        out[i] = min(s, 1.0)
    return out


def hypergeom_tail(
    hits: np.ndarray,
    population: int | np.ndarray,
    group: np.ndarray,
    draws: np.ndarray,
    ln_fact: np.ndarray | None = None,
) -> np.ndarray:
    """``P(H >= hits)`` for ``H ~ Hypergeometric(population, group, draws)``, elementwise.

    Parameters
    ----------
    hits, group, draws
        Integer arrays (broadcast together).
    population
        Total number of rows: one for all, or an array broadcast with the others.
    ln_fact
        ``ln k!`` for ``k = 0..max(population)``, if the caller keeps one.

    Returns
    -------
    numpy.ndarray
        The upper-tail probabilities, equal to ``scipy.stats.hypergeom.sf(hits - 1, population, group, draws)``.
    """
    h, pop, g, d = np.broadcast_arrays(
        np.asarray(hits, dtype=np.int64),
        np.asarray(population, dtype=np.int64),
        np.asarray(group, dtype=np.int64),
        np.asarray(draws, dtype=np.int64),
    )
    if ln_fact is None:
        ln_fact = gammaln(np.arange(int(pop.max(initial=0)) + 1, dtype=np.float64) + 1.0)
    flat = [np.ascontiguousarray(v.ravel()) for v in (h, pop, g, d)]
    out = _tail(flat[0], flat[1], flat[2], flat[3], ln_fact)
    return out.reshape(h.shape)

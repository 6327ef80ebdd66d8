"""The one t-SNE configuration every caller reads, and the neighbour count a perplexity needs.

``fs.tl.dtsne``, ``fs.tl.factor_out`` (JEDI, ct-SNE and CONFETTI's t-SNE backends), the prior
affinities and the benchmarks all take their schedule from :data:`TSNE_DEFAULTS`, so a change
of schedule is one edit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TSNEDefaults:
    """openTSNE's optimisation schedule and dtSNE's affinity defaults.

    Attributes
    ----------
    perplexity
        Effective number of neighbours of the input affinities.
    n_iter
        Total iterations, early exaggeration included.
    early_exaggeration
        Factor on the attraction during early exaggeration.
    early_exaggeration_iter
        Length of the early exaggeration phase.
    balance
        dtSNE's default strength of the symmetric Sinkhorn balancing of P
        (:func:`~fischer_sc.core.embedding.balance_affinities`); plain t-SNE uses 0.
    neighbours_per_perplexity
        kNN size per unit of perplexity: t-SNE's 3 * perplexity neighbours.
    contrast
        dtSNE's amplification of flat radii (:func:`~fischer_sc.core.embedding.radius_scales`):
        log relative radii with standard deviation sd are amplified to a spread of
        contrast - sd while sd < contrast / 2 (as they are in high dimensions), else unchanged.
    density_weight
        dtSNE's weight of the density-correlation term (:class:`~fischer_sc.core.embedding.DensityTerm`)
        in the second half of the iterations after early exaggeration.
    """

    perplexity: float = 30.0
    n_iter: int = 750
    early_exaggeration: float = 12.0
    early_exaggeration_iter: int = 250
    balance: float = 0.5
    neighbours_per_perplexity: int = 3
    contrast: float = 0.8
    density_weight: float = 0.5


TSNE_DEFAULTS = TSNEDefaults()


def neighbours_for_perplexity(n: int, perplexity: float, *, tool: str = "this tool", what: str = "perplexity") -> int:
    """The kNN size 3 * ``perplexity`` for ``n`` points, or a ``ValueError`` naming ``what`` when ``n`` is too small.

    ``tool`` and ``what`` name the caller and its parameter in the message.
    """
    factor = TSNE_DEFAULTS.neighbours_per_perplexity
    if n - 1 < factor * perplexity:
        msg = (
            f"{tool} needs more than {factor} * {what} = {factor * perplexity:g} observations, got {n}. "
            f"Lower {what} to at most {(n - 1) / factor:g}."
        )
        raise ValueError(msg)
    return min(n - 1, math.floor(factor * perplexity))


def perplexity_for_neighbours(k: int, perplexity: float) -> float:
    """The perplexity usable with ``k`` given neighbours: at most k / 3, always below k, at least 1."""
    factor = TSNE_DEFAULTS.neighbours_per_perplexity
    used = float(perplexity)
    if k < factor * used:
        used = max(k / factor, 1.0)
    if used >= k:
        used = max(k - 1.0, 1.0)
    return used

"""The embedding engine: neighbours -> affinities -> initialisation -> optimisation (openTSNE's stages).

Each stage is a function you can swap: :func:`knn` (or :func:`knn_from_graph` for a scanpy graph)
-> :func:`perplexity_affinities` (optionally :func:`balance_affinities`) -> :func:`pca_init` ->
:func:`optimise`, with the per-pair kernel scale chosen by name (``PAIR_SCALES``) and the
repulsion estimator by name (``REPULSIONS``) or as an object with the optimiser's repulsion hook
(:class:`JediRepulsion`, :class:`JediLabelRepulsion`, :class:`CtsneRepulsion`).
Prior knowledge for factor-out embeddings is a :class:`Prior`.
"""

from ._affinities import Affinities, balance_affinities, check_balance, perplexity_affinities
from ._confetti import confetti_knn
from ._ctsne import CtsneRepulsion
from ._jedi import JediLabelRepulsion, JediRepulsion, check_alpha_beta
from ._knn import knn, knn_from_graph
from ._optimise import REPULSIONS, EmbeddingResult, check_repulsion, optimise, pca_init, resolve_repulsion
from ._pair_scale import PAIR_SCALES, pair_scale_code, point_scales
from ._priors import Prior, prior_affinities

__all__ = [
    "PAIR_SCALES",
    "REPULSIONS",
    "Affinities",
    "CtsneRepulsion",
    "EmbeddingResult",
    "JediLabelRepulsion",
    "JediRepulsion",
    "Prior",
    "balance_affinities",
    "check_alpha_beta",
    "check_balance",
    "check_repulsion",
    "confetti_knn",
    "knn",
    "knn_from_graph",
    "optimise",
    "pair_scale_code",
    "pca_init",
    "perplexity_affinities",
    "point_scales",
    "prior_affinities",
    "resolve_repulsion",
]

"""The embedding engine: neighbours -> affinities -> initialisation -> optimisation (openTSNE's stages).

Each stage is a function you can swap: :func:`knn` (or :func:`knn_from_graph` for a scanpy graph)
-> :func:`perplexity_affinities` (optionally :func:`balance_affinities`) -> :func:`pca_init` ->
:func:`optimise`, with the per-pair kernel scale chosen by name (``PAIR_SCALES``) and the
repulsion estimator by name (``REPULSIONS``) or as an object with the optimiser's repulsion hook
(:class:`JediRepulsion`, :class:`JediLabelRepulsion`, :class:`CtsneRepulsion`). Every caller
takes the t-SNE schedule from ``TSNE_DEFAULTS``.
Prior knowledge for factor-out embeddings is a :class:`Prior`; :func:`jedi_embedding`,
:func:`ctsne_embedding` and :func:`confetti_embedding` run the factor-out methods on arrays.
"""

from ._affinities import Affinities, balance_affinities, check_balance, perplexity_affinities
from ._confetti import confetti_knn
from ._correct import local_correction
from ._ctsne import CtsneRepulsion
from ._defaults import TSNE_DEFAULTS, TSNEDefaults, neighbours_for_perplexity, perplexity_for_neighbours
from ._density import DensityTerm, log_radii
from ._factor_out import (
    CONFETTI_BACKENDS,
    DEFAULT_LAM,
    confetti_embedding,
    ctsne_embedding,
    data_affinities,
    default_lam,
    jedi_embedding,
    tsne_run,
)
from ._jedi import JediLabelRepulsion, JediRepulsion, check_alpha_beta
from ._knn import knn, knn_from_graph, knn_query
from ._optimise import REPULSIONS, EmbeddingResult, check_repulsion, optimise, pca_init, resolve_repulsion
from ._pair_scale import PAIR_SCALES, RADII, knn_log_radii, pair_scale_code, point_scales, radius_scales
from ._priors import PRIOR_KINDS, Prior, prior_affinities, prior_from_array, residualise
from ._progress import progress_bar
from ._umap import fuzzy_graph, umap_layout

__all__ = [
    "CONFETTI_BACKENDS",
    "DEFAULT_LAM",
    "PAIR_SCALES",
    "PRIOR_KINDS",
    "RADII",
    "REPULSIONS",
    "TSNE_DEFAULTS",
    "Affinities",
    "CtsneRepulsion",
    "DensityTerm",
    "EmbeddingResult",
    "JediLabelRepulsion",
    "JediRepulsion",
    "Prior",
    "TSNEDefaults",
    "balance_affinities",
    "check_alpha_beta",
    "check_balance",
    "check_repulsion",
    "confetti_embedding",
    "confetti_knn",
    "ctsne_embedding",
    "data_affinities",
    "default_lam",
    "fuzzy_graph",
    "jedi_embedding",
    "knn",
    "knn_from_graph",
    "knn_log_radii",
    "knn_query",
    "local_correction",
    "log_radii",
    "neighbours_for_perplexity",
    "optimise",
    "pair_scale_code",
    "pca_init",
    "perplexity_affinities",
    "perplexity_for_neighbours",
    "point_scales",
    "prior_affinities",
    "prior_from_array",
    "progress_bar",
    "radius_scales",
    "residualise",
    "resolve_repulsion",
    "tsne_run",
    "umap_layout",
]

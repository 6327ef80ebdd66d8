"""The shared numba/torch engine: kNN, affinities, optimisers, binary layers, pruning and MDL.

No AnnData, scanpy or plugin code is imported here; the ``fs.tl`` tools and the plugins build on it.
Kernels are module-level functions over arrays with an explicit RNG state, each tested against a
slow numpy/scipy reference.

Embedding stages (openTSNE-style, each swappable): :func:`knn` (or :func:`knn_from_graph` for a
scanpy graph) -> :func:`perplexity_affinities` -> :func:`pca_init` -> :func:`optimise`, with the
per-pair kernel scale chosen by name (``PAIR_SCALES``).
"""

from ._affinities import Affinities, perplexity_affinities
from ._itemsets import (
    binary_csr,
    cooccurring_pairs,
    cooccurring_pairs_reference,
    item_label_counts,
    item_label_counts_reference,
    nonzero_positions,
    nonzero_positions_reference,
    pattern_rows,
    pattern_rows_reference,
)
from ._knn import knn, knn_from_graph
from ._mdl import (
    log2_binom,
    log2_factorial_table,
    nml_binomial_complexity,
    nml_multinomial_complexity,
    universal_int_length,
)
from ._numba import njit, num_threads
from ._optimise import REPULSIONS, EmbeddingResult, optimise, pca_init
from ._pair_scale import PAIR_SCALES, point_scales

__all__ = [
    "PAIR_SCALES",
    "REPULSIONS",
    "Affinities",
    "EmbeddingResult",
    "binary_csr",
    "cooccurring_pairs",
    "cooccurring_pairs_reference",
    "item_label_counts",
    "item_label_counts_reference",
    "knn",
    "knn_from_graph",
    "log2_binom",
    "log2_factorial_table",
    "njit",
    "nml_binomial_complexity",
    "nml_multinomial_complexity",
    "nonzero_positions",
    "nonzero_positions_reference",
    "num_threads",
    "optimise",
    "pattern_rows",
    "pattern_rows_reference",
    "pca_init",
    "perplexity_affinities",
    "point_scales",
    "universal_int_length",
]

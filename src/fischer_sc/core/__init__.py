"""The shared numba/torch engine: kNN, affinities, optimisers, binary layers, pruning and MDL.

No AnnData, scanpy or plugin code is imported here; the ``fs.tl`` tools and the plugins build on it.
Kernels are module-level functions over arrays with an explicit RNG state, each tested against a
slow numpy/scipy reference.

Embedding stages (openTSNE-style, each swappable): :func:`knn` (or :func:`knn_from_graph` for a
scanpy graph) -> :func:`perplexity_affinities` (optionally :func:`balance_affinities`) -> :func:`pca_init` ->
:func:`optimise`, with the
per-pair kernel scale chosen by name (``PAIR_SCALES``).
"""

from ._affinities import Affinities, balance_affinities, perplexity_affinities
from ._binary_patterns import ExtractedPatterns, extract_patterns, select_thresholds
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
    "balance_affinities",
    "BinaryNetConfig",
    "BinaryNetResult",
    "EmbeddingResult",
    "ExtractedPatterns",
    "binary_autoencode",
    "binary_csr",
    "cooccurring_pairs",
    "cooccurring_pairs_reference",
    "extract_patterns",
    "fit_binary_net",
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
    "pattern_length_penalty",
    "pca_init",
    "perplexity_affinities",
    "point_scales",
    "sample_weights",
    "select_thresholds",
    "universal_int_length",
    "w_shaped_penalty",
    "weighted_xor_loss",
]

# The binary layers of BinaPs/DiffNaps need torch, which `import fischer_sc.core` must not load:
# they are imported on first access.
_TORCH_NAMES = {
    "binary_autoencode": "._binary",
    "sample_weights": "._binary",
    "weighted_xor_loss": "._binary",
    "pattern_length_penalty": "._binary",
    "w_shaped_penalty": "._binary",
    "BinaryNetConfig": "._binary_train",
    "BinaryNetResult": "._binary_train",
    "fit_binary_net": "._binary_train",
}


def __getattr__(name: str) -> object:
    if name in _TORCH_NAMES:
        import importlib

        return getattr(importlib.import_module(_TORCH_NAMES[name], __name__), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)

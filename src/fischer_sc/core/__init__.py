"""The shared numba/torch engine: kNN, affinities, optimisers, binary layers, pruning and MDL.

No AnnData, scanpy or plugin code is imported here; the ``fs.tl`` tools and the plugins build on it.
Kernels are module-level functions over arrays with an explicit RNG state, each tested against a
slow numpy/scipy reference.

Embedding stages (openTSNE-style, each swappable): :func:`knn` (or :func:`knn_from_graph` for a
scanpy graph) -> :func:`perplexity_affinities` -> :func:`pca_init` -> :func:`optimise`, with the
per-pair kernel scale chosen by name (``PAIR_SCALES``).
"""

from ._affinities import Affinities, perplexity_affinities
from ._knn import knn, knn_from_graph
from ._numba import njit, num_threads
from ._optimise import REPULSIONS, EmbeddingResult, optimise, pca_init
from ._pair_scale import PAIR_SCALES, point_scales

__all__ = [
    "PAIR_SCALES",
    "REPULSIONS",
    "Affinities",
    "EmbeddingResult",
    "knn",
    "knn_from_graph",
    "njit",
    "num_threads",
    "optimise",
    "pca_init",
    "perplexity_affinities",
    "point_scales",
]

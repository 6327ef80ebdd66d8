"""The shared numba/torch engine: kNN, affinities, optimisers, binary layers, pruning and MDL.

No AnnData, scanpy or plugin code is imported here; the ``fs.tl`` tools and the plugins build on it.
Kernels are module-level functions over arrays with an explicit RNG state, each tested against a
slow numpy/scipy reference.
"""

from ._numba import njit

__all__ = ["njit"]

"""The shared numba/torch engines, one subpackage per engine; no AnnData, scanpy or plugin code.

Tools (``fs.tl``), plots and plugins import an engine through its public ``__init__`` only:

- :mod:`fischer_sc.core.embedding`: kNN (exact, random-projection forest, pynndescent, scanpy
  graphs), perplexity affinities, per-pair kernel scales, the Barnes-Hut tree, forces, the one
  t-SNE optimiser and its repulsion hooks (JEDI, ct-SNE), CONFETTI's prior-aware kNN.
- :mod:`fischer_sc.core.binarynet`: binarised layers, training, pattern extraction and per-group
  statistics (BinaPs, DiffNaps); imports torch on first use of a torch-backed name.
- :mod:`fischer_sc.core.patterns`: itemset counting on sparse binary data and MDL code lengths
  (Premise, DiffNaps).

Kernels are module-level functions over arrays with an explicit RNG state, each tested against a
slow numpy/scipy reference. This package itself holds what every engine shares: :func:`njit`
(numba with the project's options), :func:`num_threads` and :func:`mix64` (counter-based random
numbers for kernels).
"""

from ._hashing import mix64
from ._numba import njit, num_threads

__all__ = ["mix64", "njit", "num_threads"]

"""Helpers shared by the ``fs.tl`` tools: input choice, validation, keys, seeds, progress and logging.

``fischer_sc.core`` never imports this module: it knows nothing of AnnData or scanpy.
"""

from ._keys import OutputKeys, resolve_keys
from ._progress import progress_enabled, resolve_n_jobs
from ._random import numba_seed, resolve_rng
from ._rep import check_finite, choose_representation
from ._uns import clean_params

__all__ = [
    "OutputKeys",
    "check_finite",
    "choose_representation",
    "clean_params",
    "numba_seed",
    "progress_enabled",
    "resolve_keys",
    "resolve_n_jobs",
    "resolve_rng",
]

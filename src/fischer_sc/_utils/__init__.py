"""The scaffold of the ``fs.tl`` tools: validation, input reading, seeds, devices, keys, progress and params.

A tool reads: validate options (``check_*``) -> read its input (``choose_representation``,
``read_matrix``, ``obs_codes``) -> call ``fischer_sc.core`` -> write under ``resolve_keys`` with
``clean_params``. ``fischer_sc.core`` never imports this package: it knows nothing of AnnData.
"""

from ._checks import check_adata, check_bool, check_choice, check_int, check_metric, check_number, check_save_path
from ._device import resolve_device
from ._keys import OutputKeys, resolve_keys
from ._lookup import is_label_dtype, locate_key, var_values
from ._matrix import labels_to_codes, obs_codes, read_matrix
from ._neighbors import write_neighbors
from ._progress import progress_enabled, resolve_n_jobs
from ._random import resolve_random_state, resolve_rng, resolve_seed
from ._rep import check_finite, check_spread, choose_representation
from ._uns import clean_params

__all__ = [
    "OutputKeys",
    "check_adata",
    "check_bool",
    "check_choice",
    "check_finite",
    "check_spread",
    "check_int",
    "check_metric",
    "check_number",
    "check_save_path",
    "choose_representation",
    "clean_params",
    "is_label_dtype",
    "labels_to_codes",
    "locate_key",
    "obs_codes",
    "progress_enabled",
    "read_matrix",
    "resolve_device",
    "resolve_keys",
    "resolve_n_jobs",
    "resolve_random_state",
    "resolve_rng",
    "resolve_seed",
    "var_values",
    "write_neighbors",
]

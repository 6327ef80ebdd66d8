"""Lottery tickets for fischer_sc: planted tickets with known ground truth, and the pruners that must find them.

``plant_n_seek`` hides a sparse target network in a random host (Plant 'n' Seek, arXiv 2111.11153);
``prune_at_init``, ``imp`` and ``edge_popup`` (strong tickets with non-zero biases, arXiv 2110.11150)
search for it; ``fischer_sc.metrics.mask_recovery`` scores what they find. The torch-backed parts
load on first access, so importing this package is light.
"""

from __future__ import annotations

import importlib

from ._plant_n_seek import plant_n_seek
from .data import make_task, rescaled_mse, task_score
from .planting import PlantedNetwork
from .tickets import TASKS, TargetNetwork, make_target

__version__ = "0.1.0"

__all__ = [
    "TASKS",
    "EdgePopupResult",
    "ImpResult",
    "PlantedNetwork",
    "TargetNetwork",
    "edge_popup",
    "he_bias",
    "he_zero_bias",
    "imp",
    "looks_linear",
    "make_target",
    "make_task",
    "mlp_from_arrays",
    "plant_n_seek",
    "prune_at_init",
    "rescale_output",
    "rescaled_mse",
    "task_score",
    "to_torch",
    "train_masked",
]

_LAZY = {
    "prune_at_init": ".pruners",
    "imp": ".train",
    "train_masked": ".train",
    "ImpResult": ".train",
    "edge_popup": ".strong",
    "EdgePopupResult": ".strong",
    "rescale_output": ".strong",
    "to_torch": "._models",
    "mlp_from_arrays": "._models",
    "he_bias": ".init",
    "he_zero_bias": ".init",
    "looks_linear": ".init",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)

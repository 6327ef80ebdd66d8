"""Binarised neural networks for patterns (BinaPs, DiffNaps): binarisation, layers, training, extraction, statistics.

Binarisation, the configuration, pattern extraction and the per-group statistics are
numpy/scipy/pandas; the layers, losses and the training loop need torch, which is imported on
first access of one of their names (so that importing this package, e.g. for
:func:`extract_patterns`, stays light).
"""

from __future__ import annotations

import importlib

from ._binarize import binarize_matrix, empty_rows, is_binary
from ._config import BinaryNetConfig, binaps_config, default_hidden_dim, diffnaps_config
from ._patterns import (
    ExtractedPatterns,
    contains,
    enriched_features,
    expand_patterns,
    extract_patterns,
    select_thresholds,
)
from ._select import DifferentialPatterns, differential_patterns
from ._stats import group_pattern_table, history_frame, pattern_class_weights, support_table

__all__ = [
    "BinaryNetConfig",
    "BinaryNetResult",
    "DifferentialPatterns",
    "ExtractedPatterns",
    "binaps_config",
    "binarize_matrix",
    "binary_autoencode",
    "contains",
    "default_hidden_dim",
    "diffnaps_config",
    "differential_patterns",
    "empty_rows",
    "enriched_features",
    "expand_patterns",
    "extract_patterns",
    "fit_binary_net",
    "group_pattern_table",
    "history_frame",
    "is_binary",
    "pattern_class_weights",
    "pattern_length_penalty",
    "sample_weights",
    "save_binary_net",
    "select_thresholds",
    "support_table",
    "w_shaped_penalty",
    "weighted_xor_loss",
]

_TORCH_NAMES = {
    "binary_autoencode": "._layers",
    "sample_weights": "._layers",
    "weighted_xor_loss": "._losses",
    "pattern_length_penalty": "._losses",
    "w_shaped_penalty": "._losses",
    "BinaryNetResult": "._train",
    "fit_binary_net": "._train",
    "save_binary_net": "._train",
}


def __getattr__(name: str) -> object:
    if name in _TORCH_NAMES:
        return getattr(importlib.import_module(_TORCH_NAMES[name], __name__), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

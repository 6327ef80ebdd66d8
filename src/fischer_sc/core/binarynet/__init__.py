"""Binarised neural networks for patterns (BinaPs, DiffNaps): layers, training, pattern extraction.

Pattern extraction and per-group statistics are numpy/scipy; the layers and the training loop
need torch, which is imported on first access of one of their names (so that importing this
package, e.g. for :func:`extract_patterns`, stays light).
"""

from __future__ import annotations

import importlib

from ._patterns import ExtractedPatterns, contains, enriched_features, extract_patterns, select_thresholds

__all__ = [
    "BinaryNetConfig",
    "BinaryNetResult",
    "ExtractedPatterns",
    "binary_autoencode",
    "contains",
    "enriched_features",
    "extract_patterns",
    "fit_binary_net",
    "pattern_length_penalty",
    "sample_weights",
    "select_thresholds",
    "w_shaped_penalty",
    "weighted_xor_loss",
]

_TORCH_NAMES = {
    "binary_autoencode": "._layers",
    "sample_weights": "._layers",
    "weighted_xor_loss": "._layers",
    "pattern_length_penalty": "._layers",
    "w_shaped_penalty": "._layers",
    "BinaryNetConfig": "._train",
    "BinaryNetResult": "._train",
    "fit_binary_net": "._train",
}


def __getattr__(name: str) -> object:
    if name in _TORCH_NAMES:
        return getattr(importlib.import_module(_TORCH_NAMES[name], __name__), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

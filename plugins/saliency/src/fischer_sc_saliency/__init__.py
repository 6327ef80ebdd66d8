"""Class-relevant saliency maps (VAR, arXiv 2503.07346) and their evaluation, as a fischer_sc plugin.

The package imports torch only when one of its names is first used, so that the registry can load
the entry point (``fischer_sc_saliency.plugin``) without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ClassCompetition": "_var",
    "VarDetails": "_var",
    "var_attribution": "_var",
    "competitor_maps": "_var",
    "class_competition": "_competition",
    "competitor_sets": "_competition",
    "gradient": "_base",
    "input_x_gradient": "_base",
    "integrated_gradients": "_base",
    "grad_cam": "_base",
    "CaptumBase": "_adapters",
    "ZennitBase": "_adapters",
    "DigitData": "_digits",
    "load_digit_data": "_digits",
    "digit_canvases": "_digits",
    "digits_model": "_digits",
    "train_digits_model": "_digits",
    "canvas_accuracy": "_digits",
    "DigitGrids": "_grids",
    "make_digit_grids": "_grids",
    "PointingResult": "_eval",
    "grid_pointing_game": "_eval",
    "model_randomisation": "_sanity",
    "random_logit": "_sanity",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

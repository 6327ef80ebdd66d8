"""The module the entry point names: it holds the hook implementation and nothing heavy."""

from __future__ import annotations

import fischer_sc as fs
from fischer_sc.plugins import MethodSpec


@fs.hookimpl
def fischer_sc_register_methods() -> list[MethodSpec]:
    """Register ``premise``; ``func`` is lazy so nothing is imported until it is used."""
    return [
        MethodSpec(
            name="premise",
            domain="nlp",
            summary="MDL label-descriptive patterns separating a classifier's errors from its correct predictions.",
            func="fischer_sc_premise._premise:premise",
            reference="arXiv:2110.09599; arXiv:2311.10920",
            requires=("scipy", "numba"),
            supports_gpu=False,
        )
    ]

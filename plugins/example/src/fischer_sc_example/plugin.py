"""The module the entry point names: it holds the hook implementation and nothing heavy."""

from __future__ import annotations

import fischer_sc as fs
from fischer_sc.plugins import MethodSpec


@fs.hookimpl
def fischer_sc_register_methods() -> list[MethodSpec]:
    """Register ``group_centroids``; ``func`` is lazy so nothing is imported until it is used."""
    return [
        MethodSpec(
            name="group_centroids",
            domain="omics",
            summary="Per-group mean of a representation and the distances between the group means (example plugin).",
            func="fischer_sc_example._centroids:group_centroids",
            reference="",
            requires=("numpy", "pandas"),
        )
    ]

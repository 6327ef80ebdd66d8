"""The module the entry point names: it holds the hook implementation and imports no torch."""

from __future__ import annotations

import fischer_sc as fs
from fischer_sc.plugins import MethodSpec

_REFERENCE = "arXiv:2111.11153; arXiv:2110.11150"


@fs.hookimpl
def fischer_sc_register_methods() -> list[MethodSpec]:
    """Register the lottery methods; ``func`` is lazy so nothing is imported until a method is used."""
    return [
        MethodSpec(
            name="plant_n_seek",
            domain="pruning",
            summary="Plant 'n' Seek: a sparse target ticket (ReLU, Circle, Helix) planted in a random network with non-zero biases.",
            func="fischer_sc_lottery._plant_n_seek:plant_n_seek",
            reference="arXiv:2111.11153",
            requires=("numpy",),
            supports_gpu=False,
        ),
        MethodSpec(
            name="prune_at_init",
            domain="pruning",
            summary="Pruning at initialisation (random, magnitude, SNIP, GraSP, SynFlow) to an exact density.",
            func="fischer_sc_lottery.pruners:prune_at_init",
            reference=_REFERENCE,
            requires=("torch",),
            supports_gpu=False,
        ),
        MethodSpec(
            name="imp",
            domain="pruning",
            summary="Iterative magnitude pruning with rewinding to the initial weights (lottery tickets).",
            func="fischer_sc_lottery.train:imp",
            reference="arXiv:1803.03635; arXiv:2111.11153",
            requires=("torch",),
            supports_gpu=False,
        ),
        MethodSpec(
            name="edge_popup",
            domain="pruning",
            summary="Edge-popup strong tickets with non-zero biases: trainable supermask scores, annealing, output rescaling.",
            func="fischer_sc_lottery.strong:edge_popup",
            reference=_REFERENCE,
            requires=("torch",),
            supports_gpu=False,
        ),
    ]

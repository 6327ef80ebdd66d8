"""The module the entry point names: it holds the hook implementation and imports no torch."""

from __future__ import annotations

import fischer_sc as fs
from fischer_sc.plugins import MethodSpec


@fs.hookimpl
def fischer_sc_register_methods() -> list[MethodSpec]:
    """Register ``var_saliency``; ``func`` is lazy so torch is imported only when it is used."""
    return [
        MethodSpec(
            name="var_saliency",
            domain="vision",
            summary="Class-relevant attribution maps: VAR class competition over gradient, IG, Grad-CAM or any attribution method.",
            func="fischer_sc_saliency._var:var_attribution",
            reference="arXiv:2503.07346",
            requires=("torch",),
            supports_gpu=True,
        )
    ]

"""The module the entry point names: it holds the hook implementation and imports neither torch nor flwr."""

from __future__ import annotations

import fischer_sc as fs
from fischer_sc.plugins import MethodSpec

_REF = "arXiv:2110.03469"


@fs.hookimpl
def fischer_sc_register_methods() -> list[MethodSpec]:
    """Register FedDC, its FedAvg special case and the AnnData classifier; ``func`` strings stay lazy."""
    feddc_summary = (
        "FedDC (Kamp, Fischer, Vreeken, ICLR 2023): federated daisy-chaining, local models handed between "
        "clients between averaging rounds, for tiny local datasets."
    )
    return [
        MethodSpec(
            name="feddc",
            domain="federated",
            summary=feddc_summary,
            func="fischer_sc_federated.sim:feddc",
            reference=_REF,
            requires=("torch",),
            supports_gpu=True,
        ),
        # The unambiguous alias: "FedDC" is also the name of Gao et al.'s drift-decoupling method (arXiv 2203.11751).
        MethodSpec(
            name="feddc_daisy",
            domain="federated",
            summary="Alias of 'feddc' (federated daisy-chaining, arXiv 2110.03469), not Gao et al.'s FedDC.",
            func="fischer_sc_federated.sim:feddc",
            reference=_REF,
            requires=("torch",),
            supports_gpu=True,
        ),
        MethodSpec(
            name="fedavg",
            domain="federated",
            summary="FedAvg in the FedDC simulator: local SGD with unweighted model averaging every agg_period rounds.",
            func="fischer_sc_federated.sim:fedavg",
            reference="arXiv:1602.05629",
            requires=("torch",),
            supports_gpu=True,
        ),
        MethodSpec(
            name="federated_classifier",
            domain="federated",
            summary="Train a cell-label classifier with FedDC across the clients of an obs key (donor, site).",
            func="fischer_sc_federated.anndata_route:federated_classifier",
            reference=_REF,
            requires=("torch",),
            supports_gpu=True,
            writes=("obs['<key>_prediction']", "obs['<key>_split']", "uns['<key>']"),
        ),
    ]

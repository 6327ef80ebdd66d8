"""FedDC as a fischer_sc plugin: federated daisy-chaining for tiny local datasets (arXiv 2110.03469).

Not to be confused with Gao et al.'s FedDC (arXiv 2203.11751, local drift decoupling). The public
names resolve lazily, so importing the package (and its entry point ``plugin``) imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "split_clients": "partition",
    "ClientPartitions": "partition",
    "DaisyChainServer": "server",
    "clip_and_noise": "dp",
    "DPConfig": "dp",
    "feddc": "sim",
    "fedavg": "sim",
    "FederatedResult": "sim",
    "mlp": "models",
    "run_flower_simulation": "flower_sim",
    "FedDCStrategy": "flower",
    "make_client_app": "flower",
    "make_server_app": "flower_sim",
    "federated_classifier": "anndata_route",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

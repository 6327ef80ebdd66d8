"""Between planted networks (numpy, (fan_in, fan_out)) and torch MLPs (``nn.Linear``, (out, in))."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from .planting import PlantedNetwork

__all__ = [
    "as_model",
    "batches",
    "loss_fn",
    "loss_for",
    "masks_to_numpy",
    "masks_to_torch",
    "mlp_from_arrays",
    "prunable_layers",
    "to_tensors",
    "to_torch",
]


def mlp_from_arrays(
    weights: list[np.ndarray], biases: list[np.ndarray], *, dtype: torch.dtype = torch.float64
) -> nn.Sequential:
    """A ReLU MLP (ReLU after every layer but the last) with the given (fan_in, fan_out) weights."""
    layers: list[nn.Module] = []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        lin = nn.Linear(w.shape[0], w.shape[1], dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(np.asarray(w).T, dtype=dtype))
            lin.bias.copy_(torch.as_tensor(np.asarray(b), dtype=dtype))
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def prunable_layers(model: nn.Module) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of ``model`` in registration order (input to output for a Sequential MLP)."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        msg = f"{type(model).__name__} has no nn.Linear layers to prune."
        raise ValueError(msg)
    return layers


def as_model(net: PlantedNetwork | nn.Module, *, dtype: torch.dtype = torch.float64) -> tuple[nn.Module, bool]:
    """A torch model for ``net`` and whether it came from a planted network (a copy) or was given."""
    from .planting import PlantedNetwork

    if isinstance(net, PlantedNetwork):
        return mlp_from_arrays(net.weights, net.biases, dtype=dtype), True
    if isinstance(net, nn.Module):
        return net, False
    msg = f"expected a PlantedNetwork (from plant_n_seek) or a torch.nn.Module, got {type(net).__name__}."
    raise TypeError(msg)


def to_tensors(data: tuple[np.ndarray, np.ndarray], dtype: torch.dtype, loss: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X, y)`` as tensors: y as int64 labels for cross-entropy, as a 2-D float tensor for MSE."""
    if not isinstance(data, tuple | list) or len(data) != 2:
        msg = "data must be a pair (X, y) of arrays."
        raise TypeError(msg)
    X = np.asarray(data[0], dtype=np.float64)
    y = np.asarray(data[1])
    if X.ndim != 2 or len(X) == 0 or len(y) != len(X):
        msg = f"data: X must be a non-empty (n, n_inputs) array and y have n rows; got {X.shape} and {y.shape}."
        raise ValueError(msg)
    if not np.isfinite(X).all() or (y.dtype.kind == "f" and not np.isfinite(y).all()):
        msg = "data contains NaN or inf."
        raise ValueError(msg)
    Xt = torch.as_tensor(X, dtype=dtype)
    if loss == "cross_entropy":
        return Xt, torch.as_tensor(y.astype(np.int64).reshape(-1))
    yt = torch.as_tensor(y.astype(np.float64), dtype=dtype)
    return Xt, yt.reshape(len(X), -1)


def loss_for(net: object, data: tuple | None, loss: str | None) -> str:
    """The loss name: given, the planted task's (Circle: cross-entropy), or from y's dtype (integers: cross-entropy)."""
    if loss is not None:
        if loss not in ("mse", "cross_entropy"):
            msg = f"loss={loss!r} is unknown; choose 'mse' or 'cross_entropy'."
            raise ValueError(msg)
        return loss
    task = getattr(net, "task", None)
    if task is not None:
        return "cross_entropy" if task == "circle" else "mse"
    if data is not None and np.asarray(data[1]).dtype.kind in "iub":
        return "cross_entropy"
    return "mse"


def loss_fn(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The torch loss for a loss name."""
    return nn.functional.cross_entropy if name == "cross_entropy" else nn.functional.mse_loss


def masks_to_numpy(masks: list[torch.Tensor], planted: bool) -> list[np.ndarray]:
    """Masks as numpy bool arrays: (fan_in, fan_out) like ``true_mask`` for a planted network, else parameter-shaped."""
    return [
        m.detach().cpu().numpy().T.copy() if planted and m.ndim == 2 else m.detach().cpu().numpy().copy() for m in masks
    ]


def masks_to_torch(masks: list[np.ndarray], params: list[torch.Tensor], planted: bool) -> list[torch.Tensor]:
    """Inverse of :func:`masks_to_numpy`, checked against the parameter shapes."""
    out = []
    for i, (m, p) in enumerate(zip(masks, params, strict=True)):
        t = torch.as_tensor(
            np.asarray(m, dtype=bool).T.copy() if planted and np.ndim(m) == 2 else np.asarray(m, dtype=bool)
        )
        if tuple(t.shape) != tuple(p.shape):
            msg = f"masks[{i}] has shape {np.shape(m)}, which does not fit the parameter of shape {tuple(p.shape)}."
            raise ValueError(msg)
        out.append(t)
    return out


def to_torch(net: PlantedNetwork, *, dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """The planted host as a torch ReLU MLP (``nn.Linear`` stores (out, in): weights are transposed)."""
    from .planting import PlantedNetwork

    if not isinstance(net, PlantedNetwork):
        msg = f"to_torch expects a PlantedNetwork, got {type(net).__name__}."
        raise TypeError(msg)
    return mlp_from_arrays(net.weights, net.biases, dtype=dtype)


def batches(n: int, batch_size: int, gen: torch.Generator) -> list[torch.Tensor]:
    """Shuffled index batches of one epoch."""
    order = torch.randperm(n, generator=gen)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]

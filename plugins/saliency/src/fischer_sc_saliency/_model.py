"""Model hygiene and input conversion: attribution must leave the user's model and input exactly as they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn


@contextmanager
def frozen(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode with parameter gradients off, and restore both afterwards.

    Every module's own ``training`` flag and every parameter's ``requires_grad`` are recorded
    and restored individually (a user may keep some submodules in another mode). Attribution
    differentiates with respect to the input only (``torch.autograd.grad``), so parameter
    ``.grad`` fields are never written; eval mode keeps BatchNorm statistics fixed.
    """
    if not isinstance(model, nn.Module):
        msg = f"model must be a torch.nn.Module, got {type(model).__name__}."
        raise TypeError(msg)
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        model.eval()
        for p, _ in flags:
            p.requires_grad_(False)
        yield model
    finally:
        for m, mode in modes:
            m.training = mode
        for p, flag in flags:
            p.requires_grad_(flag)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch's intra-op work on ``n`` threads inside the block and restore the count (``None``: leave as is)."""
    if n is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def model_device(model: nn.Module, device: str | torch.device | None) -> torch.device:
    """``device`` if given, else the device of the model's first parameter (CPU for a parameterless model)."""
    if device is not None:
        return torch.device(device)
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def model_dtype(model: nn.Module) -> torch.dtype:
    """The floating dtype of the model's parameters (float32 for a parameterless model)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def as_input(x: Any, *, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, dict[str, Any]]:
    """``x`` as a detached tensor on ``device`` plus what is needed to return a result of x's kind.

    Raises a ValueError for NaN/inf, empty input or fewer than two dimensions.
    """
    if isinstance(x, torch.Tensor):
        kind = {"kind": "tensor", "device": x.device, "dtype": x.dtype if x.is_floating_point() else torch.float32}
        t = x.detach()
    elif isinstance(x, np.ndarray):
        kind = {"kind": "numpy", "dtype": x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32}
        t = torch.from_numpy(np.ascontiguousarray(x))
    else:
        msg = f"x must be a torch.Tensor or a numpy array of shape (B, C, H, W), got {type(x).__name__}."
        raise TypeError(msg)
    if t.ndim < 2:
        msg = (
            f"x must have a batch axis first, e.g. (B, C, H, W); got shape {tuple(t.shape)}. Use x[None] for one image."
        )
        raise ValueError(msg)
    if t.shape[0] == 0:
        msg = "x is empty (batch size 0); pass at least one input."
        raise ValueError(msg)
    t = t.to(device=device, dtype=dtype)
    if not torch.isfinite(t).all():
        msg = "x contains NaN or infinite values; clean or impute the input first."
        raise ValueError(msg)
    return t, kind


def as_output(a: torch.Tensor, kind: dict[str, Any]) -> torch.Tensor | np.ndarray:
    """A detached result of the input's kind: tensor on x's device and dtype, or a numpy array."""
    a = a.detach()
    if kind["kind"] == "tensor":
        return a.to(device=kind["device"], dtype=kind["dtype"])
    return a.cpu().numpy().astype(kind["dtype"], copy=False)

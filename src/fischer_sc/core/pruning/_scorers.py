"""Pruning-at-initialisation scores for any torch model: random, SNIP, GraSP and SynFlow.

Each scorer takes the model, the list of parameters to score (tensors of ``model.parameters()``)
and, where the score needs data, a batch ``(X, y)`` with a loss function. Scores are detached
tensors shaped like the parameters; larger means more important (keep). The model is not changed:
SynFlow works on a float64 copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = ["grasp_scores", "random_scores", "snip_scores", "synflow_scores"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _param_list(model: nn.Module, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    params = list(params)
    owned = {id(p) for p in model.parameters()}
    for i, p in enumerate(params):
        if id(p) not in owned:
            msg = f"params[{i}] is not a parameter of the model; pass tensors from model.parameters()."
            raise ValueError(msg)
    if not params:
        msg = "params is empty; pass the parameters to score."
        raise ValueError(msg)
    return params


def random_scores(params: Sequence[torch.Tensor], *, generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """N(0, 1) scores (the random pruner), drawn from ``generator``."""
    return [torch.randn(p.shape, generator=generator, dtype=torch.float64) for p in params]


def snip_scores(
    model: nn.Module, params: Sequence[torch.Tensor], X: torch.Tensor, y: torch.Tensor, loss_fn: LossFn
) -> list[torch.Tensor]:
    """SNIP (arXiv 1810.02340): ``abs(theta * dL/dtheta) = abs(dL/dmask)``, divided by the sum of all scores."""
    params = _param_list(model, params)
    grads = torch.autograd.grad(loss_fn(model(X), y), params, allow_unused=True)
    scores = [
        (p.detach() * (g if g is not None else torch.zeros_like(p))).abs() for p, g in zip(params, grads, strict=True)
    ]
    total = sum(float(s.sum()) for s in scores)
    return [s / total for s in scores] if total > 0 else scores


def grasp_scores(
    model: nn.Module,
    params: Sequence[torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    loss_fn: LossFn,
    *,
    temperature: float = 200.0,
) -> list[torch.Tensor]:
    """GraSP (arXiv 2002.07376): (H g) * theta, with the loss at ``output / temperature``.

    g is the gradient of the loss, H g the Hessian-gradient product (double backward). Scores are
    divided by ``abs(sum of scores) + 1e-10``; keep the highest (the weights whose removal would most
    reduce the gradient flow are the lowest).
    """
    params = _param_list(model, params)
    g = torch.autograd.grad(loss_fn(model(X) / temperature, y), params, allow_unused=True)
    g = [gi.detach() if gi is not None else torch.zeros_like(p) for gi, p in zip(g, params, strict=True)]
    grads = torch.autograd.grad(loss_fn(model(X) / temperature, y), params, create_graph=True, allow_unused=True)
    z = sum((gi * gd).sum() for gi, gd in zip(grads, g, strict=True) if gi is not None)
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        return [torch.zeros_like(p, dtype=torch.float64) for p in params]
    hg = torch.autograd.grad(z, params, allow_unused=True)
    scores = [
        (h if h is not None else torch.zeros_like(p)).detach() * p.detach() for h, p in zip(hg, params, strict=True)
    ]
    total = abs(float(sum(s.sum() for s in scores))) + 1e-10
    return [s / total for s in scores]


def synflow_scores(model: nn.Module, params: Sequence[torch.Tensor], input_shape: Sequence[int]) -> list[torch.Tensor]:
    """SynFlow (arXiv 2006.05467): ``abs(theta * dR/dtheta)``, R the summed output of the ``abs(theta)`` network on ones.

    Data-free. Runs on a float64 copy in eval mode (path products under- and overflow in float32 for
    deep networks), so the model itself is untouched.

    Parameters
    ----------
    input_shape
        Shape of one input without the batch dimension, e.g. ``(n_features,)``.
    """
    params = _param_list(model, params)
    index = {id(p): i for i, p in enumerate(model.parameters())}
    wanted = [index[id(p)] for p in params]
    clone = copy.deepcopy(model).to(torch.float64).eval()
    cparams = list(clone.parameters())
    with torch.no_grad():
        for p in cparams:
            p.abs_()
    ones = torch.ones((1, *input_shape), dtype=torch.float64)
    chosen = [cparams[i] for i in wanted]
    grads = torch.autograd.grad(clone(ones).sum(), chosen, allow_unused=True)
    return [
        (p.detach() * (g if g is not None else torch.zeros_like(p))).abs() for p, g in zip(chosen, grads, strict=True)
    ]

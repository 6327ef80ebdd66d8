"""Edge-popup strong-ticket search with the non-zero-bias extensions (arXiv 1911.13299, 2110.11150).

The weights and biases of a random network stay frozen; trainable scores choose which of them to
keep (:class:`fischer_sc.core.pruning.SupermaskLinear`). Options: bias scores (separate or joint
top-k), annealing of the keep ratio, clamped scores and output rescaling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from fischer_sc.core.pruning import SupermaskLinear, check_density, density_schedule

from ._models import as_model, batches, loss_fn, loss_for, masks_to_numpy, to_tensors
from .planting import PlantedNetwork

__all__ = ["EdgePopupResult", "edge_popup", "rescale_output", "supermask_mlp"]


def supermask_mlp(
    model: nn.Module,
    *,
    density: float,
    bias_scores: Literal["separate", "joint"] | None = "separate",
    clamp_nonneg: bool = False,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """A supermask copy of a ReLU MLP (an ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU`` only)."""
    if not isinstance(model, nn.Sequential) or not all(isinstance(m, nn.Linear | nn.ReLU) for m in model):
        msg = (
            "edge_popup needs a ReLU MLP: an nn.Sequential of nn.Linear and nn.ReLU only (output rescaling "
            "is exact only for positively homogeneous networks; BatchNorm and other layers would break it)."
        )
        raise TypeError(msg)
    layers: list[nn.Module] = []
    for m in model:
        if isinstance(m, nn.Linear):
            bias = None if m.bias is None else m.bias.detach()
            layers.append(
                SupermaskLinear(
                    m.weight.detach(),
                    bias,
                    density=density,
                    bias_scores=bias_scores,
                    clamp_nonneg=clamp_nonneg,
                    generator=generator,
                )
            )
        else:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _supermasks(model: nn.Module) -> list[SupermaskLinear]:
    return [m for m in model.modules() if isinstance(m, SupermaskLinear)]


@torch.no_grad()
def rescale_output(model: nn.Module, s: float) -> None:
    """Multiply a supermask (or plain) ReLU MLP's output by exactly ``s > 0``.

    Layer l of L gets its weights multiplied by s^(1/L) and its biases by s^(l/L): by the positive
    homogeneity of ReLU every layer's output is then s^(l/L) times the old one.
    """
    if not s > 0 or not math.isfinite(s):
        msg = f"s={s!r} must be a finite positive factor."
        raise ValueError(msg)
    layers = _supermasks(model) or [m for m in model.modules() if isinstance(m, nn.Linear)]
    L = len(layers)
    for ell, lin in enumerate(layers, start=1):
        lin.weight.mul_(s ** (1.0 / L))
        if lin.bias is not None:
            lin.bias.mul_(s ** (ell / L))


def _fit_output_scale(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, fn, steps: int = 20, lr: float = 0.1
) -> float:
    with torch.no_grad():
        out = model(X)
    s = torch.ones((), dtype=out.dtype, requires_grad=True)
    opt = torch.optim.SGD([s], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        fn(s * out, y).backward()
        opt.step()
    value = s.item()
    return value if value > 0 and math.isfinite(value) else 1.0


@dataclass
class EdgePopupResult:
    """Result of :func:`edge_popup`.

    Attributes
    ----------
    mask
        Boolean weight masks, aligned with ``true_mask`` for a planted network ((out, in) for a module).
    bias_mask
        Boolean bias masks (all ``True`` when biases are not scored).
    model
        The supermask network (frozen weights, trained scores), already rescaled if ``rescale``.
    density
        The final weight density (exact); ``joint_density`` counts weights and biases together.
    history
        Mean training loss and density per epoch.
    scales
        The output scales applied per epoch (1.0 without rescaling).
    """

    mask: list[np.ndarray]
    bias_mask: list[np.ndarray]
    model: nn.Module
    density: float
    joint_density: float
    history: list[dict[str, float]] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)


def _densities(density: float, epochs: int, anneal: str | None, levels: int, start: float) -> list[float]:
    if anneal is None:
        return [density] * epochs
    if anneal == "power":  # k_t = k^(t/T), t = 1..T
        return density_schedule(density, epochs)
    if anneal == "geometric":  # levels of `epochs` epochs from `start` down to density
        return [d for d in density_schedule(density, levels, start=max(start, density)) for _ in range(epochs)]
    msg = f"anneal={anneal!r} is unknown; choose None, 'power' or 'geometric'."
    raise ValueError(msg)


def edge_popup(
    net: PlantedNetwork | nn.Module,
    data: tuple[np.ndarray, np.ndarray],
    *,
    density: float,
    epochs: int = 10,
    anneal: Literal["power", "geometric"] | None = None,
    levels: int = 10,
    start_density: float = 0.6,
    bias_scores: Literal["separate", "joint"] | None = "separate",
    clamp_nonneg: bool = False,
    rescale: bool = False,
    lr: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    batch_size: int = 32,
    loss: str | None = None,
    random_state: int = 0,
    progress: bool = False,
    dtype: torch.dtype = torch.float32,
) -> EdgePopupResult:
    """Find a strong ticket: a mask on a frozen random network, trained through supermask scores.

    Parameters
    ----------
    net
        A planted network (its host) or a ReLU MLP (``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``).
        Neither is changed.
    data
        ``(X, y)`` training data.
    density
        Final kept fraction of each layer's weights, in (0, 1] (per-layer top-k, as edge-popup).
    epochs
        Epochs; with ``anneal="geometric"``, epochs per level.
    anneal
        ``None``: fixed density. ``"power"``: density ** (t / epochs) in epoch t (Plant 'n' Seek).
        ``"geometric"``: ``levels`` levels from ``start_density`` down to ``density`` (non-zero biases paper).
    levels, start_density
        The geometric annealing schedule.
    bias_scores
        ``"separate"`` (own top-k per bias vector), ``"joint"`` (one top-k over a layer's weights and
        bias) or ``None`` (biases not masked).
    clamp_nonneg
        Clamp scores at 0 after every step and rank by the score itself (not ``|s|``).
    rescale
        After every epoch fit an output scale s on the last batch and multiply the network's output by it
        (layer l: weights * s^(1/L), biases * s^(l/L)); the learning rate is divided by s.
    lr, momentum, weight_decay, batch_size
        SGD with a cosine learning rate (the Plant 'n' Seek defaults).
    loss
        ``"mse"`` or ``"cross_entropy"`` (default: the task's or from y's dtype).
    random_state
        Seed of the scores and the batch order.
    progress
        Show a progress bar over epochs.
    dtype
        Dtype of the network.

    Returns
    -------
    An :class:`EdgePopupResult` with ``mask``, ``bias_mask``, ``model``, ``density``, ``history``, ``scales``.
    """
    density = check_density(density)
    start_density = check_density(start_density, "start_density")
    for name, value in (("epochs", epochs), ("levels", levels), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"{name}={value!r} must be an integer >= 1."
            raise ValueError(msg)
    base, planted = as_model(net, dtype=dtype)
    if not planted:
        base = base.to(dtype)
    gen = torch.Generator().manual_seed(int(random_state))
    schedule = _densities(density, epochs, anneal, levels, start_density)
    model = supermask_mlp(base, density=schedule[0], bias_scores=bias_scores, clamp_nonneg=clamp_nonneg, generator=gen)
    loss_name = loss_for(net, data, loss)
    X, y = to_tensors(data, dtype, loss_name)
    fn = loss_fn(loss_name)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    base_lr, n_epochs = lr, len(schedule)
    history, scales = [], []
    layers = _supermasks(model)
    for epoch, d in enumerate(tqdm(schedule, desc="edge_popup", disable=not progress)):
        for layer in layers:
            layer.density = d
        # Cosine learning rate over all epochs, on top of the rescaling's lr / s.
        cos = 0.5 * (1 + math.cos(math.pi * epoch / n_epochs))
        for group in opt.param_groups:
            group["lr"] = base_lr * cos
        model.train()
        total, idx = 0.0, None
        for idx in batches(len(X), batch_size, gen):
            opt.zero_grad()
            value = fn(model(X[idx]), y[idx])
            value.backward()
            opt.step()
            if clamp_nonneg:
                for layer in layers:
                    layer.clamp_scores()
            total += value.item() * len(idx)
        s = 1.0
        if rescale and idx is not None:
            s = _fit_output_scale(model, X[idx], y[idx], fn)
            rescale_output(model, s)
            base_lr /= s
        scales.append(s)
        history.append({"loss": total / len(X), "density": d})
    masks = [layer.masks() for layer in layers]
    wmasks = masks_to_numpy([m[0] for m in masks], planted)
    bmasks = [
        np.ones(layer.out_features, bool) if mb is None else mb.numpy().copy()
        for layer, (_, mb) in zip(layers, masks, strict=True)
    ]
    n_w = sum(m.size for m in wmasks)
    n_b = sum(m.size for m in bmasks)
    kept_w = sum(int(m.sum()) for m in wmasks)
    kept_b = sum(int(m.sum()) for m in bmasks)
    return EdgePopupResult(wmasks, bmasks, model, kept_w / n_w, (kept_w + kept_b) / (n_w + n_b), history, scales)


# Documented (and pickled) under the package name, where it is public.
EdgePopupResult.__module__ = "fischer_sc_lottery"

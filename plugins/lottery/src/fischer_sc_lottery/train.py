"""Training with fixed masks (weak tickets) and iterative magnitude pruning with rewinding (IMP)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from fischer_sc.core.pruning import apply_masks, check_density, density_schedule, magnitude_scores, score_masks

from ._models import as_model, batches, loss_fn, loss_for, masks_to_numpy, masks_to_torch, prunable_layers, to_tensors
from .planting import PlantedNetwork

__all__ = ["ImpResult", "imp", "train_masked"]


def _check_positive_int(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        msg = f"{name}={value!r} must be an integer >= {minimum}."
        raise ValueError(msg)
    return int(value)


def _fit(
    model: nn.Module,
    params: list[torch.Tensor],
    masks: list[torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    loss: str,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    gen: torch.Generator,
) -> list[float]:
    # Adam on every parameter; pruned entries are zeroed again after each step (Adam's moments would revive them).
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    fn = loss_fn(loss)
    history = []
    model.train()
    for _ in range(epochs):
        total = 0.0
        for idx in batches(len(X), batch_size, gen):
            opt.zero_grad()
            value = fn(model(X[idx]), y[idx])
            value.backward()
            opt.step()
            apply_masks(params, masks)
            total += value.item() * len(idx)
        history.append(total / len(X))
    return history


def train_masked(
    net: PlantedNetwork | nn.Module,
    masks: list[np.ndarray],
    data: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 64,
    loss: str | None = None,
    random_state: int = 0,
    dtype: torch.dtype = torch.float32,
) -> tuple[nn.Module, list[float]]:
    """Train the weights that ``masks`` keep (a weak ticket) with Adam; pruned weights stay zero.

    Parameters
    ----------
    net
        A planted network (its host is copied into a torch MLP) or a module (trained in place).
    masks
        One boolean mask per ``nn.Linear`` weight (then per bias with ``prune_bias=True``), as returned
        by :func:`prune_at_init` for ``net``.
    data
        ``(X, y)`` training data.
    epochs, lr, batch_size
        Adam's schedule (defaults of the Plant 'n' Seek single-shot runs).
    loss
        ``"mse"`` or ``"cross_entropy"`` (default: the task's or from y's dtype).
    random_state
        Seed of the batch order.
    dtype
        Dtype of the MLP built from a planted network.

    Returns
    -------
    The trained model and the mean training loss per epoch.
    """
    _check_positive_int(epochs, "epochs", 0)
    _check_positive_int(batch_size, "batch_size")
    model, planted = as_model(net, dtype=dtype)
    layers = prunable_layers(model)
    params = [lin.weight for lin in layers]
    masks = list(masks)
    if len(masks) == len(params) + sum(lin.bias is not None for lin in layers):  # prune_bias=True masks
        params += [lin.bias for lin in layers if lin.bias is not None]
    elif len(masks) != len(params):
        msg = f"got {len(masks)} masks for {len(params)} weight matrices; pass the masks prune_at_init returned for this network."
        raise ValueError(msg)
    tmasks = masks_to_torch(masks, params, planted)
    loss_name = loss_for(net, data, loss)
    X, y = to_tensors(data, params[0].dtype, loss_name)
    apply_masks(params, tmasks)
    gen = torch.Generator().manual_seed(int(random_state))
    history = _fit(model, params, tmasks, X, y, loss_name, epochs=epochs, lr=lr, batch_size=batch_size, gen=gen)
    return model, history


@dataclass
class ImpResult:
    """Result of :func:`imp`.

    Attributes
    ----------
    mask
        Boolean weight masks of the final level, aligned with ``true_mask`` for a planted network.
    model
        The trained, pruned torch model (a copy; the input is not changed).
    densities
        The density of each level.
    history
        Mean training loss per epoch, all levels and the final training in order.
    """

    mask: list[np.ndarray]
    model: nn.Module
    densities: list[float]
    history: list[float] = field(default_factory=list)


def imp(
    net: PlantedNetwork | nn.Module,
    data: tuple[np.ndarray, np.ndarray],
    *,
    density: float,
    levels: int = 5,
    pre_epochs: int = 10,
    post_epochs: int = 20,
    rewind: bool = True,
    lr: float = 1e-3,
    batch_size: int = 64,
    loss: str | None = None,
    random_state: int = 0,
    progress: bool = False,
    dtype: torch.dtype = torch.float32,
) -> ImpResult:
    """Iterative magnitude pruning with rewinding (Frankle & Carbin, arXiv 1803.03635).

    For level l = 1..levels: train ``pre_epochs`` with the current mask, keep the global top
    ``density ** (l / levels)`` of the weights by magnitude, and rewind the survivors to their initial
    values (``rewind=True``). Finally train ``post_epochs``.

    Parameters
    ----------
    net
        A planted network or a torch module (copied, not changed).
    data
        ``(X, y)`` training data.
    density
        Final kept fraction of the weights, in (0, 1].
    levels, pre_epochs, post_epochs
        The multishot schedule (reference defaults 5, 10, 20).
    rewind
        Reset surviving weights to their initialisation after each pruning step (lottery tickets); if
        ``False``, continue from the trained values (iterative fine-tuning).
    lr, batch_size
        Adam's step size and batch size.
    loss
        ``"mse"`` or ``"cross_entropy"`` (default: the task's or from y's dtype).
    random_state
        Seed of the batch order.
    progress
        Show a progress bar over levels.
    dtype
        Dtype of the MLP built from a planted network.

    Returns
    -------
    An :class:`ImpResult`: ``mask`` (exactly ``density``), the trained ``model``, ``densities``, ``history``.
    """
    density = check_density(density)
    levels = _check_positive_int(levels, "levels")
    _check_positive_int(pre_epochs, "pre_epochs", 0)
    _check_positive_int(post_epochs, "post_epochs", 0)
    _check_positive_int(batch_size, "batch_size")
    model, planted = as_model(net, dtype=dtype)
    if not planted:
        model = copy.deepcopy(model)
    params = [lin.weight for lin in prunable_layers(model)]
    init_state = copy.deepcopy(model.state_dict())
    loss_name = loss_for(net, data, loss)
    X, y = to_tensors(data, params[0].dtype, loss_name)
    gen = torch.Generator().manual_seed(int(random_state))
    masks = [torch.ones(p.shape, dtype=torch.bool) for p in params]
    history: list[float] = []
    schedule = density_schedule(density, levels)
    for d in tqdm(schedule, desc="imp", disable=not progress):
        history += _fit(model, params, masks, X, y, loss_name, epochs=pre_epochs, lr=lr, batch_size=batch_size, gen=gen)
        # Pruned entries rank below every live one (-1 < |w|), so a level only ever removes more.
        scores = [torch.where(m, s, -1.0) for s, m in zip(magnitude_scores(params), masks, strict=True)]
        masks = score_masks(scores, d)
        if rewind:
            model.load_state_dict(init_state)
        apply_masks(params, masks)
    history += _fit(model, params, masks, X, y, loss_name, epochs=post_epochs, lr=lr, batch_size=batch_size, gen=gen)
    return ImpResult(masks_to_numpy(masks, planted), model, schedule, history)


# Documented (and pickled) under the package name, where it is public.
ImpResult.__module__ = "fischer_sc_lottery"

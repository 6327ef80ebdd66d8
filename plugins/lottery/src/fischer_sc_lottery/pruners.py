"""Pruning at initialisation: random, magnitude, SNIP, GraSP and SynFlow masks of an exact density."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from fischer_sc.core.pruning import (
    apply_masks,
    check_density,
    density_schedule,
    grasp_scores,
    magnitude_scores,
    random_scores,
    score_masks,
    snip_scores,
    synflow_scores,
)

from ._models import as_model, loss_fn, loss_for, masks_to_numpy, prunable_layers, to_tensors
from .planting import PlantedNetwork

__all__ = ["PRUNERS", "prune_at_init"]

PRUNERS = ("random", "magnitude", "snip", "grasp", "synflow")
_NEEDS_DATA = ("snip", "grasp")


def _scores(
    method: str, model: nn.Module, params: list[torch.Tensor], batch, loss: str, gen: torch.Generator
) -> list[torch.Tensor]:
    if method == "random":
        return random_scores(params, generator=gen)
    if method == "magnitude":
        return magnitude_scores(params)
    if method == "synflow":
        return synflow_scores(model, params, (prunable_layers(model)[0].in_features,))
    X, y = batch
    if method == "snip":
        return snip_scores(model, params, X, y, loss_fn(loss))
    return grasp_scores(model, params, X, y, loss_fn(loss))


def prune_at_init(
    net: PlantedNetwork | nn.Module,
    *,
    method: str,
    density: float,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    random_state: int = 0,
    prune_bias: bool = False,
    rounds: int | None = None,
    n_samples: int = 1000,
    loss: str | None = None,
) -> list[np.ndarray]:
    """Masks of exactly ``density`` from a pruner at initialisation (global top-k over all layers).

    Parameters
    ----------
    net
        A planted network (from :func:`plant_n_seek`) or a torch module; its ``nn.Linear`` layers are pruned.
        The module is not changed.
    method
        ``"random"`` (N(0, 1) scores), ``"magnitude"`` (``abs(theta)``), ``"snip"``, ``"grasp"`` or
        ``"synflow"`` (data-free).
    density
        Kept fraction of the prunable entries, in (0, 1].
    data
        ``(X, y)``; needed by SNIP and GraSP, which score on the first ``n_samples`` rows.
    random_state
        Seed of the random pruner.
    prune_bias
        Score and prune biases too (one global top-k over weights and biases); by default biases are
        kept and the density counts weights only (like the planted ticket's).
    rounds
        Iterative scoring: ``rounds`` rounds with densities ``density ** (e / rounds)``, rescoring the
        pruned network each time. Default 100 for SynFlow, 1 for the others.
    n_samples
        Rows of ``data`` used for SNIP and GraSP.
    loss
        ``"mse"`` or ``"cross_entropy"``; default: the planted task's, else cross-entropy for integer y.

    Returns
    -------
    One boolean mask per weight matrix (then per bias vector when ``prune_bias``), input to output. For a
    planted network the weight masks are (fan_in, fan_out) like ``true_mask``; for a module they have
    the parameters' shapes, (out, in). Exactly ``max(1, round(density * n))`` entries are kept in all.
    """
    if method not in PRUNERS:
        msg = f"method={method!r} is unknown; choose one of {', '.join(PRUNERS)} (see also 'imp' and 'edge_popup')."
        raise ValueError(msg)
    density = check_density(density)
    if rounds is None:
        rounds = 100 if method == "synflow" else 1
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        msg = f"rounds={rounds!r} must be an integer >= 1."
        raise ValueError(msg)
    if method in _NEEDS_DATA and data is None:
        msg = f"method={method!r} scores with data: pass data=(X, y)."
        raise ValueError(msg)
    model, planted = as_model(net)
    layers = prunable_layers(model)
    params = [lin.weight for lin in layers] + (
        [lin.bias for lin in layers if lin.bias is not None] if prune_bias else []
    )
    loss_name = loss_for(net, data, loss)
    batch = None
    if data is not None:
        dtype = params[0].dtype
        X, y = to_tensors(data, dtype, loss_name)
        batch = (X[:n_samples], y[:n_samples])
    gen = torch.Generator().manual_seed(int(random_state))
    # Score a copy with pruned entries zeroed, so the caller's module is never changed.
    work = copy.deepcopy(model)
    work_layers = prunable_layers(work)
    wparams = [lin.weight for lin in work_layers] + (
        [lin.bias for lin in work_layers if lin.bias is not None] if prune_bias else []
    )
    masks = [torch.ones(p.shape, dtype=torch.bool) for p in wparams]
    for d in density_schedule(density, rounds):
        scores = _scores(method, work, wparams, batch, loss_name, gen)
        # Pruned entries rank below every live one, so a later round never revives them.
        low = min(float(s.min()) for s in scores) - 1.0
        scores = [
            torch.where(m, s.to(torch.float64), torch.full_like(s, low, dtype=torch.float64))
            for s, m in zip(scores, masks, strict=True)
        ]
        masks = score_masks(scores, d)
        apply_masks(wparams, masks)
    return masks_to_numpy(masks, planted)

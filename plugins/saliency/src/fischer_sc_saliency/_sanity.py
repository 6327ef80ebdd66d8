"""Randomisation sanity checks: model-parameter randomisation (Adebayo et al.) and the random-logit test (Sixt et al.).

A class-specific explanation must change when the model's parameters are re-drawn (MPRT) and
when another class is explained (random logit): lower similarity is better. VAR maps are sparse
and sparsity alone lowers rank correlations, so MPRT also scores a *sparsity-matched control*:
the base map cut to the VAR map's number of non-zeros (largest ``|A|`` kept), for the original and
for the randomised model alike. VAR must beat the control, not only the dense base map.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._competition import check_params, class_competition
from ._eval import (
    _all_target_maps,
    _as_tensor,
    _chunked,
    _progress,
    _Settings,
    _similarities,
    _sparsify_like,
    parameter_layers,
)
from ._model import frozen
from ._var import competitor_maps

MODES = ("cascading", "independent")


def _explicit_sets(classes: Any, b: int) -> np.ndarray:
    sets = np.asarray(classes, dtype=np.int64)
    sets = np.broadcast_to(sets, (b, sets.shape[-1])) if sets.ndim == 1 else sets
    if sets.ndim != 2 or sets.shape[0] != b:
        msg = f"classes must be a list of classes or have shape ({b}, K); got shape {np.shape(classes)}."
        raise ValueError(msg)
    check_params(10.0, 0.0, sets.shape[1])
    return np.ascontiguousarray(sets)


def _maps_for(
    model: nn.Module, x: torch.Tensor, sets: np.ndarray, s: _Settings, chunk: int
) -> tuple[np.ndarray, np.ndarray]:
    with frozen(model):
        parts = [_all_target_maps(model, x[sl], sets[sl], s) for sl in _chunked(len(x), chunk)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def model_randomisation(
    model: nn.Module,
    x: Any,
    classes: Any,
    *,
    mode: str = "cascading",
    base: Any = "integrated_gradients",
    base_kwargs: dict[str, Any] | None = None,
    temperature: float = 10.0,
    tau: float = 0.1,
    use_abs: bool = False,
    normalize: str | None = "joint_max",
    random_state: int = 0,
    chunk: int = 64,
    batch_size: int = 256,
    progress: bool = True,
) -> pd.DataFrame:
    """Model-parameter randomisation test of a base method, VAR and the sparsity-matched control.

    Every class of each input's competitor set is explained once (K maps per input). Layers with
    parameters and ``reset_parameters()`` are re-initialised from the output down: one more per
    stage (``"cascading"``) or one at a time (``"independent"``), on a deep copy; layer ``i`` is
    always re-drawn with the seed ``random_state + i``. The user's model is not modified.

    Parameters
    ----------
    model
        The trained classifier.
    x
        Inputs ``(B, C, H, W)`` (tensor or array), e.g. ``grids.x``.
    classes
        Competitor sets: a list shared by all inputs or ``(B, K)``, e.g. ``grids.classes``.
    mode
        ``"cascading"`` or ``"independent"``.
    base, base_kwargs, temperature, tau, use_abs, normalize
        As in :func:`var_attribution`.
    random_state
        Seed of the re-initialisation.

    Returns
    -------
    DataFrame
        One row per stage and method (``"base"``, ``"var"``, ``"control"``): ``stage`` (1 = output
        layer only), ``layer`` (the layer re-drawn last), ``n_layers`` (re-drawn so far),
        ``spearman_abs``, ``spearman_signed``, ``ssim`` (of ``|A|`` scaled to [0, 1] by its own max),
        ``n_pairs`` and ``n_excluded`` (pairs with a constant map, where similarity is undefined).
        The cascading stage with ``n_layers`` equal to the number of layers is full randomisation.
    """
    from scanpy import logging as logg

    if mode not in MODES:
        msg = f"mode={mode!r} is unknown; choose 'cascading' or 'independent'."
        raise ValueError(msg)
    xt = _as_tensor(model, x)
    sets = _explicit_sets(classes, len(xt))
    check_params(temperature, tau, sets.shape[1])
    s = _Settings(base, base_kwargs, temperature, tau, use_abs, normalize, batch_size)
    layers = parameter_layers(model)
    if not layers:
        msg = "the model has no layer with parameters and reset_parameters(); nothing to randomise."
        raise ValueError(msg)
    start = logg.info(f"model randomisation ({mode}): {len(layers)} layers, base={base!r}, T={temperature}, tau={tau}")
    base_o, var_o = _maps_for(model, xt, sets, s, chunk)
    shape = (-1, *base_o.shape[2:])
    base_o, var_o = base_o.reshape(shape), var_o.reshape(shape)
    ctrl_o = _sparsify_like(base_o, var_o)
    top_down = list(reversed(list(enumerate(layers))))
    rows = []
    for stage in _progress(range(len(layers)), len(layers), f"MPRT {mode}", progress):
        reset = top_down[: stage + 1] if mode == "cascading" else [top_down[stage]]
        rmodel = copy.deepcopy(model)
        modules = dict(rmodel.named_modules())
        with torch.random.fork_rng(devices=[]):
            for i, name in reset:
                torch.manual_seed(random_state + i)
                modules[name].reset_parameters()
        base_r, var_r = (m.reshape(shape) for m in _maps_for(rmodel, xt, sets, s, chunk))
        pairs = {"base": (base_o, base_r), "var": (var_o, var_r), "control": (ctrl_o, _sparsify_like(base_r, var_r))}
        for method, (a, b) in pairs.items():
            rows.append(
                {"mode": mode, "stage": stage + 1, "layer": reset[-1][1], "n_layers": len(reset), "method": method}
                | _similarities(a, b)
            )
    logg.info("    finished", time=start)
    df = pd.DataFrame(rows)
    df.attrs.update({"base": str(base), "temperature": temperature, "tau": tau, "normalize": normalize})
    return df


def random_logit(
    model: nn.Module,
    x: Any,
    classes: Any,
    target: Any,
    *,
    other: str = "in_set",
    base: Any = "integrated_gradients",
    base_kwargs: dict[str, Any] | None = None,
    temperature: float = 10.0,
    tau: float = 0.1,
    use_abs: bool = False,
    normalize: str | None = "joint_max",
    random_state: int = 0,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Random-logit test: SSIM between the map of the target and the map of another class (lower is better).

    The other class c' is drawn uniformly from the rest of the input's competitor set
    (``other="in_set"``) or from all other classes (``"any"``, as in Sixt et al.). With
    ``"any"``, a c' outside the set is explained by VAR against the set plus c' (K + 1 classes),
    so the target still competes with it. Maps are summed over channels; SSIM compares ``|A|``
    scaled to [0, 1] by its own max; pairs with a constant map are excluded and counted.

    Returns
    -------
    DataFrame
        Rows ``"base"`` and ``"var"`` with ``ssim``, ``spearman_abs``, ``n_pairs``, ``n_excluded``.
    """
    if other not in ("in_set", "any"):
        msg = f"other={other!r} is unknown; choose 'in_set' or 'any'."
        raise ValueError(msg)
    xt = _as_tensor(model, x)
    b = len(xt)
    sets = _explicit_sets(classes, b)
    t = np.broadcast_to(np.asarray(target, dtype=np.int64), (b,))
    hit = sets == t[:, None]
    if not hit.any(axis=1).all():
        msg = "every target must be in its input's classes; add it to classes or change target."
        raise ValueError(msg)
    check_params(temperature, tau, sets.shape[1])
    s = _Settings(base, base_kwargs, temperature, tau, use_abs, normalize, batch_size)
    rng = np.random.default_rng(random_state)
    with frozen(model):
        with torch.no_grad():
            n_classes = model(xt[:1]).shape[1]
        pool = (
            [row[row != ti] for row, ti in zip(sets, t, strict=True)]
            if other == "in_set"
            else [np.setdiff1d(np.arange(n_classes), [ti]) for ti in t]
        )
        c_other = np.array([rng.choice(p) for p in pool])
        maps = competitor_maps(model, xt, sets, base=s.base, base_kwargs=s.base_kwargs, batch_size=batch_size)
        var_t = class_competition(
            maps, torch.as_tensor(hit.argmax(1)), temperature=temperature, tau=tau, use_abs=use_abs, normalize=normalize
        )[0]
        base_t = maps[torch.arange(b), torch.as_tensor(hit.argmax(1))]
        base_c = torch.empty_like(base_t)
        var_c = torch.empty_like(var_t)
        inside = (sets == c_other[:, None]).any(axis=1)
        if inside.any():
            i = np.flatnonzero(inside)
            ti = torch.as_tensor(i)
            pos = torch.as_tensor((sets[i] == c_other[i, None]).argmax(1))
            base_c[ti] = maps[ti][torch.arange(len(i)), pos]
            var_c[ti] = class_competition(
                maps[ti], pos, temperature=temperature, tau=tau, use_abs=use_abs, normalize=normalize
            )[0]
        if (~inside).any():
            i = np.flatnonzero(~inside)
            ti = torch.as_tensor(i)
            ext = np.concatenate([sets[i], c_other[i, None]], axis=1)
            m2 = competitor_maps(model, xt[ti], ext, base=s.base, base_kwargs=s.base_kwargs, batch_size=batch_size)
            base_c[ti] = m2[:, -1]
            var_c[ti] = class_competition(
                m2, ext.shape[1] - 1, temperature=temperature, tau=tau, use_abs=use_abs, normalize=normalize
            )[0]
    rows = []
    for method, (a, c) in {"base": (base_t, base_c), "var": (var_t, var_c)}.items():
        sim = _similarities(a.sum(1).cpu().numpy(), c.sum(1).cpu().numpy())
        rows.append({"method": method, "other": other} | sim)
    return pd.DataFrame(rows)

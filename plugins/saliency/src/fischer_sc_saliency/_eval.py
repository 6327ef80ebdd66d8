"""Evaluation that drives a model: grid pointing game, model-parameter randomisation, random-logit test.

Base maps and VAR maps always come from the same batched pass (VAR re-weights the K base maps),
so base and VAR are compared on exactly the same attributions. Maps are summed over channels
after VAR (spec: VAR per element, then channels); the array measures live in ``fischer_sc.metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from fischer_sc.metrics import localisation_mass, spearman_similarity, ssim

from ._competition import check_params, class_competition
from ._grids import DigitGrids
from ._model import frozen, model_device, model_dtype
from ._var import competitor_maps


def _progress(iterable: Any, total: int, desc: str, show: bool) -> Any:
    if not show:
        return iterable
    from tqdm.auto import tqdm  # only when a bar is shown

    return tqdm(iterable, total=total, desc=desc)


def _chunked(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


@dataclass
class _Settings:
    base: Any = "integrated_gradients"
    base_kwargs: dict[str, Any] | None = None
    temperature: float = 10.0
    tau: float = 0.1
    use_abs: bool = False
    normalize: str | None = "joint_max"
    batch_size: int = 256


def _all_target_maps(
    model: nn.Module, x: torch.Tensor, sets: np.ndarray, s: _Settings
) -> tuple[np.ndarray, np.ndarray]:
    """Channel-summed base and VAR maps ``(B, K, ...)`` for every class of each input's set as the target."""
    maps = competitor_maps(model, x, sets, base=s.base, base_kwargs=s.base_kwargs, batch_size=s.batch_size)
    k = sets.shape[1]
    var = torch.stack(
        [
            class_competition(maps, j, temperature=s.temperature, tau=s.tau, use_abs=s.use_abs, normalize=s.normalize)[
                0
            ]
            for j in range(k)
        ],
        dim=1,
    )
    return maps.sum(dim=2).cpu().numpy(), var.sum(dim=2).cpu().numpy()


def _as_tensor(model: nn.Module, x: Any) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x.detach())
    t = t.to(device=model_device(model, None), dtype=model_dtype(model))
    if not torch.isfinite(t).all():
        msg = "x contains NaN or infinite values; clean the input first."
        raise ValueError(msg)
    return t


@dataclass
class PointingResult:
    """Grid pointing game scores of a base method and of VAR on the same maps.

    Attributes
    ----------
    base, var
        Mean localisation over grids and cells (1 = all positive mass in the right cell, 0.25 = chance).
    frac_empty_base, frac_empty_var
        Share of cells whose map had no positive mass (scored 0.25).
    cells_base, cells_var
        ``(G, 4)`` per-cell scores.
    control, cells_control
        The sparsity-matched control: the positive part of the base map cut to as many pixels as
        the VAR map has positive ones (largest kept). Sparsity alone moves the score, so VAR
        shows class competition only where it beats this control, not just the dense base map.
    settings
        Base method, T, tau, use_abs, normalize.
    """

    base: float
    var: float
    frac_empty_base: float
    frac_empty_var: float
    cells_base: np.ndarray = field(repr=False)
    cells_var: np.ndarray = field(repr=False)
    control: float = float("nan")
    cells_control: np.ndarray | None = field(default=None, repr=False)
    settings: dict[str, Any] = field(default_factory=dict)


def grid_pointing_game(
    model: nn.Module,
    grids: DigitGrids,
    *,
    base: Any = "integrated_gradients",
    base_kwargs: dict[str, Any] | None = None,
    temperature: float = 10.0,
    tau: float = 0.1,
    use_abs: bool = False,
    normalize: str | None = "joint_max",
    chunk: int = 64,
    batch_size: int = 256,
    progress: bool = True,
) -> PointingResult:
    """Grid pointing game (CoDA-Nets eq. 11) of a base method with and without VAR.

    For each cell's class c the base map A^c (and VAR with C = the four grid classes) is summed
    over channels; the cell scores ``sum over the cell of max(A^c, 0) / sum of max(A^c, 0)``.
    The sparsity-matched control (``control``) scores the base map's largest positive values,
    as many as VAR keeps, so a gain from sparsity alone can be told from class competition.
    ``grids`` can be any object with ``x`` ``(G, ...)``, ``classes`` ``(G, 4)`` and ``regions``
    ``(4, H, W)`` (see :func:`make_digit_grids`).
    """
    from scanpy import logging as logg

    s = _Settings(base, base_kwargs, temperature, tau, use_abs, normalize, batch_size)
    check_params(temperature, tau, grids.classes.shape[1])
    start = logg.info(f"grid pointing game: base={base!r}, T={temperature}, tau={tau}, normalize={normalize!r}")
    x = _as_tensor(model, grids.x)
    regions = np.asarray(grids.regions, dtype=bool)
    cells = {"base": [], "var": [], "control": []}
    with frozen(model):
        parts = _chunked(len(x), chunk)
        for sl in _progress(parts, len(parts), "pointing game", progress):
            maps = dict(zip(("base", "var"), _all_target_maps(model, x[sl], grids.classes[sl], s), strict=True))
            pos = np.maximum(maps["base"], 0).reshape(-1, *maps["base"].shape[2:])
            kept = np.maximum(maps["var"], 0).reshape(pos.shape)
            maps["control"] = _sparsify_like(pos, kept).reshape(maps["base"].shape)
            for name, m in maps.items():
                cells[name].append(
                    np.stack([localisation_mass(m[:, q], regions[q]) for q in range(m.shape[1])], axis=1)
                )
                empties = np.maximum(m, 0).reshape(*m.shape[:2], -1).sum(-1) == 0
                cells.setdefault(f"empty_{name}", []).append(empties)
    cb, cv, cc = (np.concatenate(cells[name]) for name in ("base", "var", "control"))
    logg.info("    finished", time=start)
    return PointingResult(
        base=float(cb.mean()),
        var=float(cv.mean()),
        frac_empty_base=float(np.concatenate(cells["empty_base"]).mean()),
        frac_empty_var=float(np.concatenate(cells["empty_var"]).mean()),
        cells_base=cb,
        cells_var=cv,
        control=float(cc.mean()),
        cells_control=cc,
        settings={
            "base": str(base),
            "temperature": temperature,
            "tau": tau,
            "use_abs": use_abs,
            "normalize": normalize,
        },
    )


def _sparsify_like(dense: np.ndarray, sparse: np.ndarray) -> np.ndarray:
    """``dense`` with only its n largest |values| kept, n = the non-zero count of ``sparse`` (per map)."""
    flat = dense.reshape(dense.shape[0], -1)
    nnz = (sparse.reshape(sparse.shape[0], -1) != 0).sum(axis=1)
    order = np.argsort(-np.abs(flat), axis=1, kind="stable")
    keep = np.arange(flat.shape[1])[None, :] < nnz[:, None]
    out = np.zeros_like(flat)
    np.put_along_axis(out, order, np.where(keep, np.take_along_axis(flat, order, axis=1), 0.0), axis=1)
    return out.reshape(dense.shape)


def _similarities(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Mean Spearman (|A| and signed) and SSIM of |A| scaled by its own max; constant maps are excluded."""
    fa, fb = a.reshape(len(a), -1), b.reshape(len(b), -1)
    ok = (fa.max(axis=1) > fa.min(axis=1)) & (fb.max(axis=1) > fb.min(axis=1))
    out = {"n_pairs": int(ok.sum()), "n_excluded": int((~ok).sum())}
    if not ok.any():
        return out | {"spearman_abs": np.nan, "spearman_signed": np.nan, "ssim": np.nan}
    a, b = a[ok], b[ok]
    out["spearman_abs"] = float(np.nanmean(spearman_similarity(a, b, abs=True, batched=True)))
    out["spearman_signed"] = float(np.nanmean(spearman_similarity(a, b, abs=False, batched=True)))
    if a.ndim == 3 and min(a.shape[1:]) >= 7:
        sa = np.abs(a) / np.abs(a).reshape(len(a), -1).max(axis=1).clip(1e-300)[:, None, None]
        sb = np.abs(b) / np.abs(b).reshape(len(b), -1).max(axis=1).clip(1e-300)[:, None, None]
        out["ssim"] = float(ssim(sa, sb, batched=True).mean())
    else:
        out["ssim"] = np.nan
    return out


def parameter_layers(model: nn.Module) -> list[str]:
    """Names of the modules with own parameters and ``reset_parameters``, from input to output."""
    return [
        name
        for name, m in model.named_modules()
        if hasattr(m, "reset_parameters") and next(m.parameters(recurse=False), None) is not None
    ]

"""Exact top-k masks from scores, per tensor or over all tensors together, and their application.

A mask keeps exactly ``kept_count(n, density)`` entries: the largest scores, ties broken by the lower
flat index (over the concatenation of the flattened tensors for ``scope="global"``). Torch's own pruning
(``torch.nn.utils.prune``) breaks ties arbitrarily and, like most pruning code, speaks of the *removed*
fraction (``amount``); here ``density`` is always the *kept* fraction.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

__all__ = [
    "apply_masks",
    "check_density",
    "kept_count",
    "magnitude_scores",
    "score_masks",
    "to_torch_prune",
    "topk_mask",
]


def check_density(density: float, name: str = "density") -> float:
    """Validate a kept fraction and return it as a float.

    Raises
    ------
    TypeError
        If ``density`` is not a real number.
    ValueError
        If ``density`` is not finite or lies outside (0, 1].
    """
    if isinstance(density, torch.Tensor) and density.numel() == 1:
        density = density.item()
    # numbers.Real covers Python and numpy scalars; strings and bools are refused.
    if isinstance(density, bool) or not isinstance(density, numbers.Real):
        msg = f"{name} must be a number in (0, 1], got {type(density).__name__}."
        raise TypeError(msg)
    density = float(density)
    if not math.isfinite(density) or density <= 0.0:
        msg = f"{name}={density!r} must be a kept fraction in (0, 1]."
        raise ValueError(msg)
    if density > 1.0:
        msg = f"{name}={density!r}: {name} is a fraction in (0, 1] (the kept share); did you pass a percentage?"
        raise ValueError(msg)
    return density


def kept_count(n: int, density: float) -> int:
    """Number of entries a mask over ``n`` entries keeps: ``max(1, round(density * n))``, at most ``n``."""
    density = check_density(density)
    if n < 1:
        msg = f"cannot build a mask over {n} entries; the scores must not be empty."
        raise ValueError(msg)
    return min(n, max(1, round(density * n)))


def _check_scores(scores: torch.Tensor, name: str = "scores") -> None:
    if not isinstance(scores, torch.Tensor):
        msg = f"{name} must be a torch.Tensor, got {type(scores).__name__}."
        raise TypeError(msg)
    if scores.numel() == 0:
        msg = f"{name} is empty; a mask needs at least one entry."
        raise ValueError(msg)
    if scores.is_floating_point() and not bool(torch.isfinite(scores).all()):
        msg = f"{name} contains NaN or inf; scores must be finite."
        raise ValueError(msg)


def _topk_flat(flat: torch.Tensor, k: int) -> torch.Tensor:
    # Everything above the k-th largest value is kept; of the entries equal to it, the lowest indices
    # fill the rest. Same result as a stable descending sort, several times faster than one.
    threshold = torch.topk(flat, k, sorted=False).values.min()
    mask = flat > threshold
    missing = k - int(mask.sum())
    if missing > 0:
        ties = torch.nonzero(flat == threshold).reshape(-1)  # ascending indices
        mask[ties[:missing]] = True
    return mask


def topk_mask(scores: torch.Tensor, density: float) -> torch.Tensor:
    """Boolean mask keeping the ``k = max(1, round(density * numel))`` largest scores.

    Parameters
    ----------
    scores
        Any shape; finite values.
    density
        Kept fraction in (0, 1].

    Returns
    -------
    A ``bool`` tensor of the same shape with exactly ``k`` ``True`` entries. Equal scores are kept in
    order of their flat (row-major) index, lower first, so the result is deterministic.
    """
    _check_scores(scores)
    k = kept_count(scores.numel(), density)
    return _topk_flat(scores.detach().reshape(-1), k).reshape(scores.shape)


def score_masks(
    scores: Sequence[torch.Tensor],
    density: float,
    *,
    scope: Literal["layer", "global"] = "global",
) -> list[torch.Tensor]:
    """Top-k masks for several score tensors.

    Parameters
    ----------
    scores
        One score tensor per prunable parameter.
    density
        Kept fraction in (0, 1].
    scope
        ``"global"``: one top-k over all entries together, keeping exactly
        ``kept_count(total, density)`` entries in all (ties: lower index in the concatenation of the
        flattened tensors first). ``"layer"``: a separate top-k per tensor, each exact.

    Returns
    -------
    One ``bool`` mask per score tensor, same shapes.
    """
    if isinstance(scores, torch.Tensor):
        msg = "scores must be a sequence of tensors (one per parameter); wrap a single tensor in a list."
        raise TypeError(msg)
    scores = list(scores)
    if not scores:
        msg = "scores is empty; pass at least one score tensor."
        raise ValueError(msg)
    for i, s in enumerate(scores):
        _check_scores(s, f"scores[{i}]")
    check_density(density)
    if scope == "layer":
        return [topk_mask(s, density) for s in scores]
    if scope != "global":
        msg = f"scope={scope!r} is unknown; choose 'layer' or 'global'."
        raise ValueError(msg)
    # Scores of different dtypes are compared in float64 (exact for float16/32/64 values).
    flat = torch.cat([s.detach().reshape(-1).to(torch.float64) for s in scores])
    mask = _topk_flat(flat, kept_count(flat.numel(), density))
    out, start = [], 0
    for s in scores:
        out.append(mask[start : start + s.numel()].reshape(s.shape))
        start += s.numel()
    return out


def magnitude_scores(weights: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Magnitude scores ``|w|`` (detached copies), one per weight tensor."""
    if isinstance(weights, torch.Tensor):
        msg = "weights must be a sequence of tensors; wrap a single tensor in a list."
        raise TypeError(msg)
    return [w.detach().abs() for w in weights]


def _check_pairs(a: Sequence, masks: Sequence[torch.Tensor], what: str) -> None:
    if len(a) != len(masks):
        msg = f"got {len(a)} {what} but {len(masks)} masks; pass one mask per {what[:-1]}."
        raise ValueError(msg)


def apply_masks(params: Sequence[torch.Tensor], masks: Sequence[torch.Tensor]) -> None:
    """Zero the pruned entries of ``params`` in place (without recording gradients).

    Parameters
    ----------
    params
        Tensors or parameters to prune.
    masks
        One mask per parameter, same shape; ``True`` (or non-zero) = kept.
    """
    params, masks = list(params), list(masks)
    _check_pairs(params, masks, "params")
    with torch.no_grad():
        for i, (p, m) in enumerate(zip(params, masks, strict=True)):
            if tuple(p.shape) != tuple(m.shape):
                msg = f"masks[{i}] has shape {tuple(m.shape)} but params[{i}] has {tuple(p.shape)}."
                raise ValueError(msg)
            p.mul_(m.to(device=p.device, dtype=p.dtype))


def to_torch_prune(
    module_params: Sequence[tuple[nn.Module, str]],
    masks: Sequence[torch.Tensor],
) -> list[nn.Module]:
    """Hand masks over to :mod:`torch.nn.utils.prune` via ``custom_from_mask``.

    Afterwards ``module.<name>`` is the masked tensor, ``module.<name>_orig`` the parameter and
    ``module.<name>_mask`` the buffer, so pruning can continue with torch's own API (for example
    ``prune.remove`` to make it permanent).

    Parameters
    ----------
    module_params
        ``(module, parameter_name)`` pairs, as for ``torch.nn.utils.prune.global_unstructured``.
    masks
        One mask per pair, shaped like that parameter.

    Returns
    -------
    The modules, in order.
    """
    from torch.nn.utils import prune

    module_params, masks = list(module_params), list(masks)
    _check_pairs(module_params, masks, "module_params")
    out = []
    for i, ((module, name), m) in enumerate(zip(module_params, masks, strict=True)):
        param = getattr(module, name, None)
        if not isinstance(param, torch.Tensor):
            msg = f"module_params[{i}]: {type(module).__name__} has no tensor attribute {name!r}."
            raise KeyError(msg)
        if tuple(param.shape) != tuple(m.shape):
            msg = f"masks[{i}] has shape {tuple(m.shape)} but {name!r} has {tuple(param.shape)}."
            raise ValueError(msg)
        out.append(prune.custom_from_mask(module, name, mask=m.to(device=param.device, dtype=param.dtype)))
    return out

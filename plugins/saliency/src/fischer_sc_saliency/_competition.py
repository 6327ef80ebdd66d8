"""The class competition itself (spec steps 2-4) and the choice of the competitor set C.

Both work on tensors that are already computed, so they also serve users who bring their own
K base maps per image.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

NORMALIZE = (None, "joint_max")


def check_params(temperature: float, tau: float, k_classes: int) -> None:
    """ValueErrors for T <= 0, K < 2 and tau outside [0, 1 - 1/K)."""
    if not isinstance(temperature, numbers.Real) or not np.isfinite(temperature) or temperature <= 0:
        msg = f"temperature={temperature!r} must be a positive number (the default is 10)."
        raise ValueError(msg)
    if k_classes < 2:
        msg = f"classes must hold at least 2 competitors (K >= 2), got K={k_classes}: with one class the map is always empty."
        raise ValueError(msg)
    upper = 1.0 - 1.0 / k_classes
    if not isinstance(tau, numbers.Real) or not 0.0 <= tau < upper:
        msg = f"tau={tau!r} must lie in [0, 1 - 1/K) = [0, {upper:.4g}) for K={k_classes} competitors (the default is 0.1)."
        raise ValueError(msg)


def class_competition(
    maps: torch.Tensor,
    target_index: torch.Tensor | int,
    *,
    temperature: float = 10.0,
    tau: float = 0.1,
    use_abs: bool = False,
    normalize: str | None = "joint_max",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """VAR of precomputed base maps: keep the evidence on which the target dominates its competitors.

    With ``S_c = |A_c|`` (or ``A_c``), ``M_c = softmax_c(T S_c)`` per element, the result is
    ``A_t * M_t * 1[M_t - 1/K > tau]``.

    Parameters
    ----------
    maps
        Base attributions ``(B, K, ...)``: the K competitors' maps for each of B inputs.
    target_index
        Position of the target within the K competitors, an int or ``(B,)``.
    temperature, tau, use_abs
        T, tau and whether the competition runs on ``|A|`` (defaults 10, 0.1, False; the
        reference's setting is 10, 0.01, True with ``normalize=None``).
    normalize
        ``"joint_max"`` (default) or ``None``. ``"joint_max"`` divides the K maps of an input by their shared max ``|A|``
        before the softmax (only the competition sees the scaled maps; the output keeps ``A_t``'s
        units).

    Returns
    -------
    var, weight, gate
        Each of shape ``(B, ...)``: the VAR map, the dominance weight ``M_t`` and the boolean gate.
    """
    if maps.ndim < 3:
        msg = f"maps must have shape (B, K, ...), got {tuple(maps.shape)}."
        raise ValueError(msg)
    b, k = maps.shape[:2]
    check_params(temperature, tau, k)
    if normalize not in NORMALIZE:
        msg = f"normalize={normalize!r} is unknown; choose None or 'joint_max'."
        raise ValueError(msg)
    idx = torch.as_tensor(target_index, dtype=torch.long, device=maps.device).expand(b)
    if (idx < 0).any() or (idx >= k).any():
        msg = f"target_index must lie in [0, {k}); it is the target's position among the K competitors."
        raise ValueError(msg)
    s = maps.abs() if use_abs else maps
    if normalize == "joint_max":
        # One divisor for all K maps of an input keeps the competition fair.
        scale = maps.abs().flatten(1).amax(dim=1).clamp_min(torch.finfo(maps.dtype).tiny)
        s = s / scale.view((-1,) + (1,) * (maps.ndim - 1))
    m = torch.softmax(temperature * s, dim=1)
    pick = idx.view((-1, 1) + (1,) * (maps.ndim - 2)).expand((-1, 1, *maps.shape[2:]))
    a_t = maps.gather(1, pick).squeeze(1)
    m_t = m.gather(1, pick).squeeze(1)
    gate = (m_t - 1.0 / k) > tau  # strict, as in the method
    return a_t * m_t * gate, m_t, gate


def _int_array(values: Any, name: str) -> np.ndarray:
    arr = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or (arr.size and np.all(np.mod(arr, 1) == 0))):
        msg = f"{name} must hold integer class indices, got {values!r}."
        raise TypeError(msg)
    return arr.astype(np.int64)


def competitor_sets(
    logits: torch.Tensor, target: Any, classes: Any, *, k: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets, competitor sets C and the target's position in C for a batch.

    Parameters
    ----------
    logits
        The model's outputs ``(B, n_classes)`` for the inputs.
    target
        ``None`` (the predicted class), an int, or ``(B,)``.
    classes
        ``"auto"``: the top-``k`` classes P plus the least likely class l; a target outside
        ``P + {l}`` replaces l, so K = k + 1. Or an explicit list of classes shared by the batch,
        or ``(B, K)`` with one set per input. The target must be in its set.
    k
        Size of P for ``"auto"``.

    Returns
    -------
    target, classes, target_index
        ``(B,)``, ``(B, K)`` and ``(B,)`` integer arrays.
    """
    b, n_classes = logits.shape
    if target is None:
        t = logits.argmax(dim=1).cpu().numpy()
    else:
        t = (
            np.broadcast_to(_int_array(target, "target"), (b,))
            if np.ndim(target) == 0
            else _int_array(target, "target")
        )
        if t.shape != (b,):
            msg = f"target must be an int or have shape ({b},) for {b} inputs, got shape {t.shape}."
            raise ValueError(msg)
        if (t < 0).any() or (t >= n_classes).any():
            msg = f"target {t.tolist()} contains classes outside [0, {n_classes}) of the model's {n_classes} outputs."
            raise ValueError(msg)
    if isinstance(classes, str):
        if classes != "auto":
            msg = f"classes={classes!r} is unknown; pass 'auto' or a list of class indices."
            raise ValueError(msg)
        if not isinstance(k, int | np.integer) or not 1 <= k < n_classes:
            msg = f"k={k!r} must be an integer in [1, {n_classes - 1}] for a model with {n_classes} classes."
            raise ValueError(msg)
        order = torch.argsort(logits, dim=1, descending=True).cpu().numpy()
        top, least = order[:, :k], order[:, -1]
        sets = np.empty((b, k + 1), dtype=np.int64)
        for i in range(b):
            inside = t[i] in top[i] or t[i] == least[i]
            sets[i] = np.append(top[i], least[i] if inside else t[i])
    else:
        sets = _int_array(classes, "classes")
        if sets.ndim == 1:
            sets = np.broadcast_to(sets, (b, sets.shape[0]))
        if sets.ndim != 2 or sets.shape[0] != b:
            msg = f"classes must be 'auto', a list of class indices, or an array of shape ({b}, K); got shape {sets.shape}."
            raise ValueError(msg)
        if sets.shape[1] < 2:
            msg = f"classes must hold at least 2 competitors (K >= 2), got K={sets.shape[1]}: with one class the map is always empty."
            raise ValueError(msg)
        if (sets < 0).any() or (sets >= n_classes).any():
            msg = f"classes contain indices outside [0, {n_classes}) of the model's {n_classes} outputs."
            raise ValueError(msg)
        if any(len(set(row.tolist())) != len(row) for row in sets):
            msg = "classes must not repeat a class within one competitor set."
            raise ValueError(msg)
    hit = sets == t[:, None]
    missing = ~hit.any(axis=1)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        msg = (
            f"target {int(t[i])} (input {i}) is not in classes {sets[i].tolist()}; add it to classes or change target."
        )
        raise ValueError(msg)
    return t.copy(), np.ascontiguousarray(sets), hit.argmax(axis=1)

"""DASH pruning scores: weight magnitude mixed with the layer a prior network implies (arXiv 2403.04805).

For PHOENIX's first layers (H x G, regulators in the columns) and output layers (G x H, targets in
the rows) the "best guess" is a least-squares fit of the layer to a prior, given the layer's current
scores ``S`` (a stand-in for its weights)::

    first:  X* = argmin ||S^T X - Q||     (Q: G x G gene-gene PPI prior)         Omega = lam |X*| + (1 - lam) M
    output: C* = argmin ||C S_in - |P|^T|| (P: G x G motif prior, row = regulator) Omega = lam |C*| + (1 - lam) M

``M`` is the layer's magnitude, normalised to sum 1. Where the authors' code adds the unnormalised
``|X*|`` (whose scale dwarfs ``M``), both terms are normalised to sum 1 here by default, so ``lam`` is
the prior's real share of the score. Once hidden units are pruned ``S S^T`` is singular, so the fit is
the minimum-norm least-squares solution (as :func:`numpy.linalg.lstsq` gives) or a ridge solution,
never an explicit inverse.
"""

from __future__ import annotations

from typing import Literal

import torch

__all__ = ["dash_first_scores", "dash_magnitude", "dash_output_scores", "least_squares"]


def least_squares(a: torch.Tensor, b: torch.Tensor, *, ridge: float = 0.0) -> torch.Tensor:
    """Minimum-norm least-squares solution ``X`` of ``a X ~ b``, by the SVD of ``a``.

    Parameters
    ----------
    a
        ``(m, n)`` matrix.
    b
        ``(m, k)`` right-hand sides.
    ridge
        0: the pseudo-inverse solution, singular values below ``eps * max(m, n) * s_max`` dropped
        (the cut-off of :func:`numpy.linalg.lstsq`'s default ``rcond``). > 0: Tikhonov
        regularisation with ``ridge * sum(s**2) / n`` (a multiple of ``trace(a^T a) / n``).

    Returns
    -------
    ``(n, k)`` solution, in float64.
    """
    a = a.detach().to(torch.float64)
    b = b.detach().to(torch.float64)
    if a.dim() != 2 or b.dim() != 2 or a.shape[0] != b.shape[0]:
        msg = f"least_squares needs a (m, n) and b (m, k); got {tuple(a.shape)} and {tuple(b.shape)}."
        raise ValueError(msg)
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    if ridge < 0:
        msg = f"ridge must be >= 0, got {ridge}."
        raise ValueError(msg)
    if ridge > 0:
        lam = ridge * float((s**2).sum()) / a.shape[1]
        inv = s / (s**2 + lam)
    else:
        cutoff = torch.finfo(torch.float64).eps * max(a.shape) * (s.max() if s.numel() else 0.0)
        inv = torch.where(s > cutoff, 1.0 / torch.where(s > cutoff, s, torch.ones_like(s)), torch.zeros_like(s))
    return vh.T @ (inv[:, None] * (u.T @ b))


def _normalised(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``x`` over its kept entries, scaled to sum 1 (all zeros stay zeros); pruned entries 0."""
    x = x if mask is None else x * mask
    total = x.sum()
    return x / total if total > 0 else x


def dash_magnitude(
    weight: torch.Tensor,
    *,
    kind: Literal["abs", "exp"] = "abs",
    row_scale: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """DASH's magnitude part ``M`` of a layer, normalised to sum 1 over the kept entries.

    Parameters
    ----------
    weight
        The layer's weights.
    kind
        ``"abs"``: ``|w|``; ``"exp"``: ``exp(w)``, for weights that act as exponents (PHOENIX's
        multiplicative branch), computed as a softmax over the kept entries so it cannot overflow.
    row_scale
        Multiplies row ``i`` by ``row_scale[i]`` (PHOENIX's output layers: ``ReLU(upsilon)`` of the target).
    mask
        Kept entries (1/True); the others score 0 and do not enter the normalisation.

    Returns
    -------
    ``M``, float64, same shape as ``weight``.
    """
    w = weight.detach().to(torch.float64)
    m = None if mask is None else mask.to(torch.float64)
    if kind == "abs":
        out = w.abs()
    elif kind == "exp":
        kept = w if m is None else torch.where(m > 0, w, torch.full_like(w, -torch.inf))
        out = torch.exp(kept - kept.max())  # the maximum subtracted: a softmax, no overflow
    else:
        msg = f"kind must be 'abs' or 'exp', got {kind!r}."
        raise ValueError(msg)
    if row_scale is not None:
        out = out * row_scale.detach().to(torch.float64)[:, None]
    return _normalised(out, m)


def _mix(prior_term: torch.Tensor, magnitude: torch.Tensor, lam: float, normalize: bool, mask) -> torch.Tensor:
    if not 0.0 <= lam <= 1.0:
        msg = f"the DASH mixing weight must lie in [0, 1], got {lam}."
        raise ValueError(msg)
    m = None if mask is None else mask.to(torch.float64)
    prior_term = _normalised(prior_term, m) if normalize else (prior_term if m is None else prior_term * m)
    return lam * prior_term + (1.0 - lam) * magnitude


def dash_first_scores(
    magnitude: torch.Tensor,
    previous: torch.Tensor,
    ppi: torch.Tensor,
    *,
    lambda_ppi: float,
    normalize: bool = True,
    ridge: float = 0.0,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """DASH score of a first layer (H x G): ``lambda_ppi |X*| + (1 - lambda_ppi) M`` with ``S^T X* ~ Q``.

    Parameters
    ----------
    magnitude
        ``M`` of the layer (:func:`~fischer_sc.core.pruning.dash_magnitude`), H x G.
    previous
        ``S``, the layer's previous score, H x G (``U(0, 1)`` before the first event).
    ppi
        ``Q``, the G x G gene-gene prior (e.g. ``|P| |P|^T`` normalised: regulators sharing targets).
    lambda_ppi
        Share of the prior term, in [0, 1]; 0 gives magnitude pruning.
    normalize
        Scale ``|X*|`` to sum 1 over the kept entries before mixing (``False``: the raw ``|X*|``,
        as in the authors' code).
    ridge
        See :func:`~fischer_sc.core.pruning.least_squares`.
    mask
        Kept entries; pruned ones score 0.

    Returns
    -------
    ``Omega``, float64, H x G.
    """
    x_star = least_squares(previous.T, ppi, ridge=ridge)
    return _mix(x_star.abs(), magnitude.to(torch.float64), lambda_ppi, normalize, mask)


def dash_output_scores(
    magnitude: torch.Tensor,
    first_score: torch.Tensor,
    motif: torch.Tensor,
    *,
    lambda_motif: float,
    normalize: bool = True,
    ridge: float = 0.0,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """DASH score of an output layer (G x H): ``lambda_motif |C*| + (1 - lambda_motif) M`` with ``C* S_in ~ |P|^T``.

    Parameters
    ----------
    magnitude
        ``M`` of the layer (:func:`~fischer_sc.core.pruning.dash_magnitude`), G x H.
    first_score
        ``S_in``, the current score of the matching first layer, H x G.
    motif
        ``P``, the G x G regulator x target prior (its absolute value is used).
    lambda_motif
        Share of the prior term, in [0, 1]; 0 gives magnitude pruning.
    normalize
        Scale ``|C*|`` to sum 1 over the kept entries before mixing.
    ridge
        See :func:`~fischer_sc.core.pruning.least_squares`.
    mask
        Kept entries; pruned ones score 0.

    Returns
    -------
    ``Omega``, float64, G x H.
    """
    # C S_in = |P|^T  <=>  S_in^T C^T = |P|
    c_star = least_squares(first_score.T, motif.abs(), ridge=ridge).T
    return _mix(c_star.abs(), magnitude.to(torch.float64), lambda_motif, normalize, mask)

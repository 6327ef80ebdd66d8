"""Losses and regularisers of BinaPs and DiffNaps: weighted XOR, pattern length, W-shaped, its schedule.

The reconstruction loss and the W-shaped regulariser have their gradients written out (one fused
autograd node each); their ``*_reference`` twins are the plain autograd expressions the tests compare
against. This module imports torch; ``fischer_sc.core`` does not import it eagerly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = [
    "pattern_length_penalty",
    "regulariser_multiplier",
    "w_shaped_penalty",
    "w_shaped_penalty_reference",
    "weighted_xor_loss",
    "weighted_xor_loss_reference",
]


class _WeightedXorFunction(torch.autograd.Function):
    """The weighted XOR loss of 0/1 tensors in one pass, with its gradient written out.

    ``L = mean_rows sum_j alpha [x_hat > x] + (1 - alpha) [x_hat < x]``; the gradient with respect to
    ``x_hat`` is that of ``alpha relu(x_hat - x) + (1 - alpha) relu(x - x_hat)`` (0 where they agree,
    as torch's relu'(0) = 0), divided by the number of rows.
    """

    @staticmethod
    def forward(ctx: Any, x_hat: torch.Tensor, x: torch.Tensor, alpha: float) -> torch.Tensor:
        diff = x_hat - x  # in {-1, 0, 1}: +1 a false one, -1 a missed one
        total, net = diff.abs().sum(), diff.sum()  # float reductions (no bool -> int copies)
        ctx.save_for_backward(diff)
        ctx.alpha = alpha
        false_ones, missed = (total + net) / 2, (total - net) / 2
        return (alpha * false_ones + (1.0 - alpha) * missed) / x.shape[0]

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        (diff,) = ctx.saved_tensors
        # alpha [diff > 0] - (1 - alpha) [diff < 0], written with clamps since diff is -1, 0 or 1
        g = diff.clamp(min=0.0).mul_(ctx.alpha).add_(diff.clamp(max=0.0), alpha=1.0 - ctx.alpha)
        return g.mul_(grad / diff.shape[0]), None, None


def weighted_xor_loss(x_hat: torch.Tensor, x: torch.Tensor, alpha: float) -> torch.Tensor:
    """BinaPs reconstruction loss: a false 1 costs ``alpha``, a missed 1 costs ``1 - alpha``.

    Parameters
    ----------
    x_hat
        Reconstruction (batch x m), 0/1.
    x
        Data (batch x m), 0/1.
    alpha
        Density of the whole data matrix (ones / entries).

    Returns
    -------
    Scalar: the per-row sum of weighted errors, averaged over the batch.
    """
    return _WeightedXorFunction.apply(x_hat, x, float(alpha))


def weighted_xor_loss_reference(x_hat: torch.Tensor, x: torch.Tensor, alpha: float) -> torch.Tensor:
    """The same loss by plain autograd (``alpha relu(x_hat - x) + (1 - alpha) relu(x - x_hat)``), for tests.

    Parameters
    ----------
    x_hat
        Reconstruction (batch x m).
    x
        Data (batch x m).
    alpha
        Weight of a false 1.

    Returns
    -------
    Scalar loss.
    """
    diff = x_hat - x
    return (alpha * torch.relu(diff) + (1.0 - alpha) * torch.relu(-diff)).sum(1).mean()


def pattern_length_penalty(w: torch.Tensor, lam: float, *, reduce: str = "mean") -> torch.Tensor:
    """The horizontal L2 penalty on pattern length: ``lam * [max(1, sum_j (W_ij - 1/m))]^2``.

    The clamp at 1 cuts the gradient of rows whose excess weight is below 1, so the penalty cannot
    shrink a neuron to nothing.

    Parameters
    ----------
    w
        Continuous weights (h x m) (encoder) or (K x h) (classifier).
    lam
        Weight of the penalty.
    reduce
        ``"mean"`` over rows (DiffNaps) or ``"sum"`` (BinaPs).

    Returns
    -------
    Scalar penalty.
    """
    excess = w.sum(1) - 1.0  # sum_j (W_ij - 1/m) with m = w.shape[1]
    per_row = torch.clamp(excess, min=1.0) ** 2
    return lam * (per_row.mean() if reduce == "mean" else per_row.sum())


class _WShapedFunction(torch.autograd.Function):
    """The W-shaped penalty on CPU tensors through one numba pass (value and gradient together)."""

    @staticmethod
    def forward(ctx: Any, w: torch.Tensor, shift: float, kappa: float, lam: float) -> torch.Tensor:
        from ._kernels import w_shaped_value_grad

        flat = w.detach().contiguous().view(-1).numpy()
        grad = np.empty_like(flat)
        total = w_shaped_value_grad(flat, float(shift), float(kappa), float(lam), grad)
        ctx.save_for_backward(torch.from_numpy(grad).view(w.shape))
        return torch.tensor(total / flat.size, dtype=w.dtype)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> Any:
        (grad,) = ctx.saved_tensors
        return grad * (g / grad.numel()), None, None, None


def w_shaped_penalty(w: torch.Tensor, kappa: float, lam: float, *, shift: float = 0.0) -> torch.Tensor:
    """The W-shaped (elastic) regulariser that pulls every weight to 0 or 1.

    ``mean_w min(kappa |v| + lam v^2, kappa |v - 1| + lam (v - 1)^2)`` with ``v = w - shift``
    (the encoder uses ``shift = 1/m``). On the CPU the value and the gradient come from one numba
    pass; elsewhere from the torch expression.

    Parameters
    ----------
    w
        Weights.
    kappa
        L1 weight.
    lam
        L2 weight.
    shift
        Subtracted from ``w`` first.

    Returns
    -------
    Scalar penalty.
    """
    if w.device.type == "cpu" and w.dtype in (torch.float32, torch.float64):
        return _WShapedFunction.apply(w, shift, kappa, lam)
    return w_shaped_penalty_reference(w, kappa, lam, shift=shift)


def w_shaped_penalty_reference(w: torch.Tensor, kappa: float, lam: float, *, shift: float = 0.0) -> torch.Tensor:
    """The W-shaped penalty as a torch expression (autograd gradient), for other devices and tests.

    Parameters
    ----------
    w
        Weights.
    kappa
        L1 weight.
    lam
        L2 weight.
    shift
        Subtracted from ``w`` first.

    Returns
    -------
    Scalar penalty.
    """
    v = w - shift
    to_zero = kappa * v.abs() + lam * v**2
    to_one = kappa * (v - 1.0).abs() + lam * (v - 1.0) ** 2
    return torch.minimum(to_zero, to_one).mean()


def regulariser_multiplier(epoch: int, rate: float, cap: float) -> float:
    """The exponential schedule of the W-shaped terms: ``min(rate ** epoch, cap)``.

    Parameters
    ----------
    epoch
        Completed epochs.
    rate
        Growth per epoch (``regu_rate``).
    cap
        Upper bound on the multiplier, so that long runs are not dominated by the regulariser.

    Returns
    -------
    The factor on the W-shaped weights after ``epoch`` epochs.
    """
    return float(min(rate**epoch, cap))

"""Binarised layers for BinaPs and DiffNaps: Bernoulli weights, straight-through gradients, losses.

The autoencoder has one continuous weight matrix ``W`` in [1/m, 1]^(h x m), shared by the encoder and
the decoder. Every step draws ``W_b ~ Bernoulli(W)``; the encoder and the decoder use that same draw:

    z     = [W_b x + trunc(min(b, -1)) >= 1]        (the gated step; b <= -1)
    x_hat = [W_b^T z >= 1]                          (an OR of the active patterns)

The backward pass is the straight-through estimator of the BinaPs paper: the linear maps pass
gradients as if ``W`` itself had been used, the output step is the identity, and the hidden step
passes the gradient only through active units, except that the bias of an inactive unit also receives
the negative part of its gradient (it may be pushed towards firing, never punished for not firing).

Everything is computed on dense mini-batches (rows of a sparse matrix densified one batch at a time),
and the decoder and the weight gradients touch only the hidden units that are active in the batch:
with patterns of a few items most units are silent, so the work is ``O(batch x active x m)`` rather
than ``O(batch x h x m)``.

This module imports torch; ``fischer_sc.core`` does not import it eagerly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = [
    "BinaryAutoencoderFunction",
    "binary_autoencode",
    "clamp_",
    "class_head_logits",
    "gated_step",
    "pattern_length_penalty",
    "regulariser_multiplier",
    "sample_weights",
    "w_shaped_penalty",
    "weighted_xor_loss",
]


def sample_weights(w: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One Bernoulli draw of every weight: ``W_b[i, j] = 1`` with probability ``W[i, j]``.

    Parameters
    ----------
    w
        Continuous weights in [0, 1].
    generator
        The explicit generator of the draw (never torch's global one), for reproducibility.

    Returns
    -------
    A float tensor of 0s and 1s, shaped like ``w``.
    """
    return torch.bernoulli(w.detach(), generator=generator)


def integer_bias(b: torch.Tensor) -> torch.Tensor:
    """The bias as used in the forward pass: ``trunc(min(b, -1))``, an integer <= -1.

    Parameters
    ----------
    b
        Continuous hidden bias.

    Returns
    -------
    The integer-valued bias (float tensor).
    """
    return torch.trunc(torch.clamp(b.detach(), max=-1.0))


def gated_step(pre: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The hidden activation's forward value: ``round(clip(pre + trunc(min(b, -1)), 0, 1))``.

    Parameters
    ----------
    pre
        Pre-activations ``W_b x`` (batch x h); integer valued for binary data and weights.
    b
        Continuous hidden bias (h).

    Returns
    -------
    0/1 float tensor (batch x h).
    """
    return (pre + integer_bias(b) > 0.5).to(pre.dtype)


def gated_step_backward(grad_z: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The gated straight-through rule of the hidden step.

    Parameters
    ----------
    grad_z
        Upstream gradient with respect to the hidden activations (batch x h).
    z
        The 0/1 activations of the forward pass.

    Returns
    -------
    grad_pre
        ``grad_z * z``: the gradient passes only through active units.
    grad_b
        Summed over the batch: ``grad_z`` of active units plus ``min(grad_z, 0)`` of inactive ones.
    """
    grad_pre = grad_z * z
    grad_b = (grad_pre + torch.clamp(grad_z, max=0.0) * (1.0 - z)).sum(0)
    return grad_pre, grad_b


class BinaryAutoencoderFunction(torch.autograd.Function):
    """The tied binarised autoencoder as one autograd node: ``(x, W_enc, W_dec, b, W_b) -> (z, x_hat)``.

    ``W_enc`` and ``W_dec`` hold the same values (tied weights): pass the same tensor twice and
    autograd sums the encoder and decoder parts of its straight-through gradient into one ``.grad``;
    pass two tensors sharing one storage to give each part its own optimiser update (the
    double update of the public code). Only hidden units active in the batch enter the decoder
    products.
    """

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, w_enc: torch.Tensor, w_dec: torch.Tensor, b: torch.Tensor, w_b: torch.Tensor
    ) -> Any:
        z = gated_step(x @ w_b.t(), b)
        active = torch.nonzero(z.any(0)).flatten()
        # OR of the active patterns: [W_b^T z >= 1], i.e. min(W_b^T z, 1) on these integer counts.
        if 2 * len(active) > z.shape[1]:  # most units fire (early training): skip the gathers
            x_hat = (z @ w_b).clamp_(max=1.0)
        else:
            x_hat = (z[:, active] @ w_b[active]).clamp_(max=1.0)
        ctx.save_for_backward(x, w_enc, z, active)
        return z, x_hat

    @staticmethod
    def backward(ctx: Any, grad_z_ext: torch.Tensor | None, grad_x_hat: torch.Tensor | None) -> Any:
        x, w, z, active = ctx.saved_tensors
        grad_z = torch.zeros_like(z) if grad_z_ext is None else grad_z_ext.clone()
        grad_dec = None
        if grad_x_hat is not None:
            # Output step: identity. Decoder x_hat = W_b^T z, straight through to the continuous W:
            # dW = z^T g (rows of inactive units are 0), dz = g W^T.
            grad_dec = _rows_product(z, grad_x_hat, active)
            grad_z += grad_x_hat @ w.t()
        grad_pre, grad_b = gated_step_backward(grad_z, z)
        # Encoder pre = W_b x: dW = grad_pre^T x, non-zero only in the rows of active units.
        grad_enc = _rows_product(grad_pre, x, active)
        return None, grad_enc, grad_dec, grad_b, None


def _rows_product(a: torch.Tensor, b: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """``a^T b`` when the columns of ``a`` outside ``active`` are zero: only active rows are computed."""
    if 2 * len(active) > a.shape[1]:
        return a.t() @ b
    out = torch.zeros(a.shape[1], b.shape[1], dtype=b.dtype, device=b.device)
    out[active] = a[:, active].t() @ b
    return out


def binary_autoencode(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, w_b: torch.Tensor, w_dec: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the tied binarised autoencoder on a dense 0/1 batch.

    Parameters
    ----------
    x
        Dense 0/1 batch (batch x m).
    w
        Continuous weights (h x m), the parameter that receives the straight-through gradient.
    b
        Continuous hidden bias (h), kept <= -1.
    w_b
        A Bernoulli draw of ``w`` from :func:`sample_weights`, used by encoder and decoder alike.
    w_dec
        A second tensor sharing ``w``'s storage that receives the decoder part of the gradient
        instead of ``w`` (for the double update); ``None``: ``w`` receives both parts.

    Returns
    -------
    z
        Binary hidden activations (batch x h): which patterns fire.
    x_hat
        Binary reconstruction (batch x m).
    """
    return BinaryAutoencoderFunction.apply(x, w, w if w_dec is None else w_dec, b, w_b)


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


def class_head_logits(z: torch.Tensor, w_c: torch.Tensor) -> torch.Tensor:
    """Logits of the DiffNaps classification head: ``z W_C^T`` with ``W_C`` in [0, 1], no bias.

    Parameters
    ----------
    z
        Binary pattern activations (batch x h).
    w_c
        Non-negative class weights (K x h): a pattern can only add evidence for a class.

    Returns
    -------
    Logits (batch x K).
    """
    return z @ w_c.t()


def clamp_(w: torch.Tensor, b: torch.Tensor, w_c: torch.Tensor | None = None) -> None:
    """The clamp hooks after each optimiser step: ``W`` in [1/m, 1], ``b <= -1``, ``W_C`` in [0, 1].

    With ``m`` Bernoulli(1/m) draws per row, the floor 1/m keeps about one active weight per neuron
    in expectation, so no neuron dies.

    Parameters
    ----------
    w
        Encoder/decoder weights (h x m), modified in place.
    b
        Hidden bias, modified in place.
    w_c
        Classifier weights, modified in place when given.
    """
    with torch.no_grad():
        w.clamp_(1.0 / w.shape[1], 1.0)
        b.clamp_(max=-1.0)
        if w_c is not None:
            w_c.clamp_(0.0, 1.0)


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

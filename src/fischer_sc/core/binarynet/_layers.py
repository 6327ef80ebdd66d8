"""Binarised layers for BinaPs and DiffNaps: Bernoulli weights, the tied autoencoder with straight-through gradients.

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

The losses and regularisers are in ``_losses.py``. This module imports torch; ``fischer_sc.core`` does
not import it eagerly.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = [
    "BinaryAutoencoderFunction",
    "binary_autoencode",
    "clamp_",
    "class_head_logits",
    "gated_step",
    "gated_step_backward",
    "integer_bias",
    "sample_weights",
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

"""The straight-through top-k of edge-popup supermasks (Ramanujan et al., arXiv 1911.13299)."""

from __future__ import annotations

from typing import Any

import torch

from ._masks import check_density, topk_mask

__all__ = ["StraightThroughTopK", "straight_through_topk"]


class StraightThroughTopK(torch.autograd.Function):
    """Forward: the exact top-k mask of ``scores`` (as ``scores``' dtype); backward: the identity.

    The gradient of the loss with respect to the mask is passed unchanged to the scores,
    ``dL/ds := dL/dM``, so scores of pruned entries keep learning and can re-enter the mask.
    """

    @staticmethod
    def forward(ctx: Any, scores: torch.Tensor, density: float) -> torch.Tensor:
        """The top-k mask of ``scores`` as 0/1 in their dtype."""
        return topk_mask(scores, density).to(scores.dtype)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        """The identity to the scores; no gradient for ``density``."""
        return grad_output, None


def straight_through_topk(scores: torch.Tensor, density: float) -> torch.Tensor:
    """Top-k mask of ``scores`` with a straight-through gradient (see :class:`~fischer_sc.core.pruning.StraightThroughTopK`).

    Parameters
    ----------
    scores
        Trainable scores, any shape. Pass ``scores.abs()`` for edge-popup's ``|s|`` ranking.
        For a joint mask over several tensors (weights and bias), concatenate their flattened
        scores first and split the result; the gradient flows through ``cat``.
    density
        Kept fraction in (0, 1].

    Returns
    -------
    A 0/1 tensor of ``scores``' dtype and shape with exactly ``max(1, round(density * numel))`` ones.
    """
    check_density(density)
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point():
        msg = "scores must be a floating-point torch.Tensor (the straight-through gradient needs one)."
        raise TypeError(msg)
    return StraightThroughTopK.apply(scores, density)

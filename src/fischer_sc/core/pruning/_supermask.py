"""Supermask layers for strong tickets: frozen weights, trainable scores, a straight-through top-k mask."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from ._masks import check_density, topk_mask
from ._straight_through import straight_through_topk

__all__ = ["SupermaskLinear"]

BiasScores = Literal["separate", "joint"] | None


class SupermaskLinear(nn.Module):
    """A linear layer ``y = x (W * M_W)^T + b * M_b`` whose masks come from trainable scores (edge-popup).

    ``W`` and ``b`` are frozen buffers; the scores are the only parameters. The mask keeps the top
    ``density`` of the scores' ranking values (``|s|``, or ``s`` itself with ``clamp_nonneg``); the
    gradient reaches the scores straight through the top-k
    (:func:`~fischer_sc.core.pruning.straight_through_topk`).

    Parameters
    ----------
    weight
        (out_features, in_features), as in ``nn.Linear``.
    bias
        (out_features,) or ``None``.
    density
        Kept fraction in (0, 1]; may be changed between steps (annealing).
    bias_scores
        ``"separate"``: the bias gets its own top-k at ``density``; ``"joint"``: one top-k over weights
        and bias together; ``None``: the bias is not masked.
    clamp_nonneg
        Rank by ``s`` instead of ``|s|``, for optimisers that clamp the scores at 0 after each step
        (``clamp_scores``): ``|s|`` at 0 would have zero gradient and never move again. Scores then
        start positive.
    generator
        Seed source of the score initialisation: weight scores U(+-1/sqrt(fan_in)) (Kaiming-uniform with
        a = sqrt 5); bias scores U(+-sqrt(6/fan_in)) when separate, U(+-1/sqrt(fan_in)) when joint (so the
        first joint top-k weighs weights and biases alike); never all zero (bias scores at 0 would be stuck).
    """

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor | None = None,
        *,
        density: float,
        bias_scores: BiasScores = "separate",
        clamp_nonneg: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if weight.ndim != 2:
            msg = f"weight must be (out_features, in_features), got shape {tuple(weight.shape)}."
            raise ValueError(msg)
        if bias_scores not in ("separate", "joint", None):
            msg = f"bias_scores={bias_scores!r} is unknown; choose 'separate', 'joint' or None."
            raise ValueError(msg)
        if bias is not None and tuple(bias.shape) != (weight.shape[0],):
            msg = f"bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}."
            raise ValueError(msg)
        self.density = check_density(density)
        self.bias_scores = bias_scores if bias is not None else None
        self.clamp_nonneg = bool(clamp_nonneg)
        self.register_buffer("weight", weight.detach().clone())
        self.register_buffer("bias", None if bias is None else bias.detach().clone())
        fan_in = weight.shape[1]
        dtype = weight.dtype
        bound_w = 1.0 / math.sqrt(fan_in)
        sw = (torch.rand(weight.shape, generator=generator, dtype=dtype) * 2 - 1) * bound_w
        self.weight_scores = nn.Parameter(sw.abs() if clamp_nonneg else sw)
        if self.bias_scores is not None:
            # Separate: U(+-sqrt(6/fan_in)) as the non-zero-bias reference. Joint: the weights' scale, so
            # the first joint top-k does not take only biases (at fan-in 2 the reference's scale is 2.4x the
            # weights' and the initial mask of the first layer is all biases: a dead layer).
            bound_b = math.sqrt(6.0 / fan_in) if bias_scores == "separate" else bound_w
            sb = (torch.rand(weight.shape[0], generator=generator, dtype=dtype) * 2 - 1) * bound_b
            self.bias_scores_param = nn.Parameter(sb.abs() if clamp_nonneg else sb)
        else:
            self.register_parameter("bias_scores_param", None)

    @property
    def in_features(self) -> int:
        """Inputs."""
        return self.weight.shape[1]

    @property
    def out_features(self) -> int:
        """Outputs."""
        return self.weight.shape[0]

    def _rank(self, s: torch.Tensor) -> torch.Tensor:
        return s if self.clamp_nonneg else s.abs()

    def masks(self, *, straight_through: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The current weight and bias masks (bool; float with a straight-through gradient if asked)."""
        rw = self._rank(self.weight_scores)
        pick = straight_through_topk if straight_through else topk_mask
        if self.bias_scores is None:
            return pick(rw, self.density), None
        rb = self._rank(self.bias_scores_param)
        if self.bias_scores == "separate":
            return pick(rw, self.density), pick(rb, self.density)
        joint = pick(torch.cat([rw.reshape(-1), rb]), self.density)
        return joint[: rw.numel()].reshape(rw.shape), joint[rw.numel() :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (W * M_W)^T + b * M_b`` with the current masks; gradients reach the scores straight through."""
        mw, mb = self.masks(straight_through=True)
        if self.bias is None:
            return nn.functional.linear(x, self.weight * mw)
        bias = self.bias if mb is None else self.bias * mb
        return nn.functional.linear(x, self.weight * mw, bias)

    @torch.no_grad()
    def clamp_scores(self) -> None:
        """Clamp the scores at 0 (after an optimiser step, with ``clamp_nonneg``)."""
        self.weight_scores.clamp_(min=0.0)
        if self.bias_scores_param is not None:
            self.bias_scores_param.clamp_(min=0.0)

    def extra_repr(self) -> str:
        """Sizes, density and bias-score mode, for ``print(model)``."""
        return f"in_features={self.in_features}, out_features={self.out_features}, density={self.density:.4g}, bias_scores={self.bias_scores!r}"

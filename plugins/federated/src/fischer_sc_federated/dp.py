"""Client-side differential privacy of a round's update: clip to norm S, add Gaussian noise.

Kamp, Fischer, Vreeken (arXiv 2110.03469) privatise every update before it leaves a client. The textbook
Gaussian mechanism adds noise of standard deviation ``noise_multiplier * clip``. The authors' code passes
``noise_multiplier**2 * clip**2`` as the standard deviation instead (4e-4 rather than 0.02 at their defaults
sigma = 0.01, S = 2); ``mode="reference"`` reproduces that, for comparison only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch


@dataclass(frozen=True)
class DPConfig:
    """Settings of the client-side Gaussian mechanism.

    Parameters
    ----------
    clip
        Clip norm ``S`` of a round's update, over all floating-point parameters together.
    noise_multiplier
        ``sigma``; the noise standard deviation is ``sigma * S`` (textbook) or ``sigma**2 * S**2`` (reference).
    mode
        ``"textbook"`` (default) or ``"reference"`` (the authors' code, not a valid Gaussian mechanism).
    """

    clip: float = 2.0
    noise_multiplier: float = 0.01
    mode: Literal["textbook", "reference"] = "textbook"

    def __post_init__(self) -> None:
        if not (self.clip > 0 and self.clip < float("inf")):
            msg = f"dp clip must be a finite number > 0, got {self.clip!r}."
            raise ValueError(msg)
        if not (self.noise_multiplier >= 0 and self.noise_multiplier < float("inf")):
            msg = f"dp noise_multiplier must be a finite number >= 0, got {self.noise_multiplier!r}."
            raise ValueError(msg)
        if self.mode not in ("textbook", "reference"):
            msg = f"dp mode must be 'textbook' or 'reference', got {self.mode!r}."
            raise ValueError(msg)

    @property
    def noise_std(self) -> float:
        """Standard deviation of the noise added to every coordinate."""
        if self.mode == "reference":
            return self.noise_multiplier**2 * self.clip**2
        return self.noise_multiplier * self.clip


def as_dp_config(dp: DPConfig | dict | None) -> DPConfig | None:
    """Accept ``None``, a :class:`DPConfig` or a dict of its fields."""
    if dp is None or isinstance(dp, DPConfig):
        return dp
    if isinstance(dp, dict):
        unknown = set(dp) - {"clip", "noise_multiplier", "mode"}
        if unknown:
            msg = f"dp has unknown keys {sorted(unknown)}; use clip, noise_multiplier and mode."
            raise ValueError(msg)
        return DPConfig(**dp)
    msg = f"dp must be None, a DPConfig or a dict, got {type(dp).__name__}."
    raise TypeError(msg)


def clip_and_noise(
    update: list[torch.Tensor], dp: DPConfig, generator: torch.Generator | None = None, *, batched: bool = False
) -> list[torch.Tensor]:
    """Clip ``update`` to global L2 norm ``dp.clip`` and add Gaussian noise of std ``dp.noise_std``.

    Parameters
    ----------
    update
        The parameter-wise update ``h_new - h_old`` (floating-point tensors).
    dp
        The mechanism's settings.
    generator
        Random stream of the noise.
    batched
        The tensors carry a leading client axis ``m``; each client's update is clipped on its own norm.

    Returns
    -------
    The privatised update, ``u / max(1, ||u|| / S) + N(0, std^2)``.
    """
    # Squared global norm, per client when batched.
    sq = sum(u.pow(2).flatten(1).sum(1) if batched else u.pow(2).sum() for u in update)
    scale = 1.0 / torch.clamp(sq.sqrt() / dp.clip, min=1.0)
    out = []
    for u in update:
        s = scale.reshape((-1,) + (1,) * (u.ndim - 1)) if batched else scale
        v = u * s
        if dp.noise_std > 0:
            v = v + dp.noise_std * torch.randn(u.shape, generator=generator, dtype=u.dtype, device=u.device)
        out.append(v)
    return out

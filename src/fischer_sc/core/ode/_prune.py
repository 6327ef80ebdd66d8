"""Iterative pruning of a :class:`~fischer_sc.core.ode.Phoenix` model: DASH, magnitude (IMP) or prior-only scores, exact per-layer counts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from fischer_sc.core.pruning import dash_first_scores, dash_magnitude, dash_output_scores, score_masks

from ._phoenix import LAYERS, Phoenix

PRUNING_MODES = ("dash", "magnitude", "prior", "none")
# Each output layer's best guess uses the score of the first layer feeding it.
_FIRST_OF = {"A_s": "W_s", "A_p": "W_p"}


@dataclass(frozen=True, slots=True)
class PruningSchedule:
    """When and how much to prune: DASH's schedule, with a target where it stops.

    The first event (after epoch ``start``) removes the fraction ``first`` of every layer; each later
    event, every ``every`` epochs, removes ``step`` of what is left; the event that would pass
    ``target_sparsity`` is trimmed to it, and pruning stops there. Counts are exact per layer
    (``round(density * size)`` weights kept).
    """

    start: int = 3
    first: float = 0.7
    step: float = 0.1
    every: int = 10
    target_sparsity: float = 0.95

    def densities(self) -> list[float]:
        """Kept fraction of every layer after each event; the last is ``1 - target_sparsity``."""
        final = 1.0 - self.target_sparsity
        out, density = [], 1.0 - self.first
        while density > final * (1.0 + 1e-12):
            out.append(density)
            density *= 1.0 - self.step
            if self.step <= 0:
                break
        out.append(final)
        return out if out[0] >= final else [final]

    def epochs(self) -> list[int]:
        """Epochs (1-based) after which each event happens."""
        return [self.start + k * self.every for k in range(len(self.densities()))]


class PhoenixPruner:
    """Scores the four layers of a :class:`~fischer_sc.core.ode.Phoenix` model and shrinks their masks at each event.

    Parameters
    ----------
    model
        The model; its ``<layer>_mask`` buffers are updated in place.
    mode
        ``"dash"``, ``"magnitude"`` (IMP: lambda 0), ``"prior"`` (prior term only: lambda 1) or ``"none"``.
    motif, ppi
        G x G priors (regulator x target; gene x gene); needed for ``"dash"`` and ``"prior"``.
    lambda_ppi, lambda_motif
        Share of the prior term in the first and output layers' scores.
    normalize
        Normalise the prior term to sum 1 before mixing.
    generator
        Source of the initial scores ``S ~ U(0, 1)``.
    adapt_prior
        At the first event, replace the motif prior by ``adapted_prior`` of it and the model's own
        network (and the default PPI by the one of that network): each target keeps the prior in
        the share the trained model agrees with it, and the data's evidence in the rest.
    """

    def __init__(
        self,
        model: Phoenix,
        mode: str,
        *,
        motif: torch.Tensor | None = None,
        ppi: torch.Tensor | None = None,
        lambda_ppi: float = 0.05,
        lambda_motif: float = 0.01,
        normalize: bool = True,
        generator: torch.Generator | None = None,
        adapt_prior: bool = False,
    ) -> None:
        if mode not in PRUNING_MODES:
            msg = f"pruning must be one of {', '.join(map(repr, PRUNING_MODES))}, got {mode!r}."
            raise ValueError(msg)
        if mode in ("dash", "prior") and motif is None:
            msg = f"pruning={mode!r} needs a prior network; pass prior=... or use pruning='magnitude'."
            raise ValueError(msg)
        self.model, self.mode = model, mode
        self.lambdas = {"first": lambda_ppi, "output": lambda_motif}
        if mode == "magnitude":
            self.lambdas = {"first": 0.0, "output": 0.0}
        elif mode == "prior":
            self.lambdas = {"first": 1.0, "output": 1.0}
        self.normalize = normalize
        if motif is not None:
            motif = motif.detach().to(torch.float64).cpu()
            if ppi is None:
                ppi = default_ppi(motif)
        self.motif = motif
        self.ppi = None if ppi is None else ppi.detach().to(torch.float64).cpu()
        self.adapt_prior, self._own_ppi = bool(adapt_prior) and motif is not None, ppi is None
        self.previous = {
            name: torch.rand(getattr(model, name).weight.shape, generator=generator, dtype=torch.float64)
            for name, _ in LAYERS
        }

    def scores(self) -> dict[str, torch.Tensor]:
        """The current score of every layer (float64, CPU); pruned weights score 0."""
        m = self.model
        rate = torch.relu(m.upsilon).detach().cpu()
        out: dict[str, torch.Tensor] = {}
        for name, kind in LAYERS:  # first layers come first: output layers use their new scores
            mask = getattr(m, f"{name}_mask").detach().cpu()
            w = getattr(m, name).weight.detach().cpu()
            if kind == "first":
                mag = dash_magnitude(w, kind="exp" if name == "W_p" else "abs", mask=mask)
            else:
                mag = dash_magnitude(w, row_scale=rate, mask=mask)
            lam = self.lambdas[kind]
            if lam == 0.0:
                score = mag
            elif kind == "first":
                score = dash_first_scores(
                    mag, self.previous[name], self.ppi, lambda_ppi=lam, normalize=self.normalize, mask=mask
                )
            else:
                score = dash_output_scores(
                    mag, out[_FIRST_OF[name]], self.motif, lambda_motif=lam, normalize=self.normalize, mask=mask
                )
            out[name] = score
        return out

    @torch.no_grad()
    def prune(self, density: float) -> dict[str, torch.Tensor]:
        """Shrink every layer's mask to keep exactly ``round(density * size)`` weights; returns the scores used."""
        if self.adapt_prior:  # once, on the model trained on the data before any weight is removed
            self.motif = adapted_prior(self.motif, self.model.effects().detach().cpu())
            if self._own_ppi:
                self.ppi = default_ppi(self.motif)
            self.adapt_prior = False
        scores = self.scores()
        for name, _ in LAYERS:
            mask = getattr(self.model, f"{name}_mask")
            # Already pruned weights score -1 (all live scores are >= 0), so they are never revived.
            ranked = torch.where(mask.cpu() > 0, scores[name], torch.full_like(scores[name], -1.0))
            (keep,) = score_masks([ranked], density, scope="layer")
            mask.copy_(keep.to(mask.dtype))
            getattr(self.model, name).weight.mul_(mask)
            self.previous[name] = scores[name] * keep
        return scores


def default_ppi(motif: torch.Tensor) -> torch.Tensor:
    """``Q = |P| |P|^T / sum(.)``: regulators that share targets (DASH's simulation PPI)."""
    a = motif.abs().to(torch.float64)
    q = a @ a.T
    total = float(q.sum())
    return q / total if total > 0 and math.isfinite(total) else q


def adapted_prior(motif: torch.Tensor, effects: torch.Tensor) -> torch.Tensor:
    """The prior each target keeps in the share the data agree with it; the data's own evidence fills the rest.

    With ``s`` the model's per-target edge score ``|E_ij| / sum_i |E_ij|`` and ``p`` the prior's
    ``|P_ij| / sum_i |P_ij|``, target ``j`` gets ``a_j p_.j + (1 - a_j) s_.j`` where
    ``a_j = sum_{i: P_ij != 0} s_ij`` is the share of the model's evidence that falls on the
    prior's edges of ``j``. A target without prior edges keeps the data alone, a target whose
    effects are all zero keeps the prior alone; every column with a prior edge or a non-zero
    effect sums to 1 (a column with neither stays 0).
    """
    if motif.shape != effects.shape or motif.ndim != 2:
        msg = f"motif and effects must be square matrices of one shape, got {tuple(motif.shape)} and {tuple(effects.shape)}."
        raise ValueError(msg)
    tiny = torch.finfo(torch.float64).tiny
    p = motif.detach().abs().to(torch.float64).cpu()
    e = effects.detach().abs().to(torch.float64).cpu()
    e_sum = e.sum(dim=0, keepdim=True)
    s = e / e_sum.clamp_min(tiny)
    p_norm = p / p.sum(dim=0, keepdim=True).clamp_min(tiny)
    agree = (s * (p > 0)).sum(dim=0, keepdim=True)
    agree = torch.where(e_sum > 0, agree, torch.ones_like(agree))  # no evidence from the data: keep the prior
    return agree * p_norm + (1.0 - agree) * s

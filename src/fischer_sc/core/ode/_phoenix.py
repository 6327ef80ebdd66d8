"""The PHOENIX vector field: additive and multiplicative (Hill-like) branches with gene-wise decay rates.

State ``x`` in R^G, hidden width H, shifted softsign ``sigma(x) = (x - 1/2) / (1 + |x - 1/2|)``::

    h_s = W_s sigma(x) + b_s                      # additive branch
    h_p = exp(W_p log(1 + sigma(x)) + b_p)        # multiplicative branch: e^b_p prod_j (1 + sigma_j)^W_p[., j]
    f(x) = A_s h_s + A_p h_p
    dx/dt = ReLU(upsilon) * (f(x) - x)

Weights are stored in ``torch.nn.Linear`` layers (``weight`` is out x in, as in the equations) so
that ``torch.nn.utils.prune`` and the masks of :mod:`fischer_sc.core.pruning` apply unchanged; a
pruned weight is a weight times a fixed 0/1 buffer ``<layer>_mask``.
"""

from __future__ import annotations

import torch
from torch import nn

# The four prunable layers, in the order of the equations: (name, kind) with kind "first" (H x G)
# or "output" (G x H).
LAYERS: tuple[tuple[str, str], ...] = (("W_s", "first"), ("W_p", "first"), ("A_s", "output"), ("A_p", "output"))


def shifted_softsign(x: torch.Tensor) -> torch.Tensor:
    """``(x - 1/2) / (1 + |x - 1/2|)``: centred at 1/2 because expression is scaled to [0, 1]."""
    z = x - 0.5
    return z / (1.0 + z.abs())


class Phoenix(nn.Module):
    """PHOENIX neural ODE vector field for ``n_genes`` genes and ``hidden_dim`` hidden units.

    Parameters
    ----------
    n_genes
        Number of genes G.
    hidden_dim
        Hidden width H.
    generator
        Source of the random initialisation (``None``: torch's global generator).
    init_density
        Fraction of non-zero entries of ``W_s`` and ``W_p`` at initialisation (PHOENIX: 5 %).
    init_std
        Standard deviation of those non-zero entries.
    """

    def __init__(
        self,
        n_genes: int,
        hidden_dim: int = 40,
        *,
        generator: torch.Generator | None = None,
        init_density: float = 0.05,
        init_std: float = 0.05,
    ) -> None:
        super().__init__()
        self.n_genes, self.hidden_dim = int(n_genes), int(hidden_dim)
        self.W_s = nn.Linear(n_genes, hidden_dim, bias=True)
        self.W_p = nn.Linear(n_genes, hidden_dim, bias=True)
        self.A_s = nn.Linear(hidden_dim, n_genes, bias=False)
        self.A_p = nn.Linear(hidden_dim, n_genes, bias=False)
        self.upsilon = nn.Parameter(torch.empty(n_genes))
        for name, _ in LAYERS:
            self.register_buffer(f"{name}_mask", torch.ones_like(getattr(self, name).weight))
        self.reset_parameters(generator, init_density=init_density, init_std=init_std)

    @torch.no_grad()
    def reset_parameters(
        self, generator: torch.Generator | None = None, *, init_density: float = 0.05, init_std: float = 0.05
    ) -> None:
        """PHOENIX's initialisation: sparse first layers, orthogonal output layers, rates ~ U(0, 1)."""
        for name in ("W_s", "W_p"):
            layer = getattr(self, name)
            w = torch.randn(layer.weight.shape, generator=generator) * init_std
            keep = torch.rand(layer.weight.shape, generator=generator) < init_density
            layer.weight.copy_(w * keep)
            layer.bias.zero_()
        for name in ("A_s", "A_p"):
            getattr(self, name).weight.copy_(_orthogonal(getattr(self, name).weight.shape, generator))
        self.upsilon.copy_(torch.rand(self.n_genes, generator=generator))

    def weight(self, name: str) -> torch.Tensor:
        """The effective (masked) weight of layer ``name``."""
        return getattr(self, name).weight * getattr(self, f"{name}_mask")

    def branches(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x) = A_s h_s + A_p h_p``: the branch combination without the decay wrapper."""
        s = shifted_softsign(x)
        h_s = nn.functional.linear(s, self.weight("W_s"), self.W_s.bias)
        h_p = torch.exp(nn.functional.linear(torch.log1p(s), self.weight("W_p"), self.W_p.bias))
        return nn.functional.linear(h_s, self.weight("A_s")) + nn.functional.linear(h_p, self.weight("A_p"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``dx/dt = ReLU(upsilon) * (f(x) - x)`` for a batch ``(B, G)``."""
        return torch.relu(self.upsilon) * (self.branches(x) - x)

    @torch.no_grad()
    def effects(self) -> torch.Tensor:
        """The G x G network ``E = (W_s^T A_s^T + W_p^T A_p^T) * ReLU(upsilon)^T``: row = regulator, column = target.

        It sums the path weights through the hidden units; it summarises the nonlinear model and is
        not its Jacobian (the sign of an entry can differ from the local effect).
        """
        paths = self.weight("W_s").T @ self.weight("A_s").T + self.weight("W_p").T @ self.weight("A_p").T
        return paths * torch.relu(self.upsilon)[None, :]

    @torch.no_grad()
    def sparsity(self) -> float:
        """Fraction of masked weights among ``W_s``, ``W_p``, ``A_s`` and ``A_p``."""
        masks = [getattr(self, f"{name}_mask") for name, _ in LAYERS]
        return 1.0 - float(sum(m.sum() for m in masks)) / sum(m.numel() for m in masks)


def _orthogonal(shape: torch.Size, generator: torch.Generator | None) -> torch.Tensor:
    """A (semi-)orthogonal matrix of ``shape`` with gain 1, from the QR factors of a Gaussian matrix."""
    rows, cols = shape
    a = torch.randn(max(rows, cols), min(rows, cols), generator=generator)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r))[None, :]  # unique factorisation: Haar-distributed q
    return q if rows >= cols else q.T

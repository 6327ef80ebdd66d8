"""Fixed-step Euler/RK4 integrators in torch, batched over trajectories, and an optional torchdiffeq adaptor.

Every system here is autonomous (dx/dt = f(x)), so an interval of length ``dt`` starting at ``x0``
can be integrated without knowing the absolute time. That lets a batch of intervals of *different*
lengths share one integration: each row takes ``n_substeps`` steps of its own size ``dt / n_substeps``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

VectorField = Callable[[torch.Tensor], torch.Tensor]

SOLVERS = ("rk4", "euler", "dopri5")


def euler_step(func: VectorField, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """One explicit Euler step ``x + h f(x)``; ``h`` broadcasts against ``x`` (one size per row)."""
    return x + h * func(x)


def rk4_step(func: VectorField, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """One classical Runge-Kutta step of order 4; ``h`` broadcasts against ``x`` (one size per row)."""
    k1 = func(x)
    k2 = func(x + 0.5 * h * k1)
    k3 = func(x + 0.5 * h * k2)
    k4 = func(x + h * k3)
    return x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


_STEPS = {"rk4": rk4_step, "euler": euler_step}


def _check_method(method: str) -> None:
    if method not in SOLVERS:
        msg = f"solver must be one of {', '.join(map(repr, SOLVERS))}, got {method!r}."
        raise ValueError(msg)


def integrate_intervals(
    func: VectorField,
    x0: torch.Tensor,
    dt: torch.Tensor,
    *,
    method: str = "rk4",
    n_substeps: int = 4,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> torch.Tensor:
    """Integrate an autonomous ODE from each row of ``x0`` over its own interval length.

    Parameters
    ----------
    func
        The vector field ``f``, mapping a batch ``(B, G)`` to its time derivative ``(B, G)``.
    x0
        Start states, ``(B, G)``.
    dt
        Interval lengths, ``(B,)``, non-negative.
    method
        ``"rk4"`` or ``"euler"`` (fixed steps, differentiated by plain autograd), or ``"dopri5"``
        (adaptive, adjoint gradients; needs the optional ``torchdiffeq``).
    n_substeps
        Fixed steps per interval (ignored by ``"dopri5"``).
    rtol, atol
        Tolerances of ``"dopri5"``.

    Returns
    -------
    The states at the ends of the intervals, ``(B, G)``.
    """
    _check_method(method)
    h = dt.reshape(-1, *([1] * (x0.dim() - 1))).to(x0.dtype)
    if method == "dopri5":
        return _dopri5_intervals(func, x0, h, rtol=rtol, atol=atol)
    step = _STEPS[method]
    h = h / n_substeps
    x = x0
    for _ in range(n_substeps):
        x = step(func, x, h)
    return x


def odeint_grid(
    func: VectorField,
    x0: torch.Tensor,
    t: torch.Tensor,
    *,
    method: str = "rk4",
    n_substeps: int = 4,
) -> torch.Tensor:
    """States on a shared time grid: ``(len(t), *x0.shape)``, the first entry being ``x0`` at ``t[0]``.

    Each interval ``t[k] -> t[k+1]`` is integrated with ``n_substeps`` fixed steps.
    """
    _check_method(method)
    if t.dim() != 1 or t.numel() < 1 or bool((t[1:] < t[:-1]).any()):
        msg = "t must be a non-empty, non-decreasing 1-D tensor of times."
        raise ValueError(msg)
    out = [x0]
    x = x0 if x0.dim() > 1 else x0[None]
    for k in range(t.numel() - 1):
        x = integrate_intervals(func, x, (t[k + 1] - t[k]).expand(x.shape[0]), method=method, n_substeps=n_substeps)
        out.append(x if x0.dim() > 1 else x[0])
    return torch.stack(out)


def _dopri5_intervals(
    func: VectorField, x0: torch.Tensor, h: torch.Tensor, *, rtol: float, atol: float
) -> torch.Tensor:
    """Adaptive dopri5 with the adjoint method, through the optional ``torchdiffeq``.

    The intervals of different lengths become one problem on s in [0, 1] by the change of time
    ``t = s * dt`` per row: dx/ds = dt * f(x) (allowed because f does not depend on t).
    """
    try:
        from torchdiffeq import odeint_adjoint
    except ImportError as e:
        msg = "solver='dopri5' needs torchdiffeq: pip install torchdiffeq (or use solver='rk4')."
        raise ImportError(msg) from e

    params = tuple(p for p in getattr(func, "parameters", lambda: ())() if p.requires_grad)

    class _Scaled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = func

        def forward(self, s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return h * self.inner(x)

    s = torch.tensor([0.0, 1.0], dtype=x0.dtype, device=x0.device)
    return odeint_adjoint(_Scaled(), x0, s, rtol=rtol, atol=atol, method="dopri5", adjoint_params=params)[-1]

"""numba kernels of the binary layers: the W-shaped regulariser's value and gradient in one pass.

Written out because the torch expression takes about a dozen passes over the h x m weights forward
and as many backward, which at 10^5 features costs as much as the matrix products of a step.
"""

from __future__ import annotations

import numba
import numpy as np

from fischer_sc.core._numba import njit


@njit(parallel=True)
def w_shaped_value_grad(w: np.ndarray, shift: float, kappa: float, lam: float, grad: np.ndarray) -> float:
    """Sum of ``min(kappa |v| + lam v^2, kappa |v - 1| + lam (v - 1)^2)`` over ``v = w - shift``.

    Writes the derivative of each term into ``grad`` (same flat shape as ``w``); at ties the branch
    towards 0 is taken, as ``torch.minimum`` does for its first argument.
    """
    n = w.shape[0]
    total = 0.0
    for i in numba.prange(n):
        v = w[i] - shift
        u = v - 1.0
        a = kappa * abs(v) + lam * v * v
        b = kappa * abs(u) + lam * u * u
        if a <= b:
            total += a
            grad[i] = kappa * np.sign(v) + 2.0 * lam * v
        else:
            total += b
            grad[i] = kappa * np.sign(u) + 2.0 * lam * u
    return total


def w_shaped_value_grad_reference(w: np.ndarray, shift: float, kappa: float, lam: float) -> tuple[float, np.ndarray]:
    """The same in plain numpy, for tests."""
    v = w.astype(np.float64) - shift
    u = v - 1.0
    a = kappa * np.abs(v) + lam * v * v
    b = kappa * np.abs(u) + lam * u * u
    to_zero = a <= b
    grad = np.where(to_zero, kappa * np.sign(v) + 2 * lam * v, kappa * np.sign(u) + 2 * lam * u)
    return float(np.where(to_zero, a, b).sum()), grad

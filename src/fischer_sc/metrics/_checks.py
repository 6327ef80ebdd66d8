"""Input checks shared by the measures: errors name the argument and the fix."""

from __future__ import annotations

import numbers

import numpy as np


def check_pair(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as finite float64 2-D arrays with the same number of rows (at least 3)."""
    out = []
    for name, a in (("X", X), ("Y", Y)):
        a = np.asarray(a, dtype=np.float64)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2:
            msg = f"{name} must be a 2-D array (n_obs, n_dims), got shape {a.shape}."
            raise ValueError(msg)
        if not np.isfinite(a).all():
            msg = f"{name} contains NaN or infinite values; remove or impute them first."
            raise ValueError(msg)
        out.append(a)
    x, y = out
    if x.shape[0] != y.shape[0]:
        msg = f"X has {x.shape[0]} rows but Y has {y.shape[0]}; pass the data and its embedding for the same points."
        raise ValueError(msg)
    if x.shape[0] < 3:
        msg = f"at least 3 points are needed, got {x.shape[0]}."
        raise ValueError(msg)
    return x, y


def check_k(k: int, n: int) -> int:
    """A neighbourhood size in [1, n - 1]."""
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 1 <= k <= n - 1:
        msg = f"k={k!r} must be an integer in [1, {n - 1}] for {n} points; lower k."
        raise ValueError(msg)
    return int(k)


def check_method(method: str) -> str:
    """``"pearson"`` or ``"spearman"``."""
    if method not in ("pearson", "spearman"):
        msg = f"method={method!r} is not 'pearson' or 'spearman'."
        raise ValueError(msg)
    return method

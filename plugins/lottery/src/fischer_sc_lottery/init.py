"""Initialisations with non-zero biases for strong-ticket search (Fischer, Gadhikar & Burkholz, arXiv 2110.11150).

All return ``(weights, biases)`` as float64 numpy lists, weights (fan_in, fan_out), for a ReLU MLP with
the given layer widths (input to output); build the torch model with ``mlp_from_arrays``. With
sigma_w,l = sqrt(2 / fan_in_l) (divided by sqrt(density) when ``scaled``), biases have
sigma_b,l = beta * prod_{j <= l} sigma_w,j.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from fischer_sc.core.pruning import check_density

__all__ = ["he_bias", "he_zero_bias", "looks_linear"]


def _check_widths(widths: Sequence[int]) -> list[int]:
    widths = [int(w) for w in widths]
    if len(widths) < 3 or min(widths) < 1:
        msg = f"widths={widths} must list >= 3 positive layer widths (input, hidden..., output): depth >= 3."
        raise ValueError(msg)
    return widths


def _weight_stds(widths: list[int], scaled: bool, density: float | None) -> np.ndarray:
    stds = np.sqrt(2.0 / np.asarray(widths[:-1], dtype=np.float64))
    if scaled:
        if density is None:
            msg = "scaled=True divides the weight scale by sqrt(density): pass density."
            raise ValueError(msg)
        stds = stds / np.sqrt(check_density(density))
    return stds


def he_bias(
    widths: Sequence[int],
    *,
    beta: float = 0.05,
    scaled: bool = False,
    density: float | None = None,
    random_state: int = 0,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """He-normal weights and biases b_l ~ N(0, sigma_b,l^2), sigma_b,l = beta * prod_{j<=l} sigma_w,j.

    Parameters
    ----------
    widths
        Layer widths, input to output (>= 3 entries).
    beta
        Bias scale (0.05 in the paper's tabular experiments); 0 gives :func:`he_zero_bias`.
    scaled
        Divide the weight scale by sqrt(density), so the expected pre-activation scale of a network
        pruned to ``density`` is that of the dense one.
    density
        The target density, needed when ``scaled``.
    random_state
        Seed.

    Returns
    -------
    ``(weights, biases)``: (fan_in, fan_out) float64 weight matrices and bias vectors.
    """
    widths = _check_widths(widths)
    if not np.isfinite(beta) or beta < 0:
        msg = f"beta={beta!r} must be a finite number >= 0."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    w_std = _weight_stds(widths, scaled, density)
    b_std = beta * np.cumprod(w_std)
    weights = [rng.normal(0.0, s, size=(a, b)) for s, a, b in zip(w_std, widths[:-1], widths[1:], strict=True)]
    biases = [rng.normal(0.0, s, size=b) if s > 0 else np.zeros(b) for s, b in zip(b_std, widths[1:], strict=True)]
    return weights, biases


def he_zero_bias(
    widths: Sequence[int], *, scaled: bool = False, density: float | None = None, random_state: int = 0
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The zero-bias baseline: He-normal weights, b = 0 (see :func:`he_bias`)."""
    return he_bias(widths, beta=0.0, scaled=scaled, density=density, random_state=random_state)


def _orthogonal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    # Orthonormal rows (rows <= cols) or columns (rows > cols), Haar-distributed via QR with sign fix.
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))[None, :]
    return q if rows >= cols else q.T


def looks_linear(
    widths: Sequence[int],
    *,
    bias: Literal["zero", "iid", "dependent"] = "zero",
    beta: float = 0.05,
    scaled: bool = False,
    density: float | None = None,
    random_state: int = 0,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Looks-linear initialisation (Balduzzi et al., arXiv 1702.08591) with optional non-zero biases.

    With an orthogonal block U per layer, the first layer is [U; -U], hidden layers [[U, -U], [-U, U]]
    and the last [U, -U] (in (out, in) orientation), each cropped to the layer's shape. Because
    relu(z) - relu(-z) = z, the network computes the linear map of the product of the U at
    initialisation (exactly when every hidden width is even).

    Parameters
    ----------
    widths
        Layer widths, input to output.
    bias
        ``"zero"``: b = 0. ``"iid"``: b = [c; -c] with c ~ N(0, sigma_b^2) (the network stays affine).
        ``"dependent"``: odd layers draw c and set [c; -c], even layers set [-U c_prev; U c_prev], which
        cancels the previous bias. Biases are cropped like the weights.
    beta
        Bias scale: sigma_b,l = beta * prod_{j<=l} sigma_w,j.
    scaled
        Multiply the weights by 1/sqrt(density).
    density
        Needed when ``scaled``.
    random_state
        Seed.

    Returns
    -------
    ``(weights, biases)``: (fan_in, fan_out) float64 weight matrices and bias vectors.
    """
    widths = _check_widths(widths)
    if bias not in ("zero", "iid", "dependent"):
        msg = f"bias={bias!r} is unknown; choose 'zero', 'iid' or 'dependent'."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    gain = 1.0 / np.sqrt(check_density(density)) if scaled else 1.0
    if scaled and density is None:
        msg = "scaled=True divides the weight scale by sqrt(density): pass density."
        raise ValueError(msg)
    b_std = beta * np.cumprod(np.sqrt(2.0 / np.asarray(widths[:-1], dtype=np.float64)) * gain)
    n_layers = len(widths) - 1
    weights, biases = [], []
    c_prev = None
    for ell in range(n_layers):
        n_in, n_out = widths[ell], widths[ell + 1]
        last = ell == n_layers - 1
        m_in = n_in if ell == 0 else (n_in + 1) // 2  # the linear signal's width before doubling
        m_out = n_out if last else (n_out + 1) // 2
        U = _orthogonal(m_out, m_in, rng) * gain
        block = U if ell == 0 else np.concatenate([U, -U], axis=1)  # reads [h+, h-]
        W = block if last else np.concatenate([block, -block], axis=0)
        W = W[:n_out, :n_in]
        if bias == "zero":
            half = np.zeros(m_out)
        elif bias == "iid" or ell % 2 == 0 or c_prev is None:  # layers 1, 3, ... (odd, 1-based) draw
            half = rng.normal(0.0, b_std[ell], size=m_out)
        else:
            half = -(U @ c_prev[:m_in])  # cancels the previous layer's bias in the linear signal
        b = half if last else np.concatenate([half, -half])
        weights.append(np.ascontiguousarray(W.T))
        biases.append(b[:n_out].copy())
        c_prev = half if (bias == "dependent" and ell % 2 == 0) else None
    return weights, biases

"""Spectral denoising: PCA scores of the rank chosen by the Marchenko-Pastur edge of a spiked model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import integrate, optimize

#: The automatic rank is clamped to this range (angles need at least a plane; 50 matches scanpy's PCs).
RANK_RANGE: tuple[int, int] = (2, 50)


@dataclass(frozen=True, slots=True)
class Denoised:
    """PCA scores of rank ``rank`` and how the rank was chosen.

    Attributes
    ----------
    scores
        The centred data in the basis of its top ``rank`` principal axes (n, rank), float32.
        Angles between difference vectors equal those of the rank-``rank`` reconstruction.
    rank
        The rank used.
    noise_variance
        The estimated noise variance per dimension (NaN when the rank was not chosen from the data).
    edge
        The Marchenko-Pastur edge that eigenvalues of the covariance had to exceed (NaN likewise).
    eigenvalues
        The leading eigenvalues of the sample covariance (at most 50).
    """

    scores: np.ndarray
    rank: int
    noise_variance: float
    edge: float
    eigenvalues: np.ndarray


@cache
def mp_median(beta: float) -> float:
    """Median of the Marchenko-Pastur law with aspect ratio ``beta`` in (0, 1] and unit variance."""
    lo, hi = (1 - np.sqrt(beta)) ** 2, (1 + np.sqrt(beta)) ** 2

    def density(x: float) -> float:
        return np.sqrt(max((hi - x) * (x - lo), 0.0)) / (2 * np.pi * beta * x)

    def cdf(x: float) -> float:
        return integrate.quad(density, lo, x, limit=200)[0]

    return float(optimize.brentq(lambda x: cdf(x) - 0.5, lo, hi, xtol=1e-10))


def mp_rank(eigenvalues: np.ndarray, n_obs: int, n_vars: int) -> tuple[int, float, float]:
    """The number of covariance eigenvalues above the Marchenko-Pastur edge, and the edge.

    With beta = min(n, D) / max(n, D) and the eigenvalues lambda of the sample covariance
    (X^T X / n), the noise variance is estimated robustly from the bulk as
    sigma^2 = median(lambda) * n / (max(n, D) * mu_beta), mu_beta the Marchenko-Pastur median
    (Gavish and Donoho's estimator); eigenvalues above sigma^2 (1 + sqrt(D / n))^2 are signal.
    Zero eigenvalues beyond min(n, D) are left out of the median.
    """
    lam = np.sort(np.asarray(eigenvalues, dtype=np.float64))[::-1][: min(n_obs, n_vars)]
    beta = min(n_obs, n_vars) / max(n_obs, n_vars)
    sigma2 = float(np.median(lam)) * n_obs / (max(n_obs, n_vars) * mp_median(beta))
    edge = sigma2 * (1 + np.sqrt(n_vars / n_obs)) ** 2
    return int((lam > edge).sum()), sigma2, float(edge)


def denoise(x: np.ndarray, rank: int | None = None) -> Denoised:
    """Centre ``x`` (n, D) and keep its top principal components.

    ``rank=None`` chooses the rank by :func:`~fischer_sc.core.sphere.mp_rank`, clamped to ``RANK_RANGE`` and to D; an
    integer keeps that many components. The spectrum comes from the smaller of the D x D
    covariance and the n x n Gram matrix, O(n D min(n, D)).
    """
    x = np.asarray(x, dtype=np.float64)
    n, d = x.shape
    xc = x - x.mean(axis=0)
    if d <= n:
        lam, vecs = np.linalg.eigh(xc.T @ xc / n)
        lam, vecs = lam[::-1], vecs[:, ::-1]
    else:
        lam, u = np.linalg.eigh(xc @ xc.T / n)
        lam, u = lam[::-1], u[:, ::-1]
        vecs = None
    lam = np.maximum(lam, 0.0)
    if rank is None:
        found, sigma2, edge = mp_rank(lam, n, d)
        rank = int(np.clip(found, *RANK_RANGE))
    else:
        sigma2 = edge = float("nan")
    rank = min(rank, d, n)
    if vecs is not None:
        v = vecs[:, :rank]
        v = v * np.sign(v[np.abs(v).argmax(axis=0), np.arange(rank)])  # reproducible signs
        scores = xc @ v
    else:
        scores = u[:, :rank] * np.sqrt(lam[:rank] * n)
        axes = xc.T @ u[:, :rank]
        scores = scores * np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(rank)])
    return Denoised(scores.astype(np.float32), int(rank), float(sigma2), float(edge), lam[:50].copy())

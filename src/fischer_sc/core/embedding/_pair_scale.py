"""Per-pair kernel scales: how two points' bandwidths combine into one (dtSNE's gamma_ij).

Each point i carries a bandwidth from perplexity calibration, beta_i = 1 / (2 sigma_i^2). A pair
scale combines the two bandwidths of a pair; it is used twice, with the same rule, in the
high-dimensional affinities (``beta_ij``) and in the low-dimensional kernel
``w_ij = 1 / (1 + gamma_ij ||y_i - y_j||^2)`` with ``gamma_ij = beta_ij / beta_ref``.

The rules are selected by name and passed to the numba kernels as a small integer code, so one
compiled kernel serves every rule (no closures that build numba functions on the fly).
"""

from __future__ import annotations

import math

import numpy as np

from fischer_sc.core._numba import njit

#: name -> code understood by :func:`pair_width`, :func:`pair_gamma` and :func:`pair_beta`.
PAIR_SCALES: dict[str | None, int] = {
    "mean": 0,  # sigma_ij = (sigma_i + sigma_j) / 2   (arithmetic mean of the radii)
    "geometric": 1,  # sigma_ij = sqrt(sigma_i * sigma_j)
    None: 2,  # gamma = 1, beta_ij = beta_i: plain t-SNE
}

#: Point scales s_i = sigma_i / sigma_ref are kept in [1/S_CLIP, S_CLIP]: near-duplicate cells
#: give sigma_i -> 0, which would make gamma explode for every pair
#: that touches them. 1e3 is far outside what real data produce (ratio of radii 1000).
S_CLIP = 1e3


def pair_scale_code(pair_scale: str | None) -> int:
    """The kernel code of a pair-scale name; unknown names raise a ``ValueError`` listing the options."""
    if pair_scale not in PAIR_SCALES:
        known = ", ".join(repr(k) for k in PAIR_SCALES)
        msg = f"pair_scale={pair_scale!r} is not one of {known}."
        raise ValueError(msg)
    return PAIR_SCALES[pair_scale]


#: Where the relative radii come from: ``"knn"`` the mean distance to the nearest neighbours,
#: ``"perplexity"`` the bandwidth of perplexity calibration (the dtSNE paper's choice).
RADII: tuple[str, ...] = ("knn", "perplexity")
#: Neighbours over which ``radius="knn"`` averages the distances.
RADIUS_NEIGHBOURS = 15


def point_scales(beta: np.ndarray, contrast: float | None = None) -> np.ndarray:
    """Relative radii s_i = sigma_i / sigma_ref from perplexity bandwidths, with beta_ref the median of ``beta``.

    Any constant beta_ref only rescales the embedding (w depends on gamma ||dy||^2), so we pick
    one that keeps gamma near 1 for typical pairs: the median is robust to duplicates, unlike the
    maximum used by the third-party reference code. ``contrast``: as in ``radius_scales``.
    """
    beta = np.asarray(beta, dtype=np.float64)
    return _amplified(0.5 * np.log(np.median(beta) / beta), contrast)


def knn_log_radii(distances: np.ndarray, k: int = RADIUS_NEIGHBOURS) -> np.ndarray:
    """Log of each point's mean distance to its ``k`` nearest neighbours (rows sorted, self excluded).

    Radii below 1 / ``S_CLIP`` of the median (duplicated cells) are raised to it, so that a
    few duplicates neither dominate the spread nor give log 0.
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] == 0:
        msg = f"distances must be a 2-D array with at least one neighbour per row, got shape {d.shape}."
        raise ValueError(msg)
    r = d[:, : max(1, min(k, d.shape[1]))].mean(axis=1)
    floor = np.median(r) / S_CLIP
    return np.log(np.maximum(r, floor if floor > 0 else np.finfo(np.float64).tiny))


def radius_scales(log_radii: np.ndarray, contrast: float | None = None) -> np.ndarray:
    """Relative radii s_i = r_i / median(r) from log radii (e.g. ``knn_log_radii``), amplified by ``contrast``.

    ``contrast`` (``None`` keeps the radii as they are) multiplies the log radii by
    alpha = max(1, contrast / sd(log s) - 1), i.e. raises the radii to that power: flat radii
    get a spread of contrast - sd, radii whose spread is half of ``contrast`` or more none. In D dimensions a point's
    radius scales as density^(-1/D): clusters of equal spread whose sizes differ four-fold differ
    by 3 % in radius in 50 dimensions, and the radii inside one Gaussian cluster by about 6 %
    (standard deviation of log r), while a 2-D t-SNE layout's own irregularity is about 30 % in
    radius. Carried over one to one, such radii cannot show above that noise; amplified (as
    preserving densities rather than radii would, with exponent D / 2), their order can. Data
    whose radii already vary by half of ``contrast`` or more (different spreads) are unchanged.
    """
    log_r = np.asarray(log_radii, dtype=np.float64)
    return _amplified(log_r - np.median(log_r), contrast)


def _amplified(log_s: np.ndarray, contrast: float | None) -> np.ndarray:
    """exp(alpha log_s), alpha = max(1, contrast / sd(log_s) - 1), clipped to [1/S_CLIP, S_CLIP].

    The amplified spread is contrast - sd: flat radii (sd much below ``contrast``) come out
    with a spread of about ``contrast``, and the amplification fades out continuously as the
    radii vary more, to none at sd = contrast / 2. Radii that vary by themselves (clusters of
    unequal spread: sd 0.57 for spreads 1 : 2 : 4) keep their ratios; amplifying them up to
    ``contrast`` as well turned spreads of 1 : 2 : 4 into 1 : 2.4 : 5.5.
    """
    if contrast is not None and contrast > 0:
        sd = float(log_s.std())
        if sd > 0:
            log_s = log_s * max(1.0, contrast / sd - 1.0)
    return np.clip(np.exp(log_s), 1.0 / S_CLIP, S_CLIP)


def pair_widths(code: int, s_i: np.ndarray, s_j: np.ndarray) -> np.ndarray:
    """:func:`pair_width` over arrays of radii (numpy; for code paths that run once, not per iteration)."""
    if code == 0:
        return 0.25 * (s_i + s_j) ** 2
    if code == 1:
        return s_i * s_j
    return np.ones_like(s_i)


@njit(inline="always")
def pair_width(code: int, s_i: float, s_j: float) -> float:
    """u_ij = 1 / gamma_ij, the squared width of the pair's kernel, from the two relative radii.

    The kernels are written in u rather than gamma because then w = u / (u + d^2) and
    gamma w^2 = u / (u + d^2)^2 cost one division per pair instead of two, and because u is a
    polynomial in the radii, so its average over a Barnes-Hut cell follows from the cell's moments.
    """
    if code == 0:
        m = s_i + s_j
        return 0.25 * m * m
    if code == 1:
        return s_i * s_j
    return 1.0


@njit(inline="always")
def pair_gamma(code: int, s_i: float, s_j: float) -> float:
    """gamma_ij = 1 / u_ij from the relative radii of the two points."""
    return 1.0 / pair_width(code, s_i, s_j)


@njit(inline="always")
def pair_beta(code: int, beta_i: float, beta_j: float) -> float:
    """beta_ij of the high-dimensional affinity of the pair (i, j)."""
    if code == 0:
        # 1 / (2 ((sigma_i + sigma_j) / 2)^2), written in the betas
        return 4.0 * beta_i * beta_j / (beta_i + beta_j + 2.0 * math.sqrt(beta_i * beta_j))
    if code == 1:
        return math.sqrt(beta_i * beta_j)
    return beta_i

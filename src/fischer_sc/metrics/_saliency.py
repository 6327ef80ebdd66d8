"""Array-only measures for attribution maps: localisation mass, rank similarity and SSIM.

They take numpy arrays (maps already summed over channels) and import no torch, so they score
maps from any library. The saliency plugin's evaluation loops (grid pointing game,
randomisation checks) are built on them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, stats


def _finite(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        msg = f"{name} is empty; pass a non-empty attribution map."
        raise ValueError(msg)
    if not np.isfinite(a).all():
        msg = f"{name} contains NaN or infinite values; attribution maps must be finite."
        raise ValueError(msg)
    return a


def _same_shape(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    if a.shape != b.shape:
        msg = f"{names[0]} has shape {a.shape} but {names[1]} has shape {b.shape}; pass maps of the same shape."
        raise ValueError(msg)


def localisation_mass(attr: np.ndarray, region: np.ndarray, *, positive: bool = True) -> float | np.ndarray:
    """Share of an attribution map's mass that falls inside a region.

    ``sum(a+ over region) / sum(a+)`` with ``a+ = max(attr, 0)`` (the grid pointing game's cell
    score, CoDA-Nets eq. 11). A map without positive mass scores like a uniform map: the region's
    share of the elements (0.25 for one cell of a 2x2 grid).

    Parameters
    ----------
    attr
        One map ``(H, W)`` or a batch ``(N, H, W)``; any trailing shape works, the leading axis is
        the batch when ``region`` has one dimension fewer or the same shape per sample.
    region
        Boolean mask with the shape of one map, or of the whole batch.
    positive
        Clip negative values to zero first (the pointing game's convention); ``False`` uses ``|attr|``.

    Returns
    -------
    float or ndarray
        The score in [0, 1]; one per map for a batch.
    """
    a = _finite(attr, "attr")
    r = np.asarray(region)
    if r.dtype != bool:
        msg = f"region must be a boolean mask, got dtype {r.dtype}; pass e.g. mask.astype(bool)."
        raise TypeError(msg)
    batched = a.ndim == r.ndim + 1
    if batched:
        r = np.broadcast_to(r, a.shape)
    _same_shape(a, r, ("attr", "region"))
    a = np.maximum(a, 0.0) if positive else np.abs(a)
    if not batched:
        a, r = a[None], r[None]
    flat_a = a.reshape(a.shape[0], -1)
    flat_r = r.reshape(r.shape[0], -1)
    total = flat_a.sum(axis=1)
    inside = (flat_a * flat_r).sum(axis=1)
    share = flat_r.mean(axis=1)  # the uniform map's score, used for empty maps
    out = np.where(total > 0, inside / np.where(total > 0, total, 1.0), share)
    return float(out[0]) if not batched else out


def spearman_similarity(a: np.ndarray, b: np.ndarray, *, abs: bool = True, batched: bool = False) -> float | np.ndarray:
    """Spearman rank correlation between two attribution maps (ties get average ranks).

    Parameters
    ----------
    a, b
        Maps of the same shape.
    abs
        Rank ``|a|`` and ``|b|`` (the randomisation test's default) instead of the signed maps.
    batched
        Treat the first axis as a batch and return one value per pair.

    Returns
    -------
    float or ndarray
        The correlation in [-1, 1]; NaN where either map is constant (undefined).
    """
    x, y = _finite(a, "a"), _finite(b, "b")
    _same_shape(x, y, ("a", "b"))
    if abs:
        x, y = np.abs(x), np.abs(y)
    if not batched:
        x, y = x[None], y[None]
    x = x.reshape(x.shape[0], -1)
    y = y.reshape(y.shape[0], -1)
    rx = stats.rankdata(x, axis=1)
    ry = stats.rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, (rx * ry).sum(axis=1) / np.where(den > 0, den, 1.0), np.nan)
    return float(out[0]) if not batched else out


def ssim(
    a: np.ndarray,
    b: np.ndarray,
    *,
    win_size: int = 7,
    data_range: float = 1.0,
    batched: bool = False,
) -> float | np.ndarray:
    """Mean structural similarity (Wang et al. 2004) of two 2-D maps.

    Local means, variances and covariance over a ``win_size`` x ``win_size`` uniform window
    (reflected at the border, sample covariance), constants ``C1 = (0.01 L)^2``,
    ``C2 = (0.03 L)^2`` with ``L = data_range``, averaged over the pixels whose window lies
    inside the image: the conventions of ``skimage.metrics.structural_similarity`` with its
    defaults, which the tests check.

    Parameters
    ----------
    a, b
        Two maps ``(H, W)``, or batches ``(N, H, W)`` with ``batched=True``; H and W >= ``win_size``.
    win_size
        Odd window side.
    data_range
        The value range of the maps (1 for maps scaled to [0, 1]).
    batched
        Treat the first axis as a batch and return one value per pair.

    Returns
    -------
    float or ndarray
        SSIM in [-1, 1]; 1 for identical maps.
    """
    x, y = _finite(a, "a"), _finite(b, "b")
    _same_shape(x, y, ("a", "b"))
    if not batched:
        x, y = x[None], y[None]
    if x.ndim != 3:
        msg = f"ssim takes 2-D maps (or a batch of them with batched=True), got shape {np.shape(a)}."
        raise ValueError(msg)
    if not isinstance(win_size, int | np.integer) or win_size < 3 or win_size % 2 == 0:
        msg = f"win_size={win_size!r} must be an odd integer >= 3."
        raise ValueError(msg)
    if min(x.shape[1:]) < win_size:
        msg = f"maps of shape {x.shape[1:]} are smaller than win_size={win_size}; lower win_size."
        raise ValueError(msg)
    if not data_range > 0:
        msg = f"data_range={data_range!r} must be positive."
        raise ValueError(msg)
    size = (1, win_size, win_size)  # no smoothing across the batch axis

    def mean(z: np.ndarray) -> np.ndarray:
        return ndimage.uniform_filter(z, size=size, mode="reflect")

    n = win_size * win_size
    cov_norm = n / (n - 1)  # unbiased local (co)variances
    ux, uy = mean(x), mean(y)
    vx = cov_norm * (mean(x * x) - ux * ux)
    vy = cov_norm * (mean(y * y) - uy * uy)
    vxy = cov_norm * (mean(x * y) - ux * uy)
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    pad = (win_size - 1) // 2
    out = s[:, pad : s.shape[1] - pad, pad : s.shape[2] - pad].reshape(s.shape[0], -1).mean(axis=1)
    return float(out[0]) if not batched else out

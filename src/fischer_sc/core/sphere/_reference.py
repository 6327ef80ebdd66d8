"""Slow numpy references of the sphere kernels, for tests: plain Python loops and vectorised numpy.

They share no code with the kernels except the constants, so a test comparing the two can fail.
"""

from __future__ import annotations

import itertools

import numpy as np

from fischer_sc.core._hashing import mix64_reference

from ._geometry import chord_angle, spherical_angle
from ._kernels import ANGLES, CLAMP, EPS, LOSSES, STRATA_PERIOD
from ._neighbours import SALT


def _wrap(u: int) -> int:
    u &= (1 << 64) - 1
    return u - (1 << 64) if u >= 1 << 63 else u


def _draw(seed: int, epoch: int, j: int, draw: int, n: int) -> int:
    inner = mix64_reference(j)
    h = mix64_reference(_wrap(seed + mix64_reference(_wrap(epoch * 1_000_003 + inner + draw))))
    return ((h & 0xFFFFFFFF) * n) >> 32


def sample_triples_reference(
    nbr: np.ndarray, n: int, per_point: int, seed: int, epoch: int, stratified: bool
) -> np.ndarray:
    """The triples of :func:`~fischer_sc.core.sphere.sample_triples`, drawn in plain Python."""
    out = np.full((n * per_point, 3), -1, dtype=np.int64)
    n_nbr = nbr.shape[1]
    for j in range(n):
        for t in range(per_point):
            stratum = min(t % STRATA_PERIOD, 2) if stratified else 2
            for attempt in range(8):
                base = (t * 8 + attempt) * 2
                i = _draw(seed, epoch, j, base, n) if stratum == 2 else int(nbr[j, _draw(seed, epoch, j, base, n_nbr)])
                k = (
                    int(nbr[j, _draw(seed, epoch, j, base + 1, n_nbr)])
                    if stratum == 0
                    else _draw(seed, epoch, j, base + 1, n)
                )
                if i != j and k != j and i != k and i >= 0 and k >= 0:
                    out[j * per_point + t] = (i, j, k)
                    break
    return out


def triple_loss_reference(
    z: np.ndarray, y: np.ndarray, triples: np.ndarray, angle: str = "spherical", loss: str = "angle"
) -> np.ndarray:
    """The loss of each triple from the geometric definitions (NaN where the kernels skip it)."""
    if angle not in ANGLES or loss not in LOSSES:
        msg = f"unknown angle {angle!r} or loss {loss!r}."
        raise ValueError(msg)
    z = np.asarray(z, dtype=np.float64)
    zj = z[triples[:, 1]]
    u, w = z[triples[:, 0]] - zj, z[triples[:, 2]] - zj
    uu, ww = (u * u).sum(1), (w * w).sum(1)
    bad = (uu < EPS) | (ww < EPS)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_x = (u * w).sum(1) / np.sqrt(uu * ww)
    theta_y = spherical_angle(y, triples) if angle == "spherical" else chord_angle(y, triples)
    cos_y = np.cos(theta_y)
    if loss == "cos":
        out = (cos_x - cos_y) ** 2
    else:
        clip = (-1 + CLAMP, 1 - CLAMP)
        out = (np.arccos(np.clip(cos_x, *clip)) - np.arccos(np.clip(cos_y, *clip))) ** 2
    out[bad | np.isnan(theta_y)] = np.nan
    return out


def epoch_gradient_reference(
    z: np.ndarray,
    y: np.ndarray,
    triples: np.ndarray,
    angle: str,
    loss: str,
    *,
    precondition: bool = False,
    step: float = 1e-6,
) -> np.ndarray:
    """Riemannian gradient of the summed loss over ``triples`` by central finite differences.

    Each point moves along two tangent directions by ``step`` and is renormalised; the result is the
    tangent vector (n, 3). Rows of ``triples`` with an index -1 are ignored. ``precondition``
    weights each triple by its shorter chord at ``y`` (held fixed), as the kernel does.
    """
    triples = triples[(triples >= 0).all(axis=1)]
    out = np.zeros_like(y)
    weight = np.ones(len(triples))
    if precondition:
        yj = y[triples[:, 1]]
        short = np.minimum(((y[triples[:, 0]] - yj) ** 2).sum(1), ((y[triples[:, 2]] - yj) ** 2).sum(1))
        weight = np.sqrt(short)

    def total(yy: np.ndarray) -> float:
        return float(np.nansum(weight * triple_loss_reference(z, yy, triples, angle, loss)))

    for p in range(y.shape[0]):
        basis = np.linalg.svd(np.eye(3) - np.outer(y[p], y[p]))[0][:, :2]
        for e in basis.T:
            plus, minus = y.copy(), y.copy()
            plus[p] = (y[p] + step * e) / np.linalg.norm(y[p] + step * e)
            minus[p] = (y[p] - step * e) / np.linalg.norm(y[p] - step * e)
            out[p] += (total(plus) - total(minus)) / (2 * step) * e
    return out


def full_loss_reference(z: np.ndarray, y: np.ndarray, angle: str = "spherical", loss: str = "angle") -> float:
    """The exact mean loss over all ordered triples of distinct points, O(n^3): the oracle for n <= 300."""
    n = y.shape[0]
    triples = np.array(list(itertools.permutations(range(n), 3)), dtype=np.int64)
    return float(np.nanmean(triple_loss_reference(z, y, triples, angle, loss)))


def neighbour_draws_reference(
    nbr: np.ndarray, n: int, n_pos: int, n_neg: int, seed: int, epoch: int
) -> tuple[np.ndarray, np.ndarray]:
    """The neighbour term's draws of every vertex, in plain Python: positives (n, n_pos), negatives (n, n_neg)."""
    salted = mix64_reference(seed ^ SALT)
    pos = np.array([[nbr[j, _draw(salted, epoch, j, p, nbr.shape[1])] for p in range(n_pos)] for j in range(n)])
    neg = np.array([[_draw(salted, epoch, j, n_pos + q, n) for q in range(n_neg)] for j in range(n)])
    return pos.reshape(n, n_pos), neg.reshape(n, n_neg)


def neighbour_loss_reference(y: np.ndarray, pos: np.ndarray, neg: np.ndarray, s2: float) -> np.ndarray:
    """L_j = sum_i -log(q_ij / (q_ij + sum_k q_jk)) per vertex, ``q = s2 / (s2 + ||y_a - y_b||^2)``, vectorised.

    Draws equal to j (and negative positions) are left out, as the kernel does.
    """
    n = y.shape[0]
    rows = np.arange(n)[:, None]

    def kernel(other: np.ndarray) -> np.ndarray:
        q = s2 / (s2 + ((y[np.maximum(other, 0)] - y[rows]) ** 2).sum(-1))
        return np.where((other == rows) | (other < 0), np.nan, q)

    q_pos, q_neg = kernel(pos), kernel(neg)
    total = np.nansum(q_neg, axis=1, keepdims=True)
    return np.nansum(-np.log(q_pos / (q_pos + total)), axis=1)


def neighbour_gradient_reference(
    y: np.ndarray, pos: np.ndarray, neg: np.ndarray, s2: float, step: float = 1e-6
) -> np.ndarray:
    """Tangent gradient of each L_j by y_j alone (the others fixed), by central finite differences."""
    out = np.zeros_like(y)
    for p in range(y.shape[0]):
        basis = np.linalg.svd(np.eye(3) - np.outer(y[p], y[p]))[0][:, :2]
        for e in basis.T:
            plus, minus = y.copy(), y.copy()
            plus[p] = (y[p] + step * e) / np.linalg.norm(y[p] + step * e)
            minus[p] = (y[p] - step * e) / np.linalg.norm(y[p] - step * e)
            diff = neighbour_loss_reference(plus, pos, neg, s2)[p] - neighbour_loss_reference(minus, pos, neg, s2)[p]
            out[p] += diff / (2 * step) * e
    return out

"""Geometry of the unit sphere S^2 in numpy: angles, tangent steps, initialisation, orientation, maps."""

from __future__ import annotations

import numpy as np

PROJECTIONS: tuple[str, ...] = ("equirectangular", "mercator")
#: Half-sphere initialisation: longitudes and latitudes span +-INIT_SPAN / 2 (the paper's 0.7 pi).
INIT_SPAN = 0.7 * np.pi
#: Mercator latitudes are clipped to +-85 degrees (the projection is infinite at the poles).
MERCATOR_MAX_LAT = np.deg2rad(85.0)


def unit_rows(y: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (the retraction onto the sphere); zero rows raise."""
    y = np.asarray(y, dtype=np.float64)
    norm = np.linalg.norm(y, axis=1, keepdims=True)
    if (norm == 0).any():
        msg = "cannot project a zero vector onto the sphere."
        raise ValueError(msg)
    return y / norm


def tangent_project(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """(I - y y^T) g per row: the component of ``g`` in the tangent plane of the sphere at ``y``."""
    return g - np.einsum("ij,ij->i", g, y)[:, None] * y


def retract(y: np.ndarray, step: np.ndarray) -> np.ndarray:
    """(y + step) / ||y + step||: a first-order retraction from the tangent plane onto the sphere."""
    return unit_rows(y + step)


def geodesic_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Arccos <a, b> per row pair: the great-circle distance between unit vectors."""
    return np.arccos(np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0))


def spherical_angle(y: np.ndarray, triples: np.ndarray) -> np.ndarray:
    """The angle at y_j between the geodesics to y_i and y_k, for each row (i, j, k) of ``triples``.

    Tangent vectors t_ji = y_i - <y_i, y_j> y_j and t_jk are normalised and
    theta = arccos <t_ji, t_jk>; degenerate triples (y_i = +-y_j) give NaN.
    """
    yi, yj, yk = (y[triples[:, c]] for c in range(3))
    ti = yi - np.einsum("ij,ij->i", yi, yj)[:, None] * yj
    tk = yk - np.einsum("ij,ij->i", yk, yj)[:, None] * yj
    return _angle_between(ti, tk)


def chord_angle(y: np.ndarray, triples: np.ndarray) -> np.ndarray:
    """The Euclidean angle at y_j between y_i - y_j and y_k - y_j (any dimension; NaN if degenerate)."""
    yj = y[triples[:, 1]]
    return _angle_between(y[triples[:, 0]] - yj, y[triples[:, 2]] - yj)


def _angle_between(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(u, axis=1) * np.linalg.norm(w, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(norm > 1e-12, np.einsum("ij,ij->i", u, w) / norm, np.nan)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def half_sphere_init(scores: np.ndarray) -> np.ndarray:
    """Start points on a band around the equator from the first two principal components.

    PC1 and PC2 are scaled by the largest absolute PC1 value (one factor, so the aspect ratio of the
    PCA picture is kept), then longitude = 0.7 pi pc1 / 2 and latitude = 0.7 pi pc2 / 2, both within
    +-63 degrees, away from the poles and the seam: y = (cos lat cos lon, cos lat sin lon, sin lat).
    """
    pcs = np.asarray(scores[:, :2], dtype=np.float64)
    pcs = pcs - pcs.mean(axis=0)
    scale = np.abs(pcs).max()
    pcs = pcs / scale if scale > 0 else pcs
    lon = INIT_SPAN * pcs[:, 0] / 2.0
    lat = INIT_SPAN * pcs[:, 1] / 2.0
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def canonical_rotation(y: np.ndarray) -> np.ndarray:
    """The orthogonal 3 x 3 matrix R with which ``y @ R.T`` is in canonical orientation.

    The normalised mean direction goes to (1, 0, 0), i.e. (lon, lat) = (0, 0); the leading principal
    axis of the points' tangent coordinates there goes along the equator (0, 1, 0); each tangent
    axis is signed so the third moment along it is positive. Angles are invariant under O(3), so this
    only fixes the gauge: equal seeds give comparable outputs and the map's seam (lon = +-pi) lies
    opposite the data. Without a mean direction (points spread evenly over the sphere) the axis of
    least spread is used instead.
    """
    y = np.asarray(y, dtype=np.float64)
    mean = y.mean(axis=0)
    if np.linalg.norm(mean) > 1e-3:
        centre = mean / np.linalg.norm(mean)
    else:
        centre = np.linalg.eigh(y.T @ y)[1][:, 0]
        centre *= np.sign(centre[np.abs(centre).argmax()])
    # An orthonormal basis of the tangent plane at the centre, then the principal axes within it.
    basis = np.linalg.svd(np.eye(3) - np.outer(centre, centre))[0][:, :2]
    tangent = y @ basis
    _, vecs = np.linalg.eigh(tangent.T @ tangent)
    axes = basis @ vecs[:, ::-1]
    proj = y @ axes
    signs = np.where((proj**3).sum(axis=0) < 0, -1.0, 1.0)
    return np.vstack([centre, axes[:, 0] * signs[0], axes[:, 1] * signs[1]])


def canonical_orientation(y: np.ndarray) -> np.ndarray:
    """``y`` rotated (or reflected) into the canonical orientation of :func:`~fischer_sc.core.sphere.canonical_rotation`."""
    return unit_rows(y @ canonical_rotation(y).T)


def lon_lat(y: np.ndarray) -> np.ndarray:
    """(longitude, latitude) in radians of unit vectors: lon = atan2(y2, y1), lat = arcsin(y3)."""
    return np.column_stack([np.arctan2(y[:, 1], y[:, 0]), np.arcsin(np.clip(y[:, 2], -1.0, 1.0))])


def map_projection(y: np.ndarray, projection: str = "equirectangular") -> np.ndarray:
    """2-D map coordinates: ``"equirectangular"`` (lon, lat) or ``"mercator"`` (lon, ln tan(pi/4 + lat/2)).

    Mercator latitudes are clipped to +-85 degrees.
    """
    if projection not in PROJECTIONS:
        msg = f"projection={projection!r} is not one of {', '.join(map(repr, PROJECTIONS))}."
        raise ValueError(msg)
    ll = lon_lat(y)
    if projection == "mercator":
        lat = np.clip(ll[:, 1], -MERCATOR_MAX_LAT, MERCATOR_MAX_LAT)
        ll[:, 1] = np.log(np.tan(np.pi / 4 + lat / 2))
    return ll


def orthographic(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two hemispheres seen from outside: front (x >= 0) drawn as (y, z), back as (-y, z).

    Returns the 2-D coordinates (n, 2) and a boolean mask of the front points.
    """
    front = y[:, 0] >= 0
    xy = np.column_stack([np.where(front, y[:, 1], -y[:, 1]), y[:, 2]])
    return xy, front

"""Angle, distance and triplet preservation of an embedding, flat or on the unit sphere (Mercat)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ._checks import check_k, check_method, check_pair
from ._distances import _corr

Geometry = Literal["euclidean", "chord", "spherical"]
_GEOMETRIES = ("euclidean", "chord", "spherical")


def _check_geometry(geometry: str, y: np.ndarray) -> str:
    if geometry not in _GEOMETRIES:
        msg = f"geometry={geometry!r} is not one of {', '.join(map(repr, _GEOMETRIES))}."
        raise ValueError(msg)
    if geometry == "spherical" and (y.shape[1] != 3 or not np.allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-4)):
        msg = "geometry='spherical' needs Y as unit vectors (n, 3), e.g. adata.obsm['X_mercat']; use 'euclidean'."
        raise ValueError(msg)
    return geometry


def _check_count(value: int, name: str) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        msg = f"{name} must be a positive integer, got {value!r}."
        raise ValueError(msg)
    return int(value)


def random_triples(n: int, n_triples: int, *, random_state: int = 0) -> np.ndarray:
    """``n_triples`` rows (i, j, k) of three distinct indices below ``n``, drawn uniformly."""
    if n < 3:
        msg = f"at least 3 points are needed for triples, got {n}."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    out = np.empty((0, 3), dtype=np.int64)
    while len(out) < n_triples:
        t = rng.integers(0, n, size=(2 * n_triples, 3))
        t = t[(t[:, 0] != t[:, 1]) & (t[:, 1] != t[:, 2]) & (t[:, 0] != t[:, 2])]
        out = np.vstack([out, t])
    return out[:n_triples]


def local_triples(X: np.ndarray, n_triples: int, *, k: int = 15, random_state: int = 0) -> np.ndarray:
    """Triples (i, j, k) with i and k drawn from the ``k`` nearest neighbours of a uniform vertex j."""
    from fischer_sc.core.embedding import knn

    x = np.asarray(X, dtype=np.float64)
    k = check_k(k, x.shape[0])
    if k < 2:
        msg = "k must be at least 2 for local triples (two distinct neighbours)."
        raise ValueError(msg)
    idx = knn(x, k, method="exact")[0]
    rng = np.random.default_rng(random_state)
    j = rng.integers(0, x.shape[0], n_triples)
    a = rng.integers(0, k, n_triples)
    b = (a + rng.integers(1, k, n_triples)) % k  # a different neighbour
    return np.column_stack([idx[j, a], j, idx[j, b]])


def triple_angles(Y: np.ndarray, triples: np.ndarray, geometry: Geometry = "euclidean") -> np.ndarray:
    """The angle at the middle point of each triple (i, j, k).

    ``"euclidean"`` (or ``"chord"``, the same formula for points on the sphere): the angle between
    y_i - y_j and y_k - y_j. ``"spherical"``: the angle at y_j between the great circles to y_i and
    y_k (``Y`` unit vectors in R^3). Degenerate triples (a zero edge) give NaN.
    """
    from fischer_sc.core.sphere import chord_angle, spherical_angle

    y = np.asarray(Y, dtype=np.float64)
    _check_geometry(geometry, y)
    t = np.asarray(triples, dtype=np.int64)
    return spherical_angle(y, t) if geometry == "spherical" else chord_angle(y, t)


def angle_preservation(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    geometry: Geometry = "euclidean",
    n_triples: int = 100_000,
    triples: Literal["uniform", "local"] = "uniform",
    k: int = 15,
    random_state: int = 0,
) -> dict[str, float]:
    """How well the embedding keeps the angles of triangles of the data.

    The angle at x_j of (x_i, x_j, x_k) is compared with the angle at y_j (``geometry`` as in
    :func:`~fischer_sc.metrics.triple_angles`) over ``n_triples`` triples, uniform (global structure) or with i and k
    among the ``k`` nearest data neighbours of j (``"local"``). ``X`` should be the denoised data
    when the raw data are noisy: noise pulls every high-dimensional angle towards pi / 3.

    Returns
    -------
    ``{"spearman", "pearson", "mae"}``: rank and linear correlation, mean absolute error (radians).
    """
    x, y = check_pair(X, Y)
    _check_geometry(geometry, y)
    n_triples = _check_count(n_triples, "n_triples")
    if triples == "uniform":
        t = random_triples(x.shape[0], n_triples, random_state=random_state)
    elif triples == "local":
        t = local_triples(x, n_triples, k=k, random_state=random_state)
    else:
        msg = f"triples={triples!r} is not 'uniform' or 'local'."
        raise ValueError(msg)
    a, b = triple_angles(x, t), triple_angles(y, t, geometry)
    ok = np.isfinite(a) & np.isfinite(b)
    return {
        "spearman": _corr(a[ok], b[ok], "spearman"),
        "pearson": _corr(a[ok], b[ok], "pearson"),
        "mae": float(np.abs(a[ok] - b[ok]).mean()),
    }


def _distances(y: np.ndarray, i: np.ndarray, j: np.ndarray, geometry: str) -> np.ndarray:
    if geometry == "spherical":
        return np.arccos(np.clip(np.einsum("ij,ij->i", y[i], y[j]), -1.0, 1.0))
    return np.linalg.norm(y[i] - y[j], axis=1)


def distance_preservation(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    geometry: Geometry = "euclidean",
    n_pairs: int = 1_000_000,
    method: str = "spearman",
    random_state: int = 0,
) -> float:
    """Correlation of data distances with embedding distances over random pairs.

    ``geometry="spherical"`` measures the embedding by the great-circle distance arccos <y_i, y_j>.
    """
    x, y = check_pair(X, Y)
    _check_geometry(geometry, y)
    check_method(method)
    n_pairs = _check_count(n_pairs, "n_pairs")
    t = random_triples(x.shape[0], n_pairs, random_state=random_state)
    dx = np.linalg.norm(x[t[:, 0]] - x[t[:, 1]], axis=1)
    return _corr(dx, _distances(y, t[:, 0], t[:, 1], geometry), method)


def triplet_accuracy(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    geometry: Geometry = "euclidean",
    n_triplets: int = 100_000,
    random_state: int = 0,
) -> float:
    """The fraction of random triplets (i, j, k) ordered alike: sign(d(i, j) - d(i, k)) in both spaces.

    1 is perfect, 0.5 is chance. Ties in either space count as misses.
    """
    x, y = check_pair(X, Y)
    _check_geometry(geometry, y)
    n_triplets = _check_count(n_triplets, "n_triplets")
    t = random_triples(x.shape[0], n_triplets, random_state=random_state)
    sx = np.sign(np.linalg.norm(x[t[:, 0]] - x[t[:, 1]], axis=1) - np.linalg.norm(x[t[:, 0]] - x[t[:, 2]], axis=1))
    sy = np.sign(_distances(y, t[:, 0], t[:, 1], geometry) - _distances(y, t[:, 0], t[:, 2], geometry))
    return float(((sx == sy) & (sx != 0)).mean())

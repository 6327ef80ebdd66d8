"""Toy shapes of the Mercat paper and its spec: circle, smiley, spiked model, and a noisy sphere.

Each is a low-dimensional shape placed by a random orthonormal map into R^dims, plus isotropic
Gaussian noise; the noise-free coordinates are kept in ``obsm["X_truth"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _check(n: int, dims: int, noise: float, low_dims: int) -> None:
    if not isinstance(n, int | np.integer) or n < 3:
        msg = f"n must be an integer >= 3, got {n!r}."
        raise ValueError(msg)
    if not isinstance(dims, int | np.integer) or dims < low_dims:
        msg = f"dims must be an integer >= {low_dims} (the shape's own dimension), got {dims!r}."
        raise ValueError(msg)
    if not np.isfinite(noise) or noise < 0:
        msg = f"noise must be a finite number >= 0, got {noise!r}."
        raise ValueError(msg)


def _embed(truth: np.ndarray, dims: int, noise: float, rng: np.random.Generator, labels, name: str, uns: dict):
    import anndata as ad

    basis = np.linalg.qr(rng.normal(size=(dims, truth.shape[1])))[0]  # orthonormal columns
    x = truth @ basis.T + noise * rng.normal(size=(truth.shape[0], dims))
    adata = ad.AnnData(x.astype(np.float32))
    adata.obs_names = [f"c{i}" for i in range(adata.n_obs)]
    for key, value in labels.items():
        adata.obs[key] = value
    adata.obsm["X_truth"] = truth.astype(np.float64)
    adata.uns[name] = {"noise": float(noise), "dims": int(dims), **uns}
    return adata


def circle(n: int = 1000, dims: int = 50, *, noise: float = 0.05, random_state: int = 0):
    """The unit circle in a random plane of R^dims plus N(0, noise^2) per dimension.

    Returns
    -------
    :class:`~anndata.AnnData` with ``X`` (n, dims), ``obs["angle"]`` (position on the circle in
    radians), ``obsm["X_truth"]`` (n, 2) and ``uns["circle"]``.
    """
    _check(n, dims, noise, 2)
    rng = np.random.default_rng(random_state)
    phi = rng.uniform(0, 2 * np.pi, n)
    truth = np.column_stack([np.cos(phi), np.sin(phi)])
    return _embed(truth, dims, noise, rng, {"angle": phi}, "circle", {"random_state": int(random_state)})


def smiley(dims: int = 50, *, noise: float = 0.02, scale: int = 1, random_state: int = 0):
    """A 2-D face (spec: outline, two eyes, mouth) linearly embedded in R^dims plus noise.

    Outline: circle r = 1, 600 points; eyes: Gaussian blobs at (+-0.35, 0.3), sd 0.05, 150 each;
    mouth: arc r = 0.6 from 200 to 340 degrees, 300 points (1 200 in all, times ``scale``).

    Returns
    -------
    :class:`~anndata.AnnData` with ``obs["part"]`` (outline, left_eye, right_eye, mouth),
    ``obsm["X_truth"]`` (n, 2) and ``uns["smiley"]``.
    """
    if not isinstance(scale, int) or scale < 1:
        msg = f"scale must be a positive integer, got {scale!r}."
        raise ValueError(msg)
    _check(1200 * scale, dims, noise, 2)
    rng = np.random.default_rng(random_state)
    t = rng.uniform(0, 2 * np.pi, 600 * scale)
    outline = np.column_stack([np.cos(t), np.sin(t)])
    eyes = [rng.normal([sx, 0.3], 0.05, size=(150 * scale, 2)) for sx in (-0.35, 0.35)]
    a = np.deg2rad(rng.uniform(200, 340, 300 * scale))
    mouth = 0.6 * np.column_stack([np.cos(a), np.sin(a)])
    truth = np.vstack([outline, *eyes, mouth])
    parts = np.repeat(["outline", "left_eye", "right_eye", "mouth"], np.array([600, 150, 150, 300]) * scale)
    labels = {"part": pd.Categorical(parts, categories=["outline", "left_eye", "right_eye", "mouth"])}
    return _embed(truth, dims, noise, rng, labels, "smiley", {"random_state": int(random_state)})


SPIKES: tuple[float, ...] = (20.0, 15.0, 10.0, 8.0, 6.0)


def spiked(n: int = 2000, dims: int = 500, *, spikes=SPIKES, random_state: int = 0):
    """The spiked covariance model: a rank-len(spikes) signal plus isotropic N(0, 1) noise.

    The signal has variances ``spikes`` along random orthonormal directions; the noise-free
    signal is ``obsm["X_truth"]`` in its own coordinates (n, rank).

    Returns
    -------
    :class:`~anndata.AnnData` with ``obsm["X_truth"]`` and ``uns["spiked"]`` (``spikes``, the
    planted rank).
    """
    spikes = np.asarray(spikes, dtype=np.float64)
    if spikes.ndim != 1 or len(spikes) < 1 or (spikes <= 0).any():
        msg = f"spikes must be positive variances, got {spikes!r}."
        raise ValueError(msg)
    _check(n, dims, 1.0, len(spikes))
    rng = np.random.default_rng(random_state)
    truth = rng.normal(size=(n, len(spikes))) * np.sqrt(spikes)
    uns = {"spikes": spikes, "rank": len(spikes), "random_state": int(random_state)}
    return _embed(truth, dims, 1.0, rng, {}, "spiked", uns)


def noisy_sphere(n: int = 2000, dims: int = 50, *, noise: float = 0.05, random_state: int = 0):
    """Points uniform on the unit 2-sphere, placed in a random 3-D subspace of R^dims, plus noise.

    ``obs["octant"]`` (sign pattern of the three coordinates) colours the eight spherical triangles.

    Returns
    -------
    :class:`~anndata.AnnData` with ``obs["octant"]``, ``obsm["X_truth"]`` (n, 3 unit vectors) and
    ``uns["noisy_sphere"]``.
    """
    _check(n, dims, noise, 3)
    rng = np.random.default_rng(random_state)
    truth = rng.normal(size=(n, 3))
    truth /= np.linalg.norm(truth, axis=1, keepdims=True)
    code = (truth > 0) @ np.array([4, 2, 1])
    octant = pd.Categorical([format(int(c), "03b").replace("1", "+").replace("0", "-") for c in code])
    return _embed(truth, dims, noise, rng, {"octant": octant}, "noisy_sphere", {"random_state": int(random_state)})

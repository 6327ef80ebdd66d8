"""Gaussian clusters with planted spreads and sizes: the toy data of the dtSNE paper (docs/dtsne.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class BlobPreset:
    """One preset: the dimension, the cluster sizes and spreads, and fixed means (or ``None``: U(0, 50)^dims)."""

    dims: int
    sizes: tuple[int, ...]
    spreads: tuple[float, ...]  # standard deviation per cluster (covariance spread^2 I)
    means: tuple[tuple[float, ...], ...] | None = None
    purpose: str = ""


_MEANS_2D = ((10.0, 0.0), (0.0, 15.0), (-10.0, 0.0))
_SQRT = tuple(float(np.sqrt(v)) for v in range(1, 11))

#: The presets; covariances in the paper are variances, so spreads are their square roots.
PRESETS: dict[str, BlobPreset] = {
    "2d": BlobPreset(2, (100, 200, 500), (1.0, _SQRT[1], 2.0), _MEANS_2D, "density and sample size"),
    "g3s": BlobPreset(50, (200, 400, 600), (_SQRT[1],) * 3, None, "sample size"),
    "g3d": BlobPreset(50, (300, 300, 300), (_SQRT[1], 2.0, _SQRT[7]), None, "density"),
    "g10d": BlobPreset(50, (200,) * 10, _SQRT, None, "density"),
    "u5d": BlobPreset(150, (200,) * 5, _SQRT[:5], None, "density"),
    "2d_density": BlobPreset(2, (300, 300, 300), (1.0, _SQRT[1], 2.0), _MEANS_2D, "density only"),
    "2d_size": BlobPreset(2, (100, 300, 900), (1.0, 1.0, 1.0), _MEANS_2D, "sample size only"),
}


def gaussian_blobs(preset: str = "2d", *, n_samples: Sequence[int] | None = None, random_state: int = 0):
    """Gaussian clusters with known spreads and sizes, the synthetic sets of the dtSNE paper.

    ============== ==== ========== ===================== =============== ====================
    preset         dims clusters   covariance            sizes           tests
    ============== ==== ========== ===================== =============== ====================
    ``2d``         2    3          I * {1, 2, 4}         100 / 200 / 500 density and size
    ``g3s``        50   3          2 I                   200 / 400 / 600 sample size
    ``g3d``        50   3          I * {2, 4, 8}         300 each        density
    ``g10d``       50   10         I * {1, ..., 10}      200 each        density
    ``u5d``        150  5          I * {1, ..., 5}       200 each        density
    ``2d_density`` 2    3          I * {1, 2, 4}         300 each        density only
    ``2d_size``    2    3          I                     100 / 300 / 900 sample size only
    ============== ==== ========== ===================== =============== ====================

    The 2-D presets have means (10, 0), (0, 15), (-10, 0); the others draw means from
    U(0, 50)^dims.

    Parameters
    ----------
    preset
        One of the names above.
    n_samples
        Cluster sizes replacing the preset's (one per cluster).
    random_state
        Seed; the same seed gives the same data.

    Returns
    -------
    :class:`~anndata.AnnData` with float32 ``X``, ``obs["cluster"]`` (categorical "0", "1", ...)
    and ``uns["gaussian_blobs"]`` = {"preset", "random_state", "means", "spreads"}.
    """
    if preset not in PRESETS:
        msg = f"preset={preset!r} is not one of {', '.join(map(repr, PRESETS))}."
        raise ValueError(msg)
    spec = PRESETS[preset]
    sizes = spec.sizes if n_samples is None else tuple(int(s) for s in n_samples)
    if len(sizes) != len(spec.spreads) or min(sizes) < 1:
        msg = (
            f"n_samples must give {len(spec.spreads)} positive cluster sizes for preset {preset!r}, got {n_samples!r}."
        )
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    means = np.asarray(spec.means) if spec.means is not None else rng.uniform(0.0, 50.0, (len(sizes), spec.dims))
    return _assemble(
        rng, means, np.asarray(spec.spreads), sizes, {"preset": preset, "random_state": random_state}, "gaussian_blobs"
    )


def gaussian_mixture(n_obs: int, *, n_dims: int = 50, n_clusters: int = 20, random_state: int = 0):
    """A mixture for speed benchmarks: cluster spreads ~ U(0.5, 2), sizes ~ Dirichlet(2), means ~ U(0, 10)^d.

    Clusters overlap at these settings, as populations of cells do.

    Returns
    -------
    :class:`~anndata.AnnData` with float32 ``X``, ``obs["cluster"]`` and ``uns["gaussian_mixture"]``.
    """
    if n_obs < n_clusters or n_clusters < 1:
        msg = f"n_obs={n_obs} must be at least n_clusters={n_clusters} >= 1."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    means = rng.uniform(0.0, 10.0, (n_clusters, n_dims))
    spreads = rng.uniform(0.5, 2.0, n_clusters)
    sizes = rng.multinomial(n_obs - n_clusters, rng.dirichlet(np.full(n_clusters, 2.0))) + 1
    return _assemble(
        rng, means, spreads, tuple(int(s) for s in sizes), {"random_state": random_state}, "gaussian_mixture"
    )


def _assemble(
    rng: np.random.Generator, means: np.ndarray, spreads: np.ndarray, sizes: tuple[int, ...], record: dict, key: str
):
    import anndata as ad

    x = np.vstack(
        [m + rng.normal(size=(s, means.shape[1])) * sd for m, sd, s in zip(means, spreads, sizes, strict=True)]
    )
    labels = np.repeat(np.arange(len(sizes)).astype(str), sizes)
    obs = pd.DataFrame({"cluster": pd.Categorical(labels, categories=np.arange(len(sizes)).astype(str))})
    obs.index = pd.Index([f"cell{i}" for i in range(x.shape[0])])
    adata = ad.AnnData(x.astype(np.float32), obs=obs)
    adata.uns[key] = {
        **record,
        "means": means,
        "spreads": np.asarray(spreads, dtype=np.float64),
        "sizes": np.asarray(sizes),
    }
    return adata

"""The 14-dimensional synthetic set of the factor-out paper: two independent cluster structures plus noise."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Cluster sizes of the two blocks (the paper gives n = 2 000 and "different sizes"; these are ours).
SIZES_A = (200, 400, 600, 800)
SIZES_B = (100, 300, 500, 1100)


def _block(rng: np.random.Generator, sizes: tuple[int, ...], dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Cluster labels (shuffled, so independent of any other block) and points N(mu_c, I), mu_c ~ N(0, 10^2 I)."""
    labels = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    means = rng.normal(scale=10.0, size=(len(sizes), dims))
    return labels, means[labels] + rng.normal(size=(labels.size, dims))


def factor_out_blocks(random_state: int = 0):
    """The synthetic set of Heiter et al. (factor out prior knowledge): n = 2 000 points in 14 dimensions.

    * dimensions 1-8 (block A): 4 clusters of 200 / 400 / 600 / 800 points;
    * dimensions 9-12 (block B): an independent 4-cluster assignment of 100 / 300 / 500 / 1100 points;
    * dimensions 13-14: N(0, 1) noise.

    Cluster means are N(0, 10^2 I) in their block, points N(mean, I). The prior is block A: its
    labels (``obs["block_a"]``) or the Euclidean distance on dimensions 1-8 (``obsm["X_block_a"]``);
    a method that factors it out keeps block B (``obs["block_b"]``) visible.

    Parameters
    ----------
    random_state
        Seed of the generator.

    Returns
    -------
    :class:`~anndata.AnnData` with float32 ``X`` (2 000 x 14), ``obs["block_a"]`` and
    ``obs["block_b"]`` (categorical labels), ``obsm["X_block_a"]`` (dimensions 1-8),
    ``obsm["X_block_b"]`` (dimensions 9-12) and ``uns["factor_out_blocks"]`` (sizes and seed).
    """
    import anndata as ad

    rng = np.random.default_rng(random_state)
    la, xa = _block(rng, SIZES_A, 8)
    lb, xb = _block(rng, SIZES_B, 4)
    x = np.hstack([xa, xb, rng.normal(size=(la.size, 2))]).astype(np.float32)
    obs = pd.DataFrame(
        {
            "block_a": pd.Categorical(la.astype(str), categories=[str(i) for i in range(len(SIZES_A))]),
            "block_b": pd.Categorical(lb.astype(str), categories=[str(i) for i in range(len(SIZES_B))]),
        },
        index=pd.Index([f"cell{i}" for i in range(la.size)]),
    )
    adata = ad.AnnData(x, obs=obs)
    adata.obsm["X_block_a"] = x[:, :8].copy()
    adata.obsm["X_block_b"] = x[:, 8:12].copy()
    adata.uns["factor_out_blocks"] = {
        "random_state": int(random_state),
        "sizes_a": np.asarray(SIZES_A),
        "sizes_b": np.asarray(SIZES_B),
    }
    return adata


#: How a prior acts on the data in :func:`factor_out_prior`.
PRIOR_EFFECTS: tuple[str, ...] = ("linear", "per_cluster", "nonlinear")


def _simplex_means(rng: np.random.Generator, k: int, dims: int, spacing: float) -> np.ndarray:
    """``k`` centres in ``dims`` dimensions, random directions rescaled so the closest two are ``spacing`` apart."""
    means = rng.normal(size=(k, dims))
    if k < 2:
        return means * 0.0
    gaps = np.sqrt(((means[:, None] - means[None]) ** 2).sum(-1))
    np.fill_diagonal(gaps, np.inf)
    return means * (spacing / gaps.min())


def _unequal_sizes(rng: np.random.Generator, n: int, k: int, ratio: float) -> np.ndarray:
    """``k`` cluster sizes summing to ``n``, geometrically spaced from 1 to ``ratio`` (shuffled)."""
    w = rng.permutation(ratio ** np.linspace(0.0, 1.0, k))
    sizes = np.floor(w / w.sum() * n).astype(int)
    sizes[np.argmax(sizes)] += n - sizes.sum()
    return sizes


def factor_out_prior(
    effect: str = "linear",
    *,
    n: int = 2000,
    prior_sd: float = 6.0,
    prior_dims: int = 8,
    n_prior: int = 4,
    n_kept: int = 4,
    kept_dims: int = 4,
    kept_sd: float = 6.0,
    noise_dims: int = 2,
    size_ratio: float = 4.0,
    random_state: int = 0,
):
    """Data with a known prior and structure to keep: the generators of the factor-out sweep.

    Every point has a prior label (``n_prior`` labels of unequal sizes, ratio ``size_ratio``
    between the largest and smallest) and, independently, a kept label (``n_kept`` clusters of
    unequal sizes). Within-cluster noise is N(0, 1) in every dimension. The columns are
    ``prior_dims`` prior dimensions, ``kept_dims`` kept dimensions and ``noise_dims`` N(0, 1)
    dimensions. ``effect`` says how the prior acts:

    * ``"linear"``: prior-label centres ``prior_sd`` apart (closest pair) in the prior dimensions;
      kept centres ``kept_sd`` apart in the kept dimensions. Subtracting each prior label's mean
      (``sc.pp.regress_out``) removes it.
    * ``"per_cluster"``: as ``"linear"``, and in the kept dimensions every (prior label, kept
      cluster) pair is shifted its own way by ``prior_sd / 2`` (a random direction): the prior's
      effect differs per kept cluster, so no per-label shift removes it.
    * ``"nonlinear"``: a continuous prior t in [0, 1) (a cycle, like the cell cycle) moves points
      along a closed curve of radius ``prior_sd`` in the prior dimensions, (cos 2 pi t, sin 2 pi t,
      cos 4 pi t, sin 4 pi t) projected at random; the prior labels are ``n_prior`` bins of t of
      unequal widths. No linear function of t removes it, and label means leave the arcs.

    Parameters
    ----------
    effect
        ``"linear"``, ``"per_cluster"`` or ``"nonlinear"``.
    n
        Number of points.
    prior_sd, kept_sd
        Separation of the closest prior (kept) centres, in within-cluster standard deviations.
    prior_dims, kept_dims, noise_dims
        Number of prior, kept and noise dimensions.
    n_prior, n_kept
        Number of prior labels and of kept clusters.
    size_ratio
        Largest over smallest cluster size.
    random_state
        Seed of the generator.

    Returns
    -------
    :class:`~anndata.AnnData` with float32 ``X``, ``obs["prior"]`` and ``obs["kept"]``
    (categorical), ``obsm["X_prior"]`` (the prior as features: the prior dimensions, or for
    ``"nonlinear"`` the two columns (cos 2 pi t, sin 2 pi t)), ``obsm["X_ideal"]`` (the data
    without the prior's effect: kept and noise dimensions) and ``uns["factor_out_prior"]`` (the
    arguments).
    """
    import anndata as ad

    if effect not in PRIOR_EFFECTS:
        msg = f"effect={effect!r} is not one of {', '.join(map(repr, PRIOR_EFFECTS))}."
        raise ValueError(msg)
    if min(n_prior, n_kept) < 2 or min(prior_dims, kept_dims) < 2 or noise_dims < 0:
        msg = "factor_out_prior needs n_prior, n_kept >= 2, prior_dims, kept_dims >= 2 and noise_dims >= 0."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    kept = rng.permutation(np.repeat(np.arange(n_kept), _unequal_sizes(rng, n, n_kept, size_ratio)))
    ideal = _simplex_means(rng, n_kept, kept_dims, kept_sd)[kept] + rng.normal(size=(n, kept_dims))
    shifted = ideal.copy()
    if effect == "nonlinear":
        widths = _unequal_sizes(rng, 10_000, n_prior, size_ratio) / 10_000
        t = rng.random(n)
        prior = np.searchsorted(np.cumsum(widths)[:-1], t, side="right")
        curve = np.column_stack(
            [np.cos(2 * np.pi * t), np.sin(2 * np.pi * t), np.cos(4 * np.pi * t), np.sin(4 * np.pi * t)]
        )
        basis = np.linalg.qr(rng.normal(size=(max(prior_dims, 4), 4)))[0][:prior_dims]
        xp = prior_sd * curve @ basis.T + rng.normal(size=(n, prior_dims))
        z = curve[:, :2]
    else:
        prior = rng.permutation(np.repeat(np.arange(n_prior), _unequal_sizes(rng, n, n_prior, size_ratio)))
        xp = _simplex_means(rng, n_prior, prior_dims, prior_sd)[prior] + rng.normal(size=(n, prior_dims))
        z = xp
        if effect == "per_cluster":
            dirs = rng.normal(size=(n_prior, n_kept, kept_dims))
            dirs *= 0.5 * prior_sd / np.linalg.norm(dirs, axis=-1, keepdims=True)
            shifted = ideal + dirs[prior, kept]
    noise = rng.normal(size=(n, noise_dims))
    x = np.hstack([xp, shifted, noise]).astype(np.float32)
    obs = pd.DataFrame(
        {
            "prior": pd.Categorical(prior.astype(str), categories=[str(i) for i in range(n_prior)]),
            "kept": pd.Categorical(kept.astype(str), categories=[str(i) for i in range(n_kept)]),
        },
        index=pd.Index([f"cell{i}" for i in range(n)]),
    )
    adata = ad.AnnData(x, obs=obs)
    adata.obsm["X_prior"] = np.asarray(z, dtype=np.float32)
    adata.obsm["X_ideal"] = np.hstack([ideal, noise]).astype(np.float32)
    adata.uns["factor_out_prior"] = {
        "effect": effect,
        "n": int(n),
        "prior_sd": float(prior_sd),
        "prior_dims": int(prior_dims),
        "n_prior": int(n_prior),
        "n_kept": int(n_kept),
        "kept_dims": int(kept_dims),
        "kept_sd": float(kept_sd),
        "noise_dims": int(noise_dims),
        "size_ratio": float(size_ratio),
        "random_state": int(random_state),
    }
    return adata

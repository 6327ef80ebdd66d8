from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy import sparse

from fischer_sc._utils import (
    check_adata,
    check_bool,
    check_choice,
    check_finite,
    check_int,
    check_metric,
    check_number,
    choose_representation,
    clean_params,
    progress_enabled,
    resolve_device,
    resolve_keys,
    resolve_n_jobs,
    resolve_random_state,
)
from fischer_sc.core.embedding import (
    PAIR_SCALES,
    RADII,
    REPULSIONS,
    TSNE_DEFAULTS,
    DensityTerm,
    knn,
    knn_from_graph,
    knn_log_radii,
    neighbours_for_perplexity,
    optimise,
    pca_init,
    perplexity_affinities,
    perplexity_for_neighbours,
    radius_scales,
    resolve_repulsion,
)

if TYPE_CHECKING:
    from anndata import AnnData

MIN_OBS = 4


def dtsne(
    adata: AnnData,
    n_pcs: int | None = None,
    *,
    use_rep: str | None = None,
    neighbors_key: str | None = None,
    perplexity: float = TSNE_DEFAULTS.perplexity,
    n_components: int = 2,
    n_iter: int = TSNE_DEFAULTS.n_iter,
    early_exaggeration: float = TSNE_DEFAULTS.early_exaggeration,
    early_exaggeration_iter: int = TSNE_DEFAULTS.early_exaggeration_iter,
    learning_rate: float | Literal["auto"] = "auto",
    pair_scale: Literal["mean", "geometric"] | None = "mean",
    balance: float = TSNE_DEFAULTS.balance,
    radius: Literal["knn", "perplexity"] = "knn",
    contrast: float = TSNE_DEFAULTS.contrast,
    density_weight: float = TSNE_DEFAULTS.density_weight,
    repulsion: Literal["auto", "exact", "barnes_hut"] = "auto",
    theta: float = 1.0,
    metric: str = "euclidean",
    random_state: int | np.random.Generator | None = 0,
    n_jobs: int | None = None,
    device: str | None = None,
    progress: bool = True,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Density-preserving t-SNE (dtSNE) :cite:p:`dtsne`.

    t-SNE whose low-dimensional kernel is scaled per pair by the points' local radii, so that
    relative densities survive the embedding while neighbourhoods and global layout stay as in t-SNE.

    Parameters
    ----------
    adata
        Annotated data matrix.
    n_pcs
        Use this many principal components of the representation.
    use_rep
        Representation to embed: ``"X"``, or a key of ``adata.obsm``. ``None`` takes ``.X`` when it
        has at most 50 variables, otherwise ``obsm["X_pca"]`` (computed, with a warning, if missing).
    neighbors_key
        Reuse the kNN distances stored by :func:`scanpy.pp.neighbors` under this key.
    perplexity
        Effective number of neighbours of the input affinities.
    n_components
        Dimension of the embedding.
    n_iter
        Number of optimisation iterations, including early exaggeration.
    early_exaggeration
        Factor on the attractive forces during the first ``early_exaggeration_iter`` iterations.
    early_exaggeration_iter
        Length of the early exaggeration phase.
    learning_rate
        Step size; ``"auto"`` is max(n / exaggeration, 50) in each phase (openTSNE's convention,
        with the gradient taken without its constant factor 4), so ``n / 12`` during early
        exaggeration.
    pair_scale
        How the kernel scale of a pair combines the two points' radii r_i, r_j (see ``radius``):
        ``"mean"`` (default) uses (r_i + r_j) / 2, ``"geometric"`` sqrt(r_i r_j); ``None`` gives
        plain t-SNE from the same engine. The same rule combines the perplexity bandwidths of
        the pair in the high-dimensional affinities.
    balance
        How far the input affinities are rescaled towards equal totals per observation (symmetric
        Sinkhorn balancing, in the logarithm of the scaling): 0 keeps t-SNE's symmetrised
        affinities, 1 makes them doubly stochastic. In high dimensions the cells near a cluster's
        centre are neighbours of many others and draw a dense core into the embedding that the
        data do not have; balancing removes it. The default's effect on kNN recall and density
        correlation is measured in the documentation (dtSNE, "Balanced affinities").
    radius
        Where each observation's radius comes from: ``"knn"`` (default), the mean distance to its
        15 nearest neighbours; ``"perplexity"``, the bandwidth sigma_i of perplexity calibration
        (the paper's choice). Perplexity calibration does not see a constant added to all of a
        point's squared distances, which is how a point's offset from its cluster's centre shows
        in high dimensions: in 50 dimensions sigma_i correlates only about 0.5 with the distance
        to the 15th neighbour, the mean kNN distance 0.99.
    contrast
        Amplification of flat radii. In high dimensions radii concentrate (a point's radius
        scales as density^(-1/D)), so clusters that differ in size, or a cluster's centre and
        rim, differ by a few per cent in radius, less than a 2-D layout's own irregularity. Log
        relative radii whose standard deviation sd is below contrast / 2 are raised to the
        power that gives them a spread of contrast - sd, so their order shows in the embedding;
        radii that vary more (clusters of unequal spread) are unchanged, so their ratios are
        kept. 0 carries them over as they are.
    density_weight
        Weight of a density term, -density_weight * Corr(log r_data, log R_embedding) (densMAP's
        idea; R the affinity-weighted mean squared distance to a point's neighbours), switched on
        halfway through the iterations after early exaggeration, once the layout has settled: it
        lines the embedding's local radii up with the data's where the kernel scales alone leave
        them noisy. 0 turns it off (the paper's objective). Only with a ``pair_scale``.
    repulsion
        Estimator of the repulsive forces: ``"exact"`` (O(n^2) per iteration, O(n) memory),
        ``"barnes_hut"`` (O(n log n), up to 3 embedding dimensions), or ``"auto"``: whichever a
        cost model estimates cheaper (exact below about 250 observations or above 3 dimensions),
        so the run time grows smoothly with n.
    theta
        Barnes-Hut accuracy, in (0, 1.5]: a cell acts as one point (with second-order corrections
        for the spread of its points and radii) when its side is below ``theta`` times the
        kernel's length scale at its distance, sqrt(d^2 + 1 / gamma). Smaller is more accurate and
        slower (the errors per value are measured in the documentation).
    metric
        Distance of the input space for the kNN search (``"euclidean"``, ``"cosine"``, or any
        metric pynndescent knows).
    random_state
        Seed or generator of the approximate kNN search; the same seed gives the same embedding.
    n_jobs
        Threads; ``None`` uses :attr:`scanpy.settings.n_jobs`. The result does not depend on it.
    device
        ``None`` or ``"cpu"``. This version runs on the CPU only; other devices raise.
    progress
        Show a progress bar.
    key_added
        Write ``obsm[key_added]`` and ``uns[key_added]`` instead of ``obsm["X_dtsne"]`` and ``uns["dtsne"]``.
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes:

    ``adata.obsm['X_dtsne' | key_added]`` : :class:`numpy.ndarray` (n_obs, n_components)
        The embedding.
    ``adata.uns['dtsne' | key_added]['params']`` : :class:`dict`
        The parameters used (``None`` values dropped; ``pair_scale=None`` recorded as ``"none"``).
    ``adata.uns['dtsne' | key_added]['kl_divergence']`` : :class:`float`
        The final objective (with Barnes-Hut repulsion, its normalisation is approximate).
    ``adata.uns['dtsne' | key_added]['repulsion']`` : :class:`str`
        The repulsion estimator that ran.
    ``adata.uns['dtsne' | key_added]['perplexity']`` : :class:`float`
        The perplexity used (lower than asked when a ``neighbors_key`` graph has too few neighbours).

    Examples
    --------
    >>> import scanpy as sc
    >>> import fischer_sc as fs
    >>> adata = sc.datasets.pbmc68k_reduced()
    >>> fs.tl.dtsne(adata, progress=False)
    >>> fs.pl.dtsne(adata, color="bulk_labels")  # doctest: +SKIP
    """
    # Validation: every option before any work, so adata is untouched on error.
    check_adata(adata, "dtsne")
    check_choice(pair_scale, "pair_scale", PAIR_SCALES)
    check_choice(repulsion, "repulsion", REPULSIONS)
    balance = check_number(balance, "balance", low=0.0, high=1.0, hint="0 keeps t-SNE's affinities, 1 balances fully")
    check_choice(radius, "radius", RADII)
    contrast = check_number(
        contrast, "contrast", low=0.0, high=2.0, hint=f"{TSNE_DEFAULTS.contrast} is the default, 0 turns it off"
    )
    density_weight = check_number(
        density_weight, "density_weight", low=0.0, hint=f"{TSNE_DEFAULTS.density_weight} is the default, 0 turns it off"
    )
    perplexity = check_number(perplexity, "perplexity", low=1.0, hint="30 is the usual choice")
    n_components = check_int(n_components, "n_components", low=1)
    n_iter = check_int(n_iter, "n_iter", low=0)
    early_exaggeration = check_number(early_exaggeration, "early_exaggeration", low=0.0, low_open=True)
    early_exaggeration_iter = check_int(early_exaggeration_iter, "early_exaggeration_iter", low=0, high=n_iter)
    if learning_rate != "auto":
        check_number(learning_rate, "learning_rate", low=0.0, low_open=True, hint="or 'auto'")
    theta = check_number(theta, "theta", low=0.0, low_open=True, high=1.5, hint="1.0 is the default")
    check_bool(progress, "progress")
    check_bool(copy, "copy")
    check_metric(metric)
    resolve_device(device, "dtsne")
    keys = resolve_keys("dtsne", key_added)
    threads = resolve_n_jobs(n_jobs)
    recorded, seed = resolve_random_state(random_state)
    if adata.n_obs < MIN_OBS:
        msg = f"dtsne needs at least {MIN_OBS} observations, got {adata.n_obs}."
        raise ValueError(msg)
    resolve_repulsion(repulsion, adata.n_obs, n_components)
    x = choose_representation(adata, use_rep=use_rep, n_pcs=n_pcs, tool="dtsne")
    if x.shape[1] < n_components:
        msg = f"n_components={n_components} exceeds the {x.shape[1]} dimensions of the representation."
        raise ValueError(msg)

    # Core: neighbours -> affinities -> PCA start -> optimisation.
    if neighbors_key is None:
        k = neighbours_for_perplexity(x.shape[0], perplexity, tool="dtsne")
        indices, distances = knn(x, k, metric=metric, random_state=seed, n_jobs=threads)
        used = perplexity
    else:
        indices, distances, used = _graph_neighbours(adata, neighbors_key, perplexity)
    aff = perplexity_affinities(indices, distances, used, pair_scale=pair_scale, balance=balance)
    scales, density = None, None
    if pair_scale is not None:
        log_r = knn_log_radii(distances) if radius == "knn" else -0.5 * np.log(aff.beta)
        scales = radius_scales(log_r, contrast)
        if density_weight > 0:
            density = DensityTerm(aff.P, log_r, density_weight)
    # The pair scale and the density term shape the last half of the iterations after early
    # exaggeration; plain t-SNE lays out the clusters before (docs/dtsne.md, "Global layout").
    late_start = early_exaggeration_iter + (n_iter - early_exaggeration_iter) // 2
    result = optimise(
        aff.P,
        pca_init(x, n_components),
        scales=scales,
        density=density,
        density_start=late_start,
        scale_start=late_start,
        pair_scale=pair_scale,
        n_iter=n_iter,
        early_exaggeration=early_exaggeration,
        early_exaggeration_iter=early_exaggeration_iter,
        learning_rate=learning_rate,
        repulsion=repulsion,
        theta=theta,
        n_jobs=threads,
        progress=progress_enabled(progress),
    )

    # Writing.
    adata = adata.copy() if copy else adata
    params = {
        "n_pcs": n_pcs,
        "use_rep": use_rep,
        "neighbors_key": neighbors_key,
        "perplexity": perplexity,
        "n_components": n_components,
        "n_iter": n_iter,
        "early_exaggeration": early_exaggeration,
        "early_exaggeration_iter": early_exaggeration_iter,
        "learning_rate": learning_rate,
        "pair_scale": "none" if pair_scale is None else pair_scale,
        "balance": balance,
        "radius": radius,
        "contrast": contrast,
        "density_weight": density_weight,
        "repulsion": repulsion,
        "theta": theta,
        "metric": metric,
        "random_state": recorded,
        "n_jobs": n_jobs,
        "key_added": key_added,
    }
    adata.obsm[keys.obsm] = result.embedding.astype(np.float32)
    adata.uns[keys.uns] = {
        "params": clean_params(params),
        "kl_divergence": float(result.kl_divergence),
        "repulsion": result.repulsion,
        "perplexity": float(used),
    }
    return adata if copy else None


def _graph_neighbours(adata: AnnData, key: str, perplexity: float) -> tuple[np.ndarray, np.ndarray, float]:
    """KNN indices and distances of the graph of ``sc.pp.neighbors(key_added=key)``, and the perplexity they allow."""
    record = adata.uns.get(key) if isinstance(key, str) else None
    if not isinstance(record, Mapping) or "distances_key" not in record:
        msg = f"neighbors_key={key!r} is not a neighbours record in adata.uns; run sc.pp.neighbors(adata, key_added={key!r}) first."
        raise KeyError(msg)
    dist_key = adata.uns[key]["distances_key"]
    if dist_key not in adata.obsp:
        msg = f"adata.obsp[{dist_key!r}] named by adata.uns[{key!r}] is missing; rerun sc.pp.neighbors."
        raise KeyError(msg)
    graph = adata.obsp[dist_key]
    check_finite(
        np.asarray(graph.data if sparse.issparse(graph) else graph, dtype=np.float64), f"adata.obsp[{dist_key!r}]"
    )
    indices, distances = knn_from_graph(graph)
    k = indices.shape[1]
    used = perplexity_for_neighbours(k, perplexity)
    factor = TSNE_DEFAULTS.neighbours_per_perplexity
    if k < factor * perplexity:
        warnings.warn(
            f"dtsne: the graph {key!r} has {k} neighbours per cell, fewer than {factor} * perplexity = "
            f"{factor * perplexity:g}; using perplexity={used:g}. Rerun sc.pp.neighbors with "
            f"n_neighbors >= {math.ceil(factor * perplexity) + 1} to keep it.",
            UserWarning,
            stacklevel=3,
        )
    return indices, distances, used

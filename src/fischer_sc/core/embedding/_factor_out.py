"""Factor-out embeddings on arrays: JEDI, ct-SNE and CONFETTI on the one t-SNE engine (or UMAP).

Each run takes the data representation ``x`` (n, d) and a :class:`~._priors.Prior`, and returns
the embedding with what the caller records about the run. The t-SNE schedule is
:data:`~._defaults.TSNE_DEFAULTS`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import sparse

from fischer_sc.core._numba import num_threads

from ._affinities import perplexity_affinities
from ._confetti import confetti_knn
from ._ctsne import CtsneRepulsion
from ._defaults import TSNE_DEFAULTS, neighbours_for_perplexity
from ._jedi import JediLabelRepulsion, JediRepulsion
from ._knn import knn
from ._optimise import optimise, pca_init, resolve_repulsion
from ._pair_scale import point_scales
from ._priors import Prior, prior_affinities
from ._umap import fuzzy_graph, umap_layout

#: Default weights of the prior term (``lam=None``) per method and prior kind (labels or other):
#: the smallest round values that remove the prior's clusters of the paper's synthetic set while
#: keeping the other clusters (docs/factor_out.md).
DEFAULT_LAM: dict[tuple[str, str], float] = {
    ("jedi", "labels"): 10.0,
    ("jedi", "other"): 50.0,
    ("confetti", "labels"): 2.0,
    ("confetti", "other"): 2.0,
}
#: Same-label partners per point and iteration of JEDI's label prior (an unbiased estimate).
LABEL_PRIOR_SAMPLES = 8
#: Prior pairs per point and iteration of JEDI's other priors, drawn in proportion to p' (None: all).
PRIOR_SAMPLES: int | None = None
CONFETTI_BACKENDS: tuple[str, ...] = ("umap", "tsne", "dtsne")


def default_lam(method: str, prior: Prior) -> float:
    """The default weight of the prior term of ``method`` ("jedi" or "confetti") for this prior."""
    return DEFAULT_LAM[method, "labels" if prior.kind == "labels" else "other"]


def data_affinities(
    x: np.ndarray, perplexity: float, *, metric: str = "euclidean", seed: int = 0, n_jobs: int | None = None
) -> sparse.csr_matrix:
    """t-SNE's symmetric affinities of ``x`` on its 3 * perplexity nearest neighbours."""
    k = neighbours_for_perplexity(x.shape[0], perplexity, tool="factor_out")
    idx, dist = knn(x, k, metric=metric, random_state=seed, n_jobs=n_jobs)
    return perplexity_affinities(idx, dist, perplexity, pair_scale=None).P


def tsne_run(
    P: sparse.csr_matrix,
    x: np.ndarray,
    *,
    n_components: int = 2,
    hook: Any = None,
    pair_scale: str | None = None,
    scales: np.ndarray | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """The engine's t-SNE on ``P`` from the PCA start of ``x``, with the schedule of :data:`TSNE_DEFAULTS`."""
    return optimise(
        P,
        pca_init(x, n_components),
        scales=scales,
        pair_scale=pair_scale,
        n_iter=TSNE_DEFAULTS.n_iter,
        early_exaggeration=TSNE_DEFAULTS.early_exaggeration,
        early_exaggeration_iter=TSNE_DEFAULTS.early_exaggeration_iter,
        n_jobs=n_jobs,
        progress=progress,
        repulsive_gradient=hook,
    ).embedding


def jedi_embedding(
    x: np.ndarray,
    prior: Prior,
    *,
    lam: float,
    alpha: float = 0.5,
    beta: float = 0.5,
    perplexity: float = TSNE_DEFAULTS.perplexity,
    prior_perplexity: float | None = None,
    metric: str = "euclidean",
    n_components: int = 2,
    seed: int = 0,
    n_jobs: int | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, dict[str, float]]:
    """JEDI: t-SNE on KL(P || Q) - lam JS^alpha_beta(P' || Q); returns the embedding and ``js_divergence``.

    A label prior is the uniform prior over all same-label points (``prior_perplexity`` does not
    apply); other priors get perplexity-calibrated P' (``prior_perplexity``, default
    ``perplexity``), and the info also holds the ``prior_perplexity`` used. The JS term starts
    after early exaggeration: exaggeration scales only the KL attraction, and a prior term acting
    on the compressed early layout would only fight it.
    """
    P = data_affinities(x, perplexity, metric=metric, seed=seed, n_jobs=n_jobs)
    common = {
        "alpha": float(alpha),
        "beta": float(beta),
        "weight": float(lam),
        "start": TSNE_DEFAULTS.early_exaggeration_iter,
        "js_iteration": TSNE_DEFAULTS.n_iter - 1,
    }
    info: dict[str, float] = {}
    if prior.kind == "labels":
        if prior_perplexity is not None:
            warnings.warn(
                "prior_perplexity has no effect with a label prior; JEDI uses the paper's prior, "
                "uniform over all same-label points.",
                UserWarning,
                stacklevel=3,
            )
        hook = JediLabelRepulsion(prior.values, n_samples=LABEL_PRIOR_SAMPLES, seed=seed, **common)
    else:
        P_prior, used = prior_affinities(prior, prior_perplexity or perplexity, random_state=seed)
        info["prior_perplexity"] = used
        hook = JediRepulsion(P_prior, n_samples=PRIOR_SAMPLES, seed=seed, **common)
    y = tsne_run(P, x, n_components=n_components, hook=hook, n_jobs=n_jobs, progress=progress)
    info["js_divergence"] = float(hook.js)
    return y, info


def ctsne_embedding(
    x: np.ndarray,
    prior: Prior,
    *,
    ctsne_beta: float = 1e-4,
    perplexity: float = TSNE_DEFAULTS.perplexity,
    metric: str = "euclidean",
    n_components: int = 2,
    seed: int = 0,
    n_jobs: int | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, dict[str, float]]:
    """ct-SNE with a label prior; returns the embedding and ``ctsne_alpha``, the same-label factor."""
    if prior.kind != "labels":
        msg = f"method='ctsne' needs a label prior (categorical obs column or labels), got {prior.description}; use 'jedi' or 'confetti'."
        raise ValueError(msg)
    P = data_affinities(x, perplexity, metric=metric, seed=seed, n_jobs=n_jobs)
    hook = CtsneRepulsion(prior.values, float(ctsne_beta), resolve_repulsion("auto", x.shape[0], n_components))
    y = tsne_run(P, x, n_components=n_components, hook=hook, n_jobs=n_jobs, progress=progress)
    return y, {"ctsne_alpha": float(hook.a)}


def confetti_embedding(
    x: np.ndarray,
    prior: Prior,
    *,
    lam: float,
    n_neighbors: int = 15,
    backend: str = "umap",
    perplexity: float = TSNE_DEFAULTS.perplexity,
    n_components: int = 2,
    seed: int = 0,
    n_jobs: int | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, sparse.csr_matrix, sparse.csr_matrix]:
    """CONFETTI: the exact kNN under F embedded by UMAP, the t-SNE engine, or the engine with dtSNE's pair scale.

    Returns the embedding, the kNN distances under F of the first ``n_neighbors - 1`` neighbours
    (CSR, :func:`scanpy.pp.neighbors` layout) and their UMAP connectivities. The ``"dtsne"``
    backend is ``fs.tl.dtsne``'s model on F: its pair scale and its default balance.
    """
    n = x.shape[0]
    if n_neighbors > n:
        msg = f"n_neighbors={n_neighbors} exceeds the {n} observations; lower it."
        raise ValueError(msg)
    k = n_neighbors - 1
    if backend != "umap":
        k = max(k, neighbours_for_perplexity(n, perplexity, tool="factor_out"))
    with num_threads(n_jobs):
        idx, dist = confetti_knn(x, prior, k, float(lam), np.random.default_rng(seed))
    graph = fuzzy_graph(idx, dist, n_neighbors, seed)
    rows = np.repeat(np.arange(n), n_neighbors - 1)
    distances = sparse.csr_matrix(
        (dist[:, : n_neighbors - 1].ravel(), (rows, idx[:, : n_neighbors - 1].ravel())), shape=(n, n)
    )
    if backend == "umap":
        return umap_layout(x, graph, seed, n_components), distances, graph
    pair_scale = "mean" if backend == "dtsne" else None
    balance = TSNE_DEFAULTS.balance if pair_scale else 0.0
    aff = perplexity_affinities(idx, dist, perplexity, pair_scale=pair_scale, balance=balance)
    scales = point_scales(aff.beta) if pair_scale else None
    y = tsne_run(
        aff.P, x, n_components=n_components, pair_scale=pair_scale, scales=scales, n_jobs=n_jobs, progress=progress
    )
    return y, distances, graph

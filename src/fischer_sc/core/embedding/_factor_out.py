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
from ._auto_lam import AutoBeta, AutoLam, Visibility, confetti_auto_lam
from ._confetti import confetti_knn, estimate_max_distance
from ._ctsne import CtsneRepulsion
from ._defaults import TSNE_DEFAULTS, neighbours_for_perplexity
from ._jedi import JediLabelRepulsion, JediRepulsion
from ._knn import knn
from ._optimise import optimise, pca_init, resolve_repulsion
from ._pair_scale import point_scales
from ._priors import Prior, prior_affinities
from ._select import select_rows
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
#: ``lam="auto"`` fixes JEDI's weight for this many final iterations (the layout converges on it).
AUTO_FREEZE_LAST = 150
#: Largest (query points x n) block of CONFETTI's lambda search (float64 entries).
AUTO_BLOCK = 2 * 10**7


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
    lam: float | str,
    alpha: float = 0.5,
    beta: float = 0.5,
    perplexity: float = TSNE_DEFAULTS.perplexity,
    prior_perplexity: float | None = None,
    metric: str = "euclidean",
    n_components: int = 2,
    seed: int = 0,
    n_jobs: int | None = None,
    progress: bool = False,
    reference_x: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """JEDI: t-SNE on KL(P || Q) - lam JS^alpha_beta(P' || Q); returns the embedding and ``js_divergence``.

    ``lam="auto"`` chooses the weight on the running embedding (``AutoLam`` (``_auto_lam``));
    the info then holds the final weight ``lam`` and ``lam_history``, the
    ``(iteration, visibility, weight)`` of every measurement. The target is relative to the
    prior's visibility in ``reference_x`` (default ``x``): pass the data before a linear
    correction so that the target stays that of the data.

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
        "weight": 1.0 if lam == "auto" else float(lam),
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
    if lam == "auto":
        start, n_iter = TSNE_DEFAULTS.early_exaggeration_iter, TSNE_DEFAULTS.n_iter
        vis = Visibility(prior, seed)
        reference = vis.of_layout(x if reference_x is None else reference_x)
        hook.auto = AutoLam(vis, reference, start=start, freeze=max(start + 1, n_iter - AUTO_FREEZE_LAST))
    y = tsne_run(P, x, n_components=n_components, hook=hook, n_jobs=n_jobs, progress=progress)
    info["js_divergence"] = float(hook.js)
    info["lam"] = float(hook.weight)
    if hook.auto is not None:
        info["lam_history"] = np.asarray(hook.auto.history, dtype=np.float64).reshape(-1, 3)
    return y, info


def ctsne_embedding(
    x: np.ndarray,
    prior: Prior,
    *,
    ctsne_beta: float | str = "auto",
    perplexity: float = TSNE_DEFAULTS.perplexity,
    metric: str = "euclidean",
    n_components: int = 2,
    seed: int = 0,
    n_jobs: int | None = None,
    progress: bool = False,
    reference_x: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """ct-SNE with a label prior; returns the embedding and ``ctsne_alpha`` / ``ctsne_beta``, the final label factors.

    ``ctsne_beta="auto"`` sets the factor of different-label pairs by feedback on the running
    layout (``AutoBeta`` (``_auto_lam``)): it starts at 1 (plain t-SNE) and falls only while the
    prior is visible, rising again if the labels mix below chance; the info then holds
    ``beta_history``, the ``(iteration, visibility, b)`` of every measurement. The target is
    relative to the prior's visibility in ``reference_x`` (default ``x``).
    """
    if prior.kind != "labels":
        msg = f"method='ctsne' needs a label prior (categorical obs column or labels), got {prior.description}; use 'jedi' or 'confetti'."
        raise ValueError(msg)
    P = data_affinities(x, perplexity, metric=metric, seed=seed, n_jobs=n_jobs)
    auto = None
    if ctsne_beta == "auto":
        start, n_iter = TSNE_DEFAULTS.early_exaggeration_iter, TSNE_DEFAULTS.n_iter
        vis = Visibility(prior, seed)
        reference = vis.of_layout(np.asarray(x if reference_x is None else reference_x, dtype=np.float64))
        auto = AutoBeta(vis, reference, start=start, freeze=max(start + 1, n_iter - AUTO_FREEZE_LAST))
    beta = 1.0 if auto is not None else float(ctsne_beta)
    hook = CtsneRepulsion(prior.values, beta, resolve_repulsion("auto", x.shape[0], n_components), auto=auto)
    y = tsne_run(P, x, n_components=n_components, hook=hook, n_jobs=n_jobs, progress=progress)
    info: dict[str, Any] = {"ctsne_alpha": float(hook.a), "ctsne_beta": float(hook.b)}
    if auto is not None:
        info["beta_history"] = np.asarray(auto.history, dtype=np.float64).reshape(-1, 3)
    return y, info


def confetti_embedding(
    x: np.ndarray,
    prior: Prior,
    *,
    lam: float | str,
    n_neighbors: int = 15,
    backend: str = "umap",
    perplexity: float = TSNE_DEFAULTS.perplexity,
    n_components: int = 2,
    seed: int = 0,
    n_jobs: int | None = None,
    progress: bool = False,
    reference_x: np.ndarray | None = None,
) -> tuple[np.ndarray, sparse.csr_matrix, sparse.csr_matrix, dict[str, Any]]:
    """CONFETTI: the exact kNN under F embedded by UMAP, the t-SNE engine, or the engine with dtSNE's pair scale.

    Returns the embedding, the kNN distances under F of the first ``n_neighbors - 1`` neighbours
    (CSR, :func:`scanpy.pp.neighbors` layout) and their UMAP connectivities. The ``"dtsne"``
    backend is ``fs.tl.dtsne``'s model on F: its pair scale and its default balance.
    ``lam="auto"`` picks lambda by ``confetti_lam`` (the choice is ``info["lam"]``), with
    the target relative to the prior's visibility in ``reference_x`` (default ``x``).
    """
    n = x.shape[0]
    if n_neighbors > n:
        msg = f"n_neighbors={n_neighbors} exceeds the {n} observations; lower it."
        raise ValueError(msg)
    k = n_neighbors - 1
    if backend != "umap":
        k = max(k, neighbours_for_perplexity(n, perplexity, tool="factor_out"))
    info: dict[str, Any] = {}
    if lam == "auto":
        lam, tried = confetti_lam(x, prior, k, seed, reference_x=reference_x)
        info["lam_search"] = np.asarray(tried, dtype=np.float64).reshape(-1, 2)
    info["lam"] = float(lam)
    with num_threads(n_jobs):
        idx, dist = confetti_knn(x, prior, k, float(lam), np.random.default_rng(seed))
    graph = fuzzy_graph(idx, dist, n_neighbors, seed)
    rows = np.repeat(np.arange(n), n_neighbors - 1)
    distances = sparse.csr_matrix(
        (dist[:, : n_neighbors - 1].ravel(), (rows, idx[:, : n_neighbors - 1].ravel())), shape=(n, n)
    )
    if backend == "umap":
        return umap_layout(x, graph, seed, n_components), distances, graph, info
    pair_scale = "mean" if backend == "dtsne" else None
    balance = TSNE_DEFAULTS.balance if pair_scale else 0.0
    aff = perplexity_affinities(idx, dist, perplexity, pair_scale=pair_scale, balance=balance)
    scales = point_scales(aff.beta) if pair_scale else None
    y = tsne_run(
        aff.P, x, n_components=n_components, pair_scale=pair_scale, scales=scales, n_jobs=n_jobs, progress=progress
    )
    return y, distances, graph, info


def confetti_lam(
    x: np.ndarray, prior: Prior, k: int, seed: int = 0, *, reference_x: np.ndarray | None = None
) -> tuple[float, list[tuple[float, float]]]:
    """CONFETTI's ``lam="auto"``: the smallest lambda whose F-kNN lists hide the prior (see :mod:`._auto_lam`).

    The F rows of a random subset of points (at most 1 000, fewer for large n) are formed once;
    each candidate lambda then costs one top-k selection (the heap selection of ``_select``, the
    first k of a stable argsort at a fraction of its cost). Returns lambda and the
    ``(lambda, visibility)`` of each candidate tried.
    """
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    vis = Visibility(prior, seed)
    m = max(50, min(vis.queries.size, AUTO_BLOCK // max(n, 1)))
    if m < vis.queries.size:
        vis.queries = np.sort(rng.choice(vis.queries, m, replace=False))
    q = vis.queries
    x = np.ascontiguousarray(x, dtype=np.float64)
    sx = estimate_max_distance(x, rng)
    sz = prior.max_distance(rng)
    dx = _rows_to_all(x, q) / (sx if sx > 0 else 1.0)
    dz = np.vstack([prior.block(int(i), int(i) + 1) for i in q])
    dz = np.where(np.isfinite(dz), dz / (sz if sz > 0 else 1.0), 1.0)
    dx[np.arange(q.size), q] = np.inf
    kk = min(k, n - 1)
    ref = x if reference_x is None else np.ascontiguousarray(reference_x, dtype=np.float64)
    ref_d = _rows_to_all(ref, q)
    ref_d[np.arange(q.size), q] = np.inf
    data_idx = np.argsort(ref_d, axis=1, kind="stable")[:, :kk]

    dz = np.minimum(dz, 1.0)
    idx, vals = np.empty((q.size, kk), dtype=np.int64), np.empty((q.size, kk))

    def graph_visibility(lam: float) -> float:
        f = dx - 0.5 * lam * dz + lam
        select_rows(f, kk, idx, vals)  # the first kk of a stable argsort: the kk smallest by (value, index)
        return vis.of_neighbours(idx)

    return confetti_auto_lam(graph_visibility, vis, data_idx)


def _rows_to_all(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Euclidean distances of the points ``rows`` to all points, (len(rows), n)."""
    sq = np.einsum("ij,ij->i", x, x)
    d2 = sq[rows, None] - 2.0 * (x[rows] @ x.T) + sq[None, :]
    return np.sqrt(np.maximum(d2, 0.0))

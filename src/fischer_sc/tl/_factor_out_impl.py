"""The body of :func:`fischer_sc.tl.factor_out`: validate, resolve the prior, run JEDI, CONFETTI or ct-SNE, write.

Nothing is written into ``adata`` before every computation has succeeded, so ``adata`` is
unchanged on error.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from fischer_sc._utils import choose_representation, clean_params, progress_enabled, resolve_keys, resolve_rng

from ._factor_out_prior import resolve_prior

if TYPE_CHECKING:
    from anndata import AnnData

    from fischer_sc.core.embedding._priors import Prior

METHODS = ("jedi", "confetti", "ctsne")
EMBEDDINGS = ("umap", "tsne", "dtsne")
_NOT_PARAMS = ("adata", "prior", "prior_key", "device", "progress", "copy", "run_factor_out")
#: t-SNE schedule shared by JEDI, ct-SNE and CONFETTI's t-SNE backends (openTSNE's defaults).
N_ITER, EXAGGERATION, EXAGGERATION_ITER = 750, 12.0, 250
MIN_OBS = 5
#: Default weights of the prior term (``lam=None``), measured on the paper's synthetic set
#: (docs/factor_out.md): the smallest round values that remove block A while keeping block B.
DEFAULT_LAM = {
    ("jedi", "labels"): 10.0,
    ("jedi", "other"): 50.0,
    ("confetti", "labels"): 2.0,
    ("confetti", "other"): 2.0,
}
#: Same-label partners per point and iteration of JEDI's label prior (an unbiased estimate; see core.embedding._jedi).
LABEL_PRIOR_SAMPLES = 8
#: Prior pairs per point and iteration of JEDI's other priors, drawn in proportion to p' (None: all).
PRIOR_SAMPLES: int | None = None


def _positive(a: dict[str, Any], name: str, hint: str) -> None:
    v = a[name]
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
        msg = f"{name} must be a positive number, got {v!r}; {hint}."
        raise ValueError(msg)


def _check_options(a: dict[str, Any]) -> None:
    """Raise on bad options before any work is done."""
    from fischer_sc.core.embedding._jedi import check_alpha_beta

    if a["method"] not in METHODS:
        msg = f"method={a['method']!r} is not one of {', '.join(map(repr, METHODS))}."
        raise ValueError(msg)
    if a["embedding"] not in EMBEDDINGS:
        msg = f"embedding={a['embedding']!r} is not one of {', '.join(map(repr, EMBEDDINGS))}."
        raise ValueError(msg)
    if a["lam"] is not None:
        _positive(a, "lam", "None chooses per method (JEDI 10 for labels, 50 otherwise; CONFETTI 2)")
    check_alpha_beta(a["alpha"], a["beta"])
    if not isinstance(a["ctsne_beta"], numbers.Real) or not 0 < a["ctsne_beta"] <= 1:
        msg = f"ctsne_beta must lie in (0, 1], got {a['ctsne_beta']!r}; 1e-4 is the default."
        raise ValueError(msg)
    for name in ("perplexity", "prior_perplexity"):
        v = a[name]
        if v is None and name == "prior_perplexity":
            continue
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v) or v < 1:
            msg = f"{name} must be a number >= 1, got {v!r}; 30 is the usual choice."
            raise ValueError(msg)
    k = a["n_neighbors"]
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 2:
        msg = f"n_neighbors must be an integer >= 2, got {k!r}."
        raise ValueError(msg)
    if a["device"] not in (None, "cpu"):
        msg = f"device={a['device']!r}: factor_out runs on the CPU only; use device=None."
        raise ValueError(msg)


def _check_perplexity(n: int, perplexity: float, what: str) -> int:
    """The kNN size 3 * perplexity, or a ValueError when the data are too small for it."""
    if n - 1 < 3 * perplexity:
        msg = (
            f"factor_out needs more than 3 * {what} = {3 * perplexity:g} observations, got {n}. "
            f"Lower {what} to at most {(n - 1) / 3:g}."
        )
        raise ValueError(msg)
    return min(n - 1, math.floor(3 * perplexity))


def _data_affinities(x: np.ndarray, perplexity: float, seed: int) -> sparse.csr_matrix:
    from fischer_sc.core.embedding import knn, perplexity_affinities

    k = _check_perplexity(x.shape[0], perplexity, "perplexity")
    idx, dist = knn(x, k, random_state=seed)
    return perplexity_affinities(idx, dist, perplexity, pair_scale=None).P


def _tsne(
    P: sparse.csr_matrix, x: np.ndarray, *, progress: bool, hook: Any = None, pair_scale: str | None = None, scales=None
) -> np.ndarray:
    from fischer_sc.core.embedding import optimise, pca_init

    return optimise(
        P,
        pca_init(x, 2),
        scales=scales,
        pair_scale=pair_scale,
        n_iter=N_ITER,
        early_exaggeration=EXAGGERATION,
        early_exaggeration_iter=EXAGGERATION_ITER,
        progress=progress,
        repulsive_gradient=hook,
    ).embedding


def _run_jedi(x: np.ndarray, prior: Prior, a: dict[str, Any], seed: int, info: dict[str, Any]) -> np.ndarray:
    from fischer_sc.core.embedding._jedi import JediLabelRepulsion, JediRepulsion
    from fischer_sc.core.embedding._priors import prior_affinities

    P = _data_affinities(x, float(a["perplexity"]), seed)
    # The JS term starts after early exaggeration: exaggeration scales only the KL attraction,
    # and a prior term acting on the compressed early layout would only fight it.
    common = {
        "alpha": float(a["alpha"]),
        "beta": float(a["beta"]),
        "weight": float(a["lam"]),
        "start": EXAGGERATION_ITER,
        "js_iteration": N_ITER - 1,
    }
    if prior.kind == "labels":
        if a["prior_perplexity"] is not None:
            warnings.warn(
                "factor_out: prior_perplexity has no effect with a label prior; JEDI uses the paper's prior, "
                "uniform over all same-label cells.",
                UserWarning,
                stacklevel=4,
            )
        # The paper's label prior, uniform over all same-label points, estimated from
        # LABEL_PRIOR_SAMPLES fresh same-label partners per point and iteration.
        hook = JediLabelRepulsion(prior.values, n_samples=LABEL_PRIOR_SAMPLES, seed=seed, **common)
    else:
        prior_perp = float(a["prior_perplexity"] if a["prior_perplexity"] is not None else a["perplexity"])
        P_prior, used = prior_affinities(prior, prior_perp, random_state=seed)
        info["prior_perplexity"] = used
        hook = JediRepulsion(P_prior, n_samples=PRIOR_SAMPLES, seed=seed, **common)
    y = _tsne(P, x, progress=progress_enabled(a["progress"]), hook=hook)
    info["js_divergence"] = float(hook.js)
    return y


def _run_ctsne(x: np.ndarray, prior: Prior, a: dict[str, Any], seed: int, info: dict[str, Any]) -> np.ndarray:
    from fischer_sc.core.embedding._ctsne import CtsneRepulsion
    from fischer_sc.core.embedding._optimise import resolve_repulsion

    if prior.kind != "labels":
        msg = f"method='ctsne' needs a label prior (categorical obs column or labels), got {prior.description}; use 'jedi' or 'confetti'."
        raise ValueError(msg)
    P = _data_affinities(x, float(a["perplexity"]), seed)
    hook = CtsneRepulsion(prior.values, float(a["ctsne_beta"]), resolve_repulsion("auto", x.shape[0]))
    info["ctsne_alpha"] = float(hook.a)
    return _tsne(P, x, progress=progress_enabled(a["progress"]), hook=hook)


def _umap_graph(x: np.ndarray, idx: np.ndarray, dist: np.ndarray, n_neighbors: int, seed: int) -> sparse.csr_matrix:
    """UMAP's fuzzy connectivities of the F-kNN graph (self in column 0, as umap expects)."""
    # umap's package import warns that the optional TensorFlow (ParametricUMAP) is missing.
    with warnings.catch_warnings(action="ignore", category=ImportWarning):
        from umap.umap_ import fuzzy_simplicial_set
    n = x.shape[0]
    knn_i = np.hstack([np.arange(n)[:, None], idx[:, : n_neighbors - 1]])
    knn_d = np.hstack([np.zeros((n, 1)), dist[:, : n_neighbors - 1]]).astype(np.float32)
    graph, _, _ = fuzzy_simplicial_set(
        np.empty((n, 0)), n_neighbors, np.random.RandomState(seed), "euclidean", knn_indices=knn_i, knn_dists=knn_d
    )
    return sparse.csr_matrix(graph)


def _umap_embed(x: np.ndarray, graph: sparse.csr_matrix, seed: int) -> np.ndarray:
    """umap-learn's layout of a fuzzy graph, as :func:`scanpy.tl.umap` calls it."""
    from umap.umap_ import find_ab_params, simplicial_set_embedding

    a, b = find_ab_params(1.0, 0.5)
    n = x.shape[0]
    y, _ = simplicial_set_embedding(
        data=x,
        graph=graph.tocoo(),
        n_components=2,
        initial_alpha=1.0,
        a=a,
        b=b,
        gamma=1.0,
        negative_sample_rate=5,
        n_epochs=500 if n <= 10_000 else 200,
        init="spectral",
        random_state=np.random.RandomState(seed),
        metric="euclidean",
        metric_kwds={},
        densmap=False,
        densmap_kwds={},
        output_dens=False,
    )
    return np.asarray(y, dtype=np.float64)


def _dtsne_default_balance() -> float:
    """The ``balance`` default of :func:`fischer_sc.tl.dtsne`, read from its signature so the two stay in step."""
    import inspect

    from fischer_sc.tl import dtsne

    return float(inspect.signature(dtsne).parameters["balance"].default)


def _run_confetti(
    x: np.ndarray, prior: Prior, a: dict[str, Any], seed: int, info: dict[str, Any]
) -> tuple[np.ndarray, sparse.csr_matrix, sparse.csr_matrix]:
    from fischer_sc.core.embedding import perplexity_affinities, point_scales
    from fischer_sc.core.embedding._confetti import confetti_knn

    n = x.shape[0]
    n_neighbors = int(a["n_neighbors"])
    if n_neighbors > n:
        msg = f"n_neighbors={n_neighbors} exceeds the {n} observations; lower it."
        raise ValueError(msg)
    k = n_neighbors - 1
    if a["embedding"] != "umap":
        k = max(k, _check_perplexity(n, float(a["perplexity"]), "perplexity"))
    idx, dist = confetti_knn(x, prior, k, float(a["lam"]), np.random.default_rng(seed))
    graph = _umap_graph(x, idx, dist, n_neighbors, seed)
    rows = np.repeat(np.arange(n), n_neighbors - 1)
    distances = sparse.csr_matrix(
        (dist[:, : n_neighbors - 1].ravel(), (rows, idx[:, : n_neighbors - 1].ravel())), shape=(n, n)
    )
    if a["embedding"] == "umap":
        y = _umap_embed(x, graph, seed)
    else:
        pair_scale = "mean" if a["embedding"] == "dtsne" else None
        # "dtsne" is fs.tl.dtsne's model on F: its pair scale and its default balance.
        balance = _dtsne_default_balance() if pair_scale else 0.0
        aff = perplexity_affinities(idx, dist, float(a["perplexity"]), pair_scale=pair_scale, balance=balance)
        scales = point_scales(aff.beta) if pair_scale else None
        y = _tsne(aff.P, x, progress=progress_enabled(a["progress"]), pair_scale=pair_scale, scales=scales)
    info["n_neighbors"] = n_neighbors
    return y, distances, graph


def run_factor_out(adata: AnnData, a: dict[str, Any]) -> AnnData | None:
    """Run :func:`fischer_sc.tl.factor_out` with its arguments ``a`` (its ``locals()``)."""
    _check_options(a)
    keys = resolve_keys("factor_out", a["key_added"])
    seed = int(resolve_rng(a["random_state"]).integers(2**31 - 1))
    if adata.n_obs < MIN_OBS:
        msg = f"factor_out needs at least {MIN_OBS} observations, got {adata.n_obs}."
        raise ValueError(msg)
    prior = resolve_prior(adata, a["prior_key"], a["prior"], a["layer"])
    x = np.ascontiguousarray(
        choose_representation(adata, use_rep=a["use_rep"], n_pcs=a["n_pcs"], tool="factor_out"), dtype=np.float64
    )
    if prior.n != x.shape[0]:  # pragma: no cover - resolve_prior checks the length
        msg = f"the prior has {prior.n} rows for {x.shape[0]} observations."
        raise ValueError(msg)
    info: dict[str, Any] = {}
    graph = None
    if a["lam"] is None and a["method"] != "ctsne":
        a = {**a, "lam": DEFAULT_LAM[a["method"], "labels" if prior.kind == "labels" else "other"]}
    if a["method"] == "jedi":
        y = _run_jedi(x, prior, a, seed, info)
    elif a["method"] == "ctsne":
        y = _run_ctsne(x, prior, a, seed, info)
    else:
        y, distances, graph = _run_confetti(x, prior, a, seed, info)

    if a["copy"]:
        adata = adata.copy()
    params = {k: v for k, v in a.items() if k not in _NOT_PARAMS}
    params["factor_out_method"] = a["method"]
    params["prior"] = prior.description
    params["prior_kind"] = prior.kind
    if a["prior_key"] is not None:
        params["prior_key"] = a["prior_key"] if isinstance(a["prior_key"], str) else list(map(str, a["prior_key"]))
    if not isinstance(a["random_state"], numbers.Integral):
        params["random_state"] = seed
    params.update({k: v for k, v in info.items() if k in ("prior_perplexity", "ctsne_alpha")})
    record: dict[str, Any] = {}
    if "js_divergence" in info:
        record["js_divergence"] = info["js_divergence"]
    if graph is not None and a["store_graph"]:
        # scanpy's neighbours layout: sc.tl.umap / sc.tl.leiden(neighbors_key=...) read these.
        params.update(n_neighbors=info["n_neighbors"], method="umap", metric="precomputed")
        if a["use_rep"] is not None:
            params["use_rep"] = a["use_rep"]
        record["distances_key"] = f"{keys.uns}_distances"
        record["connectivities_key"] = f"{keys.uns}_connectivities"
        adata.obsp[record["distances_key"]] = distances
        adata.obsp[record["connectivities_key"]] = graph
    adata.obsm[keys.obsm] = y.astype(np.float32)
    adata.uns[keys.uns] = {"params": clean_params(params), **record}
    return adata if a["copy"] else None

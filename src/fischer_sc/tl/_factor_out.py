from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from fischer_sc._utils import (
    check_adata,
    check_bool,
    check_choice,
    check_finite,
    check_int,
    check_metric,
    check_number,
    check_spread,
    choose_representation,
    clean_params,
    is_label_dtype,
    labels_to_codes,
    locate_key,
    obs_codes,
    progress_enabled,
    resolve_device,
    resolve_keys,
    resolve_n_jobs,
    resolve_random_state,
    var_values,
    write_neighbors,
)
from fischer_sc.core import embedding as emb

if TYPE_CHECKING:
    from anndata import AnnData

METHODS = ("auto", "jedi", "confetti", "ctsne")
MIN_OBS = 5


def factor_out(
    adata: AnnData,
    prior_key: str | Sequence[str] | None = None,
    *,
    prior: np.ndarray | None = None,
    method: Literal["auto", "jedi", "confetti", "ctsne"] = "auto",
    use_rep: str | None = None,
    n_pcs: int | None = None,
    layer: str | None = None,
    lam: float | Literal["auto"] | None = "auto",
    regress_out: bool = True,
    local_correct: bool = True,
    alpha: float = 0.5,
    beta: float = 0.5,
    ctsne_beta: float | Literal["auto"] = "auto",
    perplexity: float = emb.TSNE_DEFAULTS.perplexity,
    prior_perplexity: float | None = None,
    metric: str = "euclidean",
    n_components: int = 2,
    embedding: Literal["umap", "tsne", "dtsne"] = "umap",
    n_neighbors: int = 15,
    store_graph: bool = True,
    random_state: int | np.random.Generator | None = 0,
    n_jobs: int | None = None,
    device: str | None = None,
    progress: bool = True,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Embed the structure of the data beyond a known prior: JEDI, CONFETTI and ct-SNE :cite:p:`factor_out`.

    Before the embedding, the prior's effect is removed from the representation as far as the
    data allow (docs/factor_out.md): with ``regress_out`` its linear effect (as
    :func:`scanpy.pp.regress_out`), then with ``local_correct``, only while the prior is still
    visible among the cells' neighbours, the local stages: for feature priors the mean over each
    cell's nearest neighbours in the prior (a non-linear regression on the prior), and a
    mutual-nearest-neighbour alignment between prior groups (the labels, or k-means clusters of
    the prior features) that removes effects which differ per cluster. The method then removes
    what is left, at a strength chosen from the same visibility measure (``lam="auto"``,
    ``ctsne_beta="auto"``).

    * ``"jedi"``: t-SNE on KL(P || Q) - lam JS(P' || Q), the alpha-beta Jensen-Shannon
      divergence to the prior affinities P' (a label prior: uniform over same-label points,
      sampled afresh every iteration), at t-SNE speed, after early exaggeration.
    * ``"confetti"``: the exact kNN under F = D'^X - (lam / 2) D'^Z + lam, embedded with UMAP or
      the t-SNE engine (the backends differ). With more than two labels F pairs each label only
      with its nearest other label, so labels stay partly visible; use JEDI for those.
    * ``"ctsne"``: the original ct-SNE (the label factor on Q), for label priors only.

    Parameters
    ----------
    adata
        Annotated data matrix.
    prior_key
        An ``obs`` column (labels or numbers), a list of ``obs`` columns or ``var_names``, an ``obsm`` or ``obsp`` key.
    prior
        The prior as an array instead: labels (n,), features (n, d) or distances (n, n).
    method
        ``"auto"`` (ct-SNE for label priors, JEDI for others: the sweep of docs/factor_out.md),
        ``"jedi"``, ``"confetti"`` or ``"ctsne"`` (label priors only).
    use_rep
        Representation of the data (``"X"`` or an ``obsm`` key); ``None`` chooses as scanpy does.
    n_pcs
        Use this many principal components of the representation.
    layer
        Layer to read ``var_names`` priors from.
    lam
        JEDI's / CONFETTI's weight. ``"auto"``: chosen from the data (docs/factor_out.md); ``None``:
        the former fixed values (JEDI 10 / 50, CONFETTI 2).
    regress_out
        First subtract the prior's linear effect (label means, or a least-squares fit on prior
        features; distance priors have none). With ``local_correct`` it is kept only if it lowers
        the prior's visibility (label means can also carry structure that differs between the
        labels, e.g. cell-type composition per cell-cycle phase).
    local_correct
        Then, while the prior is still visible in the data's neighbourhoods, remove its local
        effects: the conditional mean on a feature prior (kept only if it halves the visibility)
        and MNN alignment of the prior groups (only if the groups still differ beyond chance;
        rounds until the visibility is at most 1 % of the data's or stops falling). A visibility
        within twice its measurement noise counts as chance. Every choice is recorded in ``uns[key]["correction"]``. Graph and dense
        distance priors have no groups: nothing is done.
    alpha
        Alpha in [0, 1] of JEDI's alpha-beta divergence.
    beta
        Beta in (0, 1) of JEDI's alpha-beta divergence.
    ctsne_beta
        ct-SNE's factor of different-label pairs, in (0, 1] (same-label pairs: mean factor 1), or
        ``"auto"``: from 1 (plain t-SNE) down while the prior is visible in the running layout,
        up again if the labels mix below chance (the paper's fixed 1e-4 over-corrects weak priors).
    perplexity
        Perplexity of the data affinities.
    prior_perplexity
        Perplexity of JEDI's prior affinities of non-label priors; ``None`` uses ``perplexity``.
        Label priors are uniform over the same-label points (a warning says it is ignored).
    metric
        Data distance of JEDI's and ct-SNE's kNN (as in :func:`fischer_sc.tl.dtsne`); CONFETTI
        accepts only ``"euclidean"``.
    n_components
        Dimension of the embedding.
    embedding
        CONFETTI's backend: ``"umap"`` (umap-learn on the F graph), ``"tsne"`` (the t-SNE engine
        on F) or ``"dtsne"`` (with dtSNE's pair scale and default ``balance``).
    n_neighbors
        Neighbours of the CONFETTI graph.
    store_graph
        Store the CONFETTI graph in the :func:`scanpy.pp.neighbors` layout.
    random_state
        Seed or generator; the same seed gives the same embedding.
    n_jobs
        Threads; ``None`` uses :attr:`scanpy.settings.n_jobs` (the result does not depend on it).
    device
        ``None`` or ``"cpu"`` (CPU only).
    progress
        Show a progress bar.
    key_added
        Prefix of every key written instead of ``"factor_out"``.
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes (``key`` is ``key_added`` or ``"factor_out"``):

    ``adata.obsm['X_factor_out' | key_added]`` : :class:`numpy.ndarray`
        The embedding.
    ``adata.uns[key]`` : :class:`dict`
        ``params``: the arguments (``method`` the one that ran, ``lam`` as given, ``lam_used`` the weight used), ``prior`` (a
        text description, never its values) and ``prior_kind``; for JEDI ``js_divergence`` (the
        final JS^alpha_beta(P' || Q)) and with ``"auto"`` ``lam_history`` (iteration, visibility,
        weight); for ct-SNE's ``"auto"`` ``beta_history`` (iteration, visibility, b) and
        ``params["ctsne_beta_used"]``; for CONFETTI's ``"auto"`` ``lam_search`` (lambda,
        visibility); ``correction``: what the correction stages measured and did
        (``visibility_data``, ``visibility_linear``, ``visibility_noise``, ``conditional_mean``,
        ``groups``, ``n_groups``, ``silhouette``, ``alignment_signal``, ``alignment_rounds``,
        ``visibility_rounds``, ``visibility_corrected``); with a
        stored graph ``neighbors_key``.
    ``adata.uns[key + '_neighbors']`` : :class:`dict`
        CONFETTI's graph record as :func:`scanpy.pp.neighbors` writes it, for ``sc.tl.umap``.
    ``adata.obsp[key + '_distances' | key + '_connectivities']`` : :class:`scipy.sparse.csr_matrix`
        CONFETTI graph distances under F and UMAP connectivities (with ``store_graph``).
    """
    check_adata(adata, "factor_out")
    check_choice(method, "method", METHODS)
    check_choice(embedding, "embedding", emb.CONFETTI_BACKENDS)
    lam = lam if lam is None or lam == "auto" else check_number(lam, "lam", low=0.0, low_open=True, hint="or 'auto'")
    alpha = check_number(alpha, "alpha", low=0.0, high=1.0, hint="0.5 is the default")
    beta = check_number(beta, "beta", low=0.0, high=1.0, low_open=True, high_open=True, hint="0.5 is the default")
    if ctsne_beta != "auto":
        ctsne_beta = check_number(ctsne_beta, "ctsne_beta", low=0.0, high=1.0, low_open=True, hint="or 'auto'")
    perplexity = check_number(perplexity, "perplexity", low=1.0, hint="30 is the usual choice")
    prior_perplexity = None if prior_perplexity is None else check_number(prior_perplexity, "prior_perplexity", low=1.0)
    n_components = check_int(n_components, "n_components", low=1)
    n_neighbors = check_int(n_neighbors, "n_neighbors", low=2)
    if method == "confetti" and metric != "euclidean":
        msg = f"metric={metric!r}: CONFETTI's operator F is defined on Euclidean distances; use metric='euclidean'."
        raise ValueError(msg)
    check_bool(store_graph, "store_graph")
    check_bool(regress_out, "regress_out")
    check_bool(local_correct, "local_correct")
    check_bool(progress, "progress")
    check_bool(copy, "copy")
    check_metric(metric)
    resolve_device(device, "factor_out")
    keys = resolve_keys("factor_out", key_added)
    threads, (recorded, seed) = resolve_n_jobs(n_jobs), resolve_random_state(random_state)
    if adata.n_obs < MIN_OBS:
        msg = f"factor_out needs at least {MIN_OBS} observations, got {adata.n_obs}."
        raise ValueError(msg)
    the_prior = _resolve_prior(adata, prior_key, prior, layer)
    if the_prior.kind == "features":  # its neighbours are searched as the data's are
        check_spread(the_prior.values, "the prior", identical_ok=True)
    method = ("ctsne" if the_prior.kind == "labels" else "jedi") if method == "auto" else method
    x = np.ascontiguousarray(choose_representation(adata, use_rep=use_rep, n_pcs=n_pcs, tool="factor_out"))
    weight = emb.default_lam(method, the_prior) if lam is None and method != "ctsne" else lam
    reference, correction = x, {}
    if regress_out or local_correct:
        x, correction = emb.local_correction(x, the_prior, linear=regress_out, local=local_correct, seed=seed)
    run = {"perplexity": perplexity, "n_components": n_components, "seed": seed, "n_jobs": threads}
    run["progress"], run["reference_x"], graph = progress_enabled(progress), reference, None
    if method == "jedi":
        y, info = emb.jedi_embedding(
            x, the_prior, lam=weight, alpha=alpha, beta=beta, prior_perplexity=prior_perplexity, metric=metric, **run
        )
    elif method == "ctsne":
        y, info = emb.ctsne_embedding(x, the_prior, ctsne_beta=ctsne_beta, metric=metric, **run)
    else:
        y, distances, graph, info = emb.confetti_embedding(
            x, the_prior, lam=weight, n_neighbors=n_neighbors, backend=embedding, **run
        )

    adata = adata.copy() if copy else adata
    params = {
        "prior_key": prior_key if prior_key is None or isinstance(prior_key, str) else [str(k) for k in prior_key],
        "method": method,
        "use_rep": use_rep,
        "n_pcs": n_pcs,
        "layer": layer,
        "lam": lam if method != "ctsne" else None,
        "lam_used": info.get("lam"),
        "regress_out": regress_out,
        "local_correct": local_correct,
        "alpha": alpha,
        "beta": beta,
        "ctsne_beta": ctsne_beta,
        "perplexity": perplexity,
        "prior_perplexity": info.get("prior_perplexity", prior_perplexity),
        "metric": metric,
        "n_components": n_components,
        "embedding": embedding,
        "n_neighbors": n_neighbors,
        "store_graph": store_graph,
        "random_state": recorded,
        "n_jobs": n_jobs,
        "key_added": key_added,
        "prior": the_prior.description,
        "prior_kind": the_prior.kind,
        "ctsne_alpha": info.get("ctsne_alpha"),
        "ctsne_beta_used": info.get("ctsne_beta"),
    }
    record: dict[str, Any] = {"params": clean_params(params)}
    record.update({k: info[k] for k in ("js_divergence", "lam_history", "lam_search", "beta_history") if k in info})
    if correction:
        record["correction"] = correction
    if graph is not None and store_graph:  # sc.tl.umap / sc.tl.leiden(neighbors_key=...) read this record
        record["neighbors_key"] = f"{keys.uns}_neighbors"
        nn_params = {"n_neighbors": n_neighbors, "method": "umap", "metric": "precomputed", "use_rep": use_rep}
        nn_params.update(n_pcs=n_pcs, random_state=params["random_state"])
        write_neighbors(adata, record["neighbors_key"], distances, graph, nn_params, prefix=keys.uns)
    adata.obsm[keys.obsm] = y.astype(np.float32)
    adata.uns[keys.uns] = record
    return adata if copy else None


def _resolve_prior(adata: AnnData, prior_key: Any, prior: Any, layer: str | None) -> emb.Prior:
    """The prior named by ``prior_key`` (obs, obsm, obsp or var_names) or given as ``prior``: exactly one of them."""
    if (prior_key is None) == (prior is None):
        given = "neither was given." if prior_key is None else "both were given."
        msg = f"factor_out needs exactly one of prior_key (a name in adata, e.g. prior_key='phase') and prior (an array); {given}"
        raise ValueError(msg)
    if prior is not None:
        return _prior_from_array(prior, adata.n_obs)
    if isinstance(prior_key, str):
        return _prior_from_name(adata, prior_key, layer)
    if not isinstance(prior_key, Sequence) or not prior_key:
        msg = f"prior_key must be a string or a non-empty list of obs columns or var_names, got {prior_key!r}."
        raise TypeError(msg) if not isinstance(prior_key, Sequence) else ValueError(msg)
    keys = [str(k) for k in prior_key]
    places = {locate_key(adata, k, "prior_key entry", places=("obs", "var_names")) for k in keys}
    if places == {"var_names"}:
        where = f"layers[{layer!r}]" if layer else "X"
        return emb.Prior("features", var_values(adata, keys, layer), f"Euclidean distance on genes {keys} ({where})")
    if places != {"obs"}:
        msg = f"prior_key={keys} mixes obs columns and var_names; use one kind (or pass prior= as an array)."
        raise ValueError(msg)
    bad = [k for k in keys if is_label_dtype(adata.obs[k].dtype)]
    if bad:
        msg = (
            f"prior_key lists obs columns {bad} that are not numeric; a list prior is a Euclidean distance on numbers."
        )
        raise ValueError(msg)
    z = check_finite(adata.obs[keys].to_numpy(dtype=np.float64), f"adata.obs[{keys}]")
    return emb.Prior("features", z, f"Euclidean distance on obs columns {keys}")


def _prior_from_array(prior: Any, n: int) -> emb.Prior:
    """Labels (categorical, bool, integer or text vectors) as codes; numbers, features and distances via the core."""
    if sparse.issparse(prior):
        check_finite(sparse.csr_matrix(prior).data, "prior")
        return emb.prior_from_array(prior, n)
    values = prior.to_numpy() if isinstance(prior, pd.DataFrame) else prior
    values = pd.Series(values) if isinstance(values, pd.Categorical | list | tuple) else values
    arr = np.asarray(values)
    dtype = values.dtype if isinstance(values, pd.Series) else arr.dtype
    if arr.ndim == 1 and arr.shape[0] == n and (is_label_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)):
        return emb.Prior("labels", labels_to_codes(values, "prior")[0], "user-supplied labels")
    if arr.ndim in (1, 2) and arr.shape[0] == n:
        arr = check_finite(np.asarray(arr, dtype=np.float64), "prior")
    return emb.prior_from_array(arr, n)


def _prior_from_name(adata: AnnData, key: str, layer: str | None) -> emb.Prior:
    place = locate_key(adata, key, "prior_key")
    if place == "obs" and is_label_dtype(adata.obs[key].dtype):
        codes, levels = obs_codes(adata, key)
        return emb.Prior("labels", codes, f"labels of obs[{key!r}] ({len(levels)} groups)")
    if place == "obs":
        z = check_finite(adata.obs[key].to_numpy(dtype=np.float64), f"adata.obs[{key!r}]")
        return emb.Prior("features", z[:, None], f"absolute difference of obs[{key!r}]")
    if place == "obsm":
        v = adata.obsm[key]
        v = v.to_numpy() if isinstance(v, pd.DataFrame) else v.toarray() if sparse.issparse(v) else v
        z = check_finite(np.asarray(v, dtype=np.float64), f"adata.obsm[{key!r}]")
        z = z[:, None] if z.ndim == 1 else z
        return emb.Prior("features", z, f"Euclidean distance on obsm[{key!r}] ({z.shape[1]} dimensions)")
    if place == "obsp":
        g = sparse.csr_matrix(adata.obsp[key], dtype=np.float64)
        check_finite(g.data, f"adata.obsp[{key!r}]")
        return emb.prior_from_array(g, adata.n_obs, f"distance graph obsp[{key!r}]", what=f"adata.obsp[{key!r}]")
    return emb.Prior("features", var_values(adata, [key], layer), f"expression of gene {key!r}")

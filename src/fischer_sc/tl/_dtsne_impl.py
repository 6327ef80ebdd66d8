"""The body of :func:`fischer_sc.tl.dtsne`: validate, then neighbours -> affinities -> init -> optimise -> write.

Kept apart from the signature module so that ``fs.tl`` imports stay light and each stage can be
swapped in ``fischer_sc.core``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from fischer_sc._utils import (
    choose_representation,
    clean_params,
    progress_enabled,
    resolve_keys,
    resolve_n_jobs,
    resolve_rng,
)

if TYPE_CHECKING:
    from anndata import AnnData

_NOT_PARAMS = ("adata", "device", "progress", "copy")
MIN_OBS = 4


def _check_options(a: dict[str, Any]) -> None:
    """Raise on bad options before any work is done (``adata`` is untouched on error)."""
    from fischer_sc.core.embedding._affinities import check_balance
    from fischer_sc.core.embedding._optimise import check_repulsion
    from fischer_sc.core.embedding._pair_scale import pair_scale_code

    pair_scale_code(a["pair_scale"])
    check_repulsion(a["repulsion"])
    check_balance(a["balance"])
    if not isinstance(a["perplexity"], numbers.Real) or not math.isfinite(a["perplexity"]) or a["perplexity"] < 1:
        msg = f"perplexity must be a number >= 1, got {a['perplexity']!r}; 30 is the usual choice."
        raise ValueError(msg)
    for name in ("n_components", "n_iter"):
        value = a[name]
        if (
            not isinstance(value, numbers.Integral)
            or isinstance(value, bool)
            or value < (1 if name == "n_components" else 0)
        ):
            msg = f"{name} must be a {'positive' if name == 'n_components' else 'non-negative'} integer, got {value!r}."
            raise ValueError(msg)
    lr = a["learning_rate"]
    if lr != "auto" and (not isinstance(lr, numbers.Real) or not lr > 0):
        msg = f"learning_rate must be 'auto' or a positive number, got {lr!r}."
        raise ValueError(msg)
    if a["device"] not in (None, "cpu"):
        msg = f"device={a['device']!r}: this version of dtsne runs on the CPU only; use device=None."
        raise ValueError(msg)


def _neighbours(
    adata: AnnData, x: np.ndarray, a: dict[str, Any], seed: int, n_jobs: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """KNN indices and distances, and the perplexity they allow."""
    from fischer_sc.core.embedding import knn, knn_from_graph

    n = x.shape[0]
    perplexity = float(a["perplexity"])
    key = a["neighbors_key"]
    if key is not None:
        if key not in adata.uns or "distances_key" not in adata.uns[key]:
            msg = f"neighbors_key={key!r} is not a neighbours record in adata.uns; run sc.pp.neighbors(adata, key_added={key!r}) first."
            raise KeyError(msg)
        dist_key = adata.uns[key]["distances_key"]
        if dist_key not in adata.obsp:
            msg = f"adata.obsp[{dist_key!r}] named by adata.uns[{key!r}] is missing; rerun sc.pp.neighbors."
            raise KeyError(msg)
        indices, distances = knn_from_graph(adata.obsp[dist_key])
        k = indices.shape[1]
        if k < 3 * perplexity:
            new = max(k / 3.0, 1.0)
            warnings.warn(
                f"dtsne: the graph {key!r} has {k} neighbours per cell, fewer than 3 * perplexity = {3 * perplexity:g}; "
                f"using perplexity={new:g}. Rerun sc.pp.neighbors with n_neighbors >= {math.ceil(3 * perplexity) + 1} to keep it.",
                UserWarning,
                stacklevel=4,
            )
            perplexity = new
        if perplexity >= k:
            perplexity = max(k - 1.0, 1.0)
        return indices, distances, perplexity
    if n - 1 < 3 * perplexity:
        msg = (
            f"dtsne needs more than 3 * perplexity = {3 * perplexity:g} observations, got {n}. "
            f"Lower perplexity to at most {(n - 1) / 3:g}."
        )
        raise ValueError(msg)
    k = min(n - 1, math.floor(3 * perplexity))
    indices, distances = knn(x, k, metric=a["metric"], random_state=seed, n_jobs=n_jobs)
    return indices, distances, perplexity


def run_dtsne(adata: AnnData, a: dict[str, Any]) -> AnnData | None:
    """Run dtSNE with the arguments ``a`` of :func:`fischer_sc.tl.dtsne` (its ``locals()``)."""
    from fischer_sc.core.embedding import optimise, pca_init, perplexity_affinities, point_scales

    _check_options(a)
    keys = resolve_keys("dtsne", a["key_added"])
    n_jobs = resolve_n_jobs(a["n_jobs"])
    seed = int(resolve_rng(a["random_state"]).integers(2**31 - 1))
    if adata.n_obs < MIN_OBS:
        msg = f"dtsne needs at least {MIN_OBS} observations, got {adata.n_obs}."
        raise ValueError(msg)
    x = choose_representation(adata, use_rep=a["use_rep"], n_pcs=a["n_pcs"], tool="dtsne")
    if x.shape[1] < a["n_components"]:
        msg = f"n_components={a['n_components']} exceeds the {x.shape[1]} dimensions of the representation."
        raise ValueError(msg)
    indices, distances, perplexity = _neighbours(adata, x, a, seed, n_jobs)
    aff = perplexity_affinities(indices, distances, perplexity, pair_scale=a["pair_scale"], balance=float(a["balance"]))
    scales = point_scales(aff.beta) if a["pair_scale"] is not None else None
    result = optimise(
        aff.P,
        pca_init(x, a["n_components"]),
        scales=scales,
        pair_scale=a["pair_scale"],
        n_iter=int(a["n_iter"]),
        early_exaggeration=float(a["early_exaggeration"]),
        early_exaggeration_iter=int(a["early_exaggeration_iter"]),
        learning_rate=a["learning_rate"],
        repulsion=a["repulsion"],
        theta=float(a["theta"]),
        n_jobs=n_jobs,
        progress=progress_enabled(a["progress"]),
    )
    if a["copy"]:
        adata = adata.copy()
    params = {k: v for k, v in a.items() if k not in _NOT_PARAMS}
    params["pair_scale"] = "none" if a["pair_scale"] is None else a["pair_scale"]
    if not isinstance(a["random_state"], numbers.Integral):
        params["random_state"] = seed
    adata.obsm[keys.obsm] = result.embedding.astype(np.float32)
    adata.uns[keys.uns] = {
        "params": clean_params(params),
        "kl_divergence": float(result.kl_divergence),
        "repulsion": result.repulsion,
        "perplexity": float(perplexity),
    }
    return adata if a["copy"] else None

"""Resolve the ``prior_key`` / ``prior`` arguments of :func:`fischer_sc.tl.factor_out` to a :class:`~fischer_sc.core.embedding._priors.Prior`.

Order (spec §5): an ``obs`` column (categorical, bool or string -> labels; numeric -> |z_i - z_j|),
a list of ``obs`` columns or ``var_names`` (Euclidean distance on their values), an ``obsm`` key
(Euclidean distance), an ``obsp`` key (a sparse distance graph), or an array. A name found in
more than one place raises a ``KeyError`` naming every match.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from fischer_sc.core.embedding._priors import Prior

if TYPE_CHECKING:
    from anndata import AnnData


def _labels(values: Any, what: str) -> np.ndarray:
    """Integer codes of a label vector; missing labels raise."""
    series = pd.Series(np.asarray(values) if not isinstance(values, pd.Series) else values)
    if series.isna().any():
        msg = f"{what} has {int(series.isna().sum())} missing labels; fill or drop them before factoring the prior out."
        raise ValueError(msg)
    codes, _ = pd.factorize(series, sort=True)
    return codes.astype(np.int64)


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        msg = f"{what} contains NaN or infinite values; a prior must be finite."
        raise ValueError(msg)
    return values


def _is_label_dtype(dtype: Any) -> bool:
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or not pd.api.types.is_numeric_dtype(dtype)
    )


def _var_values(adata: AnnData, names: list[str], layer: str | None) -> np.ndarray:
    if layer is not None and layer not in adata.layers:
        msg = f"layer={layer!r} is not in adata.layers (available: {list(adata.layers)})."
        raise KeyError(msg)
    cols = adata.var_names.get_indexer(names)
    m = adata.X if layer is None else adata.layers[layer]
    sub = m[:, cols]
    sub = sub.toarray() if sparse.issparse(sub) else np.asarray(sub)
    where = f"adata.layers[{layer!r}]" if layer is not None else "adata.X"
    return _finite(sub, f"the prior genes in {where}")


def _from_name(adata: AnnData, key: str, layer: str | None) -> Prior:
    places = []
    if key in adata.obs.columns:
        places.append("obs")
    if key in adata.obsm:
        places.append("obsm")
    if key in adata.obsp:
        places.append("obsp")
    if key in adata.var_names:
        places.append("var_names")
    if len(places) > 1:
        msg = (
            f"prior_key={key!r} is ambiguous: it names {' and '.join(f'adata.{p}' for p in places)}. "
            f"Pass the values as prior=adata.{places[0]}[...] (or rename one of them)."
        )
        raise KeyError(msg)
    if not places:
        msg = (
            f"prior_key={key!r} is not an obs column, obsm key, obsp key or var_name. "
            f"obs columns: {list(adata.obs.columns)[:10]}; obsm: {list(adata.obsm)}; obsp: {list(adata.obsp)}."
        )
        raise KeyError(msg)
    place = places[0]
    if place == "obs":
        col = adata.obs[key]
        if _is_label_dtype(col.dtype):
            codes = _labels(col, f"adata.obs[{key!r}]")
            return Prior("labels", codes, f"labels of obs[{key!r}] ({np.unique(codes).size} groups)")
        z = _finite(col.to_numpy(), f"adata.obs[{key!r}]")[:, None]
        return Prior("features", z, f"absolute difference of obs[{key!r}]")
    if place == "obsm":
        v = adata.obsm[key]
        v = v.to_numpy() if isinstance(v, pd.DataFrame) else v
        v = v.toarray() if sparse.issparse(v) else v
        z = _finite(v, f"adata.obsm[{key!r}]")
        z = z[:, None] if z.ndim == 1 else z
        return Prior("features", z, f"Euclidean distance on obsm[{key!r}] ({z.shape[1]} dimensions)")
    if place == "obsp":
        g = sparse.csr_matrix(adata.obsp[key], dtype=np.float64)
        _finite(g.data, f"adata.obsp[{key!r}]")
        if (g.data < 0).any():
            msg = f"adata.obsp[{key!r}] has negative entries; an obsp prior must hold distances."
            raise ValueError(msg)
        return Prior("graph", g, f"distance graph obsp[{key!r}]")
    return Prior("features", _var_values(adata, [key], layer), f"expression of gene {key!r}")


def _from_list(adata: AnnData, keys: Sequence[str], layer: str | None) -> Prior:
    keys = [str(k) for k in keys]
    if not keys:
        msg = "prior_key is an empty list; name obs columns or var_names."
        raise ValueError(msg)
    in_obs = [k in adata.obs.columns for k in keys]
    in_var = [k in adata.var_names for k in keys]
    if all(in_obs) and not any(in_var):
        cols = adata.obs[keys]
        bad = [
            k for k in keys if not pd.api.types.is_numeric_dtype(cols[k].dtype) or pd.api.types.is_bool_dtype(cols[k])
        ]
        if bad:
            msg = f"prior_key lists obs columns {bad} that are not numeric; a list prior is a Euclidean distance on numbers."
            raise ValueError(msg)
        z = _finite(cols.to_numpy(dtype=np.float64), f"adata.obs[{keys}]")
        return Prior("features", z, f"Euclidean distance on obs columns {keys}")
    if all(in_var) and not any(in_obs):
        where = f"layers[{layer!r}]" if layer else "X"
        return Prior("features", _var_values(adata, keys, layer), f"Euclidean distance on genes {keys} ({where})")
    both = [k for k, o, v in zip(keys, in_obs, in_var, strict=True) if o and v]
    if both:
        msg = (
            f"prior_key entries {both} are both obs columns and var_names; the list is ambiguous. Pass prior= instead."
        )
        raise KeyError(msg)
    missing = [k for k, o, v in zip(keys, in_obs, in_var, strict=True) if not (o or v)]
    if missing:
        msg = f"prior_key entries {missing} are neither obs columns nor var_names."
        raise KeyError(msg)
    msg = f"prior_key={keys} mixes obs columns and var_names; use one kind (or pass prior= as an array)."
    raise ValueError(msg)


def _from_array(prior: Any, n: int) -> Prior:
    if sparse.issparse(prior):
        g = sparse.csr_matrix(prior, dtype=np.float64)
        if g.shape != (n, n):
            msg = f"a sparse prior must be an (n_obs, n_obs) = ({n}, {n}) distance graph, got {g.shape}."
            raise ValueError(msg)
        return Prior("graph", g, "user-supplied sparse distance graph")
    if isinstance(prior, pd.DataFrame):
        prior = prior.to_numpy()
    if isinstance(prior, pd.Series | pd.Categorical | list | tuple):
        prior = prior if isinstance(prior, pd.Series) else pd.Series(prior)
        if prior.shape[0] != n:
            msg = f"prior has {prior.shape[0]} entries for {n} observations."
            raise ValueError(msg)
        if _is_label_dtype(prior.dtype) or pd.api.types.is_integer_dtype(prior.dtype):
            return Prior("labels", _labels(prior, "prior"), "user-supplied labels")
        return Prior(
            "features", _finite(prior.to_numpy(), "prior")[:, None], "user-supplied numbers (absolute difference)"
        )
    arr = np.asarray(prior)
    if arr.shape[0] != n:
        msg = f"prior has {arr.shape[0]} rows for {n} observations."
        raise ValueError(msg)
    if arr.ndim == 1:
        if arr.dtype.kind in "biuOSUc" or isinstance(prior, pd.Categorical):
            return Prior("labels", _labels(arr, "prior"), "user-supplied labels")
        return Prior("features", _finite(arr, "prior")[:, None], "user-supplied numbers (absolute difference)")
    if arr.ndim != 2:
        msg = f"prior must be (n,) labels, (n, d) features or (n, n) distances, got shape {arr.shape}."
        raise ValueError(msg)
    arr = _finite(arr, "prior")
    if arr.shape == (n, n) and np.allclose(arr, arr.T) and np.allclose(np.diag(arr), 0) and (arr >= 0).all():
        return Prior("dense", arr, "user-supplied (n, n) distance matrix")
    return Prior("features", arr, f"Euclidean distance on user-supplied features ({arr.shape[1]} dimensions)")


def resolve_prior(adata: AnnData, prior_key: Any, prior: Any, layer: str | None) -> Prior:
    """The prior named by ``prior_key`` or given as ``prior`` (exactly one of the two).

    Returns
    -------
    The :class:`~fischer_sc.core.embedding._priors.Prior` with a text description of its source.
    """
    if (prior_key is None) == (prior is None):
        msg = (
            "factor_out needs exactly one of prior_key (a name in adata, e.g. prior_key='phase') "
            "and prior (an array); " + ("neither was given." if prior_key is None else "both were given.")
        )
        raise ValueError(msg)
    if prior is not None:
        return _from_array(prior, adata.n_obs)
    if isinstance(prior_key, str):
        return _from_name(adata, prior_key, layer)
    if isinstance(prior_key, Sequence):
        return _from_list(adata, prior_key, layer)
    msg = f"prior_key must be a string or a list of strings, got {type(prior_key).__name__}."
    raise TypeError(msg)

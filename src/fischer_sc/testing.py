"""Test utilities for fischer_sc and its plugins: small data, h5ad round trips, the tool contract.

Public so that plugin packages test against the same contract as the built-in tools.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:
    from anndata import AnnData

__all__ = ["assert_uns_equal", "h5ad_roundtrip", "small_adata", "tool_signature_problems"]


def small_adata(
    n_obs: int = 90, n_vars: int = 20, *, n_groups: int = 3, sparse_x: bool = False, random_state: int = 0
) -> AnnData:
    """A small AnnData with planted groups: Gaussian blobs in ``.X`` with ``obs["group"]`` as truth.

    Also holds ``obs["time"]`` (float), ``obs["batch"]`` (categorical, independent of the groups),
    ``layers["counts"]`` (non-negative integers) and ``obsm["X_pca"]`` (10 components).
    """
    import anndata as ad

    rng = np.random.default_rng(random_state)
    groups = np.arange(n_obs) % n_groups
    centres = rng.normal(0.0, 5.0, size=(n_groups, n_vars))
    x = (centres[groups] + rng.normal(size=(n_obs, n_vars))).astype(np.float32)
    counts = rng.poisson(np.exp(np.clip(x / 5.0, -3, 3))).astype(np.float32)
    obs = pd.DataFrame(
        {
            "group": pd.Categorical([f"g{g}" for g in groups]),
            "batch": pd.Categorical(rng.choice(["a", "b"], size=n_obs)),
            "time": np.linspace(0.0, 1.0, n_obs),
        },
        index=[f"cell{i}" for i in range(n_obs)],
    )
    var = pd.DataFrame(index=[f"gene{j}" for j in range(n_vars)])
    adata = ad.AnnData(sparse.csr_matrix(x) if sparse_x else x, obs=obs, var=var)
    adata.layers["counts"] = counts
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    n_comps = min(10, n_vars, n_obs)
    adata.obsm["X_pca"] = (u[:, :n_comps] * s[:n_comps]).astype(np.float32)
    return adata


def h5ad_roundtrip(adata: AnnData, directory: str | Path) -> AnnData:
    """Write ``adata`` to ``directory/roundtrip.h5ad`` and read it back."""
    import anndata as ad

    path = Path(directory) / "roundtrip.h5ad"
    adata.write_h5ad(path)
    return ad.read_h5ad(path)


def assert_uns_equal(actual: Mapping[str, Any], expected: Mapping[str, Any], path: str = "uns") -> None:
    """Recursively compare two ``uns``-like mappings (after an h5ad round trip, lists may come back as arrays)."""
    if set(actual) != set(expected):
        msg = f"{path}: keys differ: {sorted(set(actual) ^ set(expected))}"
        raise AssertionError(msg)
    for key, exp in expected.items():
        _assert_value_equal(actual[key], exp, f"{path}[{key!r}]")


def _assert_value_equal(act: Any, exp: Any, path: str) -> None:
    if isinstance(exp, Mapping):
        if not isinstance(act, Mapping):
            msg = f"{path}: expected a mapping, got {type(act).__name__}"
            raise AssertionError(msg)
        assert_uns_equal(act, exp, path)
    elif isinstance(exp, pd.DataFrame):
        pd.testing.assert_frame_equal(act, exp, check_dtype=False, check_categorical=False, obj=path)
    elif sparse.issparse(exp):
        np.testing.assert_array_equal(sparse.csr_matrix(act).toarray(), exp.toarray(), err_msg=path)
    elif isinstance(exp, np.ndarray | list | tuple):
        np.testing.assert_array_equal(np.asarray(act), np.asarray(exp), err_msg=path)
    elif isinstance(exp, float):
        np.testing.assert_allclose(act, exp, err_msg=path)
    elif act != exp:
        msg = f"{path}: {act!r} != {exp!r}"
        raise AssertionError(msg)


def tool_signature_problems(func: Callable[..., Any], *, kind: str = "tl") -> list[str]:
    """Ways in which ``func`` breaks scanpy's function contract (empty when it follows it).

    For every kind: the first parameter is ``adata``, at most three parameters are positional,
    there is no ``*args``. Tools (``kind="tl"``) also take keyword-only ``random_state``,
    ``key_added`` and ``copy`` (last, default ``False``) and are annotated ``-> AnnData | None``.
    """
    name = f"{func.__module__}.{func.__qualname__}"
    params = list(inspect.signature(func).parameters.values())
    problems: list[str] = []
    if not params or params[0].name != "adata":
        problems.append(f"{name}: the first parameter must be 'adata'")
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) > 3:
        problems.append(f"{name}: {len(positional)} positional parameters (at most 3; make the rest keyword-only)")
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        problems.append(f"{name}: *args is not allowed")
    if kind == "tl":
        by_name = {p.name: p for p in params}
        for required in ("random_state", "key_added", "copy"):
            p = by_name.get(required)
            if p is None or p.kind is not p.KEYWORD_ONLY:
                problems.append(f"{name}: needs a keyword-only '{required}' parameter")
        if params and params[-1].name != "copy":
            problems.append(f"{name}: 'copy' must be the last parameter")
        if "copy" in by_name and by_name["copy"].default is not False:
            problems.append(f"{name}: 'copy' must default to False")
        if "random_state" in by_name and by_name["random_state"].default != 0:
            problems.append(f"{name}: 'random_state' must default to 0")
        if "key_added" in by_name and by_name["key_added"].default is not None:
            problems.append(f"{name}: 'key_added' must default to None")
        ret = inspect.signature(func).return_annotation
        if str(ret).replace(" ", "") != "AnnData|None":
            problems.append(f"{name}: must be annotated '-> AnnData | None', got {ret!r}")
    return problems

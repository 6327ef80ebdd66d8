"""Reading a tool's input from AnnData: a matrix from ``.X`` or a layer, integer codes of an obs column."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from anndata import AnnData


def read_matrix(adata: AnnData, layer: str | None = None) -> tuple[Any, str]:
    """``(matrix, where)``: ``.X`` or ``layers[layer]`` as stored (dense or sparse), and its name for messages."""
    if layer is None:
        x, where = adata.X, "adata.X"
    elif isinstance(layer, str) and layer in adata.layers:
        x, where = adata.layers[layer], f"adata.layers[{layer!r}]"
    else:
        known = ", ".join(repr(k) for k in adata.layers) or "(none)"
        msg = f"layer={layer!r} is not in adata.layers (layers: {known}); use None for .X."
        raise KeyError(msg)
    if x is None:
        msg = f"{where} is empty (None); pass layer= to use a layer."
        raise ValueError(msg)
    return x, where


def obs_codes(
    adata: AnnData, key: str, *, max_levels: int | None = None, param: str | None = None
) -> tuple[np.ndarray, list[str]]:
    """Integer codes (0..K-1) and the level names of the labels in ``obs[key]``.

    Missing labels raise; so does a column with more than ``max_levels`` distinct values, which is
    almost always a continuous column passed where groups were meant. ``param`` names the tool's
    parameter that gave ``key`` in the error messages (``groupby='x' is not a column ...``).
    """
    if not isinstance(key, str) or key not in adata.obs:
        known = ", ".join(repr(k) for k in adata.obs.columns) or "(none)"
        what = f"{param}={key!r}" if param else repr(key)
        msg = f"{what} is not a column of adata.obs (columns: {known})."
        raise KeyError(msg)
    codes, levels = labels_to_codes(adata.obs[key], f"adata.obs[{key!r}]")
    if max_levels is not None and len(levels) > max_levels:
        msg = (
            f"adata.obs[{key!r}] has {len(levels)} distinct values, more than the {max_levels} groups this tool "
            "accepts; pass a categorical column of groups (bin a continuous one first, e.g. with pandas.cut)."
        )
        raise ValueError(msg)
    return codes, levels


def labels_to_codes(values: Any, what: str) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a label vector and the level names, levels in sorted order (``pandas.factorize(sort=True)``).

    A categorical keeps the order of its categories (unused ones dropped), as scanpy's plots do.

    Missing labels raise a ``ValueError`` naming ``what``.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    if series.isna().any():
        msg = f"{what} has {int(series.isna().sum())} missing labels; fill or drop them first."
        raise ValueError(msg)
    codes, levels = pd.factorize(series, sort=True)
    return codes.astype(np.int64), [str(v) for v in levels]

"""Finding a name in AnnData: which slot holds a key, the values of named variables, labels or numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from ._matrix import read_matrix
from ._rep import check_finite

if TYPE_CHECKING:
    from collections.abc import Sequence

    from anndata import AnnData

#: The slots :func:`locate_key` searches, in this order, and how messages name them.
_SLOTS = {"obs": "an obs column", "obsm": "an obsm key", "obsp": "an obsp key", "var_names": "a var_name"}


def _holds(adata: AnnData, slot: str, key: str) -> bool:
    if slot == "obs":
        return key in adata.obs.columns
    if slot == "var_names":
        return key in adata.var_names
    return key in getattr(adata, slot)


def locate_key(
    adata: AnnData, key: str, param: str, places: Sequence[str] = ("obs", "obsm", "obsp", "var_names")
) -> str:
    """The one slot of ``places`` (``"obs"``, ``"obsm"``, ``"obsp"``, ``"layers"``, ``"var_names"``) that holds ``key``.

    A ``KeyError`` naming the parameter ``param`` lists every match when ``key`` is ambiguous,
    and the available keys when it is nowhere.
    """
    found = [p for p in places if _holds(adata, p, key)]
    if len(found) > 1:
        msg = (
            f"{param}={key!r} is ambiguous: it names {' and '.join(f'adata.{p}' for p in found)}. "
            f"Pass the values themselves (e.g. adata.{found[0]}[{key!r}]) or rename one of them."
        )
        raise KeyError(msg)
    if not found:
        listed = [_SLOTS.get(p, f"a {p} key") for p in places]
        kinds = ", ".join(listed[:-1]) + f" or {listed[-1]}" if len(listed) > 1 else listed[0]
        known = "; ".join(f"{p}: {list(adata.obs.columns if p == 'obs' else getattr(adata, p))[:10]}" for p in places)
        msg = f"{param}={key!r} is not {kinds}. {known}."
        raise KeyError(msg)
    return found[0]


def var_values(adata: AnnData, names: Sequence[str], layer: str | None = None) -> np.ndarray:
    """Dense float64 values (n_obs, len(names)) of the variables ``names`` in ``.X`` or ``layers[layer]``, checked finite."""
    missing = [name for name in names if name not in adata.var_names]
    if missing:
        msg = f"{missing} are not in adata.var_names."
        raise KeyError(msg)
    x, where = read_matrix(adata, layer)
    sub = x[:, adata.var_names.get_indexer(list(names))]
    sub = sub.toarray() if sparse.issparse(sub) else np.asarray(sub)
    return check_finite(np.asarray(sub, dtype=np.float64), f"the variables {list(names)} in {where}")


def is_label_dtype(dtype: Any) -> bool:
    """Whether values of ``dtype`` are labels (categorical, boolean, text) rather than numbers (coordinates)."""
    categorical = isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype)
    return categorical or not pd.api.types.is_numeric_dtype(dtype)

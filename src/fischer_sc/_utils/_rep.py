"""Which matrix a tool works on: scanpy's representation choice, plus a finiteness check."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from anndata import AnnData

N_PCS = 50  # scanpy's settings.N_PCS: above this many variables, X_pca is used instead of X


def choose_representation(
    adata: AnnData,
    *,
    use_rep: str | None = None,
    n_pcs: int | None = None,
    tool: str = "this tool",
) -> np.ndarray:
    """The dense float matrix a tool embeds, chosen as scanpy does, without modifying ``adata``.

    ``use_rep=None`` takes ``.X`` when it has at most 50 variables, otherwise ``obsm["X_pca"]``;
    when that is missing, PCA is computed on a copy of ``.X`` with a warning (nothing is written
    into ``adata``: a tool writes only its own keys). ``use_rep="X"`` forces ``.X``; any ``obsm``
    key works. ``n_pcs`` keeps the first columns.
    """
    if n_pcs is not None and (not isinstance(n_pcs, int) or isinstance(n_pcs, bool) or n_pcs < 1):
        msg = f"n_pcs must be a positive integer or None, got {n_pcs!r}."
        raise ValueError(msg)
    if use_rep is None:
        if adata.n_vars <= N_PCS and n_pcs is None:
            use_rep = "X"
        elif "X_pca" in adata.obsm:
            use_rep = "X_pca"
        else:
            n_comps = min(n_pcs or N_PCS, adata.n_vars - 1, adata.n_obs - 1)
            warnings.warn(
                f"{tool}: adata.obsm['X_pca'] is missing; computing {n_comps} principal components of .X "
                "(run sc.pp.pca first to choose them yourself).",
                UserWarning,
                stacklevel=3,
            )
            import scanpy as sc

            x = sc.pp.pca(_as_float(adata.X), n_comps=n_comps, random_state=0)
            return check_finite(np.asarray(x[:, :n_pcs] if n_pcs else x, dtype=np.float64), "adata.X")
    if use_rep == "X":
        x, where = adata.X, "adata.X"
    elif use_rep in adata.obsm:
        x, where = adata.obsm[use_rep], f"adata.obsm[{use_rep!r}]"
    else:
        known = ", ".join(repr(k) for k in adata.obsm) or "(none)"
        msg = f"use_rep={use_rep!r} is not in adata.obsm (keys: {known}). Use 'X' or one of those keys."
        raise KeyError(msg)
    if x is None:
        msg = f"{where} is empty (None); set use_rep to an obsm key."
        raise ValueError(msg)
    x = _as_float(x)
    if n_pcs is not None:
        if n_pcs > x.shape[1]:
            msg = f"n_pcs={n_pcs} exceeds the {x.shape[1]} columns of {where}; use n_pcs <= {x.shape[1]}."
            raise ValueError(msg)
        x = x[:, :n_pcs]
    return check_finite(x, where)


def _as_float(x) -> np.ndarray:
    if sparse.issparse(x):
        x = x.toarray()
    return np.asarray(x, dtype=np.float64)


def check_finite(x: np.ndarray, where: str) -> np.ndarray:
    """Raise a ``ValueError`` naming ``where`` and the first bad row when ``x`` holds NaN or inf."""
    bad = ~np.isfinite(x)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1)) if x.ndim == 2 else np.flatnonzero(bad)
        msg = (
            f"{where} contains {int(bad.sum())} NaN or infinite values (first in row {int(rows[0])}). "
            "Remove or impute them before calling this tool (e.g. filter cells, or fill with 0)."
        )
        raise ValueError(msg)
    return x

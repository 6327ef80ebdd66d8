"""Which matrix a tool works on: scanpy's representation choice, plus a finiteness check."""

from __future__ import annotations

import numbers
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from anndata import AnnData

N_PCS = 50  # scanpy's settings.N_PCS: above this many variables, X_pca is used instead of X
#: Largest spread (max |x - mean|) the embedding tools accept. Their exact kNN search ranks candidates from a
#: float32 Gram matrix, whose squares overflow near 1e19 (and underflow below about 1e-19).
MAX_SPREAD = 1e15
MIN_SPREAD = 1e-15


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

    The matrix is checked finite, not all-identical, and within the range of magnitudes the
    kNN search handles (:func:`check_spread`).
    """
    if n_pcs is not None and (not isinstance(n_pcs, numbers.Integral) or isinstance(n_pcs, bool) or n_pcs < 1):
        msg = f"n_pcs must be a positive integer or None, got {n_pcs!r}."
        raise ValueError(msg)
    n_pcs = None if n_pcs is None else int(n_pcs)
    if use_rep is not None and not isinstance(use_rep, str):
        msg = f"use_rep must be 'X', a key of adata.obsm or None, got {type(use_rep).__name__}."
        raise TypeError(msg)
    if use_rep is None:
        if adata.n_vars <= N_PCS and n_pcs is None:
            use_rep = "X"
        elif "X_pca" in adata.obsm:
            use_rep = "X_pca"
        else:
            n_comps = min(n_pcs or N_PCS, adata.n_vars - 1, adata.n_obs - 1)
            if n_pcs is not None and n_pcs > n_comps:
                msg = (
                    f"n_pcs={n_pcs}, but adata.X ({adata.n_obs} x {adata.n_vars}) allows at most {n_comps} principal "
                    f"components; use n_pcs <= {n_comps}, or use_rep='X' for the variables themselves."
                )
                raise ValueError(msg)
            if adata.X is None:
                msg = "adata.X is empty (None); set use_rep to an obsm key."
                raise ValueError(msg)
            _check_matrix(adata.X, "adata.X")
            warnings.warn(
                f"{tool}: adata.obsm['X_pca'] is missing; computing {n_comps} principal components of .X "
                "(run sc.pp.pca first to choose them yourself).",
                UserWarning,
                stacklevel=3,
            )
            import scanpy as sc

            x = sc.pp.pca(_as_float(adata.X), n_comps=n_comps, random_state=0)
            return check_spread(np.asarray(x[:, :n_pcs] if n_pcs else x, dtype=np.float64), "the PCA of adata.X")
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
    x = _as_float(x, where)
    if x.ndim != 2 or x.shape[1] == 0:
        msg = f"{where} has no columns (shape {x.shape}); pass use_rep= an obsm key with at least one column."
        raise ValueError(msg)
    if n_pcs is not None:
        if n_pcs > x.shape[1]:
            msg = f"n_pcs={n_pcs} exceeds the {x.shape[1]} columns of {where}; use n_pcs <= {x.shape[1]}."
            raise ValueError(msg)
        x = x[:, :n_pcs]
    return check_spread(check_finite(x, where), where)


def _check_matrix(x: Any, where: str) -> None:
    """:func:`check_finite` (and :func:`check_spread` when dense) on a matrix, without densifying a sparse one."""
    if sparse.issparse(x):
        check_finite(np.asarray(sparse.csr_matrix(x).data, dtype=np.float64), where)
    else:
        check_spread(check_finite(np.asarray(x, dtype=np.float64), where), where)


def check_spread(x: np.ndarray, where: str, *, identical_ok: bool = False) -> np.ndarray:
    """Raise a ``ValueError`` naming ``where`` when all rows of ``x`` are identical or its magnitude is out of range.

    The spread is the largest absolute deviation from the column means. Identical rows leave
    nothing to embed (unless ``identical_ok``); a spread above ``MAX_SPREAD`` or below
    ``MIN_SPREAD`` is outside what the single-precision candidate search of the kNN can rank
    (it returns wrong neighbours there).
    """
    if x.size == 0 or x.shape[0] < 2:
        return x
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow shows as an infinite spread
        spread = float(np.max(np.abs(x - x.mean(axis=0))))
    if spread == 0.0 and identical_ok:
        return x
    if spread == 0.0:
        msg = f"all {x.shape[0]} observations of {where} are identical: there is nothing to embed."
        raise ValueError(msg)
    if not MIN_SPREAD <= spread <= MAX_SPREAD:
        msg = (
            f"{where} deviates from its mean by up to {spread:.3g}, outside [{MIN_SPREAD:g}, {MAX_SPREAD:g}]: the "
            f"neighbour search computes in single precision and would return wrong neighbours. Rescale it first, "
            f"e.g. divide it by {spread:.1g}."
        )
        raise ValueError(msg)
    return x


def _as_float(x, where: str = "the representation") -> np.ndarray:
    if sparse.issparse(x):
        x = x.toarray()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        msg = f"{where} must hold numbers, but it does not convert to float ({err}); pass a numeric use_rep."
        raise ValueError(msg) from err


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

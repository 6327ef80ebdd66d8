"""Binarisation rules of the pattern miners: presence/absence from expression values, on arrays.

The result is always a CSR float32 matrix of 0s and 1s; sparse input is processed in column blocks,
never densified whole.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from scipy import sparse

_BLOCK = 2048  # columns densified at a time for the per-gene quantile of sparse data
BINARIZE_RULES = ("auto", "q75", "nonzero")

__all__ = ["BINARIZE_RULES", "binarize_matrix", "check_finite_values", "empty_rows", "is_binary"]


def _stored_values(x: Any) -> np.ndarray:
    return x.data if sparse.issparse(x) else np.asarray(x).ravel()


def check_finite_values(x: Any, where: str) -> None:
    """Raise a ``ValueError`` naming ``where`` when the matrix holds NaN or inf."""
    values = _stored_values(x)
    bad = ~np.isfinite(values)
    if bad.any():
        msg = (
            f"{where} contains {int(bad.sum())} NaN or infinite values. Remove or impute them before calling "
            "this tool (e.g. filter cells, or fill with 0)."
        )
        raise ValueError(msg)


def empty_rows(x: Any) -> np.ndarray:
    """Indices of the rows of ``x`` (dense or sparse) without a single non-zero value."""
    if sparse.issparse(x):
        nonzero = x.getnnz(axis=1)
        if x.nnz and not np.all(x.data):  # explicitly stored zeros do not count
            nonzero = (x != 0).getnnz(axis=1)
    else:
        nonzero = np.count_nonzero(np.asarray(x), axis=1)
    return np.flatnonzero(np.asarray(nonzero).ravel() == 0)


def is_binary(x: Any) -> bool:
    """Whether every stored value is 0 or 1."""
    values = _stored_values(x)
    return bool(np.all((values == 0) | (values == 1)))


def _q75_dense(block: np.ndarray) -> np.ndarray:
    q = np.quantile(block, 0.75, axis=0)
    out = block > q[None, :]
    zero_q = q == 0
    if zero_q.any():  # the upper quartile is 0: every non-zero value counts as present
        out[:, zero_q] = block[:, zero_q] != 0
    return out


def _q75(x: Any) -> sparse.csr_matrix:
    if not sparse.issparse(x):
        return sparse.csr_matrix(_q75_dense(np.asarray(x, dtype=np.float64)))
    csc = sparse.csc_matrix(x, dtype=np.float64)
    csc.sort_indices()
    n, m = csc.shape
    nnz = np.diff(csc.indptr)
    col_of = np.repeat(np.arange(m), nnz)
    has_negative = np.zeros(m, dtype=bool)
    np.logical_or.at(has_negative, col_of, csc.data < 0)
    # Columns with at most a quarter of rows stored and no negative value have an upper quartile
    # of 0; only the others are densified, a block of columns at a time.
    q = np.zeros(m)
    need = np.flatnonzero((nnz > n // 4) | has_negative)
    for start in range(0, len(need), _BLOCK):
        cols = need[start : start + _BLOCK]
        q[cols] = np.quantile(csc[:, cols].toarray(), 0.75, axis=0)
    if (q < 0).any():  # implicit zeros exceed a negative quartile: those columns are dense anyway
        cols = np.flatnonzero(q < 0)
        dense = csc[:, cols].toarray() > q[cols][None, :]
        rest = csc.copy()
        rest.data = np.where(q[col_of] < 0, 0.0, rest.data)
        out = _q75_sparse_part(rest, q, col_of)
        out = sparse.lil_matrix(out)
        out[:, cols] = dense
        return sparse.csr_matrix(out)
    return sparse.csr_matrix(_q75_sparse_part(csc, q, col_of))


def _q75_sparse_part(csc: sparse.csc_matrix, q: np.ndarray, col_of: np.ndarray) -> sparse.csc_matrix:
    qc = q[col_of]
    keep = np.where(qc == 0, csc.data != 0, csc.data > qc)
    out = sparse.csc_matrix((keep.astype(np.float32), csc.indices, csc.indptr), shape=csc.shape)
    out.eliminate_zeros()
    return out


def binarize_matrix(x: Any, rule: str | float | None, where: str) -> tuple[sparse.csr_matrix, str]:
    """Turn ``x`` into a 0/1 CSR matrix by ``rule``; return it and the rule that was applied.

    Parameters
    ----------
    x
        Dense or sparse data (n x m).
    rule
        ``"auto"``, ``"q75"``, ``"nonzero"``, a float threshold, or ``None`` (must be 0/1 already).
    where
        Name of the matrix in messages (``"adata.X"``, ``"adata.layers['counts']"``).

    Returns
    -------
    binary
        CSR float32 0/1 matrix.
    applied
        ``"binary"`` (used as is), ``"q75"``, ``"nonzero"`` or ``"> <threshold>"``.
    """
    check_finite_values(x, where)
    if rule is None or (rule == "auto" and is_binary(x)):
        if not is_binary(x):
            values = _stored_values(x)
            odd = np.unique(values[(values != 0) & (values != 1)])[:5]
            msg = (
                f"{where} is not binary: it holds values other than 0 and 1 (e.g. {', '.join(f'{v:g}' for v in odd)}), "
                "and binarize=None asks for 0/1 data. Pass binarize='q75' (per gene upper quartile), "
                "'nonzero', or a threshold."
            )
            raise ValueError(msg)
        out, applied = sparse.csr_matrix(x, dtype=np.float32), "binary"
    elif rule in ("auto", "q75"):
        out, applied = _q75(x), "q75"
    elif rule == "nonzero":
        out, applied = (
            sparse.csr_matrix(x != 0) if sparse.issparse(x) else sparse.csr_matrix(np.asarray(x) != 0),
            "nonzero",
        )
    elif isinstance(rule, numbers.Real) and not isinstance(rule, bool):
        threshold = float(rule)
        if sparse.issparse(x) and threshold < 0:
            msg = f"binarize={threshold:g} < 0 would turn every stored zero of the sparse {where} into a 1; use a threshold >= 0."
            raise ValueError(msg)
        out, applied = sparse.csr_matrix(x > threshold), f"> {threshold:g}"
    else:
        msg = f"binarize={rule!r} is not a rule; use 'auto', 'q75', 'nonzero', a number (threshold) or None."
        raise ValueError(msg)
    out = sparse.csr_matrix(out, dtype=np.float32)
    out.eliminate_zeros()
    out.sort_indices()
    return out, applied

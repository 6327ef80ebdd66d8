"""Gene x gene networks: from edge lists to matrices and back, with PHOENIX's per-target edge scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def edge_scores(effects: np.ndarray) -> np.ndarray:
    """PHOENIX's per-target normalised scores ``s_ij = |E_ij| / sum_i |E_ij|`` (0 for a target without inputs)."""
    a = np.abs(np.asarray(effects, dtype=np.float64))
    col = a.sum(axis=0, keepdims=True)
    return np.divide(a, col, out=np.zeros_like(a), where=col > 0)


def network_from_edges(
    edges: pd.DataFrame, genes: Sequence[str], *, name: str = "prior", missing: str = "raise"
) -> np.ndarray:
    """A G x G matrix (row = source/regulator, column = target) from a decoupler-style edge table.

    Parameters
    ----------
    edges
        Columns ``source`` and ``target`` and optionally ``weight`` (default 1; its sign is the
        edge's sign). Repeated edges are summed.
    genes
        The gene order of the rows and columns.
    name
        Parameter name for error messages.
    missing
        ``"raise"``: genes not in ``genes`` raise a ``KeyError`` naming them; ``"drop"``: such
        edges are dropped (the caller warns).

    Returns
    -------
    The matrix, float64; :func:`~fischer_sc.core.ode.missing_genes` lists the genes whose edges were dropped.
    """
    for col in ("source", "target"):
        if col not in edges.columns:
            msg = f"{name} as a DataFrame needs columns 'source' and 'target' (and optionally 'weight'); it has {list(edges.columns)}."
            raise KeyError(msg)
    index = {g: i for i, g in enumerate(genes)}
    absent = missing_genes(edges, genes)
    if absent and missing == "raise":
        shown = ", ".join(map(repr, absent[:10])) + (" ..." if len(absent) > 10 else "")
        msg = f"{name} names {len(absent)} gene(s) that are not in var_names: {shown}. Remove those edges or subset the prior."
        raise KeyError(msg)
    weight = edges["weight"].to_numpy(dtype=np.float64) if "weight" in edges.columns else np.ones(len(edges))
    if not np.all(np.isfinite(weight)):
        msg = f"{name}['weight'] contains NaN or inf; give every edge a finite weight."
        raise ValueError(msg)
    src = edges["source"].astype(str).map(index)
    tgt = edges["target"].astype(str).map(index)
    ok = (src.notna() & tgt.notna()).to_numpy()
    out = np.zeros((len(genes), len(genes)))
    np.add.at(out, (src[ok].to_numpy(dtype=np.int64), tgt[ok].to_numpy(dtype=np.int64)), weight[ok])
    return out


def missing_genes(edges: pd.DataFrame, genes: Sequence[str]) -> list[str]:
    """Genes named in ``edges['source']`` or ``edges['target']`` that are not in ``genes``, sorted."""
    known = set(map(str, genes))
    named = set(edges["source"].astype(str)) | set(edges["target"].astype(str))
    return sorted(named - known)


def edge_table(effects: np.ndarray, genes: Sequence[str], prior: np.ndarray | None = None) -> pd.DataFrame:
    """The non-zero entries of a regulator x target matrix as a ranked edge table.

    Returns
    -------
    Columns ``source``, ``target`` (str), ``weight`` (``E_ij``), ``score`` (:func:`~fischer_sc.core.ode.edge_scores`),
    ``sign`` (+1/-1, int8) and ``in_prior`` (bool; all ``False`` without a prior), sorted by
    ``|weight|``, largest first (ties: row-major order), with a fresh ``RangeIndex``.
    """
    e = np.asarray(effects, dtype=np.float64)
    genes = np.asarray(list(map(str, genes)), dtype=object)
    rows, cols = np.nonzero(e)
    weight = e[rows, cols]
    order = np.argsort(-np.abs(weight), kind="stable")
    rows, cols, weight = rows[order], cols[order], weight[order]
    in_prior = np.zeros(rows.size, dtype=bool) if prior is None else np.asarray(prior)[rows, cols] != 0
    return pd.DataFrame(
        {
            "source": genes[rows].astype(str),
            "target": genes[cols].astype(str),
            "weight": weight,
            "score": edge_scores(e)[rows, cols],
            "sign": np.sign(weight).astype(np.int8),
            "in_prior": in_prior,
        }
    )


def network_matrix(value, genes: Sequence[str], *, name: str = "prior") -> np.ndarray | None:
    """A G x G float matrix (row = regulator, column = target) from an edge DataFrame, an array or ``None``.

    DataFrames go through :func:`~fischer_sc.core.ode.network_from_edges` (unknown genes raise);
    arrays (dense or scipy sparse) must be G x G and finite.
    """
    from scipy import sparse

    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return network_from_edges(value, genes, name=name)
    if sparse.issparse(value):
        value = value.toarray()
    if not isinstance(value, np.ndarray):
        msg = f"{name} must be a varp key, a DataFrame (source, target[, weight]) or a genes x genes array, got {type(value).__name__}."
        raise TypeError(msg)
    n = len(genes)
    if value.shape != (n, n):
        msg = f"{name} has shape {value.shape} but adata has {n} genes; pass a ({n}, {n}) array, row = regulator, column = target."
        raise ValueError(msg)
    out = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        msg = f"{name} contains NaN or infinite values; use 0 for 'no edge'."
        raise ValueError(msg)
    return out

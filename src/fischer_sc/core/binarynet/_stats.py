"""Statistics of extracted patterns on the data: supports, per-group counts, precision, the group assignment.

numpy/scipy/pandas only (no torch, no AnnData): the tools turn these tables into ``uns`` entries.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from ._patterns import contains

__all__ = ["group_pattern_table", "history_frame", "pattern_class_weights", "support_table"]

_GROUP_COLUMNS = [
    "pattern_id",
    "group",
    "n_in",
    "n_out",
    "support_in",
    "support_out",
    "precision",
    "log_odds",
    "p_value",
    "class_weight",
]
_TABLE_ORDER = [
    "pattern_id",
    "group",
    "features",
    "size",
    "support",
    "support_in",
    "support_out",
    "n_in",
    "n_out",
    "precision",
    "log_odds",
    "p_value",
    "class_weight",
    "half_support",
]


def support_table(
    x: sparse.csr_matrix, membership: sparse.csc_matrix, var_names: np.ndarray
) -> tuple[np.ndarray, pd.DataFrame]:
    """Which rows hold each pattern, and one table row per pattern with its features and supports.

    Parameters
    ----------
    x
        Binary data (n x m), CSR.
    membership
        Pattern membership (m x P), CSC.
    var_names
        Names of the m features (str).

    Returns
    -------
    present
        Bool (n x P): row i holds every feature of pattern p.
    table
        ``pattern_id`` (column of ``membership``), ``features`` (comma-joined names), ``size``,
        ``support`` (fraction of rows holding every feature) and ``half_support`` (holding at least
        half of them), in pattern order.
    """
    present = contains(x, membership)
    sizes = np.diff(membership.indptr)
    half = np.asarray((x @ sparse.csc_matrix(membership, dtype=np.float32)).todense()) >= np.ceil(sizes / 2)[None, :]
    table = pd.DataFrame(
        {
            "pattern_id": np.arange(membership.shape[1], dtype=np.int64),
            "features": [
                ",".join(var_names[membership.indices[membership.indptr[i] : membership.indptr[i + 1]]])
                for i in range(membership.shape[1])
            ],
            "size": sizes.astype(np.int64),
            "support": present.mean(0) if len(present) else np.zeros(membership.shape[1]),
            "half_support": half.mean(0) if len(half) else np.zeros(membership.shape[1]),
        }
    )
    return present, table


def pattern_class_weights(class_weights: np.ndarray, units: Sequence[np.ndarray]) -> np.ndarray:
    """The class weights of de-duplicated patterns: per pattern, the largest over the hidden units that carry it.

    Parameters
    ----------
    class_weights
        Class-head weights (K x h).
    units
        Per pattern, the hidden units behind it (the ``units`` of the extracted patterns).

    Returns
    -------
    float32 (K x P); NaN for a pattern without units.
    """
    out = np.full((class_weights.shape[0], len(units)), np.nan, dtype=np.float32)
    for p, unit_ids in enumerate(units):
        if len(unit_ids):  # patterns grown from co-occurrence have no unit: NaN
            out[:, p] = class_weights[:, unit_ids].max(axis=1)
    return out


def _group_rows(
    counts: np.ndarray,
    p_values: np.ndarray,
    assigned: np.ndarray,
    n_rows: int,
    n_per_class: np.ndarray,
    classes: Sequence[str],
    class_w: np.ndarray,
) -> list[dict]:
    total = counts.sum(0).astype(np.float64)
    rows = []
    for p in range(counts.shape[1]):
        groups = np.flatnonzero(assigned[:, p])
        for k in groups:
            n_in = float(counts[k, p])
            n_out = total[p] - n_in
            s_in = n_in / n_per_class[k]
            s_out = n_out / max(1.0, n_rows - n_per_class[k])
            with np.errstate(divide="ignore", invalid="ignore"):
                log_odds = float(np.log(s_in / s_out)) if s_in > 0 and s_out > 0 else np.nan
            rows.append(
                {
                    "pattern_id": p,
                    "group": classes[k],
                    "n_in": int(n_in),
                    "n_out": int(n_out),
                    "support_in": s_in,
                    "support_out": s_out,
                    "precision": n_in / total[p] if total[p] > 0 else np.nan,
                    "log_odds": log_odds,
                    "p_value": float(p_values[k, p]),
                    "class_weight": float(class_w[k, p]),
                }
            )
        if len(groups) == 0:
            weights = class_w[:, p][~np.isnan(class_w[:, p])]  # none for a pattern grown from co-occurrence
            rows.append(
                {"pattern_id": p, "group": None, "class_weight": float(weights.max()) if len(weights) else np.nan}
            )
    return rows


def group_pattern_table(
    counts: np.ndarray,
    p_values: np.ndarray,
    assigned: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    base: pd.DataFrame,
    class_weights: np.ndarray,
) -> pd.DataFrame:
    """One row per (pattern, group) assignment, and one "general" row (group missing) per unassigned pattern.

    The assignment is made by the caller from the patterns' joint support (see
    :func:`~fischer_sc.core.binarynet.differential_patterns`). Rows are sorted by group (in the
    order of ``classes``), then by precision (highest first), general patterns last.

    Parameters
    ----------
    counts
        Joint support per group (K x P): rows of each group holding every item.
    p_values
        One-sided p-values of the joint support in each group against the other rows (K x P).
    assigned
        Bool (K x P): the groups a pattern characterises.
    labels
        Group codes 0..K-1 of the rows.
    classes
        The K group names.
    base
        The per-pattern table of :func:`~fischer_sc.core.binarynet.support_table`.
    class_weights
        Per-pattern class-head weights (K x P; NaN for patterns not from the network).

    Returns
    -------
    The table: ``pattern_id``, ``group`` (categorical), ``features``, ``size``, ``support``,
    ``support_in`` and ``support_out`` (fraction of the group's rows and of the other rows holding
    the pattern), ``n_in`` and ``n_out`` (the counts; -1 for general patterns), ``precision``
    (P(group | pattern)), ``log_odds`` (ln(support_in / support_out), missing when either is 0),
    ``p_value``, ``class_weight``, ``half_support`` and the other columns of ``base``; the index
    is the row number as str.
    """
    labels = np.asarray(labels)
    n_per_class = np.bincount(labels, minlength=len(classes)).astype(np.float64)
    rows = _group_rows(counts, p_values, assigned, len(labels), n_per_class, classes, class_weights)
    table = pd.DataFrame(rows, columns=_GROUP_COLUMNS).merge(base, on="pattern_id", how="left")
    table["group"] = pd.Categorical(table["group"], categories=list(classes))
    for col in ("n_in", "n_out"):
        table[col] = table[col].fillna(-1).astype(np.int64)  # -1: general pattern, not assigned to a group
    order = _TABLE_ORDER + [c for c in base.columns if c not in _TABLE_ORDER]
    table = table[order].sort_values(
        ["group", "precision", "pattern_id"], ascending=[True, False, True], kind="stable", na_position="last"
    )
    table = table.reset_index(drop=True)
    table.index = table.index.astype(str)
    return table


def history_frame(history: dict[str, list[float]]) -> pd.DataFrame:
    """The per-epoch record of :func:`~fischer_sc.core.binarynet.fit_binary_net` as a table (index ``epoch`` as str; short columns padded with NaN).

    Parameters
    ----------
    history
        Column name -> one value per epoch.

    Returns
    -------
    One row per epoch.
    """
    n = max((len(v) for v in history.values()), default=0)
    df = pd.DataFrame({k: v + [np.nan] * (n - len(v)) for k, v in history.items()})
    df.index = pd.Index([str(i) for i in range(n)], name="epoch")
    return df

"""The planted-pattern generator of the DiffNaps paper (arXiv 2312.04311, section 5 and its code's protocol).

Each class owns a few random feature sets (its patterns); each row is the union of three of its
class's patterns, plus additive noise (random single features), optionally an OR of two of the
patterns shared by all classes, destructive noise (bits of the contained patterns flipped) and
label noise (each label redrawn so that P(class | pattern of that class) is about ``label_purity``).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:
    from anndata import AnnData

__all__ = ["planted_patterns", "planted_pattern_sets"]

_STEPS = ("resample", "common", "destructive")


def _random_patterns(
    rng: np.random.Generator, m: int, n_patterns: int, length_range: tuple[int, int]
) -> list[np.ndarray]:
    lo, hi = length_range
    return [np.sort(rng.choice(m, size=int(rng.integers(lo, hi)), replace=False)) for _ in range(n_patterns)]


def _destructive(x: np.ndarray, patterns: list[np.ndarray], p: float, rng: np.random.Generator) -> None:
    """Flip each bit of every pattern a row contains fully, with probability ``p`` (in place)."""
    if p <= 0:
        return
    contained = [np.flatnonzero(x[:, pat].all(axis=1)) for pat in patterns]
    for pat, rows in zip(patterns, contained, strict=True):
        if len(rows) == 0:
            continue
        flip = rng.random((len(rows), len(pat))) < p
        sub = x[np.ix_(rows, pat)]
        x[np.ix_(rows, pat)] = np.where(flip, 1 - sub, sub)


def planted_patterns(
    n_features: int = 1000,
    n_classes: int = 2,
    n_obs_per_class: int = 1000,
    *,
    n_patterns: int | None = None,
    pattern_length: tuple[int, int] = (5, 15),
    patterns_per_row: int = 3,
    n_random: int = 10,
    destructive_noise: float = 0.025,
    label_purity: float = 0.9,
    n_common: int | None = None,
    common_length: tuple[float, float] = (0.01, 0.025),
    noise_order: Sequence[str] = _STEPS,
    random_state: int = 0,
) -> AnnData:
    """Binary data with class-specific patterns planted, the synthetic benchmark of DiffNaps :cite:p:`diffnaps`.

    Parameters
    ----------
    n_features
        Number of features ``m``.
    n_classes
        Number of classes ``K``.
    n_obs_per_class
        Rows generated per class (before label noise).
    n_patterns
        Patterns per class; ``None``: 10, or 5 when ``n_features < 1000`` (the paper's rule).
    pattern_length
        Half-open range ``[lo, hi)`` of pattern lengths.
    patterns_per_row
        Each row is the union of this many of its class's patterns, one of all the combinations
        drawn uniformly.
    n_random
        Additive noise: this many features per row, drawn with replacement, are set to 1.
    destructive_noise
        Probability of flipping each bit of a planted pattern in the rows that contain it fully.
    label_purity
        Each label is redrawn from a K x K matrix with this on the diagonal and the rest spread
        evenly, so P(class | one of its patterns) is about ``label_purity``.
    n_common
        Patterns shared by all classes (each row ORs in a pair of them); ``None``: 20 when
        ``n_features >= 1000``, else 0.
    common_length
        Lengths of the common patterns as fractions ``[lo, hi)`` of ``n_features``.
    noise_order
        Order of the steps ``"resample"`` (labels), ``"common"`` and ``"destructive"``; the
        default is that of the scalability experiment.
    random_state
        Seed; the same seed gives the same data.

    Returns
    -------
    AnnData with ``X`` a CSR float32 0/1 matrix (``n_classes * n_obs_per_class`` x ``n_features``),
    ``var_names`` ``"f0"``, ``"f1"``, ...; and

    ``obs['class']`` : categorical
        The label after label noise (``"c0"``, ``"c1"``, ...): what a method sees.
    ``obs['template_class']`` : categorical
        The class whose patterns built the row.
    ``uns['planted']['patterns']`` : :class:`pandas.DataFrame`
        One row per planted pattern: ``group`` (its class, or ``"common"``), ``features``
        (comma-joined ``var_names``), ``size``.
    ``uns['planted']['params']`` : :class:`dict`
        The arguments used.
    """
    import anndata as ad

    for name, value in (("n_features", n_features), ("n_classes", n_classes), ("n_obs_per_class", n_obs_per_class)):
        if not isinstance(value, int | np.integer) or value < 1:
            msg = f"{name} must be a positive integer, got {value!r}."
            raise ValueError(msg)
    if not 0.0 <= destructive_noise <= 1.0 or not 0.0 <= label_purity <= 1.0:
        msg = "destructive_noise and label_purity must lie in [0, 1]."
        raise ValueError(msg)
    unknown = set(noise_order) - set(_STEPS)
    if unknown:
        msg = f"noise_order has unknown steps {sorted(unknown)}; use a permutation of {_STEPS}."
        raise ValueError(msg)
    m, k = int(n_features), int(n_classes)
    if n_patterns is None:
        n_patterns = 10 if m >= 1000 else 5
    if n_common is None:
        n_common = 20 if m >= 1000 else 0
    if patterns_per_row > n_patterns:
        msg = f"patterns_per_row={patterns_per_row} exceeds n_patterns={n_patterns}."
        raise ValueError(msg)
    if pattern_length[1] - 1 > m:
        msg = f"pattern_length {pattern_length} does not fit in n_features={m}."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)

    class_patterns = [_random_patterns(rng, m, n_patterns, pattern_length) for _ in range(k)]
    templates = list(combinations(range(n_patterns), patterns_per_row))
    n = k * n_obs_per_class
    template_class = np.repeat(np.arange(k), n_obs_per_class)
    x = np.zeros((n, m), dtype=np.uint8)
    for row, c in enumerate(template_class):
        for p in templates[rng.integers(len(templates))]:
            x[row, class_patterns[c][p]] = 1
    if n_random > 0:
        cols = rng.integers(0, m, size=(n, n_random))
        x[np.repeat(np.arange(n), n_random), cols.ravel()] = 1

    common: list[np.ndarray] = []
    if n_common > 0:
        lo = max(1, int(common_length[0] * m))
        hi = max(lo + 1, int(common_length[1] * m))
        common = _random_patterns(rng, m, n_common, (lo, hi))
    labels = template_class.copy()
    planted_all = [p for ps in class_patterns for p in ps] + common
    for step in noise_order:
        if step == "resample" and k > 1:
            off = (1.0 - label_purity) / (k - 1)
            probs = np.full((k, k), off)
            np.fill_diagonal(probs, label_purity)
            u = rng.random(n)
            labels = (u[:, None] > np.cumsum(probs[template_class], axis=1)).sum(1).clip(0, k - 1)
        elif step == "common" and common:
            pairs = list(combinations(range(len(common)), 2))
            for row in range(n):
                for p in pairs[rng.integers(len(pairs))]:
                    x[row, common[p]] = 1
        elif step == "destructive":
            _destructive(x, planted_all, destructive_noise, rng)

    names = np.array([f"f{j}" for j in range(m)])
    groups = [f"c{c}" for c in range(k)]
    table = pd.DataFrame(
        {
            "group": [groups[c] for c in range(k) for _ in class_patterns[c]] + ["common"] * len(common),
            "features": [",".join(names[p]) for ps in class_patterns for p in ps]
            + [",".join(names[p]) for p in common],
            "size": [len(p) for ps in class_patterns for p in ps] + [len(p) for p in common],
        }
    )
    obs = pd.DataFrame(
        {
            "class": pd.Categorical([groups[c] for c in labels], categories=groups),
            "template_class": pd.Categorical([groups[c] for c in template_class], categories=groups),
        },
        index=[f"row{i}" for i in range(n)],
    )
    adata = ad.AnnData(sparse.csr_matrix(x, dtype=np.float32), obs=obs, var=pd.DataFrame(index=names))
    adata.uns["planted"] = {
        "patterns": table,
        "params": {
            "n_features": m,
            "n_classes": k,
            "n_obs_per_class": int(n_obs_per_class),
            "n_patterns": int(n_patterns),
            "pattern_length": list(pattern_length),
            "patterns_per_row": int(patterns_per_row),
            "n_random": int(n_random),
            "destructive_noise": float(destructive_noise),
            "label_purity": float(label_purity),
            "n_common": int(n_common),
            "common_length": list(common_length),
            "noise_order": list(noise_order),
            "random_state": int(random_state),
        },
    }
    return adata


def planted_pattern_sets(table: pd.DataFrame, *, include_common: bool = False) -> dict[str, list[set[str]]]:
    """The patterns of a table with ``group`` and ``features`` columns, as sets of feature names per group.

    Parameters
    ----------
    table
        ``uns['planted']['patterns']`` of :func:`planted_patterns`, or the ``patterns`` table written
        by :func:`fischer_sc.tl.diffnaps`.
    include_common
        Keep the group ``"common"`` (planted patterns shared by all classes).

    Returns
    -------
    ``{group: [set of feature names, ...]}``, groups in order of first appearance.
    """
    out: dict[str, list[set[str]]] = {}
    for group, features in zip(table["group"].astype(str), table["features"].astype(str), strict=True):
        if group == "common" and not include_common:
            continue
        out.setdefault(group, []).append(set(features.split(",")) if features else set())
    return out

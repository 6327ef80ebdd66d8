"""Interaction patterns: class patterns whose items are equally frequent in every class and co-occur only in their own.

A per-feature (marginal) test sees nothing here: every planted item has the same frequency in every
class. Only the joint presence of a pattern's items tells the classes apart, which is what pattern
mining is for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:
    from anndata import AnnData

__all__ = ["interaction_patterns"]


def _check_fraction(value: float, name: str) -> float:
    if not isinstance(value, int | float | np.floating) or not 0.0 <= float(value) <= 1.0:
        msg = f"{name} must be a number in [0, 1], got {value!r}."
        raise ValueError(msg)
    return float(value)


def interaction_patterns(
    n_features: int = 1000,
    n_classes: int = 3,
    n_obs_per_class: int = 1000,
    *,
    n_patterns: int = 3,
    pattern_length: tuple[int, int] = (4, 5),
    frequency: float = 0.4,
    n_frequent: int = 100,
    n_random: int = 10,
    destructive_noise: float = 0.0,
    label_purity: float = 1.0,
    random_state: int = 0,
) -> AnnData:
    """Binary data whose class patterns are invisible to any per-feature test.

    Every planted item is present in a fraction ``frequency`` of the rows of every class. In its own
    class a pattern's items are all present or all absent together (the whole pattern in a fraction
    ``frequency`` of the class's rows); in the other classes each item is drawn independently, so
    the whole pattern is there in about ``frequency ** size`` of their rows.

    Parameters
    ----------
    n_features
        Number of features ``m``.
    n_classes
        Number of classes ``K``.
    n_obs_per_class
        Rows per class (before label noise).
    n_patterns
        Patterns per class.
    pattern_length
        Half-open range ``[lo, hi)`` of pattern lengths (default: 4 items).
    frequency
        Frequency of every planted item in every class, and of a whole pattern in its own class.
    n_frequent
        Decoy features, independent and present with probability ``frequency`` in every row: they
        are as frequent as the planted items but form no pattern.
    n_random
        Additive noise: this many features per row, drawn with replacement, are set to 1.
    destructive_noise
        Probability of dropping each item of a planted pattern in the rows of its class that hold it.
    label_purity
        Each label is kept with this probability and otherwise redrawn uniformly among the other
        classes.
    random_state
        Seed; the same seed gives the same data.

    Returns
    -------
    AnnData with ``X`` a CSR float32 0/1 matrix, ``var_names`` ``"f0"``, ``"f1"``, ...,
    ``obs['class']`` (the label a method sees), ``obs['template_class']`` (the class whose patterns
    built the row), and ``uns['planted']`` with ``patterns`` (``group``, ``features``, ``size``) and
    ``params``, like :func:`fischer_sc.datasets.planted_patterns`.
    """
    import anndata as ad

    for name, value in (("n_features", n_features), ("n_classes", n_classes), ("n_obs_per_class", n_obs_per_class)):
        if not isinstance(value, int | np.integer) or value < 1:
            msg = f"{name} must be a positive integer, got {value!r}."
            raise ValueError(msg)
    frequency = _check_fraction(frequency, "frequency")
    destructive_noise = _check_fraction(destructive_noise, "destructive_noise")
    label_purity = _check_fraction(label_purity, "label_purity")
    m, k, n_k = int(n_features), int(n_classes), int(n_obs_per_class)
    lo, hi = int(pattern_length[0]), int(pattern_length[1])
    if not 1 <= lo < hi:
        msg = f"pattern_length must be a range [lo, hi) with 1 <= lo < hi, got {pattern_length!r}."
        raise ValueError(msg)
    sizes_needed = k * n_patterns * (hi - 1) + n_frequent
    if sizes_needed > m:
        msg = f"{k} classes x {n_patterns} patterns of up to {hi - 1} items and {n_frequent} decoys need more than n_features={m}."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    n = k * n_k
    order = rng.permutation(m)  # patterns and decoys take disjoint features
    lengths = rng.integers(lo, hi, size=(k, n_patterns))
    patterns, start = [], 0
    for c in range(k):
        for p in range(n_patterns):
            patterns.append((c, np.sort(order[start : start + lengths[c, p]])))
            start += int(lengths[c, p])
    decoys = order[start : start + n_frequent]
    template_class = np.repeat(np.arange(k), n_k)
    rows_parts, cols_parts = [], []
    for c, items in patterns:
        own = template_class == c
        holds = own & (rng.random(n) < frequency)
        keep = holds[:, None] & (rng.random((n, len(items))) >= destructive_noise)
        indep = ~own[:, None] & (rng.random((n, len(items))) < frequency)
        r, j = np.nonzero(keep | indep)
        rows_parts.append(r)
        cols_parts.append(items[j])
    r, j = np.nonzero(rng.random((n, n_frequent)) < frequency)
    rows_parts.append(r)
    cols_parts.append(decoys[j])
    rows_parts.append(np.repeat(np.arange(n), n_random))
    cols_parts.append(rng.integers(0, m, size=n * n_random))
    rows, cols = np.concatenate(rows_parts), np.concatenate(cols_parts)
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, m))
    x.sum_duplicates()
    x.data[:] = 1.0
    labels = template_class.copy()
    if k > 1:
        flip = rng.random(n) >= label_purity
        labels[flip] = (template_class[flip] + rng.integers(1, k, size=int(flip.sum()))) % k

    names = np.array([f"f{j}" for j in range(m)])
    groups = [f"c{c}" for c in range(k)]
    table = pd.DataFrame(
        {
            "group": [groups[c] for c, _ in patterns],
            "features": [",".join(names[items]) for _, items in patterns],
            "size": [len(items) for _, items in patterns],
        }
    )
    obs = pd.DataFrame(
        {
            "class": pd.Categorical([groups[c] for c in labels], categories=groups),
            "template_class": pd.Categorical([groups[c] for c in template_class], categories=groups),
        },
        index=[f"row{i}" for i in range(n)],
    )
    adata = ad.AnnData(x, obs=obs, var=pd.DataFrame(index=names))
    adata.uns["planted"] = {
        "patterns": table,
        "params": {
            "n_features": m,
            "n_classes": k,
            "n_obs_per_class": n_k,
            "n_patterns": int(n_patterns),
            "pattern_length": [lo, hi],
            "frequency": frequency,
            "n_frequent": int(n_frequent),
            "n_random": int(n_random),
            "destructive_noise": destructive_noise,
            "label_purity": label_purity,
            "random_state": int(random_state),
        },
    }
    return adata

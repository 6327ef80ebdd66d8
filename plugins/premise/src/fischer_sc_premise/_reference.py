"""The total code length of a rule table computed from scratch (dense, slow): the bookkeeping oracle."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from fischer_sc.core.patterns import log2_binom, nml_binomial_complexity, universal_int_length


def total_length_reference(X: sparse.spmatrix, labels: np.ndarray, rules: Sequence[Sequence[Sequence[int]]]) -> float:
    """``L(M) + L(D | M)`` of the Premise code (docs/premise.md, 'The code') for the rule table ``rules`` (each a list of clauses).

    Independent of the incremental code: dense covers, ``lgamma`` log-binomials, no tables.
    """
    D = sparse.csr_matrix(X).toarray() != 0
    labels = np.asarray(labels).astype(bool)
    n, m = D.shape
    n1 = int(labels.sum())
    n0 = n - n1
    covered = np.zeros_like(D)
    total = 0.0
    for clauses in rules:
        holds = np.ones(n, dtype=bool)
        for c in clauses:
            holds &= D[:, list(c)].sum(axis=1) == 1
        items = [a for c in clauses for a in c]
        covered[np.ix_(holds, items)] |= D[np.ix_(holds, items)]
        c1 = int((holds & labels).sum())
        c0 = int(holds.sum()) - c1
        total += log2_binom(n0, c0) + log2_binom(n1, c1)
        total += nml_binomial_complexity(n0) + nml_binomial_complexity(n1)
        total += universal_int_length(len(clauses))
        for c in clauses:
            total += log2_binom(m, len(c)) + nml_binomial_complexity(m)
            if len(c) > 1:
                for y in (False, True):
                    rows = holds & (labels == y)
                    remaining = int(rows.sum())
                    for a in sorted(c):
                        t = int((rows & D[:, a]).sum())
                        total += log2_binom(remaining, t) + nml_binomial_complexity(remaining)
                        remaining -= t
    if len(rules):
        total += universal_int_length(len(rules))
    usage = (D & ~covered).sum(axis=0)
    for u in usage[usage > 0]:
        total += log2_binom(n, int(u)) + nml_binomial_complexity(n)
    return float(total)

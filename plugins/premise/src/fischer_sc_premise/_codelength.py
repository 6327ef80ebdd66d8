"""The Premise code: how many bits the data and the rule table take (docs/premise.md, 'The code'), as local deltas.

Labels are coded 0 = correct, 1 = error internally. ``f(u)`` is the cost of coding an item's
``u`` uncovered occurrences as a singleton; a rule pays for its clauses and for which rows of each
label it holds in. All lengths are in bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from fischer_sc.core.patterns import log2_factorial_table, nml_binomial_complexity, universal_int_length


class CodeLengths:
    """Cached tables for one data set: ``n`` rows, ``n0``/``n1`` rows per label, ``m`` items.

    Parameters
    ----------
    n0, n1
        Rows with label 0 (correct) and 1 (error).
    m
        Number of items.
    """

    def __init__(self, n0: int, n1: int, m: int) -> None:
        self.n0, self.n1, self.m = int(n0), int(n1), int(m)
        self.n = self.n0 + self.n1
        self.log_fact = log2_factorial_table(max(self.n, self.m))
        # COMP(N) for every N <= n: clause costs need it at the size of each rule's cover.
        self._comp_cache: dict[int, float] = {}
        self.comp_n = float(nml_binomial_complexity(self.n))
        self.comp_n0 = float(nml_binomial_complexity(self.n0))
        self.comp_n1 = float(nml_binomial_complexity(self.n1))
        self.comp_m = float(nml_binomial_complexity(self.m))

    def log_binom(self, a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray | float:
        """``log2 C(a, b)`` from the factorial table (``0 <= b <= a <= max(n, m)``)."""
        lf = self.log_fact
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        out = lf[a] - lf[b] - lf[a - b]
        return float(out) if out.ndim == 0 else out

    def comp(self, size: int) -> float:
        """``COMP(size)``, cached."""
        size = int(size)
        if size not in self._comp_cache:
            self._comp_cache[size] = float(nml_binomial_complexity(size))
        return self._comp_cache[size]

    def singleton(self, usage: np.ndarray | int) -> np.ndarray | float:
        """``f(u)``: bits for an item's ``u`` uncovered occurrences (0 when ``u == 0``)."""
        u = np.asarray(usage, dtype=np.int64)
        out = np.where(u > 0, self.log_binom(self.n, np.clip(u, 0, self.n)) + self.comp_n, 0.0)
        return float(out) if out.ndim == 0 else out

    @staticmethod
    @lru_cache(maxsize=4096)
    def table(n_rules: int) -> float:
        """Bits for the number of rules: ``L_N(R)``, 0 for an empty table."""
        return 0.0 if n_rules <= 0 else float(universal_int_length(n_rules))

    def rule_head(self, c0: np.ndarray | int, c1: np.ndarray | int, clause_sizes: Sequence[int]) -> np.ndarray | float:
        """A rule's cost without its or-clause terms (vectorised over ``c0``, ``c1``).

        ``log C(n0, c0) + log C(n1, c1) + COMP(n0) + COMP(n1) + L_N(#clauses)
        + sum_c (log C(m, |c|) + COMP(m))``.
        """
        clause_part = self.table(len(clause_sizes)) + sum(
            float(self.log_fact[self.m] - self.log_fact[s] - self.log_fact[self.m - s]) + self.comp_m
            for s in clause_sizes
        )
        return self.log_binom(self.n0, c0) + self.log_binom(self.n1, c1) + self.comp_n0 + self.comp_n1 + clause_part

    def or_clause(self, cover_size: int, item_counts: Sequence[int]) -> float:
        """``L_clause(c, y)``: which item of an XOR clause each of the ``cover_size`` rows holds.

        ``item_counts`` are the rows of the cover holding each item of the clause, in clause order.
        """
        total = 0.0
        remaining = int(cover_size)
        for t in item_counts:
            total += float(self.log_binom(remaining, int(t))) + self.comp(remaining)
            remaining -= int(t)
        return total

"""Rules (conjunctions of XOR clauses), their covers and costs, and the model state with exact code-length deltas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

from fischer_sc.core.patterns import pattern_rows

from ._codelength import CodeLengths
from ._kernels import choose_numba, tail
from ._kernels import positions as positions_of

Clauses = tuple[tuple[int, ...], ...]


@dataclass
class Data:
    """The binary instance x item matrix, its labels and the code-length tables.

    ``labels`` holds 1 for an error and 0 for a correct prediction.
    """

    X: sparse.csr_matrix
    X_csc: sparse.csc_matrix
    labels: np.ndarray
    code: CodeLengths = field(init=False)

    def __post_init__(self) -> None:
        self.n, self.m = self.X.shape
        self.n1 = int(self.labels.sum())
        self.n0 = self.n - self.n1
        self.code = CodeLengths(self.n0, self.n1, self.m)
        self.ln_fact = self.code.log_fact[: self.n + 1] * np.log(2.0)  # natural-log factorials for Fisher
        self.support = np.diff(self.X_csc.indptr).astype(np.int64)
        self.support1 = np.bincount(
            np.repeat(np.arange(self.m), self.support), weights=self.labels[self.X_csc.indices], minlength=self.m
        ).astype(np.int64)
        self.support0 = self.support - self.support1
        self.numba = choose_numba(int(self.X.nnz))  # numba kernels, or their numpy twins (_kernels)


def fisher_p(data: Data, c0: np.ndarray | int, c1: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Fisher exact p-value of pattern vs label, towards the label the pattern is biased to.

    Equal to ``scipy.stats.fisher_exact`` on ``[[c1, c0], [n1 - c1, n0 - c0]]`` with
    ``alternative="greater"`` (error bias) or ``"less"`` (correct bias), computed as the
    hypergeometric tail that vectorises over candidates.

    Returns
    -------
    p, direction
        Arrays; ``direction`` is 1 where the pattern is biased towards errors
        (``c1 / n1 >= c0 / n0``), else 0.
    """
    c0 = np.asarray(c0, dtype=np.int64)
    c1 = np.asarray(c1, dtype=np.int64)
    total = c0 + c1
    to_error = c1 * data.n0 >= c0 * data.n1
    hits = np.where(to_error, c1, c0)
    group = np.where(to_error, data.n1, data.n0)
    p = tail(hits, data.n, group, total, data.ln_fact, data.numba)
    return np.clip(p, 0.0, 1.0), to_error.astype(np.int8)


@dataclass(eq=False)
class Rule:
    """One pattern with everything the search needs about it."""

    clauses: Clauses
    rows: np.ndarray
    c0: int
    c1: int
    items: np.ndarray
    item_counts: np.ndarray
    positions: np.ndarray
    slots: np.ndarray  # index into ``items`` of each position's item
    cost: float
    origin: str
    data: Data = field(repr=False)

    @cached_property
    def _test(self) -> tuple[float, int]:
        p, direction = fisher_p(self.data, self.c0, self.c1)
        return float(p), int(direction)

    @property
    def fisher_p(self) -> float:
        """One-sided Fisher exact p-value towards the label the rule is biased to."""
        return self._test[0]

    @property
    def direction(self) -> int:
        """1 if the rule is biased towards errors, else 0."""
        return self._test[1]

    @property
    def key(self) -> frozenset:
        """Identity of the pattern regardless of clause and item order."""
        return frozenset(frozenset(c) for c in self.clauses)


def canonical(clauses: Sequence[Sequence[int]]) -> Clauses:
    """Sorted items inside each clause, clauses sorted by their first item."""
    return tuple(sorted(tuple(sorted(int(a) for a in c)) for c in clauses))


def build_rule(data: Data, clauses: Sequence[Sequence[int]], origin: str, rows: np.ndarray | None = None) -> Rule:
    """Cover, counts and cost of the pattern ``clauses`` (``rows``: its cover, if already known)."""
    cl = canonical(clauses)
    if rows is None:
        rows = pattern_rows(data.X_csc, cl)
    c1 = int(data.labels[rows].sum())
    c0 = int(rows.size) - c1
    items = np.array(sorted(a for c in cl for a in c), dtype=np.int64)
    positions = positions_of(data.X, rows, items, data.numba)
    pos_items = data.X.indices[positions]
    slots = np.searchsorted(items, pos_items)
    item_counts = np.bincount(slots, minlength=items.size).astype(np.int64)
    cost = float(data.code.rule_head(c0, c1, [len(c) for c in cl]))
    or_clauses = [c for c in cl if len(c) > 1]
    if or_clauses:
        # Rows of each position (positions are grouped by row in the order of `rows`).
        pos_rows = np.searchsorted(data.X.indptr, positions, side="right") - 1
        pos_labels = data.labels[pos_rows]
        for c in or_clauses:
            for y, size in ((0, c0), (1, c1)):
                counts = [int(np.count_nonzero((pos_items == a) & (pos_labels == y))) for a in c]
                cost += data.code.or_clause(size, counts)
    return Rule(cl, rows, c0, c1, items, item_counts, positions, slots, cost, origin, data)


class Model:
    """The rule table, the per-occurrence cover counts and the items' singleton usages.

    An occurrence ``(t, a)`` is covered when some rule holding item ``a`` covers row ``t``;
    ``cover`` counts how many do, so removing one rule uncovers only what no other rule covers.
    """

    def __init__(self, data: Data) -> None:
        self.data = data
        self.cover = np.zeros(data.X.nnz, dtype=np.int32)
        self.usage = data.support.copy()
        self.rules: list[Rule] = []
        self.keys: set[frozenset] = set()
        # (a, b, count0, count1, n_tested) of the significant co-occurring token pairs, set by the search.
        self.pairs: tuple | None = None
        self.total = float(np.sum(data.code.singleton(self.usage)))

    def sole_counts(self, rule: Rule) -> np.ndarray:
        """Per item of ``rule``: its occurrences covered by ``rule`` and by no other rule."""
        sole = self.cover[rule.positions] == 1
        return np.bincount(rule.slots, weights=sole, minlength=rule.items.size).astype(np.int64)

    def _usage_change(self, add: Rule, remove: Sequence[Rule]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        parts = [add.positions] + [r.positions for r in remove]
        signs = [np.ones(add.positions.size, dtype=np.int64)] + [-np.ones(r.positions.size, np.int64) for r in remove]
        pos = np.concatenate(parts)
        if remove:
            uniq, inv = np.unique(pos, return_inverse=True)
            net = np.bincount(inv, weights=np.concatenate(signs), minlength=uniq.size).astype(np.int64)
        else:
            uniq, net = pos, signs[0]
        old = self.cover[uniq].astype(np.int64)
        new = old + net
        step = ((old > 0) & (new == 0)).astype(np.int64) - ((old == 0) & (new > 0)).astype(np.int64)
        changed = step != 0
        items, du = np.unique(self.data.X.indices[uniq[changed]], return_inverse=True)
        du = np.bincount(du, weights=step[changed], minlength=items.size).astype(np.int64)
        return uniq, new, items, du

    def delta(self, add: Rule, remove: Sequence[Rule] = ()) -> float:
        """Exact change in total code length (bits) if ``add`` joins the table and ``remove`` leaves it."""
        _, _, items, du = self._usage_change(add, remove)
        code = self.data.code
        u = self.usage[items]
        n_rules = len(self.rules)
        return float(
            np.sum(code.singleton(u + du) - code.singleton(u))
            + code.table(n_rules - len(remove) + 1)
            - code.table(n_rules)
            + add.cost
            - sum(r.cost for r in remove)
        )

    def accept(self, add: Rule, remove: Sequence[Rule] = ()) -> float:
        """Apply the move; returns its exact delta (also added to ``total``)."""
        d = self.delta(add, remove)
        uniq, new, items, du = self._usage_change(add, remove)
        self.cover[uniq] = new
        self.usage[items] += du
        for r in remove:
            self.rules.remove(r)
            self.keys.discard(r.key)
        self.rules.append(add)
        self.keys.add(add.key)
        self.total += d
        return d

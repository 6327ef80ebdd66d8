"""Greedy MDL search over singleton, pair, extension, merge and or-clause candidates (spec §4).

Every iteration keeps only the single best candidate. Candidates are ranked by an optimistic
bound on their gain that needs only counts (the rule's own cost is exact; the singleton part
assumes the most favourable cover change), and exact gains are evaluated in bound order until no
remaining bound can beat the best exact gain (lazy greedy). The chosen move is therefore the
exact best among the candidates, and its reported gain is its exact change in total length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom

from fischer_sc.core import cooccurring_pairs, item_label_counts

from ._rules import Data, Model, Rule, build_rule, fisher_p


@dataclass
class Step:
    """One accepted move: the rule added, the rules it replaced, its exact gain and the total after it."""

    rule: Rule
    replaced: tuple[Rule, ...]
    gain: float
    total: float


def min_significant_count(data: Data, alpha: float) -> int:
    """Smallest cover size whose most extreme split can pass the one-sided Fisher test at ``alpha``.

    A cover of ``c`` rows all in the rarer label has p = C(n_small, c) / C(n, c); smaller covers
    can never pass, so they are pruned before any counting without changing the result.
    """
    small = min(data.n0, data.n1)
    for c in range(1, small + 1):
        if hypergeom.sf(c - 1, data.n, small, c) <= alpha:
            return c
    return data.n + 1


class _Pools:
    """Candidate pools with the counts their bounds need."""

    def __init__(self, data: Data, or_rules: Sequence[Rule], alpha: float, min_overlap: float, min_count: int) -> None:
        code = data.code
        self.data, self.alpha, self.min_count = data, alpha, min_count
        p, _ = fisher_p(data, data.support0, data.support1)
        self.singles = np.flatnonzero((data.support >= min_count) & (p <= alpha))
        self.single_head = np.asarray(
            code.rule_head(data.support0[self.singles], data.support1[self.singles], [1]), dtype=np.float64
        ).reshape(-1)
        a, b, c0, c1 = cooccurring_pairs(
            data.X, data.labels, min_overlap=min_overlap, min_count=min_count, X_csc=data.X_csc
        )
        p, _ = fisher_p(data, c0, c1)
        keep = p <= alpha
        self.pair_a, self.pair_b, self.pair_k = a[keep], b[keep], (c0 + c1)[keep]
        self.pair_head = np.asarray(code.rule_head(c0[keep], c1[keep], [1, 1]), dtype=np.float64).reshape(-1)
        self.or_rules = [r for r in or_rules if r.fisher_p <= alpha]
        self.extensions: list[tuple[Rule, np.ndarray, np.ndarray, np.ndarray]] = []
        self.merges: list[tuple[Rule, Rule, Rule]] = []

    def add_rule(self, rule: Rule, table: Sequence[Rule]) -> None:
        """Extension candidates of a newly accepted rule and its merges with the other rules."""
        data = self.data
        c0, c1 = item_label_counts(data.X, rule.rows, data.labels)
        c0[rule.items] = 0
        c1[rule.items] = 0
        b = np.flatnonzero(c0 + c1 >= self.min_count)
        p, _ = fisher_p(data, c0[b], c1[b])
        b = b[p <= self.alpha]
        sizes = [len(c) for c in rule.clauses] + [1]
        head = np.asarray(data.code.rule_head(c0[b], c1[b], sizes), dtype=np.float64).reshape(-1)
        self.extensions.append((rule, b, c0[b] + c1[b], head))
        for other in table:
            if other is rule or np.intersect1d(other.items, rule.items).size:
                continue
            rows = np.intersect1d(rule.rows, other.rows, assume_unique=True)
            if rows.size < self.min_count:
                continue
            r1 = int(data.labels[rows].sum())
            if fisher_p(data, rows.size - r1, r1)[0] > self.alpha:
                continue
            merged = build_rule(data, rule.clauses + other.clauses, "merge", rows=rows)
            self.merges.append((rule, other, merged))

    def drop_rule(self, rule: Rule) -> None:
        """Forget the extension and merge candidates of a rule that left the table."""
        self.extensions = [e for e in self.extensions if e[0] is not rule]
        self.merges = [mg for mg in self.merges if mg[0] is not rule and mg[1] is not rule]


def _gain_bound(code, u: np.ndarray, k: np.ndarray) -> np.ndarray:
    # At most min(u, k) occurrences become covered; log C(n, .) is concave and f(0) = 0, so the
    # most favourable change over that range is at one of its ends.
    fu = code.singleton(u)
    return np.minimum(code.singleton(u - np.minimum(u, k)) - fu, 0.0)


def _loss_bound(code, u: np.ndarray, k: np.ndarray) -> np.ndarray:
    # At most k occurrences lose their cover; same endpoint argument as above.
    fu = code.singleton(u)
    return np.minimum(code.singleton(u + np.maximum(k, 0)) - fu, 0.0)


def _bounds(model: Model, pools: _Pools) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Optimistic gain per candidate, with its pool (0 single, 1 pair, 2 or, 3 extension, 4 merge) and index."""
    code = model.data.code
    u = model.usage
    n_rules = len(model.rules)
    t_add = code.table(n_rules + 1) - code.table(n_rules)
    t_merge = code.table(n_rules - 1) - code.table(n_rules)
    vals, kinds, idx = [], [], []

    def push(kind: int, v: np.ndarray) -> None:
        vals.append(np.asarray(v, dtype=np.float64).reshape(-1))
        kinds.append(np.full(vals[-1].size, kind, dtype=np.int8))
        idx.append(np.arange(vals[-1].size, dtype=np.int64))

    # Singletons: every uncovered occurrence of the item lies in its own cover, so this is exact.
    push(0, pools.single_head + t_add - code.singleton(u[pools.singles]))
    push(
        1,
        pools.pair_head
        + t_add
        + _gain_bound(code, u[pools.pair_a], pools.pair_k)
        + _gain_bound(code, u[pools.pair_b], pools.pair_k),
    )
    push(2, [r.cost + t_add + _gain_bound(code, u[r.items], r.item_counts).sum() for r in pools.or_rules])
    ext_vals = []
    for rule, b, k, head in pools.extensions:
        v = head - rule.cost + _gain_bound(code, u[b], k)
        for clause in rule.clauses:
            for a in clause:
                lost = rule.count(a) - (k if len(clause) == 1 else 0)
                v = v + _loss_bound(code, np.full(b.size, u[a]), lost)
        ext_vals.append(v)
    push(3, np.concatenate(ext_vals) if ext_vals else np.empty(0))
    merge_vals = []
    for r1, r2, merged in pools.merges:
        v = merged.cost - r1.cost - r2.cost + t_merge
        for r in (r1, r2):
            lost = r.item_counts - merged.item_counts[np.searchsorted(merged.items, r.items)]
            v += _loss_bound(code, u[r.items], lost).sum()
        merge_vals.append(v)
    push(4, merge_vals)
    return np.concatenate(vals), np.concatenate(kinds), np.concatenate(idx)


def _materialise(model: Model, pools: _Pools, kind: int, i: int) -> tuple[Rule | None, tuple[Rule, ...]]:
    data = model.data
    if kind == 0:
        j = int(pools.singles[i])
        if frozenset({frozenset({j})}) in model.keys:
            return None, ()
        return build_rule(data, [[j]], "singleton"), ()
    if kind == 1:
        a, b = int(pools.pair_a[i]), int(pools.pair_b[i])
        if frozenset({frozenset({a}), frozenset({b})}) in model.keys:
            return None, ()
        return build_rule(data, [[a], [b]], "pair"), ()
    if kind == 2:
        r = pools.or_rules[i]
        return (None, ()) if r.key in model.keys else (r, ())
    if kind == 3:
        offset = i
        for rule, b, _, _ in pools.extensions:
            if offset < b.size:
                new = build_rule(data, [*rule.clauses, (int(b[offset]),)], "extension")
                return (None, ()) if new.key in model.keys else (new, (rule,))
            offset -= b.size
        msg = "extension index out of range"  # internal invariant, not user input
        raise RuntimeError(msg)
    r1, r2, merged = pools.merges[i]
    return (None, ()) if merged.key in model.keys else (merged, (r1, r2))


def greedy_search(
    data: Data,
    or_rules: Sequence[Rule],
    *,
    fisher_p_value: float,
    min_overlap: float,
    max_rules: int | None,
    max_evaluations: int,
    progress: bool,
) -> tuple[Model, list[Step]]:
    """Run the greedy search; returns the final model and the accepted moves in order."""
    from tqdm.auto import tqdm

    model = Model(data)
    min_count = min_significant_count(data, fisher_p_value)
    pools = _Pools(data, or_rules, fisher_p_value, min_overlap, min_count)
    steps: list[Step] = []
    bar = tqdm(total=max_rules, desc="premise", unit="rule", disable=not progress)
    try:
        while max_rules is None or len(steps) < max_rules:
            bounds, kinds, idx = _bounds(model, pools)
            hopeful = np.flatnonzero(bounds < 0)
            order = hopeful[np.argsort(bounds[hopeful], kind="stable")]
            best: tuple[float, Rule, tuple[Rule, ...]] | None = None
            n_eval = 0
            for j in order:
                if best is not None and bounds[j] >= best[0]:
                    break
                cand, removed = _materialise(model, pools, int(kinds[j]), int(idx[j]))
                if cand is None or cand.fisher_p > fisher_p_value:
                    continue
                d = model.delta(cand, removed)
                n_eval += 1
                if d < 0 and (best is None or d < best[0]):
                    best = (d, cand, removed)
                if n_eval >= max_evaluations:
                    break
            if best is None:
                break
            _, rule, removed = best
            gain = model.accept(rule, removed)
            for r in removed:
                pools.drop_rule(r)
            pools.add_rule(rule, model.rules)
            steps.append(Step(rule, removed, gain, model.total))
            bar.update(1)
    finally:
        bar.close()
    return model, steps

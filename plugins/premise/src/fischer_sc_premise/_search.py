"""Greedy MDL search over singleton, pair, extension, merge and or-clause candidates (docs/premise.md).

Every iteration keeps only the single best candidate. Candidates are ranked by an optimistic
bound on their gain that needs only counts (the rule's own cost is exact; the singleton part
assumes the most favourable cover change), and exact gains are evaluated in bound order until no
remaining bound can beat the best exact gain (lazy greedy). The chosen move is therefore the
exact best among the candidates, and its reported gain is its exact change in total length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._kernels import label_counts, pairs, tail
from ._neighbours import or_pair_rules
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
    counts = np.arange(1, small + 1)
    ok = np.flatnonzero(tail(counts, data.n, small, counts, data.ln_fact, data.numba) <= alpha)
    return int(counts[ok[0]]) if ok.size else data.n + 1


@dataclass(eq=False)
class _Extensions:
    """Candidates ``rule & b`` for the items ``b`` that co-occur with a rule, replacing the rule."""

    rule: Rule
    b: np.ndarray
    k: np.ndarray
    head: np.ndarray
    core: np.ndarray
    stamp: np.ndarray


@dataclass(eq=False)
class _Merge:
    """Candidate ``r1 & r2`` replacing both rules."""

    r1: Rule
    r2: Rule
    merged: Rule
    core: float = np.nan
    stamp: int = -1


def _cache(size: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(size, np.nan), np.full(size, -1, dtype=np.int64)


class _Pools:
    """Candidate pools with the counts their bounds need and a cache of exact gains.

    An exact gain, minus its rule-count term, stays valid until the cover of one of the
    candidate's items changes; ``changed_at[item]`` holds the step of the last such change.
    """

    def __init__(
        self,
        data: Data,
        or_rules: Sequence[Rule],
        neighbours: dict[int, list[int]],
        alpha: float,
        min_overlap: float,
        min_count: int,
    ) -> None:
        code = data.code
        self.data, self.alpha, self.min_count = data, alpha, min_count
        self.changed_at = np.full(data.m, -1, dtype=np.int64)
        p, _ = fisher_p(data, data.support0, data.support1)
        self.singles = np.flatnonzero((data.support >= min_count) & (p <= alpha))
        self.single_in_table = np.zeros(self.singles.size, dtype=bool)
        self.single_head = np.asarray(
            code.rule_head(data.support0[self.singles], data.support1[self.singles], [1]), dtype=np.float64
        ).reshape(-1)
        a, b, c0, c1 = pairs(data.X, data.X_csc, data.labels, min_overlap, min_count, data.numba)
        p, _ = fisher_p(data, c0, c1)
        keep = p <= alpha
        or_rules = [*or_rules, *or_pair_rules(data, neighbours, a[keep], b[keep])]
        self.pair_a, self.pair_b, self.pair_k = a[keep], b[keep], (c0 + c1)[keep]
        self.pair_counts = (c0[keep], c1[keep])
        self.n_pairs_tested = int(a.size)
        self.pair_head = np.asarray(code.rule_head(c0[keep], c1[keep], [1, 1]), dtype=np.float64).reshape(-1)
        self.pair_core, self.pair_stamp = _cache(self.pair_a.size)
        unique = {r.key: r for r in reversed(or_rules)}  # one rule per pattern, the first one kept
        self.or_rules = [r for r in or_rules if unique[r.key] is r and r.fisher_p <= alpha]
        self.or_core, self.or_stamp = _cache(len(self.or_rules))
        self.extensions: list[_Extensions] = []
        self.merges: list[_Merge] = []

    def mark_changed(self, rules: Sequence[Rule], step: int) -> None:
        """Invalidate the cached gains of candidates sharing an item with ``rules``."""
        for r in rules:
            self.changed_at[r.items] = step

    def add_rule(self, rule: Rule, table: Sequence[Rule]) -> None:
        """Extension candidates of a newly accepted rule and its merges with the other rules."""
        self._mark_single(rule, True)
        data = self.data
        c0, c1 = label_counts(data.X, rule.rows, data.labels, data.numba)
        c0[rule.items] = 0
        c1[rule.items] = 0
        b = np.flatnonzero(c0 + c1 >= self.min_count)
        p, _ = fisher_p(data, c0[b], c1[b])
        b = b[p <= self.alpha]
        sizes = [len(c) for c in rule.clauses] + [1]
        head = np.asarray(data.code.rule_head(c0[b], c1[b], sizes), dtype=np.float64).reshape(-1)
        self.extensions.append(_Extensions(rule, b, c0[b] + c1[b], head, *_cache(b.size)))
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
            self.merges.append(_Merge(rule, other, merged))

    def _mark_single(self, rule: Rule, in_table: bool) -> None:
        if len(rule.clauses) == 1 and len(rule.clauses[0]) == 1:
            i = np.searchsorted(self.singles, rule.clauses[0][0])
            if i < self.singles.size and self.singles[i] == rule.clauses[0][0]:
                self.single_in_table[i] = in_table

    def drop_rule(self, rule: Rule) -> None:
        """Forget the extension and merge candidates of a rule that left the table."""
        self._mark_single(rule, False)
        self.extensions = [e for e in self.extensions if e.rule is not rule]
        self.merges = [mg for mg in self.merges if mg.r1 is not rule and mg.r2 is not rule]


def _gain_bound(code, u: np.ndarray, k: np.ndarray) -> np.ndarray:
    # At most min(u, k) occurrences become covered; log C(n, .) is concave and f(0) = 0, so the
    # most favourable change over that range is at one of its ends.
    fu = code.singleton(u)
    return np.minimum(code.singleton(u - np.minimum(u, k)) - fu, 0.0)


def _loss_bound(code, u: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    # Between lo and hi occurrences lose their cover; same endpoint argument as above.
    fu = code.singleton(u)
    lo = np.maximum(lo, 0)
    hi = np.maximum(hi, lo)
    return np.minimum(code.singleton(u + lo), code.singleton(u + hi)) - fu


def _lost_range(sole: int, k: int, in_lo: np.ndarray, in_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Occurrences of an item that lose their cover when its rule shrinks to rows holding ``in`` of them.

    ``sole`` of the item's ``k`` covered occurrences are covered by no other rule; the refined rule
    keeps between ``in_lo`` and ``in_hi`` of the ``k``.
    """
    return np.maximum(sole - in_hi, 0), np.minimum(sole, k - in_lo)


def _use_cache(bound: np.ndarray, core: np.ndarray, stamp: np.ndarray, last_change: np.ndarray, table_term: float):
    """Replace bounds by cached exact gains where those are still valid; returns (values, exact flags)."""
    valid = (stamp > last_change) & ~np.isnan(core)
    return np.where(valid, core + table_term, bound), valid


def _bounds(model: Model, pools: _Pools) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate: optimistic (or cached exact) gain, pool (0 single, 1 pair, 2 or, 3 extension, 4 merge), index, exactness."""
    code = model.data.code
    u = model.usage
    ch = pools.changed_at
    n_rules = len(model.rules)
    t_add = code.table(n_rules + 1) - code.table(n_rules)
    t_merge = code.table(n_rules - 1) - code.table(n_rules)
    vals, kinds, idx, exact = [], [], [], []

    def push(kind: int, v: np.ndarray, ex: np.ndarray) -> None:
        vals.append(np.asarray(v, dtype=np.float64).reshape(-1))
        kinds.append(np.full(vals[-1].size, kind, dtype=np.int8))
        idx.append(np.arange(vals[-1].size, dtype=np.int64))
        exact.append(np.asarray(ex, dtype=bool).reshape(-1))

    # Singletons: every uncovered occurrence of the item lies in its own cover, so this is exact
    # (an item already in the table as a singleton is not a candidate).
    single = pools.single_head + t_add - code.singleton(u[pools.singles])
    push(0, np.where(pools.single_in_table, np.inf, single), np.ones(pools.singles.size, bool))
    pa, pb = pools.pair_a, pools.pair_b
    bound = pools.pair_head + t_add + _gain_bound(code, u[pa], pools.pair_k) + _gain_bound(code, u[pb], pools.pair_k)
    push(1, *_use_cache(bound, pools.pair_core, pools.pair_stamp, np.maximum(ch[pa], ch[pb]), t_add))
    bound = np.array([r.cost + t_add + _gain_bound(code, u[r.items], r.item_counts).sum() for r in pools.or_rules])
    last = np.array([ch[r.items].max() for r in pools.or_rules], dtype=np.int64)
    push(2, *_use_cache(bound, pools.or_core, pools.or_stamp, last, t_add))
    ext_vals, ext_exact = [], []
    for e in pools.extensions:
        rule, b, k = e.rule, e.b, e.k
        v = e.head - rule.cost + _gain_bound(code, u[b], k)
        sole = model.sole_counts(rule)
        for clause in rule.clauses:
            for a in clause:
                slot = int(np.searchsorted(rule.items, a))
                k_a = int(rule.item_counts[slot])
                # rows of the refined rule holding a: all k of them for a one-token clause
                in_lo, in_hi = (k, k) if len(clause) == 1 else (0, np.minimum(k, k_a))
                lo, hi = _lost_range(int(sole[slot]), k_a, in_lo, in_hi)
                v = v + _loss_bound(code, np.full(b.size, u[a]), lo, hi)
        v, ex = _use_cache(v, e.core, e.stamp, np.maximum(ch[b], ch[rule.items].max()), 0.0)
        ext_vals.append(v)
        ext_exact.append(ex)
    push(
        3,
        np.concatenate(ext_vals) if ext_vals else np.empty(0),
        np.concatenate(ext_exact) if ext_exact else np.empty(0, bool),
    )
    merge_vals, merge_exact = [], []
    for mg in pools.merges:
        last = max(ch[mg.r1.items].max(), ch[mg.r2.items].max())
        if mg.stamp > last and not np.isnan(mg.core):
            merge_vals.append(mg.core + t_merge)
            merge_exact.append(True)
            continue
        v = mg.merged.cost - mg.r1.cost - mg.r2.cost + t_merge
        for r in (mg.r1, mg.r2):
            kept = mg.merged.item_counts[np.searchsorted(mg.merged.items, r.items)]
            lo, hi = _lost_range(model.sole_counts(r), r.item_counts, kept, kept)
            v += _loss_bound(code, u[r.items], lo, hi).sum()
        merge_vals.append(v)
        merge_exact.append(False)
    push(4, merge_vals, merge_exact)
    return np.concatenate(vals), np.concatenate(kinds), np.concatenate(idx), np.concatenate(exact)


def _locate_extension(pools: _Pools, i: int) -> tuple[_Extensions, int]:
    for e in pools.extensions:
        if i < e.b.size:
            return e, i
        i -= e.b.size
    msg = "extension index out of range"  # internal invariant, not user input
    raise RuntimeError(msg)


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
        e, j = _locate_extension(pools, i)
        new = build_rule(data, [*e.rule.clauses, (int(e.b[j]),)], "extension")
        return (None, ()) if new.key in model.keys else (new, (e.rule,))
    mg = pools.merges[i]
    return (None, ()) if mg.merged.key in model.keys else (mg.merged, (mg.r1, mg.r2))


def _store(pools: _Pools, kind: int, i: int, core: float, step: int) -> None:
    """Cache an exact gain without its rule-count term."""
    if kind == 1:
        pools.pair_core[i], pools.pair_stamp[i] = core, step
    elif kind == 2:
        pools.or_core[i], pools.or_stamp[i] = core, step
    elif kind == 3:
        e, j = _locate_extension(pools, i)
        e.core[j], e.stamp[j] = core, step
    elif kind == 4:
        pools.merges[i].core, pools.merges[i].stamp = core, step


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int | None, show: bool) -> Any:
    # tqdm.auto is imported only when a bar is shown: in a notebook without ipywidgets the import
    # itself warns, which a progress=False call must not do.
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="premise", unit="rule")


def greedy_search(
    data: Data,
    or_rules: Sequence[Rule],
    neighbours: dict[int, list[int]] | None = None,
    *,
    fisher_p_value: float,
    min_overlap: float,
    max_rules: int | None,
    max_evaluations: int,
    progress: bool,
) -> tuple[Model, list[Step]]:
    """Run the greedy search; returns the final model and the accepted moves in order."""
    model = Model(data)
    neighbours = neighbours or {}
    min_count = min_significant_count(data, fisher_p_value)
    pools = _Pools(data, or_rules, neighbours, fisher_p_value, min_overlap, min_count)
    # The significant co-occurring pairs, for the conjunction refinement (it also proposes pairs the
    # code rejected).
    model.pairs = (pools.pair_a, pools.pair_b, *pools.pair_counts, pools.n_pairs_tested)
    steps: list[Step] = []
    table_change = {0: 1, 1: 1, 2: 1, 3: 0, 4: -1}
    bar = _progress_bar(max_rules, progress)
    try:
        while max_rules is None or len(steps) < max_rules:
            step = len(steps)
            bounds, kinds, idx, exact = _bounds(model, pools)
            hopeful = np.flatnonzero(bounds < 0)
            order = hopeful[np.argsort(bounds[hopeful], kind="stable")]
            n_rules = len(model.rules)
            best: tuple[float, int, int] | None = None
            n_eval = 0
            for j in order:
                if best is not None and bounds[j] >= best[0]:
                    break
                kind, i = int(kinds[j]), int(idx[j])
                if exact[j]:
                    d = float(bounds[j])
                else:
                    cand, removed = _materialise(model, pools, kind, i)
                    t_term = data.code.table(n_rules + table_change[kind]) - data.code.table(n_rules)
                    # Every pool is filtered by the Fisher test when it is filled (the p-value depends
                    # only on the two counts), so only rules already in the table are skipped here.
                    if cand is None:
                        _store(pools, kind, i, np.inf, step)
                        continue
                    d = model.delta(cand, removed)
                    _store(pools, kind, i, d - t_term, step)
                    n_eval += 1
                if d < 0 and (best is None or d < best[0]):
                    best = (d, kind, i)
                if n_eval >= max_evaluations:
                    break
            if best is None:
                break
            rule, removed = _materialise(model, pools, best[1], best[2])
            gain = model.accept(rule, removed)
            pools.mark_changed([rule, *removed], step)
            for r in removed:
                pools.drop_rule(r)
            pools.add_rule(rule, model.rules)
            steps.append(Step(rule, removed, gain, model.total))
            bar.update(1)
    finally:
        bar.close()
    return model, steps

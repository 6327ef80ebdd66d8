"""Conjunction refinement: planted frequent-token conjunctions come out whole, and its statistics equal a slow reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.stats import fisher_exact

from fischer_sc_premise import planted_errors, premise
from fischer_sc_premise._refine import extension_pvalues, merge_pvalues, part_bias_p
from fischer_sc_premise._rules import Data, Model, build_rule


def _data(X, y) -> Data:
    X = sparse.csr_matrix(X)
    d = Data(X, sparse.csc_matrix(X), np.asarray(y, dtype=np.int8))
    d.X_csc.sort_indices()
    return d


def test_planted_frequent_token_conjunctions_reported_whole():
    # Rule tokens among the 3rd-20th most frequent (some in a third of all instances): the paper's
    # code splits the pair and the triple into single tokens; the refinement reunites them.
    d = planted_errors(6000, 500, rule_sizes=(1, 2, 3), rule_token_ranks=(3, 20), random_state=2)

    def found(df):
        return {frozenset(a for c in cl for a in c) for cl in df.loc[df["direction"] == "error", "clauses"]}

    split = found(premise(d.X, d.is_error, refine_conjunctions=False, progress=False))
    assert not split & {frozenset(r) for r in d.rules if len(r) > 1}, split
    df = premise(d.X, d.is_error, progress=False)
    assert found(df) == {frozenset(r) for r in d.rules}, df[["pattern", "origin"]]
    assert df["origin"].str.startswith("refined").sum() == 2
    assert (df["fisher_p"] <= 0.01).all()
    assert df.attrs["params"]["refine_conjunctions"] is True


def test_independent_frequent_single_token_rules_stay_apart():
    # Two single-token rules of frequent tokens co-occur often; each is biased without the other,
    # so no conjunction may replace them.
    for seed in range(3):
        d = planted_errors(6000, 500, rule_sizes=(1, 1), rule_token_ranks=(3, 20), random_state=seed)
        df = premise(d.X, d.is_error, progress=False)
        assert sorted(df["pattern"]) == sorted(str(r[0]) for r in d.rules)
        assert not df["origin"].str.startswith("refined").any()


def test_nothing_reported_on_null_data():
    # The same frequent tokens planted, but errors as likely with them as without.
    for seed in (0, 1):
        d = planted_errors(
            6000, 500, rule_sizes=(1, 2, 3), rule_token_ranks=(3, 20), rule_error_rate=0.15, random_state=seed
        )
        assert premise(d.X, d.is_error, progress=False).empty


def test_refinement_moves_keep_code_length_bookkeeping_exact():
    from fischer_sc_premise._reference import total_length_reference

    d = planted_errors(3000, 200, rule_sizes=(1, 2, 3), rule_token_ranks=(3, 20), random_state=0)
    df = premise(d.X, d.is_error, progress=False)
    labels = d.is_error.astype(np.int8)
    table = [tuple(tuple(int(a) for a in c) for c in cl) for cl in df["clauses"]]
    assert df.attrs["total_bits"][-1] == pytest.approx(total_length_reference(d.X, labels, table), abs=1e-6)


def _slow_part_p(part: np.ndarray, base: np.ndarray, y: np.ndarray, direction: int) -> float:
    table = [[int((part & y).sum()), int((part & ~y).sum())], [int((base & y).sum()), int((base & ~y).sum())]]
    if not part.any():
        return 1.0
    return float(fisher_exact(table, alternative="greater" if direction == 1 else "less")[1])


def _slow_conditional(D, y, table_rows, r_rows, s_rows, direction):
    """Dense masks and scipy: p of r without s and s without r on the rows no other rule covers."""
    others = np.zeros(D.shape[0], dtype=bool)
    for rows in table_rows:
        others |= rows
    resid = ~others
    base = resid & ~r_rows & ~s_rows
    return (
        _slow_part_p(resid & r_rows & ~s_rows, base, y, direction),
        _slow_part_p(resid & s_rows & ~r_rows, base, y, direction),
    )


def test_part_bias_p_equals_scipy_fisher_exact():
    # One call over many tables of different sizes: the kernel's population differs per entry.
    rng = np.random.default_rng(0)
    d = _data(np.eye(400, 3, dtype=np.int8), rng.random(400) < 0.3)
    p0, p1, b0, b1 = rng.integers(0, 100, size=(4, 40))
    p0[:3] = p1[:3] = 0  # empty parts: p = 1
    for direction in (0, 1):
        alt = "greater" if direction == 1 else "less"
        got = part_bias_p(d, p0, p1, b0, b1, direction)
        for i in range(40):
            want = fisher_exact([[p1[i], p0[i]], [b1[i], b0[i]]], alternative=alt)[1] if p0[i] + p1[i] else 1.0
            assert got[i] == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_conditional_tests_equal_slow_reference():
    rng = np.random.default_rng(3)
    n, m = 600, 14
    D = rng.random((n, m)) < rng.uniform(0.1, 0.5, size=m)
    y = rng.random(n) < np.where(D[:, 0] & D[:, 1], 0.7, 0.2)
    d = _data(D.astype(np.int8), y)
    model = Model(d)
    rules = [build_rule(d, cl, "test") for cl in ([[0]], [[1]], [[2], [3]], [[4]])]
    for r in rules:
        model.accept(r)
    rows = [np.isin(np.arange(n), r.rows) for r in rules]
    # Merges of every pair of rules without shared tokens.
    checked = 0
    for i in range(len(rules)):
        for j in range(i + 1, len(rules)):
            p_r, p_s, direction = merge_pvalues(d, model.rules, rules[i], rules[j])
            others = [rows[k] for k in range(len(rules)) if k not in (i, j)]
            want = _slow_conditional(D, y, others, rows[i], rows[j], direction)
            assert (p_r, p_s) == pytest.approx(want, rel=1e-9, abs=1e-300)
            checked += 1
    # Extensions of every rule by every token outside it, vectorised over the tokens.
    for i, r in enumerate(rules):
        tokens = np.setdiff1d(np.arange(m), r.items)
        p_r, p_b, direction = extension_pvalues(d, model.rules, r, tokens)
        others = [rows[k] for k in range(len(rules)) if k != i]
        for t, pr, pb, dr in zip(tokens, p_r, p_b, direction, strict=True):
            want = _slow_conditional(D, y, others, rows[i], D[:, t], int(dr))
            assert (pr, pb) == pytest.approx(want, rel=1e-9, abs=1e-300)
            in_x = rows[i] & D[:, t]
            assert dr == int((in_x & y).sum() * (n - y.sum()) >= (in_x & ~y).sum() * y.sum())
            checked += 1
    assert checked > 40


def test_pair_and_token_the_code_rejected_are_proposed_and_kept():
    # 2 000 instances: the paper's objective finds no planted rule whole; the refinement proposes
    # the Bonferroni-significant pair itself, extends a split triple's pair to the triple and adds
    # the planted single token (it lengthens the code by ~5 bits, but its residual p is ~6e-7).
    d = planted_errors(2000, 2000, rule_sizes=(1, 2, 3), rule_ranks=[(3, 20)] * 3, random_state=2)
    paper = premise(d.X, d.is_error, refine_conjunctions=False, progress=False)
    planted = {frozenset(r) for r in d.rules}
    assert not {frozenset(a for c in cl for a in c) for cl in paper["clauses"]} & planted
    df = premise(d.X, d.is_error, progress=False)
    found = {frozenset(a for c in cl for a in c): o for cl, o in zip(df["clauses"], df["origin"], strict=True)}
    assert set(found) == planted, df[["pattern", "origin"]]
    assert "refined pair" in found.values()
    assert found[frozenset(d.rules[0])] == "refined singleton"


def test_planted_errors_rule_ranks():
    d = planted_errors(500, 100, rule_sizes=(1, 2), rule_ranks=[(50, 60), (3, 6)], random_state=0)
    assert 50 <= d.rules[0][0] < 60 and all(3 <= t < 6 for t in d.rules[1])
    with pytest.raises(ValueError, match="one \\(lo, hi\\) per rule"):
        planted_errors(500, 100, rule_sizes=(1, 2), rule_ranks=[(3, 6)])
    with pytest.raises(ValueError, match="cannot hold 2 more"):
        planted_errors(500, 100, rule_sizes=(2, 2), rule_ranks=[(3, 6), (3, 6)])


def test_residual_token_pvalues_equal_slow_reference():
    from fischer_sc_premise._singletons import residual_token_pvalues, singleton_candidates

    rng = np.random.default_rng(5)
    n, m = 500, 12
    D = rng.random((n, m)) < rng.uniform(0.05, 0.4, size=m)
    y = rng.random(n) < np.where(D[:, 0] & D[:, 1], 0.8, np.where(D[:, 5], 0.05, 0.25))
    d = _data(D.astype(np.int8), y)
    model = Model(d)
    model.accept(build_rule(d, [[0], [1]], "test"))
    model.accept(build_rule(d, [[2]], "test"))
    resid = ~((D[:, 0] & D[:, 1]) | D[:, 2])
    tokens, p, direction = residual_token_pvalues(model, min_count=1)
    assert 2 not in tokens and 5 in tokens  # a single-token rule is not tested again
    for t, pt, dt in zip(tokens, p, direction, strict=True):
        a, b = resid & D[:, t], resid & ~D[:, t]
        table = [[(a & y).sum(), (a & ~y).sum()], [(b & y).sum(), (b & ~y).sum()]]
        assert dt == int(table[0][0] * resid.sum() >= (resid & y).sum() * a.sum())
        want = fisher_exact(table, alternative="greater" if dt == 1 else "less")[1]
        assert pt == pytest.approx(want, rel=1e-9, abs=1e-300)
    # Token 5 (errors 0.05 against 0.25) is the correct-direction token the residual test finds.
    ((_, rule, _),) = singleton_candidates(model, alpha=0.01, min_count=1)
    assert rule.clauses == ((5,),) and rule.direction == 0 and rule.origin == "refined singleton"

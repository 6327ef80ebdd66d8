"""Premise: planted-rule recovery, exact code-length bookkeeping, the lazy-greedy bound, inputs and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.stats import fisher_exact

from fischer_sc.metrics import soft_precision_recall_f1
from fischer_sc_premise import planted_errors, premise
from fischer_sc_premise._reference import total_length_reference
from fischer_sc_premise._rules import Data, Model, build_rule, fisher_p
from fischer_sc_premise._search import _bounds, _materialise, _Pools, greedy_search, min_significant_count


def _error_sets(df: pd.DataFrame) -> list[set]:
    return [{a for c in cl for a in c} for cl, d in zip(df["clauses"], df["direction"], strict=True) if d == "error"]


def _data(X, y) -> Data:
    X = sparse.csr_matrix(X)
    d = Data(X, sparse.csc_matrix(X), np.asarray(y, dtype=np.int8))
    d.X_csc.sort_indices()
    return d


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_rules_recovered(seed):
    d = planted_errors(5000, 1000, random_state=seed)
    df = premise(d.X, d.is_error, progress=False)
    _, _, f1 = soft_precision_recall_f1(_error_sets(df), d.rules)
    assert f1 >= 0.95, (d.rules, df[["pattern", "direction", "count_error", "count_correct"]])
    assert (df["gain_bits"] < 0).all()
    assert (df["fisher_p"] <= 0.01).all()


def test_planted_rules_larger_vocabulary():
    d = planted_errors(20000, 5000, rule_sizes=(1, 2, 2, 3, 3, 3), random_state=5)
    df = premise(d.X, d.is_error, progress=False)
    _, _, f1 = soft_precision_recall_f1(_error_sets(df), d.rules)
    assert f1 >= 0.95


def _replay(d: Data, steps):
    table: list = []
    before = total_length_reference(d.X, d.labels, [])
    for step in steps:
        table = [r for r in table if not any(r is x for x in step.replaced)] + [step.rule]
        after = total_length_reference(d.X, d.labels, [r.clauses for r in table])
        yield step, before, after
        before = after


def test_gain_equals_change_in_total_length():
    planted = planted_errors(700, 40, rule_sizes=(1, 2, 3), rule_rate=0.08, mean_length=6, random_state=3)
    d = _data(planted.X, planted.is_error)
    model, steps = greedy_search(
        d, [], fisher_p_value=0.01, min_overlap=0.3, max_rules=None, max_evaluations=10**6, progress=False
    )
    assert len(steps) >= 3
    assert any(s.replaced for s in steps), [s.rule.origin for s in steps]  # an extension happened
    for step, before, after in _replay(d, steps):
        assert step.gain == pytest.approx(after - before, abs=1e-6)
        assert step.total == pytest.approx(after, abs=1e-6)
    assert model.total == pytest.approx(
        total_length_reference(d.X, d.labels, [r.clauses for r in model.rules]), abs=1e-6
    )


def test_delta_is_exact_for_every_move_type_including_or_clauses_and_merges():
    rng = np.random.default_rng(7)
    X = (rng.random((400, 12)) < 0.25).astype(np.int8)
    y = rng.random(400) < 0.3
    d = _data(X, y)
    model = Model(d)
    moves = [
        (build_rule(d, [[0]], "singleton"), ()),
        (build_rule(d, [[1, 2], [3]], "or-clause"), ()),
        (build_rule(d, [[4], [5]], "pair"), ()),
        (build_rule(d, [[6, 7, 8]], "or-clause"), ()),
    ]
    table = []
    for rule, removed in moves:
        before = total_length_reference(d.X, d.labels, [r.clauses for r in table])
        gain = model.accept(rule, removed)
        table.append(rule)
        assert gain == pytest.approx(
            total_length_reference(d.X, d.labels, [r.clauses for r in table]) - before, abs=1e-6
        )
    # An extension (replaces one rule) and a merge (replaces two).
    r_pair, r_or = table[2], table[1]
    ext = build_rule(d, [*r_pair.clauses, (9,)], "extension")
    merged = build_rule(d, [*r_or.clauses, *table[3].clauses], "merge")
    for rule, removed in ((ext, (r_pair,)), (merged, (r_or, table[3]))):
        before = total_length_reference(d.X, d.labels, [r.clauses for r in table])
        gain = model.accept(rule, removed)
        table = [r for r in table if not any(r is x for x in removed)] + [rule]
        assert gain == pytest.approx(
            total_length_reference(d.X, d.labels, [r.clauses for r in table]) - before, abs=1e-6
        )


def test_bounds_never_exceed_exact_gains():
    planted = planted_errors(1500, 60, rule_sizes=(1, 2, 3), rule_rate=0.06, mean_length=8, random_state=4)
    d = _data(planted.X, planted.is_error)
    _, steps = greedy_search(
        d, [], fisher_p_value=0.01, min_overlap=0.3, max_rules=3, max_evaluations=10**6, progress=False
    )
    model = Model(d)
    pools = _Pools(d, [], {}, 0.01, 0.3, min_significant_count(d, 0.01))
    for step in steps:
        model.accept(step.rule, step.replaced)
        for r in step.replaced:
            pools.drop_rule(r)
        pools.add_rule(step.rule, model.rules)
    bounds, kinds, idx, exact = _bounds(model, pools)
    assert set(kinds.tolist()) >= {0, 1, 3}
    assert exact[kinds == 0].all()  # singleton gains are exact by construction
    assert not exact[kinds != 0].any()  # nothing cached yet in this fresh pool
    checked = 0
    for b, k, i in zip(bounds, kinds, idx, strict=True):
        cand, removed = _materialise(model, pools, int(k), int(i))
        if cand is None:
            assert k != 0 or b == np.inf  # a singleton already in the table is no candidate
            continue
        d = model.delta(cand, removed)
        assert b <= d + 1e-9
        if k == 0:
            assert b == pytest.approx(d, abs=1e-9)
        checked += 1
    assert checked > 20


def test_fisher_matches_scipy():
    d = _data(np.eye(50, 3, dtype=np.int8), np.r_[np.ones(15), np.zeros(35)])
    for c0, c1 in [(0, 10), (5, 5), (20, 1), (0, 0), (35, 15)]:
        p, direction = fisher_p(d, c0, c1)
        alt = "greater" if direction else "less"
        assert p == pytest.approx(fisher_exact([[c1, c0], [15 - c1, 35 - c0]], alternative=alt)[1], rel=1e-9)


def test_or_clause_from_embeddings():
    # Three synonyms that never co-occur, each biased towards errors only weakly; together strongly.
    rng = np.random.default_rng(0)
    n, m = 3000, 30
    X = (rng.random((n, m)) < 0.05).astype(np.int8)
    X[:, :3] = 0
    syn_rows = rng.choice(n, size=300, replace=False)
    X[syn_rows, rng.integers(0, 3, size=300)] = 1
    y = np.where(np.isin(np.arange(n), syn_rows), rng.random(n) < 0.5, rng.random(n) < 0.15)
    base = rng.normal(size=16)
    emb = rng.normal(size=(m, 16))
    emb[:3] = base + 0.1 * rng.normal(size=(3, 16))
    names = [f"w{j}" for j in range(m)]
    df = premise(sparse.csr_matrix(X), y, vocabulary=names, embeddings=emb, max_neighbor_distance=3, progress=False)
    top = df.iloc[0]
    assert top["origin"] == "or-clause"
    assert set(top["clauses"][0]) == {"w0", "w1", "w2"}
    assert top["pattern"] == "w0 | w1 | w2"
    assert top["direction"] == "error"
    # The same vectors as a token -> vector mapping, with the tokens as strings.
    rows = [[names[j] for j in np.flatnonzero(r)] for r in X]
    mapped = premise(rows, y, embeddings=dict(zip(names, emb, strict=True)), max_neighbor_distance=3, progress=False)
    assert set(mapped.iloc[0]["clauses"][0]) == {"w0", "w1", "w2"}
    with pytest.raises(ValueError, match="pass vocabulary="):
        premise(rows, y, embeddings=emb, progress=False)
    with pytest.raises(ValueError, match="no token"):
        premise(rows, y, embeddings={"zzz": emb[0]}, progress=False)
    # Without embeddings the synonyms can only come as singletons.
    plain = premise(sparse.csr_matrix(X), y, vocabulary=names, progress=False)
    assert not plain["pattern"].str.contains("|", regex=False).any()


def test_input_forms_agree():
    d = planted_errors(1500, 80, rule_sizes=(1, 2), rule_rate=0.06, mean_length=6, random_state=2)
    names = [f"t{j}" for j in range(80)]
    rows = [d.X.indices[d.X.indptr[i] : d.X.indptr[i + 1]].tolist() for i in range(d.X.shape[0])]
    ref = premise(d.X, d.is_error, vocabulary=names, progress=False)
    by_ids = premise(rows, d.is_error, vocabulary=names, progress=False)
    by_str = premise([[names[j] for j in r] for r in rows], d.is_error, vocabulary=names, progress=False)
    dense = premise(d.X.toarray(), d.is_error.astype(int), vocabulary=names, progress=False)
    for other in (by_ids, by_str, dense):
        pd.testing.assert_frame_equal(ref, other)
    assert len(ref) >= 2
    ids_only = premise(rows, d.is_error, progress=False)
    assert set(ids_only["pattern"]) == {p.replace("t", "") for p in ref["pattern"]}


def test_anndata_route_with_obs_key():
    ad = pytest.importorskip("anndata")
    d = planted_errors(1500, 80, rule_sizes=(2,), rule_rate=0.08, mean_length=6, random_state=6)
    adata = ad.AnnData(sparse.csr_matrix(d.X, dtype=np.float32))
    adata.var_names = [f"g{j}" for j in range(80)]
    adata.obs["wrong"] = d.is_error
    df = premise(adata, "wrong", progress=False)
    assert df.iloc[0]["pattern"] == " & ".join(f"g{j}" for j in d.rules[0])
    with pytest.raises(KeyError, match="is_error='nope'"):
        premise(adata, "nope", progress=False)


def test_deterministic_and_unsorted_duplicate_tokens():
    d = planted_errors(2000, 100, random_state=8)
    a = premise(d.X, d.is_error, progress=False)
    b = premise(d.X, d.is_error, progress=False)
    pd.testing.assert_frame_equal(a, b)
    rows = [d.X.indices[d.X.indptr[i] : d.X.indptr[i + 1]].tolist() for i in range(d.X.shape[0])]
    messy = [r[::-1] + r[:1] for r in rows]  # reversed, with a duplicate
    pd.testing.assert_frame_equal(premise(messy, d.is_error, vocabulary=list(range(100)), progress=False), a)


def test_progress_bar_can_be_turned_off(capsys):
    d = planted_errors(1000, 60, rule_sizes=(2,), rule_rate=0.08, random_state=1)
    premise(d.X, d.is_error, progress=False)
    assert "premise" not in capsys.readouterr().err
    premise(d.X, d.is_error, progress=True)
    assert "premise" in capsys.readouterr().err


def test_max_rules_and_history():
    d = planted_errors(3000, 200, random_state=3)
    df = premise(d.X, d.is_error, max_rules=2, progress=False)
    assert len(df) <= 2
    hist = df.attrs["total_bits"]
    assert len(hist) == 3 and np.all(np.diff(hist) < 0)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([["a"], ["b"]], [True]), {}, ValueError, "one entry per instance"),
        (([["a"], ["b"]], [0.5, 1.0]), {}, TypeError, "is_error must be boolean"),
        (([["a"], ["b"]], ["yes", "no"]), {}, TypeError, "is_error must be boolean"),
        (([["a"], ["b"]], [True, True]), {}, ValueError, "both errors and correct"),
        (([], []), {}, ValueError, "instances is empty"),
        ((["a b", "c"], [True, False]), {}, TypeError, r"instances\[0\]"),
        (([[1, "a"], [2]], [True, False]), {}, TypeError, "all ints"),
        (([[-1], [2]], [True, False]), {}, ValueError, ">= 0"),
        (([[5], [2]], [True, False]), {"vocabulary": ["a", "b"]}, ValueError, "out of range"),
        (("tokens", [True]), {}, TypeError, "list of token lists"),
        ((np.zeros((2, 3)), [True, False]), {}, ValueError, "holds no tokens"),
        ((np.eye(2), [True, False]), {"vocabulary": ["a"]}, ValueError, "vocabulary has 1"),
        ((np.eye(2), [True, False]), {"embeddings": np.zeros((3, 4))}, ValueError, "embeddings has shape"),
        ((np.eye(2), [True, False]), {"max_neighbor_distance": 2}, ValueError, "needs embeddings"),
        ((np.eye(2), [True, False]), {"fisher_p_value": 2}, ValueError, "fisher_p_value"),
        ((np.eye(2), [True, False]), {"min_overlap": -0.1}, ValueError, "min_overlap"),
        ((np.eye(2), [True, False]), {"max_rules": -1}, ValueError, "max_rules"),
        ((np.eye(2), "wrong"), {}, TypeError, "only when instances is an AnnData"),
        ((np.eye(2), [True, False]), {"colour": 1}, TypeError, "colour"),
    ],
)
def test_errors_name_the_problem(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        premise(*args, progress=False, **kwargs)


def test_hypergeom_tail_kernel_matches_scipy():
    from scipy.stats import hypergeom

    from fischer_sc_premise._fisher import hypergeom_tail

    rng = np.random.default_rng(0)
    for population in (10, 500, 200_000):
        group = rng.integers(0, population + 1, size=200)
        draws = rng.integers(0, population + 1, size=200)
        tail_hits = np.maximum(np.minimum(draws, group) - rng.integers(0, 30, size=200), 0)  # far tails
        any_hits = rng.integers(0, np.minimum(draws, group) + 2)  # anywhere, incl. p = 1 and p = 0
        for hits in (tail_hits, any_hits):
            got = hypergeom_tail(hits, population, group, draws)
            ref = hypergeom.sf(hits - 1, population, group, draws)
            # ln k! near 2e6 (population 2e5) carries ~1e-10 absolute rounding, i.e. ~1e-9 relative in p.
            np.testing.assert_allclose(got, np.clip(ref, 0, 1), rtol=1e-7, atol=1e-300)


def test_planted_disjunction_recovered_only_with_embeddings():
    # Spec §6: (one of three synonyms) & one token, planted as an error rule; the synonyms get
    # nearby synthetic vectors.
    rng = np.random.default_rng(1)
    n, m = 5000, 200
    X = (rng.random((n, m)) < rng.uniform(0.01, 0.1, size=m)).astype(np.int8)
    syn, other = [0, 1, 2], 3
    X[:, syn] = 0
    hit = rng.random(n) < 0.05
    X[hit, other] = 1
    X[np.flatnonzero(hit), rng.choice(syn, size=hit.sum())] = 1
    background = rng.random(n) < 0.06
    X[np.flatnonzero(background & ~hit), rng.choice(syn, size=(background & ~hit).sum())] = 1
    y = np.where(hit, rng.random(n) < 0.8, rng.random(n) < 0.15)
    emb = rng.normal(size=(m, 20))
    emb[syn] = rng.normal(size=20) + 0.1 * rng.normal(size=(3, 20))
    names = [f"w{j}" for j in range(m)]
    with_emb = premise(sparse.csr_matrix(X), y, vocabulary=names, embeddings=emb, progress=False)
    assert with_emb["pattern"].tolist() == ["(w0 | w1 | w2) & w3"]
    assert with_emb.iloc[0]["direction"] == "error"
    plain = premise(sparse.csr_matrix(X), y, vocabulary=names, progress=False)
    assert sorted(plain["pattern"]) == ["w0 & w3", "w1 & w3", "w2 & w3"]

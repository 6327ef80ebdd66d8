"""Conjunction refinement after the MDL search: keep a conjunction whose parts do not explain the labels alone.

The reference code prices a rule by which rows of each label it holds in
(``log C(n_0, c_0) + log C(n_1, c_1)``) and pays it back only through the token occurrences it
covers. A token in a third of all instances costs about one bit per occurrence as a singleton, so a
conjunction of two such tokens saves less than its rows cost, while each token alone is biased
enough (it holds the conjunction's errors) to pay for itself: MDL splits ``a & b`` into ``a`` and
``b`` in any search order (docs/premise.md, 'Conjunctions of frequent tokens').

The refinement asks the question the split answers wrongly, by conditional tests of each part
given the other. For a candidate ``X = r & s`` (a merge of two rules in the table, or a rule ``r``
extended by a token ``s``), one-sided Fisher exact tests towards ``X``'s direction check that

1. ``X`` is biased (as every rule: against all other rows);
2. each part matters given the other: the rows of ``X`` lean further than the rows of ``r``
   without ``s``, and further than the rows of ``s`` without ``r``;
3. no part explains the labels alone: on the rows no other rule of the table covers (the
   residual), the rows of ``r`` without ``s`` do *not* lean more than the rows of neither, and
   the same for ``s`` without ``r``.

``X`` replaces its parts when all hold: the conjunction explains the labels and its parts do not.
Test 2 is the positive evidence (without it, a part that lost its power on a small residual would
pass test 3 by default); test 3 keeps two rules that are each biased on their own apart. Among such
moves the one whose conjunction is the most significant goes first (the parts of one split
conjunction are reunited before any of them is tried with a rare token), until none is left.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._kernels import label_counts, tail
from ._rules import Data, Model, Rule, build_rule, fisher_p


def part_bias_p(
    data: Data,
    part0: np.ndarray,
    part1: np.ndarray,
    base0: np.ndarray,
    base1: np.ndarray,
    direction: int,
) -> np.ndarray:
    """One-sided Fisher p that a part's rows lean towards ``direction`` more than the base rows do.

    Parameters
    ----------
    data
        The data (for its ``ln k!`` table).
    part0, part1, base0, base1
        Correct (0) and error (1) rows of the part and of the base, one entry per candidate.
    direction
        1 to test for more errors, 0 for more correct predictions.

    Returns
    -------
    numpy.ndarray
        Equal to ``scipy.stats.fisher_exact([[part1, part0], [base1, base0]])`` with
        ``alternative="greater"`` (direction 1) or ``"less"`` (direction 0); 1 for an empty part.
    """
    part0, part1, base0, base1 = (np.atleast_1d(np.asarray(v, dtype=np.int64)) for v in (part0, part1, base0, base1))
    hits, other_hits = (part1, base1) if direction == 1 else (part0, base0)
    draws = part0 + part1
    p = tail(hits, part0 + part1 + base0 + base1, hits + other_hits, draws, data.ln_fact, data.numba)
    return np.where(draws > 0, np.clip(p, 0.0, 1.0), 1.0)


def _split(data: Data, rows: np.ndarray) -> tuple[int, int]:
    c1 = int(data.labels[rows].sum())
    return int(rows.size) - c1, c1


def _row_cover(data: Data, rules: Sequence[Rule]) -> np.ndarray:
    cover = np.zeros(data.n, dtype=np.int64)
    for r in rules:
        cover[r.rows] += 1
    return cover


def conditional_pvalues(
    data: Data, others: Sequence[Rule], r_rows: np.ndarray, s_rows: np.ndarray, direction: int
) -> tuple[float, float]:
    """Test 3 for ``r & s``: p of ``r`` without ``s`` and of ``s`` without ``r``, towards ``direction``.

    Both on the residual rows (covered by none of ``others``), against the residual rows of neither.
    """
    resid = _row_cover(data, others) == 0
    in_r = np.zeros(data.n, dtype=bool)
    in_r[r_rows] = True
    in_s = np.zeros(data.n, dtype=bool)
    in_s[s_rows] = True
    b0, b1 = _split(data, np.flatnonzero(resid & ~in_r & ~in_s))
    p = []
    for only in (resid & in_r & ~in_s, resid & in_s & ~in_r):
        o0, o1 = _split(data, np.flatnonzero(only))
        p.append(float(part_bias_p(data, o0, o1, b0, b1, direction)[0]))
    return p[0], p[1]


def merge_pvalues(data: Data, table: Sequence[Rule], r: Rule, s: Rule) -> tuple[float, float, int]:
    """Test 3 for the merge ``r & s`` of two rules of ``table``, towards the direction of ``r & s``.

    Returns the p of ``r`` without ``s``, of ``s`` without ``r`` (on the rows no other rule of
    the table covers) and that direction.
    """
    c0, c1 = _split(data, np.intersect1d(r.rows, s.rows, assume_unique=True))
    direction = int(fisher_p(data, c0, c1)[1])
    others = [t for t in table if t is not r and t is not s]
    return (*conditional_pvalues(data, others, r.rows, s.rows, direction), direction)


def extension_pvalues(
    data: Data, table: Sequence[Rule], r: Rule, tokens: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conditional tests of the extensions ``r & b`` for every token ``b`` in ``tokens``, vectorised.

    Returns the p of ``r`` without ``b``, of ``b`` without ``r`` (residual rows of the table
    without ``r``, against the residual rows of neither) and the direction of each ``r & b``.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    resid = _row_cover(data, [t for t in table if t is not r]) == 0
    in_r = np.zeros(data.n, dtype=bool)
    in_r[r.rows] = True
    x0, x1 = label_counts(data.X, r.rows, data.labels, data.numba)  # r & b, all rows: its direction
    direction = fisher_p(data, x0[tokens], x1[tokens])[1].astype(np.int64)
    ru = np.flatnonzero(resid & in_r)
    rb0, rb1 = label_counts(data.X, ru, data.labels, data.numba)  # r & b on the residual
    u0, u1 = label_counts(data.X, np.flatnonzero(resid), data.labels, data.numba)  # b on the residual
    r0, r1 = _split(data, ru)
    all0, all1 = _split(data, np.flatnonzero(resid))
    rb0, rb1, u0, u1 = rb0[tokens], rb1[tokens], u0[tokens], u1[tokens]
    only_r = (r0 - rb0, r1 - rb1)
    only_b = (u0 - rb0, u1 - rb1)
    base = (all0 - r0 - only_b[0], all1 - r1 - only_b[1])
    p_r, p_b = np.ones(tokens.size), np.ones(tokens.size)
    for y in (0, 1):
        sel = np.flatnonzero(direction == y)
        p_r[sel] = part_bias_p(data, only_r[0][sel], only_r[1][sel], base[0][sel], base[1][sel], y)
        p_b[sel] = part_bias_p(data, only_b[0][sel], only_b[1][sel], base[0][sel], base[1][sel], y)
    return p_r, p_b, direction


def _strength(data: Data, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    """Sort key of a conjunction's significance: ``ln`` of its Fisher p, without underflow.

    Where the p-value underflows to 0 the log of the hypergeometric probability of the observed
    table (the tail's first, dominant term) stands in; smaller is more significant.
    """
    c0 = np.atleast_1d(np.asarray(c0, dtype=np.int64))
    c1 = np.atleast_1d(np.asarray(c1, dtype=np.int64))
    p, direction = fisher_p(data, c0, c1)
    hits = np.where(direction == 1, c1, c0)
    group = np.where(direction == 1, data.n1, data.n0)
    draws = c0 + c1
    lf, n = data.ln_fact, data.n
    ln_pmf = (
        lf[draws]
        + lf[n - draws]
        + lf[group]
        + lf[n - group]
        - lf[n]
        - lf[hits]
        - lf[draws - hits]
        - lf[group - hits]
        - lf[n - group - draws + hits]
    )
    with np.errstate(divide="ignore"):
        return np.where(p > 0, np.log(np.maximum(p, 1e-320)), ln_pmf)


def _column(data: Data, j: int) -> np.ndarray:
    return data.X_csc.indices[data.X_csc.indptr[j] : data.X_csc.indptr[j + 1]]


def significant_pairs(model: Model, alpha: float) -> list[tuple[int, int, int, int]]:
    """Token pairs ``a & b`` (from the search's co-occurrence pool) that pass tests 1 and 2.

    Test 1 is Bonferroni-corrected over every pair the pool tested: unlike merges and extensions,
    these conjunctions were not proposed by the table, so thousands compete.
    """
    if model.pairs is None:
        return []
    data = model.data
    a, b, c0, c1, n_tested = model.pairs
    p, direction = fisher_p(data, c0, c1)
    keep = np.flatnonzero(p * max(int(n_tested), 1) <= alpha)
    out = []
    for i in keep:
        y = int(direction[i])
        x0, x1 = int(c0[i]), int(c1[i])
        ai, bi = int(a[i]), int(b[i])
        given = part_bias_p(
            data,
            [x0, x0],
            [x1, x1],
            [data.support0[ai] - x0, data.support0[bi] - x0],
            [data.support1[ai] - x1, data.support1[bi] - x1],
            y,
        )
        if given.max() <= alpha:
            out.append((ai, bi, y, i))
    return out


def candidates(
    model: Model, alpha: float, min_count: int, pairs: Sequence[tuple[int, int, int, int]] = ()
) -> list[tuple[float, Rule, tuple[Rule, ...]]]:
    """Conjunction moves open on the current table: ``(strength, conjunction, parts it replaces)``.

    Rejected pairs from ``pairs`` (``significant_pairs``), merges of two rules and extensions of a
    rule by one token, each passing tests 1-3; ``strength`` is the conjunction's ``ln p``.
    """
    data, table = model.data, model.rules
    out: list[tuple[float, Rule, tuple[Rule, ...]]] = []
    in_table = {int(t) for r in table for t in r.items}
    for a, b, y, i in pairs:
        # A pair the code rejected, neither of whose tokens the table holds.
        if a in in_table or b in in_table:
            continue
        p_a, p_b = conditional_pvalues(data, table, _column(data, a), _column(data, b), y)
        if p_a > alpha and p_b > alpha:
            rule = build_rule(data, [[a], [b]], "refined pair")
            out.append((float(_strength(data, model.pairs[2][i], model.pairs[3][i])[0]), rule, ()))
    singles = {r.clauses[0][0] for r in table if len(r.clauses) == 1 and len(r.clauses[0]) == 1}
    for i, r in enumerate(table):
        for s in table[i + 1 :]:
            if r.direction != s.direction or np.intersect1d(r.items, s.items).size:
                continue
            rows = np.intersect1d(r.rows, s.rows, assume_unique=True)
            if rows.size < min_count:
                continue
            c0, c1 = _split(data, rows)
            p, direction = fisher_p(data, c0, c1)
            if p[()] > alpha or int(direction) != r.direction:
                continue
            given = part_bias_p(data, [c0, c0], [c1, c1], [r.c0 - c0, s.c0 - c0], [r.c1 - c1, s.c1 - c1], r.direction)
            if given.max() > alpha:
                continue
            p_r, p_s, _ = merge_pvalues(data, table, r, s)
            if p_r > alpha and p_s > alpha:
                merged = build_rule(data, r.clauses + s.clauses, "refined merge", rows=rows)
                if merged.key not in model.keys:
                    out.append((float(_strength(data, c0, c1)[0]), merged, (r, s)))
        # Extensions by tokens outside the table's singletons (those are merges above).
        x0, x1 = label_counts(data.X, r.rows, data.labels, data.numba)
        x0[r.items] = 0
        x1[r.items] = 0
        b = np.flatnonzero(x0 + x1 >= min_count)
        b = b[~np.isin(b, list(singles))]
        p, direction = fisher_p(data, x0[b], x1[b])
        b = b[(p <= alpha) & (direction == r.direction)]
        # Each part matters given the other: r & b leans further than r without b and b without r.
        xb0, xb1 = x0[b], x1[b]
        given_b = part_bias_p(data, xb0, xb1, r.c0 - xb0, r.c1 - xb1, r.direction)
        given_r = part_bias_p(data, xb0, xb1, data.support0[b] - xb0, data.support1[b] - xb1, r.direction)
        b = b[(given_b <= alpha) & (given_r <= alpha)]
        if not b.size:
            continue
        p_r, p_b, _ = extension_pvalues(data, table, r, b)
        ok = b[(p_r > alpha) & (p_b > alpha)]
        if not ok.size:
            continue
        strength = _strength(data, x0[ok], x1[ok])
        best = int(np.argmin(strength))  # one extension per rule: the most significant
        new = build_rule(data, [*r.clauses, (int(ok[best]),)], "refined extension")
        if new.key not in model.keys:
            out.append((float(strength[best]), new, (r,)))
    return out

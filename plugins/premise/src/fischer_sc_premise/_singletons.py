"""Refinement of single tokens: a token whose bias the rule table leaves unexplained, with a corrected test.

The reference code adds a single token as a rule only when it shortens the code. A token in a
tenth of all instances pays for its rows (``log C(n_0, c_0) + log C(n_1, c_1)`` plus the model
cost) only through the label information it carries, which grows with the number of instances: on
2 000 instances a planted error token (rank 10-16, 3 % of instances, error rate 0.8 against 0.15)
lengthens the code by several bits although its Fisher p on the rows no rule covers is about
1e-6, far beyond what any of the other 2 000 tokens reaches (``benchmarks/premise_evidence.py``).

The test here is the one the table's other rules leave open: on the residual (rows covered by no
rule of the table), do the rows holding token ``a`` lean towards a label more than the residual
rows without it? Unlike a conjunction proposed by the table, every token competes, so the
one-sided p (taken in the token's own direction, i.e. two tests per token) is Bonferroni-corrected
over ``2 x`` the tokens tested, and the token must also pass the plain Fisher test every rule
passes. The most significant such token is added; the residual then changes, and the refinement
looks again.
"""

from __future__ import annotations

import numpy as np

from ._kernels import label_counts
from ._refine import candidates as conjunction_candidates
from ._refine import part_bias_p, significant_pairs
from ._rules import Model, Rule, build_rule, fisher_p


def residual_rows(model: Model) -> np.ndarray:
    """Rows covered by no rule of the table."""
    covered = np.zeros(model.data.n, dtype=bool)
    for r in model.rules:
        covered[r.rows] = True
    return np.flatnonzero(~covered)


def residual_token_pvalues(model: Model, min_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-sided p of each token on the residual, towards its own direction there.

    Returns
    -------
    tokens, p, direction
        The tokens tested (residual count >= ``min_count``, not already a single-token rule),
        their p-values (``scipy.stats.fisher_exact([[a1, a0], [b1, b0]])`` with the token's rows
        ``a`` and the other residual rows ``b``, ``alternative="greater"`` towards errors,
        ``"less"`` towards correct) and directions (1 = errors).
    """
    data = model.data
    rows = residual_rows(model)
    u0, u1 = label_counts(data.X, rows, data.labels, data.numba)
    r1 = int(data.labels[rows].sum())
    r0 = int(rows.size) - r1
    singles = [r.clauses[0][0] for r in model.rules if len(r.clauses) == 1 and len(r.clauses[0]) == 1]
    ok = u0 + u1 >= max(int(min_count), 1)
    ok[singles] = False
    tokens = np.flatnonzero(ok)
    a0, a1 = u0[tokens], u1[tokens]
    b0, b1 = r0 - a0, r1 - a1
    direction = (a1 * (r0 + r1) >= r1 * (a0 + a1)).astype(np.int8)  # a1 / |a| >= r1 / |R|
    p = np.ones(tokens.size)
    for y in (0, 1):
        sel = np.flatnonzero(direction == y)
        if sel.size:
            p[sel] = part_bias_p(data, a0[sel], a1[sel], b0[sel], b1[sel], y)
    return tokens, p, direction


def singleton_candidates(model: Model, alpha: float, min_count: int) -> list[tuple[float, Rule, tuple]]:
    """The most significant residual token that passes both tests, as a refinement move (or none)."""
    tokens, p, direction = residual_token_pvalues(model, min_count)
    if not tokens.size:
        return []
    data = model.data
    p_all, dir_all = fisher_p(data, data.support0[tokens], data.support1[tokens])
    ok = np.flatnonzero((p * 2 * tokens.size <= alpha) & (p_all <= alpha) & (dir_all == direction))
    if not ok.size:
        return []
    best = ok[np.argmin(p[ok])]
    rule = build_rule(data, [[int(tokens[best])]], "refined singleton")
    if rule.key in model.keys:
        return []
    with np.errstate(divide="ignore"):
        return [(float(np.log(p[best])), rule, ())]


def refine_table(model: Model, alpha: float, min_count: int, max_moves: int | None = None) -> list:
    """Apply the refinement moves to ``model`` in place; returns them as ``(rule, replaced, delta)``.

    Conjunction moves (``_refine``) go first, the most significant conjunction first; a residual
    token is added only when no conjunction move is left, and after it the conjunctions are
    looked at again (the residual changed).
    """
    moves = []
    limit = max_moves if max_moves is not None else 4 * len(model.rules) + 10
    pairs = significant_pairs(model, alpha)
    while len(moves) < limit:
        cands = conjunction_candidates(model, alpha, min_count, pairs) or singleton_candidates(model, alpha, min_count)
        if not cands:
            break
        _, rule, removed = min(cands, key=lambda c: c[0])
        moves.append((rule, removed, model.accept(rule, removed)))
    return moves

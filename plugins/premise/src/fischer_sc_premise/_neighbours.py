"""Or-clauses from embedding neighbours (neighbour admission, docs/premise.md): ``item | near synonyms``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fischer_sc.core.embedding import knn

from ._rules import Data, Model, Rule, build_rule


def _jaccard(data: Data, a: int, b: int) -> float:
    ptr, rows = data.X_csc.indptr, data.X_csc.indices
    ra, rb = rows[ptr[a] : ptr[a + 1]], rows[ptr[b] : ptr[b + 1]]
    union = ra.size + rb.size
    if union == 0:
        return 0.0
    both = np.intersect1d(ra, rb, assume_unique=True).size
    return both / (union - both)


def admissible_neighbours(
    data: Data, vectors: np.ndarray, items: np.ndarray, n_neighbors: int, clause_max_overlap: float
) -> dict[int, list[int]]:
    """Per token, the embedding neighbours that may join its or-clause, in rank order.

    Neighbours come from cosine similarity of the token vectors. A neighbour is admissible when
    its similarity is at least the third quartile of all tokens' similarities at that neighbour
    rank, and when the two rarely occur together: Jaccard overlap ``|T(a) ∩ T(b)| / |T(a) ∪ T(b)|
    <= clause_max_overlap``. (Two independent tokens of frequencies p and q overlap by about
    pq / (p + q) in Jaccard terms, but by the larger frequency itself when normalised by the rarer
    token, which would reject the synonyms of every token above 5 % frequency by chance alone.)

    Parameters
    ----------
    data
        The instance matrix and labels.
    vectors
        Embedding vectors (k, d) of ``items``.
    items
        Token index of each vector row.
    n_neighbors
        Neighbours considered per token.
    clause_max_overlap
        Largest Jaccard overlap allowed between a token and a neighbour.

    Returns
    -------
    dict
        Token index -> admissible neighbour indices (only tokens that have some).
    """
    present = data.support[items] > 0
    vectors, items = vectors[present], items[present]
    norms = np.linalg.norm(vectors, axis=1)
    usable = norms > 0
    vectors, items = vectors[usable] / norms[usable, None], items[usable]
    k = min(int(n_neighbors), items.size - 1)
    if k < 1:
        return {}
    nbr, dist = knn(vectors, k, metric="cosine")
    sim = 1.0 - dist
    q3 = np.quantile(sim, 0.75, axis=0)
    out: dict[int, list[int]] = {}
    for row, a in enumerate(items.tolist()):
        ok = [
            int(items[nbr[row, r]])
            for r in range(k)
            if sim[row, r] >= q3[r] and _jaccard(data, a, int(items[nbr[row, r]])) <= clause_max_overlap
        ]
        if ok:
            out[a] = ok
    return out


def grow_clause(
    data: Data, model: Model, clauses: Sequence[Sequence[int]], slot: int, neighbours: Sequence[int]
) -> Rule | None:
    """Add ``neighbours`` to clause ``slot`` of a rule in rank order while its exact gain improves.

    Gains are measured against ``model``; the first neighbour that does not improve stops the
    growth (the gain is taken to be unimodal in the number of neighbours). Neighbours already in the
    rule are skipped.

    Returns
    -------
    Rule or None
        The grown rule, or None if no neighbour improved it.
    """
    current = [list(c) for c in clauses]
    used = {a for c in current for a in c}
    best_rule = build_rule(data, current, "or-clause")
    best = model.delta(best_rule)
    grown = False
    for b in neighbours:
        if b in used:
            continue
        trial = [list(c) for c in current]
        trial[slot].append(b)
        rule = build_rule(data, trial, "or-clause")
        d = model.delta(rule)
        if d >= best:
            break
        current, best, best_rule, grown = trial, d, rule, True
        used.add(b)
    return best_rule if grown else None


def or_clause_rules(data: Data, neighbours: dict[int, list[int]]) -> list[Rule]:
    """Single-clause rules ``a | a' | ...``, one per token whose neighbours improve its gain."""
    empty = Model(data)
    out = []
    for a, nbrs in neighbours.items():
        rule = grow_clause(data, empty, [[a]], 0, nbrs)
        if rule is not None:
            out.append(rule)
    return out


def or_pair_rules(data: Data, neighbours: dict[int, list[int]], a: np.ndarray, b: np.ndarray) -> list[Rule]:
    """Pair rules with one or both tokens widened to or-clauses, grown in the context of the pair.

    A synonym set is often worth its clause only together with the other token (``(would |
    could) & be``), so its growth is judged on the pair rule, against the empty table.
    """
    if not neighbours:
        return []
    empty = Model(data)
    out = []
    for x, z in zip(a.tolist(), b.tolist(), strict=True):
        grown = []
        for slot, token in ((0, x), (1, z)):
            if token in neighbours:
                rule = grow_clause(data, empty, [[x], [z]], slot, neighbours[token])
                if rule is not None:
                    grown.append(rule)
        out.extend(grown)
        if len(grown) == 2:
            # Both clauses widened on their own; try them together (XOR clauses must stay disjoint).
            c0 = next(c for c in grown[0].clauses if x in c)
            c1 = next(c for c in grown[1].clauses if z in c)
            if not set(c0) & set(c1):
                out.append(build_rule(data, [c0, c1], "or-clause"))
    return out

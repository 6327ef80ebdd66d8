"""Or-clauses from embedding neighbours (spec §4, neighbour admission): ``item | near synonyms``."""

from __future__ import annotations

import numpy as np

from fischer_sc.core import knn

from ._rules import Data, Model, Rule, build_rule


def _overlap(data: Data, a: int, b: int) -> float:
    ptr, rows = data.X_csc.indptr, data.X_csc.indices
    ra, rb = rows[ptr[a] : ptr[a + 1]], rows[ptr[b] : ptr[b + 1]]
    denom = min(ra.size, rb.size)
    if denom == 0:
        return 0.0
    return np.intersect1d(ra, rb, assume_unique=True).size / denom


def or_clause_rules(
    data: Data,
    vectors: np.ndarray,
    items: np.ndarray,
    n_neighbors: int,
    clause_max_overlap: float,
) -> list[Rule]:
    """One single-clause rule per item whose admissible neighbours improve its gain.

    Neighbours come from cosine similarity of the item vectors. A neighbour is admissible when it
    rarely co-occurs with the item (overlap ``|T(a) ∩ T(b)| / min(|T(a)|, |T(b)|) <= clause_max_overlap``)
    and its similarity is at least the third quartile of all items' similarities at that neighbour
    rank. Admissible neighbours are added in rank order while the exact gain, measured against the
    empty rule table, keeps improving.

    Parameters
    ----------
    data
        The instance matrix and labels.
    vectors
        Embedding vectors (k, d) of ``items``.
    items
        Item index of each vector row.
    n_neighbors
        Neighbours considered per item.
    clause_max_overlap
        Largest co-occurrence overlap allowed between an item and a neighbour.

    Returns
    -------
    list of Rule
        Rules with one clause of two or more items.
    """
    present = data.support[items] > 0
    vectors, items = vectors[present], items[present]
    norms = np.linalg.norm(vectors, axis=1)
    usable = norms > 0
    vectors, items = vectors[usable] / norms[usable, None], items[usable]
    k = min(int(n_neighbors), items.size - 1)
    if k < 1:
        return []
    nbr, dist = knn(vectors, k, metric="cosine")
    sim = 1.0 - dist
    q3 = np.quantile(sim, 0.75, axis=0)
    empty = Model(data)
    out = []
    for row, a in enumerate(items):
        clause = [int(a)]
        best_rule = build_rule(data, [clause], "singleton")
        best = empty.delta(best_rule)
        for rank in range(k):
            b = int(items[nbr[row, rank]])
            if sim[row, rank] < q3[rank] or b in clause or _overlap(data, int(a), b) > clause_max_overlap:
                continue
            cand = build_rule(data, [[*clause, b]], "or-clause")
            d = empty.delta(cand)
            if d >= best:
                break  # the gain is taken to be unimodal in the number of neighbours
            clause.append(b)
            best, best_rule = d, cand
        if len(clause) > 1:
            out.append(best_rule)
    return out

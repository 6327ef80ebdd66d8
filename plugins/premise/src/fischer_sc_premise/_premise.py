"""The public entry point: ``premise(instances, is_error, ...)`` -> a DataFrame of patterns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ._inputs import embeddings_matrix, instances_to_csr, labels_from
from ._neighbours import admissible_neighbours, or_clause_rules
from ._rules import Data, Rule
from ._search import Step, greedy_search, min_significant_count
from ._singletons import refine_table as _refine

COLUMNS = ["pattern", "direction", "count_error", "count_correct", "gain_bits", "fisher_p", "origin", "clauses"]


def _check_fraction(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 <= value <= 1:
        msg = f"{name} must be a number in [0, 1], got {value!r}."
        raise ValueError(msg)
    return float(value)


def _format(rule: Rule, names: list) -> str:
    parts = []
    for clause in rule.clauses:
        words = " | ".join(str(names[a]) for a in clause)
        parts.append(f"({words})" if len(clause) > 1 and len(rule.clauses) > 1 else words)
    return " & ".join(parts)


def premise(
    instances: Any,
    is_error: Any,
    *,
    vocabulary: Sequence | None = None,
    embeddings: np.ndarray | Mapping | None = None,
    max_neighbor_distance: int | None = None,
    fisher_p_value: float = 0.01,
    clause_max_overlap: float = 0.05,
    min_overlap: float = 0.3,
    max_rules: int | None = None,
    max_evaluations: int = 100_000,
    refine_conjunctions: bool = True,
    progress: bool = True,
) -> pd.DataFrame:
    """Token patterns that separate a classifier's errors from its correct predictions (Premise).

    Premise (Hedderich et al., ICML 2022, arXiv 2110.09599) finds a small, non-redundant set of
    patterns by minimum description length: a greedy search over conjunctions of clauses keeps the
    pattern that most shortens the encoding of the instances given the labels, and only patterns
    whose one-sided Fisher exact test against the labels has ``p <= fisher_p_value``.

    A clause with several tokens (from ``embeddings``) is an *exclusive or*: an instance holding
    two tokens of the same clause (``colour`` and ``color``) is not covered by it.

    Parameters
    ----------
    instances
        One of: a list of token lists (token ids or strings, one list per instance); a scipy
        sparse or numpy instance x token matrix (non-zero = token present); an AnnData whose ``X``
        is such a matrix (tokens are its ``var_names``).
    is_error
        Boolean (or 0/1) per instance, True where the classifier was wrong. For an AnnData, also
        the name of a boolean ``obs`` column.
    vocabulary
        Names of the tokens: for token ids, ``vocabulary[id]`` is shown in the patterns; for
        strings, it fixes the item order (for aligning ``embeddings``), unseen tokens are appended;
        for a matrix or AnnData, one name per column.
    embeddings
        Optional word vectors for or-clauses: an array with one row per vocabulary entry (per
        column for a matrix) or a mapping token -> vector.
    max_neighbor_distance
        Embedding neighbours considered per token for its or-clause. Default: 5 with embeddings,
        0 (no or-clauses) without.
    fisher_p_value
        Significance level of the one-sided Fisher exact test every pattern must pass. Not
        corrected for the many tests the search makes; the p-values are reported.
    clause_max_overlap
        A neighbour joins a token's or-clause only if their Jaccard overlap (instances holding both
        over instances holding either) is at most this.
    min_overlap
        Token pairs are candidates when, in either group, they share more than this fraction of
        the rarer one's instances.
    max_rules
        Stop after this many accepted steps, refinement moves included (default: until no pattern
        shortens the code and no conjunction is left to refine).
    max_evaluations
        Cap on exact gain evaluations per search step (the lazy greedy rarely needs more than a few).
    refine_conjunctions
        After the MDL search, replace rules by their conjunction (a merge of two rules, or a rule
        and one more token) when the conjunction passes the Fisher test and none of its parts is
        biased without the others on the rows no other rule explains. This recovers conjunctions
        of frequent tokens that the paper's code splits into single tokens. Then, when no such move
        is left, add the token that is most biased on those rows if it passes the Fisher test
        Bonferroni-corrected over twice the tokens tested (single tokens whose rows cost more bits
        than their labels save on small data). Such moves may lengthen the code; their ``origin``
        starts with "refined". False gives the paper's objective alone.
    progress
        Show a progress bar over the search steps.

    Returns
    -------
    pandas.DataFrame
        One row per pattern in the final rule table, in the order accepted: ``pattern`` (clauses
        joined by " & ", alternatives by " | "), ``direction`` ("error" or "correct"),
        ``count_error`` and ``count_correct`` (instances covered in each group), ``gain_bits``
        (the change in total code length when the pattern was accepted; negative, smaller is
        better, except for refined conjunctions, which may cost bits), ``fisher_p``, ``origin``
        (singleton, pair, extension, merge, or-clause, refined pair, refined merge, refined extension,
        refined singleton) and
        ``clauses`` (tuples of token names). ``attrs`` holds ``total_bits`` (code length per step,
        starting with the empty table) and ``params``.

    Examples
    --------
    >>> from fischer_sc_premise import premise
    >>> docs = [["how", "many", "cats"], ["what", "color"], ["how", "many", "dogs"]] * 20
    >>> wrong = [True, False, True] * 20
    >>> premise(docs, wrong, progress=False)["pattern"].tolist()[:2]
    ['how & many', 'what & color']
    """
    fisher_p_value = _check_fraction(fisher_p_value, "fisher_p_value")
    clause_max_overlap = _check_fraction(clause_max_overlap, "clause_max_overlap")
    min_overlap = _check_fraction(min_overlap, "min_overlap")
    if max_rules is not None and (
        isinstance(max_rules, bool) or not isinstance(max_rules, (int, np.integer)) or max_rules < 0
    ):
        msg = f"max_rules must be None or an integer >= 0, got {max_rules!r}."
        raise ValueError(msg)
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, (int, np.integer)) or max_evaluations < 1:
        msg = f"max_evaluations must be an integer >= 1, got {max_evaluations!r}."
        raise ValueError(msg)
    if not isinstance(refine_conjunctions, (bool, np.bool_)):
        msg = f"refine_conjunctions must be True or False, got {refine_conjunctions!r}."
        raise TypeError(msg)
    if max_neighbor_distance is None:
        max_neighbor_distance = 5 if embeddings is not None else 0
    elif (
        isinstance(max_neighbor_distance, bool)
        or not isinstance(max_neighbor_distance, (int, np.integer))
        or max_neighbor_distance < 0
    ):
        msg = f"max_neighbor_distance must be an integer >= 0, got {max_neighbor_distance!r}."
        raise ValueError(msg)
    if max_neighbor_distance > 0 and embeddings is None:
        msg = "max_neighbor_distance > 0 needs embeddings (an array with one row per token, or a token -> vector mapping)."
        raise ValueError(msg)

    X, names, adata = instances_to_csr(instances, vocabulary)
    if X.shape[0] == 0 or X.nnz == 0:
        msg = f"instances holds no tokens (shape {X.shape}, {X.nnz} non-zeros); nothing to explain."
        raise ValueError(msg)
    labels = labels_from(is_error, X.shape[0], adata)
    data = Data(X, sparse.csc_matrix(X), labels)
    data.X_csc.sort_indices()

    string_tokens = adata is None and not sparse.issparse(instances) and not isinstance(instances, np.ndarray)
    string_tokens = string_tokens and bool(names) and isinstance(names[0], str)
    if embeddings is not None and not isinstance(embeddings, Mapping) and vocabulary is None and string_tokens:
        msg = (
            "embeddings is an array but the tokens are strings without a vocabulary, so its rows cannot be "
            "matched to tokens; pass vocabulary= (one token per row) or a mapping token -> vector."
        )
        raise ValueError(msg)
    or_rules: list[Rule] = []
    neighbours: dict[int, list[int]] = {}
    if embeddings is not None and max_neighbor_distance > 0:
        vocab_size = len(vocabulary) if vocabulary is not None and not isinstance(embeddings, Mapping) else None
        vectors, items = embeddings_matrix(embeddings, names, vocab_size)
        neighbours = admissible_neighbours(data, vectors, items, max_neighbor_distance, clause_max_overlap)
        or_rules = or_clause_rules(data, neighbours)

    model, steps = greedy_search(
        data,
        or_rules,
        neighbours,
        fisher_p_value=fisher_p_value,
        min_overlap=min_overlap,
        max_rules=max_rules,
        max_evaluations=int(max_evaluations),
        progress=progress,
    )
    if refine_conjunctions and (max_rules is None or len(steps) < max_rules):
        budget = None if max_rules is None else max_rules - len(steps)  # refinement moves count as steps
        for rule, replaced, delta in _refine(
            model, fisher_p_value, min_significant_count(data, fisher_p_value), budget
        ):
            steps.append(Step(rule, replaced, delta, model.total))
    gains = {id(s.rule): s.gain for s in steps}
    records = [
        {
            "pattern": _format(r, names),
            "direction": "error" if r.direction == 1 else "correct",
            "count_error": r.c1,
            "count_correct": r.c0,
            "gain_bits": gains[id(r)],
            "fisher_p": r.fisher_p,
            "origin": r.origin,
            "clauses": tuple(tuple(names[a] for a in c) for c in r.clauses),
        }
        for r in model.rules
    ]
    df = pd.DataFrame.from_records(records, columns=COLUMNS)
    df = df.astype({"count_error": np.int64, "count_correct": np.int64, "gain_bits": float, "fisher_p": float})
    total0 = steps[0].total - steps[0].gain if steps else model.total
    df.attrs["total_bits"] = [float(total0)] + [float(s.total) for s in steps]
    df.attrs["params"] = {
        "fisher_p_value": fisher_p_value,
        "clause_max_overlap": clause_max_overlap,
        "min_overlap": min_overlap,
        "max_neighbor_distance": int(max_neighbor_distance),
        "max_rules": max_rules,
        "refine_conjunctions": bool(refine_conjunctions),
        "n_instances": int(data.n),
        "n_errors": int(data.n1),
        "n_tokens": int(data.m),
    }
    return df

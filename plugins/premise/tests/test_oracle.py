"""pypremise (the reference C++ binary, installed with the test extras) as an oracle on small random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from fischer_sc.metrics import soft_precision_recall_f1
from fischer_sc_premise import planted_errors, premise
from fischer_sc_premise._reference import total_length_reference

#: Bits by which our rule table may be longer than the binary's under the same code (both are greedy).
MARGIN_BITS = 1.0


def _inputs(seed: int):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(200, 501)), int(rng.integers(10, 31))
    d = planted_errors(
        n,
        m,
        rule_sizes=(2, 2),
        rule_rate=0.08,
        mean_length=4,
        zipf_exponent=0.8,
        rule_token_ranks=(0, m),
        random_state=seed,
    )
    keep = np.diff(d.X.indptr) > 0  # the binary cannot read instances without tokens
    return d.X[keep], d.is_error[keep], d.rules


def _error_sets(patterns) -> list[set]:
    return [{a for c in cl for a in c} for cl, to_error in patterns if to_error]


# pypremise's wrapper leaves its temporary files open; that is the peer's leak, not ours.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_rule_sets_agree_with_pypremise_on_most_small_inputs():
    from pypremise import Premise, data_loaders

    agree = 0
    better = 0
    for seed in range(20):
        X, is_error, planted = _inputs(seed)
        rows = [X.indices[X.indptr[i] : X.indptr[i + 1]].tolist() for i in range(X.shape[0])]
        res = Premise().find_patterns(data_loaders.from_sparse_index_lists(rows, [0 if e else 1 for e in is_error]))
        theirs = {(frozenset(frozenset(c) for c in r.pattern.clauses), r.direction.value == 0) for r in res}
        # The paper's objective alone (no conjunction refinement): the binary's rule table, or one
        # about as short under the same code.
        df = premise(X, is_error, refine_conjunctions=False, progress=False)
        ours = {
            (frozenset(frozenset(c) for c in cl), d == "error")
            for cl, d in zip(df["clauses"], df["direction"], strict=True)
        }
        agree += ours == theirs
        # Where the tables differ, ours must describe the data about as well: its total code length
        # (model + data given model, computed from scratch) is at most the binary's plus a margin.
        labels = is_error.astype(np.int8)
        ours_bits = total_length_reference(X, labels, [cl for cl, _ in ours])
        theirs_bits = total_length_reference(X, labels, [cl for cl, _ in theirs])
        assert ours_bits <= theirs_bits + MARGIN_BITS, (seed, ours_bits, theirs_bits)
        # With the refinement (the default) the code may get longer; what it buys is the planted
        # pairs of frequent tokens that this code splits: never a worse soft-F1 than the binary's.
        refined = premise(X, is_error, progress=False)
        mine = zip(refined["clauses"], refined["direction"] == "error", strict=True)
        f_ours = soft_precision_recall_f1(_error_sets(mine), planted)[2]
        f_theirs = soft_precision_recall_f1(_error_sets(theirs), planted)[2]
        assert f_ours >= f_theirs - 1e-12, (seed, refined["pattern"].tolist(), theirs)
        better += f_ours > f_theirs + 1e-12
    # Measured 18 / 20: both disagreements are an extra singleton of ours with a gain above -0.3 bits.
    assert agree >= 18
    # Measured: the refinement reunites split pairs and scores strictly higher on 7 of the 20 inputs.
    assert better >= 5

"""Is a planted single error token detectable? Its Fisher p, its MDL price, the best null token, and what we find.

For the rules (token, pair, triple) of `benchmarks/premise_sweep.py` (ranks 3-19, 2 000 tokens,
Zipf 1.1), over instance counts and error rates around the sweep's misses, per seed:

- `p all`: one-sided Fisher p of the planted single token against all other rows;
- `p resid`: the same on the residual, the rows the planted conjunctions do not cover (what the
  refinement's singleton test sees once the conjunctions are in the table);
- `Bonferroni`: the level that test must reach, 0.01 / (2 x tokens tested);
- `best null`: the smallest residual p of any token in no planted rule, and `P(null <= p)`:
  the chance that the strongest of that many independent null tokens reaches the planted one's p,
  ``1 - (1 - p)^(2 x tokens)``;
- `MDL delta`: change in total code length (bits) if the single token joins a table that holds the
  planted conjunctions (positive: the paper's objective rejects it);
- `F1 ours / paper`: soft-F1 of `premise` with and without the refinement.

    python benchmarks/premise_evidence.py
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
from scipy import sparse  # noqa: E402
from scipy.stats import hypergeom  # noqa: E402

from fischer_sc.metrics import soft_precision_recall_f1  # noqa: E402
from fischer_sc_premise import planted_errors, premise  # noqa: E402
from fischer_sc_premise._rules import Data, Model, build_rule  # noqa: E402

CONFIGS = [(n, (0.8, 0.15)) for n in (1000, 2000, 3000, 5000, 10000)] + [
    (20000, e) for e in ((0.8, 0.15), (0.6, 0.15), (0.5, 0.25), (0.45, 0.25), (0.4, 0.25))
]


def rows_of(Xc: sparse.csc_matrix, rule: tuple[int, ...], n: int) -> np.ndarray:
    hit = np.ones(n, dtype=bool)
    for t in rule:
        col = np.zeros(n, dtype=bool)
        col[Xc.indices[Xc.indptr[t] : Xc.indptr[t + 1]]] = True
        hit &= col
    return hit


def one_sided(k1: np.ndarray, k: np.ndarray, n_rows: int, n_err: int) -> np.ndarray:
    """Fisher p of each token towards its own direction (errors: upper tail, correct: lower tail)."""
    up = hypergeom.sf(k1 - 1, n_rows, n_err, k)
    down = hypergeom.cdf(k1, n_rows, n_err, k)
    return np.where(k1 * n_rows >= n_err * k, up, down)


def f1(df, rules) -> float:
    found = [{a for c in cl for a in c} for cl, d in zip(df["clauses"], df["direction"], strict=True) if d == "error"]
    return float(soft_precision_recall_f1(found, rules)[2])


def main() -> None:
    print(
        "| n | errors | seed | token (rank) | p all | p resid | Bonferroni | best null | P(null <= p) "
        "| MDL delta bits | F1 ours | F1 paper |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, (rule_err, base_err) in CONFIGS:
        for seed in (0, 1, 2):
            d = planted_errors(
                n,
                2000,
                rule_sizes=(1, 2, 3),
                rule_ranks=[(3, 20)] * 3,
                rule_error_rate=rule_err,
                base_error_rate=base_err,
                random_state=seed,
            )
            keep = np.diff(d.X.indptr) > 0
            X, y = d.X[keep], d.is_error[keep]
            Xc = X.tocsc()
            rank = np.argsort(np.argsort(-np.diff(Xc.indptr), kind="stable"), kind="stable")
            single = d.rules[0][0]
            p_all = one_sided(
                np.array([int(y[rows_of(Xc, (single,), X.shape[0])].sum())]),
                np.array([Xc.indptr[single + 1] - Xc.indptr[single]]),
                X.shape[0],
                int(y.sum()),
            )[0]
            covered = np.zeros(X.shape[0], dtype=bool)
            for r in d.rules[1:]:
                covered |= rows_of(Xc, r, X.shape[0])
            R = ~covered
            XR = sparse.csr_matrix(X[R])
            k = np.asarray(XR.sum(axis=0)).ravel()
            k1 = np.asarray(XR[y[R]].sum(axis=0)).ravel()
            p = one_sided(k1, k, int(R.sum()), int(y[R].sum()))
            tested = np.flatnonzero(k > 0)
            null = np.setdiff1d(tested, [t for r in d.rules for t in r])
            data = Data(X, Xc, y.astype(np.int64))
            data.X_csc.sort_indices()
            model = Model(data)
            for r in d.rules[1:]:
                model.accept(build_rule(data, [[t] for t in r], "planted"))
            delta = model.delta(build_rule(data, [[single]], "planted"))
            fwer = 1 - (1 - p[single]) ** (2 * tested.size)
            ours = f1(premise(X, y, progress=False), d.rules)
            paper = f1(premise(X, y, refine_conjunctions=False, progress=False), d.rules)
            print(
                f"| {n} | {rule_err}, {base_err} | {seed} | {single} ({rank[single]}) | {p_all:.1e} | {p[single]:.1e} "
                f"| {0.01 / (2 * tested.size):.1e} | {p[null].min():.1e} | {fwer:.3f} | {delta:+.1f} | {ours:.3f} "
                f"| {paper:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

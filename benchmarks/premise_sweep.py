"""Premise sweep: ours (with and without the conjunction refinement), pypremise's binary and mlxtend's miners.

Generator families (all `fischer_sc_premise.planted_errors`: Zipf background tokens, planted
conjunctive error rules, rule tokens also in the background), one factor at a time around a base
setting that is the one users reported (rule tokens among the 20 most frequent):

    base      n = 20 000, m = 2 000, Zipf 1.1, rules of 1, 2 and 3 tokens at ranks 3-19,
              each rule in 3 % of instances, error rate 0.8 with a rule and 0.15 without
    ranks     0-19 (top 3 allowed), the pair at 3-19 and the others at 20-259 (the reported case),
              5-44, 20-259
    zipf      0.8, 1.4
    sizes     (1,), (2,), (3,), (2, 2, 3, 3)
    rules     6 and 9 rules (sizes 1-3, ranks 3-29 for 9)
    errors    (rule, base) error rates (0.6, 0.15), (0.8, 0.05), (0.5, 0.25)
    n         2 000, 5 000

Soft-F1 (`fischer_sc.metrics.soft_precision_recall_f1`) of the error-direction patterns (clauses
flattened to token sets) against the planted rules. The target (soft-F1 >= 0.95) applies where no
rule token is among the 3 most frequent. Times are in one process, interleaved per data set, one
thread each (ours after one warm-up call: the first call of a session also loads numba's cache,
about 0.5 s, measured separately by `benchmarks/premise.py`); pypremise's include its wrapper
writing the input files. mlxtend: FP-growth and Apriori on the error rows (min support 5 %, up to 3
tokens), itemsets kept if Bonferroni-significant by a one-sided Fisher test against all rows, then
greedily by p-value, dropping any itemset nested in (or holding) a kept one.

    python benchmarks/premise_sweep.py                      # everything, 3 seeds
    python benchmarks/premise_sweep.py --axes base ranks --seeds 0
    python benchmarks/premise_sweep.py --merge a.md b.md     # runs split over processes, one summary
    python benchmarks/premise_sweep.py --peer-from old.md    # pypremise's F1 and seconds from an earlier
                                                             # run on the same data (its binary is deterministic)
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.stats import hypergeom  # noqa: E402

from fischer_sc.metrics import soft_precision_recall_f1  # noqa: E402
from fischer_sc_premise import planted_errors, premise  # noqa: E402

BASE = {
    "n": 20000,
    "m": 2000,
    "zipf": 1.1,
    "sizes": (1, 2, 3),
    "ranks": [(3, 20)] * 3,
    "errors": (0.8, 0.15),
}
AXES = {
    "base": [{}],
    "ranks": [
        {"ranks": [(0, 20)] * 3},
        {"ranks": [(20, 260), (3, 20), (20, 260)]},
        {"ranks": [(5, 45)] * 3},
        {"ranks": [(20, 260)] * 3},
    ],
    "zipf": [{"zipf": 0.8}, {"zipf": 1.4}],
    "sizes": [
        {"sizes": (1,), "ranks": [(3, 20)]},
        {"sizes": (2,), "ranks": [(3, 20)]},
        {"sizes": (3,), "ranks": [(3, 20)]},
        {"sizes": (2, 2, 3, 3), "ranks": [(3, 20)] * 4},
    ],
    "rules": [
        {"sizes": (1, 1, 2, 2, 3, 3), "ranks": [(3, 20)] * 6},
        {"sizes": (1, 1, 1, 2, 2, 2, 3, 3, 3), "ranks": [(3, 30)] * 9},
    ],
    "errors": [{"errors": (0.6, 0.15)}, {"errors": (0.8, 0.05)}, {"errors": (0.5, 0.25)}],
    "n": [{"n": 2000}, {"n": 5000}],
}
METHODS = ("fischer_sc", "fischer_sc (paper objective)", "pypremise", "mlxtend fpgrowth", "mlxtend apriori")


def earlier_peer(path: str) -> dict[tuple[str, str, str], tuple[str, float, float]]:
    """(axis, setting, seed) -> (planted, pypremise F1, pypremise seconds) from an earlier results file."""
    out = {}
    for line in Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 15 and cells[2].isdigit():
            out[(cells[0], cells[1], cells[2])] = (cells[3], float(cells[7]), float(cells[11]))
    return out


def run_ours(X, y, refine: bool):
    df = premise(X, y, refine_conjunctions=refine, progress=False)
    return [[list(c) for c in cl] for cl, d in zip(df["clauses"], df["direction"], strict=True) if d == "error"]


def run_pypremise(X, y):
    from pypremise import Premise, data_loaders

    rows = [X.indices[X.indptr[i] : X.indptr[i + 1]].tolist() for i in range(X.shape[0])]
    # pypremise group 0 = errors, group 1 = correct predictions.
    res = Premise().find_patterns(data_loaders.from_sparse_index_lists(rows, [0 if e else 1 for e in y]))
    return [[list(c) for c in r.pattern.clauses] for r in res if r.direction.value == 0]


def run_mlxtend(X, y, miner: str, min_support: float = 0.05, alpha: float = 0.01):
    import pandas as pd
    from mlxtend.frequent_patterns import apriori, fpgrowth

    err = X[np.flatnonzero(y)]
    cols = np.flatnonzero(np.asarray(err.sum(axis=0)).ravel() >= min_support * err.shape[0])
    frame = pd.DataFrame(err[:, cols].toarray().astype(bool), columns=cols.tolist())
    mine = fpgrowth if miner == "fpgrowth" else apriori
    sets = mine(frame, min_support=min_support, use_colnames=True, max_len=3)["itemsets"].tolist()
    if not sets:
        return []
    Xc = X.tocsc()
    n, n_err = X.shape[0], int(y.sum())
    hits, total = np.empty(len(sets), np.int64), np.empty(len(sets), np.int64)
    for i, s in enumerate(sets):
        rows = np.ones(n, dtype=bool)
        for t in s:
            col = np.zeros(n, dtype=bool)
            col[Xc.indices[Xc.indptr[t] : Xc.indptr[t + 1]]] = True
            rows &= col
        hits[i], total[i] = int(rows[y].sum()), int(rows.sum())
    p = hypergeom.sf(hits - 1, n, n_err, total)
    kept: list[frozenset] = []
    for i in np.argsort(p, kind="stable"):
        if p[i] * len(sets) > alpha:
            break
        s = frozenset(sets[i])
        if not any(s <= k or k <= s for k in kept):
            kept.append(s)
    return [[[t] for t in k] for k in kept]


def score(found, planted) -> float:
    return float(soft_precision_recall_f1([{a for c in cl for a in c} for cl in found], planted)[2])


def timed(fn, *args):
    t = time.perf_counter()
    # pypremise's wrapper leaves temporary files open (ResourceWarning): silenced for this call only.
    with warnings.catch_warnings(action="ignore"):
        out = fn(*args)
    return out, time.perf_counter() - t


def summarise(rows: list[str]) -> list[str]:
    """One line per setting: min and mean soft-F1 over seeds per method, worst time ratio, and checks."""
    groups: dict[tuple[str, str], list[list[str]]] = {}
    for row in rows:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) == 15 and cells[2].isdigit():
            groups.setdefault((cells[0], cells[1]), []).append(cells)
    out = [
        "| axis | setting | seeds | target | fischer_sc F1 min / mean | paper objective | pypremise | fpgrowth "
        "| >= 0.95 | >= pypremise on every seed | worst time vs pypremise |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (axis, setting), cells in groups.items():
        f = np.array([[float(c[i]) for i in (5, 6, 7, 8)] for c in cells])
        ratio = max(float(c[14].rstrip("x")) for c in cells)
        target = cells[0][4] if all(c[4] == cells[0][4] for c in cells) else "mixed"
        meets = ("yes" if f[:, 0].min() >= 0.95 else "**no**") if target == "yes" else "n/a"
        never_below = "yes" if (f[:, 0] >= f[:, 2] - 1e-9).all() else "**no**"
        stats = [f"{f[:, j].min():.3f} / {f[:, j].mean():.3f}" for j in range(4)]
        out.append(
            f"| {axis} | {setting} | {len(cells)} | {target} | {' | '.join(stats)} | {meets} | {never_below} "
            f"| {ratio:.2f}x |"
        )
    return out


def merge(paths: list[str], out: Path) -> None:
    """Combine the row tables of several runs (e.g. axes run in parallel) into one file with a summary."""
    rows = [ln for p in paths for ln in Path(p).read_text().splitlines() if ln.startswith("| ") and ln[2:3] != "a"]
    rows = [r for r in rows if not r.startswith("|---")]
    head = Path(paths[0]).read_text().split("| axis")[0].rstrip()
    table = [ln for ln in Path(paths[0]).read_text().splitlines() if ln.startswith("| axis") or ln.startswith("|---")]
    notes = [
        "Families, scoring and timing: see the docstring of `benchmarks/premise_sweep.py`. `target`: yes where no",
        "planted rule token is among the 3 most frequent (where soft-F1 >= 0.95 is required). `paper objective`:",
        "ours with `refine_conjunctions=False`. Seconds are one in-process call each, interleaved per data set.",
    ]
    text = [
        head,
        "",
        *notes,
        "",
        "## Summary (over seeds)",
        "",
        *summarise(rows),
        "",
        "## Every run",
        "",
        *table[:2],
        *rows,
    ]
    out.write_text("\n".join(text) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--axes", nargs="+", default=list(AXES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "premise_sweep.md"))
    parser.add_argument("--merge", nargs="+", help="only combine these result files into --out, with a summary")
    parser.add_argument("--peer-from", help="take pypremise's F1 and seconds from this earlier results file")
    args = parser.parse_args()
    if args.merge:
        merge(args.merge, Path(args.out))
        return

    peer = earlier_peer(args.peer_from) if args.peer_from else None
    warm = planted_errors(2000, 200, random_state=0)
    run_ours(warm.X, warm.is_error, True)  # loads numba's cache once, outside every timer
    header = [
        "# Premise sweep: fischer_sc vs pypremise vs mlxtend",
        "",
        f"Written by `benchmarks/premise_sweep.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs, one thread per method).",
        "",
        "| axis | setting | seed | planted | target | fischer_sc F1 | paper objective F1 | pypremise F1 "
        "| fpgrowth F1 | apriori F1 | fischer_sc s | pypremise s | fpgrowth s | apriori s | time vs pypremise |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = list(header)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)
    for axis in args.axes:
        for change in AXES[axis]:
            cfg = {**BASE, **change}
            setting = ", ".join(f"{k}={v}" for k, v in change.items()) or "base"
            for seed in args.seeds:
                ranks = cfg["ranks"]
                d = planted_errors(
                    cfg["n"],
                    cfg["m"],
                    rule_sizes=cfg["sizes"],
                    rule_ranks=ranks,
                    rule_error_rate=cfg["errors"][0],
                    base_error_rate=cfg["errors"][1],
                    zipf_exponent=cfg["zipf"],
                    random_state=seed,
                )
                keep = np.diff(d.X.indptr) > 0  # pypremise's binary aborts on instances without tokens
                X, y = d.X[keep], d.is_error[keep]
                planted = " ".join("&".join(str(t) for t in r) for r in d.rules)
                res = {
                    "fischer_sc": timed(run_ours, X, y, True),
                    "fischer_sc (paper objective)": timed(run_ours, X, y, False),
                    "mlxtend fpgrowth": timed(run_mlxtend, X, y, "fpgrowth"),
                    "mlxtend apriori": timed(run_mlxtend, X, y, "apriori"),
                }
                if peer is None:
                    res["pypremise"] = timed(run_pypremise, X, y)
                f1 = {k: score(v[0], d.rules) for k, v in res.items()}
                if peer is not None:
                    old_planted, f1["pypremise"], old_secs = peer[(axis, setting, str(seed))]
                    if old_planted != planted:
                        msg = f"{args.peer_from} planted {old_planted} for {axis} {setting} seed {seed}, now {planted}"
                        raise ValueError(msg)
                    res["pypremise"] = (None, old_secs)
                target = "yes" if min(min(r) for r in d.rules) >= 3 else "n/a"
                secs = {k: v[1] for k, v in res.items()}
                row = (
                    f"| {axis} | {setting} | {seed} | {planted} | {target} | {f1['fischer_sc']:.3f} | "
                    f"{f1['fischer_sc (paper objective)']:.3f} | {f1['pypremise']:.3f} | {f1['mlxtend fpgrowth']:.3f} | "
                    f"{f1['mlxtend apriori']:.3f} | {secs['fischer_sc']:.2f} | {secs['pypremise']:.2f} | "
                    f"{secs['mlxtend fpgrowth']:.2f} | {secs['mlxtend apriori']:.2f} | "
                    f"{secs['fischer_sc'] / secs['pypremise']:.2f}x |"
                )
                lines.append(row)
                print(row, flush=True)
                out.write_text("\n".join(lines) + "\n")
    merge([str(out)], out)


if __name__ == "__main__":
    main()

"""Sweep of ``fs.tl.dash_grn`` at its DEFAULTS over simulated networks: DASH vs IMP vs unpruned vs the prior alone.

Every case is a random signed network (``fs.datasets.random_signed_network(G, random_state=seed)``)
simulated with ``fs.datasets.simulate_grn`` (150 trajectories at t = 0, 2, 3, 7, 9, Gaussian noise
sd ``noise``), and a prior with 20 % or 40 % of its edges moved (``corrupt_prior(truth, fraction,
random_state=100 + seed)``). The three PHOENIX runs of a case differ only in ``pruning``
(``"dash"``, ``"magnitude"`` = IMP, ``"none"``); they share the prior, the prior loss, the seed
(``random_state=seed``) and every other default. ``prior`` is the corrupted prior itself as the score.

Metrics (diagonal excluded): AUROC/AUPR of the per-target score ``|E_ij| / sum_i |E_ij|`` (``|P|``
for the prior); BA = balanced accuracy of the support ``E != 0``; BA@k = balanced accuracy of each
method's top-k edges with k = the number of edges DASH keeps (matched sparsity).

    python benchmarks/dash_grn_sweep.py --part 0/2 --out /tmp/sweep.jsonl     # half the cases
    python benchmarks/dash_grn_sweep.py --part 1/2 --out /tmp/sweep.jsonl     # the other half (in parallel)
    python benchmarks/dash_grn_sweep.py --table /tmp/sweep.jsonl              # markdown tables
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

import fischer_sc as fs

M = fs.metrics

# (genes, noise, network seed): the sweep's networks
CASES = [
    (20, 0.025, 1),
    (20, 0.025, 2),
    (20, 0.025, 3),
    (20, 0.05, 4),
    (40, 0.025, 5),
    (40, 0.05, 6),
]
FRACTIONS = (0.2, 0.4)


def evaluate(score: np.ndarray, support: np.ndarray, truth: np.ndarray, k: int) -> dict:
    return {
        "auroc": M.edge_auroc(score, truth),
        "aupr": M.edge_aupr(score, truth),
        "ba": M.edge_balanced_accuracy(support, truth),
        "ba_k": M.edge_balanced_accuracy(M.top_edges(score, k), truth),
        "edges": int(np.count_nonzero(support[~np.eye(len(truth), dtype=bool)])),
    }


def run_case(genes: int, noise: float, seed: int, frac: float) -> list[dict]:
    from fischer_sc.core.ode import edge_scores

    truth = fs.datasets.random_signed_network(genes, random_state=seed)
    adata = fs.datasets.simulate_grn(truth, noise=noise, random_state=seed)
    prior = fs.datasets.corrupt_prior(truth, frac, random_state=100 + seed)
    case = {"genes": genes, "noise": noise, "seed": seed, "moved": frac}
    fits = {}
    for pruning in ("dash", "magnitude", "none"):
        t, c = time.perf_counter(), time.process_time()
        out = fs.tl.dash_grn(
            adata, prior, trajectory_key="trajectory", pruning=pruning, random_state=seed, progress=False, copy=True
        )
        uns = out.uns["dash_grn"]
        fits[pruning] = (out.varp["dash_grn"], uns["sparsity"], time.perf_counter() - t, time.process_time() - c)
    e_dash = fits["dash"][0]
    k = int(np.count_nonzero(e_dash[~np.eye(genes, dtype=bool)]))
    rows = []
    for name, pruning in (("dash", "dash"), ("imp", "magnitude"), ("unpruned", "none")):
        e, sp, wall, cpu = fits[pruning]
        rows.append({**case, "method": name, **evaluate(edge_scores(e), e, truth, k), "sparsity": sp, "cpu_s": cpu})
    rows.append({**case, "method": "prior", **evaluate(np.abs(prior), prior, truth, k)})
    return rows


def table(path: str) -> str:
    import pandas as pd

    df = pd.DataFrame([json.loads(line) for line in open(path)])  # noqa: SIM115 (a script)
    wide = df.pivot_table(index=["genes", "noise", "seed", "moved"], columns="method", values="auroc")
    wide["dash-prior"] = wide["dash"] - wide["prior"]
    wide["dash-imp"] = wide["dash"] - wide["imp"]
    ba = df.pivot_table(index=["genes", "noise", "seed", "moved"], columns="method", values="ba")
    bak = df.pivot_table(index=["genes", "noise", "seed", "moved"], columns="method", values="ba_k")
    lines = [
        "| G | noise | seed | moved | AUROC dash | imp | unpruned | prior | dash-prior | dash-imp "
        "| BA dash | imp | unpruned | BA@k dash | imp | unpruned |",
        "|" + "---|" * 16,
    ]
    for idx, r in wide.iterrows():
        b, bk = ba.loc[idx], bak.loc[idx]
        lines.append(
            f"| {idx[0]} | {idx[1]} | {idx[2]} | {int(idx[3] * 100)} % | {r['dash']:.3f} | {r['imp']:.3f} "
            f"| {r['unpruned']:.3f} | {r['prior']:.3f} | {r['dash-prior']:+.3f} | {r['dash-imp']:+.3f} "
            f"| {b['dash']:.3f} | {b['imp']:.3f} | {b['unpruned']:.3f} | {bk['dash']:.3f} | {bk['imp']:.3f} "
            f"| {bk['unpruned']:.3f} |"
        )
    summary = wide.groupby(level="moved")[["dash", "imp", "unpruned", "prior", "dash-prior", "dash-imp"]].agg(
        ["mean", "min"]
    )
    lines += ["", summary.round(3).to_string()]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", default="0/1", help="k/n: run every n-th case-fraction pair, starting at k")
    p.add_argument("--out", default="dash_grn_sweep.jsonl")
    p.add_argument("--table", default=None, help="print the markdown table of a finished sweep file and exit")
    args = p.parse_args()
    if args.table:
        print(table(args.table))
        return
    warnings.filterwarnings("ignore", category=UserWarning)  # noqa: TID251 (a script, not the library)
    k, n = map(int, args.part.split("/"))
    jobs = [(*case, frac) for case in CASES for frac in FRACTIONS][k::n]
    for job in jobs:
        for row in run_case(*job):
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            print({key: (round(v, 3) if isinstance(v, float) else v) for key, v in row.items()}, flush=True)


if __name__ == "__main__":
    main()

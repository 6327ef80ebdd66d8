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

Runs made in separate processes: BA@k needs DASH's edge count, so a process without a DASH run
reads it from DASH's rows of a finished file (``--k-from``); ``--summary`` prints the acceptance
criteria over finished files, ``--only 3:0.4,4:0.2`` runs a subset of (seed, fraction) cases.

    python benchmarks/dash_grn_sweep.py --cases all --methods unpruned --k-from dash_rows.jsonl --out unpruned.jsonl
    python benchmarks/dash_grn_sweep.py --summary dash_rows.jsonl unpruned.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

import fischer_sc as fs

M = fs.metrics

# (genes, noise, network seed, trajectories): the sweep's networks
CASES = [
    (20, 0.025, 1, 150),
    (20, 0.025, 2, 150),
    (20, 0.025, 3, 150),
    (20, 0.05, 4, 150),
    (40, 0.025, 5, 150),
    (40, 0.05, 6, 150),
]
# a second family (--cases wide): other sizes, noise levels and numbers of trajectories
WIDE = [
    (15, 0.025, 7, 100),
    (30, 0.05, 8, 150),
    (30, 0.1, 9, 150),
    (25, 0.025, 10, 60),
    (50, 0.05, 11, 100),
    (20, 0.1, 12, 80),
]
# the size of DASH's own simulations (spec: SimulationGRN sub-networks of 350 genes, 150 trajectories at
# t = 0, 2, 3, 7, 9, noise sd 0.025-0.1): far fewer observations per candidate edge than the families above
SPEC = [
    (350, 0.025, 21, 150),
    (350, 0.05, 22, 150),
]
# a third family (--cases scarce): fewer observations per candidate edge (10-60 trajectories, noise up to
# 0.2), where the data alone identify the network less well and a prior has more to add
SCARCE = [
    (20, 0.05, 31, 20),
    (20, 0.1, 32, 40),
    (30, 0.05, 33, 30),
    (30, 0.2, 34, 60),
    (40, 0.1, 35, 40),
    (25, 0.025, 36, 10),
]
FRACTIONS = (0.2, 0.4)


def evaluate(score: np.ndarray, support: np.ndarray, truth: np.ndarray, k: int) -> dict:
    return {
        "auroc": M.edge_auroc(score, truth),
        "aupr": M.edge_aupr(score, truth),
        "ba": M.edge_balanced_accuracy(support, truth),
        "ba_k": M.edge_balanced_accuracy(M.top_edges(score, k), truth) if k is not None else float("nan"),
        "edges": int(np.count_nonzero(support[~np.eye(len(truth), dtype=bool)])),
    }


RUNS = {
    "dash": ("dash", {}),
    "imp": ("magnitude", {}),
    "unpruned": ("none", {}),
    "dash_adapt": ("dash", {"adapt_prior": True}),
    "dash_lam08": ("dash", {"lambda_ppi": 0.8, "lambda_motif": 0.8}),
    # the spec's DASH simulations: no PHOENIX prior loss (lambda = 1), the prior enters through pruning only
    "dash_pl0": ("dash", {"prior_loss_weight": 0.0}),
    "imp_pl0": ("magnitude", {"prior_loss_weight": 0.0}),
    "unpruned_pl0": ("none", {"prior_loss_weight": 0.0}),
    # sparser targets (the spec's DASH ends near 95 %)
    "dash_t90": ("dash", {"target_sparsity": 0.9}),
    "imp_t90": ("magnitude", {"target_sparsity": 0.9}),
    "dash_t85": ("dash", {"target_sparsity": 0.85}),
    "imp_t85": ("magnitude", {"target_sparsity": 0.85}),
    # another training seed (initialisation, split, batches, initial scores), same data and prior
    "dash_s2": ("dash", {"seed_offset": 1000}),
    "imp_s2": ("magnitude", {"seed_offset": 1000}),
}


def reference_edges(paths: list[str], method: str) -> dict[tuple, int]:
    """DASH's edge count per case from finished sweep files: k of BA@k for runs made in another process."""
    out = {}
    for path in paths:
        for line in open(path):  # noqa: SIM115 (a script)
            row = json.loads(line)
            if row["method"] == method:
                key = (row["genes"], row["noise"], row["seed"], row.get("trajectories", 150), row["moved"])
                out[key] = int(row["edges"])
    return out


def run_case(
    genes: int,
    noise: float,
    seed: int,
    trajectories: int,
    frac: float,
    methods: list[str],
    *,
    k_method: str = "dash",
    k_known: dict[tuple, int] | None = None,
) -> list[dict]:
    from fischer_sc.core.ode import edge_scores

    truth = fs.datasets.random_signed_network(genes, random_state=seed)
    adata = fs.datasets.simulate_grn(truth, n_trajectories=trajectories, noise=noise, random_state=seed)
    prior = fs.datasets.corrupt_prior(truth, frac, random_state=100 + seed)
    case = {"genes": genes, "noise": noise, "seed": seed, "moved": frac}
    if trajectories != 150:
        case["trajectories"] = trajectories
    fits = {}
    for name in methods:
        pruning, extra = RUNS[name]
        extra = dict(extra)
        run_seed = seed + extra.pop("seed_offset", 0)
        t, c = time.perf_counter(), time.process_time()
        out = fs.tl.dash_grn(
            adata,
            prior,
            trajectory_key="trajectory",
            pruning=pruning,
            random_state=run_seed,
            progress=False,
            copy=True,
            **extra,
        )
        uns = out.uns["dash_grn"]
        fits[name] = (out.varp["dash_grn"], uns["sparsity"], time.perf_counter() - t, time.process_time() - c)
    # matched sparsity: k = the number of edges (non-zero E off the diagonal) of the DASH run `k_method`,
    # from this process or, for runs made apart from it, from its row in a finished file (--k-from).
    # Pruned models keep the same number of weights, but not the same number of non-zero edges.
    if k_method in fits:
        k = int(np.count_nonzero(fits[k_method][0][~np.eye(genes, dtype=bool)]))
    else:
        k = (k_known or {}).get((genes, noise, seed, trajectories, frac))
        if k is None:
            msg = f"no {k_method} run for case {(genes, noise, seed, trajectories, frac)}: run it too or pass --k-from"
            raise SystemExit(msg)
    rows = []
    for name, (e, sp, _wall, cpu) in fits.items():
        rows.append({**case, "method": name, **evaluate(edge_scores(e), e, truth, k), "sparsity": sp, "cpu_s": cpu})
    rows.append({**case, "method": "prior", **evaluate(np.abs(prior), prior, truth, k)})
    return rows


def table(path: str) -> str:
    import pandas as pd

    df = pd.DataFrame([json.loads(line) for line in open(path)])  # noqa: SIM115 (a script)
    if "trajectories" not in df:
        df["trajectories"] = 150
    df["trajectories"] = df["trajectories"].fillna(150).astype(int)
    # the same case can be in several files (dash_adapt run later): keep the last row of each case and method
    keys = ["genes", "noise", "seed", "trajectories", "moved"]
    df = df.drop_duplicates(subset=[*keys, "method"], keep="last")
    wide = df.pivot_table(index=keys, columns="method", values="auroc")
    ba = df.pivot_table(index=keys, columns="method", values="ba")
    bak = df.pivot_table(index=keys, columns="method", values="ba_k")
    dashes = [m for m in ("dash", "dash_adapt") if m in wide]
    for m in dashes:
        wide[f"{m}-prior"] = wide[m] - wide["prior"]
        wide[f"{m}-imp"] = wide[m] - wide["imp"]
    cols = [*dashes, "imp", "unpruned", "prior", *[f"{m}-{o}" for m in dashes for o in ("prior", "imp")]]
    ba_cols = [*dashes, "imp", "unpruned"]
    lines = [
        "| G | noise | seed | traj | moved | "
        + " | ".join(f"AUROC {c}" for c in cols)
        + " | "
        + " | ".join(f"BA {c}" for c in ba_cols)
        + " | "
        + " | ".join(f"BA@k {c}" for c in ba_cols)
        + " |",
        "|" + "---|" * (5 + len(cols) + 2 * len(ba_cols)),
    ]
    for idx, r in wide.iterrows():
        b, bk = ba.loc[idx], bak.loc[idx]
        cells = [f"{r[c]:+.3f}" if "-" in c else f"{r[c]:.3f}" for c in cols]
        cells += [f"{b[c]:.3f}" for c in ba_cols] + [f"{bk[c]:.3f}" for c in ba_cols]
        lines.append(
            f"| {idx[0]} | {idx[1]} | {idx[2]} | {idx[3]} | {int(idx[4] * 100)} % | " + " | ".join(cells) + " |"
        )
    summary = wide.groupby(level="moved")[cols].agg(["mean", "min"])
    lines += ["", summary.round(3).to_string()]
    return "\n".join(lines)


def _load(paths: list[str]):
    import pandas as pd

    df = pd.DataFrame([json.loads(line) for path in paths for line in open(path)])  # noqa: SIM115 (a script)
    if "trajectories" not in df:
        df["trajectories"] = 150
    df["trajectories"] = df["trajectories"].fillna(150).astype(int)
    keys = ["genes", "noise", "seed", "trajectories", "moved"]
    return df.drop_duplicates(subset=[*keys, "method"], keep="last"), keys


def compare(before: list[str], after: list[str]) -> str:
    """Before/after table of the acceptance criteria: AUROC margins over the prior and IMP, BA ordering."""
    import pandas as pd

    frames = {}
    for label, paths in (("before", before), ("after", after)):
        df, keys = _load(paths)
        auroc = df.pivot_table(index=keys, columns="method", values="auroc")
        ba = df.pivot_table(index=keys, columns="method", values="ba")
        frames[label] = pd.DataFrame(
            {
                "dash": auroc["dash"],
                "prior": auroc["prior"],
                "unpruned": auroc["unpruned"],
                "dash-prior": auroc["dash"] - auroc["prior"],
                "dash-imp": auroc["dash"] - auroc["imp"],
                "BA dash>imp>unpr": (ba["dash"] > ba["imp"]) & (ba["imp"] > ba["unpruned"]),
            }
        )
    both = pd.concat(frames, axis=1)
    lines = [
        "| G | noise | seed | traj | moved | AUROC dash before | after | prior | unpruned after "
        "| dash-prior before | after | dash-imp before | after | BA order before | after |",
        "|" + "---|" * 15,
    ]
    for idx, r in both.iterrows():
        b, a = r["before"], r["after"]
        lines.append(
            f"| {idx[0]} | {idx[1]} | {idx[2]} | {idx[3]} | {int(idx[4] * 100)} % | {b['dash']:.3f} | {a['dash']:.3f} "
            f"| {a['prior']:.3f} | {a['unpruned']:.3f} | {b['dash-prior']:+.3f} | {a['dash-prior']:+.3f} "
            f"| {b['dash-imp']:+.3f} | {a['dash-imp']:+.3f} | {'yes' if b['BA dash>imp>unpr'] else 'no'} "
            f"| {'yes' if a['BA dash>imp>unpr'] else 'no'} |"
        )
    lines.append("")
    for label, f in frames.items():
        by = f.groupby(level="moved")
        lines.append(
            f"{label}: dash-prior >= 0.03 in {int((f['dash-prior'] >= 0.03).sum())}/{len(f)}, "
            f"dash-imp >= 0.03 in {int((f['dash-imp'] >= 0.03).sum())}/{len(f)}, "
            f"BA dash > imp > unpruned in {int(f['BA dash>imp>unpr'].sum())}/{len(f)}; mean AUROC dash "
            + ", ".join(f"{m:.0%} moved {v:.3f}" for m, v in by["dash"].mean().items())
            + "; mean dash-prior "
            + ", ".join(f"{m:.0%} {v:+.3f}" for m, v in by["dash-prior"].mean().items())
            + "; min dash-prior "
            + ", ".join(f"{m:.0%} {v:+.3f}" for m, v in by["dash-prior"].min().items())
        )
    return "\n".join(lines)


def summary(paths: list[str], dash: str = "dash", imp: str = "imp", unpruned: str = "unpruned") -> str:
    """One row of the acceptance criteria over every case in ``paths`` (later files win for a repeated case and method)."""
    df, keys = _load(paths)
    auroc = df.pivot_table(index=keys, columns="method", values="auroc")
    ba = df.pivot_table(index=keys, columns="method", values="ba")
    bak = df.pivot_table(index=keys, columns="method", values="ba_k")
    cpu = df[df["method"].isin([dash, imp])]["cpu_s"]
    by = auroc.groupby(level="moved")
    n = len(auroc)

    def means(m: str) -> str:
        return " / ".join(f"{v:.3f}" for v in by[m].mean()) if m in auroc else "-"

    order = (ba[dash] > ba[imp]) & (ba[imp] > ba[unpruned]) if unpruned in ba else None
    order_k = (bak[dash] > bak[imp]) & (bak[imp] > bak[unpruned]) if unpruned in bak else None
    cells = [
        f"{int((auroc[dash] - auroc['prior'] >= 0.03).sum())}/{n}",
        f"{int((auroc[dash] - auroc[imp] >= 0.03).sum())}/{n}",
        f"{int(order.sum())}/{n}" if order is not None else "-",
        f"{int(order_k.sum())}/{n}" if order_k is not None else "-",
        means(dash),
        means(imp),
        means(unpruned),
        means("prior"),
        f"{(auroc[dash] - auroc['prior']).min():+.3f}",
        f"{cpu.min():.0f}-{cpu.max():.0f}",
    ]
    head = (
        "| DASH - prior >= 0.03 | DASH - IMP >= 0.03 | BA DASH > IMP > unpruned | BA@k DASH > IMP > unpruned "
        "| mean AUROC DASH 20 % / 40 % | IMP | unpruned | prior | min DASH - prior | CPU s per run |"
    )
    return "\n".join([head, "|" + "---|" * 10, "| " + " | ".join(cells) + " |"])


def torch_threads() -> None:
    import torch

    torch.set_num_threads(1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", default="0/1", help="k/n: run every n-th case-fraction pair, starting at k")
    p.add_argument("--out", default="dash_grn_sweep.jsonl")
    p.add_argument("--table", default=None, nargs="+", help="print the markdown table of finished sweep files and exit")
    p.add_argument(
        "--cases",
        default="base",
        choices=("base", "wide", "all", "spec", "scarce"),
        help="base: seeds 1-6; wide: 7-12; all: 1-12; spec: 350 genes (21, 22); scarce: 10-60 trajectories (31-36)",
    )
    p.add_argument(
        "--methods",
        default="dash,imp,unpruned",
        help=f"comma-separated runs among {', '.join(RUNS)} (dash_adapt = dash with adapt_prior=True)",
    )
    p.add_argument("--only", default=None, help="comma-separated seed:fraction pairs to run, e.g. 3:0.4,4:0.2")
    p.add_argument("--k-method", default="dash", help="the DASH run whose edge count is k of BA@k")
    p.add_argument("--k-from", default=None, nargs="+", help="finished sweep files holding the --k-method rows")
    p.add_argument("--summary", default=None, nargs="+", help="the acceptance criteria over finished sweep files")
    p.add_argument(
        "--summary-methods", default="dash,imp,unpruned", help="with --summary: the DASH, IMP, unpruned runs"
    )
    p.add_argument("--before", default=None, nargs="+", help="with --after: before/after table of finished sweep files")
    p.add_argument("--after", default=None, nargs="+")
    args = p.parse_args()
    if args.summary:
        print(summary(args.summary, *args.summary_methods.split(",")))
        return
    if args.before:
        print(compare(args.before, args.after))
        return
    if args.table:
        import os
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
            for path in args.table:
                fh.write(open(path).read())  # noqa: SIM115 (a script)
        print(table(fh.name))
        os.unlink(fh.name)
        return
    warnings.filterwarnings("ignore", category=UserWarning)  # noqa: TID251 (a script, not the library)
    torch_threads()
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(RUNS))
    if unknown:
        p.error(f"--methods: unknown {unknown}")
    k, n = map(int, args.part.split("/"))
    cases = {"base": CASES, "wide": WIDE, "all": CASES + WIDE, "spec": SPEC, "scarce": SCARCE}[args.cases]
    jobs = [(*case, frac) for case in cases for frac in FRACTIONS][k::n]
    if args.only:
        wanted = {(int(a), float(b)) for a, b in (pair.split(":") for pair in args.only.split(","))}
        jobs = [job for job in jobs if (job[2], job[4]) in wanted]
    known = reference_edges(args.k_from, args.k_method) if args.k_from else None
    for job in jobs:
        for row in run_case(*job, methods, k_method=args.k_method, k_known=known):
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            print({key: (round(v, 3) if isinstance(v, float) else v) for key, v in row.items()}, flush=True)


if __name__ == "__main__":
    main()

"""DASH-pruned PHOENIX against magnitude pruning (IMP), no pruning, the prior alone and a GRNBoost2-style peer.

Data: networks simulated from known models: random signed networks of G genes (hub regulators,
1-4 inputs per target, 32 % repressing) run through the Boolean -> Hill ODE of
``fs.datasets.simulate_grn`` (150 trajectories at DASH's times 0, 2, 3, 7, 9, Gaussian noise), and
krumsiek11 (scanpy's myeloid model, 4 trajectories x 160 steps). The prior is the true network with
a fraction of its edges moved to random non-edges (``fs.datasets.corrupt_prior``), DASH's corruption.

Methods (all PHOENIX runs share seed, width and schedule, so the pruned ones end at the same sparsity):
``dash`` (``pruning="dash"``), ``imp`` (``"magnitude"``), ``bio`` (``"prior"``: the prior term only),
``unpruned`` (``"none"``), ``prior`` (the corrupted prior itself as the score), ``trees``
(GRNBoost2-style: per target, scikit-learn's GradientBoostingRegressor on all other genes, edge
score = feature importance; arboreto itself needs a pinned old dask and is not installed).

Metrics (diagonal excluded): edge AUROC and AUPR of PHOENIX's per-target score ``|E_ij| / sum_i |E_ij|``
(the importance for trees, ``|P|`` for the prior); balanced accuracy of the support ``E != 0``; and
balanced accuracy at matched sparsity: every method's top ``k`` edges, ``k`` = the number of edges
DASH predicts.

    python benchmarks/dash_grn.py                 # accuracy table + runtime at 11 and 300 genes
    python benchmarks/dash_grn.py --quick         # one network, fewer epochs
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import fischer_sc as fs

M = fs.metrics


def tree_scores(x: np.ndarray, seed: int = 0, targets: int | None = None) -> np.ndarray:
    """GRNBoost2-style importances: row = regulator, column = target (only the first ``targets`` targets if given)."""
    from sklearn.ensemble import GradientBoostingRegressor

    g = x.shape[1]
    out = np.zeros((g, g))
    for j in range(g if targets is None else targets):
        others = np.r_[0:j, j + 1 : g]
        model = GradientBoostingRegressor(
            learning_rate=0.05,
            n_estimators=200,
            max_features=max(1, int(0.3 * (g - 1))),
            subsample=0.9,
            max_depth=3,
            random_state=seed,
        )
        model.fit(x[:, others], x[:, j])
        out[others, j] = model.feature_importances_
    return out


def evaluate(name: str, effects: np.ndarray, truth: np.ndarray, k: int | None, *, is_score: bool = False) -> dict:
    from fischer_sc.core.ode import edge_scores

    score = np.abs(effects) if is_score else edge_scores(effects)
    row = {
        "method": name,
        "auroc": M.edge_auroc(score, truth),
        "aupr": M.edge_aupr(score, truth),
        "ba_support": M.edge_balanced_accuracy(effects, truth),
        "edges": int(np.count_nonzero(effects[~np.eye(len(truth), dtype=bool)])),
    }
    if k:
        row["ba_matched"] = M.edge_balanced_accuracy(M.top_edges(score, k), truth)
    return row


OVERRIDES = {
    "epochs": "n_epochs",
    "lr": "learning_rate",
    "batch_size": "batch_size",
    "hidden": "hidden_dim",
    "prune_start": "prune_start",
    "prune_every": "prune_every",
    "target": "target_sparsity",
    "lam_ppi": "lambda_ppi",
    "lam_motif": "lambda_motif",
    "prior_loss": "prior_loss_weight",
}


def overrides(args) -> dict:
    """The tool's defaults, except what was asked for on the command line."""
    return {name: getattr(args, opt) for opt, name in OVERRIDES.items() if getattr(args, opt) is not None}


def run_phoenix(adata, prior, pruning: str, args, traj_key: str) -> tuple[np.ndarray, float, float]:
    out = fs.tl.dash_grn(
        adata,
        prior,
        trajectory_key=traj_key,
        pruning=pruning,
        progress=False,
        **overrides(args),
        copy=True,
    )
    return out.varp["dash_grn"], out.uns["dash_grn"]["sparsity"], float(out.uns["dash_grn"]["history"]["val_mse"].min())


def accuracy(args) -> list[dict]:
    rows = []
    seeds = args.seeds if args.seeds else range(1, args.networks + 1)
    cases = [("random", s, args.noise) for s in seeds]
    if args.noise2 is not None:
        cases.append(("random", 1, args.noise2))
    if args.krumsiek:
        cases.append(("krumsiek11", 0, 0.0))
    for kind, seed, noise in cases:
        if kind == "random":
            truth = fs.datasets.random_signed_network(args.genes, random_state=seed)
            adata = fs.datasets.simulate_grn(truth, n_trajectories=args.n_traj, noise=noise, random_state=seed)
            traj = "trajectory"
        else:
            adata = fs.datasets.krumsiek11()
            adata.obs["trajectory"] = (np.arange(adata.n_obs) // 160).astype(str)
            adata.obs["time"] = (np.arange(adata.n_obs) % 160).astype(float) / 16.0
            traj = "trajectory"
            from fischer_sc.core.ode import network_from_edges

            truth = network_from_edges(fs.datasets.krumsiek11_network(), adata.var_names.tolist())
        label = f"{kind} {seed}, G={truth.shape[0]}, noise {noise}"
        t = time.perf_counter()
        e_none, _, val_none = run_phoenix(adata, None, "none", args, traj)
        t_none = time.perf_counter() - t
        trees = tree_scores(np.asarray(adata.X, dtype=float), seed)
        for frac in args.fractions:
            prior = fs.datasets.corrupt_prior(truth, frac, random_state=100 + seed)
            results = {}
            for pruning in ("dash", "magnitude", "prior"):
                t = time.perf_counter()
                results[pruning] = (*run_phoenix(adata, prior, pruning, args, traj), time.perf_counter() - t)
            k = int(np.count_nonzero(results["dash"][0][~np.eye(len(truth), dtype=bool)]))
            case = {"case": label, "moved": frac}
            for name, pruning in (("dash", "dash"), ("imp", "magnitude"), ("bio", "prior")):
                e, sp, val, secs = results[pruning]
                rows.append({**case, **evaluate(name, e, truth, k), "sparsity": sp, "val_mse": val, "seconds": secs})
            rows.append(
                {
                    **case,
                    **evaluate("unpruned", e_none, truth, k),
                    "sparsity": 0.0,
                    "val_mse": val_none,
                    "seconds": t_none,
                }
            )
            rows.append({**case, **evaluate("prior", prior, truth, k, is_score=True)})
            rows.append({**case, **evaluate("trees", trees, truth, k, is_score=True)})
            for r in rows[-6:]:
                print({k2: (round(v, 3) if isinstance(v, float) else v) for k2, v in r.items()}, flush=True)
    return rows


def runtime(args) -> list[dict]:
    """``fs.tl.dash_grn`` at its defaults, timed for real (no scaling), with ``--threads`` torch threads."""
    import os

    from fischer_sc.core import ode

    fit = ode.fit_phoenix

    def fit_with_threads(*a, **kw):  # the tool trains on one thread; the benchmark asks for --threads
        return fit(*a, **{**kw, "n_threads": args.threads})

    ode.fit_phoenix = fit_with_threads
    rows = []
    for g in args.runtime_genes:
        if g == 11:
            adata = fs.datasets.krumsiek11()
            adata.obs["trajectory"] = (np.arange(adata.n_obs) // 160).astype(str)
            adata.obs["time"] = (np.arange(adata.n_obs) % 160).astype(float) / 16.0
            prior = ode.network_from_edges(fs.datasets.krumsiek11_network(), adata.var_names.tolist())
        else:
            truth = fs.datasets.random_signed_network(g, random_state=7)
            adata = fs.datasets.simulate_grn(truth, noise=0.025, random_state=7)
            prior = fs.datasets.corrupt_prior(truth, 0.2, random_state=7)
        load_before = os.getloadavg()[0]
        t, c = time.perf_counter(), time.process_time()
        out = fs.tl.dash_grn(adata, prior, trajectory_key="trajectory", progress=False, copy=True)
        t_dash, c_dash = time.perf_counter() - t, time.process_time() - c
        load_after = os.getloadavg()[0]
        row = {
            "genes": g,
            "observations": adata.n_obs,
            "threads": args.threads,
            "dash_wall_s": t_dash,
            "dash_cpu_s": c_dash,
            "epochs": len(out.uns["dash_grn"]["history"]),
            "sparsity": out.uns["dash_grn"]["sparsity"],
            "load_1min_before_after": f"{load_before:.1f}/{load_after:.1f}",
        }
        if args.trees:
            t, c = time.perf_counter(), time.process_time()
            n_targets = min(g, 30)  # the peer's cost is linear in the targets: time 30 of them and scale
            tree_scores(np.asarray(adata.X, dtype=float), targets=n_targets)
            row["trees_wall_s_scaled"] = (time.perf_counter() - t) * g / n_targets
            row["trees_cpu_s_scaled"] = (time.process_time() - c) * g / n_targets
        rows.append(row)
        print(rows[-1], flush=True)
    ode.fit_phoenix = fit
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--genes", type=int, default=20)
    p.add_argument("--networks", type=int, default=3)
    p.add_argument("--seeds", type=int, nargs="*", default=None, help="network seeds (default 1..networks)")
    p.add_argument("--noise", type=float, default=0.025)
    p.add_argument("--noise2", type=float, default=None, help="a second noise level, on network 1 (e.g. 0.05)")
    p.add_argument("--fractions", type=float, nargs="+", default=[0.2, 0.4])
    p.add_argument("--krumsiek", action=argparse.BooleanOptionalAction, default=False)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--hidden", type=int, default=None)
    p.add_argument("--prune-start", type=int, default=None)
    p.add_argument("--prune-every", type=int, default=None)
    p.add_argument("--target", type=float, default=None)
    p.add_argument("--lam-ppi", type=float, default=None)
    p.add_argument("--lam-motif", type=float, default=None)
    p.add_argument("--prior-loss", type=float, default=None)
    p.add_argument("--runtime-genes", type=int, nargs="*", default=[11, 300])
    p.add_argument("--skip-accuracy", action="store_true")
    p.add_argument("--n-traj", type=int, default=150)
    p.add_argument("--threads", type=int, default=2, help="torch threads of the runtime runs")
    p.add_argument("--trees", action=argparse.BooleanOptionalAction, default=True, help="time the tree peer too")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.networks, args.noise2, args.krumsiek, args.runtime_genes = 1, None, False, [11]
    warnings.filterwarnings("ignore", category=UserWarning)  # noqa: TID251 (a script, not the library: keep the tables readable)
    import pandas as pd

    pd.set_option("display.width", 200)
    if not args.skip_accuracy:
        table = pd.DataFrame(accuracy(args))
        print(table.round(3).to_string(index=False))
        summary = table.groupby(["moved", "method"])[["auroc", "aupr", "ba_support", "ba_matched"]].mean()
        print(summary.round(3).to_string())
    if args.runtime_genes:
        print(pd.DataFrame(runtime(args)).round(2).to_string(index=False))


if __name__ == "__main__":
    main()

"""FedDC vs FedAvg (several aggregation periods) vs centralised training on the offline digits set-up.

Data: sklearn's digits (1 797 x 64, X/16), stratified 20 % test split per seed; m clients with n samples each
drawn IID without replacement from the training pool; MLP 64-64-10; one full-batch SGD step per round, lr 0.1.
Arms: FedDC (daisy_period=1; agg_period 10, 50), FedAvg (agg_period 1, 10, 50), daisy-chaining only,
centralised full-batch gradient descent on the pooled m*n samples (same lr and number of steps).
Optionally (--flower) FedDC on a real Flower federation (Ray local simulation, one SuperNode per client)
against the in-process simulator with the same seed and schedule.

    python benchmarks/federated.py                      # 200 x 2 and 100 x 4, 300 rounds, seeds 0-2
    python benchmarks/federated.py --flower             # plus the Flower comparison (about a minute per seed)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from fischer_sc_federated import fedavg, feddc, mlp, split_clients

OUT = Path(__file__).parent / "results"
MODEL = lambda: mlp(64, 10)
ARMS = {
    "FedDC d=1 b=10": {"daisy_period": 1, "agg_period": 10},
    "FedDC d=1 b=50": {"daisy_period": 1, "agg_period": 50},
    "FedAvg b=1": {"daisy_period": None, "agg_period": 1},
    "FedAvg b=10": {"daisy_period": None, "agg_period": 10},
    "FedAvg b=50": {"daisy_period": None, "agg_period": 50},
    "DC only (d=1)": {"daisy_period": 1, "agg_period": None},
}


def data(seed):
    X, y = load_digits(return_X_y=True)
    return train_test_split((X / 16.0).astype(np.float32), y, test_size=0.2, stratify=y, random_state=seed)


def centralised(parts, Xte, yte, rounds, lr, seed, every):
    torch.manual_seed(seed)
    model = MODEL()
    X = torch.as_tensor(parts.X.reshape(-1, 64))
    y = torch.as_tensor(parts.y.reshape(-1))
    rows = []
    for t in range(1, rounds + 1):
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        if t % every == 0:
            with torch.no_grad():
                acc = float((model(torch.as_tensor(Xte)).argmax(-1).numpy() == yte).mean())
            rows.append({"round": t, "acc_avg_model": acc, "acc_client_mean": acc})
    return pd.DataFrame(rows)


def run_setup(m, n, rounds, seeds, lr, every):
    curves, finals = [], []
    for seed in seeds:
        Xtr, Xte, ytr, yte = data(seed)
        parts = split_clients(Xtr, ytr, m, n, random_state=seed)
        for arm, kw in ARMS.items():
            t = time.perf_counter()
            fn = feddc if kw["daisy_period"] is not None else fedavg
            kw2 = dict(kw) if fn is feddc else {"agg_period": kw["agg_period"]}
            res = fn(
                MODEL, parts, rounds=rounds, lr=lr, eval_data=(Xte, yte), eval_every=every, random_state=seed, **kw2
            )
            sec = time.perf_counter() - t
            h = res.history
            curves.append(h.assign(arm=arm, seed=seed))
            last = h.iloc[-1]
            finals.append(
                {
                    "arm": arm,
                    "seed": seed,
                    "acc_avg_model": last.acc_avg_model,
                    "acc_client_mean": last.acc_client_mean,
                    "seconds": sec,
                }
            )
            print(
                f"{m}x{n} seed {seed} {arm:16s} avg {last.acc_avg_model:.3f} client-mean {last.acc_client_mean:.3f} ({sec:.1f} s)",
                flush=True,
            )
        h = centralised(parts, Xte, yte, rounds, lr, seed, every)
        curves.append(h.assign(arm="centralised", seed=seed))
        finals.append(
            {
                "arm": "centralised",
                "seed": seed,
                "acc_avg_model": h.acc_avg_model.iloc[-1],
                "acc_client_mean": h.acc_avg_model.iloc[-1],
                "seconds": np.nan,
            }
        )
    return pd.concat(curves), pd.DataFrame(finals)


def flower_vs_sim(seeds, m=10, n=8, rounds=40, agg=10, lr=0.5):
    from fischer_sc_federated import run_flower_simulation

    rows = []
    for seed in seeds:
        Xtr, Xte, ytr, yte = data(seed)
        parts = split_clients(Xtr, ytr, m, n, random_state=seed)
        kw = {
            "rounds": rounds,
            "daisy_period": 1,
            "agg_period": agg,
            "lr": lr,
            "eval_data": (Xte, yte),
            "random_state": seed,
        }
        t = time.perf_counter()
        sim = feddc(MODEL, parts, **kw)
        t_sim = time.perf_counter() - t
        t = time.perf_counter()
        fl = run_flower_simulation(MODEL, parts, **kw)
        t_fl = time.perf_counter() - t
        rows.append({"seed": seed, "acc_sim": sim.history.acc_avg_model.iloc[-1], "acc_flower": fl.history.acc_avg_model.iloc[-1],
                     "acc_client_mean_flower": fl.history.acc_client_mean.iloc[-1], "seconds_sim": t_sim, "seconds_flower": t_fl})  # fmt: skip
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def plot(curves_by_setup, path):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves_by_setup), figsize=(6 * len(curves_by_setup), 4.2), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (title, curves) in zip(axes, curves_by_setup.items(), strict=True):
        for arm, g in curves.groupby("arm", sort=False):
            mean = g.groupby("round")["acc_avg_model"].mean()
            ax.plot(mean.index, mean.values, label=arm, lw=2 if arm.startswith("FedDC") else 1.2,
                    ls="--" if arm == "centralised" else "-")  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy of the averaged model")
    axes[-1].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(finals):
    g = finals.groupby("arm", sort=False)
    out = pd.DataFrame({
        "acc (averaged model)": g.acc_avg_model.agg(lambda s: f"{s.mean():.3f} ± {s.std(ddof=1):.3f}"),
        "acc (client mean)": g.acc_client_mean.agg(lambda s: f"{s.mean():.3f} ± {s.std(ddof=1):.3f}"),
        "seconds / run": g.seconds.agg(lambda s: "-" if s.isna().all() else f"{s.median():.1f}"),
    })  # fmt: skip
    return out.to_markdown()


def flower_section(fl, how):
    return "\n".join([
        "## Flower (Ray local simulation, 10 SuperNodes) vs the in-process simulator", "",
        (f"Produced by `python benchmarks/federated.py {how}`. " if how else "")
        + "10 clients x 8 samples, 40 rounds, daisy_period 1, agg_period 10, lr 0.5, same seed and schedule. "
        "The Flower strategy permutes node ids, not client indices, so the runs agree in distribution, not bit for bit.", "",
        fl.to_markdown(index=False, floatfmt=".3f"), "",
        f"Largest |acc_flower - acc_sim|: {np.abs(fl.acc_flower - fl.acc_sim).max():.3f}; Flower/simulator time ratio (median): "
        f"{np.median(fl.seconds_flower / fl.seconds_sim):.0f}x.", "",
    ])  # fmt: skip


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--setups", nargs="+", default=["200x2", "100x4"], help="clients x samples, e.g. 200x2")
    ap.add_argument("--flower", action="store_true")
    ap.add_argument("--flower-seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--flower-only", action="store_true", help="only the Flower comparison, appended to federated.md")
    args = ap.parse_args()
    if args.flower_only:
        text = (OUT / "federated.md").read_text().split("## Flower")[0].rstrip() + "\n\n"
        md = [text + flower_section(flower_vs_sim(args.flower_seeds), " ".join(sys.argv[1:]))]
        (OUT / "federated.md").write_text("\n".join(md))
        print(md[0])
        return
    cmd = "python benchmarks/federated.py " + " ".join(sys.argv[1:])
    curves, md = {}, ["# FedDC vs FedAvg vs centralised on digits", "", f"Produced by `{cmd.strip()}`.", ""]
    md.append(
        f"Seeds {args.seeds}; {args.rounds} rounds; one full-batch SGD step per round, lr 0.1; MLP 64-64-10; "
        "accuracy of the averaged model and mean accuracy of the clients' models at the last round, mean ± sd "
        "over seeds; seconds are the median wall time of one run on one torch thread on a shared 2-core machine "
        "whose load from other jobs varied during the run, so they are indicative only.\n"
    )
    for setup in args.setups:
        m, n = (int(v) for v in setup.split("x"))
        c, f = run_setup(m, n, args.rounds, args.seeds, 0.1, every=10)
        curves[f"{m} clients x {n} samples"] = c
        md += [f"## {m} clients x {n} samples, {args.rounds} rounds", "", table(f), ""]
        per_seed = f.pivot(index="seed", columns="arm", values="acc_avg_model")
        gap = per_seed["FedDC d=1 b=50"] - per_seed["FedAvg b=50"]
        md.append(
            f"FedDC(b=50) - FedAvg(b=50) per seed: {', '.join(f'{v:.3f}' for v in gap)}; "
            f"FedDC(b=50) per seed: {', '.join(f'{v:.3f}' for v in per_seed['FedDC d=1 b=50'])}.\n"
        )
        (OUT / "federated.md").write_text("\n".join(md))  # partial results survive an interrupted run
    plot(curves, OUT / "federated.png")
    md += ["![accuracy over rounds](federated.png)", ""]
    if args.flower:
        md.append(flower_section(flower_vs_sim(args.flower_seeds), ""))
    (OUT / "federated.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()

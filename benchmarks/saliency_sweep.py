"""Where does VAR (fischer_sc_saliency) improve the grid pointing game? A sweep over models and settings.

For several small digits classifiers (MLPs of different widths and depths; CNNs with a flattened
linear read-out, with global average pooling and with global max pooling, of different widths and
depths) and several seeds (one training and one grid draw each), the script computes the input x
gradient and integrated-gradients maps (zero baseline, 32 Gauss-Legendre steps) of all ten classes
for each grid once, and then scores VAR for every combination of

- the competitor set C: the four grid classes (the protocol, K = 4), the target and one other grid
  class drawn at random (K = 2), all ten classes (K = 10), or ``"auto"`` (top-2 predicted classes
  and the least likely one, K = 3);
- the temperature T (1, 10, 100), the gate tau (0, 0.01, 0.1), ``use_abs`` and ``normalize``.

It also measures, per model, how additive the logits are over the four cells
(``|f(grid) - sum_q f(cell q alone) + 3 f(blank)| / |f(grid)|``) and, for the protocol's setting,
how much of the target's positive mass VAR keeps inside its own cell and outside it.

    .venv/bin/python benchmarks/saliency_sweep.py --part a --models mlp-256 cnn-8-16   # writes a CSV part
    .venv/bin/python benchmarks/saliency_sweep.py --report                              # merges the parts
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from fischer_sc_saliency import (
    canvas_accuracy,
    class_competition,
    load_digit_data,
    make_digit_grids,
    train_digits_model,
)
from fischer_sc_saliency._model import frozen
from fischer_sc_saliency._var import competitor_maps

RESULTS = Path(__file__).parent / "results"
IG_STEPS = 32
PROTOCOL = ("grid4", 10.0, 0.01, True, None)  # C, T, tau, use_abs, normalize of the digits protocol


def mlp(*hidden: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    width = 256
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, 10))


def cnn(head: str, *channels: int) -> nn.Sequential:
    """3x3 convolutions with ReLU; a 2x2 max-pool after the first two; then the read-out ``head``."""
    layers: list[nn.Module] = []
    c_in, size = 1, 16
    for i, c in enumerate(channels):
        layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
        if i < 2:
            layers.append(nn.MaxPool2d(2))
            size //= 2
        c_in = c
    if head == "flatten":
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * size * size, 10))
    pool = nn.AdaptiveAvgPool2d(1) if head == "gap" else nn.AdaptiveMaxPool2d(1)
    return nn.Sequential(*layers, pool, nn.Flatten(), nn.Linear(c_in, 10))


MODELS = {
    "mlp-256": lambda: mlp(256),  # the spec's MLP
    "mlp-512": lambda: mlp(512),
    "mlp-128-128": lambda: mlp(128, 128),
    "cnn-8-16": lambda: cnn("flatten", 8, 16),  # the package's "cnn"
    "cnn-16-32": lambda: cnn("flatten", 16, 32),
    "cnn-16-32-32": lambda: cnn("flatten", 16, 32, 32),
    "cnn_gap-16-32": lambda: cnn("gap", 16, 32),
    "cnn_gmp-8-16": lambda: cnn("gmp", 8, 16),
    "cnn_gmp-16-32": lambda: cnn("gmp", 16, 32),  # the package's "cnn_gmp"
    "cnn_gmp-16-32-32": lambda: cnn("gmp", 16, 32, 32),
}
SETS = ("grid4", "pair", "all10", "auto")
GRID = list(itertools.product(SETS, (1.0, 10.0, 100.0), (0.0, 0.01, 0.1), (True, False), (None, "joint_max")))


def gpg_cells(a: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Share of the positive mass of maps ``(G, H, W)`` inside ``region`` (empty maps score 0.25)."""
    pos = np.maximum(a, 0)
    tot = pos.reshape(len(pos), -1).sum(1)
    return np.where(tot > 0, pos[:, region].sum(1) / np.where(tot > 0, tot, 1), 0.25)


def competitor_index(kind: str, classes: np.ndarray, logits: np.ndarray, j: int, rng) -> np.ndarray:
    """``(G, K)`` competitor classes for target = grid cell ``j``; column 0 is the target."""
    t = classes[:, j]
    if kind == "grid4":
        return np.concatenate([t[:, None], np.delete(classes, j, axis=1)], axis=1)
    if kind == "pair":
        others = np.delete(classes, j, axis=1)
        return np.stack([t, others[np.arange(len(t)), rng.integers(0, 3, len(t))]], axis=1)
    if kind == "all10":
        rest = np.array([[c for c in range(10) if c != tt] for tt in t])
        return np.concatenate([t[:, None], rest], axis=1)
    order = np.argsort(-logits, axis=1)  # auto: top-2 and the least likely; the target replaces the latter
    out = []
    for i, tt in enumerate(t):
        top, least = list(order[i, :2]), order[i, -1]
        rest = [c for c in [*top, least] if c != tt] if (tt in top or tt == least) else top
        out.append([tt, *rest])
    return np.array(out)


def additivity(model: nn.Module, grids) -> float:
    x = torch.from_numpy(grids.x)
    with torch.no_grad():
        full = model(x)
        cells = sum(model(x * torch.from_numpy(grids.regions[q]).float()) for q in range(4))
        parts = cells - 3 * model(torch.zeros(1, *x.shape[1:]))
    return float((full - parts).norm() / full.norm())


def run_model(name: str, seed: int, data, n_grids: int) -> tuple[list[dict], dict]:
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MODELS[name]()
    lr = 1e-3 if name.startswith("mlp") else 3e-3
    epochs = 30 if name.startswith("mlp") else 10
    model = train_digits_model(model, data, epochs=epochs, lr=lr, random_state=seed)
    acc = canvas_accuracy(model, data.test_images, data.test_labels)
    grids = make_digit_grids(model, data.test_images, data.test_labels, n_grids=n_grids, random_state=seed)
    x = torch.from_numpy(grids.x)
    with torch.no_grad():
        logits = model(x).numpy()
    all10 = np.tile(np.arange(10), (len(x), 1))
    bases = {"input_x_gradient": None, "integrated_gradients": {"n_steps": IG_STEPS}}
    rows = []
    info = {"model": name, "seed": seed, "accuracy": acc, "additivity_err": additivity(model, grids)}
    for base, kw in bases.items():
        with frozen(model):
            maps = competitor_maps(model, x, all10, base=base, base_kwargs=kw)[:, :, 0]  # (G, 10, 16, 16)
        g = np.arange(len(x))[:, None]
        base_score = np.mean(
            [gpg_cells(maps[g[:, 0], grids.classes[:, j]].numpy(), grids.regions[j]) for j in range(4)]
        )
        for kind, temp, tau, use_abs, norm in GRID:
            rng = np.random.default_rng(seed)
            cells = []
            for j in range(4):
                sets = competitor_index(kind, grids.classes, logits, j, rng)
                if tau >= 1 - 1 / sets.shape[1]:
                    cells = None
                    break
                v, _, _ = class_competition(
                    maps[g, sets], 0, temperature=temp, tau=tau, use_abs=use_abs, normalize=norm
                )
                cells.append(gpg_cells(v.numpy(), grids.regions[j]))
                if (kind, temp, tau, use_abs, norm) == PROTOCOL:
                    pos = np.maximum(maps[g[:, 0], grids.classes[:, j]].numpy(), 0)
                    kept = np.maximum(v.numpy(), 0)
                    r = grids.regions[j]
                    info.setdefault("own", []).append(kept[:, r].sum() / pos[:, r].sum())
                    info.setdefault("other", []).append(kept[:, ~r].sum() / pos[:, ~r].sum())
            if cells is None:
                continue
            var = float(np.mean(cells))
            rows.append(
                {"model": name, "seed": seed, "base": base, "C": kind, "T": temp, "tau": tau, "use_abs": use_abs}
                | {"normalize": norm or "none", "gpg_base": base_score, "gpg_var": var, "gain": var - base_score}
            )
        if base == "input_x_gradient":
            info["kept_own_ixg"], info["kept_other_ixg"] = (
                float(np.mean(info.pop("own"))),
                float(np.mean(info.pop("other"))),
            )
        else:
            info.pop("own", None), info.pop("other", None)
    info["time_s"] = time.perf_counter() - t0
    print(f"{name} seed {seed}: accuracy {acc:.3f}, {info['time_s']:.0f} s", flush=True)
    return rows, info


def report(df: pd.DataFrame, info: pd.DataFrame, n_grids: int) -> str:
    family = df["model"].str.split("-").str[0]
    df = df.assign(family=family)
    proto = df[
        (df["C"] == "grid4") & (df["T"] == 10) & (df["tau"] == 0.01) & df["use_abs"] & (df["normalize"] == "none")
    ]
    seeds = sorted(int(s) for s in df["seed"].unique())
    lines = [
        "# VAR sweep on the offline digits protocol",
        "",
        f"`benchmarks/saliency_sweep.py`, seeds {seeds}, {n_grids} grids per model and seed; MLPs 30 epochs (lr 1e-3), "
        f"CNNs 10 epochs (lr 3e-3); IG with a zero baseline and {IG_STEPS} steps; {platform.machine()}, torch "
        f"{torch.__version__}, 1 thread. Gains are GPG(VAR) - GPG(base) on the same base maps; mean over seeds and "
        "the smallest seed in brackets.",
        "",
        "## Per model, the protocol's setting (C = the 4 grid classes, T = 10, tau = 0.01, use_abs, no normalisation)",
        "",
        "'additive' is how far the logits of a grid are from the sum of its four cells' logits (0 = exactly additive); "
        "it does not decide whether VAR helps (the MLP is the most additive model and gains). 'kept own/other' is the "
        "share of the target's positive input x gradient mass that VAR keeps inside the target's cell and outside it: "
        "VAR localises only when the first is clearly larger. 'signed' is the same setting with use_abs=False.",
        "",
        "| model | accuracy | additive | kept own / other (IxG) | IxG base | IxG gain | IG base | IG gain | IxG gain, signed | IG gain, signed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    signed = df[
        (df["C"] == "grid4") & (df["T"] == 10) & (df["tau"] == 0.01) & ~df["use_abs"] & (df["normalize"] == "none")
    ]

    def gain(frame, model, base):
        s = frame[(frame["model"] == model) & (frame["base"] == base)]["gain"]
        return f"{s.mean():+.3f} ({s.min():+.3f})"

    for model, g in info.groupby("model", sort=False):
        p = proto[proto["model"] == model]
        lines.append(
            f"| {model} | {g['accuracy'].mean():.3f} | {g['additivity_err'].mean():.2f} | "
            f"{g['kept_own_ixg'].mean():.2f} / {g['kept_other_ixg'].mean():.2f} | "
            f"{p[p['base'] == 'input_x_gradient']['gpg_base'].mean():.3f} | {gain(proto, model, 'input_x_gradient')} | "
            f"{p[p['base'] == 'integrated_gradients']['gpg_base'].mean():.3f} | {gain(proto, model, 'integrated_gradients')} | "
            f"{gain(signed, model, 'input_x_gradient')} | {gain(signed, model, 'integrated_gradients')} |"
        )
    lines += [
        "",
        "## Settings: mean gain per model family (IxG and IG pooled), smallest over every model, seed and base",
        "",
        "Families: "
        + ", ".join(f"{f} ({df[df['family'] == f]['model'].nunique()} models)" for f in sorted(df["family"].unique()))
        + " (cnn: flattened linear read-out; cnn_gmp: global max pooling). Sorted by the smallest gain over every "
        "model, seed and base; the protocol's setting is in bold. The 25 best settings, then the protocol's.",
        "",
        "| C | T | tau | use_abs | normalize | mlp | cnn | cnn_gap | cnn_gmp | smallest, mlp + cnn_gmp | smallest, cnn | smallest, all |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    keys = ["C", "T", "tau", "use_abs", "normalize"]
    table = []
    for key, g in df.groupby(keys, sort=False):
        fam = g.groupby("family")["gain"].mean()
        good = g[g["family"].isin(["mlp", "cnn_gmp"])]["gain"]
        flat = g[g["family"] == "cnn"]["gain"]
        table.append(
            (key, fam, good.min() if len(good) else np.nan, flat.min() if len(flat) else np.nan, g["gain"].min())
        )
    table.sort(key=lambda r: -r[4])
    shown = table[:25] + [r for r in table[25:] if r[0] == ("grid4", 10.0, 0.01, True, "none")]
    for key, fam, good, flat, least in shown:
        cells = " | ".join(f"{fam.get(f, np.nan):+.3f}" for f in ("mlp", "cnn", "cnn_gap", "cnn_gmp"))
        row = f"| {key[0]} | {key[1]:g} | {key[2]:g} | {key[3]} | {key[4]} | {cells} | {good:+.3f} | {flat:+.3f} | {least:+.3f} |"
        lines.append(
            row.replace(
                "| grid4 | 10 | 0.01 | True | none |", "| **grid4** | **10** | **0.01** | **True** | **none** |"
            )
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n-grids", type=int, default=200)
    p.add_argument("--part", default="all", help="name of the CSV part this run writes")
    p.add_argument("--report", action="store_true", help="merge every CSV part into saliency_sweep.md")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.report:
        df = pd.concat([pd.read_csv(f) for f in sorted(RESULTS.glob("saliency_sweep_rows_*.csv.gz"))])
        info = pd.concat([pd.read_csv(f) for f in sorted(RESULTS.glob("saliency_sweep_models_*.csv"))])
        order = {m: i for i, m in enumerate(MODELS)}
        info = info.sort_values("model", key=lambda s: s.map(order), kind="stable")
        text = report(df, info, args.n_grids)
        (RESULTS / "saliency_sweep.md").write_text(text)
        print(text)
        return
    data = load_digit_data(random_state=0)
    rows, infos = [], []
    for name in args.models:
        for seed in args.seeds:
            r, i = run_model(name, seed, data, args.n_grids)
            rows += r
            infos.append(i)
            pd.DataFrame(rows).to_csv(RESULTS / f"saliency_sweep_rows_{args.part}.csv.gz", index=False)
            pd.DataFrame(infos).to_csv(RESULTS / f"saliency_sweep_models_{args.part}.csv", index=False)


if __name__ == "__main__":
    main()

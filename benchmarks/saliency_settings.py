"""VAR settings against the sparsity-matched control on the digits protocol (fischer_sc_saliency).

VAR's maps are sparse, and a sparser map can score higher in the grid pointing game (GPG) only
because it keeps the strongest pixels. For every seed (one training, one draw of grids) and model
(the spec's MLP, the flattened-read-out ``"cnn"`` and the global-max-pooling ``"cnn_gmp"``) the
script scores, for input x gradient and integrated gradients (zero baseline, 32 steps) and for
four VAR settings, the GPG of the base map, of VAR and of the control (the base map's positive
part cut to as many pixels as VAR keeps, largest first; the same control as
``grid_pointing_game(...).control``), the share of empty VAR maps, and the full-randomisation
MPRT Spearman of abs(A) for base, VAR and its control (input x gradient, 40 grids).

    .venv/bin/python benchmarks/saliency_settings.py --archs mlp --part mlp   # one CSV part per run
    .venv/bin/python benchmarks/saliency_settings.py --report
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fischer_sc_saliency import (
    canvas_accuracy,
    class_competition,
    load_digit_data,
    make_digit_grids,
    model_randomisation,
    train_digits_model,
)
from fischer_sc_saliency._eval import _sparsify_like
from fischer_sc_saliency._model import frozen
from fischer_sc_saliency._var import competitor_maps

RESULTS = Path(__file__).parent / "results"
SETTINGS = {
    "reference (T 10, tau 0.01, abs)": {},
    "signed (T 10, tau 0.01)": {"use_abs": False},
    "signed, joint_max, tau 0.1": {"use_abs": False, "normalize": "joint_max", "tau": 0.1},
    "signed, joint_max, T 1, tau 0.1": {"use_abs": False, "normalize": "joint_max", "tau": 0.1, "temperature": 1.0},
}


def cells(a: np.ndarray, region: np.ndarray) -> np.ndarray:
    pos = np.maximum(a, 0)
    tot = pos.reshape(len(pos), -1).sum(1)
    return np.where(tot > 0, pos[:, region].sum(1) / np.where(tot > 0, tot, 1), 0.25)


def run(arch: str, seed: int, data, n_grids: int) -> list[dict]:
    mlp = arch == "mlp"
    model = train_digits_model(arch, data, epochs=30 if mlp else 10, lr=1e-3 if mlp else 3e-3, random_state=seed)
    acc = canvas_accuracy(model, data.test_images, data.test_labels)
    grids = make_digit_grids(model, data.test_images, data.test_labels, n_grids=n_grids, random_state=seed)
    rows = []
    for base, kw in (("input_x_gradient", None), ("integrated_gradients", {"n_steps": 32})):
        with frozen(model):
            maps = competitor_maps(model, torch.from_numpy(grids.x), grids.classes, base=base, base_kwargs=kw)
        for name, st in SETTINGS.items():
            score = {"base": [], "var": [], "control": [], "empty": []}
            for j in range(4):
                a = maps[:, j, 0].numpy()
                v = class_competition(maps, j, **st)[0][:, 0].numpy()
                ctrl = _sparsify_like(np.maximum(a, 0), np.maximum(v, 0))
                for key, m in (("base", a), ("var", v), ("control", ctrl)):
                    score[key].append(cells(m, grids.regions[j]))
                score["empty"].append(np.maximum(v, 0).reshape(len(v), -1).sum(1) == 0)
            row = {"arch": arch, "seed": seed, "accuracy": acc, "base_method": base, "setting": name}
            row |= {f"gpg_{k}": float(np.mean(val)) for k, val in score.items() if k != "empty"}
            row["frac_empty"] = float(np.mean(score["empty"]))
            if base == "input_x_gradient":
                df = model_randomisation(
                    model, grids.x[:40], grids.classes[:40], base=base, progress=False, random_state=seed, **st
                )
                full = df[df["n_layers"] == df["n_layers"].max()].set_index("method")
                row |= {f"mprt_{m}": full.loc[m, "spearman_abs"] for m in ("base", "var", "control")}
                row["mprt_excluded"] = int(full.loc["var", "n_excluded"])
            rows.append(row)
    print(f"{arch} seed {seed}: accuracy {acc:.3f}", flush=True)
    return rows


def report(df: pd.DataFrame, n_grids: int) -> str:
    seeds = sorted(int(s) for s in df["seed"].unique())
    lines = [
        "# VAR settings against the sparsity-matched control (digits protocol)",
        "",
        f"`benchmarks/saliency_settings.py`, seeds {seeds}, {n_grids} grids per seed, C = the four grid classes; "
        f"MLP 30 epochs, CNNs 10 epochs; {platform.machine()}, torch {torch.__version__}, 1 thread. Means over seeds, "
        "the smallest seed in brackets. 'control' is the base map's positive part cut to as many pixels as VAR keeps "
        "(largest first): VAR does more than sparsify only where it beats the control. MPRT: Spearman of abs(A) "
        "after re-drawing every layer (input x gradient, 40 grids x 4 classes; lower is better).",
        "",
        "| model | base method | setting | GPG base | VAR | control | VAR - base | VAR - control | empty VAR maps | MPRT base / VAR / control |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (arch, base, setting), g in df.groupby(["arch", "base_method", "setting"], sort=False):
        gain, over = g["gpg_var"] - g["gpg_base"], g["gpg_var"] - g["gpg_control"]
        mprt = (
            f"{g['mprt_base'].mean():.2f} / {g['mprt_var'].mean():.2f} / {g['mprt_control'].mean():.2f}"
            if g["mprt_base"].notna().any()
            else ""
        )
        lines.append(
            f"| {arch} | {base} | {setting} | {g['gpg_base'].mean():.3f} | {g['gpg_var'].mean():.3f} | "
            f"{g['gpg_control'].mean():.3f} | {gain.mean():+.3f} ({gain.min():+.3f}) | {over.mean():+.3f} ({over.min():+.3f}) | "
            f"{g['frac_empty'].mean():.3f} | {mprt} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--archs", nargs="+", default=["mlp", "cnn", "cnn_gmp"], choices=["mlp", "cnn", "cnn_gmp"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n-grids", type=int, default=150)
    p.add_argument("--part", default="all")
    p.add_argument("--report", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.report:
        df = pd.concat([pd.read_csv(f) for f in sorted(RESULTS.glob("saliency_settings_*.csv"))])
        order = {a: i for i, a in enumerate(["mlp", "cnn", "cnn_gmp"])}
        df = df.sort_values(["arch", "seed"], key=lambda s: s.map(order) if s.name == "arch" else s, kind="stable")
        text = report(df, args.n_grids)
        (RESULTS / "saliency_settings.md").write_text(text)
        print(text)
        return
    data = load_digit_data(random_state=0)
    rows = []
    for arch in args.archs:
        for seed in args.seeds:
            rows += run(arch, seed, data, args.n_grids)
            pd.DataFrame(rows).to_csv(RESULTS / f"saliency_settings_{args.part}.csv", index=False)


if __name__ == "__main__":
    main()

"""VAR (fischer_sc_saliency) on the offline digits protocol, at the package's current defaults.

For every seed (one training of the MLP and of the two CNNs, one draw of grids) the script measures,
with VAR at the package's defaults (read from ``class_competition``'s signature: T = 10, tau = 0.1,
use_abs=False, normalize="joint_max"; C = the four grid classes):

- the grid pointing game (GPG) of gradient, input x gradient, integrated gradients (zero baseline,
  32 Gauss-Legendre steps) and Grad-CAM (CNNs only), with and without VAR, the sparsity-matched
  control and the share of empty maps; the reference's setting (T = 10, tau = 0.01, use_abs=True,
  normalize=None) is scored on the same base maps in a separate column;
- cascading and independent model-parameter randomisation (Spearman of |A| and SSIM, with the
  sparsity-matched control) for input x gradient and integrated gradients;
- the random-logit test (other class from the grid, and from all classes);
- captum's IntegratedGradients as a peer: the largest difference between our base maps and captum's
  on the same grids, and the time ratio (interleaved, same run).

    .venv/bin/python benchmarks/saliency.py                       # 3 seeds, 300 grids
    .venv/bin/python benchmarks/saliency.py --seeds 0 --n-grids 100 --quick
    .venv/bin/python benchmarks/saliency.py --archs mlp cnn --part a   # parts in parallel, then:
    .venv/bin/python benchmarks/saliency.py --merge                    # the report of every part

The CNNs are ``"cnn"`` (a flattened linear read-out: its logits are nearly a sum of one score per
grid cell) and ``"cnn_gmp"`` (global max pooling); ``benchmarks/saliency_sweep.py`` and
``benchmarks/saliency_settings.py`` compare the settings.
"""

from __future__ import annotations

import argparse
import inspect
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fischer_sc.metrics import localisation_mass
from fischer_sc_saliency import (
    CaptumBase,
    canvas_accuracy,
    class_competition,
    grid_pointing_game,
    load_digit_data,
    make_digit_grids,
    model_randomisation,
    random_logit,
    train_digits_model,
)
from fischer_sc_saliency._eval import _sparsify_like
from fischer_sc_saliency._model import frozen
from fischer_sc_saliency._var import competitor_maps

IG_STEPS = 32
SETTING_KEYS = ("temperature", "tau", "use_abs", "normalize")
# The package's defaults, read from the code so the report always states what it measured.
DEFAULTS = {k: inspect.signature(class_competition).parameters[k].default for k in SETTING_KEYS}
# The reference's setting (the spec's digits protocol), scored on the same base maps for comparison.
REF = {"temperature": 10.0, "tau": 0.01, "use_abs": True, "normalize": None}


def bases(arch: str) -> dict[str, tuple[object, dict | None]]:
    out = {
        "gradient": ("gradient", None),
        "input_x_gradient": ("input_x_gradient", None),
        "integrated_gradients": ("integrated_gradients", {"n_steps": IG_STEPS}),
    }
    if arch.startswith("cnn"):
        out["grad_cam"] = ("grad_cam", None)
    return out


def pointing(model, grids, base, kw) -> dict[str, float]:
    """GPG of base, VAR and the sparsity-matched control for both settings, from one computation of the base maps."""
    x = torch.from_numpy(grids.x)
    with frozen(model):
        maps = torch.cat(
            [
                competitor_maps(model, x[i : i + 64], grids.classes[i : i + 64], base=base, base_kwargs=kw)
                for i in range(0, len(x), 64)
            ]
        )
    regions = np.asarray(grids.regions, dtype=bool)
    out = {}
    for tag, setting in (("", DEFAULTS), ("ref_", REF)):
        score = {"base": [], "var": [], "control": [], "empty": []}
        for j in range(maps.shape[1]):
            a = maps[:, j].sum(1).numpy()
            v = class_competition(maps, j, **setting)[0].sum(1).numpy()
            ctrl = _sparsify_like(np.maximum(a, 0), np.maximum(v, 0))
            for key, m in (("base", a), ("var", v), ("control", ctrl)):
                score[key].append(localisation_mass(m, regions[j]))
            score["empty"].append(np.maximum(v, 0).reshape(len(v), -1).sum(1) == 0)
        if not tag:
            out["gpg_base"] = float(np.mean(score["base"]))
        out |= {f"{tag}gpg_var": float(np.mean(score["var"])), f"{tag}gpg_control": float(np.mean(score["control"]))}
        out[f"{tag}empty_var"] = float(np.mean(score["empty"]))
    return out


def ig_peer(model, grids, repeats: int = 3) -> dict[str, float]:
    """Our IG base maps vs captum's on the same grids and classes: max |difference| and time ratio (interleaved)."""
    x = torch.from_numpy(grids.x)
    times = {"ours": [], "captum": []}
    maps = {}
    peer = CaptumBase("IntegratedGradients", n_steps=IG_STEPS, internal_batch_size=256)
    with frozen(model):
        for _ in range(repeats):
            for name, base, kw in (
                ("ours", "integrated_gradients", {"n_steps": IG_STEPS}),
                ("captum", peer, None),
            ):
                t = time.perf_counter()
                maps[name] = competitor_maps(model, x, grids.classes, base=base, base_kwargs=kw)
                times[name].append(time.perf_counter() - t)
    scale = maps["captum"].abs().max().item()
    return {
        "max_abs_diff": (maps["ours"] - maps["captum"]).abs().max().item(),
        "max_abs_diff_rel": (maps["ours"] - maps["captum"]).abs().max().item() / scale,
        "time_ours_s": float(np.median(times["ours"])),
        "time_captum_s": float(np.median(times["captum"])),
    }


def run_arch(seed: int, arch: str, data, args) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    gpg, mprt, rlt, peer = [], [], [], []
    t = time.perf_counter()
    epochs = args.epochs_mlp if arch == "mlp" else args.epochs_cnn
    lr = 1e-3 if arch == "mlp" else 3e-3
    model = train_digits_model(arch, data, epochs=epochs, lr=lr, random_state=seed)
    acc = canvas_accuracy(model, data.test_images, data.test_labels)
    grids = make_digit_grids(model, data.test_images, data.test_labels, n_grids=args.n_grids, random_state=seed)
    print(f"seed {seed} {arch}: accuracy {acc:.3f}, trained in {time.perf_counter() - t:.0f} s", flush=True)
    for name, (base, kw) in bases(arch).items():
        t = time.perf_counter()
        r = pointing(model, grids, base, kw)
        if name == "input_x_gradient":  # cheap: the plugin's own grid_pointing_game at its defaults must agree
            own = grid_pointing_game(model, grids, base=base, base_kwargs=kw, progress=False)
            if not np.allclose([own.base, own.var, own.control], [r["gpg_base"], r["gpg_var"], r["gpg_control"]]):
                msg = f"grid_pointing_game disagrees with the benchmark's scoring: {own} vs {r}"
                raise RuntimeError(msg)
        gpg.append(
            {"seed": seed, "arch": arch, "accuracy": acc, "base": name} | r | {"time_s": time.perf_counter() - t}
        )
        print(
            f"  GPG {name:22s} {r['gpg_base']:.3f} -> {r['gpg_var']:.3f} (control {r['gpg_control']:.3f}; "
            f"reference setting {r['ref_gpg_var']:.3f}) {time.perf_counter() - t:.0f} s",
            flush=True,
        )
    sub = grids.x[: args.n_sanity], grids.classes[: args.n_sanity]
    for name in ("input_x_gradient", "integrated_gradients"):
        base, kw = bases(arch)[name]
        t = time.perf_counter()
        for mode in ("cascading", "independent"):
            df = model_randomisation(
                model, *sub, mode=mode, base=base, base_kwargs=kw, progress=False, random_state=seed, **DEFAULTS
            )
            n_full = df["n_layers"].max()
            for _, row in df.iterrows():
                full = mode == "cascading" and row["n_layers"] == n_full
                mprt.append({"seed": seed, "arch": arch, "base": name, "full": full} | row.to_dict())
        for other in ("in_set", "any"):
            rl = random_logit(
                model, *sub, sub[1][:, 0], other=other, base=base, base_kwargs=kw, random_state=seed, **DEFAULTS
            )
            for _, row in rl.iterrows():
                rlt.append({"seed": seed, "arch": arch, "base": name} | row.to_dict())
        print(f"  sanity checks {name}: {time.perf_counter() - t:.0f} s", flush=True)
    if not args.quick:
        few = make_digit_grids(model, data.test_images, data.test_labels, n_grids=50, random_state=seed)
        peer.append({"seed": seed, "arch": arch} | ig_peer(model, few))
        print(f"  captum peer: {peer[-1]}", flush=True)
    return gpg, mprt, rlt, peer


def fmt(values: pd.Series) -> str:
    return f"{values.mean():.3f} ± {values.std(ddof=0):.3f}" if len(values) > 1 else f"{values.mean():.3f}"


def setting_text(s: dict) -> str:
    return f"T = {s['temperature']:g}, tau = {s['tau']:g}, use_abs={s['use_abs']}, normalize={s['normalize']!r}"


def report(gpg: pd.DataFrame, mprt: pd.DataFrame, rlt: pd.DataFrame, peer: pd.DataFrame, args) -> str:
    seeds = sorted(int(s) for s in gpg["seed"].unique())
    lines = [
        "# Saliency (VAR) on the offline digits protocol, at the package's defaults",
        "",
        f"`benchmarks/saliency.py` with seeds {seeds}, {args.n_grids} grids per seed, MLP {args.epochs_mlp} epochs, "
        f"CNNs {args.epochs_cnn} epochs (lr 3e-3); {platform.machine()}, torch {torch.__version__}, 1 torch thread. "
        f"VAR: C = the four grid classes, **the package's defaults: {setting_text(DEFAULTS)}**. Columns marked "
        f"'reference' use the reference's setting ({setting_text(REF)}) on the same base maps. IG: zero baseline, "
        f"{IG_STEPS} Gauss-Legendre steps. Mean ± standard deviation over seeds (one training and one grid draw each); "
        "'min' is the smallest value over seeds.",
        "",
        "## Grid pointing game (higher is better; chance 0.25)",
        "",
        "'control' is the base map's positive part cut to as many pixels as the VAR map keeps (largest first): VAR "
        "does more than sparsify only where it beats the control.",
        "",
        "| model | accuracy | base method | GPG base | VAR (defaults) | gain | min gain | control | VAR − control (min) "
        "| empty VAR maps | VAR, reference | gain, reference (min) | reference − its control |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (arch, base), g in gpg.groupby(["arch", "base"], sort=False):
        gain, over = g["gpg_var"] - g["gpg_base"], g["gpg_var"] - g["gpg_control"]
        rgain, rover = g["ref_gpg_var"] - g["gpg_base"], g["ref_gpg_var"] - g["ref_gpg_control"]
        lines.append(
            f"| {arch} | {fmt(g['accuracy'])} | {base} | {fmt(g['gpg_base'])} | {fmt(g['gpg_var'])} | {gain.mean():+.3f} | "
            f"{gain.min():+.3f} | {fmt(g['gpg_control'])} | {over.mean():+.3f} ({over.min():+.3f}) | "
            f"{g['empty_var'].mean():.3f} | {fmt(g['ref_gpg_var'])} | {rgain.mean():+.3f} ({rgain.min():+.3f}) | "
            f"{rover.mean():+.3f} |"
        )
    lines += [
        "",
        f"## Model-parameter randomisation at the defaults ({args.n_sanity} grids x 4 classes; lower is better)",
        "",
        "Cascading re-initialises the layers from the output down, one more per stage ('full' = every layer); "
        "independent re-initialises one layer at a time. 'control' is the base map cut to the VAR map's number of "
        "non-zeros (largest |A| kept), for the original and the randomised model alike. Pairs with a constant map are "
        "excluded and counted (VAR, summed over seeds; "
        f"{4 * args.n_sanity} pairs per seed). 'VAR − base' and 'VAR − control' are the Spearman "
        "differences, largest (worst) over seeds in brackets.",
        "",
        "| model | base method | mode | layer(s) re-drawn | Spearman abs: base | VAR | control | VAR − base (worst) "
        "| VAR − control (worst) | SSIM: base | VAR | control | excluded (VAR) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (arch, base), g in mprt.groupby(["arch", "base"], sort=False):
        for (mode, _stage), s in g.groupby(["mode", "stage"], sort=False):

            def col(method, c, s=s):
                return s[s["method"] == method].set_index("seed")[c]

            layer, n = s["layer"].iloc[0], int(s["n_layers"].iloc[0])
            label = f"only `{layer}`"
            if mode == "cascading":
                label = f"top {n}, down to `{layer}`" + (" (**full**)" if bool(s["full"].iloc[0]) else "")
            dbase = col("var", "spearman_abs") - col("base", "spearman_abs")
            dctrl = col("var", "spearman_abs") - col("control", "spearman_abs")
            lines.append(
                f"| {arch} | {base} | {mode} | {label} | {fmt(col('base', 'spearman_abs'))} | "
                f"{fmt(col('var', 'spearman_abs'))} | {fmt(col('control', 'spearman_abs'))} | "
                f"{dbase.mean():+.3f} ({dbase.max():+.3f}) | {dctrl.mean():+.3f} ({dctrl.max():+.3f}) | "
                f"{fmt(col('base', 'ssim'))} | {fmt(col('var', 'ssim'))} | {fmt(col('control', 'ssim'))} | "
                f"{int(col('var', 'n_excluded').sum())} |"
            )
    lines += [
        "",
        "## Random-logit test at the defaults (SSIM between the map of the target and of another class; lower is better)",
        "",
        "'in_set': the other class is drawn from the grid's classes; 'any': from all other classes (Sixt et al.), "
        f"a class outside the grid competing with the grid's classes. {args.n_sanity} grids, one target each.",
        "",
        "| model | base method | other | SSIM base | SSIM with VAR | excluded (VAR) |",
        "|---|---|---|---|---|---|",
    ]
    for (arch, base, other), g in rlt.groupby(["arch", "base", "other"], sort=False):
        lines.append(
            f"| {arch} | {base} | {other} | {fmt(g[g['method'] == 'base']['ssim'])} | "
            f"{fmt(g[g['method'] == 'var']['ssim'])} | {int(g[g['method'] == 'var']['n_excluded'].sum())} |"
        )
    if len(peer):
        lines += [
            "",
            "## Our integrated gradients against captum's (same model, baseline, steps; 50 grids x 4 classes)",
            "",
            "Base maps (VAR only re-weights them). Largest difference over seeds; times are medians of 3 interleaved runs.",
            "",
            "| model | max abs difference | max abs difference / max abs map | time ours (s) | time captum (s) | ratio ours / captum |",
            "|---|---|---|---|---|---|",
        ]
        for arch, g in peer.groupby("arch", sort=False):
            lines.append(
                f"| {arch} | {g['max_abs_diff'].max():.1e} | {g['max_abs_diff_rel'].max():.1e} | "
                f"{g['time_ours_s'].median():.2f} | {g['time_captum_s'].median():.2f} | "
                f"{(g['time_ours_s'] / g['time_captum_s']).median():.2f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--archs", nargs="+", default=["mlp", "cnn", "cnn_gmp"], choices=["mlp", "cnn", "cnn_gmp"])
    p.add_argument("--n-grids", type=int, default=300)
    p.add_argument("--n-sanity", type=int, default=100, help="grids used for the randomisation checks")
    p.add_argument("--epochs-mlp", type=int, default=30)
    p.add_argument("--epochs-cnn", type=int, default=10)
    p.add_argument("--quick", action="store_true", help="skip the captum comparison")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "saliency.md")
    p.add_argument("--part", default=None, help="also keep this run's rows in results/saliency_<table>_<part>.csv")
    p.add_argument("--merge", action="store_true", help="report every stored part instead of running")
    args = p.parse_args()
    torch.set_num_threads(1)  # tiny models: more threads only contend on a shared machine
    names = ("gpg", "mprt", "rlt", "peer")
    store = args.out.parent
    order = {"mlp": 0, "cnn": 1, "cnn_gmp": 2}
    if args.merge:
        frames = []
        for name in names:
            files = sorted(store.glob(f"saliency_{name}_*.csv"))
            frames.append(pd.concat([pd.read_csv(f) for f in files]) if files else pd.DataFrame())
        frames = [
            f.sort_values(["arch", "seed"], key=lambda s: s.map(order) if s.name == "arch" else s, kind="stable")
            if len(f)
            else f
            for f in frames
        ]
        text = report(*frames, args)
        args.out.write_text(text)
        print(text)
        return
    data = load_digit_data(random_state=0)  # the spec's fixed split; the seed varies training and grids
    parts = []
    for seed in args.seeds:
        for arch in args.archs:  # the rows are rewritten after every model, so a stopped run keeps what it did
            parts.append(run_arch(seed, arch, data, args))
            frames = [pd.DataFrame([r for part in parts for r in part[i]]) for i in range(4)]
            if args.part is not None:
                for name, frame in zip(names, frames, strict=True):
                    frame.to_csv(store / f"saliency_{name}_{args.part}.csv", index=False)
            else:
                args.out.write_text(report(*frames, args))
    if args.part is None:
        print(args.out.read_text())


if __name__ == "__main__":
    main()

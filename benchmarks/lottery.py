"""Plant 'n' Seek benchmark: can pruners find a planted winning ticket?

For each task (ReLU, Circle, Helix) a sparse target ticket is planted in a random host with
non-zero biases (``plant_n_seek``). Each pruner returns a mask at each density, including the
planted ticket's own density; the table reports mask recovery against the planted mask
(precision, recall, F1), the realised density and the task score on the test split (Circle:
accuracy, higher is better; ReLU/Helix: rescaled MSE, lower is better):

- pruners at initialisation (random, magnitude, SNIP, GraSP, SynFlow with 100 rounds), then
  ``--post-epochs`` epochs of Adam on the kept weights (weak tickets);
- IMP (magnitude, rewinding), ``--imp-levels`` levels of ``--imp-epochs`` epochs, then the same
  post-training;
- edge-popup (frozen weights, no training) with and without annealing, ``--ep-epochs`` epochs.

The reference rows are the planted ticket itself (its test score, untrained) and the dense host
trained like the weak tickets. A second table runs edge-popup with the non-zero-bias
initialisations on Circle (depth 5, width 100), and a peer check compares our global magnitude
mask with ``torch.nn.utils.prune.global_unstructured`` (equality and time, interleaved).

    python benchmarks/lottery.py                      # depth 5, width 100, one seed (~10 min, 2 cores)
    python benchmarks/lottery.py --depths 4 6 10 --widths 50 100 --seeds 0 1 2   # the spec's full grid
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils import prune

import fischer_sc as fs
from fischer_sc.core.pruning import kept_count, magnitude_scores, score_masks
from fischer_sc_lottery import (
    edge_popup,
    he_bias,
    he_zero_bias,
    imp,
    looks_linear,
    make_task,
    mlp_from_arrays,
    plant_n_seek,
    prune_at_init,
    task_score,
    to_torch,
    train_masked,
)

PRUNERS = ("random", "magnitude", "snip", "grasp", "synflow")
HIGHER_IS_BETTER = {"circle": True, "relu": False, "helix": False}


def predict(model: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        p = next(model.buffers(), None)
        dtype = p.dtype if p is not None else next(model.parameters()).dtype
        return model(torch.as_tensor(X, dtype=dtype)).double().numpy()


def row(task, depth, width, seed, method, target, masks, true_mask, score, seconds) -> dict:
    rec = fs.metrics.mask_recovery(masks, true_mask) if masks is not None else None
    return {
        "task": task,
        "depth": depth,
        "width": width,
        "seed": seed,
        "method": method,
        "target": target,
        "density": rec["density"] if rec else float("nan"),
        "precision": rec["precision"] if rec else float("nan"),
        "recall": rec["recall"] if rec else float("nan"),
        "f1": rec["f1"] if rec else float("nan"),
        "score": score,
        "seconds": seconds,
    }


def run_grid(args) -> list[dict]:
    rows = []
    for task in args.tasks:
        for depth in args.depths:
            for width in args.widths:
                for seed in args.seeds:
                    net = plant_n_seek(task, depth, width, random_state=seed)
                    Xtr, ytr, Xte, yte = make_task(task, n=args.n, random_state=seed)
                    data = (Xtr, ytr)
                    ticket = net.density
                    rows.append(
                        row(
                            task,
                            depth,
                            width,
                            seed,
                            "planted ticket",
                            ticket,
                            net.true_mask,
                            net.true_mask,
                            task_score(task, net.planted_forward(Xte), yte),
                            0.0,
                        )
                    )
                    t = time.perf_counter()
                    dense, _ = train_masked(
                        net, [np.ones_like(m) for m in net.true_mask], data, epochs=args.post_epochs, random_state=seed
                    )
                    rows.append(
                        row(
                            task,
                            depth,
                            width,
                            seed,
                            "dense host, trained",
                            1.0,
                            None,
                            None,
                            task_score(task, predict(dense, Xte), yte),
                            time.perf_counter() - t,
                        )
                    )
                    densities = [ticket, *args.densities]
                    for d in densities:
                        label = "ticket" if d == ticket else f"{d:g}"
                        for method in PRUNERS:
                            t = time.perf_counter()
                            masks = prune_at_init(net, method=method, density=d, data=data, random_state=seed)
                            model, _ = train_masked(net, masks, data, epochs=args.post_epochs, random_state=seed)
                            s = task_score(task, predict(model, Xte), yte)
                            rows.append(
                                row(
                                    task,
                                    depth,
                                    width,
                                    seed,
                                    method,
                                    d,
                                    masks,
                                    net.true_mask,
                                    s,
                                    time.perf_counter() - t,
                                )
                            )
                            print(
                                f"{task} L={depth} w={width} seed={seed} {method:>9} density={label:>7}: score {s:.4g}",
                                flush=True,
                            )
                        t = time.perf_counter()
                        res = imp(
                            net,
                            data,
                            density=d,
                            levels=args.imp_levels,
                            pre_epochs=args.imp_epochs,
                            post_epochs=args.post_epochs,
                            random_state=seed,
                        )
                        rows.append(
                            row(
                                task,
                                depth,
                                width,
                                seed,
                                "imp",
                                d,
                                res.mask,
                                net.true_mask,
                                task_score(task, predict(res.model, Xte), yte),
                                time.perf_counter() - t,
                            )
                        )
                        for name, kw in (("edge-popup", {}), ("edge-popup, annealed", {"anneal": "power"})):
                            t = time.perf_counter()
                            res = edge_popup(
                                net,
                                data,
                                density=d,
                                epochs=args.ep_epochs,
                                batch_size=args.ep_batch,
                                random_state=seed,
                                **kw,
                            )
                            s = task_score(task, predict(res.model, Xte), yte)
                            rows.append(
                                row(
                                    task,
                                    depth,
                                    width,
                                    seed,
                                    name,
                                    d,
                                    res.mask,
                                    net.true_mask,
                                    s,
                                    time.perf_counter() - t,
                                )
                            )
                        print(
                            f"{task} L={depth} w={width} seed={seed} imp/edge-popup density={label}: done", flush=True
                        )
    return rows


def run_bias_arms(args) -> list[dict]:
    """Edge-popup on Circle with the non-zero-bias initialisations (tabular MLP, depth 5, width 100)."""
    Xtr, ytr, Xte, yte = make_task("circle", n=args.n, random_state=0)
    widths = [2, 100, 100, 100, 4]
    inits = {
        "he_zero_bias": lambda d, sc: he_zero_bias(widths, scaled=sc, density=d),
        "he_bias(0.05)": lambda d, sc: he_bias(widths, beta=0.05, scaled=sc, density=d),
        "looks_linear zero": lambda d, sc: looks_linear(widths, bias="zero", scaled=sc, density=d),
        "looks_linear iid": lambda d, sc: looks_linear(widths, bias="iid", scaled=sc, density=d),
        "looks_linear dependent": lambda d, sc: looks_linear(widths, bias="dependent", scaled=sc, density=d),
    }
    rows = []
    for d in args.bias_densities:
        for name, make in inits.items():
            for rescale in (False, True):
                t = time.perf_counter()
                w, b = make(d, args.scaled)
                res = edge_popup(
                    mlp_from_arrays(w, b),
                    (Xtr, ytr),
                    density=d,
                    epochs=args.ep_epochs,
                    batch_size=args.ep_batch,
                    rescale=rescale,
                    bias_scores="joint",
                    loss="cross_entropy",
                )
                acc = task_score("circle", predict(res.model, Xte), yte)
                rows.append(
                    {
                        "init": name,
                        "density": d,
                        "rescale": rescale,
                        "accuracy": acc,
                        "weight density": res.density,
                        "joint density": res.joint_density,
                        "seconds": time.perf_counter() - t,
                    }
                )
                print(f"bias arm {name:>22} density={d:g} rescale={rescale}: accuracy {acc:.3f}", flush=True)
    return rows


def peer_check(repeats: int = 5) -> dict:
    """Our global magnitude mask vs torch.nn.utils.prune.global_unstructured (L1), same host, interleaved timing."""
    net = plant_n_seek("circle", 5, 100, random_state=0)
    n = sum(m.size for m in net.true_mask)
    ours_t, torch_t, equal = [], [], True
    for d in (net.density, 0.01, 0.1, 0.5):
        for _ in range(repeats):
            model = to_torch(net)
            lins = [m for m in model if isinstance(m, torch.nn.Linear)]
            t = time.perf_counter()
            ours = score_masks(magnitude_scores([lin.weight for lin in lins]), d)
            ours_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            prune.global_unstructured(
                [(lin, "weight") for lin in lins], pruning_method=prune.L1Unstructured, amount=n - kept_count(n, d)
            )
            torch_t.append(time.perf_counter() - t)
            equal &= all(torch.equal(m, lin.weight_mask.bool()) for m, lin in zip(ours, lins, strict=True))
    return {"equal": equal, "ours_ms": 1e3 * float(np.median(ours_t)), "torch_ms": 1e3 * float(np.median(torch_t))}


def fmt(x) -> str:
    if isinstance(x, float):
        if np.isnan(x):
            return "–"
        return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"
    return str(x)


def summarise(rows: list[dict]) -> list[dict]:
    """Mean over seeds of each (task, depth, width, method, target)."""
    keys = {}
    for r in rows:
        keys.setdefault((r["task"], r["depth"], r["width"], r["method"], r["target"]), []).append(r)
    out = []
    for (task, depth, width, method, target), rs in keys.items():
        m = {
            k: float(np.mean([r[k] for r in rs])) for k in ("density", "precision", "recall", "f1", "score", "seconds")
        }
        out.append(
            {"task": task, "depth": depth, "width": width, "method": method, "target": target, "seeds": len(rs), **m}
        )
    return out


def markdown(summary, bias_rows, peer, args, total) -> str:
    lines = [
        "# Lottery benchmark (Plant 'n' Seek)",
        "",
        f"`python benchmarks/lottery.py {' '.join(args.argv)}`".replace(" `", "`"),
        "",
        f"Machine: {platform.machine()}, {platform.system()}, torch {torch.__version__}, 1 torch thread, shared with other jobs; total {total / 60:.1f} min.",
        f"Data: n = {args.n} per task (90 % train), noise 0.01. Weak tickets: {args.post_epochs} epochs of Adam (lr 1e-3, batch 64) on the kept weights.",
        f"IMP: {args.imp_levels} levels x {args.imp_epochs} epochs, rewinding, then {args.post_epochs} epochs. "
        f"Edge-popup: {args.ep_epochs} epochs, SGD lr 0.1, momentum 0.9, batch {args.ep_batch}, cosine lr, separate bias scores; annealed = density^(t/T).",
        "",
        "Score: Circle test accuracy (higher is better), ReLU/Helix test rescaled MSE (lower is better).",
        "`target` is the requested density (the first block per task is the planted ticket's own density),",
        "`density` the realised weight density, precision/recall/F1 the recovery of the planted weights.",
        "",
    ]
    for task in dict.fromkeys(r["task"] for r in summary):
        for depth, width in dict.fromkeys((r["depth"], r["width"]) for r in summary if r["task"] == task):
            lines += [f"## {task}, depth {depth}, width {width}", ""]
            lines += [
                "| method | target | density | precision | recall | F1 | score | s |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for r in summary:
                if (r["task"], r["depth"], r["width"]) == (task, depth, width):
                    lines.append(
                        f"| {r['method']} | {fmt(r['target'])} | {fmt(r['density'])} | {fmt(r['precision'])} | {fmt(r['recall'])} | {fmt(r['f1'])} | {fmt(r['score'])} | {r['seconds']:.1f} |"
                    )
            lines.append("")
    if bias_rows:
        lines += [
            "## Edge-popup with non-zero-bias initialisations (Circle, MLP 2-100-100-100-4)",
            "",
            f"Joint weight+bias scores, {args.ep_epochs} epochs, {'scaled' if args.scaled else 'unscaled'} weights; accuracy on the test split.",
            "",
            "| init | density | rescale | accuracy | weight density | joint density | s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in bias_rows:
            lines.append(
                f"| {r['init']} | {r['density']:g} | {r['rescale']} | {r['accuracy']:.3f} | {fmt(r['weight density'])} | {fmt(r['joint density'])} | {r['seconds']:.1f} |"
            )
        lines.append("")
    if peer:
        lines += [
            "## Peer check: global magnitude mask vs `torch.nn.utils.prune.global_unstructured`",
            "",
            f"Circle host (depth 5, width 100), densities ticket/0.01/0.1/0.5, medians of interleaved runs: masks equal: **{peer['equal']}**; "
            f"ours {peer['ours_ms']:.2f} ms, torch {peer['torch_ms']:.2f} ms (ratio {peer['ours_ms'] / peer['torch_ms']:.2f}x; torch's also installs the mask as a forward pre-hook).",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="*", default=["relu", "circle", "helix"])
    parser.add_argument("--depths", nargs="+", type=int, default=[5])
    parser.add_argument("--widths", nargs="+", type=int, default=[100])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--densities", nargs="+", type=float, default=[0.01, 0.1, 0.5])
    parser.add_argument("--n", type=int, default=5_000)
    parser.add_argument("--post-epochs", type=int, default=10)
    parser.add_argument("--imp-levels", type=int, default=3)
    parser.add_argument("--imp-epochs", type=int, default=2)
    parser.add_argument("--ep-epochs", type=int, default=5)
    parser.add_argument("--ep-batch", type=int, default=64)
    parser.add_argument("--bias-densities", nargs="*", type=float, default=[0.1, 0.01])
    parser.add_argument("--scaled", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "lottery.md")
    args = parser.parse_args(argv)
    args.argv = argv if argv is not None else __import__("sys").argv[1:]
    torch.set_num_threads(1)  # tiny networks: threads only add overhead on a shared machine
    start = time.perf_counter()
    peer = peer_check()
    print(f"peer check: {peer}", flush=True)
    rows = run_grid(args)
    bias_rows = run_bias_arms(args) if args.bias_densities else []
    total = time.perf_counter() - start
    text = markdown(summarise(rows), bias_rows, peer, args, total)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()

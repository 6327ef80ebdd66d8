"""First-call and warm times of ``fs.tl.dtsne`` over n, beside openTSNE, each in a fresh process.

A new user pays numba's compilation once, on the first call after installation; every later
process loads the compiled kernels from numba's on-disk cache. This script measures both:

* ``cold``: a fresh process with an empty numba cache (``NUMBA_CACHE_DIR`` pointed at a new
  temporary directory, so the real cache next to the sources is neither read nor touched);
* ``warm``: a second fresh process on the same, now filled, cache directory;
* ``opentsne``: openTSNE in a fresh process (Cython, nothing to compile), same threads.

Each cell of a row runs interleaved (cold, warm, openTSNE for one n, then the next n) so that a
change of machine load hits all of them alike. Wall and CPU seconds of the call itself (import
excluded, reported apart), and with ``--profile`` the compile time of every numba dispatcher
compiled in the cold run (the ``numba:compile`` event; callees that a kernel inlines or calls are
compiled inside their caller's event and listed with depth > 0).

    python benchmarks/first_call.py                             # n in 500 1000 2000 2001 3000 5000
    python benchmarks/first_call.py --sizes 2000 --profile      # where the compile time goes
    python benchmarks/first_call.py --sizes 2000 --threads 1

Results are appended to ``benchmarks/results/first_call.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "first_call.md"

CHILD = r"""
import json, os, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import numpy as np
method, n, dims, threads, profile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
events = []
# Compile events are counted in every run: a warm run that compiles has missed the cache.
from numba.core import event

class Timer(event.Listener):
    def __init__(self):
        self.stack = []

    def on_start(self, ev):
        self.stack.append(time.perf_counter())

    def on_end(self, ev):
        start = self.stack.pop()
        d = ev.data["dispatcher"]
        events.append({
            "name": d.py_func.__module__.rsplit(".", 1)[-1] + "." + d.py_func.__qualname__,
            "args": str(ev.data["args"]),
            "seconds": time.perf_counter() - start,
            "depth": len(self.stack),
        })

event.register("numba:compile", Timer())
# Isotropic Gaussian clusters of unequal sizes in `dims` dimensions (as benchmarks/dtsne_sweep.py).
rng = np.random.default_rng(0)
parts = []
for c, s in enumerate((n // 7, 2 * n // 7, n - 3 * (n // 7))):
    parts.append(rng.uniform(0.0, 50.0, dims) + rng.normal(size=(s, dims)))
x = np.vstack(parts).astype(np.float32)
if method == "dtsne":
    import anndata as ad
    import fischer_sc as fs
    a = ad.AnnData(x)
    t_import = time.perf_counter() - t0
    t, c = time.perf_counter(), time.process_time()
    fs.tl.dtsne(a, use_rep="X", n_jobs=threads, random_state=0, progress=False)
    extra = {"repulsion": a.uns["dtsne"]["repulsion"]}
elif method == "jedi":
    import anndata as ad
    import fischer_sc as fs
    a = ad.AnnData(x)
    a.obs["prior"] = np.repeat(np.arange(3), (n // 7, 2 * n // 7, n - 3 * (n // 7))).astype(str)
    a.obs["prior"] = a.obs["prior"].astype("category")
    t_import = time.perf_counter() - t0
    t, c = time.perf_counter(), time.process_time()
    fs.tl.factor_out(a, "prior", method="jedi", use_rep="X", n_jobs=threads, random_state=0, progress=False)
    extra = {}
else:
    from openTSNE import TSNE
    t_import = time.perf_counter() - t0
    t, c = time.perf_counter(), time.process_time()
    TSNE(n_jobs=threads, random_state=0).fit(x)
    extra = {}
out = {"wall": time.perf_counter() - t, "cpu": time.process_time() - c, "import": t_import, **extra}
out["compiled"] = sum(1 for e in events if e["depth"] == 0)
out["compile_seconds"] = sum(e["seconds"] for e in events if e["depth"] == 0)
if profile:
    out["events"] = events
print(json.dumps(out))
"""


def run(method: str, n: int, dims: int, threads: int, cache_dir: str, profile: bool, src: str | None = None) -> dict:
    """One measurement in a fresh process; the numba cache lives in ``cache_dir``; ``src`` goes first on PYTHONPATH."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env.update(
        NUMBA_CACHE_DIR=cache_dir,
        NUMBA_NUM_THREADS=str(threads),
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(threads),
    )
    cmd = [sys.executable, "-c", CHILD, method, str(n), str(dims), str(threads), "1" if profile else "0"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(r: dict, key: str) -> str:
    return "err" if "error" in r else f"{r[key]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 2001, 3000, 5000])
    parser.add_argument("--dims", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--method", choices=("dtsne", "jedi"), default="dtsne")
    parser.add_argument("--profile", action="store_true", help="per-dispatcher compile times of the cold runs")
    parser.add_argument(
        "--no-cold",
        action="store_true",
        help="warm runs only, on one cache shared by all sizes (primed by an unreported run per size)",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip openTSNE")
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="LABEL=SRC",
        help="with --no-cold: time the package found in SRC (e.g. a `git archive` export's src/) too, "
        "interleaved with the others at every n (before/after comparisons); repeatable",
    )
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--quality", type=int, default=0, metavar="SEEDS", help="with --tree: quality table over this many data seeds"
    )
    args = parser.parse_args()
    if args.tree and args.quality:
        quality(args)
        return
    if args.tree:
        trees(args)
        return

    load = os.getloadavg()
    rows, profiles = [], []
    shared = tempfile.TemporaryDirectory(prefix="numba_cache_")  # --no-cold: one cache for every n
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="numba_cache_") as fresh:
            if args.no_cold:
                cold = {}
                run(args.method, n, args.dims, args.threads, shared.name, False)  # compiles what this n needs
                warm = run(args.method, n, args.dims, args.threads, shared.name, False)
            else:
                cold = run(args.method, n, args.dims, args.threads, fresh, args.profile)
                warm = run(args.method, n, args.dims, args.threads, fresh, False)
        no_peer = {"error": "skipped"}
        peer = no_peer if args.no_peer else run("opentsne", n, args.dims, args.threads, tempfile.gettempdir(), False)
        rows.append((n, cold, warm, peer))
        if args.profile and "events" in cold:
            profiles.append((n, cold))
        msg = {"n": n, "cold": {k: v for k, v in cold.items() if k != "events"}, "warm": warm, "opentsne": peer}
        print(json.dumps(msg), flush=True)
    shared.cleanup()
    load_end = os.getloadavg()

    lines = [
        f"\n## {args.method}, {args.dims}-D, {args.threads} threads "
        f"(load average {load[0]:.2f} at start, {load_end[0]:.2f} at end)\n",
        f"Command: `python benchmarks/first_call.py --sizes {' '.join(map(str, args.sizes))} "
        f"--dims {args.dims} --threads {args.threads} --method {args.method}"
        f"{' --profile' if args.profile else ''}{' --no-cold' if args.no_cold else ''}"
        f"{' --no-peer' if args.no_peer else ''}`\n",
        "Seconds of the call (import apart). cold: empty numba cache; cold compile: wall seconds inside "
        "numba's top-level compilations; warm: a later process on the filled cache (warm compiles: "
        "dispatchers it compiled, 0 when every kernel came from the cache); ratio: warm wall / openTSNE wall.\n",
        "| n | repulsion | cold wall | cold CPU | cold compile | warm wall | warm CPU | warm compiles | import (warm) "
        "| openTSNE wall | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, cold, warm, peer in rows:
        ratio = "-" if "error" in warm or "error" in peer else f"{warm['wall'] / peer['wall']:.2f}"
        cold_wall = "-" if not cold else fmt(cold, "wall")
        cold_cpu = "-" if not cold else fmt(cold, "cpu")
        cold_compile = "-" if not cold else fmt(cold, "compile_seconds")
        lines.append(
            f"| {n} | {warm.get('repulsion', '-')} | {cold_wall} | {cold_cpu} | {cold_compile} | {fmt(warm, 'wall')} | "
            f"{fmt(warm, 'cpu')} | {warm.get('compiled', '-')} | {fmt(warm, 'import')} | {fmt(peer, 'wall')} | {ratio} |"
        )
    for n, cold in profiles:
        lines.append(f"\nCompile time of the cold run at n = {n} (top-level total {cold['compile_seconds']:.1f} s):\n")
        lines.append("| dispatcher | depth | seconds | argument types |")
        lines.append("|---|---|---|---|")
        for e in sorted(cold["events"], key=lambda e: -e["seconds"]):
            if e["seconds"] >= 0.05:
                lines.append(f"| {e['name']} | {e['depth']} | {e['seconds']:.2f} | `{e['args'][:90]}` |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        if not RESULTS.exists():
            RESULTS.write_text(
                "# First call and warm times of dtSNE, beside openTSNE\n\nWritten by `benchmarks/first_call.py`.\n"
            )
        with RESULTS.open("a") as fh:
            fh.write(text)


QUALITY_CHILD = r"""
import json, sys
import numpy as np
import anndata as ad
import fischer_sc as fs
for name in ("2d", "g3s", "g10d", "g3d", "50d_unequal"):
    for seed in range(int(sys.argv[1])):
        if name == "50d_unequal":  # benchmarks/results/dtsne_sweep.md: sizes 300 / 700 / 1400, means ~ U(0, 50)^50
            rng = np.random.default_rng(seed)
            means = rng.uniform(0.0, 50.0, (3, 50))
            sizes = (300, 700, 1400)
            x = np.vstack([m + rng.normal(size=(s, 50)) for m, s in zip(means, sizes)]).astype(np.float32)
        else:
            x = np.asarray(fs.datasets.gaussian_blobs(name, random_state=seed).X)
        a = ad.AnnData(x)
        fs.tl.dtsne(a, use_rep="X", n_jobs=1, random_state=0, progress=False)
        y, xx = np.asarray(a.obsm["X_dtsne"], dtype=np.float64), x.astype(np.float64)
        print(json.dumps({
            "data": name, "seed": seed, "kl": float(a.uns["dtsne"]["kl_divergence"]),
            "recall": fs.metrics.knn_recall(xx, y, k=15), "trust": fs.metrics.trustworthiness(xx, y, k=15),
            "density": fs.metrics.density_correlation(xx, y, k=15),
            "global": fs.metrics.global_distance_correlation(xx, y, random_state=0),
        }), flush=True)
"""


def quality(args: argparse.Namespace) -> None:
    """Quality of each ``--tree`` on the blob presets and the 50-D unequal-size set, over data seeds."""
    import pandas as pd

    frames = []
    for label, src in (t.split("=", 1) for t in args.tree):
        env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.update(NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        proc = subprocess.run(
            [sys.executable, "-c", QUALITY_CHILD, str(args.quality)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        frames.append(pd.DataFrame(rows).assign(tree=label))
    data = pd.concat(frames)
    cols = ["kl", "recall", "trust", "density", "global"]
    mean = data.groupby(["data", "tree"], sort=False)[cols].mean()
    sd = data.groupby(["data", "tree"], sort=False)[cols].std()
    names = [t.split("=", 1)[0] for t in args.tree]
    lines = [
        f"\n## Quality of the trees, {args.quality} data seeds (mean, largest sd over the trees in brackets)\n",
        f"Command: `python benchmarks/first_call.py --quality {args.quality} "
        f"{' '.join('--tree ' + t for t in args.tree)}` (dtsne defaults, one thread; KL with each tree's own Z)\n",
        "| data | " + " | ".join(cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    for name in data["data"].unique():
        cells = []
        for c in cols:
            values = " -> ".join(f"{mean.loc[(name, t), c]:.3f}" for t in names)
            cells.append(f"{values} ({max(sd.loc[(name, t), c] for t in names):.3f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        with RESULTS.open("a") as fh:
            fh.write(text)


def trees(args: argparse.Namespace) -> None:
    """Warm runs of several source trees and openTSNE, interleaved at every n (``--tree``)."""
    labelled = [t.split("=", 1) for t in args.tree]
    load = os.getloadavg()
    caches = {label: tempfile.TemporaryDirectory(prefix="numba_cache_") for label, _ in labelled}
    rows = []
    for n in args.sizes:
        row = {}
        for label, src in labelled:
            run(args.method, n, args.dims, args.threads, caches[label].name, False, src)  # primes the cache
            row[label] = run(args.method, n, args.dims, args.threads, caches[label].name, False, src)
        row["openTSNE"] = (
            {"error": "skipped"}
            if args.no_peer
            else run("opentsne", n, args.dims, args.threads, tempfile.gettempdir(), False)
        )
        rows.append((n, row))
        print(json.dumps({"n": n, **row}), flush=True)
    load_end = os.getloadavg()
    names = [label for label, _ in labelled]
    lines = [
        f"\n## {args.method} warm, {args.dims}-D, {args.threads} threads, trees interleaved "
        f"(load average {load[0]:.2f} at start, {load_end[0]:.2f} at end)\n",
        f"Command: `python benchmarks/first_call.py --sizes {' '.join(map(str, args.sizes))} --dims {args.dims} "
        f"--threads {args.threads} --method {args.method} {' '.join('--tree ' + t for t in args.tree)}"
        f"{' --no-peer' if args.no_peer else ''}`\n",
        "Seconds of the call in a later process (filled numba cache, import apart), wall / CPU; "
        "ratio: wall / openTSNE wall.\n",
        "| n | repulsion | "
        + " | ".join(f"{t} wall | {t} CPU | {t} ratio" for t in names)
        + " | openTSNE wall | openTSNE CPU |",
        "|---|---|" + "---|---|---|" * len(names) + "---|---|",
    ]
    for n, row in rows:
        peer = row["openTSNE"]
        cells = []
        for t in names:
            r = row[t]
            ratio = "-" if "error" in r or "error" in peer else f"{r['wall'] / peer['wall']:.2f}"
            cells.append(f"{fmt(r, 'wall')} | {fmt(r, 'cpu')} | {ratio}")
        rep = row[names[-1]].get("repulsion", "-")
        lines.append(f"| {n} | {rep} | " + " | ".join(cells) + f" | {fmt(peer, 'wall')} | {fmt(peer, 'cpu')} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        with RESULTS.open("a") as fh:
            fh.write(text)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

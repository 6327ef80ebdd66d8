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


def run(method: str, n: int, dims: int, threads: int, cache_dir: str, profile: bool) -> dict:
    """One measurement in a fresh process; the numba cache lives in ``cache_dir``."""
    env = dict(os.environ)
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
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

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


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

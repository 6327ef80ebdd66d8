"""fs.tl.factor_out at its defaults beside plain t-SNE (the same engine) and openTSNE: wall and CPU time, interleaved.

Data: the factor-out sweep's generator (``fischer_sc.datasets._factor_out.factor_out_prior``, the
configurations of ``benchmarks/factor_out_sweep.py``) at each ``--sizes`` n. Methods, each in a
fresh child process with ``--threads`` numba / BLAS / OpenMP threads:

* ``factor_out labels``: ``fs.tl.factor_out(adata, "prior", use_rep="X")`` at its defaults
  (``method="auto"`` is ct-SNE for this label prior; linear fit and local correction first);
* ``factor_out features``: the same with the feature prior ``obsm["X_prior"]`` (JEDI);
* ``t-SNE (engine)``: ``fs.tl.dtsne(adata, use_rep="X", pair_scale=None)``, the engine without a prior;
* ``openTSNE``: ``openTSNE.TSNE(n_jobs=threads, random_state=0).fit(x)``;
* with ``--before SRC``: the two factor_out rows again from another source tree (e.g. an
  export of an earlier commit: ``git archive <commit> src | tar -x -C /tmp/before``), labelled
  "(before)", to time a change in the same interleaved run; ``--after SRC`` takes the other rows
  from a frozen copy too (a tree others keep editing would change under a long run).

Each child first runs its method once on 300 points of the same configuration (numba's cached
kernels load, openTSNE's too), then times the real call: wall seconds and CPU seconds (user +
system, less sensitive to other jobs on a shared machine). Rounds interleave every method at
every thread count, so a change in the machine's load hits all alike; the table gives medians
and the ratios of factor_out's medians to the two t-SNE runs.

    NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/factor_out_speed.py --sizes 5000 20000 --threads 1 2 --rounds 2

``--quality`` instead checks that the MNN kernels (``core.embedding._mnn``) leave the sweep's
figures as they were (in this process, one thread): on the given sizes and configurations it
runs the defaults with the MNN round as kernels (now), as the former numpy passes
(``_correct._mnn_moves_numpy``), and as the numpy passes with the corrected data moved by one
float64 ulp (how far rounding alone moves the figures), and prints the sweep's "prior" and
"kept" measures (``factor_out_sweep.visibility``) with the correction's record.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/factor_out_speed.py --quality --sizes 600 1500 --configs 2 3 7
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "factor_out_speed.md"
#: Configurations of benchmarks/factor_out_sweep.py: (effect, prior_sd, prior_dims, n_prior, seed).
CONFIGS = [
    ("linear", 6.0, 8, 4, 0),
    ("linear", 2.0, 2, 2, 1),
    ("per_cluster", 6.0, 8, 4, 0),
    ("per_cluster", 4.0, 4, 3, 1),
    ("nonlinear", 6.0, 4, 4, 0),
    ("nonlinear", 3.0, 16, 8, 1),
    ("linear", 8.0, 16, 8, 2),
    ("per_cluster", 8.0, 16, 8, 2),
]
METHODS = ("factor_out labels", "factor_out features", "t-SNE (engine)", "openTSNE")
WARMUP_N = 300

CHILD = r"""
import json, resource, sys, time
import numpy as np
method, n, config, out_path, threads = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4], int(sys.argv[5])
from fischer_sc.datasets._factor_out import factor_out_prior
effect, sd, dims, labels, seed = config

def run(n):
    a = factor_out_prior(effect, n=n, prior_sd=sd, prior_dims=dims, n_prior=labels, random_state=seed)
    if method.startswith("factor_out"):
        import fischer_sc as fs
        key = "prior" if "labels" in method else "X_prior"
        fs.tl.factor_out(a, key, use_rep="X", progress=False, n_jobs=threads)
        return a.obsm["X_factor_out"]
    if method == "t-SNE (engine)":
        import fischer_sc as fs
        fs.tl.dtsne(a, use_rep="X", pair_scale=None, random_state=0, progress=False, n_jobs=threads)
        return a.obsm["X_dtsne"]
    from openTSNE import TSNE
    return np.asarray(TSNE(n_jobs=threads, random_state=0).fit(np.asarray(a.X, dtype=np.float64)))

run(int(sys.argv[6]))  # warm-up: cached kernels load
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
t = time.perf_counter()
y = run(n)
seconds = time.perf_counter() - t
cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0
np.save(out_path, np.asarray(y, dtype=np.float64))
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu}))
"""


def run_child(method: str, n: int, config: tuple, threads: int, out: Path, src: str | None = None) -> dict:
    """Time one method in a fresh process with ``threads`` threads (``src``: import fischer_sc from there)."""
    env = {**os.environ}
    for v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[v] = str(threads)
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    args = [sys.executable, "-c", CHILD, method.replace(" (before)", ""), str(n), json.dumps(config), str(out)]
    proc = subprocess.run([*args, str(threads), str(WARMUP_N)], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(
    sizes: list[int], threads: list[int], configs: list[int], rounds: int, before: str | None, after: str | None = None
) -> list[dict]:
    """Every (size, configuration, thread count, method), ``rounds`` interleaved rounds; one row per run."""
    methods = list(METHODS) + ([f"{m} (before)" for m in METHODS[:2]] if before else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            for ci in configs:
                for r in range(rounds):
                    for t in threads:
                        for m in methods:
                            out = Path(tmp) / f"{m.replace(' ', '_')}_{n}_{ci}_{t}.npy"
                            res = run_child(m, n, CONFIGS[ci], t, out, before if "(before)" in m else after)
                            row = {"n": n, "config": ci, "threads": t, "round": r, "method": m, **res}
                            if "before" in m and "error" not in res:  # same embedding as the current code?
                                now = Path(tmp) / f"{m.replace(' (before)', '').replace(' ', '_')}_{n}_{ci}_{t}.npy"
                                if now.exists():
                                    a, b = np.load(now), np.load(out)
                                    row["max_abs_diff_to_current"] = float(np.abs(a - b).max())
                            print(json.dumps(row), flush=True)
                            rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    """Medians per (n, configuration, threads, method) and factor_out's ratios to the two t-SNE runs."""
    out = [
        "| n | config | threads | method | wall s (median) | CPU s (median) | wall / t-SNE (engine) | wall / openTSNE | CPU / t-SNE (engine) | CPU / openTSNE | runs (wall) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    keys = sorted({(r["n"], r["config"], r["threads"]) for r in rows})
    for n, ci, t in keys:
        group = [r for r in rows if (r["n"], r["config"], r["threads"]) == (n, ci, t) and "seconds" in r]
        med = {}
        for m in dict.fromkeys(r["method"] for r in group):
            rs = [r for r in group if r["method"] == m]
            med[m] = (
                float(np.median([r["seconds"] for r in rs])),
                float(np.median([r["cpu_seconds"] for r in rs])),
                " / ".join(f"{r['seconds']:.1f}" for r in rs),
            )
        for m, (wall, cpu, runs) in med.items():
            ratios = []
            for base in ("t-SNE (engine)", "openTSNE"):
                ratios.append(f"{wall / med[base][0]:.2f}" if base in med and m.startswith("factor_out") else "")
            for base in ("t-SNE (engine)", "openTSNE"):
                ratios.append(f"{cpu / med[base][1]:.2f}" if base in med and m.startswith("factor_out") else "")
            out.append(f"| {n} | {ci} | {t} | {m} | {wall:.1f} | {cpu:.1f} | " + " | ".join(ratios) + f" | {runs} |")
    return "\n".join(out)


def quality(sizes: list[int], configs: list[int]) -> str:
    """The sweep's measures of the defaults with the MNN round as kernels, as numpy passes, and numpy + 1 ulp."""
    sys.path.insert(0, str(Path(__file__).parent))
    from factor_out_sweep import visibility

    import fischer_sc as fs
    from fischer_sc.core import embedding as emb
    from fischer_sc.core.embedding import _correct
    from fischer_sc.datasets._factor_out import factor_out_prior

    kernels, numpy_round, correct = _correct.mnn_moves, _correct._mnn_moves_numpy, emb.local_correction

    def nudged(*args, **kw):
        x, info = correct(*args, **kw)
        return np.nextafter(x, np.inf), info

    variants = {"numpy (before)": (numpy_round, correct), "kernels (now)": (kernels, correct)}
    variants["numpy + 1 ulp"] = (numpy_round, nudged)
    out = [
        "| n | config | prior | MNN round | prior vis. | kept vis. | strength used | rounds | correction's visibility | same embedding as before |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    try:
        for n in sizes:
            for ci in configs:
                effect, sd, dims, labels, seed = CONFIGS[ci]
                a = factor_out_prior(effect, n=n, prior_sd=sd, prior_dims=dims, n_prior=labels, random_state=seed)
                lp, lk = a.obs["prior"].to_numpy(), a.obs["kept"].to_numpy()
                for key in ("prior", "X_prior"):
                    ys = {}
                    for name, (moves, corr) in variants.items():
                        _correct.mnn_moves, emb.local_correction = moves, corr
                        b = a.copy()
                        fs.tl.factor_out(b, key, use_rep="X", progress=False, n_jobs=1)
                        y = ys[name] = b.obsm["X_factor_out"]
                        rec = b.uns["factor_out"]
                        used = rec["params"].get("lam_used") or rec["params"].get("ctsne_beta_used")
                        c = rec.get("correction", {})
                        same = (
                            ""
                            if name == "numpy (before)"
                            else str(bool(np.array_equal(y, ys["numpy (before)"])))
                            if "numpy (before)" in ys
                            else ""
                        )
                        row = [n, ci, key, name, f"{visibility(y, lp):.4f}", f"{visibility(y, lk):.4f}", f"{used:.4g}"]
                        row += [
                            c.get("alignment_rounds", "-"),
                            f"{c['visibility_corrected']:.5f}" if "visibility_corrected" in c else "-",
                            same,
                        ]
                        out.append("| " + " | ".join(str(v) for v in row) + " |")
                        print(out[-1], flush=True)
    finally:
        _correct.mnn_moves, emb.local_correction = kernels, correct
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--configs", type=int, nargs="+", default=[2], help="configurations of factor_out_sweep.py")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--before", help="a source tree (its src/) to time as '(before)'")
    ap.add_argument("--after", help="a source tree (its src/) for the other rows (default: the installed package)")
    ap.add_argument("--note", default="", help="text placed above the table")
    ap.add_argument("--quality", action="store_true", help="the MNN kernels' effect on the sweep's measures instead")
    args = ap.parse_args()
    if args.quality:
        text = f"\n## Quality check of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n{args.note}\n\n"
        text += quality(args.sizes, args.configs) + "\n"
        with RESULTS.open("a") as fh:
            fh.write(text)
        return
    rows = measure(args.sizes, args.threads, args.configs, args.rounds, args.before, args.after)
    text = f"\n## Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n{args.note}\n\n{table(rows)}\n"
    print(text)
    head = (
        ""
        if RESULTS.exists()
        else "# factor_out speed: the defaults beside t-SNE and openTSNE\n\nWritten by `benchmarks/factor_out_speed.py`.\n"
    )
    with RESULTS.open("a") as fh:
        fh.write(head + text)
    with RESULTS.with_suffix(".jsonl").open("a") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()

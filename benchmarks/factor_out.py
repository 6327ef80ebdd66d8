"""fs.tl.factor_out: how much of the prior each method removes on the paper's synthetic set, and JEDI's speed.

Quality (in this process): on ``fs.datasets.factor_out_blocks`` (block A is the prior, block B the
hidden structure) every method runs with a label prior (``obs["block_a"]``) and with a distance
prior (``obsm["X_block_a"]``); we report the neighbourhood-overlap areas of the paper against the
data, against the prior labels and distances, against the hidden labels, and 15-NN accuracies.

Speed (child processes, as in ``benchmarks/embedding.py``): JEDI with a label prior against
openTSNE on ``fs.datasets.gaussian_mixture(n)`` (50 dimensions, its 20 cluster labels as the
prior), wall time, CPU time (user + system, less sensitive to other jobs on a shared machine)
and peak memory (VmHWM); ``--repeat`` interleaves rounds and reports medians.

    python benchmarks/factor_out.py --quality
    python benchmarks/factor_out.py --sizes 20000 100000 --repeat 3
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

RESULTS = Path(__file__).parent / "results" / "factor_out.md"

CHILD = r"""
import json, resource, sys, time
import numpy as np
method, data_path, label_path, out_path, threads = sys.argv[1:6]
x = np.load(data_path)
labels = np.load(label_path)
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
t = time.perf_counter()
if method == "jedi":
    import anndata as ad
    import pandas as pd
    import fischer_sc as fs
    a = ad.AnnData(x)
    a.obs["cluster"] = pd.Categorical(labels.astype(str))
    fs.tl.factor_out(a, "cluster", method="jedi", use_rep="X", progress=False, n_jobs=int(threads))
    y = a.obsm["X_factor_out"]
elif method == "tsne_core":  # the same engine without the prior term
    import anndata as ad
    import fischer_sc as fs
    a = ad.AnnData(x)
    fs.tl.dtsne(a, use_rep="X", pair_scale=None, random_state=0, progress=False, n_jobs=int(threads))
    y = a.obsm["X_dtsne"]
else:
    from openTSNE import TSNE
    y = np.asarray(TSNE(n_jobs=int(threads), random_state=0).fit(x))
seconds = time.perf_counter() - t
cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0
np.save(out_path, np.asarray(y, dtype=np.float64))
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": hwm / 1024}))
"""


def run_child(method: str, x: np.ndarray, labels: np.ndarray, threads: int, workdir: Path) -> dict:
    """Time one method in a fresh process with ``threads`` numba/BLAS threads."""
    data, lab, out = workdir / "x.npy", workdir / "labels.npy", workdir / f"{method}.npy"
    np.save(data, x)
    np.save(lab, labels)
    env = {
        **os.environ,
        **{
            v: str(threads) for v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        },
    }
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(data), str(lab), str(out), str(threads)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def quality_rows(*, paper_defaults: bool = False, only: list[str] | None = None) -> list[dict]:
    """Areas and accuracies of every method on the synthetic set, for a label and a distance prior.

    ``only`` keeps the runs whose "prior: method" text contains one of its strings (e.g. "labels: JEDI").
    """
    import fischer_sc as fs
    from fischer_sc.metrics import knn_label_accuracy, label_overlap_auc, neighbourhood_overlap_auc

    adata = fs.datasets.factor_out_blocks(0)
    x = np.asarray(adata.X, dtype=np.float64)
    la, lb = adata.obs["block_a"].to_numpy(), adata.obs["block_b"].to_numpy()
    za = adata.obsm["X_block_a"]
    runs = [
        ("t-SNE (no prior)", None, {}),
        ("JEDI (defaults)", "jedi", {}),
        ("CONFETTI + t-SNE (defaults)", "confetti", {"embedding": "tsne"}),
        ("CONFETTI + UMAP (defaults)", "confetti", {"embedding": "umap"}),
        ("ct-SNE", "ctsne", {}),
    ]
    if paper_defaults:  # the papers' objectives (lam=1)
        runs[1:4] = [
            ("JEDI (lam=1, paper objective)", "jedi", {"lam": 1.0}),
            ("CONFETTI + t-SNE (lam=1)", "confetti", {"embedding": "tsne", "lam": 1.0}),
            ("CONFETTI + UMAP (lam=1)", "confetti", {"embedding": "umap", "lam": 1.0}),
        ]
    rows = []
    for prior_name, prior_key in (("labels", "block_a"), ("distances", "X_block_a")):
        for name, method, kw in runs:
            if method == "ctsne" and prior_name == "distances":
                continue
            if method is None and prior_name == "distances":
                continue
            if only and not any(o in f"{prior_name}: {name}" for o in only):
                continue
            b = adata.copy()
            t = time.perf_counter()
            if method is None:
                fs.tl.dtsne(b, pair_scale=None, progress=False, key_added="X_factor_out")
            else:
                fs.tl.factor_out(b, prior_key, method=method, progress=False, **kw)
            seconds = time.perf_counter() - t
            y = b.obsm["X_factor_out"]
            rows.append(
                {
                    "prior": prior_name if method else "-",
                    "method": name,
                    "seconds": seconds,
                    "area_data": neighbourhood_overlap_auc(x, y),
                    "area_prior_labels": label_overlap_auc(y, la),
                    "area_prior_labels_norm": label_overlap_auc(y, la, normalize=True),
                    "area_prior_dist": neighbourhood_overlap_auc(za, y),
                    "area_hidden": label_overlap_auc(y, lb),
                    "area_hidden_norm": label_overlap_auc(y, lb, normalize=True),
                    "acc_prior": knn_label_accuracy(y, la),
                    "acc_hidden": knn_label_accuracy(y, lb),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def speed_rows(
    sizes: list[int], threads: int, methods: tuple[str, ...] = ("opentsne", "jedi"), repeat: int = 1
) -> list[dict]:
    """JEDI vs openTSNE wall time and peak memory at each size: medians of ``repeat`` interleaved rounds.

    Each round runs every method once, one after the other, so that a change in the load of a
    shared machine hits all methods alike; the ratio is that of the median times.
    """
    import fischer_sc as fs

    rows = []
    for n in sizes:
        adata = fs.datasets.gaussian_mixture(n)
        x = np.asarray(adata.X, dtype=np.float32)
        labels = adata.obs["cluster"].cat.codes.to_numpy()
        runs: dict[str, list[dict]] = {m: [] for m in methods}
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(repeat):
                for m in methods:
                    runs[m].append(run_child(m, x, labels, threads, Path(tmp)))
                    print(json.dumps({"n": n, "method": m, **runs[m][-1]}), flush=True)
        row: dict = {"n": n, "repeat": repeat}
        for m, rs in runs.items():
            ok = [r for r in rs if "seconds" in r]
            if len(ok) < len(rs):
                row[f"{m}_error"] = next(r["error"] for r in rs if "error" in r)
            if ok:
                row[f"{m}_seconds"] = float(np.median([r["seconds"] for r in ok]))
                row[f"{m}_cpu_seconds"] = float(np.median([r["cpu_seconds"] for r in ok]))
                row[f"{m}_peak_mb"] = float(max(r["peak_mb"] for r in ok))
                if repeat > 1:
                    row[f"{m}_all_seconds"] = " / ".join(f"{r['seconds']:.1f}" for r in ok)
        if "jedi_seconds" in row and "opentsne_seconds" in row:
            row["ratio"] = row["jedi_seconds"] / row["opentsne_seconds"]
            row["cpu_ratio"] = row["jedi_cpu_seconds"] / row["opentsne_cpu_seconds"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def _fmt(v: object) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def write_markdown(quality: list[dict], speed: list[dict], note: str) -> None:
    """Append the tables to ``benchmarks/results/factor_out.md``."""
    lines = [f"\n## Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n", note, ""]
    if quality:
        cols = list(quality[0])
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(_fmt(r[c]) for c in cols) + " |" for r in quality]
        lines.append("")
    if speed:
        cols = sorted({c for r in speed for c in r}, key=lambda c: (c != "n", c))
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |" for r in speed]
        lines.append("")
    RESULTS.parent.mkdir(exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text("# factor_out benchmark results\n\nWritten by `benchmarks/factor_out.py`.\n")
    with RESULTS.open("a") as fh:
        fh.write("\n".join(lines) + "\n")


def main() -> None:
    """Parse the arguments, run, and append the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="areas on the synthetic set")
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="speed runs at these sizes")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds per size (medians)")
    parser.add_argument("--methods", nargs="+", default=["opentsne", "jedi"], help="opentsne, jedi, tsne_core")
    parser.add_argument("--paper-defaults", action="store_true", help="JEDI and CONFETTI at lam=1 instead")
    parser.add_argument("--only", nargs="*", help='quality runs whose "prior: method" contains one of these')
    parser.add_argument("--note", default="Measured on a shared 2-core machine under load from other jobs.")
    args = parser.parse_args()
    quality = quality_rows(paper_defaults=args.paper_defaults, only=args.only) if args.quality else []
    speed = speed_rows(args.sizes, args.threads, tuple(args.methods), args.repeat) if args.sizes else []
    write_markdown(quality, speed, args.note)


if __name__ == "__main__":
    main()

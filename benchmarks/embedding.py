"""dtSNE against openTSNE, UMAP and densMAP: quality on the dtSNE toys and real cells, time and memory at scale.

Every method runs in its own child process on the same data (so peak memory is the method's own
and numba/BLAS thread counts are set before import), and the table gives each method's time
relative to openTSNE's measured in the same run.

    python benchmarks/embedding.py --quick              # toys + pbmc68k_reduced
    python benchmarks/embedding.py --sizes 20000 100000 # speed and memory at scale
    python benchmarks/embedding.py --sizes-only --repeat 3 --methods dtsne opentsne  # median of 3 runs each

With ``--repeat`` the runs alternate between the methods and the table gives the medians: use it
on a busy machine.
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

METHODS = ("dtsne", "dtsne_geometric", "tsne_core", "opentsne", "umap", "densmap")
TOYS = ("2d", "2d_density", "2d_size", "g3s", "g3d", "g10d", "u5d")

CHILD = r"""
import json, sys, time
import numpy as np
method, data_path, out_path, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x = np.load(data_path)
t = time.perf_counter()
if method.startswith("dtsne") or method == "tsne_core":
    import anndata as ad
    import fischer_sc as fs
    a = ad.AnnData(x)
    scale = {"dtsne": "mean", "dtsne_geometric": "geometric", "tsne_core": None}[method]
    # tsne_core is plain t-SNE from the same engine: t-SNE's symmetrised affinities, gamma = 1
    from fischer_sc.core.embedding import TSNE_DEFAULTS
    balance = 0.0 if scale is None else TSNE_DEFAULTS.balance
    fs.tl.dtsne(a, use_rep="X", pair_scale=scale, balance=balance, n_jobs=threads, random_state=0, progress=False)
    y = a.obsm["X_dtsne"]
elif method == "opentsne":
    from openTSNE import TSNE
    y = np.asarray(TSNE(n_jobs=threads, random_state=0).fit(x))
else:
    import umap  # seeded UMAP runs single-threaded, so it is left unseeded here
    y = umap.UMAP(densmap=method == "densmap", n_jobs=threads).fit_transform(x)
seconds = time.perf_counter() - t
np.save(out_path, np.asarray(y, dtype=np.float64))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "peak_mb": hwm / 1024}))
"""


def run_method(method: str, x: np.ndarray, threads: int, workdir: Path) -> tuple[dict, np.ndarray | None]:
    data, out = workdir / "x.npy", workdir / f"{method}.npy"
    np.save(data, x)
    env = {
        **os.environ,
        **{
            v: str(threads) for v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        },
    }
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(data), str(out), str(threads)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        }, None
    return json.loads(proc.stdout.strip().splitlines()[-1]), np.load(out)


def quality(x: np.ndarray, y: np.ndarray, labels: np.ndarray | None) -> dict:
    import fischer_sc as fs

    sub = np.random.default_rng(0).choice(x.shape[0], min(x.shape[0], 5_000), replace=False)
    row = {
        "density_r10": fs.metrics.density_correlation(x, y, k=10),
        "density_r30": fs.metrics.density_correlation(x, y, k=30),
        "recall15": fs.metrics.knn_recall(x, y, k=15),
        "global_r": fs.metrics.global_distance_correlation(x, y, random_state=0),
        "trust15": fs.metrics.trustworthiness(x[sub], y[sub], k=15),
    }
    if labels is not None:
        ratios = fs.metrics.cluster_size_ratios(x, y, labels)
        row["size_ratios"] = " / ".join(f"{r:.2f}" for r in ratios)
    return row


def datasets(args: argparse.Namespace):
    import fischer_sc as fs

    if not args.sizes_only:
        for preset in TOYS:
            a = fs.datasets.gaussian_blobs(preset, random_state=0)
            yield preset, np.asarray(a.X, dtype=np.float32), a.obs["cluster"].to_numpy(), True
        pbmc = fs.datasets.pbmc68k_reduced()
        yield "pbmc68k_reduced", np.asarray(pbmc.obsm["X_pca"], dtype=np.float32), None, True
    for n in args.sizes:
        a = fs.datasets.gaussian_mixture(n, random_state=0)
        yield f"mixture_{n // 1000}k", np.asarray(a.X, dtype=np.float32), None, n <= 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="toys and pbmc68k_reduced only")
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000], help="mixture sizes for the speed runs")
    parser.add_argument("--sizes-only", action="store_true", help="skip the toys and pbmc68k_reduced")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per method and data set; the table gives the median time and peak"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "embedding.md")
    args = parser.parse_args()
    if args.quick:
        args.sizes = []
    import pandas as pd

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, x, labels, with_quality in datasets(args):
            big = x.shape[0] > 20_000
            methods = [m for m in args.methods if not big or m in ("dtsne", "tsne_core", "opentsne")]
            # interleaved (dtsne, opentsne, dtsne, opentsne, ...) so that a drifting load hits all alike
            runs: dict[str, list] = {m: [] for m in methods}
            for _ in range(args.repeat):
                for method in methods:
                    runs[method].append(run_method(method, x, args.threads, Path(tmp)))
            for method in methods:
                info, y = runs[method][0]
                if "seconds" in info and args.repeat > 1:
                    info = {
                        **info,
                        "seconds": float(np.median([r[0]["seconds"] for r in runs[method]])),
                        "peak_mb": float(np.median([r[0]["peak_mb"] for r in runs[method]])),
                        "seconds_all": " / ".join(f"{r[0]['seconds']:.1f}" for r in runs[method]),
                    }
                row = {"data": name, "n": x.shape[0], "method": method, **info}
                if y is not None and with_quality:
                    row.update(quality(x.astype(np.float64), y, labels))
                rows.append(row)
                print(json.dumps(row, default=str), flush=True)
    table = pd.DataFrame(rows)
    if "seconds" in table:
        ref = table[table["method"] == "opentsne"].set_index("data")["seconds"]
        table["time_vs_opentsne"] = table["seconds"] / table["data"].map(ref)
    text = table.round(3).to_markdown(index=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"threads: {args.threads}, runs per method: {args.repeat}\n\n{text}\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

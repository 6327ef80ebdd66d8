"""Mercat against PCA, openTSNE, UMAP and UMAP on the sphere (haversine): angles, distances, neighbours, time.

Every method runs in its own child process on the same data (peak memory is the method's own, numba
and BLAS thread counts are set before import). Quality is measured on the toy shapes, Gaussian
clusters at several settings and pbmc68k_reduced; speed on ``gaussian_mixture`` at 10k and 100k
with Mercat and openTSNE interleaved in one run, on the same thread count.

    nice -n 10 python benchmarks/mercat.py --quality            # toys, clusters, pbmc68k_reduced
    nice -n 10 python benchmarks/mercat.py --sizes 10000 100000  # time and memory, ratios to openTSNE

Angles are compared against the denoised data X^ (the PCA scores of the Marchenko-Pastur rank, as
Mercat sees them; pbmc68k_reduced's X_pca as it is): noise pulls raw high-dimensional angles
towards pi / 3. Flat embeddings are measured with Euclidean angles and distances; Mercat and
UMAP-haversine with chord angles (the Euclidean angle of the points in R^3) and also spherical
angles and great-circle distances.
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

METHODS = ("mercat", "pca", "opentsne", "umap", "umap_haversine")

CHILD = r"""
import json, sys, time
import numpy as np
method, data_path, out_path, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x = np.load(data_path)
t = time.perf_counter()
cpu = time.process_time()  # all threads: robust to a busy machine, unlike wall time
extra = {}
if method == "mercat":
    import anndata as ad
    import fischer_sc as fs
    a = ad.AnnData(x)
    fs.tl.mercat(a, use_rep="X", n_jobs=threads, random_state=0, progress=False)
    y = a.obsm["X_mercat"].astype(np.float64)
    extra = {"rank": int(a.uns["mercat"]["denoise_rank"]), "loss": float(a.uns["mercat"]["loss"])}
elif method == "pca":
    xc = x - x.mean(0)
    y = xc @ np.linalg.eigh(xc.T @ xc)[1][:, ::-1][:, :2]
elif method == "opentsne":
    from openTSNE import TSNE
    y = np.asarray(TSNE(n_jobs=threads, random_state=0).fit(x))
else:
    import umap
    if method == "umap":
        y = umap.UMAP(n_jobs=threads).fit_transform(x)
    else:  # embeds on the sphere: (lat, lon) -> unit vectors
        ll = umap.UMAP(n_jobs=threads, output_metric="haversine").fit_transform(x)
        y = np.column_stack([np.sin(ll[:, 0]) * np.cos(ll[:, 1]), np.sin(ll[:, 0]) * np.sin(ll[:, 1]), np.cos(ll[:, 0])])
seconds = time.perf_counter() - t
cpu = time.process_time() - cpu
np.save(out_path, np.asarray(y, dtype=np.float64))
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": hwm / 1024, **extra}))
"""


def run_method(method: str, x: np.ndarray, threads: int, workdir: Path) -> tuple[dict, np.ndarray | None]:
    data, out = workdir / "x.npy", workdir / f"{method}.npy"
    np.save(data, x)
    names = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    env = {**os.environ, **{v: str(threads) for v in names}}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(data), str(out), str(threads)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}, None
    return json.loads(proc.stdout.strip().splitlines()[-1]), np.load(out)


def quality(reference: np.ndarray, x: np.ndarray, y: np.ndarray, on_sphere: bool) -> dict:
    import fischer_sc as fs

    m = fs.metrics
    geometry = "euclidean"  # chord angles and distances for the sphere outputs
    row = {
        "angle_rho": m.angle_preservation(reference, y, geometry=geometry)["spearman"],
        "angle_rho_local": m.angle_preservation(reference, y, geometry=geometry, triples="local")["spearman"],
        "distance_rho": m.distance_preservation(reference, y, geometry=geometry, n_pairs=200_000),
        "triplet_acc": m.triplet_accuracy(reference, y, geometry=geometry),
        "recall15": m.knn_recall(x, y, k=15),
        "density_r": m.density_correlation(x, y, k=10),
    }
    if on_sphere:
        row["angle_rho_spherical"] = m.angle_preservation(reference, y, geometry="spherical")["spearman"]
    return row


def quality_sets():
    import fischer_sc as fs

    d = fs.datasets
    yield "noisy_sphere (2k x 50, noise 0.05)", d.noisy_sphere(2000, 50, noise=0.05)
    yield "noisy_sphere (2k x 50, noise 0.15)", d.noisy_sphere(2000, 50, noise=0.15, random_state=1)
    yield "circle (1k x 50)", d.circle()
    yield "smiley (1.2k x 50)", d.smiley()
    yield "blobs g10d (2k x 50, 10 clusters)", d.gaussian_blobs("g10d")
    yield "blobs g3d (900 x 50, 3 clusters)", d.gaussian_blobs("g3d")
    yield "blobs g3s (1.2k x 50, 3 sizes)", d.gaussian_blobs("g3s")
    yield "mixture (3k x 50, 5 clusters)", d.gaussian_mixture(3000, n_clusters=5, random_state=1)
    yield "mixture (3k x 50, 20 clusters)", d.gaussian_mixture(3000, n_clusters=20, random_state=2)
    import anndata as ad

    pbmc = d.pbmc68k_reduced()
    yield "pbmc68k_reduced (X_pca)", ad.AnnData(np.asarray(pbmc.obsm["X_pca"], dtype=np.float32), obs=pbmc.obs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality", action="store_true", help="the quality table")
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="gaussian_mixture sizes for speed")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    parser.add_argument("--only", nargs="*", default=None, help="quality sets whose name contains one of these")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "mercat_raw.md")
    args = parser.parse_args()
    import pandas as pd

    import fischer_sc as fs
    from fischer_sc.core.sphere import denoise

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.quality:
            rows = []
            for name, adata in quality_sets():
                if args.only and not any(part in name for part in args.only):
                    continue
                x = np.asarray(adata.X, dtype=np.float64)
                pca_input = name.startswith("pbmc")
                reference = x - x.mean(0) if pca_input else denoise(x).scores.astype(np.float64)
                for method in args.methods:
                    info, y = run_method(method, x.astype(np.float32), args.threads, Path(tmp))
                    row = {"data": name, "method": method, "seconds": info.get("seconds"), "rank": info.get("rank")}
                    if y is not None:
                        row.update(quality(reference, x, y, method in ("mercat", "umap_haversine")))
                    else:
                        row["error"] = info["error"]
                    rows.append(row)
                    print(json.dumps(row), flush=True)
            table = pd.DataFrame(rows)
            lines += ["## Quality", "", table.to_markdown(index=False, floatfmt=".3f"), ""]
        if args.sizes:
            rows = []
            for n in args.sizes:
                x = np.asarray(fs.datasets.gaussian_mixture(n, random_state=0).X, dtype=np.float32)
                for method in ("mercat", "opentsne"):  # interleaved, one after the other on the same data
                    info, _ = run_method(method, x, args.threads, Path(tmp))
                    rows.append({"n": n, "method": method, **info})
                    print(json.dumps(rows[-1]), flush=True)
            table = pd.DataFrame(rows)
            wide = table.pivot(index="n", columns="method", values="seconds")
            wide["ratio mercat/openTSNE"] = wide["mercat"] / wide["opentsne"]
            mem = table.pivot(index="n", columns="method", values="peak_mb").add_suffix(" peak MB")
            lines += ["## Speed", "", wide.join(mem).to_markdown(floatfmt=".2f"), ""]
            if len(args.sizes) == 2:
                a, b = sorted(args.sizes)
                growth = wide.loc[b, "mercat"] / wide.loc[a, "mercat"]
                lines.append(f"Mercat time grows {growth:.1f}x from {a} to {b} points ({b / a:.0f}x the points).")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

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

METHODS = ("mercat", "mercat_angles", "mercat_no_refine", "pca", "opentsne", "umap", "umap_haversine")
#: Options of the Mercat variants: the angle loss alone; the defaults without the refinement stage.
VARIANTS = {"mercat": {}, "mercat_angles": {"neighbour_weight": 0.0}, "mercat_no_refine": {"refine": 0.0}}

CHILD = r"""
import json, sys, time
import numpy as np
method, data_path, out_path, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x = np.load(data_path)
t = time.perf_counter()
cpu = time.process_time()  # all threads: robust to a busy machine, unlike wall time
extra = {}
if method.startswith("mercat"):
    import anndata as ad
    import fischer_sc as fs
    a = ad.AnnData(x)
    options = json.loads(sys.argv[5])
    fs.tl.mercat(a, use_rep="X", n_jobs=threads, random_state=0, progress=False, **options)
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


def options_of(method: str) -> dict:
    """Mercat's options for a method name: ``VARIANTS``, ``mercat_w<weight>`` (``neighbour_weight``, both stages) or
    ``mercat_r<weight>`` (``refine_weight``, the refinement stage only)."""
    if method.startswith("mercat_w"):
        return {"neighbour_weight": float(method.removeprefix("mercat_w"))}
    if method.startswith("mercat_r"):
        return {"refine_weight": float(method.removeprefix("mercat_r"))}
    return VARIANTS.get(method, {})


def run_method(method: str, x: np.ndarray, threads: int, workdir: Path) -> tuple[dict, np.ndarray | None]:
    data, out = workdir / "x.npy", workdir / f"{method}.npy"
    np.save(data, x)
    names = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    env = {**os.environ, **{v: str(threads) for v in names}}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(data), str(out), str(threads), json.dumps(options_of(method))],
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


def clusters(n: int, k: int, dims: int, spreads: tuple[float, float], unequal: bool, seed: int):
    """k Gaussian clusters, means U(0, 50)^dims (as the g-presets), sd U(spreads), sizes equal or Dirichlet(2)."""
    import anndata as ad

    rng = np.random.default_rng(seed)
    sizes = rng.multinomial(n - k, rng.dirichlet(np.full(k, 2.0))) + 1 if unequal else np.full(k, n // k)
    sd = rng.uniform(*spreads, k)
    means = rng.uniform(0.0, 50.0, (k, dims))
    x = np.vstack([m + rng.normal(size=(s, dims)) * v for m, v, s in zip(means, sd, sizes, strict=True)])
    return ad.AnnData(x.astype(np.float32))


def sweep_sets():
    """Generator families around a base (10 clusters, 50-D, sd 1-3, equal sizes, 1 000 points), one knob at a time,
    then sphere-like manifolds: a noisy 2-sphere at three noise levels and two dimensions, and the circle."""
    import fischer_sc as fs

    base = {"n": 1000, "k": 10, "dims": 50, "spreads": (1.0, 3.0), "unequal": False, "seed": 0}
    variants = [
        ("base", {}),
        ("3 clusters", {"k": 3}),
        ("30 clusters", {"k": 30}),
        ("20-D", {"dims": 20}),
        ("200-D", {"dims": 200}),
        ("equal sd 2", {"spreads": (2.0, 2.0)}),
        ("sd 1-8", {"spreads": (1.0, 8.0)}),
        ("unequal sizes", {"unequal": True}),
        ("5 clusters, unequal sizes, sd 1-4", {"k": 5, "unequal": True, "spreads": (1.0, 4.0), "seed": 1}),
    ]
    for name, change in variants:
        yield f"clusters: {name}", clusters(**{**base, **change})
    d = fs.datasets
    for noise, dims in ((0.05, 50), (0.15, 50), (0.3, 50), (0.15, 20), (0.15, 200)):
        yield f"noisy_sphere (noise {noise}, {dims}-D)", d.noisy_sphere(1000, dims, noise=noise, random_state=2)
    yield "circle (1k x 50)", d.circle()


def recall_sets():
    """The recall sweep of issue 12: Gaussian-cluster generators at two seeds each, and noisy spheres."""
    import fischer_sc as fs

    d = fs.datasets
    for preset in ("g3d", "g3s", "g10d"):
        for seed in (0, 1):
            yield f"{preset} seed {seed}", d.gaussian_blobs(preset, random_state=seed)
    for k, seeds in ((5, (1, 3)), (20, (2, 4))):
        for seed in seeds:
            yield f"mixture {k} clusters seed {seed}", d.gaussian_mixture(3000, n_clusters=k, random_state=seed)
    for noise, seed in ((0.05, 0), (0.15, 1), (0.15, 2)):
        yield f"noisy_sphere noise {noise} seed {seed}", d.noisy_sphere(2000, 50, noise=noise, random_state=seed)


def recall_summary(table):
    """One row per data set: angle rho / recall@15 per method, Mercat's recall over openTSNE's, targets met."""
    rows = []
    for name, part in table.groupby("data", sort=False):
        by = part.set_index("method")
        row = {"data": name}
        for method in by.index:
            row[method] = f"{by.loc[method, 'angle_rho']:.3f} / {by.loc[method, 'recall15']:.3f}"
        if "opentsne" in by.index:
            for method in (m for m in by.index if m.startswith("mercat")):
                ratio = by.loc[method, "recall15"] / by.loc["opentsne", "recall15"]
                row[f"{method} recall ratio"] = f"{ratio:.2f}x"
        if "mercat" in by.index:
            angle, sphere = by.loc["mercat", "angle_rho"], name.startswith("noisy_sphere")
            ratio = by.loc["mercat", "recall15"] / by.loc["opentsne", "recall15"] if "opentsne" in by.index else np.nan
            row["target met"] = bool(angle >= 0.9) if sphere else f"angle {angle >= 0.8}, recall {ratio >= 0.8}"
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality", action="store_true", help="the quality table")
    parser.add_argument("--sweep", action="store_true", help="the generator-family sweep instead of --quality's sets")
    parser.add_argument(
        "--recall", action="store_true", help="issue 12's angle/recall sweep (angle rho and recall only)"
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="gaussian_mixture sizes for speed")
    parser.add_argument(
        "--methods", nargs="*", default=list(METHODS), help=f"of {METHODS}, mercat_w<weight> or mercat_r<weight>"
    )
    parser.add_argument("--only", nargs="*", default=None, help="quality sets whose name contains one of these")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "mercat_raw.md")
    args = parser.parse_args()
    unknown = [m for m in args.methods if m not in METHODS and not m.startswith(("mercat_w", "mercat_r"))]
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {METHODS}, mercat_w<weight> or mercat_r<weight>")
    import pandas as pd

    import fischer_sc as fs
    from fischer_sc.core.sphere import denoise

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.quality or args.sweep or args.recall:
            rows = []
            sets = recall_sets() if args.recall else sweep_sets() if args.sweep else quality_sets()
            for name, adata in sets:
                if args.only and not any(part in name for part in args.only):
                    continue
                x = np.asarray(adata.X, dtype=np.float64)
                pca_input = name.startswith("pbmc")
                reference = x - x.mean(0) if pca_input else denoise(x).scores.astype(np.float64)
                for method in args.methods:
                    info, y = run_method(method, x.astype(np.float32), args.threads, Path(tmp))
                    row = {"data": name, "method": method, "seconds": info.get("seconds"), "rank": info.get("rank")}
                    if y is not None and args.recall:
                        row["angle_rho"] = fs.metrics.angle_preservation(reference, y)["spearman"]
                        row["recall15"] = fs.metrics.knn_recall(x, y, k=15)
                    elif y is not None:
                        row.update(quality(reference, x, y, method.startswith("mercat") or method == "umap_haversine"))
                    else:
                        row["error"] = info["error"]
                    rows.append(row)
                    print(json.dumps(row), flush=True)
            table = pd.DataFrame(rows)
            lines += ["## Quality", "", table.to_markdown(index=False, floatfmt=".3f"), ""]
            if args.recall:
                summary = pd.DataFrame(recall_summary(table))
                lines += ["## Angle rho / recall@15", "", summary.to_markdown(index=False), ""]
        if args.sizes:
            rows = []
            for n in args.sizes:
                x = np.asarray(fs.datasets.gaussian_mixture(n, random_state=0).X, dtype=np.float32)
                timed = [m for m in ("mercat", "opentsne") if m in args.methods]
                for method in timed:  # interleaved, one after the other on the same data
                    load = Path("/proc/loadavg").read_text().split()[:3]
                    info, _ = run_method(method, x, args.threads, Path(tmp))
                    rows.append({"n": n, "method": method, "load before": " ".join(load), **info})
                    print(json.dumps(rows[-1]), flush=True)
            table = pd.DataFrame(rows)
            lines += ["## Speed", "", table.to_markdown(index=False, floatfmt=".2f"), ""]
            ok = table.dropna(subset=["seconds"]) if "seconds" in table else table.iloc[:0]
            wide = ok.pivot(index="n", columns="method", values=["seconds", "cpu_seconds"])
            for col in ("seconds", "cpu_seconds"):
                if (col, "mercat") in wide and (col, "opentsne") in wide:
                    ratio = wide[(col, "mercat")] / wide[(col, "opentsne")]
                    lines += [f"{col} ratio mercat/openTSNE: " + ", ".join(f"{n}: {r:.2f}" for n, r in ratio.items())]
            if len(args.sizes) == 2 and ("cpu_seconds", "mercat") in wide:
                a, b = sorted(args.sizes)
                growth = wide[("cpu_seconds", "mercat")].get(b, np.nan) / wide[("cpu_seconds", "mercat")].get(a, np.nan)
                lines.append(f"Mercat CPU time grows {growth:.1f}x from {a} to {b} points ({b / a:.0f}x the points).")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

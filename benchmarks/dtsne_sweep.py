"""dtSNE over generator families, beside openTSNE and densMAP; first-call and warm times; speed at scale.

Three parts (any combination):

    python benchmarks/dtsne_sweep.py --quality            # the sweep of Gaussian-cluster families
    python benchmarks/dtsne_sweep.py --timing             # first call (empty numba cache) and warm, over n
    python benchmarks/dtsne_sweep.py --speed 20000 100000 # dtSNE vs openTSNE, interleaved in one process
    python benchmarks/dtsne_sweep.py --quality --scales 2.5 5  # the sweep with every cluster size x 2.5, x 5

Families (means ~ U(0, 50)^dims, isotropic Gaussian clusters):

* ``size``: equal spreads, unequal sizes (the paper's second toy, Fig. 2), in 2-100 dimensions;
* ``spread``: equal sizes, unequal spreads (Fig. 1);
* ``many``: 8-10 clusters with spreads 0.5-4 or sizes over a factor 8;

Measures: density correlation (Pearson, log distance to the 15th neighbour, data vs embedding),
kNN recall@15 and global distance correlation; the ``vs_open`` columns divide by openTSNE's.
``--scales`` (default 1) multiplies every cluster size of each family (n ~ 1.5k-2.8k at 1, 7.5k-14k at 5;
same dims, spreads and seed); with a scale other than 1 the table adds ``scale`` and the embedding wall
seconds of each method (``wall_*``, blank when a peer came from the cache; the first family of a process
includes numba's compilation or cache loading).
Results go to ``benchmarks/results/dtsne_sweep.md`` (appended per part).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "dtsne_sweep.md"

#: name -> (dims, sizes, spreads)
FAMILIES: dict[str, tuple[int, tuple[int, ...], tuple[float, ...]]] = {}
for _d in (2, 10, 30, 50, 100):
    FAMILIES[f"size_1:2:4_{_d}d"] = (_d, (300, 600, 1200), (1.0, 1.0, 1.0))
for _d in (30, 50):
    FAMILIES[f"size_1:2.3:4.7_{_d}d"] = (_d, (300, 700, 1400), (1.0, 1.0, 1.0))
FAMILIES["size_1:8_5cl_50d"] = (50, (100, 200, 400, 600, 800), (1.0,) * 5)
for _d in (2, 50, 100):
    FAMILIES[f"spread_1:2:4_{_d}d"] = (_d, (500, 500, 500), (1.0, 2.0, 4.0))
FAMILIES["many_8cl_spread0.5-4_30d"] = (30, (300,) * 8, tuple(np.linspace(0.5, 4.0, 8)))
FAMILIES["many_10cl_size_50d"] = (50, tuple(int(s) for s in np.geomspace(80, 640, 10)), (1.0,) * 10)

#: Peers are deterministic at a fixed seed, so their embeddings are kept here between runs of the
#: sweep (keyed by family and peer version): a dtSNE change is re-measured against the same peer
#: layouts without re-running densMAP (~3 min per family on a loaded machine).
PEER_CACHE = Path(os.environ.get("DTSNE_SWEEP_CACHE", Path(tempfile.gettempdir()) / "dtsne_sweep_peers"))


def scaled(family: tuple[int, tuple[int, ...], tuple[float, ...]], scale: float) -> tuple:
    """``family`` (dims, sizes, spreads) with every cluster size multiplied by ``scale`` (rounded down)."""
    dims, sizes, spreads = family
    return dims, tuple(int(s * scale) for s in sizes), spreads


def make(dims: int, sizes: tuple[int, ...], spreads: tuple[float, ...], seed: int = 0) -> np.ndarray:
    """Isotropic Gaussian clusters with means ~ U(0, 50)^dims."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(0.0, 50.0, (len(sizes), dims))
    return np.vstack([m + rng.normal(size=(s, dims)) * sd for m, sd, s in zip(means, spreads, sizes, strict=True)])


def embed(method: str, x: np.ndarray, threads: int, options: dict) -> np.ndarray:
    if method == "dtsne":
        import anndata as ad

        import fischer_sc as fs

        a = ad.AnnData(x.astype(np.float32))
        fs.tl.dtsne(a, use_rep="X", n_jobs=threads, random_state=0, progress=False, **options)
        return np.asarray(a.obsm["X_dtsne"], dtype=np.float64)
    if method == "opentsne":
        from openTSNE import TSNE

        return np.asarray(TSNE(n_jobs=threads, random_state=0).fit(x))
    import umap

    return umap.UMAP(densmap=True, random_state=0).fit_transform(x)


def peer_embedding(method: str, name: str, x: np.ndarray, threads: int) -> tuple[np.ndarray, bool]:
    """A peer's embedding of family ``name``, from :data:`PEER_CACHE` when this peer version made it before.

    The file is keyed by family and n: a scaled family has another n (each cluster size is non-decreasing in
    the scale, so two scales with the same n have the same sizes and hence the same data). Returns the
    embedding and whether it came from the cache.
    """
    import importlib.metadata

    version = importlib.metadata.version("openTSNE" if method == "opentsne" else "umap-learn")
    path = PEER_CACHE / f"{method}-{version}-{name}-{x.shape[0]}.npy"
    if path.exists():
        return np.load(path), True
    y = embed(method, x, threads, {})
    PEER_CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, y)
    return y, False


def scores(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    import fischer_sc as fs

    return {
        "density": fs.metrics.density_correlation(x, y, k=15),
        "density30": fs.metrics.density_correlation(x, y, k=30),
        "recall": fs.metrics.knn_recall(x, y, k=15),
        "global": fs.metrics.global_distance_correlation(x, y, random_state=0),
    }


def quality(args: argparse.Namespace) -> str:
    import pandas as pd

    rows = []
    names = args.families or list(FAMILIES)
    for scale in args.scales:  # scale outermost: a cut-short run has whole smaller scales
        for name in names:
            x = make(*scaled(FAMILIES[name], scale))
            row: dict = {"family": name, "scale": scale, "n": x.shape[0]}
            for method in args.methods:
                t = time.perf_counter()
                if method == "dtsne":
                    y, cached = embed(method, x, args.threads, args.options), False
                else:
                    y, cached = peer_embedding(method, name, x, args.threads)
                row[f"wall_{method}"] = None if cached else time.perf_counter() - t
                s = scores(x, y)
                row.update({f"{k}_{method}": v for k, v in s.items()})
                row[f"s_{method}"] = time.perf_counter() - t
            if {"opentsne", "dtsne"} <= set(args.methods):
                for k in ("recall", "global"):
                    row[f"{k}_vs_open"] = row[f"{k}_dtsne"] / row[f"{k}_opentsne"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    with_scale = args.scales != [1.0]
    cols = ["family"] + (["scale"] if with_scale else []) + ["n"]
    cols += [f"{k}_{m}" for k in ("density", "recall", "global") for m in args.methods if f"{k}_{m}" in rows[0]]
    cols += [c for c in ("recall_vs_open", "global_vs_open") if c in rows[0]]
    cols += [f"wall_{m}" for m in args.methods] if with_scale else []
    table = pd.DataFrame(rows)[cols].round(3).to_markdown(index=False)
    scales = f", scales {' '.join(f'{s:g}' for s in args.scales)}" if with_scale else ""
    return f"## Quality (dtSNE options {args.options or 'defaults'}, {args.threads} threads{scales})\n\n{table}\n"


TIMING_CHILD = r"""
import sys, time
t0 = time.perf_counter()
import numpy as np, anndata as ad, fischer_sc as fs
n = int(sys.argv[1])
rng = np.random.default_rng(0)
sizes = (n // 7, 2 * n // 7, n - 3 * (n // 7))
means = rng.uniform(0, 50, (3, 50))
x = np.vstack([m + rng.normal(size=(s, 50)) for m, s in zip(means, sizes)]).astype(np.float32)
a = ad.AnnData(x)
t1 = time.perf_counter(); c1 = time.process_time()
fs.tl.dtsne(a, use_rep="X", n_jobs=2, progress=False)
print(time.perf_counter() - t1, time.process_time() - c1, t1 - t0, a.uns["dtsne"]["repulsion"])
"""


def timing(args: argparse.Namespace) -> str:
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "NUMBA_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
        for run, n in [("first call (empty cache)", args.timing_sizes[0])] + [("warm", n) for n in args.timing_sizes]:
            out = subprocess.run(
                [sys.executable, "-c", TIMING_CHILD, str(n)], capture_output=True, text=True, env=env, check=True
            ).stdout.split()
            row = {"run": run, "n": n, "dtsne_wall_s": float(out[0]), "dtsne_cpu_s": float(out[1])}
            row.update({"import_s": float(out[2]), "repulsion": out[3]})
            rows.append(row)
            print(json.dumps(row), flush=True)
    import pandas as pd

    load = os.getloadavg()
    table = pd.DataFrame(rows).round(2).to_markdown(index=False)
    return f"## First call and warm times (2 threads, 50-D, load {load[0]:.1f})\n\n{table}\n"


def speed(args: argparse.Namespace) -> str:
    import anndata as ad
    import pandas as pd

    import fischer_sc as fs

    rows = []
    for n in args.speed:
        x = np.asarray(fs.datasets.gaussian_mixture(n, random_state=0).X)
        methods = ["dtsne", "opentsne"] + (["jedi"] if args.jedi else [])
        for method in methods:  # interleaved in one process; warm-up of numba done by a small run first
            if method == "jedi":
                a = ad.AnnData(x)
                a.obs["batch"] = np.random.default_rng(0).integers(0, 4, n).astype(str)
                a.obs["batch"] = a.obs["batch"].astype("category")
            t, c = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            if method == "jedi":
                fs.tl.factor_out(a, "batch", method="jedi", use_rep="X", n_jobs=args.threads, progress=False)
            else:
                embed(method, x, args.threads, args.options)
            c2 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = c2.ru_utime + c2.ru_stime - c.ru_utime - c.ru_stime
            rows.append({"n": n, "method": method, "wall_s": time.perf_counter() - t, "cpu_s": cpu})
            print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows)
    ref = table[table["method"] == "opentsne"].set_index("n")
    table["wall_vs_open"] = table["wall_s"] / table["n"].map(ref["wall_s"])
    table["cpu_vs_open"] = table["cpu_s"] / table["n"].map(ref["cpu_s"])
    load = os.getloadavg()
    return (
        f"## Speed ({args.threads} threads, one run, load {load[0]:.1f})\n\n{table.round(2).to_markdown(index=False)}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--families", nargs="*", choices=list(FAMILIES))
    parser.add_argument("--methods", nargs="*", default=["dtsne", "opentsne", "densmap"])
    parser.add_argument(
        "--scales", type=float, nargs="+", default=[1.0], help="multiply every cluster size of each family (1 each)"
    )
    parser.add_argument("--options", type=json.loads, default={}, help="dtSNE keyword arguments as JSON")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--timing-sizes", type=int, nargs="*", default=[2000, 500, 1000, 3000, 5000])
    parser.add_argument("--speed", type=int, nargs="*", default=[])
    parser.add_argument("--jedi", action="store_true", help="also time fs.tl.factor_out (JEDI, label prior)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if min(args.scales) <= 0:
        parser.error(f"--scales must be positive, got {args.scales}")
    parts = []
    if args.quality:
        parts.append(quality(args))
    if args.timing:
        parts.append(timing(args))
    if args.speed:
        parts.append(speed(args))
    text = "\n".join(parts)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a", encoding="utf-8") as fh:
        fh.write(f"\n<!-- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} -->\n{text}")


if __name__ == "__main__":
    main()

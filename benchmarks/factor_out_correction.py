"""Cost of ``local_correction`` (the default correction before factor_out's embedding) by stage.

Data: ``fs.datasets.gaussian_mixture(n)`` (50 dimensions) with its 20 cluster labels as the label
prior (what ``benchmarks/factor_out.py --sizes`` uses), and ``factor_out_prior("per_cluster", n)``
with its prior features ``obsm["X_prior"]`` as the feature prior (the linear fit and the
conditional mean leave the per-cluster effect, so k-means groups and the MNN rounds run). One
process per (n, prior); CPU seconds (``time.process_time``) of the whole call, then by stage from
cProfile's cumulative times (the profiler adds its own overhead to those). Run single-threaded:

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/factor_out_correction.py --sizes 5000 20000 100000
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import subprocess
import sys
import time

import numpy as np

STAGES = ("residualise", "of_layout", "conditional_mean_residual", "kmeans_groups", "mnn_moves")


def data(n: int, kind: str):
    """(x, prior) of the label or the feature benchmark at size ``n``."""
    import fischer_sc as fs
    from fischer_sc.core.embedding import Prior

    if kind == "labels":
        a = fs.datasets.gaussian_mixture(n)
        codes = a.obs["cluster"].cat.codes.to_numpy().astype(np.int64)
        return np.asarray(a.X, dtype=np.float64), Prior("labels", codes, "cluster")
    from fischer_sc.datasets._factor_out import factor_out_prior

    a = factor_out_prior("per_cluster", n=n, prior_sd=6.0, prior_dims=8, n_prior=4, random_state=0)
    return np.asarray(a.X, dtype=np.float64), Prior("features", np.asarray(a.obsm["X_prior"], np.float64), "z")


def measure(n: int, kind: str) -> dict:
    """CPU seconds of one ``local_correction`` call, by stage, and what it did."""
    import torch

    from fischer_sc.core.embedding import local_correction

    torch.set_num_threads(1)
    x, prior = data(n, kind)
    t = time.process_time()
    local_correction(x, prior, seed=0)
    total = time.process_time() - t
    profile = cProfile.Profile()
    profile.enable()
    _, info = local_correction(x, prior, seed=0)
    profile.disable()
    stages: dict[str, float] = {}
    for (path, _, name), (_, calls, _, cum, _) in pstats.Stats(profile).stats.items():
        if name in STAGES and "fischer_sc" in path:
            stages[name] = stages.get(name, 0.0) + cum
            stages[f"{name} calls"] = stages.get(f"{name} calls", 0) + calls
    rounds = [round(float(v), 4) for v in info.get("visibility_rounds", [])]
    return {
        "n": n,
        "prior": kind,
        "cpu_seconds": round(total, 2),
        **{k: round(v, 2) for k, v in stages.items()},
        "n_groups": info.get("n_groups"),
        "visibility_data": round(info["visibility_data"], 4),
        "visibility_rounds": rounds,
        "visibility_corrected": info.get("visibility_corrected"),
    }


def main() -> None:
    """Run each (n, prior) in a child process and print one JSON row each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 100000])
    parser.add_argument("--priors", nargs="+", default=["labels", "features"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(int(args.child[0]), args.child[1])), flush=True)
        return
    for n in args.sizes:
        for kind in args.priors:
            subprocess.run([sys.executable, __file__, "--child", str(n), kind], check=True)


if __name__ == "__main__":
    main()

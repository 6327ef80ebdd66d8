"""DiffNaps over generator families (marginal and interaction patterns, 150-100k features) beside mlxtend's FP-growth.

Families (each a planted ground truth; soft-F1 per class, averaged, as in the DiffNaps paper):

- ``marginal``: fs.datasets.planted_patterns, 3 classes x 1 000 rows, 5 patterns of 5-10 items per
  class, 2 per row, 10 random ones per row, 2.5 % destructive noise, label purity 0.9 (the issue's
  setting), and variants of one knob each: pattern length, count, overlap (150 features, so the
  patterns of the 3 classes share items), additive/destructive noise, label noise, and the paper's
  own setting (2 classes, 10 patterns of 5-14 items, 3 per row, 20 common patterns).
- ``interaction``: fs.datasets.interaction_patterns, 3 classes x 1 000 rows, 3 patterns of 4 items
  per class; every planted item is present in 40 % of every class, the items of a pattern co-occur
  only in its own class; 100 decoy features as frequent as the planted items; 10 random ones per row;
  label purity 0.9; 1k, 10k and 100k features (and a variant with 2.5 % destructive noise).

Methods, each in its own child process (wall time, CPU time, peak memory = VmHWM; threads set
before import; a memory cap of 8 GB):

- ``diffnaps``: fs.tl.diffnaps with its defaults but 10 epochs;
- ``diffnaps (network only)``: the same with ``cooccurrence=False`` (the network's patterns, judged
  by the same joint-support test);
- ``fpgrowth``: mlxtend's fpgrowth on each class's rows (items below the min support dropped
  first), itemsets of >= 2 items kept when more frequent in their class than outside (precision >
  0.5, the filter of benchmarks/diffnaps.py), then only the maximal ones per class.

    python benchmarks/diffnaps_sweep.py                          # every family
    python benchmarks/diffnaps_sweep.py --only interaction-100k  # one row
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

CHILD = r"""
import json, resource, sys, time
import numpy as np
from scipy import sparse
method, data_path, out_path, threads, opts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
cap = int(opts.pop("mem_cap_gb", 8) * 2**30)
resource.setrlimit(resource.RLIMIT_AS, (cap + 2**30, cap + 2**30))
d = np.load(data_path, allow_pickle=True)
x = sparse.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"]))
labels = d["labels"]
t = time.perf_counter()
found = {}
if method == "diffnaps":
    import anndata as ad, pandas as pd, torch
    import fischer_sc as fs
    torch.set_num_threads(threads)
    a = ad.AnnData(x, obs=pd.DataFrame({"class": pd.Categorical(labels)}, index=[str(i) for i in range(x.shape[0])]))
    fs.tl.diffnaps(a, "class", progress=False, **opts)
    tab = a.uns["diffnaps"]["patterns"]
    tab = tab[tab["group"].notna()]
    for g, f in zip(tab["group"].astype(str), tab["features"]):
        found.setdefault(g, []).append([int(v) for v in f.split(",")])
else:
    import pandas as pd
    from mlxtend.frequent_patterns import fpgrowth
    xb = x.astype(bool).tocsc()
    for k in sorted(set(labels.tolist())):
        rows = xb[labels == k]
        keep = np.flatnonzero(np.asarray(rows.mean(axis=0)).ravel() >= opts["min_support"])
        df = pd.DataFrame(rows[:, keep].toarray(), columns=[int(j) for j in keep])
        sets = fpgrowth(df, min_support=opts["min_support"], use_colnames=True, max_len=opts.get("max_len"))
        kept = []
        for items in sets["itemsets"]:
            cols = sorted(items)
            if len(cols) < 2:
                continue
            holds = np.asarray(xb[:, cols].sum(axis=1)).ravel() == len(cols)
            if holds.sum() and (holds & (labels == k)).sum() / holds.sum() > 0.5:
                kept.append(frozenset(cols))
        maximal = [s for s in kept if not any(s < o for o in kept)]
        if maximal:
            found[str(k)] = [sorted(int(c) for c in s) for s in maximal]
seconds = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
json.dump(found, open(out_path, "w"))
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "cpu_seconds": ru.ru_utime + ru.ru_stime, "peak_mb": hwm / 1024}))
"""

ISSUE = {
    "n_classes": 3,
    "n_obs_per_class": 1000,
    "n_patterns": 5,
    "pattern_length": (5, 11),
    "patterns_per_row": 2,
    "n_random": 10,
    "destructive_noise": 0.025,
    "label_purity": 0.9,
    "n_common": 0,
}
INTERACTION = {"n_classes": 3, "n_obs_per_class": 1000, "label_purity": 0.9}

# name -> (generator, n_features, settings)
FAMILIES = {
    "marginal (issue setting)": ("planted", 1000, ISSUE),
    "marginal, short patterns (3-4)": ("planted", 1000, {**ISSUE, "pattern_length": (3, 5)}),
    "marginal, long patterns (10-15)": ("planted", 1000, {**ISSUE, "pattern_length": (10, 16)}),
    "marginal, 10 patterns, 3 per row": ("planted", 1000, {**ISSUE, "n_patterns": 10, "patterns_per_row": 3}),
    "marginal, overlapping (150 features)": ("planted", 150, ISSUE),
    "marginal, 50 random ones per row": ("planted", 1000, {**ISSUE, "n_random": 50}),
    "marginal, 10 % destructive noise": ("planted", 1000, {**ISSUE, "destructive_noise": 0.1}),
    "marginal, label purity 0.7": ("planted", 1000, {**ISSUE, "label_purity": 0.7}),
    "marginal, the paper's setting (2 classes, common patterns)": ("planted", 1000, {"n_classes": 2}),
    "interaction-1k": ("interaction", 1000, INTERACTION),
    "interaction-1k, 2.5 % destructive noise": ("interaction", 1000, {**INTERACTION, "destructive_noise": 0.025}),
    "interaction-1k, 5 items, purity 0.8": (
        "interaction",
        1000,
        {**INTERACTION, "pattern_length": (5, 6), "label_purity": 0.8},
    ),
    "interaction-10k": ("interaction", 10000, INTERACTION),
    "interaction-100k": ("interaction", 100000, INTERACTION),
}


def make(kind: str, m: int, settings: dict, seed: int):
    import fischer_sc as fs

    if kind == "planted":
        return fs.datasets.planted_patterns(m, random_state=seed, **settings)
    return fs.datasets.interaction_patterns(m, random_state=seed, **settings)


def run(method: str, data: Path, opts: dict, threads: int, cap_s: float, workdir: Path) -> tuple[dict, dict]:
    out = workdir / f"{method}.json"
    env = {**os.environ, **{v: str(threads) for v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS")}}
    t = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, method, str(data), str(out), str(threads), json.dumps(opts)],
            capture_output=True,
            text=True,
            env=env,
            timeout=cap_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"over the {cap_s:.0f} s cap", "seconds": time.perf_counter() - t}, {}
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        return {"error": last[:120], "seconds": time.perf_counter() - t}, {}
    return json.loads(proc.stdout.strip().splitlines()[-1]), json.load(open(out))


def main() -> None:
    import pandas as pd

    import fischer_sc as fs

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", default=None, help="family names (prefixes) to run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cap", type=float, default=900.0, help="wall-time cap of a run, seconds")
    parser.add_argument("--peer-cap", type=float, default=120.0, help="wall-time cap of an fpgrowth run, seconds")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--min-support", type=float, default=0.2, help="fpgrowth's min support per class")
    parser.add_argument("--methods", nargs="+", default=["diffnaps", "network-only", "fpgrowth"])
    args = parser.parse_args()
    methods = {
        "diffnaps": ("diffnaps", {"n_epochs": args.epochs}),
        "network-only": ("diffnaps", {"n_epochs": args.epochs, "cooccurrence": False}),
        "fpgrowth": ("fpgrowth", {"min_support": args.min_support}),
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, (kind, m, settings) in FAMILIES.items():
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            for seed in args.seeds:
                adata = make(kind, m, settings, seed)
                x = adata.X.tocsr()
                labels = adata.obs["class"].astype(str).to_numpy()
                data = work / "x.npz"
                np.savez(data, data=x.data, indices=x.indices, indptr=x.indptr, shape=np.array(x.shape), labels=labels)
                truth = {
                    g: [[int(f[1:]) for f in p] for p in ps]
                    for g, ps in fs.datasets.planted_pattern_sets(adata.uns["planted"]["patterns"]).items()
                }
                for label in args.methods:
                    method, opts = methods[label]
                    cap = args.cap if method == "diffnaps" else args.peer_cap
                    res, found = run(method, data, {**opts, "mem_cap_gb": 8}, args.threads, cap, work)
                    row = {"family": name, "m": m, "seed": seed, "method": label}
                    if "error" in res:
                        row.update({"seconds": res["seconds"], "note": res["error"]})
                    else:
                        row.update(
                            {
                                **fs.metrics.class_soft_f1(found, truth),
                                "n_patterns": sum(len(v) for v in found.values()),
                                "seconds": res["seconds"],
                                "cpu_seconds": res["cpu_seconds"],
                                "peak_mb": res["peak_mb"],
                            }
                        )
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    table = pd.DataFrame(rows)
    print(table.round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()

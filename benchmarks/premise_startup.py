"""Premise start-up: the first call in a fresh process (numba's on-disk cache warm or cold) against pypremise.

Each measurement is its own child process, interleaved per size and repeat: pypremise, ours with
numba's cache as installed (warm), ours with an empty cache directory (``NUMBA_CACHE_DIR``: the
first run after an install, every kernel compiled). A child reports its import time (ours:
``fischer_sc_premise``; pypremise's: its wrapper), its first call and, for ours, a second call in
the same process. Data: `planted_errors(n, m, rule_sizes=(1, 2, 3), rule_ranks=[(3, 20)] * 3)`,
one thread per method.

    python benchmarks/premise_startup.py
    python benchmarks/premise_startup.py --sizes 500x100 5000x1000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fischer_sc_premise import planted_errors

CHILD = r"""
import json, sys, time, warnings
import numpy as np
from scipy import sparse
method, data_path = sys.argv[1], sys.argv[2]
npz = np.load(data_path)
X = sparse.csr_matrix((npz["data"], npz["indices"], npz["indptr"]), shape=tuple(npz["shape"]))
y = npz["y"]
out = {}
t = time.perf_counter()
if method == "pypremise":
    from pypremise import Premise, data_loaders
else:
    from fischer_sc_premise import premise
out["import"] = time.perf_counter() - t
for key in ("first", "second") if method != "pypremise" else ("first",):
    t = time.perf_counter()
    if method == "pypremise":
        rows = [X.indices[X.indptr[i]:X.indptr[i + 1]].tolist() for i in range(X.shape[0])]
        with warnings.catch_warnings(action="ignore"):
            Premise().find_patterns(data_loaders.from_sparse_index_lists(rows, [0 if e else 1 for e in y]))
    else:
        premise(X, y, progress=False)
    out[key] = time.perf_counter() - t
print(json.dumps(out))
"""


def child(method: str, data: Path, cache_dir: str | None) -> dict:
    env = {**os.environ, **dict.fromkeys(("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS"), "1")}
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    done = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(data)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["300x50", "1000x200", "2000x500", "5000x1000", "10000x2000"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "premise_startup.md"))
    args = parser.parse_args()
    lines = [
        "# Premise start-up vs pypremise",
        "",
        f"Written by `benchmarks/premise_startup.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs; median of {args.repeats} fresh "
        "processes per cell, interleaved).",
        "",
        "| n | m | non-zeros | pypremise import / call s | ours import s | ours first call s (warm cache) "
        "| ours first call s (cold cache) | ours second call s | first call vs pypremise (warm / cold) "
        "| import + first call vs pypremise's (warm) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for size in args.sizes:
        n, m = (int(v) for v in size.split("x"))
        d = planted_errors(n, m, rule_sizes=(1, 2, 3), rule_ranks=[(3, 20)] * 3, random_state=0)
        keep = np.diff(d.X.indptr) > 0  # pypremise's binary aborts on instances without tokens
        X, y = d.X[keep], d.is_error[keep]
        runs: dict[str, list[dict]] = {"pypremise": [], "warm": [], "cold": []}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "data.npz"
            np.savez(path, data=X.data, indices=X.indices, indptr=X.indptr, shape=X.shape, y=y)
            for rep in range(args.repeats):
                runs["pypremise"].append(child("pypremise", path, None))
                runs["warm"].append(child("fischer_sc", path, None))
                runs["cold"].append(child("fischer_sc", path, str(Path(tmp) / f"numba_cache_{rep}")))

        def med(kind: str, key: str, runs: dict[str, list[dict]] = runs) -> float:
            return float(np.median([r[key] for r in runs[kind]]))

        peer = med("pypremise", "first")
        peer_total = med("pypremise", "import") + peer
        row = (
            f"| {n} | {m} | {X.nnz} | {med('pypremise', 'import'):.2f} / {peer:.2f} | {med('warm', 'import'):.2f} "
            f"| {med('warm', 'first'):.2f} | {med('cold', 'first'):.2f} | {med('warm', 'second'):.2f} "
            f"| {med('warm', 'first') / peer:.2f}x / {med('cold', 'first') / peer:.2f}x "
            f"| {(med('warm', 'import') + med('warm', 'first')) / peer_total:.2f}x |"
        )
        lines.append(row)
        print(row, flush=True)
    lines += [
        "",
        "Imports: ours is `import fischer_sc_premise; from fischer_sc_premise import premise` (fischer_sc, scipy.stats,",
        "pandas, numba), a once-per-session cost; pypremise's wrapper imports almost nothing. Calls include",
        "pypremise's wrapper writing its input files and our input conversion and DataFrame.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

"""Premise (fischer_sc_premise) against pypremise's C++ binary on planted error rules of growing size.

Both run in their own child process on the same planted-rule data (Zipf background tokens, single
tokens and 2-3 token conjunctions planted as error rules, `fischer_sc_premise.planted_errors`).
The table gives the soft-F1 of the error-direction patterns against the planted rules, the wall
time, peak memory and our time relative to pypremise's in the same run.

    python benchmarks/premise.py                                  # 5k x 1k, 20k x 5k
    python benchmarks/premise.py --sizes 200000x50000 --methods fischer_sc --timeout 3600
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import sparse

from fischer_sc.metrics import soft_precision_recall_f1
from fischer_sc_premise import planted_errors

CHILD = r"""
import json, sys, time
import numpy as np
from scipy import sparse
method, data_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
npz = np.load(data_path)
X = sparse.csr_matrix((npz["data"], npz["indices"], npz["indptr"]), shape=tuple(npz["shape"]))
is_error = npz["is_error"]
# Imports happen once per session, so they are outside the timed call (numba's cache load is inside).
if method == "fischer_sc":
    from fischer_sc_premise import premise
else:
    from pypremise import Premise, data_loaders
t = time.perf_counter()
if method == "fischer_sc":
    df = premise(X, is_error, progress=False)
    found = [[[int(a) for a in c] for c in cl] for cl in df["clauses"]]
    direction = df["direction"].tolist()
else:
    rows = [X.indices[X.indptr[i]:X.indptr[i + 1]].tolist() for i in range(X.shape[0])]
    # pypremise group 0 = errors, group 1 = correct predictions.
    inst = data_loaders.from_sparse_index_lists(rows, [0 if e else 1 for e in is_error])
    res = Premise().find_patterns(inst)
    found = [[[int(a) for a in c] for c in r.pattern.clauses] for r in res]
    direction = ["error" if r.direction.value == 0 else "correct" for r in res]
seconds = time.perf_counter() - t
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
json.dump({"seconds": seconds, "peak_mb": hwm / 1024, "patterns": found, "direction": direction}, open(out_path, "w"))
"""


def run_method(method: str, data_path: Path, workdir: Path, threads: int, timeout: float) -> dict:
    out = workdir / f"{method}.json"
    env = {**os.environ, **{v: str(threads) for v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS")}}
    t = time.perf_counter()
    # A session of its own, so that a timeout also ends pypremise's C++ grandchild.
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, method, str(data_path), str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"status": f"timeout after {timeout:.0f} s"}
    if proc.returncode != 0:
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        reason = next((ln for ln in lines if "Assertion" in ln or "Error" in ln), lines[-1] if lines else "")
        return {"status": f"failed (exit {proc.returncode}): {reason[:200]}".replace("|", "/")}
    res = json.loads(out.read_text())
    res["status"] = "ok"
    res["process_seconds"] = time.perf_counter() - t
    return res


def score(res: dict, planted: list[tuple[int, ...]]) -> tuple[float, float, float, int]:
    found = [
        {a for c in cl for a in c} for cl, d in zip(res["patterns"], res["direction"], strict=True) if d == "error"
    ]
    p, r, f = soft_precision_recall_f1(found, planted)
    return p, r, f, len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["5000x1000", "20000x5000"], help="n_instances x n_tokens")
    parser.add_argument("--methods", nargs="+", default=["fischer_sc", "pypremise"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--token-ranks",
        nargs="+",
        default=["default"],
        help="rank ranges lo:hi of the planted rule tokens (0 = most frequent); 'default' = mid-frequency",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "premise.md"))
    parser.add_argument("--append", action="store_true", help="append to the results file instead of replacing it")
    args = parser.parse_args()

    lines = [
        f"### run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs, {args.threads} thread(s) per method)",
        "",
        "| n | m | rule token ranks | seed | method | status | soft-P | soft-R | soft-F1 | error patterns | all patterns | seconds "
        "| peak MB | time vs pypremise |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    cases = [(size, ranks, seed) for size in args.sizes for ranks in args.token_ranks for seed in args.seeds]
    for size, ranks, seed in cases:
        n, m = (int(v) for v in size.lower().split("x"))
        rank_range = None if ranks == "default" else tuple(int(v) for v in ranks.split(":"))
        d = planted_errors(n, m, random_state=seed, rule_token_ranks=rank_range)
        # pypremise's binary aborts on an instance without tokens (its row counts disagree), so both
        # methods get the instances that hold at least one.
        keep = np.diff(d.X.indptr) > 0
        d.X, d.is_error = d.X[keep], d.is_error[keep]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            path = work / "data.npz"
            X = sparse.csr_matrix(d.X)
            np.savez(path, data=X.data, indices=X.indices, indptr=X.indptr, shape=X.shape, is_error=d.is_error)
            results = {meth: run_method(meth, path, work, args.threads, args.timeout) for meth in args.methods}
        peer = results.get("pypremise", {})
        for meth, res in results.items():
            if res["status"] != "ok":
                row = f"| {n} | {m} | {ranks} | {seed} | {meth} | {res['status']} | | | | | | | | |"
            else:
                p, r, f, n_err = score(res, d.rules)
                ratio = (
                    f"{res['seconds'] / peer['seconds']:.2g}x"
                    if peer.get("status") == "ok" and meth != "pypremise"
                    else ""
                )
                row = (
                    f"| {n} | {m} | {ranks} | {seed} | {meth} | ok | {p:.3f} | {r:.3f} | {f:.3f} | {n_err} | "
                    f"{len(res['patterns'])} | {res['seconds']:.2f} | {res['peak_mb']:.0f} | {ratio} |"
                )
            lines.append(row)
            print(row, flush=True)
    lines += [
        "",
        "Planted rules: `planted_errors(n, m, seed)` defaults (2 single tokens, 2 pairs, 2 triples, each in 3 % of",
        "instances, error rate 0.8 with a rule and 0.15 without; Zipf(1.1) background, 12 tokens per instance).",
        "soft-F1 compares the error-direction patterns (clauses flattened to token sets) with the planted rules.",
        "pypremise's seconds include its wrapper writing the input files and parsing the output; ours include",
        "the CSR conversion; imports are outside the timer for both (our first call does load numba's cache).",
        "Peak MB is the child's VmHWM (pypremise's is the Python wrapper's; its C++ child is not included).",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = "# Premise vs pypremise\n\nWritten by `benchmarks/premise.py`.\n\n"
    if args.append and out.exists():
        out.write_text(out.read_text() + "\n" + "\n".join(lines) + "\n")
    else:
        out.write_text(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

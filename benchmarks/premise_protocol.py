"""The paper's synthetic protocol: independent token densities, conjunctions, disjunctions of synonyms.

n = 5 000 instances, m tokens with densities ~ U(0.01, 0.1); 5 conjunctions of 2-4 tokens and 2
disjunctions (one of 3 synonyms & one token), each planted into 3 % of the instances, which are
errors with probability 0.8 (0.15 elsewhere). The synonyms get nearby synthetic vectors (a shared
random unit vector + N(0, 0.1^2) noise). Soft-F1 of the error-direction patterns (clauses flattened)
against the planted ones; the target is >= 0.8 for m <= 200.

    python benchmarks/premise_protocol.py --pypremise
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import sparse

from fischer_sc.metrics import soft_precision_recall_f1


def spec_protocol(n: int, m: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.random((n, m)) < rng.uniform(0.01, 0.1, size=m)
    perm = rng.permutation(m)
    sizes = rng.integers(2, 5, size=5)
    conj, start = [], 0
    for s in sizes:
        conj.append(perm[start : start + s].tolist())
        start += s
    disj = []
    for _ in range(2):
        disj.append((perm[start : start + 3].tolist(), int(perm[start + 3])))
        start += 4
    has = np.zeros(n, dtype=bool)
    for items in conj:
        hit = rng.random(n) < 0.03
        X[np.ix_(hit, items)] = True
        has |= hit
    for syns, item in disj:
        hit = np.flatnonzero(rng.random(n) < 0.03)
        X[hit, item] = True
        X[hit[:, None], np.asarray(syns)[None, :]] = False
        X[hit, rng.choice(syns, size=hit.size)] = True
        has[hit] = True
    y = rng.random(n) < np.where(has, 0.8, 0.15)
    emb = rng.normal(size=(m, 50))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    for syns, _ in disj:
        u = rng.normal(size=50)
        emb[syns] = u / np.linalg.norm(u) + rng.normal(scale=0.1, size=(3, 50))
    planted = [set(c) for c in conj] + [set(s) | {i} for s, i in disj]
    return sparse.csr_matrix(X.astype(np.int8)), y, emb, planted


def main() -> None:
    from fischer_sc_premise import premise

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=int, default=[50, 200, 1000])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--pypremise", action="store_true")
    args = parser.parse_args()
    lines = ["| m | seed | method | soft-F1 (error) | seconds |", "|---|---|---|---|---|"]
    print("\n".join(lines))
    for m in args.sizes:
        for seed in args.seeds:
            X, y, emb, planted = spec_protocol(5000, m, seed)
            for name, kw in (("fischer_sc", {}), ("fischer_sc + embeddings", {"embeddings": emb})):
                t = time.perf_counter()
                df = premise(X, y, progress=False, **kw)
                sec = time.perf_counter() - t
                found = [
                    {a for c in cl for a in c}
                    for cl, d in zip(df["clauses"], df["direction"], strict=True)
                    if d == "error"
                ]
                lines.append(
                    f"| {m} | {seed} | {name} | {soft_precision_recall_f1(found, planted)[2]:.3f} | {sec:.2f} |"
                )
                print(lines[-1], flush=True)
            if args.pypremise:
                from pypremise import Premise, data_loaders

                rows = [X.indices[X.indptr[i] : X.indptr[i + 1]].tolist() for i in range(X.shape[0])]
                keep = [i for i, r in enumerate(rows) if r]
                t = time.perf_counter()
                res = Premise().find_patterns(
                    data_loaders.from_sparse_index_lists([rows[i] for i in keep], [0 if y[i] else 1 for i in keep])
                )
                sec = time.perf_counter() - t
                found = [{a for c in r.pattern.clauses for a in c} for r in res if r.direction.value == 0]
                lines.append(
                    f"| {m} | {seed} | pypremise | {soft_precision_recall_f1(found, planted)[2]:.3f} | {sec:.2f} |"
                )
                print(lines[-1], flush=True)
    out = Path(__file__).parent / "results" / "premise_protocol.md"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    header = f"# Premise: the paper's synthetic protocol\n\nWritten by `benchmarks/premise_protocol.py` ({stamp}, in process, 1 thread).\n\n"
    out.write_text(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

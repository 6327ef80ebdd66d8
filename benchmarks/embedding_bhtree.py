"""How much the second-order Barnes-Hut cells gain over first-order pseudo-points, at the same acceptance.

On a converged dtSNE embedding (``fs.tl.dtsne`` on a toy, pair scale "mean"), the relative error of
the repulsion and of Z of the package's tree (second order) and of a slow first-order quadtree that
accepts the same cells (each as one point at its centre of mass with the cell's mean width) are
measured against the exact sums.

    python benchmarks/embedding_bhtree.py --n 1000 --theta 0.8 1.0
"""

from __future__ import annotations

import argparse

import numpy as np


def first_order(y: np.ndarray, s: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadtree Barnes-Hut with monopole cells and the package's acceptance rule (pair scale "mean")."""
    n = len(y)
    lo, side = y.min(axis=0), np.ptp(y, axis=0).max() * (1 + 1e-9)
    tree: dict[int, tuple] = {}

    def build(idx: np.ndarray, corner: np.ndarray, width: float) -> int:
        key = len(tree)
        kids: list[int] = []
        tree[key] = (idx, width, kids, y[idx].mean(axis=0), (s[idx] + 0.0))
        if len(idx) > 4:
            half = width / 2
            quad = ((y[idx] - corner) >= half).astype(int) @ np.array([1, 2])
            for q in range(4):
                sub = idx[quad == q]
                if len(sub):
                    kids.append(build(sub, corner + half * np.array([q & 1, q >> 1]), half))
        return key

    build(np.arange(n), lo, side)
    rep, z = np.zeros_like(y), np.zeros(n)
    for i in range(n):
        stack = [0]
        while stack:
            idx, width, kids, com, sj = tree[stack.pop()]
            d2 = float(np.sum((y[i] - com) ** 2))
            widths = (s[i] + sj) ** 2 / 4
            u = widths.mean()
            inside = idx[0] <= i <= idx[-1] and i in idx
            if kids and not inside and width**2 < theta**2 * (u + d2) and widths.var() < (theta * (u + d2)) ** 2:
                z[i] += len(idx) * u / (u + d2)
                rep[i] += len(idx) * u / (u + d2) ** 2 * (y[i] - com)
            elif kids:
                stack.extend(kids)
            else:
                for j in idx[idx != i]:
                    uj = (s[i] + s[j]) ** 2 / 4
                    dj = float(np.sum((y[i] - y[j]) ** 2))
                    z[i] += uj / (uj + dj)
                    rep[i] += uj / (uj + dj) ** 2 * (y[i] - y[j])
    return rep, z


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="points (the first-order reference is slow Python)")
    parser.add_argument("--preset", default="g10d", help="fs.datasets.gaussian_blobs preset")
    parser.add_argument("--theta", type=float, nargs="+", default=[0.8, 1.0])
    args = parser.parse_args()

    import fischer_sc as fs
    from fischer_sc.core.embedding import perplexity_affinities, point_scales
    from fischer_sc.core.embedding._bhtree import repulsion_barnes_hut
    from fischer_sc.core.embedding._forces import repulsion_exact

    a = fs.datasets.gaussian_blobs(args.preset, random_state=0)
    a = a[np.random.default_rng(0).choice(a.n_obs, min(args.n, a.n_obs), replace=False)].copy()
    fs.tl.dtsne(a, use_rep="X", repulsion="exact", progress=False)
    y = np.ascontiguousarray(a.obsm["X_dtsne"], dtype=np.float64)
    idx, dist = fs.core.embedding.knn(np.asarray(a.X, dtype=np.float64), 90)
    s = point_scales(perplexity_affinities(idx, dist, 30.0).beta)
    rep, zr = np.empty_like(y), np.empty(len(y))
    repulsion_exact(y, s, 0, rep, zr)
    print("| n | theta | repulsion error, 2nd order | 1st order | ratio | Z error, 2nd order | 1st order | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for theta in args.theta:
        rb, zb = np.empty_like(y), np.empty(len(y))
        repulsion_barnes_hut(y, s, 0, theta, rb, zb)
        r1, z1 = first_order(y, s, theta)
        e2 = np.linalg.norm(rb - rep) / np.linalg.norm(rep)
        e1 = np.linalg.norm(r1 - rep) / np.linalg.norm(rep)
        z2e, z1e = abs(zb.sum() / zr.sum() - 1), abs(z1.sum() / zr.sum() - 1)
        print(f"| {len(y)} | {theta} | {e2:.2e} | {e1:.2e} | {e1 / e2:.1f} | {z2e:.2e} | {z1e:.2e} | {z1e / z2e:.1f} |")


if __name__ == "__main__":
    main()

"""The grouped Barnes-Hut walk (``_bhgroup``) against a slow numpy reference, exact sums and finite differences."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from fischer_sc.core.embedding import _bhgroup
from fischer_sc.core.embedding._bhgroup import group_nodes, traverse_grouped
from fischer_sc.core.embedding._bhtree import (
    _COM,
    _COV,
    _POW,
    _REACH2,
    _SIZE,
    LEAF_SIZE,
    build_tree,
    gather_sorted,
    morton_keys,
    morton_order,
    repulsion_barnes_hut,
    summarise,
    traverse,
)
from fischer_sc.core.embedding._forces import attraction, repulsion_exact
from fischer_sc.core.embedding._pair_scale import pair_widths


def clustered(n: int, dim: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Five Gaussian clusters of spreads 0.5-4 and radii growing with the spread."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(5, dim)) * 20
    lab = rng.integers(0, 5, n)
    spread = np.array([0.5, 1, 2, 3, 4])[lab]
    return centres[lab] + rng.normal(size=(n, dim)) * spread[:, None], spread / 2 * rng.uniform(0.8, 1.25, n)


def tree_of(y: np.ndarray, s: np.ndarray, theta: float):
    """The tree and node table ``repulsion_barnes_hut`` builds, in tree order."""
    n, dim = y.shape
    keys, side, _ = morton_keys(y, 21)
    order = morton_order(keys)
    start, stop, level, first, count = build_tree(keys[order], dim, 21, LEAF_SIZE)
    pts, ss = np.zeros((3, n)), np.empty(n)
    gather_sorted(y, s, order, pts, ss)
    nodes = summarise(pts, ss, start, stop, level, first, count, side, theta)
    return pts, ss, start, stop, level, first, count, nodes


def reference_groups(start, stop, first, count, size) -> list[int]:
    """Groups by their definition: descend from the root until a node holds at most ``size`` points."""
    out, stack = [], [0]
    while stack:
        node = stack.pop()
        if stop[node] - start[node] <= size:
            out.append(node)
        else:
            stack.extend(range(first[node], first[node] + count[node]))
    return sorted(out, key=lambda g: start[g])


def cell_moments(code: int, a: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of u_ij over a cell for points of radii ``a``, from its mean powers of s (as ``_bhtree``)."""
    m1, m2, m3, m4 = row[_POW : _POW + 4]
    if code == 0:
        mean = 0.25 * (a * a + 2 * a * m1 + m2)
        second = (a**4 + 4 * a**3 * m1 + 6 * a**2 * m2 + 4 * a * m3 + m4) / 16
    elif code == 1:
        mean, second = a * m1, a * a * m2
    else:
        return np.ones_like(a), np.zeros_like(a)
    return mean, np.maximum(second - mean * mean, 0.0)


def reference_grouped(pts, ss, code, start, stop, first, count, nodes, theta, size):
    """Slow numpy version of ``traverse_grouped``: per group a Python walk, then numpy sums over the group's points."""
    n = ss.shape[0]
    y = pts[:2].T
    rep, z = np.zeros((n, 2)), np.zeros(n)
    for g in reference_groups(start, stop, first, count, size):
        ga, gb = start[g], stop[g]
        members = np.arange(ga, gb)
        lo, hi = y[members].min(axis=0), y[members].max(axis=0)
        slo, shi = ss[members].min(), ss[members].max()
        cells, direct, stack = [], list(members), [0]
        while stack:
            node = stack.pop()
            a, b = start[node], stop[node]
            if a < gb and ga < b:
                if node != g:
                    stack.extend(range(first[node], first[node] + count[node]))
                continue
            if count[node] == 0:
                direct.extend(range(a, b))
                continue
            com = nodes[node, _COM : _COM + 2]
            gap = np.maximum(np.maximum(lo - com, com - hi), 0.0)
            u_lo, _ = cell_moments(code, np.array([slo]), nodes[node])
            _, var_hi = cell_moments(code, np.array([shi]), nodes[node])
            inv = 1.0 / (u_lo[0] + gap @ gap)
            if nodes[node, _REACH2] * inv < 1.0 and var_hi[0] * inv * inv < theta * theta:
                cells.append(node)
            else:
                stack.extend(range(first[node], first[node] + count[node]))
        for p in members:
            q = np.array([j for j in direct if j != p], dtype=np.int64)
            u = pair_widths(code, np.full(q.shape, ss[p]), ss[q])
            diff = y[p] - y[q]
            w = u / (u + (diff**2).sum(1))
            z[p] += w.sum()
            rep[p] += ((w * w / u)[:, None] * diff).sum(0)
            for node in cells:
                row = nodes[node]
                r = y[p] - row[_COM : _COM + 2]
                d2 = r @ r
                cov = np.array([[row[_COV], row[_COV + 3]], [row[_COV + 3], row[_COV + 1]]])
                u, var = (v[0] for v in cell_moments(code, np.array([ss[p]]), row))
                inv = 1.0 / (u + d2)
                tr, cr = np.trace(cov), cov @ r
                rcr = r @ cr
                size_ = row[_SIZE]
                z[p] += size_ * (u * inv - d2 * var * inv**3 - u * inv**2 * tr + 4 * u * inv**3 * rcr)
                f = u * inv**2 + (u - 2 * d2) * var * inv**4 - 2 * u * inv**3 * tr + 12 * u * inv**4 * rcr
                rep[p] += size_ * (f * r - 4 * u * inv**3 * cr)
    return rep, z


def test_groups_partition_the_points_by_their_definition():
    y, s = clustered(900)
    _, _, start, stop, _, first, count, _ = tree_of(y, s, 1.0)
    for size in (4, 8, 32, 5000):
        groups = group_nodes(start, stop, first, count, size)
        assert list(groups) == reference_groups(start, stop, first, count, size)
        bounds = np.concatenate([[start[g], stop[g]] for g in groups])
        assert bounds[0] == 0 and bounds[-1] == 900
        np.testing.assert_array_equal(bounds[1:-1:2], bounds[2::2])  # consecutive, no gaps
        assert np.all(stop[groups] - start[groups] <= size)


@pytest.mark.parametrize("code", [0, 1, 2])
@pytest.mark.parametrize(("size", "capacity"), [(8, 1024), (32, 6)])
def test_grouped_walk_matches_the_numpy_reference(code, size, capacity):
    """Also with lists so short that they are summed and emptied many times during a walk."""
    y, s = clustered(500, seed=code)
    pts, ss, start, stop, level, first, count, nodes = tree_of(y, s, 0.8)
    rep, z = np.full((500, 3), np.nan), np.full(500, np.nan)
    depth = int(level[-1]) + 2
    traverse_grouped(pts, ss, code, start, stop, first, count, nodes, 0.8, depth, rep, z, size, capacity)
    ref_rep, ref_z = reference_grouped(pts, ss, code, start, stop, first, count, nodes, 0.8, size)
    np.testing.assert_allclose(rep[:, :2], ref_rep, rtol=1e-8, atol=1e-12 * np.abs(ref_rep).max())
    np.testing.assert_allclose(z, ref_z, rtol=1e-10)
    assert np.all(rep[:, 2] == 0.0)


@pytest.mark.parametrize("code", [0, 1, 2])
def test_grouped_walk_is_at_least_as_accurate_as_the_per_point_walk(code):
    """Every cell it accepts passes the per-point test for each point of the group: finer cells, smaller force errors."""
    y, s = clustered(2000, seed=3)
    exact, z_exact = np.empty_like(y), np.empty(2000)
    repulsion_exact(y, s, code, exact, z_exact)
    pts, ss, start, stop, level, first, count, nodes = tree_of(y, s, 1.0)
    keys = morton_keys(y, 21)[0]
    order = morton_order(keys)
    ex, zx = exact[order], z_exact[order]
    depth = int(level[-1]) + 2
    errors = {}
    for name in ("grouped", "per_point"):
        rep, z = np.empty((2000, 3)), np.empty(2000)
        if name == "grouped":
            traverse_grouped(pts, ss, code, start, stop, first, count, nodes, 1.0, depth, rep, z)
        else:
            traverse(pts, ss, code, start, stop, first, count, nodes, 1.0, depth, 4, rep, z)
        errors[name] = np.linalg.norm(rep[:, :2] - ex) / np.linalg.norm(ex), abs(z.sum() / zx.sum() - 1)
    # The forces: lower error. Z, a sum of signed cell errors, may cancel better either way.
    assert errors["grouped"][0] < errors["per_point"][0]
    assert errors["grouped"][0] < 0.03 and errors["grouped"][1] < 5e-3, errors


@pytest.mark.parametrize("code", [0, 1, 2])
def test_grouped_repulsion_approaches_exact(code):
    y, s = clustered(1500, seed=5)
    exact, z_exact = np.empty_like(y), np.empty(1500)
    repulsion_exact(y, s, code, exact, z_exact)
    # (theta, bound on the relative force error, bound on the relative error of Z); measured
    # 0.018 / 0.003, 0.0016 / 0.0005, 2.6e-6 / 7e-6 for the three pair scales.
    for theta, force_bound, z_bound in ((1.0, 0.03, 5e-3), (0.5, 3e-3, 1e-3), (0.1, 1e-5, 2e-5)):
        rep, z = np.empty_like(y), np.empty(1500)
        repulsion_barnes_hut(y, s, code, theta, rep, z)
        assert np.linalg.norm(rep - exact) / np.linalg.norm(exact) < force_bound, theta
        assert abs(z.sum() / z_exact.sum() - 1) < z_bound, theta


@pytest.mark.parametrize("code", [0, 1, 2])
def test_gradient_from_grouped_repulsion_matches_finite_differences_of_kl(code):
    """4 (A - R / Z) with the grouped R and Z against central differences of the exact KL(P || Q)."""
    rng = np.random.default_rng(11 + code)
    n = 300
    y, s = clustered(n, seed=code)
    y = y / 4
    rows = np.repeat(np.arange(n), 5)
    cols = rng.integers(0, n, rows.size)
    keep = rows != cols
    from scipy import sparse

    P = sparse.csr_matrix((rng.random(keep.sum()), (rows[keep], cols[keep])), shape=(n, n))
    P = P + P.T
    P = sparse.csr_matrix(P / P.sum())
    P.sort_indices()
    pd = P.toarray()

    def kl(yy: np.ndarray) -> float:
        d2 = ((yy[:, None] - yy[None]) ** 2).sum(-1)
        u = pair_widths(code, s[:, None], s[None, :])
        w = u / (u + d2)
        np.fill_diagonal(w, 0.0)
        m = pd > 0
        return float(np.sum(pd[m] * np.log(pd[m] * w.sum() / w[m])))

    attr, rep, z = np.empty_like(y), np.empty_like(y), np.empty(n)
    attraction(P.indptr, P.indices, P.data, y, s, code, attr)
    repulsion_barnes_hut(y, s, code, 0.2, rep, z)
    grad = 4 * (attr - rep / z.sum())
    h = 1e-5
    fd = np.empty_like(y)
    for i in range(n):
        for c in range(2):
            yp, ym = y.copy(), y.copy()
            yp[i, c] += h
            ym[i, c] -= h
            fd[i, c] = (kl(yp) - kl(ym)) / (2 * h)
    assert np.linalg.norm(grad - fd) / np.linalg.norm(fd) < 1e-3


def test_grouped_walk_does_not_depend_on_the_thread_count(monkeypatch):
    y, s = clustered(4000, seed=7)
    pts, ss, start, stop, level, first, count, nodes = tree_of(y, s, 1.0)
    depth = int(level[-1]) + 2
    out = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(numba, "get_num_threads", lambda t=threads: t)
        rep, z = np.empty((4000, 3)), np.empty(4000)
        traverse_grouped(pts, ss, 0, start, stop, first, count, nodes, 1.0, depth, rep, z)
        out.append((rep, z))
    for rep, z in out[1:]:
        np.testing.assert_array_equal(rep, out[0][0])
        np.testing.assert_array_equal(z, out[0][1])


def test_width_coefficients_give_the_pair_widths():
    a, b = np.array([0.3, 1.0, 2.5]), np.array([1.7, 0.2, 2.5])
    for code in (0, 1, 2):
        c = _bhgroup.width_coefficients(code)
        np.testing.assert_allclose(c[0] * a * a + c[1] * a * b + c[2] * b * b + c[3], pair_widths(code, a, b))
        np.testing.assert_allclose(c[4:], [c[1] ** 2, 2 * c[1] * c[2], c[2] ** 2])

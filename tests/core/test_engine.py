"""The embedding engine against slow numpy references: calibration, affinities, forces, Barnes-Hut, gradient."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, sparse

from fischer_sc.core import num_threads
from fischer_sc.core.embedding import optimise, pca_init, perplexity_affinities, point_scales
from fischer_sc.core.embedding._affinities import balance_affinities, calibrate_beta, conditional_affinities, symmetrise
from fischer_sc.core.embedding._bhtree import (
    build_tree,
    gather_sorted,
    morton_keys,
    morton_order,
    repulsion_barnes_hut,
    scatter_back,
    summarise,
)
from fischer_sc.core.embedding._forces import (
    N_ATTRACTION_BLOCKS,
    attraction,
    attraction_symmetric,
    edge_log_kernel,
    gradient_step,
    repulsion_exact,
)
from fischer_sc.core.embedding._optimise import _Objective, kl_divergence, resolve_repulsion
from fischer_sc.core.embedding._pair_scale import pair_beta, pair_gamma, pair_width

CODES = {"mean": 0, "geometric": 1, None: 2}
RNG = np.random.default_rng(0)


# --- slow references -------------------------------------------------------------------------


def ref_gamma(code: int, si: float, sj: float) -> float:
    return {0: 1.0 / ((si + sj) / 2) ** 2, 1: 1.0 / (si * sj), 2: 1.0}[code]


def ref_pair_beta(code: int, bi: float, bj: float) -> float:
    sig_i, sig_j = 1 / np.sqrt(2 * bi), 1 / np.sqrt(2 * bj)
    return {0: 1 / (2 * ((sig_i + sig_j) / 2) ** 2), 1: 1 / (2 * sig_i * sig_j), 2: bi}[code]


def ref_kernel(y: np.ndarray, s: np.ndarray, code: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(y)
    g = np.array([[ref_gamma(code, s[i], s[j]) for j in range(n)] for i in range(n)])
    d2 = ((y[:, None] - y[None]) ** 2).sum(-1)
    w = 1 / (1 + g * d2)
    np.fill_diagonal(w, 0.0)
    return g, w


def ref_kl(y: np.ndarray, p: np.ndarray, s: np.ndarray, code: int) -> float:
    _, w = ref_kernel(y, s, code)
    q = w / w.sum()
    m = p > 0
    return float(np.sum(p[m] * np.log(p[m] / q[m])))


def random_p(n: int, density: float = 0.3) -> sparse.csr_matrix:
    a = RNG.random((n, n)) * (RNG.random((n, n)) < density)
    a = a + a.T
    np.fill_diagonal(a, 0)
    a[0, 1] = a[1, 0] = 0.5  # no empty rows
    p = sparse.csr_matrix(a / a.sum())
    p.sort_indices()
    return p


# --- pair scales -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 1, 2])
def test_pair_scales_match_closed_forms(code):
    for bi, bj in [(1.0, 1.0), (0.3, 5.0), (20.0, 0.01)]:
        assert pair_beta(code, bi, bj) == pytest.approx(ref_pair_beta(code, bi, bj), rel=1e-12)
        si, sj = np.sqrt(1 / bi), np.sqrt(1 / bj)
        assert pair_gamma(code, si, sj) == pytest.approx(ref_gamma(code, si, sj), rel=1e-12)
        assert pair_width(code, si, sj) == pytest.approx(1.0 / ref_gamma(code, si, sj), rel=1e-12)


def test_point_scales_median_and_clip():
    s = point_scales(np.array([1.0, 4.0, 0.25, 1e12]))
    # median beta = 2.5: s = sqrt(2.5 / beta); the near-duplicate is clipped at 1e-3
    np.testing.assert_allclose(s[:3], np.sqrt(2.5 / np.array([1.0, 4.0, 0.25])))
    assert s[3] == pytest.approx(1e-3)


# --- calibration and affinities --------------------------------------------------------------


def test_calibration_reaches_the_perplexity_like_a_root_finder():
    d2 = RNG.random((30, 20)) * RNG.uniform(0.1, 10, (30, 1))
    d2[3, :5] = 0.0  # duplicates
    beta = calibrate_beta(d2, 7.0, 1e-10, 200)
    for i in range(30):

        def entropy_gap(log_b, row=d2[i]):
            p = np.exp(-np.exp(log_b) * (row - row.min()))
            p /= p.sum()
            return -np.sum(p * np.log(np.maximum(p, 1e-300))) - np.log(7.0)

        ref = np.exp(optimize.brentq(entropy_gap, -40, 40, xtol=1e-14))
        assert beta[i] == pytest.approx(ref, rel=1e-6)


def test_calibration_survives_all_equal_rows():
    beta = calibrate_beta(np.ones((2, 10)), 5.0, 1e-5, 50)
    assert np.isfinite(beta).all()


@pytest.mark.parametrize("code", [0, 1, 2])
def test_conditional_and_symmetric_affinities_match_numpy(code):
    n, k = 25, 6
    idx = np.array([RNG.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)])
    d2 = RNG.random((n, k)) * 4
    beta = RNG.uniform(0.2, 3, n)
    p = conditional_affinities(idx, d2, beta, code)
    for i in range(n):
        e = np.exp(-np.array([ref_pair_beta(code, beta[i], beta[j]) for j in idx[i]]) * d2[i])
        np.testing.assert_allclose(p[i], e / e.sum(), rtol=1e-12)
    dense = np.zeros((n, n))
    dense[np.repeat(np.arange(n), k), idx.ravel()] = p.ravel()
    P = symmetrise(idx, p)
    np.testing.assert_allclose(P.toarray(), (dense + dense.T) / (2 * n), rtol=1e-12)
    assert P.has_sorted_indices and P.sum() == pytest.approx(1.0)


def test_symmetrise_handles_repeats_zeros_and_equals_scipy():
    n, k = 60, 7
    idx = np.array([RNG.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)])
    idx[3, :3] = idx[3, 0]  # a row that lists one neighbour three times
    p = RNG.random((n, k))
    p[5, :] = 0.0  # underflowed affinities are dropped, not stored
    rows = np.repeat(np.arange(n), k)
    ref = sparse.csr_matrix((p.ravel(), (rows, idx.ravel())), shape=(n, n))
    ref = (ref + ref.T).tocsr()
    ref.data /= 2.0 * n
    ref.eliminate_zeros()
    P = symmetrise(idx, p)
    np.testing.assert_allclose(P.toarray(), ref.toarray(), rtol=1e-15, atol=0)
    assert P.has_sorted_indices and (P.data != 0).all() and P.nnz == ref.nnz


def test_symmetrise_by_scipy_and_by_kernels_agree_entry_for_entry(monkeypatch):
    from fischer_sc.core.embedding import _affinities

    n, k = 300, 12
    idx = np.array([RNG.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)])
    p = conditional_affinities(idx, RNG.random((n, k)) * 4, RNG.uniform(0.2, 3, n), 0)
    p[::7, 3] = 0.0  # entries whose sum is 0 are dropped by both
    small = symmetrise(idx, p)
    monkeypatch.setattr(_affinities, "SYMMETRISE_KERNEL_MIN", 0)
    large = symmetrise(idx, p)
    np.testing.assert_array_equal(small.indptr, large.indptr)
    np.testing.assert_array_equal(small.indices, large.indices)
    np.testing.assert_array_equal(small.data, large.data)
    assert small.has_sorted_indices and large.has_sorted_indices


def test_balance_is_the_dense_sinkhorn_scaling():
    n, k = 40, 6
    idx = np.array([RNG.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)])
    P = symmetrise(idx, conditional_affinities(idx, RNG.random((n, k)) * 4, RNG.uniform(0.2, 3, n), 0))
    B = balance_affinities(P, tol=1e-12)
    # slow reference: alternate row and column scaling of the dense matrix, then symmetrise
    a = P.toarray()
    for _ in range(5000):
        a = a / a.sum(axis=1, keepdims=True) / n
        a = a / a.sum(axis=0, keepdims=True) / n
    np.testing.assert_allclose(B.toarray(), (a + a.T) / 2, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(np.asarray(B.sum(axis=1)).ravel(), 1 / n, rtol=1e-10)
    assert abs(B - B.T).max() < 1e-15 and B.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(B.indices, P.indices)  # same sparsity pattern
    np.testing.assert_array_equal(B.indptr, P.indptr)
    aff = perplexity_affinities(idx, np.sqrt(RNG.random((n, k)) * 4), 3, balance=1.0)
    np.testing.assert_allclose(np.asarray(aff.P.sum(axis=1)).ravel(), 1 / n, rtol=1e-3)
    # half-way: the scaling is the square root of the full one
    half = balance_affinities(P, 0.5, tol=1e-12)
    u2 = B.toarray() / P.toarray().clip(1e-300)  # u_i u_j on the pattern, up to the final normalisation
    h2 = half.toarray() / P.toarray().clip(1e-300)
    mask = P.toarray() > 0
    ratio = h2[mask] / np.sqrt(u2[mask])
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-8)
    np.testing.assert_array_equal(balance_affinities(P, 0.0).toarray(), P.toarray() / P.sum())
    with pytest.raises(ValueError, match=r"balance must be a number in \[0, 1\], got 1.5"):
        perplexity_affinities(idx, np.sqrt(RNG.random((n, k)) * 4), 3, balance=1.5)


@pytest.mark.parametrize("code", [0, 1, 2])
def test_symmetric_attraction_matches_the_row_kernel(code):
    n = 3 * N_ATTRACTION_BLOCKS + 5  # blocks of unequal length
    P = random_p(n)
    y, s = RNG.normal(size=(n, 2)), RNG.uniform(0.5, 2, n)
    ref = np.empty_like(y)
    attraction(P.indptr, P.indices, P.data, y, s, code, ref)
    U = sparse.triu(P, k=1, format="csr")
    out = np.empty_like(y)
    attraction_symmetric(U.indptr, U.indices, U.data, y, s, code, np.empty((N_ATTRACTION_BLOCKS, n, 2)), out)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dim", [1, 2, 3, 4])
@pytest.mark.parametrize("code", [0, 1, 2])
def test_attraction_kernels_match_numpy_in_every_dimension(dim, code):
    # 1-3 dimensions take the register path (2 its own loop), 4 the generic one
    n = 3 * N_ATTRACTION_BLOCKS + 7
    P = random_p(n)
    y, s = RNG.normal(size=(n, dim)), RNG.uniform(0.5, 2, n)
    rows, cols = P.nonzero()
    width = {0: (s[rows] + s[cols]) ** 2 / 4, 1: s[rows] * s[cols], 2: np.ones(rows.size)}[code]
    diff = y[rows] - y[cols]
    coef = np.asarray(P[rows, cols]).ravel() / (width + (diff**2).sum(1))
    ref = np.zeros_like(y)
    np.add.at(ref, rows, coef[:, None] * diff)
    out = np.empty_like(y)
    attraction(P.indptr, P.indices, P.data, y, s, code, out)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-15)
    U = sparse.triu(P, k=1, format="csr")
    attraction_symmetric(U.indptr, U.indices, U.data, y, s, code, np.empty((N_ATTRACTION_BLOCKS, n, dim)), out)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-15)


def test_perplexity_affinities_errors():
    idx, dist = np.zeros((5, 3), dtype=np.int64), np.ones((5, 3))
    with pytest.raises(ValueError, match=r"perplexity=3 must be in \[1, 3\)"):
        perplexity_affinities(idx, dist, 3)
    with pytest.raises(ValueError, match="same shape"):
        perplexity_affinities(idx, dist[:, :2], 1.5)


# --- forces ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 1, 2])
def test_forces_match_dense_numpy(code):
    n = 40
    y, s, P = RNG.normal(size=(n, 2)) * 3, RNG.uniform(0.5, 2, n), random_p(n)
    g, w = ref_kernel(y, s, code)
    diff = y[:, None] - y[None]
    attr, rep, z = np.empty_like(y), np.empty_like(y), np.empty(n)
    attraction(P.indptr, P.indices, P.data, y, s, code, attr)
    repulsion_exact(y, s, code, rep, z)
    pd = P.toarray()
    np.testing.assert_allclose(attr, ((pd * g * w)[:, :, None] * diff).sum(1), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(rep, ((g * w * w)[:, :, None] * diff).sum(1), rtol=1e-9)
    np.testing.assert_allclose(z, w.sum(1), rtol=1e-12)
    logk = edge_log_kernel(P.indptr, P.indices, P.data, y, s, code)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(logk, np.where(pd > 0, pd * np.log(np.where(w > 0, w, 1)), 0).sum(1), rtol=1e-9)


@pytest.mark.parametrize("code", [0, 1, 2])
def test_gradient_matches_finite_differences(code):
    n = 12
    y, s, P = RNG.normal(size=(n, 2)), RNG.uniform(0.5, 2, n), random_p(n, 0.5)
    attr, rep, z = np.empty_like(y), np.empty_like(y), np.empty(n)
    attraction(P.indptr, P.indices, P.data, y, s, code, attr)
    repulsion_exact(y, s, code, rep, z)
    grad = 4 * (attr - rep / z.sum())
    fd = np.empty_like(y)
    h = 1e-6
    for i in range(n):
        for c in range(2):
            yp, ym = y.copy(), y.copy()
            yp[i, c] += h
            ym[i, c] -= h
            fd[i, c] = (ref_kl(yp, P.toarray(), s, code) - ref_kl(ym, P.toarray(), s, code)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
    assert kl_divergence(P, y, s, code, z.sum()) == pytest.approx(ref_kl(y, P.toarray(), s, code), rel=1e-10)
    # the same from the upper triangle of the symmetric P, each pair once
    upper = sparse.triu(P, k=1, format="csr")
    assert kl_divergence(upper, y, s, code, z.sum(), upper=True) == pytest.approx(
        ref_kl(y, P.toarray(), s, code), rel=1e-10
    )


def test_objective_keeps_its_widths_only_for_the_same_radii():
    """optimise's KL evaluator caches the pair widths; switching radii (plain -> pair-scaled phase) recomputes them."""
    n = 30
    y, P = RNG.normal(size=(n, 2)), random_p(n, 0.3)
    ones, s = np.ones(n), RNG.uniform(0.5, 2, n)
    upper = sparse.triu(P, k=1, format="csr")
    objective = _Objective(upper, upper=True)
    for radii, code in [(ones, 2), (s, 0), (s, 1), (ones, 2), (s, 0), (ones, 0)]:
        y = y + RNG.normal(scale=0.1, size=y.shape)
        z = ref_kernel(y, radii, code)[1].sum()
        assert objective(y, radii, code, z) == pytest.approx(ref_kl(y, P.toarray(), radii, code), rel=1e-10)


def test_gradient_step_matches_its_definition():
    y, grad = RNG.normal(size=(30, 2)), RNG.normal(size=(30, 2)) * 10
    update, gains = RNG.normal(size=(30, 2)), RNG.uniform(0.005, 2, (30, 2))
    ref_gains = np.where(grad * update < 0, gains + 0.2, np.maximum(gains * 0.8, 0.01))
    ref_update = 0.8 * update - 2.0 * ref_gains * grad
    norms = np.linalg.norm(ref_update, axis=1, keepdims=True)
    ref_update = np.where(norms > 5, ref_update * 5 / norms, ref_update)
    ref_y = y + ref_update
    gradient_step(y, grad, update, gains, 2.0, 0.8, 5.0)
    np.testing.assert_allclose(gains, ref_gains)
    np.testing.assert_allclose(update, ref_update)
    np.testing.assert_allclose(y, ref_y)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_gradient_step_numpy_path_equals_the_kernel(dim, monkeypatch):
    """Small n takes numpy, large n the kernel: the same numbers bit for bit (step caps included)."""
    from fischer_sc.core.embedding import _forces

    rng = np.random.default_rng(dim)
    n = 500
    y, grad, update = rng.normal(size=(n, dim)), rng.normal(size=(n, dim)) * 10, rng.normal(size=(n, dim))
    grad[:50] = 0.0  # ties: grad * update == 0 keeps the direction
    gains = rng.uniform(0.005, 2, (n, dim))
    for cap in (5.0, 0.5, 0.0):
        kernel = [a.copy() for a in (y, grad, update, gains)]
        _forces._gradient_step(*kernel, 37.0, 0.8, cap)
        monkeypatch.setattr(_forces, "NUMPY_STEP_MAX_N", n)
        via_numpy = [a.copy() for a in (y, grad, update, gains)]
        gradient_step(*via_numpy, 37.0, 0.8, cap)
        for a, b in zip(kernel, via_numpy, strict=True):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(kernel[0], y)  # the step moved the points


@pytest.mark.parametrize("case", ["plain", "ties", "zeros"])
def test_affinity_numpy_path_equals_the_kernel(case, monkeypatch):
    """Both affinity stages, numpy (few rows) and kernel (many rows): equal beta and p to the last bits.

    Not bit for bit: numpy's vectorised exp (numpy >= 2.4) and the C library's, which the
    kernel calls, can differ in the last unit of precision.
    """
    from fischer_sc.core.embedding import _affinities

    rng = np.random.default_rng(len(case))
    n, k = 400, 45
    d2 = np.sort(rng.gamma(2.0, 5.0, (n, k)), axis=1)
    if case == "ties":
        d2[:, : k // 2] = d2[:, :1]
    if case == "zeros":
        d2[: n // 4] = 0.0  # duplicates: scale 1, beta runs to the end of the bisection
    idx = rng.integers(0, n, (n, k))
    out = {}
    for path, limit in (("kernel", -1), ("numpy", n)):
        monkeypatch.setattr(_affinities, "NUMPY_MAX_ROWS", limit)
        beta = calibrate_beta(d2, 15.0, 1e-8, 60)
        out[path] = [beta] + [conditional_affinities(idx, d2, beta, code) for code in (0, 1, 2)]
    for a, b in zip(out["kernel"], out["numpy"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=0)


# --- Barnes-Hut ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 1, 2])
def test_planar_traversal_equals_the_spatial_walk_on_flat_points(code):
    """``_traverse_planar`` (the walk written out) against ``_walk`` with the third axis, on z = 0."""
    from fischer_sc.core.embedding import _bhtree

    rng = np.random.default_rng(code)
    n = 700
    y = np.vstack([rng.normal(size=(n // 2, 2)), rng.normal(size=(n - n // 2, 2)) * 0.2 + 5])
    s = rng.uniform(0.5, 2.0, n)
    keys, side, _ = morton_keys(y, 21)
    order = morton_order(keys)
    start, stop, level, first, count = build_tree(keys[order], 2, 21, 4)
    pts, ss = np.empty((3, n)), np.empty(n)
    gather_sorted(y, s, order, pts, ss)
    nodes = summarise(pts, ss, start, stop, level, first, count, side, 0.8)
    n_blocks = -(-n // _bhtree._BLOCK)
    stacks = np.empty((n_blocks, int(level[-1] + 2) * 8 + 1), dtype=np.int64)
    out = {}
    for name, kernel in (("planar", _bhtree._traverse_planar), ("spatial", _bhtree._traverse_spatial)):
        rep, z = np.full((n, 3), np.nan), np.empty(n)
        kernel(0, n_blocks, pts, ss, code, start, stop, first, count, nodes, 0.8, stacks, rep, z)
        out[name] = rep, z
    np.testing.assert_allclose(out["planar"][0], out["spatial"][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["planar"][1], out["spatial"][1], rtol=1e-12)
    assert np.all(out["planar"][0][:, 2] == 0.0)


def clustered(n: int, dim: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)  # its own stream: the data do not depend on test order
    centres = rng.normal(size=(5, dim)) * 20
    lab = rng.integers(0, 5, n)
    spread = np.array([0.5, 1, 2, 3, 4])[lab]
    return centres[lab] + rng.normal(size=(n, dim)) * spread[:, None], spread / 2


@pytest.mark.parametrize("code", [0, 1, 2])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_barnes_hut_approaches_exact(code, dim):
    y, s = clustered(1500, dim)
    rep, z = np.empty_like(y), np.empty(len(y))
    repulsion_exact(y, s, code, rep, z)
    errors = {}
    for theta in (0.5, 0.1):
        rb, zb = np.empty_like(y), np.empty(len(y))
        repulsion_barnes_hut(y, s, code, theta, rb, zb)
        errors[theta] = np.linalg.norm(rb - rep) / np.linalg.norm(rep), abs(zb.sum() / z.sum() - 1)
    if dim == 1:
        # On a line the forces from both sides nearly cancel, so their relative error is large;
        # Z, a sum of positive terms, shows the accuracy, and both converge as theta shrinks.
        assert errors[0.5][1] < 0.02
        assert errors[0.1][0] < 5e-3 and errors[0.1][1] < 5e-4
    else:
        # second-order cells: below the 1-3 % of a plain centre-of-mass Barnes-Hut at 0.5
        assert errors[0.5][0] < 1e-2 and errors[0.5][1] < 1e-3
        assert errors[0.1][0] < 1e-3 and errors[0.1][1] < 1e-4


def test_barnes_hut_second_order_cells_beat_first_order():
    """The cell corrections (position covariance, spread of the widths) are what makes it accurate."""
    y, s = clustered(600, 2)
    rep, z = np.empty_like(y), np.empty(len(y))
    repulsion_exact(y, s, 0, rep, z)
    rb, zb = np.empty_like(y), np.empty(len(y))
    repulsion_barnes_hut(y, s, 0, 0.8, rb, zb)
    err = np.linalg.norm(rb - rep) / np.linalg.norm(rep)
    # first-order reference: the same cells accepted, each as a point at its centre of mass with the mean width
    ref_rep, ref_z = first_order_barnes_hut(y, s, 0.8)
    ref_err = np.linalg.norm(ref_rep - rep) / np.linalg.norm(rep)
    assert err < ref_err / 3, (err, ref_err)
    assert abs(zb.sum() / z.sum() - 1) < abs(ref_z.sum() / z.sum() - 1) / 3


def first_order_barnes_hut(y: np.ndarray, s: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Slow, obvious quadtree Barnes-Hut with monopole cells (pair scale "mean"), in plain Python.

    Cells are accepted as in the package: not containing the point, narrower than theta times the
    kernel's length scale sqrt(u + d^2), and with a spread of the widths u below theta (u + d^2).
    """
    n = len(y)
    lo, side = y.min(axis=0), np.ptp(y, axis=0).max() * (1 + 1e-9)

    tree = {}

    def build(idx, corner, width):
        key = len(tree)
        kids = []
        tree[key] = (idx, width, kids)
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
            idx, width, kids = tree[stack.pop()]
            com = y[idx].mean(axis=0)
            d2 = np.sum((y[i] - com) ** 2)
            widths = (s[i] + s[idx]) ** 2 / 4
            u = widths.mean()
            if kids and i not in idx and width**2 < theta**2 * (u + d2) and widths.var() < (theta * (u + d2)) ** 2:
                w = u / (u + d2)
                z[i] += len(idx) * w
                rep[i] += len(idx) * u / (u + d2) ** 2 * (y[i] - com)
            elif kids:
                stack.extend(kids)
            else:
                for j in idx[idx != i]:
                    u = (s[i] + s[j]) ** 2 / 4
                    d2 = np.sum((y[i] - y[j]) ** 2)
                    z[i] += u / (u + d2)
                    rep[i] += u / (u + d2) ** 2 * (y[i] - y[j])
    return rep, z


def test_morton_order_from_a_hint_is_the_stable_sort():
    keys = RNG.integers(0, 50, 500)  # many ties
    expected = np.argsort(keys, kind="stable")
    np.testing.assert_array_equal(morton_order(keys), expected)
    # a hint that is off in a few places (as after one iteration), or entirely wrong
    hint = expected.copy()
    hint[[3, 100, 400]] = hint[[400, 3, 100]]
    for h in (hint, RNG.permutation(500)):
        got = morton_order(keys, h)
        assert np.all(np.diff(keys[got]) >= 0)
        np.testing.assert_array_equal(np.sort(got), np.arange(500))
    # a stale hint of another size is ignored
    np.testing.assert_array_equal(morton_order(keys, np.arange(10)), expected)


def test_barnes_hut_with_the_previous_order_gives_the_same_forces():
    y, s = clustered(800)
    r1, z1, r2, z2 = np.empty_like(y), np.empty(len(y)), np.empty_like(y), np.empty(len(y))
    order = repulsion_barnes_hut(y, s, 0, 0.8, r1, z1)
    moved = y + RNG.normal(size=y.shape) * 0.05
    repulsion_barnes_hut(moved, s, 0, 0.8, r1, z1)
    repulsion_barnes_hut(moved, s, 0, 0.8, r2, z2, order)
    np.testing.assert_allclose(r2, r1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(z2, z1, rtol=1e-12)


def test_barnes_hut_limits_the_embedding_dimension():
    y, s = clustered(50, 4)
    with pytest.raises(ValueError, match="at most 3 dimensions, got 4; use repulsion='exact'"):
        repulsion_barnes_hut(y, s, 0, 0.5, np.empty_like(y), np.empty(50))
    assert resolve_repulsion("auto", 10_000, 4) == "exact"
    assert resolve_repulsion("auto", 10_000, 2) == "barnes_hut"
    assert resolve_repulsion("auto", 100, 2) == "exact"
    with pytest.raises(ValueError, match="at most 3 embedding dimensions, got 5"):
        resolve_repulsion("barnes_hut", 10_000, 5)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_node_table_matches_numpy(dim):
    y, s = clustered(700, dim)
    bits = min(63 // dim, 21)
    keys, side, _ = morton_keys(y, bits)
    order = np.argsort(keys, kind="stable")
    start, stop, level, first, count = build_tree(keys[order], dim, bits, 4)
    pts, ss = np.empty((3, len(y))), np.empty(len(y))
    gather_sorted(y, s, order, pts, ss)
    np.testing.assert_array_equal(pts[:dim].T, y[order])
    np.testing.assert_array_equal(pts[dim:], 0.0)
    np.testing.assert_array_equal(ss, s[order])
    nodes = summarise(pts, ss, start, stop, level, first, count, side, 0.7)
    for node in RNG.choice(len(start), 60, replace=False):
        members = y[order[start[node] : stop[node]]]
        radii = s[order[start[node] : stop[node]]]
        np.testing.assert_allclose(nodes[node, :dim], members.mean(0), rtol=1e-10, atol=1e-12)
        cov = np.atleast_2d(np.cov(members.T, bias=True))
        np.testing.assert_allclose(nodes[node, 3 : 3 + dim], np.diag(cov), rtol=1e-6, atol=1e-9)
        if dim >= 2:
            np.testing.assert_allclose(nodes[node, 6], cov[0, 1], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(nodes[node, 9:13], [np.mean(radii**k) for k in range(1, 5)], rtol=1e-10)
        width = side / 2.0 ** level[node]
        np.testing.assert_allclose(nodes[node, 13], (width / 0.7) ** 2, rtol=1e-12)
        assert nodes[node, 14] == len(members)
    rep_sorted, z_sorted = RNG.normal(size=(len(y), 3)), RNG.normal(size=len(y))
    rep, z = np.empty_like(y), np.empty(len(y))
    scatter_back(rep_sorted, z_sorted, order, rep, z)
    np.testing.assert_array_equal(rep[order], rep_sorted[:, :dim])
    np.testing.assert_array_equal(z[order], z_sorted)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_morton_keys_match_a_numpy_interleaving(dim):
    y, _ = clustered(400, dim)
    bits = min(63 // dim, 21)
    keys, side, corner = morton_keys(y, bits)
    np.testing.assert_array_equal(corner, y.min(axis=0))
    assert side == (y.max(axis=0) - y.min(axis=0)).max() * (1.0 + 1e-9)
    q = ((y - corner) / side * ((1 << bits) - 1)).astype(np.int64)
    expected = np.zeros(len(y), dtype=np.int64)
    for b in range(bits - 1, -1, -1):
        for c in range(dim):
            expected = (expected << 1) | ((q[:, c] >> b) & 1)
    np.testing.assert_array_equal(keys, expected)
    with pytest.raises(ValueError, match="Morton keys support"):
        morton_keys(y, {1: 63, 2: 32, 3: 22}[dim])


def test_tree_partitions_points_and_survives_duplicates():
    y = np.vstack([np.zeros((50, 2)), RNG.normal(size=(100, 2))])
    keys, _, _ = morton_keys(y, 21)
    order = np.argsort(keys, kind="stable")
    start, stop, _, first, count = build_tree(keys[order], 2, 21, 4)
    leaves = count == 0
    covered = np.zeros(len(y), dtype=int)
    for a, b in zip(start[leaves], stop[leaves], strict=True):
        covered[a:b] += 1
    assert (covered == 1).all()
    for node in np.flatnonzero(~leaves):
        kids = range(first[node], first[node] + count[node])
        assert start[kids[0]] == start[node] and stop[kids[-1]] == stop[node]
        assert all(stop[a] == start[b] for a, b in zip(kids[:-1], kids[1:], strict=True))
    rb, zb = np.empty_like(y), np.empty(len(y))
    repulsion_barnes_hut(y, np.ones(len(y)), 0, 0.5, rb, zb)
    assert np.isfinite(rb).all() and np.isfinite(zb).all()


# --- optimiser -------------------------------------------------------------------------------


def small_problem(n_per: int = 60):
    from sklearn.neighbors import NearestNeighbors

    x = np.vstack([RNG.normal(size=(n_per, 5)) * sd + 30 * c for c, sd in enumerate((1, 2, 4))])
    dist, idx = NearestNeighbors(n_neighbors=31).fit(x).kneighbors(x)
    aff = perplexity_affinities(idx[:, 1:], dist[:, 1:], 10, pair_scale="mean")
    return x, aff


def test_optimise_is_deterministic_across_threads_and_lowers_kl():
    x, aff = small_problem()
    s, y0 = point_scales(aff.beta), pca_init(x)
    kw = {"scales": s, "n_iter": 200, "early_exaggeration_iter": 50}
    with num_threads(1):
        a = optimise(aff.P, y0, n_jobs=1, **kw)
    b = optimise(aff.P, y0, n_jobs=2, **kw)
    np.testing.assert_array_equal(a.embedding, b.embedding)
    z = np.empty(len(x))
    repulsion_exact(y0, s, 0, np.empty_like(y0), z)
    assert a.kl_divergence < kl_divergence(aff.P, y0, s, 0, z.sum()) - 0.5
    bh = optimise(aff.P, y0, repulsion="barnes_hut", **kw)
    assert bh.repulsion == "barnes_hut"
    # judged by the exact objective, the Barnes-Hut optimum is nearly as good as the exact one
    repulsion_exact(bh.embedding, s, 0, np.empty_like(y0), z)
    exact_kl_of_bh = kl_divergence(aff.P, bh.embedding, s, 0, z.sum())
    assert exact_kl_of_bh < 1.1 * a.kl_divergence, (exact_kl_of_bh, a.kl_divergence)


def test_pca_init_scale_and_signs():
    x = RNG.normal(size=(100, 6)) * np.arange(1, 7)
    y = pca_init(x)
    assert y[:, 0].std() == pytest.approx(1e-4)
    np.testing.assert_array_equal(y, pca_init(x.copy()))
    with pytest.raises(ValueError, match="n_components=7 exceeds the 6 input dimensions"):
        pca_init(x, 7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"repulsion": "fft"}, r"repulsion='fft' is not one of"),
        ({"pair_scale": "max"}, r"pair_scale='max' is not one of"),
        ({"repulsion": "barnes_hut", "theta": 2.0}, r"theta=2.0 must lie in"),
        ({"early_exaggeration_iter": 900}, r"early_exaggeration_iter=900 must lie in \[0, n_iter=750\]"),
    ],
)
def test_optimise_errors(kwargs, match):
    x, aff = small_problem(20)
    with pytest.raises(ValueError, match=match):
        optimise(aff.P, pca_init(x), **kwargs)
    with pytest.raises(ValueError, match=r"y0 has shape \(3, 2\)"):
        optimise(aff.P, np.zeros((3, 2)))


def test_early_exaggeration_runs_on_the_plain_kernel():
    x, aff = small_problem(30)
    y0 = pca_init(x)
    kw = {"n_iter": 60, "early_exaggeration_iter": 60}
    pair = optimise(aff.P, y0, scales=point_scales(aff.beta), pair_scale="mean", **kw)
    plain = optimise(aff.P, y0, pair_scale=None, **kw)
    np.testing.assert_array_equal(pair.embedding, plain.embedding)
    on = optimise(aff.P, y0, scales=point_scales(aff.beta), pair_scale="mean", scale_start=0, **kw)
    assert not np.allclose(on.embedding, plain.embedding)


def test_repulsive_gradient_hook_replaces_rep_over_z():
    x, aff = small_problem(30)
    y0 = pca_init(x)
    kw = {"scales": point_scales(aff.beta), "n_iter": 120, "early_exaggeration_iter": 40}
    plain = optimise(aff.P, y0, **kw)
    calls = []

    def same(it, y, rep, z):
        calls.append(it)
        return rep / z

    np.testing.assert_array_equal(optimise(aff.P, y0, repulsive_gradient=same, **kw).embedding, plain.embedding)
    assert calls == list(range(120))
    # twice the repulsion spreads the points: the objective the hook defines is what is optimised
    doubled = optimise(aff.P, y0, repulsive_gradient=lambda it, y, rep, z: 2 * rep / z, **kw)
    assert np.ptp(doubled.embedding, axis=0).min() > 1.2 * np.ptp(plain.embedding, axis=0).min()


# --- one configuration ------------------------------------------------------------------------


def test_one_tsne_configuration_is_read_by_every_caller():
    import inspect

    import fischer_sc as fs
    from fischer_sc.core.embedding import TSNE_DEFAULTS

    assert (TSNE_DEFAULTS.n_iter, TSNE_DEFAULTS.early_exaggeration, TSNE_DEFAULTS.early_exaggeration_iter) == (
        750,
        12.0,
        250,
    )
    tool = inspect.signature(fs.tl.dtsne).parameters
    engine = inspect.signature(optimise).parameters
    for name in ("n_iter", "early_exaggeration", "early_exaggeration_iter"):
        assert tool[name].default == engine[name].default == getattr(TSNE_DEFAULTS, name)
    assert tool["balance"].default == TSNE_DEFAULTS.balance
    assert tool["perplexity"].default == inspect.signature(fs.tl.factor_out).parameters["perplexity"].default


def test_neighbour_count_of_a_perplexity():
    from fischer_sc.core.embedding import neighbours_for_perplexity, perplexity_for_neighbours

    assert neighbours_for_perplexity(1000, 30.0) == 90
    assert neighbours_for_perplexity(93, 30.4) == 91  # floor(91.2)
    assert neighbours_for_perplexity(91, 30.0) == 90  # n - 1
    with pytest.raises(
        ValueError, match=r"tl needs more than 3 \* p = 90 observations, got 90\. Lower p to at most 29\.6667"
    ):
        neighbours_for_perplexity(90, 30.0, tool="tl", what="p")
    assert perplexity_for_neighbours(90, 30.0) == 30.0
    assert perplexity_for_neighbours(15, 30.0) == 5.0
    assert perplexity_for_neighbours(2, 30.0) == 1.0  # never below 1 ...
    assert perplexity_for_neighbours(1, 30.0) == 1.0  # ... even when that reaches k


def test_progress_bar_is_a_no_op_when_off():
    from fischer_sc.core.embedding import progress_bar

    with progress_bar(3, "x", enabled=False) as bar:
        bar.update()
        bar.set_postfix(kl="1")
    assert type(bar).__name__ == "_NoBar"

"""JEDI: the gradient against torch autograd, the sparse split against the dense gradient, the kernel against numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import sparse

from fischer_sc.core.embedding._forces import N_ATTRACTION_BLOCKS, attraction, repulsion_exact, symmetric_upper
from fischer_sc.core.embedding._jedi import (
    JediLabelRepulsion,
    JediRepulsion,
    jedi_gradient_dense,
    jedi_objective_dense,
    js_constant,
    label_groups,
    label_prior_dense,
    prior_term,
    prior_term_reference,
    prior_term_symmetric,
)


def _sym_affinities(rng: np.random.Generator, n: int, density: float) -> np.ndarray:
    """A random symmetric affinity matrix with zero diagonal, some zero pairs, summing to 1."""
    a = rng.random((n, n)) * (rng.random((n, n)) < density)
    a = a + a.T
    np.fill_diagonal(a, 0.0)
    return a / a.sum()


def _problem(seed: int, n: int = 14):
    rng = np.random.default_rng(seed)
    return _sym_affinities(rng, n, 0.5), _sym_affinities(rng, n, 0.3), rng.normal(size=(n, 2))


def _autograd(P, Pp, y, alpha, beta, weight=1.0):
    """Loss KL(P || Q) - weight * JS(P' || Q) and its gradient by torch autograd."""
    t = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    P_t, Pp_t = torch.tensor(P), torch.tensor(Pp)
    n = y.shape[0]
    off = ~torch.eye(n, dtype=torch.bool)
    w = 1.0 / (1.0 + ((t[:, None, :] - t[None, :, :]) ** 2).sum(-1))
    w = w * off
    q = (w / w.sum())[off]
    p, pp = P_t[off], Pp_t[off]
    m1 = beta * q + (1 - beta) * pp
    m2 = beta * pp + (1 - beta) * q
    kl = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, 1.0) / q), 0.0).sum()
    kl1 = torch.where(pp > 0, pp * torch.log(torch.where(pp > 0, pp, 1.0) / m1), 0.0).sum()
    kl2 = (q * torch.log(q / m2)).sum()
    loss = kl - weight * (alpha * kl1 + (1 - alpha) * kl2)
    loss.backward()
    return float(loss.detach()), t.grad.numpy()


@pytest.mark.parametrize("alpha", [0.3, 0.5, 0.7])
@pytest.mark.parametrize("beta", [0.3, 0.5, 0.7])
def test_gradient_matches_autograd(alpha, beta):
    P, Pp, y = _problem(int(alpha * 10 + beta * 100))
    loss, grad = _autograd(P, Pp, y, alpha, beta)
    assert jedi_objective_dense(P, Pp, y, alpha, beta) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(jedi_gradient_dense(P, Pp, y, alpha, beta), grad, rtol=1e-9, atol=1e-12)


def test_weighted_gradient_matches_finite_differences():
    P, Pp, y = _problem(8, n=12)
    grad = jedi_gradient_dense(P, Pp, y, 0.5, 0.5, weight=4.0)
    eps = 1e-6
    num = np.zeros_like(y)
    for i in range(y.shape[0]):
        for c in range(2):
            yp, ym = y.copy(), y.copy()
            yp[i, c] += eps
            ym[i, c] -= eps
            num[i, c] = (
                jedi_objective_dense(P, Pp, yp, 0.5, 0.5, 4.0) - jedi_objective_dense(P, Pp, ym, 0.5, 0.5, 4.0)
            ) / (2 * eps)
    np.testing.assert_allclose(grad, num, atol=1e-7)


def _hook_gradient(P, Pp, y, alpha, beta, weight):
    """The package's JEDI gradient: attraction minus the optimiser hook (sparse split), with its factor 4."""
    Ps = sparse.csr_matrix(P)
    n = y.shape[0]
    attr, rep, z_rows = np.empty_like(y), np.empty_like(y), np.empty(n)
    attraction(Ps.indptr.astype(np.int64), Ps.indices.astype(np.int64), Ps.data, y, np.ones(n), 2, attr)
    repulsion_exact(y, np.ones(n), 2, rep, z_rows)
    hook = JediRepulsion(sparse.csr_matrix(Pp), alpha=alpha, beta=beta, weight=weight)
    return 4.0 * (attr - hook(0, y, rep, float(z_rows.sum())))


def test_descent_moves_away_from_the_prior():
    """The sign: the hook descends KL - JS (autograd), not KL + JS, so a step raises JS(P' || Q).

    The public re-implementations descend KL + JS, which pulls the embedding towards the prior;
    a hook with that sign fails every assertion below.
    """
    P, Pp, y = _problem(3)
    grad = _hook_gradient(P, Pp, y, 0.5, 0.5, 20.0)
    _, minus = _autograd(P, Pp, y, 0.5, 0.5, weight=20.0)
    _, plus = _autograd(P, Pp, y, 0.5, 0.5, weight=-20.0)
    np.testing.assert_allclose(grad, minus, rtol=1e-8, atol=1e-12)
    assert np.linalg.norm(grad - plus) > 0.5 * np.linalg.norm(plus)

    def js(points):  # JS^alpha_beta(P' || Q) = KL - (KL - JS)
        kl = jedi_objective_dense(P, np.zeros_like(P), points, 1.0, 0.5)
        return kl - jedi_objective_dense(P, Pp, points, 0.5, 0.5)

    step = y - 1e-3 * grad / np.abs(grad).max()
    assert js(step) > js(y) + 1e-9  # the prior term is pushed up: the embedding leaves the prior
    assert jedi_objective_dense(P, Pp, step, 0.5, 0.5, 20.0) < jedi_objective_dense(P, Pp, y, 0.5, 0.5, 20.0)


def test_gradient_matches_finite_differences():
    P, Pp, y = _problem(5, n=12)
    grad = jedi_gradient_dense(P, Pp, y, 0.4, 0.6)
    eps = 1e-6
    num = np.zeros_like(y)
    for i in range(y.shape[0]):
        for c in range(2):
            yp, ym = y.copy(), y.copy()
            yp[i, c] += eps
            ym[i, c] -= eps
            num[i, c] = (jedi_objective_dense(P, Pp, yp, 0.4, 0.6) - jedi_objective_dense(P, Pp, ym, 0.4, 0.6)) / (
                2 * eps
            )
    np.testing.assert_allclose(grad, num, atol=1e-7)


@pytest.mark.parametrize(
    ("alpha", "beta", "weight"),
    [(0.5, 0.5, 1.0), (0.3, 0.7, 1.0), (0.7, 0.3, 1.0), (0.0, 0.5, 1.0), (1.0, 0.2, 1.0), (0.5, 0.5, 7.5)],
)
def test_split_hook_equals_dense_gradient(alpha, beta, weight):
    """Attraction - hook (with exact repulsion) is the full dense gradient / 4 when P' is sparse."""
    P, Pp, y = _problem(11, n=18)
    Ps, Pps = sparse.csr_matrix(P), sparse.csr_matrix(Pp)
    n = y.shape[0]
    attr, rep, z_rows = np.empty_like(y), np.empty_like(y), np.empty(n)
    attraction(Ps.indptr.astype(np.int64), Ps.indices.astype(np.int64), Ps.data, y, np.ones(n), 2, attr)
    repulsion_exact(y, np.ones(n), 2, rep, z_rows)
    hook = JediRepulsion(Pps, alpha=alpha, beta=beta, weight=weight, start=0)
    grad = 4.0 * (attr - hook(0, y, rep, float(z_rows.sum())))
    np.testing.assert_allclose(grad, jedi_gradient_dense(P, Pp, y, alpha, beta, weight), rtol=1e-8, atol=1e-12)
    # The tracked JS value is the dense one.
    kl_only = jedi_objective_dense(P, np.zeros_like(P), y, 1.0, beta)
    assert hook.js == pytest.approx(kl_only - jedi_objective_dense(P, Pp, y, alpha, beta), rel=1e-9)


def test_hook_is_tsne_before_start():
    P, Pp, y = _problem(2)
    rep = np.ones_like(y)
    hook = JediRepulsion(sparse.csr_matrix(Pp), start=5)
    np.testing.assert_array_equal(hook(4, y, rep, 2.0), rep / 2.0)


def test_kernel_matches_numpy_reference():
    P, Pp, y = _problem(7, n=20)
    Pps = sparse.csr_matrix(Pp)
    n = y.shape[0]
    out, qr, gqr, jsr = np.empty_like(y), np.empty(n), np.empty(n), np.empty(n)
    z = 37.5
    c = js_constant(0.3, 0.6)
    prior_term(
        Pps.indptr.astype(np.int64), Pps.indices.astype(np.int64), Pps.data, y, z, 0.3, 0.6, c, out, qr, gqr, jsr, True
    )
    s, sq, sgq, js = prior_term_reference(Pps, y, z, 0.3, 0.6)
    np.testing.assert_allclose(out, s, rtol=1e-12, atol=1e-15)
    assert qr.sum() == pytest.approx(sq)
    assert gqr.sum() == pytest.approx(sgq)
    assert jsr.sum() == pytest.approx(js)


def _sparse_sym_prior(seed: int, n: int, k: int) -> sparse.csr_matrix:
    """A symmetric sparse P' (k random partners per row, symmetrised, zero diagonal) summing to 1."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), k)
    P = sparse.csr_matrix((rng.random(n * k), (rows, rng.integers(0, n, n * k))), shape=(n, n))
    P = (P + P.T).tolil()
    P.setdiag(0.0)
    P = P.tocsr()
    P.eliminate_zeros()
    return sparse.csr_matrix(P / P.sum())


@pytest.mark.parametrize("dim", [2, 3])
def test_symmetric_kernel_matches_reference_at_any_thread_count(dim, monkeypatch):
    """Each pair of the upper triangle, added to both rows, gives the full-row sums on 1, 2 and 3 threads.

    ``run_rows`` takes its thread count from ``numba.get_num_threads`` (patched here, so that the
    test runs real worker threads whatever NUMBA_NUM_THREADS the process started with).
    """
    import numba

    n = 700
    Pp = _sparse_sym_prior(12, n, 9)
    y = np.random.default_rng(13).normal(size=(n, dim)) * 3.0
    z, alpha, beta = 410.0, 0.3, 0.6
    c = js_constant(alpha, beta)
    upper = symmetric_upper(Pp)
    assert upper is not None and 2 * upper.nnz == Pp.nnz
    args = (upper.indptr.astype(np.int64), upper.indices.astype(np.int64), upper.data, y, z, alpha, beta, c)
    results = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(numba, "get_num_threads", lambda t=threads: t)
        buffers, out = np.full((N_ATTRACTION_BLOCKS, n, dim + 3), np.nan), np.full((n, dim + 3), np.nan)
        prior_term_symmetric(*args, True, buffers, out)
        results.append(out)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])
    out = results[0]
    s, sq, sgq, js = prior_term_reference(Pp, y, z, alpha, beta)
    np.testing.assert_allclose(out[:, :dim], s, rtol=1e-11, atol=1e-14 * np.abs(s).max())
    assert out[:, dim].sum() == pytest.approx(sq, rel=1e-12)
    assert out[:, dim + 1].sum() == pytest.approx(sgq, rel=1e-12)
    assert out[:, dim + 2].sum() == pytest.approx(js, rel=1e-12)
    # the row sums mean what the full-row kernel's mean (each pair in both rows)
    full, qr, gqr, jsr = np.empty_like(y), np.empty(n), np.empty(n), np.empty(n)
    P = sparse.csr_matrix(Pp)
    prior_term(
        P.indptr.astype(np.int64), P.indices.astype(np.int64), P.data, y, z, alpha, beta, c, full, qr, gqr, jsr, True
    )
    np.testing.assert_allclose(out[:, dim:], np.column_stack([qr, gqr, jsr]), rtol=1e-11, atol=1e-18)
    # without the JS value the force and the other sums are unchanged, and the JS column is zero
    buffers, lazy = np.empty((N_ATTRACTION_BLOCKS, n, dim + 3)), np.empty((n, dim + 3))
    prior_term_symmetric(*args, False, buffers, lazy)
    np.testing.assert_array_equal(lazy[:, : dim + 2], out[:, : dim + 2])
    assert not lazy[:, dim + 2].any()
    with pytest.raises(ValueError, match="do not fit"):
        prior_term_symmetric(*args, False, buffers[:, :, :dim], lazy)


def _hook_expected(Pp, y, rep, z, alpha, beta, weight):
    """The hook's output and JS value from ``prior_term_reference`` (the module docstring's formulae)."""
    s, sq, sgq, js = prior_term_reference(sparse.csr_matrix(Pp), y, z, alpha, beta)
    c = js_constant(alpha, beta)
    g_bar = c * (1.0 - sq) + sgq
    return (1.0 + weight * (g_bar - c)) * rep / z - weight * s, js + c * (1.0 - sq)


@pytest.mark.parametrize("kind", ["symmetric", "not symmetric", "diagonal"])
def test_hook_takes_the_upper_triangle_of_a_symmetric_prior_only(kind):
    """A symmetric P' goes through ``prior_term_symmetric``; a non-symmetric one, or one with a diagonal, through the full rows."""
    n = 60
    Pp = _sparse_sym_prior(21, n, 5).tolil()
    if kind == "not symmetric":
        Pp[3, 7], Pp[7, 3] = Pp[3, 7] + 0.02, 0.0
        Pp[10, 11] = 0.01
    elif kind == "diagonal":
        Pp[4, 4] = 0.01
    Pp = sparse.csr_matrix(Pp)
    rng = np.random.default_rng(22)
    y = rng.normal(size=(n, 2))
    rep, z_rows = np.empty_like(y), np.empty(n)
    repulsion_exact(y, np.ones(n), 2, rep, z_rows)
    z = float(z_rows.sum())
    hook = JediRepulsion(Pp, alpha=0.4, beta=0.7, weight=6.0)
    assert (hook._upper is not None) == (kind == "symmetric")
    expected, js = _hook_expected(Pp, y, rep, z, 0.4, 0.7, 6.0)
    for _ in range(2):  # the second call reuses the buffers
        np.testing.assert_allclose(hook(0, y, rep, z), expected, rtol=1e-10, atol=1e-14 * np.abs(expected).max())
        assert hook.js == pytest.approx(js, rel=1e-11)


@pytest.mark.parametrize(("alpha", "beta"), [(-0.1, 0.5), (1.1, 0.5), (0.5, 0.0), (0.5, 1.0)])
def test_bad_alpha_beta(alpha, beta):
    with pytest.raises(ValueError, match="must lie in"):
        JediRepulsion(sparse.csr_matrix((3, 3)), alpha=alpha, beta=beta)


def test_ctsne_hook_matches_autograd():
    """The ct-SNE repulsion (label-split sums) gives the autograd gradient of KL(P || Q_labels)."""
    from fischer_sc.core.embedding._ctsne import CtsneRepulsion

    rng = np.random.default_rng(9)
    n = 16
    P = _sym_affinities(rng, n, 0.5)
    y = rng.normal(size=(n, 2))
    codes = rng.integers(3, size=n)
    hook = CtsneRepulsion(codes, 0.1, repulsion="exact")
    same = codes[:, None] == codes[None, :]
    f = torch.tensor(np.where(same, hook.a, hook.b))
    t = torch.tensor(y, requires_grad=True)
    off = ~torch.eye(n, dtype=torch.bool)
    w = f / (1.0 + ((t[:, None, :] - t[None, :, :]) ** 2).sum(-1)) * off
    q = (w / w.sum())[off]
    p = torch.tensor(P)[off]
    loss = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, 1.0) / q), 0.0).sum()
    loss.backward()
    Ps = sparse.csr_matrix(P)
    attr, rep, z_rows = np.empty_like(y), np.empty_like(y), np.empty(n)
    attraction(Ps.indptr.astype(np.int64), Ps.indices.astype(np.int64), Ps.data, y, np.ones(n), 2, attr)
    repulsion_exact(y, np.ones(n), 2, rep, z_rows)
    grad = 4.0 * (attr - hook(0, y, rep, float(z_rows.sum())))
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    r = same[~np.eye(n, dtype=bool)].mean()
    assert hook.a * r + hook.b * (1 - r) == pytest.approx(1.0)


def test_js_is_evaluated_only_when_asked():
    P, Pp, y = _problem(4, n=15)
    n = y.shape[0]
    rep, z_rows = np.empty_like(y), np.empty(n)
    repulsion_exact(y, np.ones(n), 2, rep, z_rows)
    z = float(z_rows.sum())
    lazy = JediRepulsion(sparse.csr_matrix(Pp), js_iteration=7)
    eager = JediRepulsion(sparse.csr_matrix(Pp))
    np.testing.assert_array_equal(lazy(3, y, rep, z), eager(3, y, rep, z))
    assert np.isnan(lazy.js) and np.isfinite(eager.js)
    lazy(7, y, rep, z)
    assert lazy.js == pytest.approx(eager.js)


def _label_problem(seed: int, n: int = 40):
    rng = np.random.default_rng(seed)
    codes = rng.integers(3, size=n)
    codes[0] = 7  # a point alone in its label: no prior pairs
    y = rng.normal(size=(n, 2))
    rep, z_rows = np.empty_like(y), np.empty(n)
    repulsion_exact(y, np.ones(n), 2, rep, z_rows)
    return _sym_affinities(rng, n, 0.3), codes, y, rep, float(z_rows.sum())


def test_uniform_label_prior_sums_to_one():
    codes = np.array([0, 0, 0, 1, 1, 2])
    Pp = label_prior_dense(codes)
    # five points have a partner: p'_ij = 1 / (5 (n_g - 1))
    assert Pp[0, 1] == pytest.approx(1 / 10) and Pp[3, 4] == pytest.approx(1 / 5)
    assert Pp.sum() == pytest.approx(1.0) and not Pp[5].any() and not np.diag(Pp).any()
    with pytest.raises(ValueError, match="no two points"):
        label_groups(np.arange(4))


@pytest.mark.parametrize(("alpha", "beta", "weight"), [(0.5, 0.5, 1.0), (0.3, 0.7, 10.0)])
def test_label_hook_exact_equals_dense_gradient(alpha, beta, weight):
    """With all same-label pairs the label hook is the dense JEDI gradient of the uniform label prior."""
    P, codes, y, rep, z = _label_problem(3)
    Ps = sparse.csr_matrix(P)
    n = y.shape[0]
    attr = np.empty_like(y)
    attraction(Ps.indptr.astype(np.int64), Ps.indices.astype(np.int64), Ps.data, y, np.ones(n), 2, attr)
    hook = JediLabelRepulsion(codes, n_samples=None, alpha=alpha, beta=beta, weight=weight)
    grad = 4.0 * (attr - hook(0, y, rep, z))
    Pp = label_prior_dense(codes)
    np.testing.assert_allclose(grad, jedi_gradient_dense(P, Pp, y, alpha, beta, weight), rtol=1e-8, atol=1e-12)
    kl_only = jedi_objective_dense(P, np.zeros_like(P), y, 1.0, beta)
    assert hook.js == pytest.approx(kl_only - jedi_objective_dense(P, Pp, y, alpha, beta), rel=1e-9)


def test_label_hook_samples_are_unbiased():
    """Each call draws fresh partners; their average converges to the exact term, one call does not equal it."""
    _, codes, y, rep, z = _label_problem(5)
    exact_hook = JediLabelRepulsion(codes, n_samples=None, weight=5.0)
    exact = exact_hook(0, y, rep, z)
    hook = JediLabelRepulsion(codes, n_samples=3, weight=5.0, seed=1)
    one = hook(0, y, rep, z)
    np.testing.assert_array_equal(one, JediLabelRepulsion(codes, n_samples=3, weight=5.0, seed=1)(0, y, rep, z))
    err_one = np.abs(one - exact).max()
    mean = np.mean([hook(it, y, rep, z) for it in range(4000)], axis=0)
    # the error of a mean of 4000 draws is about 1/63 of one draw's
    assert err_one > 1e-3 * np.abs(exact).max()
    assert np.abs(mean - exact).max() < err_one / 15
    js = []
    for it in range(2000):
        hook.js_iteration = it
        hook(it, y, rep, z)
        js.append(hook.js)
    exact_hook(0, y, rep, z)
    assert np.mean(js) == pytest.approx(exact_hook.js, rel=2e-2)


def test_label_hook_draws_every_partner():
    """Partners far down a label's member list are drawn as often as the first ones.

    Members 0-14 of the label sit near the origin and members 15-29 far away; a draw that reached
    only part of the list (e.g. a hash bit that is always 0) shifts the mean by far more than the
    sampling noise of 3 000 calls.
    """
    rng = np.random.default_rng(0)
    y = np.vstack([rng.normal(size=(15, 2)) * 0.3, rng.normal(size=(15, 2)) * 0.3 + [4.0, 0.0]])
    codes = np.zeros(30, dtype=np.int64)
    rep, z_rows = np.empty_like(y), np.empty(30)
    repulsion_exact(y, np.ones(30), 2, rep, z_rows)
    z = float(z_rows.sum())
    exact = JediLabelRepulsion(codes, n_samples=None, weight=5.0)(0, y, rep, z)
    hook = JediLabelRepulsion(codes, n_samples=2, weight=5.0, seed=3)
    err_one = np.abs(hook(0, y, rep, z) - exact).max()
    mean = np.mean([hook(it, y, rep, z) for it in range(3000)], axis=0)
    # the noise of the mean is about err_one / 55; leaving out the far half biases it by about err_one
    assert np.abs(mean - exact).max() < err_one / 12


def test_label_hook_small_groups_are_exact():
    """Groups with at most n_samples other members are summed exactly, whatever the seed."""
    _, codes, y, rep, z = _label_problem(6, n=12)
    exact = JediLabelRepulsion(codes, n_samples=None)(0, y, rep, z)
    np.testing.assert_allclose(JediLabelRepulsion(codes, n_samples=11, seed=4)(3, y, rep, z), exact, rtol=1e-13)
    with pytest.raises(ValueError, match="n_samples"):
        JediLabelRepulsion(codes, n_samples=0)


def test_sampled_sparse_prior_is_unbiased():
    """Sampling the stored prior pairs in proportion to p' averages to the exact sparse term."""
    P, Pp, y = _problem(8, n=40)
    n = y.shape[0]
    rep, z_rows = np.empty_like(y), np.empty(n)
    repulsion_exact(y, np.ones(n), 2, rep, z_rows)
    z = float(z_rows.sum())
    Pps = sparse.csr_matrix(Pp)
    assert np.diff(Pps.indptr).min() > 3  # every row is sampled, none summed exactly
    exact_hook = JediRepulsion(Pps, weight=5.0)
    exact = exact_hook(0, y, rep, z)
    hook = JediRepulsion(Pps, weight=5.0, n_samples=3, seed=2)
    one = hook(0, y, rep, z)
    err_one = np.abs(one - exact).max()
    assert err_one > 1e-3 * np.abs(exact).max()
    mean = np.mean([hook(it, y, rep, z) for it in range(4000)], axis=0)
    assert np.abs(mean - exact).max() < err_one / 15
    # rows with at most n_samples pairs are exact
    big = JediRepulsion(Pps, weight=5.0, n_samples=int(np.diff(Pps.indptr).max()), seed=2)
    np.testing.assert_allclose(big(5, y, rep, z), exact, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="n_samples"):
        JediRepulsion(Pps, n_samples=0)


def test_label_hook_does_not_depend_on_the_thread_count():
    import numba

    from fischer_sc.core._numba import num_threads

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba runs on one thread here")
    _, codes, y, rep, z = _label_problem(9, n=300)
    hook = JediLabelRepulsion(codes, n_samples=4, weight=3.0, seed=5)
    with num_threads(1):
        one = hook(2, y, rep, z)
    with num_threads(2):
        two = hook(2, y, rep, z)
    np.testing.assert_array_equal(one, two)

"""The density term of the embedding engine (log-radius correlation) and the cost-based repulsion choice."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from fischer_sc.core.embedding._density import DensityTerm, edge_pull, edge_sq_sums, log_radii
from fischer_sc.core.embedding._optimise import repulsion_costs, resolve_repulsion


def _sym_p(rng: np.random.Generator, n: int) -> sparse.csr_matrix:
    a = sparse.random(n, n, density=0.4, random_state=np.random.RandomState(1), format="csr")
    a = a + a.T
    a.setdiag(0.0)
    a.eliminate_zeros()
    a = a.tocsr()
    a.data /= a.data.sum()
    return a


def test_edge_kernels_match_numpy():
    rng = np.random.default_rng(0)
    P = _sym_p(rng, 15)
    y, b = rng.normal(size=(15, 2)), rng.normal(size=15)
    dense = P.toarray()
    diff = y[:, None, :] - y[None, :, :]
    sums = np.empty(15)
    edge_sq_sums(P.indptr, P.indices, P.data, y, sums)
    np.testing.assert_allclose(sums, (dense * (diff**2).sum(2)).sum(1), rtol=1e-12)
    pull = np.empty_like(y)
    edge_pull(P.indptr, P.indices, P.data, b, y, pull)
    ref = ((dense * (b[:, None] + b[None, :]))[:, :, None] * diff).sum(1)
    np.testing.assert_allclose(pull, ref, rtol=1e-10, atol=1e-14)


def _objective(P: sparse.csr_matrix, target: np.ndarray, y: np.ndarray, weight: float) -> float:
    dense = P.toarray()
    r = (dense * ((y[:, None, :] - y[None, :, :]) ** 2).sum(2)).sum(1) / dense.sum(1)
    return -weight * float(np.corrcoef(np.log(r), target)[0, 1])


def test_density_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    P = _sym_p(rng, 12)
    x = rng.normal(size=(12, 5)) * rng.uniform(0.5, 2.0, (12, 1))
    target = log_radii(P, x)
    y = rng.normal(size=(12, 2))
    term = DensityTerm(P, target, weight=0.7)
    grad = np.empty_like(y)
    term.gradient(y, grad)
    num = np.empty_like(y)
    eps = 1e-6
    for i in range(12):
        for c in range(2):
            yp, ym = y.copy(), y.copy()
            yp[i, c] += eps
            ym[i, c] -= eps
            num[i, c] = (_objective(P, target, yp, 0.7) - _objective(P, target, ym, 0.7)) / (2 * eps)
    # the engine's gradients omit the factor 4 of the KL gradient
    np.testing.assert_allclose(4 * grad, num, rtol=1e-5, atol=1e-8)
    assert term.correlation == pytest.approx(-_objective(P, target, y, 1.0), abs=1e-12)


def test_log_radii_are_weighted_mean_squared_distances():
    rng = np.random.default_rng(2)
    P = _sym_p(rng, 10)
    x = rng.normal(size=(10, 3))
    dense = P.toarray()
    ref = (dense * ((x[:, None] - x[None]) ** 2).sum(2)).sum(1) / dense.sum(1)
    np.testing.assert_allclose(log_radii(P, x), np.log(ref), rtol=1e-12)


def test_auto_repulsion_follows_the_cost_model():
    exact, bh = repulsion_costs(100)
    assert exact < bh
    exact, bh = repulsion_costs(2_000)
    assert exact > 3 * bh  # exact at 2 000 points cost several times Barnes-Hut (the old jump)
    switch = next(n for n in range(10, 5_000) if resolve_repulsion("auto", n) == "barnes_hut")
    assert 200 < switch < 1_000
    assert all(resolve_repulsion("auto", n) == "barnes_hut" for n in range(switch, 3_000, 97))
    assert resolve_repulsion("auto", 10_000, 4) == "exact"


def test_point_scales_contrast_amplifies_only_flat_radii():
    from fischer_sc.core.embedding import point_scales

    rng = np.random.default_rng(3)
    flat = np.exp(rng.normal(size=500) * 0.1)  # betas whose log radii have sd 0.05
    plain = np.log(point_scales(flat))
    amplified = np.log(point_scales(flat, 0.3))
    assert plain.std() == pytest.approx(0.05, rel=0.1)
    assert amplified.std() == pytest.approx(0.3 - plain.std(), rel=1e-6)  # flat radii: spread contrast - sd
    # the amplification fades out: none once the radii vary by half the contrast
    half = np.exp(rng.normal(size=500) * 0.4)  # log radii with sd 0.2, above contrast / 2 = 0.15
    np.testing.assert_allclose(point_scales(half, 0.3), point_scales(half))
    sd = np.log(point_scales(half)).std()
    assert np.log(point_scales(half, 0.45)).std() == pytest.approx(0.45 - sd, rel=1e-6)  # just below 0.225
    assert np.corrcoef(plain, amplified)[0, 1] == pytest.approx(1.0)  # same order, a power of the radii
    wide = np.exp(rng.normal(size=500) * 2.0)
    np.testing.assert_allclose(point_scales(wide, 0.3), point_scales(wide))


def test_knn_radii_track_the_local_radius_in_high_dimensions():
    from fischer_sc.core.embedding import knn, knn_log_radii, perplexity_affinities, radius_scales

    rng = np.random.default_rng(4)
    x = np.vstack([rng.normal(size=(150, 50)), 30.0 + rng.normal(size=(450, 50))])
    idx, dist = knn(x, 90, method="exact")
    r15 = np.log(dist[:, 14])
    knn_r = knn_log_radii(dist)
    np.testing.assert_allclose(knn_r, np.log(dist[:, :15].mean(1)), rtol=1e-12)
    sigma = -0.5 * np.log(perplexity_affinities(idx, dist, 30.0).beta)
    # perplexity calibration ignores a constant added to a point's squared distances: its offset from the centre
    assert np.corrcoef(knn_r, r15)[0, 1] > 0.95
    assert np.corrcoef(sigma, r15)[0, 1] < 0.8
    s = radius_scales(knn_r, 0.6)
    assert np.median(s) == pytest.approx(1.0, rel=1e-6)
    assert np.log(s).std() == pytest.approx(0.6 - knn_r.std(), rel=1e-6)
    with pytest.raises(ValueError, match="distances"):
        knn_log_radii(np.empty((3, 0)))


def test_attraction_carries_the_density_pull():
    from fischer_sc.core.embedding._forces import N_ATTRACTION_BLOCKS, attraction, attraction_symmetric

    rng = np.random.default_rng(5)
    n = 3 * N_ATTRACTION_BLOCKS + 4
    P = _sym_p(rng, n)
    y, s = rng.normal(size=(n, 2)), rng.uniform(0.5, 2.0, n)
    term = DensityTerm(P, log_radii(P, rng.normal(size=(n, 6))), weight=0.8)
    assert term.uses(P) and not term.uses(P * 2.0)
    plain, dens = np.empty_like(y), np.empty_like(y)
    attraction(P.indptr, P.indices, P.data, y, s, 1, plain)
    term.gradient(y, dens)
    U = sparse.triu(P, k=1, format="csr")
    fused = np.empty_like(y)
    buffers = np.empty((N_ATTRACTION_BLOCKS, n, 2))
    attraction_symmetric(U.indptr, U.indices, U.data, y, s, 1, buffers, fused, term.pull_coefficients(y))
    np.testing.assert_allclose(fused, plain + dens, rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="one coefficient per point"):
        attraction_symmetric(U.indptr, U.indices, U.data, y, s, 1, buffers, fused, np.ones(n - 1))
    # A third column collects sum_j p_ij ||y_i - y_j||^2 from the same walk (the term's radii).
    both = np.empty((n, 3))
    buffers3 = np.full((N_ATTRACTION_BLOCKS, n, 3), np.nan)  # stale contents must not leak in
    attraction_symmetric(U.indptr, U.indices, U.data, y, s, 1, buffers3, both, term.pull_coefficients(y))
    np.testing.assert_allclose(both[:, :2], plain + dens, rtol=1e-10, atol=1e-14)
    rows = np.repeat(np.arange(n), np.diff(P.indptr))
    reference = np.bincount(rows, P.data * ((y[rows] - y[P.indices]) ** 2).sum(axis=1), minlength=n)
    np.testing.assert_allclose(both[:, 2], reference, rtol=1e-12)
    np.testing.assert_allclose(term.radii_sums(y), reference, rtol=1e-12)
    with pytest.raises(ValueError, match="columns"):
        attraction_symmetric(
            U.indptr, U.indices, U.data, y, s, 1, np.empty((N_ATTRACTION_BLOCKS, n, 4)), np.empty((n, 4))
        )


class _OneStepBehind(DensityTerm):
    """The density gradient with the radii of the previous call's coordinates: what the fused optimiser computes."""

    previous: np.ndarray | None = None

    def gradient(self, y: np.ndarray, out: np.ndarray) -> None:
        from fischer_sc.core.embedding._density import edge_pull

        sums = None if self.previous is None else self.radii_sums(self.previous).copy()
        self.previous = y.copy()
        edge_pull(self.indptr, self.indices, self.data, self.pull_coefficients(y, sums), y, out)


def test_optimiser_fused_density_matches_the_separate_walk():
    from fischer_sc.core.embedding import optimise

    rng = np.random.default_rng(6)
    n = 60
    P = _sym_p(rng, n)
    x = rng.normal(size=(n, 8)) * rng.uniform(0.5, 2.0, (n, 1))
    y0 = rng.normal(size=(n, 2)) * 1e-2
    term = DensityTerm(P, log_radii(P, x), weight=0.5)
    kwargs = {"n_iter": 40, "early_exaggeration_iter": 10, "repulsion": "exact", "density": term, "density_start": 5}
    fused = optimise(P, y0, **kwargs).embedding
    # the same term on an equal copy of P with one more (zero) stored edge: not fusable, separate
    # walk; the fused walk collects the radii for the next iteration, so the reference lags too
    Q = P.tolil()
    Q[0, 0] = 1e-300
    lagged = _OneStepBehind(Q.tocsr(), log_radii(P, x), weight=0.5)
    separate = optimise(P, y0, **{**kwargs, "density": lagged}).embedding
    np.testing.assert_allclose(fused, separate, rtol=1e-7, atol=1e-9)
    # ... and not the same as the term at the current coordinates (the test can tell them apart)
    current = optimise(P, y0, **{**kwargs, "density": DensityTerm(Q.tocsr(), log_radii(P, x), weight=0.5)}).embedding
    assert np.abs(current - fused).max() > 1e-6 * np.abs(fused).max()


def test_scale_start_holds_the_plain_kernel_until_then():
    from fischer_sc.core.embedding import optimise

    rng = np.random.default_rng(7)
    n = 50
    P = _sym_p(rng, n)
    y0 = rng.normal(size=(n, 2)) * 1e-2
    s = rng.uniform(0.5, 2.0, n)
    common = {"n_iter": 30, "early_exaggeration_iter": 10, "repulsion": "exact"}
    plain = optimise(P, y0, pair_scale=None, **common).embedding
    held = optimise(P, y0, scales=s, pair_scale="mean", scale_start=30, **common).embedding
    np.testing.assert_array_equal(held, plain)  # the pair scale never switched on
    late = optimise(P, y0, scales=s, pair_scale="mean", scale_start=20, **common).embedding
    default = optimise(P, y0, scales=s, pair_scale="mean", **common).embedding  # on from iteration 10
    assert np.abs(late - plain).max() > 1e-6
    assert np.abs(late - default).max() > 1e-6
    # the first 20 iterations of ``late`` are plain t-SNE's: equal to a plain run cut there
    cut = optimise(P, y0, pair_scale=None, **{**common, "n_iter": 20}).embedding
    head = optimise(P, y0, scales=s, pair_scale="mean", scale_start=20, **{**common, "n_iter": 20}).embedding
    np.testing.assert_array_equal(head, cut)


def test_radii_of_a_non_symmetric_p_are_those_of_its_own_edges():
    rng = np.random.default_rng(8)
    n = 29
    P = _sym_p(rng, n)
    y = rng.normal(size=(n, 2))
    A = P.tolil()
    A[0, 1] = 2.0 * A[0, 1] + 1e-3
    A = A.tocsr()
    term = DensityTerm(A, log_radii(P, rng.normal(size=(n, 4))), weight=0.3)
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    reference = np.bincount(rows, A.data * ((y[rows] - y[A.indices]) ** 2).sum(axis=1), minlength=n)
    np.testing.assert_allclose(term.radii_sums(y), reference, rtol=1e-12)

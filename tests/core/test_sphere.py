"""fischer_sc.core.sphere: every kernel against its slow reference, gradients against finite differences
and autograd, the sampled loss against the full O(n^3) loss, denoising, orientation and maps."""

from __future__ import annotations

import numpy as np
import pytest

from fischer_sc.core.sphere import (
    ANGLES,
    LOSSES,
    canonical_orientation,
    canonical_rotation,
    chord_angle,
    denoise,
    epoch_gradient_reference,
    full_loss_reference,
    geodesic_distance,
    half_sphere_init,
    map_projection,
    mp_median,
    mp_rank,
    neighbour_draws_reference,
    neighbour_gradient_reference,
    neighbour_loss_reference,
    optimise_sphere,
    orthographic,
    retract,
    sample_triples,
    sample_triples_reference,
    spherical_angle,
    tangent_project,
    triple_loss_reference,
    unit_rows,
)
from fischer_sc.core.sphere._kernels import epoch_gradient, scatter_ends


def _setup(n: int = 40, r: int = 5, k: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, r)).astype(np.float32)
    y = unit_rows(rng.normal(size=(n, 3)))
    d2 = ((z[:, None].astype(float) - z[None]) ** 2).sum(-1)
    nbr = np.argsort(d2, axis=1)[:, 1 : k + 1].astype(np.int32)
    return z, y, nbr


def _kernel_gradient(z, y, nbr, per_point, seed, epoch, stratified, angle, loss, precondition, n_blocks=3):
    n = y.shape[0]
    m = n * per_point
    grad, g_i, g_k = np.zeros((n, 3)), np.zeros((m, 3)), np.zeros((m, 3))
    pairs = np.empty((m, 2), dtype=np.int32)
    point_loss, point_count = np.zeros(n), np.zeros(n, dtype=np.int64)
    epoch_gradient(
        z, y, nbr, per_point, seed, epoch, stratified, ANGLES[angle], LOSSES[loss], precondition,
        grad, g_i, g_k, pairs, point_loss, point_count,
    )  # fmt: skip
    scatter_ends(pairs, g_i, g_k, grad, n_blocks)
    return tangent_project(y, grad), point_loss.sum(), point_count.sum()


@pytest.mark.parametrize("stratified", [True, False])
def test_sampler_matches_python_reference(stratified):
    _, _, nbr = _setup()
    fast = sample_triples(nbr, 40, 4, 12345, 3, stratified)
    slow = sample_triples_reference(nbr, 40, 4, 12345, 3, stratified)
    np.testing.assert_array_equal(fast, slow)
    valid = fast[fast[:, 0] >= 0]
    assert len(valid) == len(fast)
    assert (
        (valid[:, 0] != valid[:, 1]).all() and (valid[:, 1] != valid[:, 2]).all() and (valid[:, 0] != valid[:, 2]).all()
    )
    if stratified:  # stratum 0: both ends are neighbours of the vertex
        first = fast[0::4]
        assert all(i in nbr[j] and k in nbr[j] for i, j, k in first)


def test_sampler_changes_with_epoch_and_seed():
    _, _, nbr = _setup()
    a = sample_triples(nbr, 40, 4, 1, 0, False)
    assert not np.array_equal(a, sample_triples(nbr, 40, 4, 1, 1, False))
    assert not np.array_equal(a, sample_triples(nbr, 40, 4, 2, 0, False))


@pytest.mark.parametrize("angle", ["spherical", "chord"])
@pytest.mark.parametrize("loss", ["angle", "cos"])
@pytest.mark.parametrize("precondition", [False, True])
def test_gradient_kernel_matches_finite_differences(angle, loss, precondition):
    z, y, nbr = _setup()
    grad, total, count = _kernel_gradient(z, y, nbr, 4, 99, 5, True, angle, loss, precondition)
    triples = sample_triples_reference(nbr, 40, 4, 99, 5, True)
    ref = epoch_gradient_reference(z, y, triples, angle, loss, precondition=precondition)
    assert np.abs(grad - ref).max() < 1e-4 * np.abs(ref).max()
    losses = triple_loss_reference(z, y, triples, angle, loss)
    assert total == pytest.approx(np.nansum(losses), rel=1e-6)
    assert count == np.isfinite(losses).sum()


def test_gradient_kernel_matches_autograd():
    import torch

    z, y, nbr = _setup()
    grad, _, _ = _kernel_gradient(z, y, nbr, 3, 7, 0, True, "spherical", "angle", False)
    t = sample_triples_reference(nbr, 40, 3, 7, 0, True)
    yt = torch.tensor(y, requires_grad=True)
    zt = torch.tensor(z, dtype=torch.float64)
    i, j, k = (torch.tensor(t[:, c]) for c in range(3))
    u, w = zt[i] - zt[j], zt[k] - zt[j]
    cos_x = (u * w).sum(1) / (u.norm(dim=1) * w.norm(dim=1))
    yn = yt / yt.norm(dim=1, keepdim=True)  # the loss on the sphere, extended radially
    ti = yn[i] - (yn[i] * yn[j]).sum(1, keepdim=True) * yn[j]
    tk = yn[k] - (yn[k] * yn[j]).sum(1, keepdim=True) * yn[j]
    cos_y = (ti * tk).sum(1) / (ti.norm(dim=1) * tk.norm(dim=1))
    clamp = 1 - 1e-6
    loss = ((torch.arccos(cos_x.clamp(-clamp, clamp)) - torch.arccos(cos_y.clamp(-clamp, clamp))) ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(grad, tangent_project(y, yt.grad.numpy()), rtol=1e-5, atol=1e-5)


def test_sampled_loss_and_gradient_match_full_loss():
    """Uniform triples: the mean sampled loss estimates the full O(n^3) mean, the gradient its direction."""
    z, y, nbr = _setup(n=30, r=4)
    full = full_loss_reference(z, y, "chord", "angle")
    total = count = 0.0
    mean_grad = np.zeros_like(y)
    for epoch in range(150):
        g, s, c = _kernel_gradient(z, y, nbr, 10, 3, epoch, False, "chord", "angle", False)
        total, count, mean_grad = total + s, count + c, mean_grad + g
    assert total / count == pytest.approx(full, rel=0.03)
    # Full gradient by finite differences over every ordered triple, normalised like the samples.
    import itertools

    every = np.array(list(itertools.permutations(range(30), 3)))
    full_grad = epoch_gradient_reference(z, y, every, "chord", "angle")
    cos = (mean_grad * full_grad).sum() / np.linalg.norm(mean_grad) / np.linalg.norm(full_grad)
    assert cos > 0.95


def test_octant_triangle_has_right_angles():
    y = np.eye(3)
    t = np.array([[1, 0, 2], [0, 1, 2], [0, 2, 1]])
    np.testing.assert_allclose(spherical_angle(y, t), np.pi / 2)
    np.testing.assert_allclose(chord_angle(y, t), np.pi / 3)  # the chords form an equilateral triangle
    assert full_loss_reference(np.eye(3), y, "chord", "angle") < 1e-9  # the same angles as in R^3


def test_spherical_angle_matches_finite_difference_of_geodesics():
    """The spherical angle equals the angle between the geodesics' initial directions, measured by small steps."""
    rng = np.random.default_rng(1)
    y = unit_rows(rng.normal(size=(3, 3)))
    h = 1e-6
    dirs = [unit_rows(((1 - h) * y[1] + h * y[c])[None])[0] - y[1] for c in (0, 2)]
    fd = np.arccos(np.dot(dirs[0], dirs[1]) / np.linalg.norm(dirs[0]) / np.linalg.norm(dirs[1]))
    assert spherical_angle(y, np.array([[0, 1, 2]]))[0] == pytest.approx(fd, abs=1e-5)


def test_tangent_projection_retraction_and_geodesics():
    rng = np.random.default_rng(2)
    y = unit_rows(rng.normal(size=(50, 3)))
    g = tangent_project(y, rng.normal(size=(50, 3)))
    np.testing.assert_allclose((g * y).sum(1), 0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(retract(y, g), axis=1), 1, atol=1e-12)
    d = geodesic_distance(y[:-1], y[1:])
    np.testing.assert_allclose(2 * np.sin(d / 2), np.linalg.norm(y[:-1] - y[1:], axis=1), atol=1e-12)


def test_mp_median_and_rank_on_the_spiked_model():
    rng = np.random.default_rng(3)
    noise = rng.normal(size=(800, 400))  # Monte Carlo reference of the MP median at beta = 0.5
    assert np.median(np.linalg.eigvalsh(noise.T @ noise / 800)) == pytest.approx(mp_median(0.5), rel=0.01)
    n, d = 1000, 200
    signal = rng.normal(size=(n, 5)) * np.sqrt([20, 15, 10, 8, 6]) @ np.linalg.qr(rng.normal(size=(d, 5)))[0].T
    x = signal + rng.normal(size=(n, d))
    lam = np.linalg.eigvalsh(np.cov(x.T, bias=True))
    rank, sigma2, _ = mp_rank(lam, n, d)
    assert rank == 5
    assert sigma2 == pytest.approx(1.0, rel=0.05)
    out = denoise(x)
    assert out.rank == 5 and out.scores.shape == (n, 5)
    wide = denoise(x[:150])  # more variables than observations: the Gram route
    assert wide.scores.shape[0] == 150 and 2 <= wide.rank <= 5


def test_denoise_scores_keep_angles_of_the_reconstruction():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(100, 8))
    out = denoise(x, rank=8)
    t = np.array([[0, 1, 2], [5, 7, 9]])
    np.testing.assert_allclose(chord_angle(out.scores.astype(float), t), chord_angle(x, t), atol=1e-5)


def test_half_sphere_init_stays_in_its_band():
    rng = np.random.default_rng(5)
    y = half_sphere_init(rng.normal(size=(500, 4)))
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), 1)
    lonlat = map_projection(y)
    assert np.abs(lonlat).max() <= 0.35 * np.pi + 1e-12


def test_canonical_orientation_undoes_any_rotation():
    rng = np.random.default_rng(6)
    y = half_sphere_init(rng.normal(size=(300, 2)) * [3, 1])
    q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    a, b = canonical_orientation(y), canonical_orientation(y @ q.T)
    np.testing.assert_allclose(a, b, atol=1e-10)
    r = canonical_rotation(y)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    mean = a.mean(0)
    assert mean[0] > 0 and abs(mean[1]) < 1e-10 and abs(mean[2]) < 1e-10  # centred at lon = lat = 0


def test_map_projections_and_orthographic_view():
    y = unit_rows(np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0.1]]))
    eq = map_projection(y, "equirectangular")
    np.testing.assert_allclose(eq[:3], [[0, 0], [np.pi / 2, 0], [0, np.pi / 2]], atol=1e-12)
    merc = map_projection(y, "mercator")
    assert merc[2, 1] == pytest.approx(np.log(np.tan(np.pi / 4 + np.deg2rad(85) / 2)))
    with pytest.raises(ValueError, match="projection"):
        map_projection(y, "robinson")
    xy, front = orthographic(y)
    np.testing.assert_array_equal(front, [True, True, True, False])
    np.testing.assert_allclose(xy[1], [1, 0])


def test_optimiser_recovers_a_sphere_and_is_deterministic():
    rng = np.random.default_rng(7)
    truth = unit_rows(rng.normal(size=(300, 3)))
    z = (truth @ np.linalg.qr(rng.normal(size=(10, 3)))[0].T).astype(np.float32)
    d2 = ((truth[:, None] - truth[None]) ** 2).sum(-1)
    nbr = np.argsort(d2, axis=1)[:, 1:11]
    init = half_sphere_init(z)
    kw = {"n_epochs": 300, "angle": "chord", "learning_rate": 0.03, "seed": 4}
    res = optimise_sphere(z, init, nbr, n_jobs=1, **kw)
    np.testing.assert_allclose(np.linalg.norm(res.embedding, axis=1), 1, atol=1e-12)
    assert res.loss < 0.5 * res.loss_history[0]
    t = np.random.default_rng(0).integers(0, 300, (3000, 3))
    t = t[(t[:, 0] != t[:, 1]) & (t[:, 1] != t[:, 2]) & (t[:, 0] != t[:, 2])]
    corr = np.corrcoef(chord_angle(truth, t), chord_angle(res.embedding, t))[0, 1]
    assert corr > 0.9
    again = optimise_sphere(z, init, nbr, n_jobs=2, **kw)  # same result on any thread count
    np.testing.assert_array_equal(res.embedding, again.embedding)


def test_optimiser_rejects_unknown_options():
    z, y, nbr = _setup()
    with pytest.raises(ValueError, match="angle"):
        optimise_sphere(z, y, nbr, angle="flat")
    with pytest.raises(ValueError, match="sampling"):
        optimise_sphere(z, y, nbr, sampling="near")


def test_refinement_stage_starts_where_the_main_stage_ends():
    z, y, nbr = _setup()
    kw = {"neighbour_weight": 3.0, "seed": 2, "n_jobs": 1}
    main = optimise_sphere(z, y, nbr, n_epochs=20, **kw)
    both = optimise_sphere(z, y, nbr, n_epochs=40, refine_fraction=0.5, **kw)
    # The first 20 epochs are the main stage of a 20-epoch run exactly (same draws, same steps) ...
    np.testing.assert_array_equal(both.loss_history[:20], main.loss_history)
    # ... and the refinement stage then moves the points on, at a smaller step.
    assert not np.array_equal(both.embedding, main.embedding)
    np.testing.assert_allclose(np.linalg.norm(both.embedding, axis=1), 1, atol=1e-12)
    # The refinement stage has its own neighbour weight.
    other = optimise_sphere(z, y, nbr, n_epochs=40, refine_fraction=0.5, refine_weight=0.0, **kw)
    np.testing.assert_array_equal(other.loss_history[:21], both.loss_history[:21])
    assert not np.array_equal(other.embedding, both.embedding)
    slow = optimise_sphere(z, y, nbr, n_epochs=40, refine_fraction=0.5, refine_learning_rate=1e-9, **kw)
    np.testing.assert_allclose(slow.embedding, main.embedding, atol=1e-6)
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="refine_fraction"):
            optimise_sphere(z, y, nbr, n_epochs=10, refine_fraction=bad)


def test_neighbour_kernel_matches_reference_loss_and_finite_differences():
    from fischer_sc.core.sphere._neighbours import neighbour_gradient

    _, y, nbr = _setup(n=30, k=5, seed=3)
    n_pos, n_neg, seed, epoch, s2 = 4, 7, 11, 2, 0.3
    pos, neg = neighbour_draws_reference(nbr, 30, n_pos, n_neg, seed, epoch)
    assert (neg == np.arange(30)[:, None]).any()  # the skip of a negative equal to j is exercised
    grad, loss = np.zeros((30, 3)), np.zeros(30)
    neighbour_gradient(y, nbr, n_pos, n_neg, seed, epoch, s2, 2.0, grad, loss)
    np.testing.assert_allclose(loss, neighbour_loss_reference(y, pos, neg, s2), rtol=1e-9)
    expected = 2.0 * np.sqrt(s2) * neighbour_gradient_reference(y, pos, neg, s2)
    np.testing.assert_allclose(tangent_project(y, grad), expected, atol=1e-6)
    # Another epoch draws other negatives.
    assert not np.array_equal(neighbour_draws_reference(nbr, 30, n_pos, n_neg, seed, epoch + 1)[1], neg)


def test_neighbour_term_keeps_more_neighbours():
    rng = np.random.default_rng(0)
    z = (rng.normal(size=(300, 8)) + np.repeat(rng.normal(scale=8, size=(3, 8)), 100, axis=0)).astype(np.float32)
    d2 = ((z[:, None] - z[None]) ** 2).sum(-1)
    nbr = np.argsort(d2, axis=1)[:, 1:16].astype(np.int32)

    def recall(w):
        y = optimise_sphere(z, half_sphere_init(z), nbr, n_epochs=150, neighbour_weight=w, n_jobs=1).embedding
        near = np.argsort(-(y @ y.T), axis=1)[:, 1:16]
        return np.mean([len(np.intersect1d(a, b)) / 15 for a, b in zip(nbr, near, strict=True)])

    assert recall(3.0) > recall(0.0) + 0.05

"""The local correction stage: planted per-cluster and non-linear priors vanish from the data, kept clusters stay."""

from __future__ import annotations

import numpy as np
import pytest

from fischer_sc.core.embedding import Prior, _correct, _mnn, knn, local_correction, residualise
from fischer_sc.core.embedding._auto_lam import AUTO_TARGET, AutoBeta, Visibility
from fischer_sc.core.embedding._correct import (
    anchors_per_group,
    conditional_mean_residual,
    kernel_smooth,
    kmeans_groups,
    mnn_moves,
    silhouette,
)
from fischer_sc.datasets._factor_out import factor_out_prior


def _set(effect: str, **kw):
    a = factor_out_prior(effect, n=300, prior_sd=6.0, prior_dims=4, n_prior=3, random_state=0, **kw)
    return (
        np.asarray(a.X, dtype=np.float64),
        a.obs["prior"].cat.codes.to_numpy().astype(np.int64),
        a.obs["kept"].cat.codes.to_numpy(),
        np.asarray(a.obsm["X_prior"], dtype=np.float64),
        np.asarray(a.obsm["X_ideal"], dtype=np.float64),
    )


def _knn_purity(x: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Share of each point's k nearest neighbours (in x) that carry its label."""
    idx = knn(x, k, method="exact")[0]
    return float((labels[idx] == labels[:, None]).mean())


@pytest.mark.parametrize("kind", ["labels", "features"])
def test_per_cluster_prior_vanishes_where_regress_out_leaves_it(kind):
    x, prior, kept, z, ideal = _set("per_cluster")
    p = Prior("labels", prior, "t") if kind == "labels" else Prior("features", z, "t")
    vis = Visibility(p, 0)
    linear = residualise(x, p)[0]
    corrected, info = local_correction(x, p)
    v_lin, v_cor, v_data = vis.of_layout(linear), vis.of_layout(corrected), vis.of_layout(x)
    assert info["visibility_data"] == pytest.approx(v_data) and info["visibility_linear"] == pytest.approx(v_lin)
    assert v_lin > 0.15 * v_data, "the planted per-cluster effect should survive the linear fit"
    assert abs(v_cor) <= 0.06 * v_data, f"left {v_cor:.3f} of {v_data:.3f} (linear fit: {v_lin:.3f})"
    assert info["groups"] == ("labels" if kind == "labels" else "kmeans")
    assert info["n_groups"] == (3 if kind == "labels" else 300 // 50)
    assert info["alignment_rounds"] >= 1 and info["visibility_corrected"] == pytest.approx(v_cor)
    assert info["alignment_signal"] >= _correct.MIN_SIGNAL and info["visibility_noise"] < 0.1 * v_lin
    # the kept clusters stay about as separate as after regress_out (the ideal, without the prior: 0.996)
    assert _knn_purity(corrected, kept) >= max(0.95 * _knn_purity(linear, kept), 0.9 * _knn_purity(ideal, kept))


def test_a_weak_prior_the_linear_fit_removed_is_not_aligned_further():
    # config 1 of the factor-out sweep (2 labels 2 sd apart in 2 dimensions, n = 600, seed 1): after
    # the label means the groups no longer differ, yet the visibility left (0.06) is above the
    # target; aligning them anyway pushed the prior below chance in the t-SNE layout (-8 %)
    a = factor_out_prior("linear", n=600, prior_sd=2.0, prior_dims=2, n_prior=2, random_state=1)
    x = np.asarray(a.X, dtype=np.float64)
    p = Prior("labels", a.obs["prior"].cat.codes.to_numpy().astype(np.int64), "t")
    corrected, info = local_correction(x, p)
    assert info["visibility_linear"] > AUTO_TARGET * info["visibility_data"]  # the stages are entered
    assert info["groups"] == "labels" and info["alignment_signal"] < _correct.MIN_SIGNAL
    assert info["alignment_rounds"] == 0
    np.testing.assert_allclose(corrected, residualise(x, p)[0])


def test_nonlinear_feature_prior_is_removed_by_the_conditional_mean():
    x, _, kept, z, _ = _set("nonlinear")
    p = Prior("features", z, "t")
    corrected, info = local_correction(x, p)
    assert info["conditional_mean"] is True
    assert info["visibility_linear"] > 0.1 * info["visibility_data"]  # the cycle's harmonics are not linear in z
    assert abs(Visibility(p, 0).of_layout(corrected)) <= 0.06 * info["visibility_data"]
    assert _knn_purity(corrected, kept) > 0.9


def test_nothing_local_runs_when_the_linear_fit_suffices():
    x, prior, _, _, _ = _set("linear")
    p = Prior("labels", prior, "t")
    corrected, info = local_correction(x, p)
    assert info["groups"] == "none" and "alignment_rounds" not in info
    np.testing.assert_allclose(corrected, residualise(x, p)[0])
    linear_only, info2 = local_correction(x, p, local=False)
    np.testing.assert_allclose(linear_only, residualise(x, p)[0])
    assert "groups" not in info2
    # distance priors have neither a linear model nor groups
    d = np.abs(np.arange(10.0)[:, None] - np.arange(10.0)[None, :])
    out, info3 = local_correction(np.ones((10, 3)), Prior("dense", d, "t"))
    assert info3 == {} and (out == 1).all()


def test_mnn_rounds_align_a_shift_that_differs_per_cluster():
    rng = np.random.default_rng(1)
    cluster = np.repeat([0, 1], 100)
    codes = np.tile([0, 1], 100)
    base = rng.normal(size=(200, 3)) + np.where(cluster[:, None] == 1, [12.0, 0, 0], 0.0)
    shifts = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, -2.0]])  # label 1 moves up in cluster 0, back in cluster 1
    x = base + np.where(codes[:, None] == 1, shifts[cluster], 0.0)

    def gaps(x):
        return [x[(cluster == c) & (codes == 1)].mean(0) - x[(cluster == c) & (codes == 0)].mean(0) for c in (0, 1)]

    first = mnn_moves(x, codes, k=10)
    for c in (0, 1):  # the first round already moves each label towards the other, cluster by cluster
        assert first[(cluster == c) & (codes == 1)].mean(0) @ shifts[c] < -0.2
        assert first[(cluster == c) & (codes == 0)].mean(0) @ shifts[c] > 0.2
    for r in range(8):
        x = x + mnn_moves(x, codes, k=10, seed=r)
    assert max(np.linalg.norm(g) for g in gaps(x)) < 0.5  # from 2.0
    centres = [x[cluster == c].mean(0) for c in (0, 1)]
    assert np.linalg.norm(centres[1] - centres[0]) == pytest.approx(12.0, abs=0.5)  # the clusters stay apart


def test_mnn_pairs_follow_proximity_not_identity_when_shifts_exceed_the_cluster_gap():
    # the documented limit (module docstring, docs/factor_out.md): label 1 shifts cluster 0 by 5
    # towards cluster 1 (6 away) and cluster 1 elsewhere, so label 1's cluster 0 lies next to
    # label 0's cluster 1 and the two are mutual nearest neighbours; the data no longer say which
    # cluster is which, and the first move takes label 1's cluster 0 towards label 0's cluster 1
    # (+x), not back to its own counterpart at the origin (-x)
    rng = np.random.default_rng(3)
    cluster = np.repeat([0, 1], 100)
    codes = np.tile([0, 1], 100)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 0.0]])
    shifts = np.array([[5.0, 0.0, 0.0], [0.0, 8.0, 0.0]])  # label 1 only, its own way per cluster
    x = centres[cluster] + np.where(codes[:, None] == 1, shifts[cluster], 0.0) + 0.5 * rng.normal(size=(200, 3))
    first = mnn_moves(x, codes, k=10)
    moved = first[(cluster == 0) & (codes == 1)].mean(0)
    assert moved[0] > 0.1, moved  # towards the wrong cluster
    # with a shift below the gap the same cells move back towards their counterpart
    x_small = x - np.where(((cluster == 0) & (codes == 1))[:, None], [3.0, 0.0, 0.0], 0.0)  # shift 2
    assert mnn_moves(x_small, codes, k=10)[(cluster == 0) & (codes == 1)].mean(0)[0] < -0.1


def _mnn_moves_loop(x: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """The alignment round written plainly (every cell an anchor): one kNN search per pair and direction."""
    from fischer_sc.core.embedding import knn_query

    groups = [np.flatnonzero(codes == c) for c in np.unique(codes)]
    move = np.zeros_like(x)
    for a, ga in enumerate(groups):
        xa = x[ga]
        ka = min(k, ga.size - 1)
        sigma = float(np.median(knn_query(xa, xa, ka + 1)[1][:, -1]))
        total = np.zeros_like(xa)
        for b, gb in enumerate(groups):
            if b == a:
                continue
            xb = x[gb]
            ia = knn_query(xa, xb, min(k, gb.size))[0]
            ib = knn_query(xb, xa, min(k, ga.size))[0]
            anchors = [i for i in range(ga.size) if any(i in ib[j] for j in ia[i])]
            vec = np.array([np.mean([xb[j] - xa[i] for j in ia[i] if i in ib[j]], axis=0) for i in anchors])
            total += kernel_smooth(xa, xa[anchors], vec, sigma, _correct.SMOOTH_ANCHORS)
        move[ga] = total / len(groups)
    return move


def test_mnn_moves_match_the_plain_loop():
    x, codes, _, _, _ = _set("per_cluster")
    np.testing.assert_allclose(mnn_moves(x, codes, k=10), _mnn_moves_loop(x, codes, 10), atol=1e-10)
    # unequal groups, one of them smaller than k
    codes = np.where(np.arange(x.shape[0]) < 6, 3, codes)
    np.testing.assert_allclose(mnn_moves(x, codes, k=10), _mnn_moves_loop(x, codes, 10), atol=1e-10)


def test_anchor_subsets_fit_the_moves_and_the_kernel_carries_them_to_every_cell(monkeypatch):
    # groups above the cap: the moves are the plain loop's on the anchors alone, and every other
    # cell takes the kernel average of its group's anchors' moves
    from fischer_sc.core.embedding import knn_query

    x, codes, _, _, _ = _set("per_cluster")
    monkeypatch.setattr(_correct, "TOTAL_ANCHORS", 180)
    monkeypatch.setattr(_correct, "MIN_ANCHORS", 50)
    monkeypatch.setattr(_correct, "INTERPOLATE_BLOCK", 17)  # several blocks
    cap = anchors_per_group(3)
    assert cap == 60  # groups of 42 (all anchors), 173 and 85 cells
    got = mnn_moves(x, codes, k=10, seed=5)
    rng = np.random.default_rng(5)
    groups = [np.flatnonzero(codes == c) for c in range(3)]
    pools = [g if g.size <= cap else np.sort(rng.choice(g, cap, replace=False)) for g in groups]
    every = np.concatenate(pools)
    on_anchors = _mnn_moves_loop(x[every], codes[every], 10)
    want = np.zeros_like(x)
    want[every] = on_anchors
    for g, pool in zip(groups, pools, strict=True):
        rest = np.setdiff1d(g, pool)
        sigma = float(np.median(knn_query(x[pool], x[pool], 11)[1][:, -1]))
        want[rest] = kernel_smooth(x[rest], x[pool], want[pool], sigma, _correct.SMOOTH_ANCHORS)
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_anchors_per_group_share_the_total_within_bounds():
    assert anchors_per_group(1) == _correct.ANCHORS
    assert anchors_per_group(20) == _correct.TOTAL_ANCHORS // 20
    assert anchors_per_group(10_000) == _correct.MIN_ANCHORS


def test_kernel_smooth_matches_a_loop():
    rng = np.random.default_rng(2)
    pts, anchors, vec = rng.normal(size=(30, 2)), rng.normal(size=(12, 2)), rng.normal(size=(12, 3))
    got = kernel_smooth(pts, anchors, vec, 0.7, 5)
    want = np.empty((30, 3))
    for i, p in enumerate(pts):
        d = np.sqrt(((anchors - p) ** 2).sum(1))
        near = np.argsort(d, kind="stable")[:5]
        w = np.exp(-(d[near] ** 2) / (2 * 0.7**2))
        want[i] = (w[:, None] * vec[near]).sum(0) / w.sum()
    np.testing.assert_allclose(got, want, rtol=1e-10)
    # a constant field stays constant
    np.testing.assert_allclose(kernel_smooth(pts, anchors, np.ones((12, 3)), 0.1, 4), 1.0)


def test_silhouette_matches_its_definition():
    rng = np.random.default_rng(3)
    z, lab = rng.normal(size=(25, 2)), rng.integers(3, size=25)
    lab[:3] = [0, 1, 2]
    d = np.sqrt(((z[:, None] - z[None]) ** 2).sum(-1))
    s = []
    for i in range(25):
        own = (lab == lab[i]) & (np.arange(25) != i)
        if not own.any():
            s.append(0.0)
            continue
        a = d[i, own].mean()
        b = min(d[i, lab == c].mean() for c in set(lab.tolist()) - {lab[i]})
        s.append((b - a) / max(a, b))
    assert silhouette(z, lab) == pytest.approx(np.mean(s), rel=1e-10)


def test_kmeans_groups_refine_planted_clusters():
    rng = np.random.default_rng(4)
    truth = np.repeat(np.arange(4), [40, 80, 60, 120])
    z = rng.normal(size=(4, 5))[truth] * 8 + rng.normal(size=(300, 5))
    groups, score = kmeans_groups(z, 0)
    assert np.unique(groups).size == 300 // 50  # n / 50 groups, 2-8
    for g in np.unique(groups):  # every group inside one planted cluster, every cluster covered
        assert np.unique(truth[groups == g]).size == 1
    assert {int(truth[groups == g][0]) for g in np.unique(groups)} == {0, 1, 2, 3}
    assert 0 < score < 1
    assert np.unique(kmeans_groups(z[:60], 0)[0]).size == 2


def test_conditional_mean_removes_a_function_of_the_prior():
    rng = np.random.default_rng(5)
    t = rng.random(400)
    z = np.column_stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)])
    effect = 5 * np.column_stack([np.cos(4 * np.pi * t), np.sin(4 * np.pi * t)])  # not linear in z
    x = effect + rng.normal(size=(400, 2))
    r = conditional_mean_residual(x, z, 20)
    assert np.abs(np.corrcoef(r[:, 0], effect[:, 0])[0, 1]) < 0.15
    np.testing.assert_allclose(r.mean(0), x.mean(0), atol=0.05)  # the overall mean kept (kNN is not symmetric)


class _FakeVisibility:
    def __init__(self, values):
        self.values = list(values)

    def of_layout(self, y):
        return self.values.pop(0)


def test_auto_beta_falls_while_visible_rises_below_half_the_target_in_finer_steps_and_freezes():
    ctl = AutoBeta(_FakeVisibility([0.5, 0.5, 0.0, -0.5, 0.0, 0.03]), 1.0, start=10, freeze=40, every=5, step=10.0)
    y = np.zeros((3, 2))
    assert ctl.update(0, y) == 1.0 and ctl.history == []  # before the start: plain t-SNE
    got = [ctl.update(it, y) for it in (10, 15, 20, 25, 30, 35)]
    # target AUTO_TARGET * 1.0 = 0.04: down while above it, up while below half of it; the step is
    # square-rooted when the direction turns (10 -> 3.16); 0.03 lies between: b stays
    s = np.sqrt(10.0)
    assert got == pytest.approx([0.1, 0.01, 0.01 * s, 0.1, 0.1 * s, 0.1 * s])
    assert ctl.update(40, y) == pytest.approx(0.1 * s) and len(ctl.history) == 6
    assert AUTO_TARGET < 0.5


def test_auto_beta_does_not_chase_a_visibility_within_its_noise():
    # a weak prior (reference 0.2, target 0.008) measured with noise 0.02: 0.03 is chance, b stays at 1
    ctl = AutoBeta(_FakeVisibility([0.03, 0.03, 0.05]), 0.2, start=0, freeze=40, every=5, noise=0.02)
    assert ctl.upper == pytest.approx(0.04)
    got = [ctl.update(it, np.zeros((3, 2))) for it in (0, 5, 10)]
    assert got == pytest.approx([1.0, 1.0, 1.0 / np.sqrt(10.0)])


def _blocks(seed: int = 0, rows: int = 170, cols: int = 130, dim: int = 5):
    rng = np.random.default_rng(seed)
    a, b = np.round(rng.normal(size=(rows, dim)), 1), np.round(rng.normal(size=(cols, dim)), 1)  # rounded: ties
    return a, b, np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b)


def test_mnn_distance_kernel_gives_the_numpy_passes_bit_for_bit():
    a, b, sa, sb = _blocks()
    want = _correct._sq_dists(a, b, sa, sb)
    assert _mnn.sq_dists(a, b, sa, sb).tobytes() == want.tobytes()
    scratch = np.full(a.shape[0] * b.shape[0] + 7, np.nan)
    assert _mnn.sq_dists(a, b, sa, sb, scratch).tobytes() == want.tobytes()
    assert (want == 0).any() or (want > 0).all()


@pytest.mark.parametrize("k", [1, 2, 10, 130])
def test_mnn_kth_values_equal_numpy_partition(k):
    a, b, sa, sb = _blocks()
    d2 = _correct._sq_dists(a, b, sa, sb)
    np.testing.assert_array_equal(_mnn.kth_rows(d2, k), np.partition(d2, k - 1, axis=1)[:, k - 1])
    np.testing.assert_array_equal(
        _mnn.kth_cols(d2, min(k, 170)), np.partition(d2.T, min(k, 170) - 1, axis=1)[:, min(k, 170) - 1]
    )
    assert len(np.unique(d2)) < d2.size  # the rounded points give tied distances


def test_mnn_pairs_equal_numpy_nonzero():
    a, b, sa, sb = _blocks(1)
    d2 = _correct._sq_dists(a, b, sa, sb)
    row, col = np.partition(d2, 9, axis=1)[:, 9], np.partition(d2.T, 9, axis=1)[:, 9]
    ii, jj = _mnn.mutual_pairs(d2, row, col)
    want = np.nonzero((d2 <= row[:, None]) & (d2 <= col[None, :]))
    np.testing.assert_array_equal(ii, want[0])
    np.testing.assert_array_equal(jj, want[1])
    assert ii.size > 0


def test_mnn_smoothing_kernel_matches_numpy_and_a_loop():
    rng = np.random.default_rng(2)
    cols = np.sort(rng.choice(130, 60, replace=False))
    vec = rng.normal(size=(60, 4))
    # without ties: numpy's argpartition selects the same anchors (in another order)
    a, b = rng.normal(size=(170, 3)), rng.normal(size=(130, 3))
    d2 = _correct._sq_dists(a, b, np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b))
    np.testing.assert_allclose(
        _mnn.smooth_from(d2, cols, vec, 0.8, 7), _correct._smooth_from(d2[:, cols], vec, 0.8, 7), rtol=1e-12, atol=1e-14
    )
    # with ties at the k-th distance the kernel takes the lower column (numpy's choice is arbitrary)
    a, b, sa, sb = _blocks(2, dim=3)
    d2 = _correct._sq_dists(a, b, sa, sb)
    got = _mnn.smooth_from(d2, cols, vec, 0.8, 7)
    want = np.empty_like(got)
    for i in range(d2.shape[0]):
        near = np.lexsort((np.arange(60), d2[i, cols]))[:7]
        w = np.exp(-(d2[i, cols][near] - d2[i, cols][near].min()) / (2 * 0.8**2))
        want[i] = (w[:, None] * vec[near]).sum(0) / w.sum()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert any(np.sort(row[cols])[6] == np.sort(row[cols])[7] for row in d2)  # ties at the k-th were there
    # fewer columns than k: all of them
    np.testing.assert_allclose(
        _mnn.smooth_from(d2, cols[:5], vec[:5], 0.8, 7),
        _correct._smooth_from(d2[:, cols[:5]], vec[:5], 0.8, 7),
        rtol=1e-12,
    )


def test_mnn_moves_equal_the_numpy_round_and_do_not_depend_on_threads(monkeypatch):
    from fischer_sc.core import num_threads

    x, codes, _, _, _ = _set("per_cluster")
    want = _correct._mnn_moves_numpy(x, codes, seed=2)
    got = mnn_moves(x, codes, seed=2)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())
    for threads in (2, 3):
        with num_threads(threads):
            assert mnn_moves(x, codes, seed=2).tobytes() == got.tobytes()
    # anchor subsets and interpolation blocks (several blocks share the scratch buffer)
    monkeypatch.setattr(_correct, "TOTAL_ANCHORS", 180)
    monkeypatch.setattr(_correct, "MIN_ANCHORS", 50)
    monkeypatch.setattr(_correct, "INTERPOLATE_BLOCK", 17)
    want = _correct._mnn_moves_numpy(x, codes, seed=5)
    np.testing.assert_allclose(mnn_moves(x, codes, seed=5), want, rtol=0, atol=1e-12 * np.abs(want).max())

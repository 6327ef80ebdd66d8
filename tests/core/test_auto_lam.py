"""lam="auto": the prior's visibility, the feedback on JEDI's weight, CONFETTI's search, the linear residual."""

from __future__ import annotations

import numpy as np
import pytest

from fischer_sc.core.embedding import Prior
from fischer_sc.core.embedding._auto_lam import (
    AUTO_TARGET,
    REPULSION_FLOOR,
    AutoLam,
    Visibility,
    pair_prior_distances,
)
from fischer_sc.core.embedding._factor_out import confetti_lam
from fischer_sc.core.embedding._priors import residualise


def _grouped_layout(codes: np.ndarray, rng: np.random.Generator, spread: float) -> np.ndarray:
    """Points around one centre per label (far apart for small ``spread`` relative to the label gap)."""
    centres = np.array([[10.0 * c, 0.0] for c in range(codes.max() + 1)])
    return centres[codes] + spread * rng.normal(size=(codes.size, 2))


def test_visibility_is_one_for_separated_labels_and_zero_for_random():
    rng = np.random.default_rng(0)
    codes = rng.permutation(np.repeat(np.arange(3), [100, 200, 300]))
    vis = Visibility(Prior("labels", codes, "t"), seed=0)
    assert vis.of_layout(_grouped_layout(codes, rng, 0.5)) == pytest.approx(1.0, abs=0.02)
    assert abs(vis.of_layout(rng.normal(size=(600, 2)))) < 0.05
    # features: neighbours in the layout that are close in the prior -> high; a shuffled layout -> 0
    z = rng.normal(size=(600, 2))
    vf = Visibility(Prior("features", z, "t"), seed=0)
    assert vf.of_layout(z) > 0.6 and abs(vf.of_layout(z[rng.permutation(600)])) < 0.05


def test_pair_distances_of_each_kind():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(10, 2))
    i, j = np.array([0, 1, 2]), np.array([3, 1, 9])
    d = np.sqrt(((z[i] - z[j]) ** 2).sum(1))
    np.testing.assert_allclose(pair_prior_distances(Prior("features", z, "t"), i, j), d)
    full = np.sqrt(((z[:, None] - z[None]) ** 2).sum(-1))
    np.testing.assert_allclose(pair_prior_distances(Prior("dense", full, "t"), i, j), d)
    codes = np.array([0, 0, 1, 1, 0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(pair_prior_distances(Prior("labels", codes, "t"), i, j), [1.0, 0.0, 0.0])


class _FakeVisibility:
    """Returns the visibilities of a list in turn (what the running layout would show)."""

    def __init__(self, values):
        self.values = list(values)

    def of_layout(self, y):
        return self.values.pop(0)


def test_auto_lam_rises_while_the_prior_shows_falls_after_overshoot_and_stops_at_the_cap():
    ctl = AutoLam(_FakeVisibility([0.8, 0.6, 0.3, 0.001, 0.001]), 1.0, start=10, freeze=200, every=5, grow=1.5)
    ctl.balance(np.ones((4, 2)), 0.5 * np.ones((4, 2)))
    assert ctl.lam == pytest.approx(2.0)  # the JS gradient half the repulsion: weight 2 balances them
    y = np.zeros((4, 2))
    used = [ctl.update(it, y) for it in range(10, 35)]
    weights = [w for _, _, w in ctl.history]
    assert [it for it, _, _ in ctl.history] == [10, 15, 20, 25, 30]
    assert weights[:3] == pytest.approx([3.0, 4.5, 6.75])  # above the target (0.04 of 1.0): x 1.5 each
    assert weights[3] < weights[2] and weights[4] < weights[3]  # far below it: lowered
    assert used[-1] == pytest.approx(weights[-1])
    assert ctl.update(200, y) == pytest.approx(weights[-1]) and len(ctl.history) == 5  # frozen
    # the cap: never the weight at which 1 + lam (Gbar - c) would fall below the repulsion floor
    assert ctl.update(201, y, g_gap=1.0) == pytest.approx(1.0 - REPULSION_FLOOR)
    ctl2 = AutoLam(_FakeVisibility([0.9] * 20), 1.0, start=0, freeze=100, every=1, grow=2.0)
    ctl2.balance(np.ones((4, 2)), np.ones((4, 2)))
    for it in range(20):
        w = ctl2.update(it, y, g_gap=0.1)
    assert w == pytest.approx((1.0 - REPULSION_FLOOR) / 0.1) and ctl2.lam <= w + 1e-12


def test_residualise_removes_label_means_and_linear_feature_effects():
    rng = np.random.default_rng(2)
    codes = rng.integers(3, size=300)
    x = rng.normal(size=(300, 4)) + 5.0 * codes[:, None]
    xr, done = residualise(x, Prior("labels", codes, "t"))
    assert done
    means = np.array([xr[codes == c].mean(0) for c in range(3)])
    np.testing.assert_allclose(means, np.broadcast_to(x.mean(0), means.shape), atol=1e-10)
    z = rng.normal(size=(300, 2))
    x = rng.normal(size=(300, 4)) + z @ rng.normal(size=(2, 4)) * 3
    xr, _ = residualise(x, Prior("features", z, "t"))
    np.testing.assert_allclose((z - z.mean(0)).T @ (xr - xr.mean(0)), 0.0, atol=1e-8)
    dense = np.abs(z[:, :1] - z[:, :1].T)
    assert residualise(x, Prior("dense", dense, "t"))[1] is False


def test_confetti_lam_hides_a_two_label_prior():
    rng = np.random.default_rng(3)
    codes = rng.integers(2, size=400)
    kept = rng.integers(2, size=400)
    x = np.column_stack([6.0 * codes, 6.0 * kept]) + rng.normal(size=(400, 2))
    prior = Prior("labels", codes, "t")
    lam, tried = confetti_lam(x, prior, 14, seed=0)
    v = dict(tried)
    assert lam == tried[-1][0]  # the search stops at the first lambda that meets the target
    vis = Visibility(prior, seed=0)
    assert abs(v[lam]) <= AUTO_TARGET * vis.of_layout(x) + 1e-12
    assert all(abs(v[t]) > AUTO_TARGET * vis.of_layout(x) for t, _ in tried[:-1])


def test_auto_lam_lowers_the_weight_in_use_when_it_sits_above_the_cap():
    # the balance weight (100) far above the cap (0.75 / 0.1 = 7.5): once the prior is hidden, the
    # weight falls from the 7.5 in use, not from 100 (which would take ~20 checkpoints to reach it)
    ctl = AutoLam(_FakeVisibility([0.0, 0.0]), 1.0, start=0, freeze=100, every=1, grow=1.5)
    ctl.balance(np.ones((4, 2)), 0.01 * np.ones((4, 2)))
    assert ctl.lam == pytest.approx(100.0)
    y = np.zeros((4, 2))
    w = [ctl.update(it, y, g_gap=0.1) for it in (0, 1)]
    assert w == pytest.approx([7.5 / np.sqrt(1.5), 7.5 / 1.5])


def test_auto_lam_does_not_chase_a_visibility_within_its_noise():
    ctl = AutoLam(_FakeVisibility([0.03, 0.03]), 0.2, start=0, freeze=100, every=1, grow=1.5, noise=0.02)
    ctl.balance(np.ones((4, 2)), np.ones((4, 2)))
    y = np.zeros((4, 2))
    assert [ctl.update(it, y) for it in (0, 1)] == pytest.approx([1.0, 1.0])  # 0.03 < 2 x 0.02: neither up nor down


@pytest.mark.parametrize("kind", ["labels", "features"])
def test_visibility_noise_is_the_spread_of_an_independent_prior(kind):
    rng = np.random.default_rng(3)
    n = 800
    y = rng.normal(size=(n, 2))
    values = rng.integers(0, 2, n) if kind == "labels" else rng.normal(size=(n, 3))
    vis = Visibility(Prior(kind, values, "t"), 0)
    noise = vis.noise(y)
    # reference: the visibilities of fresh independent priors on the same layout
    fresh = []
    for s in range(40):
        r = np.random.default_rng(100 + s)
        v = r.integers(0, 2, n) if kind == "labels" else r.normal(size=(n, 3))
        fresh.append(Visibility(Prior(kind, v, "t"), 0).of_layout(y))
    assert vis.noise(y, neighbours=vis.neighbours(y)) == noise  # the caller's search, same value
    assert vis.noise(y, neighbours=vis.neighbours(rng.normal(size=(n, 2)))) != noise  # and it is used
    assert 0.5 * np.std(fresh) < noise < 2.0 * np.std(fresh)
    assert abs(np.mean(fresh)) < 2 * noise
    # a prior that shapes the layout is far outside the noise
    shaped = np.where(np.arange(n) < n // 2, 0, 1)
    y2 = y + 4.0 * shaped[:, None]
    assert Visibility(Prior("labels", shaped, "t"), 0).of_layout(y2) > 10 * noise


@pytest.mark.parametrize("kind", ["labels", "features"])
def test_visibility_of_neighbours_equals_one_distance_pass_per_neighbourhood_size(kind):
    # of_neighbours computes D^Z for the largest k once and takes prefixes: the same bits as
    # computing each k's distances alone
    from fischer_sc.core.embedding._auto_lam import pair_prior_distances

    rng = np.random.default_rng(4)
    y = rng.normal(size=(2500, 2))
    values = rng.integers(0, 5, 2500) if kind == "labels" else rng.normal(size=(2500, 9)) + y[:, :1]
    vis = Visibility(Prior(kind, values, "t"), 1)
    nb = vis.neighbours(y)
    per_k = []
    for k in vis.ks(2500):
        d = pair_prior_distances(vis.prior, np.repeat(vis.queries, k), nb[:, :k].ravel())
        per_k.append(1.0 - float(d.mean()) / vis.baseline)
    assert vis.of_neighbours(nb) == float(np.mean(per_k))


def test_confetti_lam_graph_equals_a_stable_argsort_of_f(monkeypatch):
    # the top-k heap selection of F's rows gives the first k of a stable argsort (ties to the lower index)
    from fischer_sc.core.embedding import _factor_out

    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=(400, 3)), 1)  # coarse values: ties in F
    prior = Prior("labels", rng.integers(0, 3, 400), "t")
    seen = []
    real = Visibility.of_neighbours

    def record(self, idx):
        seen.append(np.array(idx))
        return real(self, idx)

    monkeypatch.setattr(Visibility, "of_neighbours", record)
    lam, tried = _factor_out.confetti_lam(x, prior, 14, seed=0)
    # recompute the lists with argsort on the same F rows
    vis = Visibility(prior, 0)
    q = vis.queries
    xs = np.ascontiguousarray(x, dtype=np.float64)
    sx = _factor_out.estimate_max_distance(xs, np.random.default_rng(0))
    dx = _factor_out._rows_to_all(xs, q) / sx
    dx[np.arange(q.size), q] = np.inf
    dz = np.minimum(np.vstack([prior.block(int(i), int(i) + 1) for i in q]), 1.0)
    graphs = seen[1:]  # the first call is the data graph
    assert len(graphs) == len(tried)
    for (lam_i, _), got in zip(tried, graphs, strict=True):
        f = dx - 0.5 * lam_i * dz + lam_i
        want = np.argsort(f, axis=1, kind="stable")[:, :14]
        np.testing.assert_array_equal(got, want)
    assert any((np.diff(np.sort(f, axis=1)[:, :15], axis=1) == 0).any(axis=1))  # ties were present

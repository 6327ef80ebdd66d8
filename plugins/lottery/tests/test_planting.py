"""Planted tickets: the planted subnetwork is the target (float64, fresh inputs), the host is not."""

from __future__ import annotations

import numpy as np
import pytest

from fischer_sc_lottery import TargetNetwork, make_target, make_task, plant_n_seek, rescaled_mse, task_score
from fischer_sc_lottery.data import _circle_logits


@pytest.mark.parametrize("task", ["relu", "circle", "helix"])
@pytest.mark.parametrize(("depth", "width"), [(3, 50), (4, 100), (5, 50), (6, 100), (10, 50)])
def test_planted_subnetwork_is_the_target(task, depth, width):
    net = plant_n_seek(task, depth, width, random_state=depth)
    X = np.random.default_rng(100 + depth).uniform(-1, 1, size=(400, net.n_inputs))  # fresh inputs
    target = net.target_forward(X)
    planted = net.planted_forward(X)
    assert planted.dtype == np.float64 and planted.shape == target.shape
    np.testing.assert_allclose(planted, target, rtol=0, atol=1e-10)
    host = net.host_forward(X)
    rel = np.linalg.norm(host - target) / np.linalg.norm(target)
    assert rel > 0.5, rel
    if task == "circle":
        acc = np.mean(np.argmax(host, axis=1) == np.argmax(_circle_logits(X), axis=1))
        assert acc < 0.6
    # The mask and density: exactly the target's non-zeros, over the host's weights.
    assert [m.shape for m in net.true_mask] == [w.shape for w in net.weights]
    assert sum(int(m.sum()) for m in net.true_mask) == net.target.n_nonzero
    assert net.density == pytest.approx(net.target.n_nonzero / sum(w.size for w in net.weights))
    assert sum(int(m.sum()) for m in net.true_bias_mask) == net.target.n_nonzero_biases
    assert np.all(net.scale > 0)


def test_reference_counts_and_densities():
    # ReLU and Circle match the reference generator's counts (spec, ref-run table).
    for depth, nnz in zip((4, 5, 6, 10), (3, 4, 5, 9), strict=True):
        assert make_target("relu", depth).n_nonzero == nnz
    for depth, nnz in zip((4, 5, 6), (124, 108, 119), strict=True):
        t = make_target("circle", depth)
        assert (t.n_nonzero, t.n_nonzero_biases) == (nnz, 22)
    assert plant_n_seek("circle", 5, 100).density == pytest.approx(108 / 20600)
    assert plant_n_seek("relu", 4, 50).density == pytest.approx(3 / 2600)


def test_target_quality():
    rng = np.random.default_rng(0)
    X1 = rng.uniform(-1, 1, size=(2000, 1))
    X2 = rng.uniform(-1, 1, size=(2000, 2))
    for depth in (3, 5, 10):
        assert np.array_equal(make_target("relu", depth).forward(X1), np.maximum(X1, 0))
        acc = np.mean(np.argmax(make_target("circle", depth).forward(X2), 1) == np.argmax(_circle_logits(X2), 1))
        assert 0.96 < acc < 1.0
        t = 5 * np.pi + 3 * np.pi * X1[:, 0]
        helix = np.stack([t * np.cos(t), t * np.sin(t), t], axis=1) / (8 * np.pi)
        assert np.mean((make_target("helix", depth).forward(X1) - helix) ** 2) < 5e-4


def test_user_target_and_same_seed():
    rng = np.random.default_rng(3)
    weights = [
        rng.normal(size=(3, 6)) * (rng.random((3, 6)) < 0.5),
        rng.normal(size=(6, 5)) * (rng.random((6, 5)) < 0.4),
    ]
    weights.append(rng.normal(size=(5, 2)))
    weights[0][0, :] = 1.0  # no dead hidden neurons
    weights[1][0, :] = 1.0
    target = TargetNetwork(weights, [rng.normal(size=6), np.zeros(5), rng.normal(size=2)])
    net = plant_n_seek(target, None, 20, random_state=1)
    X = rng.uniform(-2, 2, size=(300, 3))
    np.testing.assert_allclose(net.planted_forward(X), target.forward(X), rtol=0, atol=1e-10)
    assert net.task is None
    again = plant_n_seek(target, None, 20, random_state=1)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, again.weights, strict=True))
    other = plant_n_seek(target, None, 20, random_state=2)
    assert not np.array_equal(net.weights[1], other.weights[1])


def test_errors():
    with pytest.raises(ValueError, match="depth"):
        plant_n_seek("relu", 2, 50)
    with pytest.raises(ValueError, match="unknown"):
        plant_n_seek("spiral", 4, 50)
    with pytest.raises(ValueError, match="width"):
        plant_n_seek("helix", 4, 10)
    with pytest.raises(ValueError, match="unknown"):
        make_task("spiral")
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plant_n_seek("circle", 4, 50).planted_forward(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="at least 2 weight"):
        TargetNetwork([np.ones((1, 1))], [np.zeros(1)])


def test_make_task():
    Xtr, ytr, Xte, yte = make_task("circle", random_state=0)
    assert Xtr.shape == (9000, 2) and Xte.shape == (1000, 2) and ytr.dtype == np.int64
    clean = np.argmax(_circle_logits(Xtr), 1)
    assert 0.005 < np.mean(clean != ytr) < 0.015  # 1 % label noise
    again = make_task("circle", random_state=0)
    assert np.array_equal(again[0], Xtr) and np.array_equal(again[3], yte)
    Xtr, ytr, Xte, yte = make_task("helix", n=2000, noise=0.0, random_state=1)
    assert ytr.shape == (1800, 3)
    assert rescaled_mse(plant_n_seek("helix", 5, 50).target_forward(Xte), yte) < 5e-4
    Xtr, ytr, _, _ = make_task("relu", n=4000, random_state=2)
    assert np.std(ytr - np.maximum(Xtr, 0)) == pytest.approx(0.01, rel=0.05)
    assert task_score("circle", np.eye(4)[[0, 1, 2]], np.array([0, 1, 3])) == pytest.approx(2 / 3)
    # Rescaled MSE is invariant to a positive or negative scale per output.
    f = np.random.default_rng(0).normal(size=(50, 2))
    assert rescaled_mse(f * np.array([3.0, -0.5]), f) == pytest.approx(0.0, abs=1e-20)

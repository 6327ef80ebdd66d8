"""core.ode: RK4/Euler against scipy's solve_ivp, the PHOENIX equations written out, pairs, pruning counts, I/O."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from fischer_sc.core.ode import (
    LAYERS,
    Phoenix,
    PhoenixPruner,
    PruningSchedule,
    TrainConfig,
    edge_scores,
    edge_table,
    fit_phoenix,
    integrate_intervals,
    load_phoenix,
    network_from_edges,
    odeint_grid,
    save_phoenix,
    shifted_softsign,
    transition_pairs,
)
from fischer_sc.core.pruning import kept_count

A = np.array([[-0.5, 1.0, 0.0], [-1.0, -0.3, 0.2], [0.3, 0.0, -0.8]])


def _linear(x: torch.Tensor) -> torch.Tensor:
    return x @ torch.as_tensor(A.T)


def _logistic(x: torch.Tensor) -> torch.Tensor:
    return 1.5 * x * (1.0 - x) - 0.2 * x**2


@pytest.mark.parametrize("func", [_linear, _logistic], ids=["linear", "logistic"])
def test_rk4_matches_solve_ivp(func):
    rng = np.random.default_rng(0)
    x0 = rng.uniform(0.1, 0.9, (4, 3))
    t = np.array([0.0, 0.5, 1.7, 3.0])
    ours = odeint_grid(func, torch.as_tensor(x0), torch.as_tensor(t), n_substeps=40).numpy()
    for b in range(4):
        ref = solve_ivp(
            lambda _, y: func(torch.as_tensor(y[None]))[0].numpy(), (0, 3), x0[b], t_eval=t, rtol=1e-11, atol=1e-12
        )
        np.testing.assert_allclose(ours[:, b], ref.y.T, atol=1e-7)


def test_rk4_is_fourth_order_and_euler_first_order():
    x0 = torch.tensor([[1.0, 0.5, -0.2]], dtype=torch.float64)
    dt = torch.tensor([2.0], dtype=torch.float64)
    exact = solve_ivp(lambda _, y: A @ y, (0, 2), x0[0].numpy(), rtol=1e-12, atol=1e-13).y[:, -1]
    for method, order in (("rk4", 4), ("euler", 1)):
        errs = [
            np.abs(integrate_intervals(_linear, x0, dt, method=method, n_substeps=n)[0].numpy() - exact).max()
            for n in (8, 16)
        ]
        assert np.log2(errs[0] / errs[1]) == pytest.approx(order, abs=0.3)


def test_intervals_of_different_lengths_in_one_batch():
    x0 = torch.rand(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    dt = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64)
    batched = integrate_intervals(_logistic, x0, dt, n_substeps=6)
    for b in range(3):
        alone = integrate_intervals(_logistic, x0[b : b + 1], dt[b : b + 1], n_substeps=6)
        torch.testing.assert_close(batched[b], alone[0])


def test_unknown_solver_raises():
    with pytest.raises(ValueError, match="solver must be one of"):
        integrate_intervals(_linear, torch.zeros(1, 3), torch.ones(1), method="rk5")


def _model(g=5, h=7, seed=0):
    model = Phoenix(g, h, generator=torch.Generator().manual_seed(seed)).double()
    with torch.no_grad():  # dense random weights, so every term of the equations matters
        for name, _ in LAYERS:
            getattr(model, name).weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(seed + 1))
        model.W_s.bias.normal_(0, 0.1, generator=torch.Generator().manual_seed(seed + 2))
        model.W_p.bias.normal_(0, 0.1, generator=torch.Generator().manual_seed(seed + 3))
    return model


def test_phoenix_equations_written_out():
    model = _model()
    x = torch.rand(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ws, bs = model.W_s.weight.detach(), model.W_s.bias.detach()
    wp, bp = model.W_p.weight.detach(), model.W_p.bias.detach()
    a_s, a_p = model.A_s.weight.detach(), model.A_p.weight.detach()
    sig = (x - 0.5) / (1 + (x - 0.5).abs())
    torch.testing.assert_close(shifted_softsign(x), sig)
    # the multiplicative branch as the product e^{b_p} prod_j (1 + sigma_j)^{W_p[h, j]}
    h_p = torch.exp(bp)[None, :] * torch.prod((1 + sig)[:, None, :] ** wp[None, :, :], dim=2)
    f = (sig @ ws.T + bs) @ a_s.T + h_p @ a_p.T
    torch.testing.assert_close(model.branches(x), f)
    torch.testing.assert_close(model(x), torch.relu(model.upsilon) * (f - x))
    e = (ws.T @ a_s.T + wp.T @ a_p.T) * torch.relu(model.upsilon)[None, :]
    torch.testing.assert_close(model.effects(), e)


def test_effects_put_the_regulator_in_the_rows():
    # gene 0 feeds hidden unit 0, which feeds gene 2 only: E[0, 2] != 0 and every other entry is 0
    model = Phoenix(3, 2, generator=torch.Generator().manual_seed(0)).double()
    with torch.no_grad():
        for name, _ in LAYERS:
            getattr(model, name).weight.zero_()
        model.W_s.weight[0, 0] = 1.0
        model.A_s.weight[2, 0] = 2.0
        model.upsilon.fill_(1.0)
    e = model.effects().numpy()
    assert e[0, 2] == 2.0 and np.count_nonzero(e) == 1
    x = torch.full((1, 3), 0.4, dtype=torch.float64, requires_grad=True)
    (jac,) = torch.autograd.grad(model(x)[0, 2], x)
    assert jac[0, 0] > 0 and jac[0, 1] == 0  # the model's own dynamics agree: gene 0 drives gene 2


def test_schedule_ends_exactly_at_the_target():
    s = PruningSchedule(start=3, first=0.7, step=0.1, every=10, target_sparsity=0.95)
    d = s.densities()
    assert d[0] == pytest.approx(0.3) and d[-1] == pytest.approx(0.05)
    assert all(b < a for a, b in zip(d, d[1:], strict=False))
    assert s.epochs()[:3] == [3, 13, 23] and len(s.epochs()) == len(d)


@pytest.mark.parametrize("mode", ["dash", "magnitude", "prior"])
def test_pruner_keeps_exact_counts_and_never_revives(mode):
    model = _model(g=6, h=9)
    prior = np.sign(np.random.default_rng(0).normal(size=(6, 6))) * (np.random.default_rng(1).random((6, 6)) < 0.3)
    pruner = PhoenixPruner(model, mode, motif=torch.as_tensor(prior), generator=torch.Generator().manual_seed(0))
    before = {n: getattr(model, f"{n}_mask").clone() for n, _ in LAYERS}
    for density in (0.5, 0.2, 0.05):
        pruner.prune(density)
        for name, _ in LAYERS:
            mask = getattr(model, f"{name}_mask")
            assert int(mask.sum()) == kept_count(mask.numel(), density)
            assert bool((mask <= before[name]).all())  # cumulative: a pruned weight stays pruned
            assert bool((getattr(model, name).weight[mask == 0] == 0).all())
            before[name] = mask.clone()


def test_pruner_needs_a_prior_for_dash():
    with pytest.raises(ValueError, match="needs a prior network"):
        PhoenixPruner(_model(), "dash")


def test_transition_pairs_sort_average_and_check():
    x = np.arange(12, dtype=float).reshape(6, 2)
    time = np.array([2.0, 0.0, 1.0, 1.0, 5.0, 3.0])
    traj = np.array(["a", "a", "a", "a", "b", "b"])
    pairs = transition_pairs(x, time, traj)
    # trajectory a: t=0 (row 1), t=1 (mean of rows 2, 3), t=2 (row 0); b: t=3 (row 5) -> t=5 (row 4)
    np.testing.assert_allclose(pairs.x_start, [[2, 3], [5, 6], [10, 11]])
    np.testing.assert_allclose(pairs.x_end, [[5, 6], [0, 1], [8, 9]])
    np.testing.assert_allclose(pairs.dt, [1, 1, 2])
    assert pairs.trajectory.tolist() == ["a", "a", "b"] and pairs.n_time_points == 5
    with pytest.raises(ValueError, match="trajectory 'b' has 1 distinct time point"):
        transition_pairs(x, time, np.array(["a", "a", "a", "a", "b", "c"]))


def test_network_helpers():
    genes = ["a", "b", "c"]
    import pandas as pd

    edges = pd.DataFrame({"source": ["a", "b"], "target": ["b", "c"], "weight": [1.0, -2.0]})
    net = network_from_edges(edges, genes)
    assert net[0, 1] == 1.0 and net[1, 2] == -2.0 and np.count_nonzero(net) == 2
    with pytest.raises(KeyError, match="'zz'"):
        network_from_edges(pd.DataFrame({"source": ["zz"], "target": ["a"]}), genes)
    s = edge_scores(np.array([[0, 1.0, 0], [0, -3.0, 0], [0, 0, 0]]))
    np.testing.assert_allclose(s[:, 1], [0.25, 0.75, 0])
    table = edge_table(net, genes, prior=net)
    assert table["source"].tolist() == ["b", "a"] and table["sign"].tolist() == [-1, 1] and table["in_prior"].all()


def test_training_reduces_the_mse_and_is_deterministic(tmp_path):
    rng = np.random.default_rng(0)
    x0 = rng.uniform(0, 1, (40, 4))
    x1 = 0.5 * x0 + 0.25 * x0[:, ::-1]  # a fixed linear map, learnable
    cfg = TrainConfig(hidden_dim=8, n_epochs=15, learning_rate=0.01, pruning="none", batch_size=16, val_fraction=0.1)
    fits = [fit_phoenix(x0, x1, np.ones(40), config=cfg, seed=3) for _ in range(2)]
    mse = fits[0].history["train_mse"]
    assert mse[-1] < 0.5 * mse[0]
    torch.testing.assert_close(fits[0].model.effects(), fits[1].model.effects(), rtol=0, atol=0)
    save_phoenix(tmp_path / "m.pt", fits[0].model, {"var_names": ["a", "b", "c", "d"]})
    loaded, meta = load_phoenix(tmp_path / "m.pt")
    assert meta["var_names"] == ["a", "b", "c", "d"]
    torch.testing.assert_close(loaded.effects(), fits[0].model.effects())


@pytest.mark.skipif(importlib.util.find_spec("torchdiffeq") is None, reason="needs the optional torchdiffeq")
def test_dopri5_adaptor_agrees_with_rk4_and_gives_gradients():
    model = _model(g=4, h=6)
    x = torch.rand(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    dt = torch.tensor([0.5, 1.0, 2.0, 0.1, 3.0], dtype=torch.float64)
    adaptive = integrate_intervals(model, x, dt, method="dopri5", rtol=1e-9, atol=1e-10)
    fixed = integrate_intervals(model, x, dt, method="rk4", n_substeps=50)
    torch.testing.assert_close(adaptive, fixed, atol=1e-6, rtol=0)
    adaptive.sum().backward()
    assert model.W_s.weight.grad.abs().sum() > 0


def test_adapted_prior_hand_computed():
    from fischer_sc.core.ode._prune import adapted_prior

    # rows = regulators, columns = targets
    motif = torch.tensor([[0.0, 1.0, 0.0, 0.0], [-2.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0]])
    effects = torch.tensor([[0.0, 1.0, 3.0, 0.0], [3.0, 0.0, -1.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    out = adapted_prior(motif, effects).numpy()
    # target 0: s = (0, .75, .25), the prior's edge (1) holds a = .75 of it, p = (0, 1, 0)
    np.testing.assert_allclose(out[:, 0], [0.0, 0.75 + 0.25 * 0.75, 0.25 * 0.25, 0.0])
    # target 1: the data agree fully with the prior
    np.testing.assert_allclose(out[:, 1], [1.0, 0.0, 0.0, 0.0])
    # target 2: no prior edge -> the data alone, s = (.75, .25, 0)
    np.testing.assert_allclose(out[:, 2], [0.75, 0.25, 0.0, 0.0])
    # target 3: all effects zero -> the prior alone, p = (0, .25, .75)
    np.testing.assert_allclose(out[:, 3], [0.0, 0.25, 0.75, 0.0])
    np.testing.assert_allclose(out.sum(axis=0), 1.0)
    assert (out >= 0).all()
    with pytest.raises(ValueError, match="one shape"):
        adapted_prior(motif, effects[:3])


def test_pruner_adapts_the_prior_once_at_the_first_event():
    from fischer_sc.core.ode._prune import adapted_prior

    model = _model(g=6, h=9)
    prior = np.sign(np.random.default_rng(0).normal(size=(6, 6))) * (np.random.default_rng(1).random((6, 6)) < 0.3)
    motif = torch.as_tensor(prior)
    expected = adapted_prior(motif, model.effects().detach())
    pruner = PhoenixPruner(model, "dash", motif=motif, generator=torch.Generator().manual_seed(0), adapt_prior=True)
    pruner.prune(0.5)
    torch.testing.assert_close(pruner.motif, expected)
    assert not pruner.adapt_prior
    pruner.prune(0.2)  # later events keep the adapted prior
    torch.testing.assert_close(pruner.motif, expected)
    plain = PhoenixPruner(_model(g=6, h=9), "dash", motif=motif, generator=torch.Generator().manual_seed(0))
    plain.prune(0.5)
    torch.testing.assert_close(plain.motif, motif.to(torch.float64))

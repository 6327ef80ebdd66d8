"""The vectorised simulator: FedDC beats FedAvg on tiny clients, equals FedAvg and centralised GD where theory says so."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fischer_sc_federated import DaisyChainServer, DPConfig, clip_and_noise, fedavg, feddc, mlp, split_clients
from fischer_sc_federated.sim import make_trainer

MODEL = lambda: mlp(64, 10)


def _params(res):
    return [p.detach().clone() for p in res.model.parameters()]


def test_feddc_beats_fedavg_on_200_clients_with_2_samples(digits):
    Xtr, Xte, ytr, yte = digits
    parts = split_clients(Xtr, ytr, 200, 2, random_state=0)
    kw = {"rounds": 300, "agg_period": 50, "lr": 0.1, "eval_data": (Xte, yte), "random_state": 0}
    dc = feddc(MODEL, parts, daisy_period=1, **kw)
    avg = fedavg(MODEL, parts, **kw)
    acc_dc, acc_avg = dc.history["acc_avg_model"].iloc[-1], avg.history["acc_avg_model"].iloc[-1]
    assert acc_dc >= 0.85
    assert acc_dc - acc_avg >= 0.15
    # Right after an aggregation every client holds the mean: both metrics coincide.
    assert dc.history["acc_client_mean"].iloc[-1] == pytest.approx(acc_dc)
    assert list(dc.history["round"]) == [50, 100, 150, 200, 250, 300]


def test_no_daisy_chaining_and_averaging_every_round_is_fedavg_exactly(digits):
    Xtr, _, ytr, _ = digits
    parts = split_clients(Xtr, ytr, 20, 4, random_state=1)
    a = feddc(MODEL, parts, rounds=15, daisy_period=None, agg_period=1, lr=0.2, random_state=3)
    b = fedavg(MODEL, parts, rounds=15, agg_period=1, lr=0.2, random_state=3)
    assert all(torch.equal(p, q) for p, q in zip(_params(a), _params(b), strict=True))
    c = feddc(MODEL, parts, rounds=15, daisy_period=1, agg_period=5, lr=0.2, random_state=3)
    assert not all(torch.equal(p, q) for p, q in zip(_params(a), _params(c), strict=True))


def test_fedavg_every_round_equals_centralised_gradient_descent(digits):
    # Equal client sizes and full-batch steps: the mean of the clients' steps is one step on the pooled data.
    Xtr, _, ytr, _ = digits
    parts = split_clients(Xtr, ytr, 10, 6, random_state=2)
    res = fedavg(MODEL, parts, rounds=12, agg_period=1, lr=0.3, random_state=5)
    torch.manual_seed(5)
    ref = MODEL()
    X = torch.as_tensor(parts.X.reshape(-1, 64))
    y = torch.as_tensor(parts.y.reshape(-1))
    for _ in range(12):
        ref.zero_grad()
        nn.functional.cross_entropy(ref(X), y).backward()
        with torch.no_grad():
            for p in ref.parameters():
                p -= 0.3 * p.grad
    for p, q in zip(res.model.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_server_driven_by_hand_is_bit_identical_to_the_simulator(digits):
    Xtr, Xte, ytr, yte = digits
    parts = split_clients(Xtr, ytr, 12, 5, random_state=0)
    opts = {"lr": 0.2, "local_steps": 2, "batch_size": 3, "weight_decay": 0.01, "random_state": 7}
    dp = DPConfig(clip=0.5, noise_multiplier=0.02)
    sim = feddc(MODEL, parts, rounds=25, daisy_period=2, agg_period=10, dp=dp, **opts)

    trainer, W = make_trainer(MODEL, parts, opts, dp, torch.device("cpu"))
    names = list(W)
    server = DaisyChainServer(daisy_period=2, agg_period=10, random_state=7)
    server.sync_nodes(range(12), initial=[W[k][0] for k in names])
    for t in range(1, 26):
        stacked = {k: torch.stack([server.models[i][j] for i in range(12)]) for j, k in enumerate(names)}
        stacked = trainer.train(stacked, t)
        server.receive(t, {i: [stacked[k][i] for k in names] for i in range(12)})
    by_hand = server.mean()
    assert all(torch.equal(p, q) for p, q in zip(_params(sim), by_hand, strict=True))
    for j, k in enumerate(names):
        assert torch.equal(sim.client_params[k], torch.stack([server.models[i][j] for i in range(12)]))


def test_stacked_gradients_equal_each_clients_own_gradient(digits):
    Xtr, _, ytr, _ = digits
    idx = [np.arange(0, 3), np.arange(3, 8), np.arange(8, 9)]  # unequal sizes: padding must not leak in
    from fischer_sc_federated.partition import from_index_lists

    parts = from_index_lists(Xtr, ytr, idx)
    trainer, W = make_trainer(
        MODEL,
        parts,
        {"random_state": 0, "lr": 0.1, "local_steps": 1, "batch_size": None, "weight_decay": 0.0},
        None,
        torch.device("cpu"),
    )
    W = {k: v + 0.1 * torch.randn(v.shape, generator=torch.Generator().manual_seed(1)) for k, v in W.items()}
    g = trainer._grads(W, trainer.X, trainer.y, trainer.full_weights)
    for i, (Xi, yi) in enumerate(parts):
        model = MODEL()
        with torch.no_grad():
            for k, p in model.named_parameters():
                p.copy_(W[k][i])
        nn.functional.cross_entropy(model(torch.as_tensor(Xi)), torch.as_tensor(yi)).backward()
        for k, p in model.named_parameters():
            torch.testing.assert_close(g[k][i], p.grad, rtol=1e-5, atol=1e-7)


def test_zero_learning_rate_keeps_the_initialisation(digits):
    Xtr, _, ytr, _ = digits
    parts = split_clients(Xtr, ytr, 8, 3, random_state=0)
    torch.manual_seed(2)
    init = dict(MODEL().named_parameters())
    # Hand-offs only: every client still holds the initialisation, bit for bit.
    res = feddc(MODEL, parts, rounds=7, daisy_period=1, agg_period=None, lr=0.0, random_state=2)
    assert all(torch.equal(v, init[k].expand_as(v)) for k, v in res.client_params.items())
    # With averaging, the mean of identical copies is the initialisation up to rounding.
    res = feddc(MODEL, parts, rounds=7, daisy_period=1, agg_period=3, lr=0.0, random_state=2)
    for k, p in res.model.named_parameters():
        torch.testing.assert_close(p, init[k], rtol=1e-6, atol=1e-7)


def test_same_seed_same_result_and_global_rng_untouched(digits):
    Xtr, _, ytr, _ = digits
    parts = split_clients(Xtr, ytr, 8, 3, random_state=0)
    state = torch.random.get_rng_state()
    a = feddc(MODEL, parts, rounds=6, agg_period=3, batch_size=2, random_state=4)
    b = feddc(MODEL, parts, rounds=6, agg_period=3, batch_size=2, random_state=4)
    assert torch.equal(state, torch.random.get_rng_state())
    assert all(torch.equal(p, q) for p, q in zip(_params(a), _params(b), strict=True))


def test_dp_clips_to_the_norm_and_adds_textbook_or_reference_noise():
    g = torch.Generator().manual_seed(0)
    u = [torch.randn(50, 40, generator=g) * 3, torch.randn(40, generator=g)]
    clipped = clip_and_noise(u, DPConfig(clip=2.0, noise_multiplier=0.0), g)
    norm = torch.sqrt(sum(c.pow(2).sum() for c in clipped))
    assert norm == pytest.approx(2.0, rel=1e-5)
    small = [x * 1e-3 for x in u]
    assert all(
        torch.equal(a, b)
        for a, b in zip(clip_and_noise(small, DPConfig(clip=2.0, noise_multiplier=0.0)), small, strict=True)
    )
    zero = [torch.zeros(200_000)]
    for mode, std in [("textbook", 0.5 * 2.0), ("reference", 0.5**2 * 2.0**2)]:
        noisy = clip_and_noise(zero, DPConfig(clip=2.0, noise_multiplier=0.5, mode=mode), g)[0]
        assert float(noisy.std()) == pytest.approx(std, rel=0.01)
    batched = clip_and_noise(
        [torch.ones(3, 4) * torch.tensor([[1.0], [10.0], [0.1]])], DPConfig(1.0, 0.0), batched=True
    )[0]
    np.testing.assert_allclose(batched.norm(dim=1).numpy(), [1.0, 1.0, 0.2], rtol=1e-6)


@pytest.mark.parametrize(("kw", "err", "match"), [
    ({"daisy_period": 0}, ValueError, "daisy_period"),
    ({"agg_period": 0}, ValueError, "agg_period"),
    ({"rounds": 0}, ValueError, "rounds"),
    ({"lr": float("nan")}, ValueError, "lr"),
    ({"local_steps": 0}, ValueError, "local_steps"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"dp": {"clip": 0.0}}, ValueError, "clip"),
    ({"dp": {"sigma": 1.0}}, ValueError, "unknown keys"),
    ({"eval_data": (np.zeros((3, 5)), np.zeros(3))}, ValueError, "eval_data"),
    ({"n_jobs": 0}, ValueError, "n_jobs"),
    ({"eval_every": 0}, ValueError, "eval_every"),
])  # fmt: skip
def test_bad_options_raise_clear_errors(digits, kw, err, match):
    Xtr, _, ytr, _ = digits
    parts = split_clients(Xtr, ytr, 4, 2)
    kw = {"rounds": 2, **kw}
    with pytest.raises(err, match=match):
        feddc(MODEL, parts, **kw)


def test_bad_data_and_models_raise_clear_errors(digits):
    Xtr, _, ytr, _ = digits
    bad = Xtr[:20].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        split_clients(bad, ytr[:20], 4, 2)
    with pytest.raises(ValueError, match="n_clients"):
        split_clients(Xtr, ytr, 1, 2)
    with pytest.raises(ValueError, match="exceeds"):
        split_clients(Xtr, ytr, 1000, 2)
    with pytest.raises(TypeError, match="integer class codes"):
        split_clients(Xtr, ytr.astype(float), 4, 2)
    parts = split_clients(Xtr, ytr, 4, 2)
    with pytest.raises(ValueError, match="buffers"):
        feddc(lambda: nn.Sequential(nn.Linear(64, 10), nn.BatchNorm1d(10)), parts, rounds=1)
    with pytest.raises(TypeError, match="model_fn"):
        feddc("mlp", parts, rounds=1)
    with pytest.raises(TypeError, match="daisy"):
        fedavg(MODEL, parts, rounds=1, daisy_period=1)
    with pytest.raises(TypeError, match="parts"):
        feddc(MODEL, Xtr, rounds=1)


def test_pairs_of_arrays_and_unequal_sizes_are_accepted(digits):
    Xtr, Xte, ytr, yte = digits
    pairs = [(Xtr[:3], ytr[:3]), (Xtr[3:10], ytr[3:10]), (Xtr[10:12], ytr[10:12])]
    res = feddc(MODEL, pairs, rounds=4, agg_period=2, batch_size=2, eval_data=(Xte, yte), weighting="num_examples")
    assert res.history.shape[0] == 2 and res.predict(Xte).shape == yte.shape


def test_split_clients_draws_disjoint_rows_and_stratify_spreads_the_classes(digits):
    Xtr, _, ytr, _ = digits
    parts = split_clients(Xtr, ytr, 20, 10, 3)
    flat = parts.indices.ravel()
    assert (
        len(np.unique(flat)) == 200
        and np.array_equal(parts.X, Xtr[parts.indices])
        and np.array_equal(parts.y, ytr[parts.indices])
    )
    iid = np.mean([len(np.unique(yi)) for _, yi in parts])
    strat = np.mean([len(np.unique(yi)) for _, yi in split_clients(Xtr, ytr, 20, 10, 3, stratify=True)])
    assert strat >= 9.0 > iid

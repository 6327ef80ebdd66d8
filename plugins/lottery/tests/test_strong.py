"""Strong tickets (edge-popup), IMP and the non-zero-bias initialisations: invariants that only a correct
implementation satisfies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import fischer_sc as fs
from fischer_sc.core.pruning import SupermaskLinear, kept_count
from fischer_sc_lottery import (
    edge_popup,
    he_bias,
    he_zero_bias,
    imp,
    looks_linear,
    make_task,
    plant_n_seek,
    prune_at_init,
    rescale_output,
    train_masked,
)
from fischer_sc_lottery._models import mlp_from_arrays
from fischer_sc_lottery.strong import supermask_mlp


@pytest.fixture(scope="module")
def relu_small():
    net = plant_n_seek("relu", 4, 20, random_state=0)
    Xtr, ytr, _, _ = make_task("relu", n=640, random_state=0)
    return net, (Xtr, ytr)


@pytest.mark.parametrize("bias_scores", ["separate", "joint"])
def test_bias_scores_move_after_one_step(bias_scores):
    g = torch.Generator().manual_seed(0)
    layer = SupermaskLinear(
        torch.randn(6, 4, generator=g), torch.randn(6, generator=g), density=0.5, bias_scores=bias_scores, generator=g
    )
    assert bool((layer.bias_scores_param != 0).all())  # never initialised at zero (the reference's stuck scores)
    before = layer.bias_scores_param.detach().clone()
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(torch.randn(8, 4, generator=g)).pow(2).sum().backward()
    opt.step()
    assert not torch.equal(before, layer.bias_scores_param.detach())
    assert [n for n, p in layer.named_parameters()] == ["weight_scores", "bias_scores_param"]  # weights frozen
    mw, mb = layer.masks()
    if bias_scores == "separate":
        assert int(mw.sum()) == 12 and int(mb.sum()) == 3
    else:
        assert int(mw.sum()) + int(mb.sum()) == 15


def test_rescaling_multiplies_the_output_exactly():
    w, b = he_bias([3, 16, 16, 2], beta=0.5, random_state=1)
    for model in (mlp_from_arrays(w, b), edge_popup_model(w, b)):
        x = torch.randn(10, 3, dtype=torch.float64)
        with torch.no_grad():
            before = model(x)
            rescale_output(model, 3.7)
            after = model(x)
        torch.testing.assert_close(after, 3.7 * before, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="positive"):
        rescale_output(model, -1.0)


def edge_popup_model(w, b):
    return supermask_mlp(mlp_from_arrays(w, b), density=0.3, generator=torch.Generator().manual_seed(0))


def test_looks_linear_is_linear_at_init():
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    w, b = looks_linear([6, 10, 8, 12, 3], bias="zero", random_state=0)
    f = mlp_from_arrays(w, b)
    t = lambda x: torch.as_tensor(x)
    with torch.no_grad():
        torch.testing.assert_close(f(t(x1 + x2)), f(t(x1)) + f(t(x2)), rtol=1e-12, atol=1e-12)
        # The map is the product of the orthogonal blocks: norms are kept up to the last projection.
        assert not torch.allclose(f(t(x1)), torch.zeros(5, 3, dtype=torch.float64))
    for kind in ("iid", "dependent"):
        w, b = looks_linear([6, 10, 8, 12, 3], bias=kind, beta=1.0, random_state=0)
        f = mlp_from_arrays(w, b)
        zero = torch.zeros(1, 6, dtype=torch.float64)
        with torch.no_grad():  # affine: f(x1 + x2) = f(x1) + f(x2) - f(0)
            torch.testing.assert_close(f(t(x1 + x2)), f(t(x1)) + f(t(x2)) - f(zero), rtol=1e-10, atol=1e-12)
        assert any(np.any(bi != 0) for bi in b)
    # dependent: layer 2 cancels layer 1's bias, so the signal after two layers is bias-free.
    w, b = looks_linear([6, 10, 8, 3], bias="dependent", beta=1.0, random_state=0)
    f2 = mlp_from_arrays(w[:2] + [np.eye(8)], b[:2] + [np.zeros(8)])
    with torch.no_grad():
        out = f2(torch.zeros(1, 6, dtype=torch.float64)).numpy()[0]
    np.testing.assert_allclose(out[:4] - out[4:], 0.0, atol=1e-12)
    # Odd widths: weights and biases are cropped together.
    w, b = looks_linear([5, 7, 9, 2], bias="iid", random_state=0)
    assert [x.shape for x in w] == [(5, 7), (7, 9), (9, 2)] and [x.shape for x in b] == [(7,), (9,), (2,)]


def test_he_bias_scales():
    widths = [50, 1500, 1500, 10]
    w, b = he_bias(widths, beta=0.05, random_state=0)
    sw = np.sqrt(2 / np.array(widths[:-1]))
    for ell in (0, 1):
        assert np.std(w[ell]) == pytest.approx(sw[ell], rel=0.05)
        assert np.std(b[ell]) == pytest.approx(0.05 * np.prod(sw[: ell + 1]), rel=0.05)
    ws, _ = he_bias(widths, scaled=True, density=0.25, random_state=0)
    assert np.std(ws[0]) == pytest.approx(2 * sw[0], rel=0.05)
    _, bz = he_zero_bias(widths)
    assert all(not x.any() for x in bz)
    with pytest.raises(ValueError, match="density"):
        he_bias(widths, scaled=True)


@pytest.fixture(scope="module")
def helix_small():
    net = plant_n_seek("helix", 4, 30, random_state=0)
    Xtr, ytr, _, _ = make_task("helix", n=640, random_state=0)
    return net, (Xtr, ytr)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"anneal": "power"},
        {"anneal": "geometric", "levels": 2},
        {"bias_scores": "joint", "clamp_nonneg": True},
        {"rescale": True},
        {"bias_scores": None},
    ],
)
def test_edge_popup_exact_density_and_learns(helix_small, kw):
    net, data = helix_small
    res = fs.plugins.run("edge_popup", net, data, density=0.2, epochs=3, batch_size=64, random_state=0, **kw)
    assert [m.shape for m in res.mask] == [m.shape for m in net.true_mask]
    sizes = [m.size for m in res.mask]
    if kw.get("bias_scores") == "joint":
        n = [s + b.size for s, b in zip(sizes, res.bias_mask, strict=True)]
        kept = [int(m.sum()) + int(bm.sum()) for m, bm in zip(res.mask, res.bias_mask, strict=True)]
        assert kept == [kept_count(x, 0.2) for x in n]
    else:
        assert [int(m.sum()) for m in res.mask] == [kept_count(s, 0.2) for s in sizes]  # per layer, exact
        assert res.density == pytest.approx(sum(kept_count(s, 0.2) for s in sizes) / sum(sizes))
    assert res.history[-1]["density"] == 0.2
    if kw.get("rescale"):
        assert len(res.scales) == 3 and all(s > 0 for s in res.scales) and res.scales != [1.0] * 3
    else:  # the host's weights are frozen
        np.testing.assert_allclose(res.model[0].weight.double().numpy().T, net.weights[0], rtol=1e-6)
    if kw.get("bias_scores", "separate") is not None:
        # The trained mask beats the initial one (same seed, same initial scores) on the training loss.
        init = supermask_mlp(
            mlp_from_arrays(net.weights, net.biases, dtype=torch.float32),
            density=0.2,
            bias_scores=kw.get("bias_scores", "separate"),
            clamp_nonneg=kw.get("clamp_nonneg", False),
            generator=torch.Generator().manual_seed(0),
        )
        X, y = (torch.as_tensor(a, dtype=torch.float32) for a in data)
        with torch.no_grad():
            assert nn.functional.mse_loss(res.model(X), y) < 0.9 * nn.functional.mse_loss(init(X), y)


def test_imp_rewinds_survivors_to_init(relu_small):
    net, data = relu_small
    res = fs.plugins.run(
        "imp", net, data, density=0.05, levels=3, pre_epochs=1, post_epochs=0, batch_size=64, dtype=torch.float64
    )
    n = sum(m.size for m in net.true_mask)
    assert sum(int(m.sum()) for m in res.mask) == kept_count(n, 0.05)
    assert res.densities == pytest.approx([0.05 ** (1 / 3), 0.05 ** (2 / 3), 0.05])
    lins = [m for m in res.model if isinstance(m, nn.Linear)]
    for lin, w, m in zip(lins, net.weights, res.mask, strict=True):
        np.testing.assert_array_equal(lin.weight.detach().numpy().T, w * m)  # survivors at their initial values
    # Without rewinding the survivors are the trained values.
    res2 = imp(
        net, data, density=0.05, levels=1, pre_epochs=1, post_epochs=0, rewind=False, batch_size=64, dtype=torch.float64
    )
    assert not np.array_equal(res2.model[0].weight.detach().numpy().T, net.weights[0] * res2.mask[0])


def test_train_masked_keeps_pruned_weights_zero(relu_small):
    net, data = relu_small
    masks = prune_at_init(net, method="random", density=0.2)
    model, history = train_masked(net, masks, data, epochs=2, batch_size=64)
    for lin, m in zip([x for x in model if isinstance(x, nn.Linear)], masks, strict=True):
        assert not lin.weight.detach().numpy().T[~m].any()
    assert history[-1] < history[0]


def test_errors(relu_small):
    net, data = relu_small
    for bad in (0.0, 1.2, 50):
        with pytest.raises(ValueError, match="density"):
            edge_popup(net, data, density=bad)
        with pytest.raises(ValueError, match="density"):
            imp(net, data, density=bad)
    with pytest.raises(ValueError, match="anneal"):
        edge_popup(net, data, density=0.1, anneal="linear")
    with pytest.raises(TypeError, match="ReLU MLP"):
        edge_popup(nn.Sequential(nn.Linear(1, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)), data, density=0.1)
    with pytest.raises(ValueError, match="depth >= 3"):
        he_bias([3, 2])
    with pytest.raises(ValueError, match="bias"):
        looks_linear([3, 4, 2], bias="odd")
    with pytest.raises(KeyError, match="edge_popup"):
        fs.plugins.run("edge_pop", net, data, density=0.1)


def test_train_masked_with_bias_masks(relu_small):
    net, data = relu_small
    masks = prune_at_init(net, method="magnitude", density=0.3, prune_bias=True)
    assert len(masks) == 2 * len(net.weights)
    model, _ = train_masked(net, masks, data, epochs=1, batch_size=128)
    lins = [x for x in model if isinstance(x, nn.Linear)]
    for lin, m in zip(lins, masks[len(lins) :], strict=True):
        assert not lin.bias.detach().numpy()[~m].any()
    with pytest.raises(ValueError, match="masks"):
        train_masked(net, masks[:2], data, epochs=1)

"""The pruning core: exact kept counts, deterministic ties, global vs per-layer, schedules, the
straight-through estimator, and agreement with torch.nn.utils.prune."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from fischer_sc.core.pruning import (
    StraightThroughTopK,
    SupermaskLinear,
    apply_masks,
    density_schedule,
    grasp_scores,
    kept_count,
    magnitude_scores,
    random_scores,
    score_masks,
    snip_scores,
    straight_through_topk,
    synflow_scores,
    to_torch_prune,
    topk_mask,
)


def _slow_topk(values: list[float], k: int) -> set[int]:
    # Reference: sort by (-score, index) and keep the first k indices.
    return {i for _, i in sorted((-v, i) for i, v in enumerate(values))[:k]}


@pytest.mark.parametrize("density", [1e-4, 0.01, 0.05, 0.1, 0.33, 0.5, 0.999, 1.0])
@pytest.mark.parametrize("shape", [(1,), (7,), (13, 11), (3, 4, 5)])
def test_topk_mask_keeps_exact_count(shape, density):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(shape, generator=g)
    m = topk_mask(s, density)
    n = s.numel()
    assert m.dtype == torch.bool and m.shape == s.shape
    assert int(m.sum()) == max(1, round(density * n)) == kept_count(n, density)
    # The kept entries are the largest ones.
    if int(m.sum()) < n:
        assert s[m].min() > s[~m].max()


def test_topk_mask_ties_lower_index_first():
    s = torch.tensor([1.0, 3.0, 2.0, 3.0, 2.0, 2.0, 0.0, 3.0])
    m = topk_mask(s, 0.5)  # k = 4: the three 3s, then the first 2 (index 2)
    assert m.tolist() == [False, True, True, True, False, False, False, True]
    # Many ties, random data: equals the slow reference and does not change between calls.
    g = torch.Generator().manual_seed(1)
    s = torch.randint(0, 4, (9, 17), generator=g).double()
    for density in (0.05, 0.2, 0.5, 0.77):
        k = kept_count(s.numel(), density)
        m = topk_mask(s, density)
        assert set(torch.nonzero(m.reshape(-1)).reshape(-1).tolist()) == _slow_topk(s.reshape(-1).tolist(), k)
        assert torch.equal(m, topk_mask(s.clone(), density))
    # All equal: the first k flat indices.
    m = topk_mask(torch.zeros(4, 5), 0.3)
    assert torch.nonzero(m.reshape(-1)).reshape(-1).tolist() == [0, 1, 2, 3, 4, 5]


def test_score_masks_global_vs_layer():
    g = torch.Generator().manual_seed(2)
    scores = [torch.rand(20, 10, generator=g) * 10, torch.rand(30, generator=g), torch.rand(5, 4, generator=g)]
    total = sum(s.numel() for s in scores)
    for density in (0.01, 0.1, 0.37, 1.0):
        glob = score_masks(scores, density)
        assert sum(int(m.sum()) for m in glob) == kept_count(total, density)
        flat = torch.cat([s.reshape(-1) for s in scores]).tolist()
        kept = set(torch.nonzero(torch.cat([m.reshape(-1) for m in glob])).reshape(-1).tolist())
        assert kept == _slow_topk(flat, kept_count(total, density))
        layer = score_masks(scores, density, scope="layer")
        for s, m in zip(scores, layer, strict=True):
            assert int(m.sum()) == kept_count(s.numel(), density)
    # The large-scale first layer takes (almost) everything in the global mask, not in the per-layer one.
    glob = score_masks(scores, 0.1)
    assert int(glob[1].sum()) == 0 and int(glob[2].sum()) == 0
    # Ties across tensors: the earlier tensor wins.
    glob = score_masks([torch.ones(3), torch.ones(3)], 0.5)
    assert glob[0].tolist() == [True, True, True] and glob[1].tolist() == [False] * 3


def test_global_magnitude_matches_torch_prune():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(12, 40), nn.ReLU(), nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 3))
    pairs = [(net[i], "weight") for i in (0, 2, 4)]
    weights = [m.weight.detach().clone() for m, _ in pairs]
    total = sum(w.numel() for w in weights)
    for density in (0.02, 0.1, 0.5, 0.9):
        ours = score_masks(magnitude_scores(weights), density)
        ref = nn.Sequential(*[nn.Linear(w.shape[1], w.shape[0]) for w in weights])
        with torch.no_grad():
            for lin, w in zip(ref, weights, strict=True):
                lin.weight.copy_(w)
        # An integer amount: the number removed, so both keep the same count.
        prune.global_unstructured(
            [(lin, "weight") for lin in ref],
            pruning_method=prune.L1Unstructured,
            amount=total - kept_count(total, density),
        )
        for m, lin in zip(ours, ref, strict=True):
            assert torch.equal(m, lin.weight_mask.bool())


def test_density_validation():
    s = torch.randn(10)
    for bad in (0.0, -0.1, 1.5, 50, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="density"):
            topk_mask(s, bad)
    with pytest.raises(ValueError, match="percentage"):
        score_masks([s], 10)
    with pytest.raises(TypeError, match="density"):
        topk_mask(s, "0.5")
    with pytest.raises(ValueError, match="scope"):
        score_masks([s], 0.5, scope="neuron")
    with pytest.raises(ValueError, match="NaN"):
        topk_mask(torch.tensor([1.0, float("nan")]), 0.5)
    with pytest.raises(ValueError, match="empty"):
        topk_mask(torch.zeros(0), 0.5)
    with pytest.raises(TypeError, match="sequence"):
        score_masks(s, 0.5)


def test_density_schedule():
    sched = density_schedule(0.01, 4)
    assert len(sched) == 4 and sched[-1] == 0.01
    assert sched == pytest.approx([0.01 ** (e / 4) for e in (1, 2, 3, 4)], rel=1e-12)
    # Each round keeps the same fraction of what was left.
    ratios = [b / a for a, b in zip([1.0, *sched[:-1]], sched, strict=True)]
    assert ratios == pytest.approx([ratios[0]] * 4, rel=1e-12)
    sched = density_schedule(0.05, 10, start=0.6)
    assert sched[0] == pytest.approx(0.6 * (0.05 / 0.6) ** 0.1) and sched[-1] == 0.05
    assert all(a >= b for a, b in zip(sched, sched[1:], strict=False))
    assert density_schedule(0.3, 1) == [0.3]
    assert density_schedule(1.0, 3) == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="n_rounds"):
        density_schedule(0.1, 0)
    with pytest.raises(ValueError, match="exceeds start"):
        density_schedule(0.8, 3, start=0.5)
    with pytest.raises(ValueError, match="final_density"):
        density_schedule(2.0, 3)


def test_straight_through_gradient_is_identity():
    g = torch.Generator().manual_seed(4)
    s = torch.randn(6, 5, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 5, generator=g, dtype=torch.float64)
    x = torch.randn(3, 6, generator=g, dtype=torch.float64)
    m = straight_through_topk(s, 0.3)
    assert m.dtype == torch.float64 and int(m.sum()) == 9
    assert torch.equal(m.bool(), topk_mask(s, 0.3))
    loss = (x @ (w * m)).pow(2).sum()
    loss.backward()
    # dL/ds = dL/dM, computed by autograd with the mask as a leaf.
    m_leaf = m.detach().clone().requires_grad_(True)
    (x @ (w * m_leaf)).pow(2).sum().backward()
    assert torch.allclose(s.grad, m_leaf.grad, rtol=0, atol=0)
    # Pruned entries get gradient too (that is what lets them re-enter the mask).
    assert bool((s.grad[~m.bool()] != 0).any())
    assert StraightThroughTopK.apply(s.detach(), 1.0).sum() == 30
    # Joint top-k through cat/split: gradients reach both pieces.
    sw = torch.randn(4, 3, generator=g, requires_grad=True)
    sb = torch.randn(3, generator=g, requires_grad=True)
    joint = straight_through_topk(torch.cat([sw.reshape(-1), sb]), 0.5)
    assert int(joint.sum()) == round(0.5 * 15)
    (joint * torch.arange(15.0)).sum().backward()
    assert torch.equal(sb.grad, torch.arange(12.0, 15.0))
    with pytest.raises(TypeError, match="floating"):
        straight_through_topk(torch.ones(3, dtype=torch.long), 0.5)


def test_apply_masks_and_torch_export():
    torch.manual_seed(5)
    net = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 2))
    params = [net[0].weight, net[2].weight]
    masks = score_masks(magnitude_scores(params), 0.25)
    before = [p.detach().clone() for p in params]
    apply_masks(params, masks)
    for p, b, m in zip(params, before, masks, strict=True):
        assert torch.equal(p.detach(), b * m)
        assert p.requires_grad and p.grad is None
    mods = to_torch_prune([(net[0], "weight"), (net[2], "weight")], masks)
    assert mods == [net[0], net[2]]
    assert prune.is_pruned(net)
    assert torch.equal(net[0].weight_mask.bool(), masks[0])
    x = torch.randn(4, 8)
    y = net(x)
    prune.remove(net[0], "weight")
    assert torch.allclose(net(x), y)
    with pytest.raises(ValueError, match="one mask per"):
        apply_masks(params, masks[:1])
    with pytest.raises(ValueError, match="shape"):
        apply_masks(params, masks[::-1])
    with pytest.raises(KeyError, match="nope"):
        to_torch_prune([(net[2], "nope")], masks[1:])


def _mlp(seed: int, widths=(3, 7, 5, 2)) -> nn.Sequential:
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(a, b, dtype=torch.float64))
        if i < len(widths) - 2:
            layers.append(nn.Tanh())  # smooth, so finite differences of the gradient are clean
    return nn.Sequential(*layers)


def test_snip_is_the_normalised_mask_gradient():
    net = _mlp(6)
    X = torch.randn(20, 3, dtype=torch.float64)
    y = torch.randn(20, 2, dtype=torch.float64)
    params = [net[0].weight, net[2].weight]
    scores = snip_scores(net, params, X, y, nn.functional.mse_loss)
    # |dL/dmask| with the masks as leaves at 1.
    m0 = torch.ones_like(net[0].weight, requires_grad=True)
    m2 = torch.ones_like(net[2].weight, requires_grad=True)
    h = torch.tanh(X @ (net[0].weight * m0).T + net[0].bias)
    h = torch.tanh(h @ (net[2].weight * m2).T + net[2].bias)
    nn.functional.mse_loss(net[4](h), y).backward()
    ref = [m0.grad.abs(), m2.grad.abs()]
    total = sum(r.sum() for r in ref)
    for s, r in zip(scores, ref, strict=True):
        assert torch.allclose(s, r / total, rtol=1e-10, atol=0)


def test_grasp_hessian_gradient_product_matches_finite_differences():
    net = _mlp(7)
    X = torch.randn(15, 3, dtype=torch.float64)
    y = torch.randint(0, 2, (15,))
    params = list(net.parameters())
    T = 3.0
    loss = lambda: nn.functional.cross_entropy(net(X) / T, y)
    scores = grasp_scores(net, params, X, y, nn.functional.cross_entropy, temperature=T)
    g = [t.detach() for t in torch.autograd.grad(loss(), params)]
    eps = 1e-5

    def grad_at(sign: float) -> list[torch.Tensor]:
        with torch.no_grad():
            for p, gi in zip(params, g, strict=True):
                p.add_(sign * eps * gi)
        out = [t.detach() for t in torch.autograd.grad(loss(), params)]
        with torch.no_grad():
            for p, gi in zip(params, g, strict=True):
                p.sub_(sign * eps * gi)
        return out

    hg = [(a - b) / (2 * eps) for a, b in zip(grad_at(1.0), grad_at(-1.0), strict=True)]
    raw = [h * p.detach() for h, p in zip(hg, params, strict=True)]
    total = abs(float(sum(r.sum() for r in raw))) + 1e-10
    for s, r in zip(scores, raw, strict=True):
        assert torch.allclose(s, r / total, rtol=1e-5, atol=1e-8)


def test_synflow_closed_form_on_two_layers():
    torch.manual_seed(8)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    before = [p.detach().clone() for p in net.parameters()]
    s1, s2 = synflow_scores(net, [net[0].weight, net[2].weight], (4,))
    w1, w2 = net[0].weight.detach().double(), net[2].weight.detach().double()
    # R = sum_o sum_k |w2_ok| relu(sum_i |w1_ki| + |b1_k|) + |b2_o|: dR/dw1_ki = sum_o |w2_ok|.
    assert torch.allclose(s1, w1.abs() * w2.abs().sum(0)[:, None], rtol=1e-12)
    h = w1.abs().sum(1) + net[0].bias.detach().double().abs()
    assert torch.allclose(s2, w2.abs() * h[None, :], rtol=1e-12)
    assert s1.dtype == torch.float64
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))  # model untouched
    with pytest.raises(ValueError, match="not a parameter"):
        synflow_scores(net, [torch.zeros(3)], (4,))


def test_random_scores_follow_the_generator():
    ps = [torch.zeros(3, 4), torch.zeros(5)]
    a = random_scores(ps, generator=torch.Generator().manual_seed(0))
    b = random_scores(ps, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert [x.shape for x in a] == [p.shape for p in ps]


def test_supermask_linear_forward_and_masks():
    g = torch.Generator().manual_seed(9)
    w, b = torch.randn(5, 8, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)
    x = torch.randn(4, 8, generator=g, dtype=torch.float64)
    for bias_scores in ("separate", "joint", None):
        layer = SupermaskLinear(w, b, density=0.3, bias_scores=bias_scores, generator=g)
        mw, mb = layer.masks()
        ref_b = b if mb is None else b * mb
        torch.testing.assert_close(layer(x), x @ (w * mw).T + ref_b, rtol=0, atol=0)
        if bias_scores == "joint":
            assert int(mw.sum()) + int(mb.sum()) == kept_count(45, 0.3)
            joint = topk_mask(torch.cat([layer.weight_scores.abs().reshape(-1), layer.bias_scores_param.abs()]), 0.3)
            assert torch.equal(torch.cat([mw.reshape(-1), mb]), joint)
        else:
            assert torch.equal(mw, topk_mask(layer.weight_scores.abs(), 0.3))
    # clamp_nonneg: scores start positive, rank by s itself, and stay >= 0 after clamping.
    layer = SupermaskLinear(w, b, density=0.5, clamp_nonneg=True, generator=g)
    assert bool((layer.weight_scores > 0).all())
    with torch.no_grad():
        layer.weight_scores.sub_(0.5)
    layer.clamp_scores()
    assert layer.weight_scores.min().item() == 0.0
    assert torch.equal(layer.masks()[0], topk_mask(layer.weight_scores, 0.5))
    # A joint mask on a 2-input layer starts with weights and biases alike (not a dead all-bias layer).
    wide = SupermaskLinear(
        torch.randn(100, 2, generator=g), torch.zeros(100), density=0.1, bias_scores="joint", generator=g
    )
    mw, mb = wide.masks()
    assert 5 <= int(mw.sum()) <= 35 and int(mw.sum()) + int(mb.sum()) == 30
    with pytest.raises(ValueError, match="bias_scores"):
        SupermaskLinear(w, b, density=0.5, bias_scores="both")
    with pytest.raises(ValueError, match="density"):
        SupermaskLinear(w, b, density=0.0)

"""core.binarynet: the straight-through gradients against autograd of a surrogate, by hand, and the losses."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fischer_sc.core.binarynet._layers import (  # noqa: E402
    binary_autoencode,
    clamp_,
    gated_step,
    gated_step_backward,
    pattern_length_penalty,
    regulariser_multiplier,
    sample_weights,
    w_shaped_penalty,
    weighted_xor_loss,
)


def _surrogate(x, w, b, w_b):
    """The same forward values with autograd doing the straight-through rules of the spec.

    Linear maps: value from W_b, gradient as if continuous W had been used (value + lin - lin.detach()).
    Hidden step: gradient g * z to the pre-activation and the bias, plus min(g, 0) * (1 - z) to the
    bias (a hook clamps the gradient of that extra path). Output step: identity.
    """
    lin_e = x @ w.t()
    pre = (x @ w_b.t()) + lin_e - lin_e.detach()
    z_val = gated_step(pre.detach(), b.detach())
    active_path = (pre + b) * z_val
    inactive_b = b.expand_as(z_val) * 1.0
    inactive_b.register_hook(lambda g: torch.clamp(g, max=0.0))
    inactive_path = inactive_b * (1.0 - z_val)
    z = z_val + active_path - active_path.detach() + inactive_path - inactive_path.detach()
    lin_d = z @ w
    x_hat_val = (z_val @ w_b > 0.5).to(x.dtype)
    x_hat = x_hat_val + lin_d - lin_d.detach()
    return z, x_hat


def _toy(seed: int, n: int = 7, m: int = 9, h: int = 5):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, m, generator=g) < 0.5).float()
    w = torch.rand(h, m, generator=g) * 0.9 + 0.1
    b = -1.0 - 2.0 * torch.rand(h, generator=g)
    w_b = sample_weights(w, g)
    up_z = torch.randn(n, h, generator=g)
    up_x = torch.randn(n, m, generator=g)
    return x, w, b, w_b, up_z, up_x


@pytest.mark.parametrize("seed", range(5))
def test_fused_straight_through_gradients_match_autograd_of_the_surrogate(seed):
    x, w0, b0, w_b, up_z, up_x = _toy(seed)
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    z, x_hat = binary_autoencode(x, w, b, w_b)
    ((z * up_z).sum() + (x_hat * up_x).sum()).backward()

    ws, bs = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    z_s, x_hat_s = _surrogate(x, ws, bs, w_b)
    ((z_s * up_z).sum() + (x_hat_s * up_x).sum()).backward()

    torch.testing.assert_close(z, z_s.detach())
    torch.testing.assert_close(x_hat, x_hat_s.detach())
    assert 0 < z.sum() < z.numel()  # both active and inactive units are exercised
    torch.testing.assert_close(w.grad, ws.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(b.grad, bs.grad, rtol=1e-5, atol=1e-5)


def test_double_update_splits_the_tied_gradient_into_encoder_and_decoder_parts():
    x, w0, b0, w_b, up_z, up_x = _toy(11)
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    w_dec = w.detach().requires_grad_(True)  # same storage, own gradient
    z, x_hat = binary_autoencode(x, w, b, w_b, w_dec)
    ((z * up_z).sum() + (x_hat * up_x).sum()).backward()
    # Decoder part by hand: z^T g; encoder part: (gated (g_z + g W^T))^T x.
    torch.testing.assert_close(w_dec.grad, z.t() @ up_x)
    grad_z = up_z + up_x @ w0.t()
    torch.testing.assert_close(w.grad, (grad_z * z).t() @ x, rtol=1e-5, atol=1e-5)


def test_gated_step_rule_by_hand_on_a_3x4_toy():
    # 3 rows, 2 hidden units; pre-activations W_b x for 4 items, bias -1 (fires at >= 2 items).
    pre = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 2.0]])
    b = torch.tensor([-1.0, -2.4])  # trunc(-2.4) = -2: the second unit fires at >= 3
    z = gated_step(pre, b)
    torch.testing.assert_close(z, torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    g = torch.tensor([[0.5, -1.0], [-2.0, 0.25], [3.0, 0.5]])
    grad_pre, grad_b = gated_step_backward(g, z)
    torch.testing.assert_close(grad_pre, torch.tensor([[0.5, 0.0], [0.0, 0.25], [0.0, 0.0]]))
    # unit 0: active row 0 gives 0.5; inactive rows give min(-2, 0) + min(3, 0) = -2 -> -1.5
    # unit 1: active row 1 gives 0.25; inactive rows give min(-1, 0) + min(0.5, 0) = -1 -> -0.75
    torch.testing.assert_close(grad_b, torch.tensor([-1.5, -0.75]))


def test_weighted_xor_loss_by_hand():
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    x_hat = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    # one false 1 (cost alpha) and one missed 1 (cost 1 - alpha)
    torch.testing.assert_close(weighted_xor_loss(x_hat, x, 0.2), torch.tensor(0.2 + 0.8))
    x_hat2 = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    torch.testing.assert_close(weighted_xor_loss(x_hat2, x, 0.2), torch.tensor(0.4))


def test_pattern_length_penalty_value_and_gradient_against_finite_differences():
    m = 10
    w = torch.full((3, m), 1.0 / m, dtype=torch.float64)
    w[0, :4] = 1.0  # excess 4 - 0.4 = 3.6
    w[1, :2] = 0.7  # excess 1.4 - 0.2 = 1.2
    w = w.requires_grad_(True)
    excess = np.array([3.6, 1.2, 0.0])
    expected = 2.0 * np.mean(np.maximum(1.0, excess) ** 2)
    loss = pattern_length_penalty(w, 2.0)
    np.testing.assert_allclose(float(loss.detach()), expected, rtol=1e-10)
    loss.backward()
    assert torch.all(w.grad[2] == 0)  # clamped row (excess < 1): no gradient, cannot die
    assert torch.autograd.gradcheck(
        lambda t: pattern_length_penalty(t, 2.0), (w.detach()[:2].clone().requires_grad_(True),)
    )
    assert float(pattern_length_penalty(w.detach(), 2.0, reduce="sum")) == pytest.approx(3 * expected)


def test_w_shaped_penalty_is_zero_at_0_and_1_and_symmetric():
    w = torch.tensor([0.0, 1.0, 0.3, 0.7, 0.5], dtype=torch.float64)
    vals = torch.stack([w_shaped_penalty(w[i : i + 1], 1.0, 2.0) for i in range(5)])
    assert vals[0] == 0 and vals[1] == 0
    torch.testing.assert_close(vals[2], vals[3])
    torch.testing.assert_close(vals[2], torch.tensor(0.3 + 2 * 0.09, dtype=torch.float64))
    assert vals[4] > vals[2]
    wt = torch.tensor([0.1, 0.3, 0.8, 0.95], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: w_shaped_penalty(t, 1.0, 2.0), (wt,))


def test_clamps_and_schedule():
    w = torch.tensor([[-1.0, 0.5, 2.0, 0.0]])
    b = torch.tensor([0.5])
    w_c = torch.tensor([[-0.2, 1.3]])
    clamp_(w, b, w_c)
    torch.testing.assert_close(w, torch.tensor([[0.25, 0.5, 1.0, 0.25]]))
    assert float(b) == -1.0
    torch.testing.assert_close(w_c, torch.tensor([[0.0, 1.0]]))
    assert regulariser_multiplier(0, 1.08, 100.0) == 1.0
    assert regulariser_multiplier(25, 1.08, 100.0) == pytest.approx(1.08**25)
    assert regulariser_multiplier(100, 1.08, 100.0) == 100.0


def test_bernoulli_draws_follow_the_weights_and_the_generator():
    w = torch.tensor([[0.0, 1.0, 0.3]]).expand(20000, 3)
    draw = sample_weights(w, torch.Generator().manual_seed(0))
    assert draw[:, 0].sum() == 0 and draw[:, 1].sum() == 20000
    assert abs(float(draw[:, 2].mean()) - 0.3) < 0.02
    again = sample_weights(w, torch.Generator().manual_seed(0))
    torch.testing.assert_close(draw, again)


def test_importing_the_package_does_not_import_torch():
    code = "import fischer_sc, fischer_sc.core, fischer_sc.metrics, fischer_sc.datasets, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fast_weighted_xor_gradient_matches_autograd_of_the_relu_form():
    from fischer_sc.core.binarynet._layers import weighted_xor_loss_reference

    g = torch.Generator().manual_seed(0)
    x = (torch.rand(6, 11, generator=g) < 0.4).float()
    x_hat0 = (torch.rand(6, 11, generator=g) < 0.5).float()
    a, b = x_hat0.clone().requires_grad_(True), x_hat0.clone().requires_grad_(True)
    fast, ref = weighted_xor_loss(a, x, 0.15), weighted_xor_loss_reference(b, x, 0.15)
    torch.testing.assert_close(fast, ref)
    (3.0 * fast).backward()
    (3.0 * ref).backward()
    torch.testing.assert_close(a.grad, b.grad)


@pytest.mark.parametrize("n_active", [1, 5])
def test_both_product_paths_agree(n_active):
    # few active units -> gathered rows; most active -> full products; the same gradients either way
    x, w0, b0, w_b, up_z, up_x = _toy(3, n=8, m=12, h=6)
    w_b = w_b.clone()
    w_b[n_active:] = 0.0  # units without sampled weights never fire
    w_b[:n_active] = 1.0
    w = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    z, x_hat = binary_autoencode(x, w, b, w_b)
    ((z * up_z).sum() + (x_hat * up_x).sum()).backward()
    ws, bs = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    z_s, x_hat_s = _surrogate(x, ws, bs, w_b)
    ((z_s * up_z).sum() + (x_hat_s * up_x).sum()).backward()
    torch.testing.assert_close(w.grad, ws.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(b.grad, bs.grad, rtol=1e-5, atol=1e-5)


def test_core_exposes_the_binary_layers_lazily():
    import fischer_sc.core.binarynet as core

    assert core.binary_autoencode is binary_autoencode and core.weighted_xor_loss is weighted_xor_loss
    assert core.fit_binary_net.__module__ == "fischer_sc.core.binarynet._train"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = core.nope


def test_w_shaped_numba_kernel_matches_numpy_and_autograd():
    from fischer_sc.core.binarynet._kernels import w_shaped_value_grad, w_shaped_value_grad_reference
    from fischer_sc.core.binarynet._layers import w_shaped_penalty_reference

    rng = np.random.default_rng(0)
    w = rng.uniform(-0.2, 1.3, size=5000)
    grad = np.empty_like(w)
    total = w_shaped_value_grad(w, 0.01, 1.5, 2.0, grad)
    ref_total, ref_grad = w_shaped_value_grad_reference(w, 0.01, 1.5, 2.0)
    np.testing.assert_allclose(total, ref_total, rtol=1e-10)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12)
    wt = torch.from_numpy(w.reshape(50, 100).astype(np.float32))
    a, b = wt.clone().requires_grad_(True), wt.clone().requires_grad_(True)
    fast = w_shaped_penalty(a, 1.5, 2.0, shift=0.01)
    slow = w_shaped_penalty_reference(b, 1.5, 2.0, shift=0.01)
    torch.testing.assert_close(fast, slow)
    (2.0 * fast).backward()
    (2.0 * slow).backward()
    torch.testing.assert_close(a.grad, b.grad)

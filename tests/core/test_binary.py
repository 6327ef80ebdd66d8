"""core.binarynet: straight-through gradients against autograd of a surrogate, the losses, binarisation, statistics."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse

from fischer_sc.core import binarynet
from fischer_sc.core.binarynet._layers import binary_autoencode, clamp_, gated_step, gated_step_backward, sample_weights
from fischer_sc.core.binarynet._losses import (
    pattern_length_penalty,
    regulariser_multiplier,
    w_shaped_penalty,
    w_shaped_penalty_reference,
    weighted_xor_loss,
    weighted_xor_loss_reference,
)
from fischer_sc.core.patterns import joint_support_test


def _surrogate(x, w, b, w_b):
    """The same forward values with autograd doing the straight-through rules of the BinaPs paper.

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
    # nor does core.binarynet, until one of its torch names is used
    code = (
        "import fischer_sc, fischer_sc.core, fischer_sc.metrics, fischer_sc.datasets, sys; "
        "import fischer_sc.core.binarynet as b; assert 'torch' not in sys.modules; "
        "b.fit_binary_net; assert 'torch' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fast_weighted_xor_gradient_matches_autograd_of_the_relu_form():
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
    assert binarynet.binary_autoencode is binary_autoencode and binarynet.weighted_xor_loss is weighted_xor_loss
    assert binarynet.fit_binary_net.__module__ == "fischer_sc.core.binarynet._train"
    assert set(binarynet.__all__) <= set(dir(binarynet))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = binarynet.nope


def test_w_shaped_numba_kernel_matches_numpy_and_autograd():
    from fischer_sc.core.binarynet._kernels import w_shaped_value_grad, w_shaped_value_grad_reference

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


def test_binarisation_rules():
    x = np.array([[0.0, 5.0, 1.0], [2.0, 0.0, 1.0], [3.0, 0.0, 0.0], [4.0, 1.0, 1.0]])
    q = np.quantile(x, 0.75, axis=0)  # [3.25, 2.0, 1.0]
    expected = x > q
    expected[:, 2] = x[:, 2] > 1.0  # quartile is 1, not 0: strict threshold
    for data in (x, sparse.csr_matrix(x)):
        out, applied = binarynet.binarize_matrix(data, "q75", "x")
        assert applied == "q75" and out.format == "csr" and out.dtype == np.float32
        np.testing.assert_array_equal(out.toarray() > 0, expected)
        np.testing.assert_array_equal(binarynet.binarize_matrix(data, "nonzero", "x")[0].toarray() > 0, x != 0)
        np.testing.assert_array_equal(binarynet.binarize_matrix(data, 1.5, "x")[0].toarray() > 0, x > 1.5)
        assert binarynet.binarize_matrix(data, 1.5, "x")[1] == "> 1.5"
    # quartile 0 (sparse column): every non-zero value is present
    y = np.zeros((8, 2))
    y[0, 0], y[1, 0], y[:, 1] = 0.3, 0.1, np.arange(8)
    out, _ = binarynet.binarize_matrix(sparse.csr_matrix(y), "q75", "y")
    np.testing.assert_array_equal(out.toarray()[:, 0] > 0, y[:, 0] != 0)
    np.testing.assert_array_equal(out.toarray()[:, 1] > 0, y[:, 1] > np.quantile(y[:, 1], 0.75))
    np.testing.assert_array_equal(out.toarray(), binarynet.binarize_matrix(y, "q75", "y")[0].toarray())
    # a negative quartile: implicit zeros of the sparse column exceed it
    z = np.array([[-3.0, 1.0], [-2.0, 0.0], [-1.0, 2.0], [0.0, 0.0], [-4.0, 3.0]])
    out, _ = binarynet.binarize_matrix(sparse.csr_matrix(z), "q75", "z")
    np.testing.assert_array_equal(out.toarray() > 0, z > np.quantile(z, 0.75, axis=0))
    b = (x > 1).astype(float)
    assert binarynet.binarize_matrix(b, "auto", "b")[1] == "binary" and binarynet.is_binary(b)
    assert binarynet.binarize_matrix(x, "auto", "x")[1] == "q75" and not binarynet.is_binary(x)
    with pytest.raises(ValueError, match=r"x is not binary: .*e\.g\. 2, 3, 4, 5"):
        binarynet.binarize_matrix(x, None, "x")
    with pytest.raises(ValueError, match="w contains 2 NaN or infinite"):
        binarynet.binarize_matrix(sparse.csr_matrix(np.array([[np.nan, 1.0], [np.inf, 0.0]])), "q75", "w")
    with pytest.raises(ValueError, match="binarize=-1 < 0"):
        binarynet.binarize_matrix(sparse.csr_matrix(x), -1.0, "x")


def test_empty_rows_ignores_stored_zeros():
    x = sparse.csr_matrix(np.array([[0.0, 1.0], [0.0, 0.0], [2.0, 0.0]]))
    x.data[1] = 0.0  # row 2 keeps a stored zero only
    assert binarynet.empty_rows(x).tolist() == [1, 2]
    assert binarynet.empty_rows(x.toarray()).tolist() == [1, 2]


def test_select_thresholds_extract_and_contains_by_hand():
    w = np.array([[0.9, 0.8, 0.05, 0.0], [0.0, 0.1, 0.9, 0.95]])
    x = sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]], dtype=float))
    threshold, class_threshold, err = binarynet.select_thresholds(x, w, np.array([-1.0, -1.0]), grid=(0.05, 0.5))
    assert threshold == 0.5 and np.isnan(class_threshold) and err == 0.0
    pats = binarynet.extract_patterns(np.vstack([w, w[:1]]), 0.5, min_size=2)
    assert pats.n_patterns == 2 and [list(u) for u in pats.units] == [[0, 2], [1]]
    assert [pats.items(i).tolist() for i in range(2)] == [[0, 1], [2, 3]]
    np.testing.assert_array_equal(binarynet.contains(x, pats.membership), [[True, False], [False, True], [True, True]])
    # min_size drops the one-item unit, the threshold is strict
    single = binarynet.extract_patterns(np.array([[0.9, 0.1, 0.1], [0.9, 0.9, 0.3]]), 0.3, min_size=2)
    assert single.n_patterns == 1 and single.items(0).tolist() == [0, 1]
    # patterns over kept columns mapped back to the full matrix
    wide = binarynet.expand_patterns(pats, np.array([1, 4, 5, 7]), 9)
    assert wide.membership.shape == (9, 2) and [wide.items(i).tolist() for i in range(2)] == [[1, 4], [5, 7]]
    assert wide.units is pats.units


def test_enriched_features_by_hand():
    x = np.array(
        [[1, 1, 1], [1, 1, 1], [1, 1, 0], [1, 1, 0], [0, 1, 1], [0, 1, 1], [0, 1, 0], [0, 1, 0]], dtype=np.float32
    )
    labels = np.repeat([0, 1], 4)
    keep, z = binarynet.enriched_features(sparse.csr_matrix(x), labels, 2)
    # feature 0: 4/4 in class 0, 0/4 outside; pooled 1/2, se = sqrt(1/4 * (1/4 + 1/4)) -> z = 1 / sqrt(1/8)
    # feature 1: everywhere (se 0 -> 0); feature 2: 2/4 in each class (z 0)
    np.testing.assert_allclose(z, [np.sqrt(8.0), 0.0, 0.0], atol=1e-12)
    # one-sided Bonferroni over 3 features x 2 classes at 0.05: z > 2.394
    assert keep.tolist() == [0]
    keep, _ = binarynet.enriched_features(sparse.csr_matrix(x), labels, 2, level=1e-3)  # z needs > 3.34 now
    assert keep.tolist() == []


def test_support_and_group_tables_by_hand():
    # 6 rows, groups a a a b b b; pattern 0 = {0, 1}, pattern 1 = {2, 3}, pattern 2 = {1, 2}
    x = sparse.csr_matrix(
        np.array([[1, 1, 0, 0], [1, 1, 0, 1], [1, 0, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1], [0, 1, 1, 0]], np.float32)
    )
    membership = sparse.csc_matrix(np.array([[1, 0, 0], [1, 0, 1], [0, 1, 1], [0, 1, 0]], dtype=bool))
    names = np.array(["g0", "g1", "g2", "g3"])
    present, base = binarynet.support_table(x, membership, names)
    np.testing.assert_array_equal(present[:, 0], [1, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(present[:, 1], [0, 0, 0, 1, 1, 0])
    assert base["features"].tolist() == ["g0,g1", "g2,g3", "g1,g2"] and base["size"].tolist() == [2, 2, 2]
    np.testing.assert_allclose(base["support"], [3 / 6, 2 / 6, 2 / 6])
    np.testing.assert_allclose(base["half_support"], [5 / 6, 4 / 6, 5 / 6])  # at least one of the two items
    # units 0 and 3 carry pattern 0; the class weight of a pattern is the largest over its units
    head = np.array([[0.9, 0.1, 0.2, 0.5], [0.0, 0.8, 0.1, 0.4]], dtype=np.float32)
    class_w = binarynet.pattern_class_weights(head, [np.array([0, 3]), np.array([1]), np.array([2])])
    np.testing.assert_array_equal(class_w, np.array([[0.9, 0.1, 0.2], [0.4, 0.8, 0.1]], dtype=np.float32))
    labels = np.array([0, 0, 0, 1, 1, 1])
    counts, p_values = joint_support_test(present, labels, 2)
    np.testing.assert_array_equal(counts, [[2, 0, 0], [1, 2, 2]])
    # one-sided Fisher exact test by hand: pattern 1 in b, 2 of its 2 rows among 3 b rows of 6: C(3,2)/C(6,2)
    assert p_values[1, 1] == pytest.approx(3 / 15) and p_values[0, 1] == pytest.approx(1.0)
    assigned = np.array([[True, False, False], [True, True, False]])  # the caller's decision
    table = binarynet.group_pattern_table(counts, p_values, assigned, labels, ["a", "b"], base, class_w)
    # pattern 0 -> a and b, pattern 1 -> b, pattern 2 -> general
    assert table["pattern_id"].tolist() == [0, 1, 0, 2] and table.index.tolist() == ["0", "1", "2", "3"]
    assert table["group"].astype(object).where(table["group"].notna(), None).tolist() == ["a", "b", "b", None]
    row = table.iloc[0]  # pattern 0 in a: 2 of 3 a rows, 1 of 3 b rows
    assert (row["n_in"], row["n_out"]) == (2, 1)
    assert row["support_in"] == pytest.approx(2 / 3) and row["support_out"] == pytest.approx(1 / 3)
    assert row["precision"] == pytest.approx(2 / 3) and row["log_odds"] == pytest.approx(np.log(2))
    assert row["class_weight"] == pytest.approx(0.9) and row["p_value"] == pytest.approx(p_values[0, 0])
    row = table.iloc[1]  # pattern 1 in b: 2 of 3 b rows, none in a -> precision 1, log-odds missing
    assert (row["n_in"], row["n_out"], row["precision"]) == (2, 0, 1.0) and np.isnan(row["log_odds"])
    general = table.iloc[3]
    assert general["n_in"] == -1 and np.isnan(general["precision"]) and general["class_weight"] == pytest.approx(0.2)
    assert list(table.columns) == [
        "pattern_id", "group", "features", "size", "support", "support_in", "support_out",
        "n_in", "n_out", "precision", "log_odds", "p_value", "class_weight", "half_support",
    ]  # fmt: skip


def test_history_frame_pads_short_columns():
    frame = binarynet.history_frame({"train_reconstruction": [3.0, 2.0], "test_accuracy": [0.5]})
    assert frame.index.tolist() == ["0", "1"] and frame.index.name == "epoch"
    np.testing.assert_array_equal(frame["test_accuracy"], [0.5, np.nan])
    assert binarynet.history_frame({}).shape == (0, 0)
    assert isinstance(frame, pd.DataFrame)


def test_method_configurations():
    b = binarynet.binaps_config(
        hidden_dim=8, n_epochs=3, batch_size=4, learning_rate=0.1, lambda_s=0.5, double_update=True
    )
    assert (b.init, b.length_reduce, b.lambda_c, b.double_update) == ("floor", "sum", 0.0, True)
    d = binarynet.diffnaps_config(
        hidden_dim=8,
        n_epochs=3,
        batch_size=4,
        learning_rate=0.1,
        lambda_s=0.5,
        lambda_c=10,
        elastic=[1, 2],
        class_elastic=(3, 4),
        regu_rate=1.08,
        train_fraction=0.8,
        double_update=False,
    )
    assert (d.init, d.length_reduce, d.lambda_c, d.elastic, d.class_elastic) == (
        "xavier",
        "mean",
        10.0,
        (1.0, 2.0),
        (3.0, 4.0),
    )
    assert d.regu_cap == 100.0 and d.train_fraction == 0.8
    assert [binarynet.default_hidden_dim(m) for m in (10, 500, 5000)] == [64, 250, 1000]


def test_trained_weights_recover_a_planted_pattern_and_save(tmp_path):
    # every row holds exactly one of two disjoint 4-item patterns: BinaPs must find both, and nothing
    # that mixes them or adds an item outside them (fragments of a pattern may appear beside it)
    rng = np.random.default_rng(0)
    rows = np.zeros((400, 12), dtype=np.float32)
    first = rng.random(400) < 0.5
    rows[first, 0:4] = 1.0
    rows[~first, 6:10] = 1.0
    x = sparse.csr_matrix(rows)
    cfg = binarynet.binaps_config(
        hidden_dim=16, n_epochs=5, batch_size=32, learning_rate=0.01, lambda_s=0.0, double_update=True
    )
    result = binarynet.fit_binary_net(x, cfg, seed=0)
    patterns = binarynet.extract_patterns(result.weights, 0.2, 2)
    found = [set(patterns.items(i).tolist()) for i in range(patterns.n_patterns)]
    planted = [{0, 1, 2, 3}, {6, 7, 8, 9}]
    assert all(p in found for p in planted), found
    assert all(f <= planted[0] or f <= planted[1] for f in found), found
    assert result.alpha == pytest.approx(x.nnz / (x.shape[0] * 12))
    path = tmp_path / "net.pt"
    binarynet.save_binary_net(path, result, classes=["a"])
    state = torch.load(path, weights_only=False)
    np.testing.assert_array_equal(state["weights"].numpy(), result.weights)
    assert state["class_weights"] is None and state["classes"] == ["a"]


def test_joint_support_test_is_fishers_one_sided_exact_test():
    from scipy.stats import fisher_exact

    rng = np.random.default_rng(0)
    present = rng.random((60, 4)) < 0.3
    labels = rng.integers(0, 3, 60)
    counts, p_values = joint_support_test(present, labels, 3)
    for k in range(3):
        for p in range(4):
            a = int((present[:, p] & (labels == k)).sum())
            b = int((present[:, p] & (labels != k)).sum())
            c = int((~present[:, p] & (labels == k)).sum())
            d = int((~present[:, p] & (labels != k)).sum())
            assert counts[k, p] == a
            assert p_values[k, p] == pytest.approx(fisher_exact([[a, b], [c, d]], alternative="greater").pvalue)


def test_cooccurrence_patterns_grow_joint_sets_and_split_rival_ones():
    from fischer_sc.core.patterns import cooccurrence_patterns

    rng = np.random.default_rng(1)
    n = 400
    x = (rng.random((n, 12)) < 0.3).astype(np.float32)  # items 8..11 independent
    which = rng.integers(0, 2, n)  # each row holds pattern {0,1,2,3} or pattern {4,5,6,7}, never both
    x[:, :8] = 0
    x[which == 0, :4] = 1
    x[which == 1, 4:8] = 1
    found = cooccurrence_patterns(sparse.csr_matrix(x), np.arange(n), np.arange(12), min_count=20)
    assert sorted(map(tuple, found)) == [(0, 1, 2, 3), (4, 5, 6, 7)]
    # the minimum joint support is a hard floor
    assert cooccurrence_patterns(sparse.csr_matrix(x), np.arange(n), np.arange(12), min_count=n) == []


def test_extend_patterns_grows_a_short_seed_within_its_group_and_keeps_foreign_seeds():
    from fischer_sc.core.patterns import extend_patterns

    rng = np.random.default_rng(2)
    n = 300
    x = (rng.random((n, 10)) < 0.2).astype(np.float32)  # items 6..9 independent noise
    x[:, :6] = 0
    holds = rng.random(n) < 0.5
    x[holds, :5] = 1  # the pattern {0..4}; item 5 never present
    xs = sparse.csr_matrix(x)
    rows = np.arange(n)
    out = extend_patterns(xs, rows, np.arange(10), [np.array([1, 0]), np.array([3, 7])], min_count=20)
    assert out[0].tolist() == [0, 1, 2, 3, 4]  # grown to the whole pattern, no noise item added
    assert out[1].tolist() == [3, 7]  # 7 is independent of {3}: nothing co-occurs with both beyond chance
    # a seed with an item outside ``items`` is returned as it is (sorted)
    assert extend_patterns(xs, rows, np.arange(5), [np.array([9, 0])], min_count=20)[0].tolist() == [0, 9]
    # too few rows: every seed unchanged
    assert extend_patterns(xs, rows[:1], np.arange(10), [np.array([2, 1])], min_count=1)[0].tolist() == [1, 2]


def test_drop_unions_unassigns_a_superset_made_of_independent_parts():
    from fischer_sc.core.binarynet._select import _drop_unions

    rng = np.random.default_rng(3)
    n = 400
    x = np.zeros((n, 6), dtype=np.float32)
    a = rng.random(n) < 0.5
    b = rng.random(n) < 0.5  # independent of a
    x[a, 0:2] = 1  # pattern {0, 1}
    x[b, 2:4] = 1  # pattern {2, 3}, independent of the first: {0,1,2,3} is a chance union
    c = rng.random(n) < 0.5
    x[c, 4:6] = 1
    labels = np.zeros(n, dtype=np.int64)
    columns = [np.array([0, 1]), np.array([0, 1, 2, 3]), np.array([4, 5])]
    assigned = np.array([[True, True, True]])
    out = _drop_unions(sparse.csr_matrix(x), labels, columns, assigned, 0.05)
    assert out.tolist() == [[True, False, True]]
    # when the rest co-occurs with the part beyond chance, the larger pattern stays
    x[:, 2:4] = x[:, 0:2] * (rng.random((n, 1)) < 0.9)
    out = _drop_unions(sparse.csr_matrix(x), labels, columns, assigned, 0.05)
    assert out.tolist() == [[True, True, True]]

"""DASH scores: the least-squares best guesses equal numpy.linalg.lstsq; mixing, normalisation, the exp magnitude."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fischer_sc.core.pruning import dash_first_scores, dash_magnitude, dash_output_scores, least_squares


def _t(a):
    return torch.as_tensor(a, dtype=torch.float64)


@pytest.mark.parametrize("pruned_rows", [0, 3], ids=["full_rank", "pruned_hidden_units"])
def test_least_squares_equals_numpy_lstsq(pruned_rows):
    rng = np.random.default_rng(0)
    s = rng.uniform(0, 1, (8, 12))  # H x G score matrix
    s[:pruned_rows] = 0.0  # fully pruned hidden units make S S^T singular
    q = rng.uniform(0, 1, (12, 12))
    ours = least_squares(_t(s.T), _t(q)).numpy()
    ref = np.linalg.lstsq(s.T, q, rcond=None)[0]
    np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_least_squares_ridge_is_the_tikhonov_solution():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(10, 6)), rng.normal(size=(10, 4))
    lam = 0.1 * np.sum(a**2) / 6
    ref = np.linalg.solve(a.T @ a + lam * np.eye(6), a.T @ b)
    np.testing.assert_allclose(least_squares(_t(a), _t(b), ridge=0.1).numpy(), ref, atol=1e-10)


def test_first_and_output_scores_follow_the_formulas():
    rng = np.random.default_rng(2)
    h, g = 6, 9
    w = rng.normal(size=(h, g))
    mask = rng.random((h, g)) < 0.7
    prev = rng.uniform(0, 1, (h, g))
    p = np.sign(rng.normal(size=(g, g))) * (rng.random((g, g)) < 0.3)
    q = np.abs(p) @ np.abs(p).T
    mag = np.abs(w) * mask / np.sum(np.abs(w) * mask)
    x_star = np.abs(np.linalg.lstsq(prev.T, q, rcond=None)[0]) * mask
    ref = 0.3 * x_star / x_star.sum() + 0.7 * mag
    m = dash_magnitude(_t(w), mask=_t(mask))
    np.testing.assert_allclose(m.numpy(), mag, atol=1e-12)
    omega = dash_first_scores(m, _t(prev), _t(q), lambda_ppi=0.3, mask=_t(mask))
    np.testing.assert_allclose(omega.numpy(), ref, atol=1e-12)
    # output layer: C* S_in ~ |P|^T, with S_in the new first-layer score
    a = rng.normal(size=(g, h))
    rate = rng.uniform(0, 1, g)
    mag_a = np.abs(a) * rate[:, None] / np.sum(np.abs(a) * rate[:, None])
    c_star = np.abs(np.linalg.lstsq(ref.T, np.abs(p), rcond=None)[0].T)
    ref_a = 0.2 * c_star / c_star.sum() + 0.8 * mag_a
    m_a = dash_magnitude(_t(a), row_scale=_t(rate))
    np.testing.assert_allclose(dash_output_scores(m_a, omega, _t(p), lambda_motif=0.2).numpy(), ref_a, atol=1e-12)
    # lambda 0 is magnitude pruning; unnormalised mixing adds the raw |C*| (the authors' scale)
    np.testing.assert_allclose(dash_output_scores(m_a, omega, _t(p), lambda_motif=0.0).numpy(), mag_a)
    raw = dash_output_scores(m_a, omega, _t(p), lambda_motif=0.2, normalize=False).numpy()
    np.testing.assert_allclose(raw, 0.2 * c_star + 0.8 * mag_a, atol=1e-12)


def test_exp_magnitude_is_a_softmax_over_kept_weights_without_overflow():
    w = torch.tensor([[1000.0, 999.0], [0.0, 1001.0]], dtype=torch.float64)
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    m = dash_magnitude(w, kind="exp", mask=mask)
    ref = np.exp(np.array([1000.0, 999.0, 0.0]) - 1000.0)
    np.testing.assert_allclose(m.numpy().ravel()[:3], ref / ref.sum())
    assert m[1, 1] == 0 and torch.isfinite(m).all()


def test_bad_mixing_weight_and_kind_raise():
    m = torch.ones(2, 3, dtype=torch.float64) / 6
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        dash_first_scores(m, torch.rand(2, 3), torch.eye(3), lambda_ppi=1.5)
    with pytest.raises(ValueError, match="kind must be"):
        dash_magnitude(m, kind="log")

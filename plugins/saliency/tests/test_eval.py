"""The offline digits protocol: grids, pointing game, randomisation checks and the spec's relative assertions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fischer_sc_saliency import canvas_accuracy, grid_pointing_game, model_randomisation, random_logit
from fischer_sc_saliency._digits import digit_canvases, predict
from fischer_sc_saliency._eval import _sparsify_like

IG = {"n_steps": 16}


def test_model_is_accurate(mlp, digits):
    assert canvas_accuracy(mlp, digits.test_images, digits.test_labels) >= 0.95


def test_grids_hold_distinct_correctly_classified_digits(grids, digits, mlp):
    assert len(grids) == 120 and grids.x.shape == (120, 1, 16, 16)
    assert all(len(set(row)) == 4 for row in grids.classes.tolist())
    for q in range(4):
        shown = digit_canvases(digits.test_images[grids.indices[:, q]], q)
        assert (predict(mlp, shown) == grids.classes[:, q]).all()
        np.testing.assert_array_equal(grids.x * grids.regions[q], shown)  # the quadrant holds exactly that digit
    assert grids.regions.sum(axis=0).min() == 1  # the quadrants tile the canvas


def test_pointing_game_of_a_planted_base(grids, mlp):
    def oracle(x, targets):  # knows where each class sits: its own quadrant's pixels (+ a constant elsewhere)
        rows = torch.as_tensor(np.repeat(grids.classes[: len(x) // 4], 4, axis=0))
        hit = (rows == targets[:, None]).float().argmax(1).numpy()
        return torch.as_tensor(grids.regions[hit][:, None].astype(np.float32)) + 0.01

    r = grid_pointing_game(mlp, grids, base=oracle, chunk=len(grids), progress=False)
    assert r.base == pytest.approx(64 * 1.01 / (64 * 1.01 + 192 * 0.01), rel=1e-5)
    assert r.var == pytest.approx(1.0)  # off-quadrant ties give M = 1/K and are gated away
    assert r.frac_empty_base == 0.0
    # the control keeps the base map's 64 largest positive pixels (as many as VAR keeps): the quadrant
    assert r.control == pytest.approx(1.0) and r.cells_control.shape == (len(grids), 4)


@pytest.mark.parametrize(("base", "kw"), [("input_x_gradient", None), ("integrated_gradients", IG)])
def test_var_localises_better_than_its_base(mlp, grids, base, kw):
    r = grid_pointing_game(mlp, grids, base=base, base_kwargs=kw, progress=False)
    assert r.var >= r.base + 0.03  # the spec's CI margin (reference run: +0.05)
    assert 0.25 < r.base < 0.5 and r.frac_empty_var < 0.05


def test_full_randomisation_and_sparsity_control(mlp, grids):
    df = model_randomisation(mlp, grids.x[:40], grids.classes[:40], base="input_x_gradient", progress=False)
    assert df["n_layers"].max() == 2 and set(df["method"]) == {"base", "var", "control"}
    full = df[df["n_layers"] == 2].set_index("method")
    assert full.loc["var", "spearman_abs"] <= full.loc["base", "spearman_abs"] - 0.3
    assert full.loc["var", "spearman_abs"] < full.loc["control", "spearman_abs"]
    assert (df["n_pairs"] + df["n_excluded"] == 160).all()


def test_a_model_independent_map_fails_the_sanity_checks(mlp, grids):
    def ignores_the_model(x, targets):
        return x * (1.0 + targets.float().view(-1, 1, 1, 1))

    x, c = grids.x[:10], grids.classes[:10]
    df = model_randomisation(mlp, x, c, base=ignores_the_model, mode="independent", progress=False)
    np.testing.assert_allclose(df[df["method"] == "base"]["spearman_abs"], 1.0)
    rl = random_logit(mlp, x, c, c[:, 0], base=ignores_the_model).set_index("method")
    assert rl.loc["base", "ssim"] == pytest.approx(1.0)


def test_random_logit_any_class(mlp, grids):
    x, c = grids.x[:20], grids.classes[:20]
    rl = random_logit(mlp, x, c, c[:, 1], other="any", base="input_x_gradient", random_state=3).set_index("method")
    assert rl.loc["var", "ssim"] < rl.loc["base", "ssim"]


def test_sparsity_control_keeps_the_largest():
    dense = np.array([[[1.0, -5.0], [3.0, 0.5]]])
    sparse = np.array([[[0.0, 2.0], [0.0, 1.0]]])
    np.testing.assert_array_equal(_sparsify_like(dense, sparse), [[[0.0, -5.0], [3.0, 0.0]]])


def test_evaluation_errors(mlp, grids):
    with pytest.raises(ValueError, match="mode"):
        model_randomisation(mlp, grids.x[:2], grids.classes[:2], mode="bottom_up")
    with pytest.raises(ValueError, match="tau"):
        grid_pointing_game(mlp, grids, tau=0.8)
    with pytest.raises(ValueError, match="in its input's classes"):
        random_logit(mlp, grids.x[:2], grids.classes[:2], 99)

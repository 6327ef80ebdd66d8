"""The class competition against a slow numpy transcription of the formula, and its properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fischer_sc_saliency import class_competition, competitor_sets


def reference_var(maps, t, temperature=10.0, tau=0.01, use_abs=True, joint_max=False):
    """Element by element, exactly as written: M_c = exp(T S_c) / sum exp(T S_c'), gate M_t - 1/K > tau."""
    maps = np.asarray(maps, dtype=np.float64)
    b, k = maps.shape[:2]
    out = np.zeros((b, *maps.shape[2:]))
    for i in range(b):
        scale = np.abs(maps[i]).max() if joint_max else 1.0  # one divisor for the K maps of input i
        for p in np.ndindex(*maps.shape[2:]):
            s = [(abs(maps[i, c][p]) if use_abs else maps[i, c][p]) / scale for c in range(k)]
            den = sum(np.exp(temperature * v) for v in s)
            m_t = np.exp(temperature * s[t[i]]) / den
            out[i][p] = maps[i, t[i]][p] * m_t * (m_t - 1.0 / k > tau)
    return out


@pytest.fixture
def maps():
    g = torch.Generator().manual_seed(0)
    return torch.randn(3, 4, 2, 5, 5, generator=g, dtype=torch.float64) * 0.3


@pytest.mark.parametrize("use_abs", [True, False])
def test_matches_the_formula(maps, use_abs):
    t = np.array([0, 2, 3])
    var, _, _ = class_competition(maps, torch.as_tensor(t), temperature=10.0, tau=0.01, use_abs=use_abs, normalize=None)
    np.testing.assert_allclose(var.numpy(), reference_var(maps.numpy(), t, use_abs=use_abs), rtol=1e-10, atol=1e-12)
    assert 0 < (var != 0).double().mean() < 1  # the gate removes some elements, not all


def test_defaults_match_the_formula(maps):
    # defaults: signed competition, joint_max scaling, T = 10, tau = 0.1
    t = np.array([1, 0, 3])
    var, _, _ = class_competition(maps, torch.as_tensor(t))
    want = reference_var(maps.numpy(), t, tau=0.1, use_abs=False, joint_max=True)
    np.testing.assert_allclose(var.numpy(), want, rtol=1e-10, atol=1e-12)
    assert 0 < (var != 0).double().mean() < 1


def test_bounded_by_the_base_and_same_sign(maps):
    var, weight, gate = class_competition(maps, 1)
    a_t = maps[:, 1]
    assert (var.abs() <= a_t.abs() + 1e-15).all()
    nz = var != 0
    assert (torch.sign(var[nz]) == torch.sign(a_t[nz])).all()
    assert ((weight > 0) & (weight < 1)).all()
    assert torch.equal(gate, var != 0)


def test_order_of_competitors_does_not_matter(maps):
    perm = torch.tensor([2, 0, 3, 1])  # class at position 1 moves to position 3
    a, _, _ = class_competition(maps, 1)
    b, _, _ = class_competition(maps[:, perm], 3)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-15)


def test_equal_scores_are_removed():
    maps = torch.ones(1, 3, 1, 4, 4)
    var, weight, _ = class_competition(maps, 0)
    torch.testing.assert_close(weight, torch.full_like(weight, 1 / 3))
    assert (var == 0).all()


def test_two_classes_keep_only_dominated_elements(maps):
    two = maps[:, :2]
    var, _, _ = class_competition(two, 0, tau=0.0, use_abs=True)
    kept = var != 0
    assert kept.any()
    assert (two[:, 0].abs()[kept] > two[:, 1].abs()[kept]).all()


def test_joint_max_is_scale_invariant(maps):
    a, _, _ = class_competition(maps, 2, normalize="joint_max")
    b, _, _ = class_competition(maps * 1e-3, 2, normalize="joint_max")
    torch.testing.assert_close(b, a * 1e-3)
    c, _, _ = class_competition(maps * 1e-3, 2, normalize=None)
    assert not torch.allclose(c, a * 1e-3)  # without it, T * S depends on the maps' scale


def test_auto_competitors():
    logits = torch.tensor([[5.0, 4.0, 1.0, 0.0, -3.0], [0.0, 3.0, 2.0, -1.0, 1.0]])
    t, sets, idx = competitor_sets(logits, [1, 0], "auto", k=2)
    assert sets.tolist() == [[0, 1, 4], [1, 2, 0]]  # t in top-2: P + least likely; else least likely replaced by t
    assert idx.tolist() == [1, 2]
    t, sets, _ = competitor_sets(logits, None, "auto", k=2)
    assert t.tolist() == [0, 1] and sets.tolist() == [[0, 1, 4], [1, 2, 3]]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tau": 0.7}, "tau"),  # K = 3: tau must be < 2/3
        ({"tau": -0.1}, "tau"),
        ({"temperature": 0}, "temperature"),
        ({"normalize": "max"}, "normalize"),
    ],
)
def test_parameter_errors(maps, kwargs, match):
    with pytest.raises(ValueError, match=match):
        class_competition(maps[:, :3], 0, **kwargs)


def test_one_competitor_is_rejected(maps):
    with pytest.raises(ValueError, match="K >= 2"):
        class_competition(maps[:, :1], 0)
    with pytest.raises(ValueError, match="K >= 2"):
        competitor_sets(torch.zeros(2, 5), 1, [1])


def test_target_must_be_in_classes():
    with pytest.raises(ValueError, match="not in classes"):
        competitor_sets(torch.zeros(2, 5), 4, [1, 2, 3])
    with pytest.raises(ValueError, match="repeat"):
        competitor_sets(torch.zeros(2, 5), 1, [1, 1, 3])

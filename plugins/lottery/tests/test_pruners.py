"""Pruners at initialisation: exact densities, recovery of the truth when scored by it, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import prune

import fischer_sc as fs
from fischer_sc.core.pruning import kept_count, score_masks
from fischer_sc_lottery import make_task, plant_n_seek, prune_at_init
from fischer_sc_lottery.pruners import PRUNERS


@pytest.fixture(scope="module")
def circle():
    net = plant_n_seek("circle", 5, 50, random_state=0)
    Xtr, ytr, _, _ = make_task("circle", n=600, random_state=0)
    return net, (Xtr, ytr)


@pytest.mark.parametrize("method", PRUNERS)
def test_every_pruner_keeps_the_exact_density(circle, method):
    net, data = circle
    n = sum(m.size for m in net.true_mask)
    for density in (net.density, 0.05, 0.5):
        masks = fs.plugins.run(
            "prune_at_init", net, method=method, density=density, data=data, random_state=0, rounds=3
        )
        assert [m.shape for m in masks] == [m.shape for m in net.true_mask]
        assert all(m.dtype == bool for m in masks)
        assert sum(int(m.sum()) for m in masks) == kept_count(n, density)
    again = prune_at_init(net, method=method, density=0.05, data=data, random_state=0, rounds=3)
    assert all(np.array_equal(a, b) for a, b in zip(masks if density == 0.05 else again, again, strict=True))


def test_pruners_on_a_module_and_with_biases(circle):
    _, data = circle
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 30), nn.ReLU(), nn.Linear(30, 30), nn.ReLU(), nn.Linear(30, 4))
    before = [p.detach().clone() for p in model.parameters()]
    for method in PRUNERS:
        masks = prune_at_init(model, method=method, density=0.1, data=data, prune_bias=True, rounds=2)
        assert [m.shape for m in masks] == [
            tuple(p.shape)
            for p in (model[0].weight, model[2].weight, model[4].weight, model[0].bias, model[2].bias, model[4].bias)
        ]
        assert sum(int(m.sum()) for m in masks) == kept_count(60 + 900 + 120 + 64, 0.1)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # untouched


def test_magnitude_pruner_equals_torch_global_unstructured(circle):
    net, _ = circle
    masks = prune_at_init(net, method="magnitude", density=0.02)
    layers = [nn.Linear(w.shape[0], w.shape[1], dtype=torch.float64) for w in net.weights]
    with torch.no_grad():
        for lin, w in zip(layers, net.weights, strict=True):
            lin.weight.copy_(torch.as_tensor(w.T))
    n = sum(w.size for w in net.weights)
    prune.global_unstructured(
        [(lin, "weight") for lin in layers], pruning_method=prune.L1Unstructured, amount=n - kept_count(n, 0.02)
    )
    for m, lin in zip(masks, layers, strict=True):
        assert np.array_equal(m, lin.weight_mask.numpy().T.astype(bool))


def test_true_mask_as_scores_is_recovered(circle):
    net, _ = circle
    scores = [torch.as_tensor(m, dtype=torch.float64) for m in net.true_mask]
    masks = [m.numpy() for m in score_masks(scores, net.density)]
    r = fs.metrics.mask_recovery(masks, net.true_mask)
    assert r["precision"] == r["recall"] == r["f1"] == r["jaccard"] == 1.0
    assert r["density"] == pytest.approx(net.density)


def test_iterative_synflow_keeps_pruned_entries_pruned(circle):
    net, _ = circle
    coarse = prune_at_init(net, method="synflow", density=0.2, rounds=1)
    fine = prune_at_init(net, method="synflow", density=0.2, rounds=20)
    n = sum(m.size for m in net.true_mask)
    assert sum(int(m.sum()) for m in fine) == kept_count(n, 0.2)
    # Iterating changes the result: layer collapse is what SynFlow's iterations avoid.
    assert not all(np.array_equal(a, b) for a, b in zip(coarse, fine, strict=True))


def test_errors(circle):
    net, data = circle
    for bad in (0.0, 1.5, -1, 10):
        with pytest.raises(ValueError, match="density"):
            prune_at_init(net, method="magnitude", density=bad)
    with pytest.raises(ValueError, match="unknown"):
        prune_at_init(net, method="obd", density=0.1)
    with pytest.raises(ValueError, match="data"):
        prune_at_init(net, method="snip", density=0.1)
    with pytest.raises(TypeError, match="PlantedNetwork"):
        prune_at_init(np.zeros(3), method="magnitude", density=0.1)
    with pytest.raises(ValueError, match="rounds"):
        prune_at_init(net, method="synflow", density=0.1, rounds=0)

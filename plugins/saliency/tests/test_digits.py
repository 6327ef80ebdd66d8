"""The digits protocol's models: the architectures on offer and training a user-built module."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fischer_sc_saliency import canvas_accuracy, digits_model, train_digits_model


@pytest.mark.parametrize(("arch", "pool"), [("cnn", nn.MaxPool2d), ("cnn_gmp", nn.AdaptiveMaxPool2d)])
def test_cnn_architectures(arch, pool):
    model = digits_model(arch)
    assert any(isinstance(m, pool) for m in model)
    assert model(torch.zeros(3, 1, 16, 16)).shape == (3, 10)


def test_train_a_given_module(digits):
    torch.manual_seed(0)
    module = nn.Sequential(nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10))
    before = canvas_accuracy(module, digits.test_images[:300], digits.test_labels[:300])
    trained = train_digits_model(module, digits, epochs=2, lr=3e-3, random_state=0)
    assert trained is module and not trained.training
    assert before < 0.3 < 0.75 < canvas_accuracy(trained, digits.test_images[:300], digits.test_labels[:300])


def test_unknown_architecture():
    with pytest.raises(ValueError, match="arch='vit' is unknown"):
        digits_model("vit")
    with pytest.raises(TypeError, match="arch must be one of"):
        train_digits_model(3, epochs=1)

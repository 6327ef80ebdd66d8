"""Shared fixtures: one small digits MLP for the whole session, trained on one torch thread."""

from __future__ import annotations

import pytest
import torch

from fischer_sc_saliency import load_digit_data, make_digit_grids, train_digits_model


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    # The models here are tiny; on a shared 2-core machine several torch threads only contend.
    # Module scope: the thread count is restored before any other package's tests run.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def digits():
    return load_digit_data()


@pytest.fixture(scope="session")
def mlp(digits):
    """The spec's MLP (256-256-10), trained for fewer epochs than the benchmark to keep the suite fast."""
    return train_digits_model("mlp", digits, epochs=8, random_state=0)


@pytest.fixture(scope="session")
def grids(mlp, digits):
    return make_digit_grids(mlp, digits.test_images, digits.test_labels, n_grids=120, random_state=0)


class TinyCNN(torch.nn.Module):
    """A small untrained CNN with BatchNorm and Dropout, to test hygiene, Grad-CAM and peers."""

    def __init__(self, n_classes: int = 5):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(6)
        self.conv2 = torch.nn.Conv2d(6, 8, 3, padding=1)
        self.drop = torch.nn.Dropout(0.5)
        self.fc = torch.nn.Linear(8 * 4 * 4, n_classes)

    def forward(self, x):
        h = torch.relu(self.bn(self.conv1(x)))
        h = torch.nn.functional.max_pool2d(torch.relu(self.conv2(h)), 2)
        return self.fc(self.drop(h.flatten(1)))


@pytest.fixture
def tiny_cnn():
    torch.manual_seed(0)
    model = TinyCNN()
    model.eval()
    return model


@pytest.fixture
def images():
    g = torch.Generator().manual_seed(1)
    return torch.rand(3, 3, 8, 8, generator=g)

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1], a stratified 80/20 split with seed 0 (the set-up of the spec)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The simulator runs on one thread (its default); run the tests' own torch code the same way."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

"""Repository-wide pytest set-up, shared by tests/ and the plugin tests under plugins/."""

from __future__ import annotations

import importlib.util

import pytest


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``gpu`` on machines without a CUDA device (torch is imported only if any exist)."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if gpu_items and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA device")
        for item in gpu_items:
            item.add_marker(skip)


@pytest.fixture
def fresh_registry():
    """Forget the cached default registry before and after the test, so environment changes take effect."""
    from fischer_sc.plugins import _manager

    _manager.registry.cache_clear()
    yield
    _manager.registry.cache_clear()

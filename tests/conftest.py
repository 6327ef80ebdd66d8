from __future__ import annotations

import pytest

from fischer_sc.plugins import _manager
from fischer_sc.testing import small_adata


@pytest.fixture
def adata():
    """A small AnnData with planted groups (see fischer_sc.testing.small_adata)."""
    return small_adata()


@pytest.fixture
def fresh_registry():
    """Forget the cached default registry before and after the test, so environment changes take effect."""
    _manager.registry.cache_clear()
    yield
    _manager.registry.cache_clear()

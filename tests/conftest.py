from __future__ import annotations

import pytest

from fischer_sc.testing import small_adata


@pytest.fixture
def adata():
    """A small AnnData with planted groups (see fischer_sc.testing.small_adata)."""
    return small_adata()

"""Tools whose capability has not landed raise, with their final signature, and never touch adata."""

from __future__ import annotations

import pytest

import fischer_sc as fs
from fischer_sc.testing import small_adata

PENDING: dict[str, dict] = {}


@pytest.mark.parametrize("name", sorted(PENDING))
def test_pending_tool_raises_and_leaves_adata_unchanged(name):
    adata = small_adata()
    before = adata.copy()
    with pytest.raises(NotImplementedError, match=rf"fs.tl.{name} is not implemented yet: it arrives with"):
        getattr(fs.tl, name)(adata, **PENDING[name])
    assert set(adata.obsm) == set(before.obsm) and set(adata.uns) == set(before.uns)
    assert set(adata.varm) == set(before.varm) and set(adata.obsp) == set(before.obsp)


@pytest.mark.parametrize("name", sorted(PENDING))
def test_pending_tool_runs_through_the_registry_too(name):
    with pytest.raises(NotImplementedError):
        fs.plugins.run(name, small_adata(), **PENDING[name])

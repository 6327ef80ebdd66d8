"""fs.datasets.planted_patterns: the paper's generator (templates, noise, label purity), seeded, h5ad-safe."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

import fischer_sc as fs
from fischer_sc.testing import assert_uns_equal, h5ad_roundtrip


def _indices(adata, group):
    sets = fs.datasets.planted_pattern_sets(adata.uns["planted"]["patterns"], include_common=True)
    return [adata.var_names.get_indexer(sorted(p)) for p in sets[group]]


def test_noise_free_rows_are_unions_of_three_class_patterns():
    adata = fs.datasets.planted_patterns(
        300, 3, 50, n_random=0, destructive_noise=0.0, label_purity=1.0, random_state=0
    )
    assert adata.shape == (150, 300) and adata.X.format == "csr"
    x = adata.X.toarray() > 0
    table = adata.uns["planted"]["patterns"]
    assert list(table["group"].unique()) == ["c0", "c1", "c2"]  # m < 1000: no common patterns
    assert ((table["size"] >= 5) & (table["size"] < 15)).all()
    assert (table.groupby("group").size() == 5).all()
    np.testing.assert_array_equal(adata.obs["class"], adata.obs["template_class"])
    for row, cls in enumerate(adata.obs["class"].astype(str)):
        pats = _indices(adata, cls)
        unions = [np.unique(np.concatenate([pats[i] for i in t])) for t in combinations(range(5), 3)]
        on = np.flatnonzero(x[row])
        assert any(np.array_equal(on, u) for u in unions)


def test_noise_levels_and_common_patterns():
    adata = fs.datasets.planted_patterns(1000, 2, 500, random_state=1)
    table = adata.uns["planted"]["patterns"]
    assert (table["group"] == "common").sum() == 20 and (table.groupby("group").size()[["c0", "c1"]] == 10).all()
    common = table[table["group"] == "common"]
    assert ((common["size"] >= 10) & (common["size"] < 25)).all()
    purity = (adata.obs["class"] == adata.obs["template_class"]).mean()
    assert 0.86 < purity < 0.94
    # additive noise: about 10 random items per row on top of the planted ones
    assert adata.X.sum(1).mean() > 10


def test_destructive_noise_flips_bits_of_contained_patterns():
    clean = fs.datasets.planted_patterns(200, 2, 300, n_random=0, destructive_noise=0.0, random_state=2)
    noisy = fs.datasets.planted_patterns(200, 2, 300, n_random=0, destructive_noise=0.1, random_state=2)
    lost = (clean.X.toarray() > noisy.X.toarray()).sum() / clean.X.sum()
    assert 0.07 < lost < 0.13
    assert (noisy.X.toarray() <= clean.X.toarray()).all()  # flipping 1s of contained patterns only removes


def test_seeded_and_h5ad_safe(tmp_path):
    a = fs.datasets.planted_patterns(100, 2, 20, random_state=5)
    b = fs.datasets.planted_patterns(100, 2, 20, random_state=5)
    c = fs.datasets.planted_patterns(100, 2, 20, random_state=6)
    assert (a.X != b.X).nnz == 0 and (a.X != c.X).nnz > 0
    back = h5ad_roundtrip(a, tmp_path)
    assert_uns_equal(back.uns["planted"], a.uns["planted"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_features": 0}, "n_features"),
        ({"label_purity": 1.5}, "label_purity"),
        ({"noise_order": ("shuffle",)}, "noise_order"),
        ({"n_patterns": 2}, "patterns_per_row"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fs.datasets.planted_patterns(**{"n_features": 100, **kwargs})


def test_interaction_patterns_hide_their_items_from_a_per_feature_test():
    a = fs.datasets.interaction_patterns(400, 3, 400, n_frequent=20, n_random=0, random_state=3)
    b = fs.datasets.interaction_patterns(400, 3, 400, n_frequent=20, n_random=0, random_state=3)
    assert (a.X != b.X).nnz == 0
    x = a.X.toarray() > 0
    labels = a.obs["class"].to_numpy()
    table = a.uns["planted"]["patterns"]
    assert len(table) == 9 and (table["size"] == 4).all()
    for group, features in zip(table["group"], table["features"], strict=True):
        cols = a.var_names.get_indexer(features.split(","))
        for c in ("c0", "c1", "c2"):
            rows = x[labels == c][:, cols]
            assert np.abs(rows.mean(0) - 0.4).max() < 0.1  # each item: 40 % in every class
            joint = rows.all(1).mean()
            assert joint == pytest.approx(0.4 if c == group else 0.4**4, abs=0.06)
    with pytest.raises(ValueError, match="need more than n_features=50"):
        fs.datasets.interaction_patterns(50, 3, 10)
    with pytest.raises(ValueError, match="frequency must be a number in"):
        fs.datasets.interaction_patterns(400, frequency=1.5)

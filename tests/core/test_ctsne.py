"""ct-SNE's per-label repulsion: which estimator each label group uses, and that both agree."""

from __future__ import annotations

import numpy as np

from fischer_sc.core.embedding._ctsne import CtsneRepulsion
from fischer_sc.core.embedding._optimise import repulsion_costs


def _layout(sizes: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(len(sizes)), sizes)
    y = rng.normal(size=(codes.size, 2)) * 10.0 + codes[:, None] * 5.0
    return y, codes


def test_groups_pick_the_cheaper_estimator_by_size():
    small, large = 40, 1200
    exact_small, bh_small = repulsion_costs(small)
    exact_large, bh_large = repulsion_costs(large)
    assert exact_small < bh_small and bh_large < exact_large  # the sizes straddle the model's switch
    y, codes = _layout((small, large))
    hook = CtsneRepulsion(codes, 0.1, repulsion="barnes_hut")
    hook.same_label_sums(y)
    # Barnes-Hut keeps its Morton order between calls; the exact sums keep nothing
    assert hook._orders[0] is None
    assert hook._orders[1] is not None


def test_barnes_hut_groups_agree_with_exact_sums():
    y, codes = _layout((300, 900, 500))
    rep_bh, z_bh = CtsneRepulsion(codes, 0.1, repulsion="barnes_hut").same_label_sums(y)
    rep_ex, z_ex = CtsneRepulsion(codes, 0.1, repulsion="exact").same_label_sums(y)
    assert abs(z_bh - z_ex) / z_ex < 1e-2
    err = np.linalg.norm(rep_bh - rep_ex, axis=1) / np.linalg.norm(rep_ex, axis=1).mean()
    assert np.median(err) < 0.05
    assert not np.array_equal(rep_bh, rep_ex)  # the groups above the switch were estimated

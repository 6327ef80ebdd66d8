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


def _former_call(hook: CtsneRepulsion, y: np.ndarray, rep: np.ndarray, z: float) -> np.ndarray:
    """The hook's repulsion as it was computed before the a == b shortcut: always with the label sums."""
    rep_same, z_same = hook.same_label_sums(y)
    return (hook.b * rep + (hook.a - hook.b) * rep_same) / (hook.b * z + (hook.a - hook.b) * z_same)


def test_without_label_conditioning_the_label_sums_are_skipped_and_the_repulsion_is_unchanged(monkeypatch):
    y, codes = _layout((300, 900))
    rng = np.random.default_rng(3)
    rep, z = rng.normal(size=y.shape), 1234.5
    hook = CtsneRepulsion(codes, 1.0, repulsion="barnes_hut")
    assert hook.a == hook.b == 1.0  # b = 1: the label factor is 1 for every pair
    want = _former_call(hook, y, rep, z)
    calls = []
    monkeypatch.setattr(hook, "same_label_sums", lambda yy: calls.append(1) or (0 * yy, 0.0))
    got = hook(0, y, rep, z)
    assert not calls and got.tobytes() == want.tobytes()  # bit-identical, without the sums
    # with conditioning (a != b), even by rounding alone (b = 1 but a = 1 - 1e-16), the sums are used
    for sizes, beta in (((300, 900), 0.1), ((300, 900, 500), 1.0)):
        y, codes = _layout(sizes)
        hook = CtsneRepulsion(codes, beta, repulsion="barnes_hut")
        assert hook.a != hook.b
        rep = rng.normal(size=y.shape)
        np.testing.assert_array_equal(hook(0, y, rep, z), _former_call(hook, y, rep, z))


def test_the_estimator_choice_is_made_once_per_dimension_and_follows_the_cost_model():
    from fischer_sc.core.embedding._optimise import resolve_repulsion

    y, codes = _layout((40, 1200, 260, 250))
    hook = CtsneRepulsion(codes, 0.1, repulsion="barnes_hut")
    hook.same_label_sums(y)
    want = [resolve_repulsion("auto", g.size, 2) == "exact" for g in hook.groups]
    assert hook._estimators == {2: want} and want[0] and not want[1]
    assert CtsneRepulsion(codes, 0.1, repulsion="exact")._exact(2) == [True] * 4

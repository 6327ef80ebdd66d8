"""DaisyChainServer as a state machine over node ids: schedule, permutations, averaging, failures (no torch)."""

from __future__ import annotations

import numpy as np
import pytest

from fischer_sc_federated.server import DaisyChainServer


def _models(values):
    return {i: [np.full(3, float(v)), np.full((2, 2), float(v))] for i, v in enumerate(values)}


def test_schedule_aggregation_wins_and_fedavg_never_permutes():
    s = DaisyChainServer(daisy_period=2, agg_period=6)
    assert [s.action(t) for t in range(1, 13)] == ["none", "permute", "none", "permute", "none", "aggregate"] * 2
    fedavg = DaisyChainServer(daisy_period=None, agg_period=3)
    assert {fedavg.action(t) for t in range(1, 30)} == {"none", "aggregate"}
    dc_only = DaisyChainServer(daisy_period=1, agg_period=None)
    assert {dc_only.action(t) for t in range(1, 30)} == {"permute"}


def test_permutation_moves_models_and_preserves_the_multiset():
    s = DaisyChainServer(daisy_period=1, agg_period=None, random_state=4)
    ids = [10, 3, 7, 42, 5]
    s.sync_nodes(ids, initial=[np.zeros(1)])
    for i, nid in enumerate(sorted(ids)):
        s.models[nid] = [np.array([float(i)])]
    before = {nid: float(s.models[nid][0][0]) for nid in s.node_ids}
    # The server's next permutation, drawn from an identical stream.
    perm = np.random.default_rng(4).permutation(5)
    assert s.receive(1, {}) == "permute"
    after = {nid: float(s.models[nid][0][0]) for nid in s.node_ids}
    assert sorted(after.values()) == sorted(before.values())
    order = s.node_ids
    for i in range(5):
        assert after[order[perm[i]]] == before[order[i]]


def test_derangement_has_no_fixed_points():
    s = DaisyChainServer(daisy_period=1, agg_period=None, derangement=True, random_state=0)
    for _ in range(200):
        p = s.draw_permutation(4)
        assert not np.any(p == np.arange(4))


def test_aggregation_is_the_unweighted_mean_or_weighted_by_examples():
    s = DaisyChainServer(daisy_period=None, agg_period=1)
    s.models = _models([1, 2, 6])
    s.receive(1, {0: (s.models[0], 1), 1: (s.models[1], 1), 2: (s.models[2], 10)})
    for nid in s.node_ids:
        np.testing.assert_array_equal(s.models[nid][0], np.full(3, 3.0))
    w = DaisyChainServer(daisy_period=None, agg_period=1, weighting="num_examples")
    w.models = _models([1, 2, 6])
    w.receive(1, {0: (w.models[0], 1), 1: (w.models[1], 1), 2: (w.models[2], 2)})
    np.testing.assert_allclose(w.models[0][1], np.full((2, 2), (1 + 2 + 12) / 4))


def test_a_node_that_does_not_reply_keeps_its_model():
    s = DaisyChainServer(daisy_period=None, agg_period=None)
    s.models = _models([1, 2, 3])
    s.receive(1, {0: [np.full(3, 9.0), np.full((2, 2), 9.0)], 2: [np.full(3, 8.0), np.full((2, 2), 8.0)]})
    assert s.models[1][0][0] == 2.0 and s.models[0][0][0] == 9.0 and s.models[2][0][0] == 8.0
    assert s.dropped == {1: [1]}
    # Replies from unknown nodes are ignored.
    s.receive(2, {99: [np.zeros(3), np.zeros((2, 2))], 0: s.models[0], 1: s.models[1], 2: s.models[2]})
    assert 99 not in s.models and 2 not in s.dropped


def test_leavers_leave_their_model_to_joiners_and_joiners_otherwise_get_the_mean():
    s = DaisyChainServer(daisy_period=1, agg_period=None)
    s.models = _models([1, 2, 3])
    s.sync_nodes([0, 1, 7])  # node 2 leaves, node 7 joins and takes node 2's model
    assert s.models[7][0][0] == 3.0 and not s.orphans
    s.sync_nodes([0, 1, 7, 8])  # no orphan left: the newcomer starts from the mean
    np.testing.assert_allclose(s.models[8][0], np.full(3, 2.0))


@pytest.mark.parametrize(("kw", "match"), [
    ({"daisy_period": 0}, "daisy_period"),
    ({"agg_period": -1}, "agg_period"),
    ({"agg_period": 2.5}, "agg_period"),
    ({"weighting": "median"}, "weighting"),
])  # fmt: skip
def test_bad_settings_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        DaisyChainServer(**kw)


def test_first_sync_needs_an_initial_model():
    with pytest.raises(ValueError, match="initial"):
        DaisyChainServer().sync_nodes([1, 2])

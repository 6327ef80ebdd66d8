"""FedDCStrategy and the ClientApp on Flower's Message API, driven through an in-process Grid (no Ray).

The Ray-based ``run_flower_simulation`` is exercised by ``test_flower_simulation`` only when
``FISCHER_SC_FLOWER_TESTS=1`` (it takes about a minute on a shared 2-core machine).
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest

pytest.importorskip("flwr")

from flwr.app import ArrayRecord, Context, RecordDict
from flwr.serverapp import Grid

from fischer_sc_federated import FedDCStrategy, feddc, make_client_app, mlp, split_clients

MODEL = lambda: mlp(64, 10)


@pytest.fixture(autouse=True)
def _task_identity(monkeypatch):
    """The identity Flower's runtime gives a ServerApp process (needed to construct instruction Messages)."""
    from flwr.supercore.task_identity import TaskIdentity

    for attr, value in (("_run_id", 1), ("_node_id", 0), ("_task_id", 1)):
        monkeypatch.setattr(TaskIdentity, attr, value)


class InlineGrid(Grid):
    """A Grid that delivers every message by calling the ClientApp in this process.

    Node ids are arbitrary integers; by default unrelated to the partition order, as on a real SuperLink
    (``ordered=True`` gives the sorted ids partitions 0, 1, ...). Nodes listed in ``silent[round]`` do not
    reply in that round's training. ``record=True`` keeps every train payload sent and returned.
    """

    def __init__(self, client_app, n_nodes, silent=None, seed=0, ordered=False, record=True):
        rng = np.random.default_rng(seed)
        ids = np.sort(rng.choice(10**9, size=n_nodes, replace=False))
        pids = np.arange(n_nodes) if ordered else rng.permutation(n_nodes)
        self.partition = {int(nid): int(p) for nid, p in zip(ids, pids, strict=True)}
        self.app, self.silent, self.record, self.sent, self.returned = client_app, silent or {}, record, [], []

    def set_run(self, run):
        pass

    @property
    def run(self):
        return None

    def create_message(self, *args, **kwargs):
        raise NotImplementedError

    def get_node_ids(self):
        return list(self.partition)

    def push_messages(self, messages):
        raise NotImplementedError

    def pull_messages(self, message_ids):
        raise NotImplementedError

    def send_and_receive(self, messages, *, timeout=None):
        replies = []
        for msg in messages:
            msg.metadata.__dict__["_message_id"] = str(uuid.uuid4())
            nid = msg.metadata.dst_node_id
            rnd = int(msg.content["config"]["server-round"])
            if msg.metadata.message_type == "train" and self.record:
                self.sent.append((rnd, nid, msg.content["arrays"].to_numpy_ndarrays()))
                if nid in self.silent.get(rnd, ()):
                    continue
            cfg = {"partition-id": self.partition[nid], "num-partitions": len(self.partition)}
            reply = self.app(msg, Context(run_id=1, node_id=nid, node_config=cfg, state=RecordDict(), run_config={}))
            if msg.metadata.message_type == "train" and self.record:
                self.returned.append((rnd, nid, reply.content["arrays"].to_numpy_ndarrays()))
            replies.append(reply)
        return replies


def _initial(seed):
    from fischer_sc_federated.engine import build_model

    return ArrayRecord([p.detach().numpy().copy() for p in build_model(MODEL, seed).parameters()])


def test_every_node_gets_its_own_model_and_hand_offs_move_them(digits):
    Xtr, _, ytr, _ = digits
    parts = split_clients(Xtr, ytr, 5, 4, random_state=0)
    grid = InlineGrid(make_client_app(MODEL, parts), 5)
    strategy = FedDCStrategy(daisy_period=1, agg_period=None, lr=0.5, random_state=0)
    strategy.start(grid=grid, initial_arrays=_initial(0), num_rounds=3)
    round2 = [(nid, a) for r, nid, a in grid.sent if r == 2]
    assert len(round2) == 5
    # Distinct models arrive (a shared payload would silently turn daisy-chaining into FedAvg).
    firsts = {a[0].tobytes() for _, a in round2}
    assert len(firsts) == 5
    # What a node is sent in round 3 is what some node returned in round 2, moved by the server's permutation.
    sent3 = {nid: a[0].tobytes() for r, nid, a in grid.sent if r == 3}
    back2 = {nid: a[0].tobytes() for r, nid, a in grid.returned if r == 2}
    assert sorted(sent3.values()) == sorted(back2.values())
    assert sent3 != back2


def test_a_silent_node_keeps_the_model_it_was_sent(digits):
    Xtr, _, ytr, _ = digits
    parts = split_clients(Xtr, ytr, 4, 4, random_state=0)
    grid = InlineGrid(make_client_app(MODEL, parts), 4)
    silent = sorted(grid.partition)[2]
    grid.silent = {2: {silent}}
    strategy = FedDCStrategy(daisy_period=None, agg_period=None, lr=0.5, random_state=0)
    strategy.start(grid=grid, initial_arrays=_initial(0), num_rounds=2)
    sent = {nid: a for r, nid, a in grid.sent if r == 2}
    assert strategy.server.dropped == {2: [silent]}
    assert all(np.array_equal(x, y) for x, y in zip(strategy.server.models[silent], sent[silent], strict=True))
    other = sorted(grid.partition)[0]
    assert not np.array_equal(strategy.server.models[other][0], sent[other][0])


def test_dp_is_applied_on_the_client(digits):
    Xtr, _, ytr, _ = digits
    parts = split_clients(Xtr, ytr, 4, 4, random_state=0)
    grid = InlineGrid(make_client_app(MODEL, parts), 4)
    dp = {"clip": 0.01, "noise_multiplier": 0.0}
    FedDCStrategy(daisy_period=1, agg_period=None, lr=0.5, dp=dp).start(
        grid=grid, initial_arrays=_initial(0), num_rounds=2
    )
    sent = {(r, nid): a for r, nid, a in grid.sent}
    for r, nid, back in grid.returned:
        norm = np.sqrt(sum(float(np.sum((b - s) ** 2)) for b, s in zip(back, sent[(r, nid)], strict=True)))
        assert norm == pytest.approx(0.01, rel=1e-4)


def test_flower_strategy_reproduces_the_in_process_simulation(digits):
    # With the node ids in partition order, the strategy draws the simulator's permutations, so the Flower run
    # (one model per ClientApp call) follows the vectorised run up to float rounding.
    Xtr, Xte, ytr, yte = digits
    parts = split_clients(Xtr, ytr, 10, 8, random_state=0)
    sim = feddc(MODEL, parts, rounds=40, daisy_period=1, agg_period=10, lr=0.5, random_state=0)
    grid = InlineGrid(make_client_app(MODEL, parts, eval_data=(Xte, yte)), 10, ordered=True, record=False)
    strategy = FedDCStrategy(daisy_period=1, agg_period=10, lr=0.5, random_state=0, eval_rounds=[40])
    result = strategy.start(grid=grid, initial_arrays=_initial(0), num_rounds=40)
    acc_flower = float(result.evaluate_metrics_clientapp[40]["acc-client-mean"])
    acc_sim = float(np.mean(sim.predict(Xte) == yte))
    assert acc_sim > 0.6
    assert abs(acc_flower - acc_sim) <= 0.01
    for p, q in zip(sim.model.parameters(), strategy.server.mean(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q, atol=1e-4)
    assert [r for r, a in strategy.server.log if a == "aggregate"] == [10, 20, 30, 40]


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("FISCHER_SC_FLOWER_TESTS") != "1", reason="set FISCHER_SC_FLOWER_TESTS=1 (Ray, ~1 min)"
)
def test_flower_simulation(digits):
    from fischer_sc_federated import run_flower_simulation

    Xtr, Xte, ytr, yte = digits
    parts = split_clients(Xtr, ytr, 10, 8, random_state=0)
    kw = {"rounds": 40, "daisy_period": 1, "agg_period": 10, "lr": 0.5, "eval_data": (Xte, yte), "random_state": 0}
    sim = feddc(MODEL, parts, **kw)
    fl = run_flower_simulation(MODEL, parts, **kw)
    assert fl.history["round"].tolist() == sim.history["round"].tolist()
    assert abs(fl.history["acc_avg_model"].iloc[-1] - sim.history["acc_avg_model"].iloc[-1]) <= 0.05

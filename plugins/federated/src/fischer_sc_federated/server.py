"""The FedDC server as a framework-free state machine (Kamp, Fischer, Vreeken, ICLR 2023, arXiv 2110.03469).

One model is held per client node. After every round of local training the server either averages all
models (every ``agg_period`` rounds), or hands every model on to a uniformly random other client (every
``daisy_period`` rounds; *daisy-chaining*), or leaves them where they are. Aggregation wins when both fall
due. ``daisy_period=None`` is FedAvg. A model is a list of arrays (numpy or torch, not mixed); the server
never looks inside it beyond stacking, so the in-process simulator, the Flower strategy and a hand-written
loop all share this one implementation of the schedule, the permutations and the averaging.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

Action = Literal["aggregate", "permute", "none"]
Model = list[Any]


def check_period(value: int | None, name: str) -> int | None:
    """Validate a period: a positive int, or ``None`` for never."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        msg = f"{name} must be a positive integer or None (never), got {value!r}."
        raise ValueError(msg)
    return int(value)


def stack_mean(models: Sequence[Model], weights: np.ndarray | None = None) -> Model:
    """Entry-wise (weighted) mean of models given as lists of arrays, computed as ``stack(...).mean(0)``."""
    first = models[0][0]
    if type(first).__module__.startswith("torch"):
        import torch

        stack, mean_dim = torch.stack, {"dim": 0}
        to_w = lambda w, ref: torch.as_tensor(w, dtype=ref.dtype, device=ref.device)
    else:
        stack, mean_dim = np.stack, {"axis": 0}
        to_w = lambda w, ref: np.asarray(w, dtype=ref.dtype)
    out = []
    for k in range(len(models[0])):
        s = stack([m[k] for m in models])
        if weights is None:
            out.append(s.mean(**mean_dim))
        else:
            w = to_w(weights / weights.sum(), s).reshape((-1,) + (1,) * (s.ndim - 1))
            out.append((s * w).sum(**mean_dim))
    return out


class DaisyChainServer:
    """FedDC's server: schedule, permutations and averaging of one model per client node.

    Parameters
    ----------
    daisy_period
        Hand the models on (a uniform random permutation) every ``daisy_period`` rounds; ``None`` never (FedAvg).
    agg_period
        Average all models every ``agg_period`` rounds; ``None`` never (daisy-chaining only).
    weighting
        ``"uniform"`` (the reference's unweighted mean) or ``"num_examples"`` (weighted by the clients' sample counts).
    derangement
        Redraw permutations until no model returns to its own client (the reference allows fixed points).
    random_state
        Seed of the permutation stream.

    Notes
    -----
    Rounds count from 1, as in Flower: round ``t`` aggregates when ``t % agg_period == 0``, else hands on when
    ``t % daisy_period == 0``. A permutation ``perm`` sends the model of the ``i``-th node (sorted ids) to node
    ``perm[i]``. Failures: a node that does not reply keeps the model it was sent; a node that leaves leaves its
    model in an orphan pool, and a node that joins takes the oldest orphan, or the current mean if none is left.
    """

    def __init__(
        self,
        daisy_period: int | None = 1,
        agg_period: int | None = 10,
        *,
        weighting: Literal["uniform", "num_examples"] = "uniform",
        derangement: bool = False,
        random_state: int = 0,
    ) -> None:
        self.daisy_period = check_period(daisy_period, "daisy_period")
        self.agg_period = check_period(agg_period, "agg_period")
        if weighting not in ("uniform", "num_examples"):
            msg = f"weighting must be 'uniform' or 'num_examples', got {weighting!r}."
            raise ValueError(msg)
        self.weighting = weighting
        self.derangement = bool(derangement)
        self.rng = np.random.default_rng(random_state)
        self.models: dict[Hashable, Model] = {}
        self.num_examples: dict[Hashable, float] = {}
        self.orphans: list[Model] = []
        self.dropped: dict[int, list[Hashable]] = {}
        self.log: list[tuple[int, Action]] = []

    # -- schedule -----------------------------------------------------------------------------------------
    def action(self, server_round: int) -> Action:
        """What the server does after local training in ``server_round`` (1-based); draws nothing."""
        if self.agg_period is not None and server_round % self.agg_period == 0:
            return "aggregate"
        if self.daisy_period is not None and server_round % self.daisy_period == 0:
            return "permute"
        return "none"

    def draw_permutation(self, m: int) -> np.ndarray:
        """A uniform permutation of ``range(m)`` (a uniform derangement when ``derangement=True``)."""
        perm = self.rng.permutation(m)
        while self.derangement and m > 1 and np.any(perm == np.arange(m)):
            perm = self.rng.permutation(m)
        return perm

    def plan(self, server_round: int, m: int) -> tuple[Action, np.ndarray | None]:
        """The action of ``server_round`` and, on hand-off rounds only, its permutation (consumes the stream)."""
        act = self.action(server_round)
        self.log.append((server_round, act))
        return act, (self.draw_permutation(m) if act == "permute" else None)

    # -- state over node ids ---------------------------------------------------------------------------------
    @property
    def node_ids(self) -> list[Hashable]:
        """The active nodes, sorted (the order permutations refer to)."""
        return sorted(self.models)

    def sync_nodes(self, node_ids: Sequence[Hashable], initial: Model | None = None) -> None:
        """Make ``node_ids`` the active nodes: leavers' models go to the orphan pool, joiners are seeded.

        ``initial`` seeds every node when the server holds no model yet (round 1).
        """
        ids = set(node_ids)
        for nid in sorted(set(self.models) - ids):
            self.orphans.append(self.models.pop(nid))
            self.num_examples.pop(nid, None)
        new = sorted(ids - set(self.models))
        if not new:
            return
        if not self.models and not self.orphans:
            if initial is None:
                msg = "The server holds no model yet: pass the initial model as `initial`."
                raise ValueError(msg)
            seed = list(initial)
        else:
            seed = self.mean() if self.models else None
        for nid in new:
            self.models[nid] = self.orphans.pop(0) if self.orphans else list(seed if seed is not None else initial)
            self.num_examples[nid] = 1.0

    def mean(self) -> Model:
        """The (weighted) mean of the active models."""
        ids = self.node_ids
        if not ids:
            msg = "The server holds no active model."
            raise ValueError(msg)
        w = None
        if self.weighting == "num_examples":
            w = np.array([self.num_examples[i] for i in ids], dtype=np.float64)
        return stack_mean([self.models[i] for i in ids], w)

    def receive(self, server_round: int, replies: Mapping[Hashable, Model | tuple[Model, float]]) -> Action:
        """Store the trained models of ``server_round`` and then aggregate, hand on, or do nothing.

        ``replies`` maps a node id to its model, or to ``(model, num_examples)``. Active nodes missing from it
        keep the model they were sent (recorded in ``dropped``); replies from unknown nodes are ignored.
        """
        for nid, rep in replies.items():
            if nid not in self.models:
                continue
            if isinstance(rep, tuple):
                model, n = rep
                self.num_examples[nid] = float(n)
            else:
                model = rep
            self.models[nid] = list(model)
        missing = [nid for nid in self.node_ids if nid not in replies]
        if missing:
            self.dropped[server_round] = missing
        ids = self.node_ids
        act, perm = self.plan(server_round, len(ids))
        if act == "aggregate":
            avg = self.mean()
            for nid in ids:
                self.models[nid] = list(avg)
        elif act == "permute":
            old = [self.models[nid] for nid in ids]
            for i, model in enumerate(old):
                self.models[ids[perm[i]]] = model
        return act

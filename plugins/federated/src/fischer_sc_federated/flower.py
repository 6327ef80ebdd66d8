"""FedDC on Flower's Message API: :class:`FedDCStrategy`, a ClientApp, and a local simulation runner.

Flower ships no FedDC (Kamp, Fischer, Vreeken, ICLR 2023, arXiv 2110.03469). The strategy keeps one model per
node and sends every node *its own* model each round, so a hand-off is a change of which model a node is
sent; all scheduling, permutation and averaging is done by :class:`~fischer_sc_federated.server.DaisyChainServer`.
Needs the extra ``pip install 'fischer-sc-federated[flower]'`` (``flwr[simulation]`` >= 1.21).
"""

from __future__ import annotations

try:
    from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid
    from flwr.serverapp.strategy import Strategy
except ImportError as err:  # pragma: no cover - exercised by a test that hides flwr
    msg = (
        "The Flower path of fischer_sc_federated (FedDCStrategy, make_client_app, run_flower_simulation) needs "
        "Flower: install the extra with `pip install 'fischer-sc-federated[flower]'` (flwr[simulation] >= 1.21). "
        "The in-process simulator (feddc, fedavg) works without it."
    )
    raise ImportError(msg) from err

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from .dp import DPConfig, as_dp_config
from .engine import LocalTrainer, build_model
from .partition import ClientPartitions
from .server import DaisyChainServer

_log = logging.getLogger(__name__)
_ACTION_CODE = {"none": 0, "permute": 1, "aggregate": 2}


class FedDCStrategy(Strategy):
    """Federated daisy-chaining as a Flower strategy (message API, ``flwr.serverapp.strategy.Strategy``).

    Parameters
    ----------
    daisy_period, agg_period, weighting, derangement, random_state
        As in :class:`~fischer_sc_federated.server.DaisyChainServer`.
    lr, local_steps, batch_size, weight_decay, dp
        Local SGD settings sent to the clients with every train message (DP is applied client-side).
    eval_rounds
        Rounds after which every node evaluates its own model (``None``: every round).
    min_nodes
        Wait (up to ``wait_timeout`` seconds per round) until this many nodes are connected before a round.

    Notes
    -----
    Full participation: every connected node trains every round. A node that does not reply keeps the model
    it was sent; a node that leaves leaves its model to the next node that joins; joiners otherwise start
    from the current mean. The strategy returns the mean of the node models each round (for logging and
    centralised evaluation); the node models themselves stay in ``self.server.models``.
    """

    def __init__(
        self,
        daisy_period: int | None = 1,
        agg_period: int | None = 10,
        *,
        lr: float = 0.1,
        local_steps: int = 1,
        batch_size: int | None = None,
        weight_decay: float = 0.0,
        dp: DPConfig | dict | None = None,
        weighting: str = "uniform",
        derangement: bool = False,
        random_state: int = 0,
        eval_rounds: Iterable[int] | None = None,
        min_nodes: int = 2,
        wait_timeout: float = 120.0,
    ) -> None:
        if isinstance(min_nodes, bool) or not isinstance(min_nodes, int) or min_nodes < 1:
            msg = f"min_nodes must be a positive integer, got {min_nodes!r}."
            raise ValueError(msg)
        self.min_nodes, self.wait_timeout = min_nodes, float(wait_timeout)
        self.server = DaisyChainServer(
            daisy_period, agg_period, weighting=weighting, derangement=derangement, random_state=random_state
        )
        self.dp = as_dp_config(dp)
        self.train_settings: dict[str, Any] = {
            "lr": float(lr),
            "local-steps": int(local_steps),
            "batch-size": 0 if batch_size is None else int(batch_size),
            "weight-decay": float(weight_decay),
            "seed": int(random_state),
        }
        if self.dp is not None:
            self.train_settings.update(
                {"dp-clip": self.dp.clip, "dp-noise-multiplier": self.dp.noise_multiplier, "dp-mode": self.dp.mode}
            )
        self.eval_rounds = None if eval_rounds is None else set(eval_rounds)
        self.train_loss: dict[int, float] = {}

    def summary(self) -> None:
        """Log the configuration."""
        s = self.server
        _log.info(
            "FedDCStrategy: daisy_period=%s, agg_period=%s, weighting=%s", s.daisy_period, s.agg_period, s.weighting
        )

    def _messages(self, server_round: int, config: ConfigRecord, grid: Grid, kind: str) -> list[Message]:
        out = []
        for nid in self.server.node_ids:
            cfg = ConfigRecord({**dict(config), **self.train_settings, "server-round": server_round})
            content = RecordDict({"arrays": ArrayRecord(self.server.models[nid]), "config": cfg})
            out.append(Message(content=content, message_type=kind, dst_node_id=nid))
        return out

    def _wait_for_nodes(self, grid: Grid) -> list[int]:
        # SuperNodes may still be connecting when the first round starts (as the stock strategies do, wait).
        deadline = time.monotonic() + self.wait_timeout
        ids = sorted(grid.get_node_ids())
        while len(ids) < self.min_nodes and time.monotonic() < deadline:
            time.sleep(0.2)
            ids = sorted(grid.get_node_ids())
        if not ids:
            msg = f"FedDCStrategy: no node connected within {self.wait_timeout:.0f} s."
            raise RuntimeError(msg)
        if len(ids) < self.min_nodes:
            _log.warning("FedDCStrategy: %d of %d nodes connected; training with those", len(ids), self.min_nodes)
        return ids

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """One train message per connected node, each carrying that node's own model."""
        initial = arrays.to_numpy_ndarrays() if not self.server.models else None
        self.server.sync_nodes(self._wait_for_nodes(grid), initial=initial)
        return self._messages(server_round, config, grid, MessageType.TRAIN)

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Store the returned models by source node, then average, hand on, or keep; return the mean."""
        got: dict[int, tuple[list[np.ndarray], float]] = {}
        losses, counts = [], []
        for msg in replies:
            if msg.has_error():
                continue
            metrics = msg.content["metrics"]
            n = float(metrics["num-examples"])
            got[msg.metadata.src_node_id] = (msg.content["arrays"].to_numpy_ndarrays(), n)
            losses.append(float(metrics["train-loss"]))
            counts.append(n)
        act = self.server.receive(server_round, got)
        dropped = self.server.dropped.get(server_round, [])
        if dropped:
            _log.warning(
                "FedDCStrategy round %d: %d node(s) did not reply and keep their model", server_round, len(dropped)
            )
        loss = float(np.mean(losses)) if losses else float("nan")
        self.train_loss[server_round] = loss
        metrics = MetricRecord(
            {"train-loss": loss, "replies": len(got), "dropped": len(dropped), "action": _ACTION_CODE[act]}
        )
        return ArrayRecord(self.server.mean()), metrics

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Every node evaluates its own model (the reference's client-mean accuracy) on evaluation rounds."""
        if self.eval_rounds is not None and server_round not in self.eval_rounds:
            return []
        return self._messages(server_round, config, grid, MessageType.EVALUATE)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        """Unweighted mean, min and max of the nodes' accuracies."""
        acc = [float(m.content["metrics"]["accuracy"]) for m in replies if not m.has_error()]
        if not acc:
            return None
        return MetricRecord(
            {"acc-client-mean": float(np.mean(acc)), "acc-client-min": min(acc), "acc-client-max": max(acc)}
        )


def _local_trainer(model: nn.Module, X: np.ndarray, y: np.ndarray, cfg: Any, gen: torch.Generator) -> LocalTrainer:
    dp = None
    if "dp-clip" in cfg:
        dp = DPConfig(float(cfg["dp-clip"]), float(cfg["dp-noise-multiplier"]), str(cfg["dp-mode"]))
    b = int(cfg["batch-size"])
    return LocalTrainer(
        model,
        torch.tensor(np.asarray(X[None], dtype=np.float32)),
        torch.tensor(np.asarray(y[None], dtype=np.int64)),
        torch.as_tensor([len(y)]),
        lr=float(cfg["lr"]),
        local_steps=int(cfg["local-steps"]),
        batch_size=None if b == 0 else b,
        weight_decay=float(cfg["weight-decay"]),
        dp=dp,
        generator=gen,
    )


def make_client_app(
    model_fn: Callable[[], nn.Module],
    parts: ClientPartitions,
    *,
    eval_data: tuple[np.ndarray, np.ndarray] | None = None,
) -> ClientApp:
    """A Flower ClientApp that trains and evaluates on partition ``context.node_config["partition-id"]``.

    Training: the local SGD steps the train message's config asks for, on the node's own samples, with the
    round's update privatised on the client when the config carries DP settings. Evaluation: accuracy of the
    node's current model on ``eval_data`` (a shared test set, as in the reference) or on its own samples.
    """
    app = ClientApp()
    # Built once: its own parameter values are never used (training and evaluation are functional calls).
    model = build_model(model_fn, 0)
    names = [k for k, _ in model.named_parameters()]

    def _setup(msg: Message, context: Context) -> tuple[nn.Module, dict, int, Any]:
        pid = int(context.node_config["partition-id"])
        arrays = msg.content["arrays"].to_numpy_ndarrays()
        W = {k: torch.from_numpy(np.array(a))[None] for k, a in zip(names, arrays, strict=True)}
        return model, W, pid, msg.content["config"]

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        model, W, pid, cfg = _setup(msg, context)
        X, y = parts[pid]
        rnd = int(cfg["server-round"])
        gen = torch.Generator().manual_seed(
            int(np.random.SeedSequence([int(cfg["seed"]), pid, rnd]).generate_state(1)[0])
        )
        with torch.no_grad():
            trainer = _local_trainer(model, X, y, cfg, gen)
            W = trainer.train(W, rnd)
            loss = float(trainer.local_loss(W)[0])
        arrays = ArrayRecord([v[0].numpy() for v in W.values()])
        metrics = MetricRecord({"num-examples": len(y), "train-loss": loss})
        return Message(content=RecordDict({"arrays": arrays, "metrics": metrics}), reply_to=msg)

    @app.evaluate()
    def evaluate(msg: Message, context: Context) -> Message:
        model, W, pid, _ = _setup(msg, context)
        X, y = eval_data if eval_data is not None else parts[pid]
        with torch.no_grad():
            Xe = torch.as_tensor(np.asarray(X), dtype=torch.float32)
            pred = torch.func.functional_call(model, {k: v[0] for k, v in W.items()}, (Xe,)).argmax(-1).numpy()
        metrics = MetricRecord({"accuracy": float(np.mean(pred == np.asarray(y))), "num-examples": len(y)})
        return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)

    return app

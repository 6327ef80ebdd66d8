"""Run FedDC as a real Flower federation on Flower's local simulation engine (Ray, one process per worker)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .engine import build_model
from .flower import ArrayRecord, Context, FedDCStrategy, Grid, MetricRecord, make_client_app
from .partition import ClientPartitions
from .sim import FederatedResult, _check_options, _eval_tensors, as_partitions


def make_server_app(
    model_fn: Callable[[], nn.Module],
    strategy: FedDCStrategy,
    *,
    rounds: int,
    eval_data: tuple[np.ndarray, np.ndarray] | None = None,
    eval_rounds: Sequence[int] = (),
    random_state: int = 0,
    out: dict[str, Any] | None = None,
) -> Any:
    """A Flower ServerApp that starts ``strategy`` from ``model_fn``'s initialisation under ``random_state``.

    The averaged model is scored on ``eval_data`` after the rounds in ``eval_rounds``; the Flower ``Result``
    lands in ``out["result"]`` when ``out`` is given.
    """
    from flwr.serverapp import ServerApp

    app = ServerApp()
    evalset = set(eval_rounds)

    def central_eval(server_round: int, arrays: ArrayRecord) -> MetricRecord | None:
        if eval_data is None or server_round not in evalset:
            return None
        model = build_model(model_fn, random_state)
        params = [torch.from_numpy(np.array(a)) for a in arrays.to_numpy_ndarrays()]
        with torch.no_grad():
            for p, v in zip(model.parameters(), params, strict=True):
                p.copy_(v)
            pred = model(torch.as_tensor(np.asarray(eval_data[0]), dtype=torch.float32)).argmax(-1).numpy()
        return MetricRecord({"acc-avg-model": float(np.mean(pred == np.asarray(eval_data[1])))})

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        model = build_model(model_fn, random_state)
        initial = ArrayRecord([p.detach().numpy().copy() for p in model.parameters()])
        result = strategy.start(grid=grid, initial_arrays=initial, num_rounds=rounds, evaluate_fn=central_eval)
        if out is not None:
            out["result"] = result

    return app


def run_flower_simulation(
    model_fn: Callable[[], nn.Module],
    parts: ClientPartitions | Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rounds: int,
    daisy_period: int | None = 1,
    agg_period: int | None = 10,
    lr: float = 0.1,
    local_steps: int = 1,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    dp: Any = None,
    weighting: str = "uniform",
    derangement: bool = False,
    eval_data: tuple[np.ndarray, np.ndarray] | None = None,
    eval_every: int | None = None,
    random_state: int = 0,
    backend_config: dict[str, Any] | None = None,
) -> FederatedResult:
    """FedDC (arXiv 2110.03469) on a real Flower federation: one SuperNode per client on the local simulation engine.

    Takes the options of :func:`~fischer_sc_federated.sim.feddc` (``daisy_period=None`` gives FedAvg) and returns
    the same kind of result. The permutations differ from the in-process run (Flower's node ids, not the
    client order, are permuted) and so do the minibatch streams, so results agree in distribution, not bit for bit.

    Parameters
    ----------
    backend_config
        Flower's backend configuration (default: one CPU per client, Ray limited to 2 CPUs).

    Returns
    -------
    :class:`~fischer_sc_federated.sim.FederatedResult`; ``history`` has ``round``, ``action``, ``acc_avg_model``
    (the mean model, scored on the server), ``acc_client_mean/min/max`` (every node scores the model it holds)
    and ``loss_client_mean``.
    """
    from flwr.simulation import run_simulation

    parts = as_partitions(parts)
    _check_options(rounds, lr, local_steps, batch_size, weight_decay)
    if callable(lr):
        msg = "run_flower_simulation takes a constant lr (the config sent to the clients is a number)."
        raise TypeError(msg)
    _eval_tensors(eval_data, parts.n_features, torch.device("cpu"))
    every = eval_every or agg_period or max(1, rounds // 10)
    every = max(int(every), math.ceil(rounds / 100))
    eval_rounds = [t for t in range(1, rounds + 1) if t % every == 0 or t == rounds]
    strategy = FedDCStrategy(
        daisy_period,
        agg_period,
        lr=lr,
        local_steps=local_steps,
        batch_size=batch_size,
        weight_decay=weight_decay,
        dp=dp,
        weighting=weighting,
        derangement=derangement,
        random_state=random_state,
        eval_rounds=eval_rounds,
        min_nodes=len(parts),  # full participation: start when every SuperNode is up
    )
    out: dict[str, Any] = {}
    server_app = make_server_app(
        model_fn,
        strategy,
        rounds=rounds,
        eval_data=eval_data,
        eval_rounds=eval_rounds,
        random_state=random_state,
        out=out,
    )
    client_app = make_client_app(model_fn, parts, eval_data=eval_data)
    if backend_config is None:
        backend_config = {"client_resources": {"num_cpus": 1, "num_gpus": 0.0}, "init_args": {"num_cpus": 2}}
    run_simulation(
        server_app=server_app, client_app=client_app, num_supernodes=len(parts), backend_config=backend_config
    )
    if "result" not in out:
        msg = "The Flower run ended without a result; see Flower's log above for the failing ServerApp or ClientApp."
        raise RuntimeError(msg)
    res = out["result"]
    actions = dict(strategy.server.log)
    rows = []
    for t in eval_rounds:
        central = res.evaluate_metrics_serverapp.get(t, {})
        client = res.evaluate_metrics_clientapp.get(t, {})
        rows.append(
            {
                "round": t,
                "action": actions.get(t, "none"),
                "acc_avg_model": float(central.get("acc-avg-model", np.nan)),
                "acc_client_mean": float(client.get("acc-client-mean", np.nan)),
                "acc_client_min": float(client.get("acc-client-min", np.nan)),
                "acc_client_max": float(client.get("acc-client-max", np.nan)),
                "loss_client_mean": strategy.train_loss.get(t, np.nan),
            }
        )
    model = build_model(model_fn, random_state)
    with torch.no_grad():
        for p, a in zip(model.parameters(), strategy.server.mean(), strict=True):
            p.copy_(torch.from_numpy(np.array(a)))
    model.eval()
    names = [k for k, _ in model.named_parameters()]
    per_node = [strategy.server.models[n] for n in strategy.server.node_ids]
    client_params = {k: torch.as_tensor(np.stack([m[i] for m in per_node])) for i, k in enumerate(names)}
    params = {
        "rounds": rounds,
        "daisy_period": daisy_period,
        "agg_period": agg_period,
        "lr": lr,
        "local_steps": local_steps,
        "batch_size": batch_size,
        "weight_decay": weight_decay,
        "weighting": weighting,
        "random_state": random_state,
        "n_clients": len(parts),
        "backend": "flower",
        "dropped_rounds": {int(k): len(v) for k, v in strategy.server.dropped.items()},
    }
    return FederatedResult(model, pd.DataFrame(rows), client_params, params)

"""In-process FedDC and FedAvg: m model copies trained at once, driven by :class:`~fischer_sc_federated.server.DaisyChainServer`.

FedDC is Kamp, Fischer, Vreeken, "Federated Learning from Small Datasets", ICLR 2023, arXiv 2110.03469
(not Gao et al.'s FedDC, arXiv 2203.11751).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from .dp import DPConfig, as_dp_config
from .engine import LocalTrainer, Params, build_model, stack_copies, torch_threads
from .partition import ClientPartitions, from_index_lists
from .server import DaisyChainServer, check_period


@dataclass
class FederatedResult:
    """The outcome of a federated run.

    Attributes
    ----------
    model
        The averaged model (a ``torch.nn.Module`` built by ``model_fn``), in eval mode.
    history
        One row per evaluated round: ``round``, ``action``, ``acc_avg_model`` (accuracy of the averaged model),
        ``acc_client_mean`` / ``acc_client_min`` / ``acc_client_max`` (every client's current model on the
        evaluation data) and ``loss_client_mean`` (mean local training loss); accuracies are NaN without
        ``eval_data``.
    client_params
        The final per-client parameters, stacked as ``(m, ...)`` tensors.
    params
        The settings of the run.
    """

    model: nn.Module
    history: pd.DataFrame
    client_params: dict[str, torch.Tensor] = field(repr=False)
    params: dict[str, Any]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class codes predicted by the averaged model."""
        with torch.no_grad():
            p = next(self.model.parameters())
            return self.model(torch.as_tensor(np.asarray(X), dtype=p.dtype, device=p.device)).argmax(-1).cpu().numpy()


def as_partitions(parts: ClientPartitions | Sequence[tuple[np.ndarray, np.ndarray]]) -> ClientPartitions:
    """Accept :class:`~fischer_sc_federated.partition.ClientPartitions` or a sequence of ``(X_i, y_i)`` pairs."""
    if isinstance(parts, ClientPartitions):
        return parts
    if not isinstance(parts, Sequence) or not all(isinstance(p, tuple) and len(p) == 2 for p in parts):
        msg = "parts must be the output of split_clients or a sequence of (X_i, y_i) pairs."
        raise TypeError(msg)
    sizes = [len(np.asarray(p[1])) for p in parts]
    X = np.concatenate([np.asarray(p[0]) for p in parts])
    y = np.concatenate([np.asarray(p[1]) for p in parts])
    bounds = np.cumsum([0, *sizes])
    return from_index_lists(X, y, [np.arange(bounds[i], bounds[i + 1]) for i in range(len(parts))])


def _check_options(rounds: int, lr: Any, local_steps: int, batch_size: int | None, weight_decay: float) -> None:
    if isinstance(rounds, bool) or not isinstance(rounds, int | np.integer) or rounds < 1:
        msg = f"rounds must be a positive integer, got {rounds!r}."
        raise ValueError(msg)
    if not callable(lr) and not (isinstance(lr, int | float) and math.isfinite(lr) and lr >= 0):
        msg = f"lr must be a finite number >= 0 or a callable lr(round), got {lr!r}."
        raise ValueError(msg)
    if isinstance(local_steps, bool) or not isinstance(local_steps, int | np.integer) or local_steps < 1:
        msg = f"local_steps must be a positive integer, got {local_steps!r}."
        raise ValueError(msg)
    if batch_size is not None and (not isinstance(batch_size, int | np.integer) or batch_size < 1):
        msg = f"batch_size must be a positive integer or None (full batch), got {batch_size!r}."
        raise ValueError(msg)
    if not (math.isfinite(weight_decay) and weight_decay >= 0):
        msg = f"weight_decay must be a finite number >= 0, got {weight_decay!r}."
        raise ValueError(msg)


def _eval_tensors(eval_data: Any, d: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor] | None:
    if eval_data is None:
        return None
    if not isinstance(eval_data, tuple) or len(eval_data) != 2:
        msg = "eval_data must be a tuple (X_test, y_test)."
        raise TypeError(msg)
    Xe, ye = np.asarray(eval_data[0]), np.asarray(eval_data[1])
    if Xe.ndim != 2 or Xe.shape[1] != d or ye.shape != (Xe.shape[0],):
        msg = f"eval_data must be (X_test with {d} columns, y_test with one label per row), got shapes {Xe.shape}, {ye.shape}."
        raise ValueError(msg)
    if not np.all(np.isfinite(Xe)):
        msg = "eval_data X_test contains NaN or inf."
        raise ValueError(msg)
    return torch.as_tensor(Xe, dtype=torch.float32, device=device), torch.as_tensor(
        ye, dtype=torch.int64, device=device
    )


def feddc(
    model_fn: Callable[[], nn.Module],
    parts: ClientPartitions | Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rounds: int,
    daisy_period: int | None = 1,
    agg_period: int | None = 10,
    lr: float | Callable[[int], float] = 0.1,
    local_steps: int = 1,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    dp: DPConfig | dict | None = None,
    weighting: Literal["uniform", "num_examples"] = "uniform",
    derangement: bool = False,
    eval_data: tuple[np.ndarray, np.ndarray] | None = None,
    eval_every: int | None = None,
    random_state: int = 0,
    device: str | None = None,
    n_jobs: int | None = 1,
) -> FederatedResult:
    """Federated daisy-chaining (FedDC; Kamp, Fischer, Vreeken, ICLR 2023, arXiv 2110.03469), simulated in-process.

    Every round each client takes ``local_steps`` SGD steps on its own samples; then the server averages all
    models (every ``agg_period`` rounds) or hands each model on to a random client (every ``daisy_period``
    rounds). All m models are trained at once as stacked tensors (``torch.func.vmap``).

    Parameters
    ----------
    model_fn
        Builds the model (a buffer-free ``torch.nn.Module`` returning logits); called once under
        ``random_state``, and every client starts from that same initialisation.
    parts
        The clients' data: :func:`~fischer_sc_federated.partition.split_clients` output or a sequence of ``(X_i, y_i)`` pairs.
    rounds
        Number of rounds ``T``; make it a multiple of ``agg_period`` so the run ends on an average.
    daisy_period, agg_period
        Hand-off and averaging periods (positive int, or ``None`` for never). The paper recommends 1 and 10.
    lr, local_steps, batch_size, weight_decay
        Local SGD: learning rate (or a callable ``lr(round)``), steps per round, minibatch size (``None``:
        full batch, as in the digits set-up), L2 coefficient.
    dp
        Optional client-side Gaussian mechanism (:class:`~fischer_sc_federated.dp.DPConfig` or a dict): each
        round's update is clipped to ``clip`` and noised with std ``noise_multiplier * clip``. Daisy-chaining
        without DP is not private against the receiving clients.
    weighting
        ``"uniform"`` mean (the reference) or weighting by ``"num_examples"``.
    derangement
        Forbid a model from returning to its own client on a hand-off.
    eval_data
        ``(X_test, y_test)`` scored during training.
    eval_every
        Evaluate every this many rounds (default: ``agg_period``, at most 100 evaluations) and at the end.
    random_state
        Seed of the initialisation, the permutations, the minibatches and the DP noise.
    device
        Torch device (default ``"cpu"``).
    n_jobs
        Torch threads during the run (restored afterwards); ``None`` keeps torch's setting. One thread is
        fastest for the small stacked operations of tabular federations.

    Returns
    -------
    :class:`FederatedResult` with ``.model`` (the averaged model), ``.history`` and the per-client parameters.
    """
    options = dict(locals())
    with torch_threads(n_jobs):
        return _simulate(**options)


def fedavg(
    model_fn: Callable[[], nn.Module],
    parts: ClientPartitions | Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rounds: int,
    agg_period: int | None = 1,
    **kwargs: Any,
) -> FederatedResult:
    """FedAvg (McMahan et al., arXiv 1602.05629) in the same engine: :func:`~fischer_sc_federated.sim.feddc` with ``daisy_period=None``.

    Takes every keyword of :func:`~fischer_sc_federated.sim.feddc` except ``daisy_period``.
    """
    if "daisy_period" in kwargs:
        msg = "fedavg does not daisy-chain; call feddc(..., daisy_period=...) instead."
        raise TypeError(msg)
    return feddc(model_fn, parts, rounds=rounds, daisy_period=None, agg_period=agg_period, **kwargs)


def _simulate(**o: Any) -> FederatedResult:
    parts = as_partitions(o["parts"])
    _check_options(o["rounds"], o["lr"], o["local_steps"], o["batch_size"], o["weight_decay"])
    daisy, agg = check_period(o["daisy_period"], "daisy_period"), check_period(o["agg_period"], "agg_period")
    dp = as_dp_config(o["dp"])
    rounds, seed = int(o["rounds"]), int(o["random_state"])
    device = torch.device(o["device"] or "cpu")
    server = DaisyChainServer(daisy, agg, weighting=o["weighting"], derangement=o["derangement"], random_state=seed)
    trainer, W = make_trainer(o["model_fn"], parts, o, dp, device)
    ev = _eval_tensors(o["eval_data"], parts.n_features, device)
    if o["eval_every"] is not None and (not isinstance(o["eval_every"], int | np.integer) or o["eval_every"] < 1):
        msg = f"eval_every must be a positive integer or None, got {o['eval_every']!r}."
        raise ValueError(msg)
    every = o["eval_every"] or agg or max(1, rounds // 10)
    every = max(int(every), math.ceil(rounds / 100))
    w = None
    if o["weighting"] == "num_examples":
        w = torch.as_tensor(parts.sizes / parts.sizes.sum(), dtype=torch.float32, device=device)
    m = len(parts)
    rows = []
    for t in range(1, rounds + 1):
        W = trainer.train(W, t)
        act, perm = server.plan(t, m)
        if act == "aggregate":
            W = {k: v.unsqueeze(0).expand_as(W[k]).clone() for k, v in _mean(W, w).items()}
        elif act == "permute":
            # Node i's model goes to node perm[i]: new[perm[i]] = old[i], i.e. new = old[argsort(perm)].
            inv = torch.as_tensor(np.argsort(perm), device=device)
            W = {k: v[inv] for k, v in W.items()}
        if t % every == 0 or t == rounds:
            rows.append(_evaluate(trainer, W, w, ev, t, act))
    model = trainer.model
    with torch.no_grad():
        for k, v in _mean(W, w).items():
            model.get_parameter(k).copy_(v)
    model.eval()
    params = {
        k: o[k]
        for k in ("rounds", "daisy_period", "agg_period", "local_steps", "batch_size", "weight_decay", "weighting")
    }
    params.update(
        lr=o["lr"] if not callable(o["lr"]) else "callable",
        random_state=seed,
        n_clients=m,
        dp=None if dp is None else {"clip": dp.clip, "noise_multiplier": dp.noise_multiplier, "mode": dp.mode},
    )
    return FederatedResult(model, pd.DataFrame(rows), W, params)


def make_trainer(
    model_fn: Callable[[], nn.Module], parts: ClientPartitions, o: dict, dp: DPConfig | None, device: torch.device
) -> tuple[LocalTrainer, Params]:
    """The simulator's trainer and the stacked initial models (exposed so a hand-driven loop can reuse them)."""
    seed = int(o["random_state"])
    model = build_model(model_fn, seed).to(device)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed + 1)
    trainer = LocalTrainer(
        model,
        torch.as_tensor(parts.X, device=device),
        torch.as_tensor(parts.y, device=device),
        torch.as_tensor(parts.sizes, device=device),
        lr=o["lr"],
        local_steps=int(o["local_steps"]),
        batch_size=o["batch_size"],
        weight_decay=float(o["weight_decay"]),
        dp=dp,
        generator=gen,
    )
    W = stack_copies({k: v.to(torch.float32) for k, v in model.named_parameters()}, len(parts))
    return trainer, W


def _mean(W: Params, w: torch.Tensor | None) -> Params:
    # Same arithmetic as DaisyChainServer.mean on a list of per-node tensors (stack, then mean over dim 0).
    if w is None:
        return {k: v.mean(0) for k, v in W.items()}
    return {k: (v * w.reshape((-1,) + (1,) * (v.ndim - 1))).sum(0) for k, v in W.items()}


def _evaluate(trainer: LocalTrainer, W: Params, w: torch.Tensor | None, ev: Any, t: int, act: str) -> dict[str, Any]:
    row: dict[str, Any] = {"round": t, "action": act}
    loss = trainer.local_loss(W)
    if ev is None:
        acc_avg = acc_c = np.full(1, np.nan)
    else:
        Xe, ye = ev
        acc_c = (trainer.predict(W, Xe) == ye[None, :]).float().mean(1).cpu().numpy()
        mean = {k: v.unsqueeze(0) for k, v in _mean(W, w).items()}
        acc_avg = (trainer.predict(mean, Xe) == ye[None, :]).float().mean(1).cpu().numpy()
    row.update(
        acc_avg_model=float(acc_avg[0]),
        acc_client_mean=float(acc_c.mean()),
        acc_client_min=float(acc_c.min()),
        acc_client_max=float(acc_c.max()),
        loss_client_mean=float(loss.mean()),
    )
    return row

"""Training a :class:`~fischer_sc.core.ode.Phoenix` model on pairs of consecutive observations, with iterative pruning.

Each training pair is ``(x_start, x_end, dt)``: the model integrates ``x_start`` over ``dt`` and is
scored by the MSE to ``x_end``. After each pruning event the learning rate goes back to its start
value and the plateau scheduler restarts (DASH: no weight rewinding). Early stopping watches the
validation MSE only once pruning is complete, so every pruned run ends at its target sparsity.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ._phoenix import Phoenix
from ._prune import PhoenixPruner, PruningSchedule
from ._solvers import integrate_intervals


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Settings of :func:`~fischer_sc.core.ode.fit_phoenix` (DASH's simulation settings by default).

    The rates ``upsilon`` are projected to ``>= min_rate`` after every step: with PHOENIX's
    ``ReLU(upsilon)`` alone, a rate pushed below 0 gets no gradient again, its gene is frozen and
    its output weights (scored by ``|A| ReLU(upsilon)``) are pruned first.

    ``pruning`` is ``"dash"``, ``"magnitude"``, ``"prior"`` or ``"none"``; ``prior_loss_weight`` is
    ``1 - lambda`` of PHOENIX's prior loss ``mean_u ||f(u) - u P||^2`` over ``u ~ U(-1/2, 1/2)^G``.

    ``batch_size=None`` uses batches of ``ceil(n_train / steps_per_epoch)`` pairs, so an epoch is
    about the same number of optimiser steps whatever the data size and the schedule (in epochs) means
    the same amount of training: with a fixed batch size, 60 trajectories got 2 steps per epoch
    where 150 got 5, and the magnitudes had not learned the data's edges when pruning began.
    """

    hidden_dim: int = 40
    n_epochs: int = 200
    learning_rate: float = 1e-3
    rate_lr_factor: float = 5.0
    batch_size: int | None = None
    steps_per_epoch: int = 20
    solver: str = "rk4"
    n_substeps: int = 4
    val_fraction: float = 0.066
    patience: int = 40
    prior_loss_weight: float = 0.0
    n_prior_samples: int = 256
    pruning: str = "dash"
    lambda_ppi: float = 0.05
    lambda_motif: float = 0.01
    normalize_scores: bool = True
    adapt_prior: bool = False
    schedule: PruningSchedule = field(default_factory=PruningSchedule)
    min_lr: float = 4e-5
    lr_factor: float = 0.9
    lr_patience: int = 3
    min_rate: float = 1e-3


@dataclass(slots=True)
class FitResult:
    """What :func:`~fischer_sc.core.ode.fit_phoenix` returns: the trained model (best validation state after pruning) and its history."""

    model: Phoenix
    history: dict[str, list]
    best_epoch: int
    n_train: int
    n_val: int
    batch_size: int


def _optimizer(model: Phoenix, cfg: TrainConfig) -> torch.optim.Adam:
    rates = [model.upsilon]
    rest = [p for n, p in model.named_parameters() if n != "upsilon"]
    return torch.optim.Adam(
        [
            {"params": rest, "lr": cfg.learning_rate},
            {"params": rates, "lr": cfg.learning_rate * cfg.rate_lr_factor},
        ]
    )


def _plateau(opt: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.ReduceLROnPlateau:
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt,
        factor=cfg.lr_factor,
        patience=cfg.lr_patience,
        min_lr=[cfg.min_lr, cfg.min_lr * cfg.rate_lr_factor],
    )


def _mse(model: Phoenix, x0: torch.Tensor, x1: torch.Tensor, dt: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    pred = integrate_intervals(model, x0, dt, method=cfg.solver, n_substeps=cfg.n_substeps)
    return torch.mean((pred - x1) ** 2)


def fit_phoenix(
    x0: np.ndarray,
    x1: np.ndarray,
    dt: np.ndarray,
    *,
    config: TrainConfig | None = None,
    motif: np.ndarray | None = None,
    ppi: np.ndarray | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = False,
    n_threads: int | None = 1,
) -> FitResult:
    """Fit PHOENIX to transitions ``x0 -> x1`` over times ``dt``, pruning as ``config`` says.

    Parameters
    ----------
    x0, x1
        Start and end states of the pairs, ``(n_pairs, n_genes)``, scaled to about [0, 1].
    dt
        Time between start and end, ``(n_pairs,)``, positive.
    config
        Training and pruning settings.
    motif
        Signed G x G prior (row = regulator, column = target) for ``"dash"``/``"prior"`` pruning
        and the prior loss.
    ppi
        G x G gene-gene prior; ``None``: ``|P| |P|^T`` normalised.
    seed
        Seed of the initialisation, the split, the batches and the initial scores.
    device
        Torch device.
    progress
        Show a progress bar over the epochs.
    n_threads
        Torch threads while training (restored afterwards); ``None`` leaves torch's setting alone.
        One by default: the tensors are small, and on a busy machine more threads slow a step
        down many times over.

    Returns
    -------
    The model (on the CPU) and the history: per epoch ``epoch``, ``train_mse``, ``val_mse``,
    ``sparsity``, ``lr`` and ``pruned`` (whether an event happened after it).
    """
    cfg = config or TrainConfig()
    before = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(int(n_threads))
    try:
        return _fit(x0, x1, dt, cfg, motif, ppi, seed, device, progress)
    finally:
        torch.set_num_threads(before)


def _fit(x0, x1, dt, cfg: TrainConfig, motif, ppi, seed: int, device: str, progress: bool) -> FitResult:
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(int(seed))
    n_pairs, n_genes = x0.shape
    model = Phoenix(n_genes, cfg.hidden_dim, generator=gen)
    motif_t = None if motif is None else torch.as_tensor(motif, dtype=torch.float64)
    ppi_t = None if ppi is None else torch.as_tensor(ppi, dtype=torch.float64)
    pruner = None
    if cfg.pruning != "none":
        pruner = PhoenixPruner(
            model,
            cfg.pruning,
            motif=motif_t,
            ppi=ppi_t,
            lambda_ppi=cfg.lambda_ppi,
            lambda_motif=cfg.lambda_motif,
            normalize=cfg.normalize_scores,
            generator=gen,
            adapt_prior=cfg.adapt_prior,
        )
    events = dict(zip(cfg.schedule.epochs(), cfg.schedule.densities(), strict=True)) if pruner else {}
    last_event = max(events, default=0)

    perm = torch.randperm(n_pairs, generator=gen)
    n_val = int(round(cfg.val_fraction * n_pairs)) if n_pairs > 1 else 0
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    dev = torch.device(device)
    model.to(dev)
    tensors = [torch.as_tensor(a, dtype=torch.float32, device=dev) for a in (x0, x1, dt)]
    train = [t[train_idx.to(dev)] for t in tensors]
    val = [t[val_idx.to(dev)] for t in tensors] if n_val else train
    prior_dev = None if motif_t is None else motif_t.to(dev, torch.float32)

    batch_size = _batch_size(cfg, int(train_idx.numel()))
    opt = _optimizer(model, cfg)
    plateau = _plateau(opt, cfg)
    history: dict[str, list] = {k: [] for k in ("epoch", "train_mse", "val_mse", "sparsity", "lr", "pruned")}
    best, best_state, best_epoch, waited = np.inf, None, 0, 0
    bar = tqdm(range(1, cfg.n_epochs + 1), desc="dash_grn", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(train[0].shape[0], generator=gen).to(dev)
        total, count = 0.0, 0
        for start in range(0, order.numel(), batch_size):
            idx = order[start : start + batch_size]
            loss = _mse(model, train[0][idx], train[1][idx], train[2][idx], cfg)
            mse = float(loss.detach())
            if cfg.prior_loss_weight > 0 and prior_dev is not None:
                u = torch.rand(cfg.n_prior_samples, n_genes, generator=gen).to(dev) - 0.5
                prior_loss = torch.mean(torch.sum((model.branches(u) - u @ prior_dev) ** 2, dim=1))
                loss = (1.0 - cfg.prior_loss_weight) * loss + cfg.prior_loss_weight * prior_loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():  # a rate that reaches 0 stays trainable (ReLU alone would freeze its gene for good)
                model.upsilon.clamp_(min=cfg.min_rate)
            total, count = total + mse * idx.numel(), count + idx.numel()
        model.eval()
        with torch.no_grad():
            val_mse = float(_mse(model, *val, cfg))
        plateau.step(val_mse)
        history["epoch"].append(epoch)
        history["train_mse"].append(total / max(count, 1))
        history["val_mse"].append(val_mse)
        history["lr"].append(float(opt.param_groups[0]["lr"]))
        pruned = epoch in events
        if pruned:
            pruner.prune(events[epoch])  # type: ignore[union-attr]
            for group, lr in zip(
                opt.param_groups, (cfg.learning_rate, cfg.learning_rate * cfg.rate_lr_factor), strict=True
            ):
                group["lr"] = lr
            plateau = _plateau(opt, cfg)
        history["sparsity"].append(model.sparsity())
        history["pruned"].append(pruned)
        bar.set_postfix(val_mse=f"{val_mse:.4g}", sparsity=f"{model.sparsity():.3f}")
        if epoch < last_event or pruned:
            continue  # early stopping and the best state only count once pruning is complete
        if val_mse < best:
            best, best_state, best_epoch, waited = val_mse, copy.deepcopy(model.state_dict()), epoch, 0
        else:
            waited += 1
            if waited >= cfg.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.to("cpu")
    return FitResult(
        model=model,
        history=history,
        best_epoch=best_epoch,
        n_train=int(train_idx.numel()),
        n_val=n_val,
        batch_size=batch_size,
    )


def _batch_size(config: TrainConfig, n_train: int) -> int:
    """The batch size a fit uses: ``config.batch_size``, or ``ceil(n_train / config.steps_per_epoch)`` if that is ``None``.

    Parameters
    ----------
    config
        Training settings.
    n_train
        Number of training pairs.

    Returns
    -------
    A batch size >= 1.
    """
    if config.batch_size is not None:
        return max(1, int(config.batch_size))
    if config.steps_per_epoch < 1:
        msg = f"steps_per_epoch must be >= 1, got {config.steps_per_epoch}."
        raise ValueError(msg)
    return max(1, math.ceil(n_train / config.steps_per_epoch))

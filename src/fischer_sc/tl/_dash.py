from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from fischer_sc._utils import (
    check_adata,
    check_bool,
    check_choice,
    check_finite,
    check_int,
    check_number,
    check_save_path,
    clean_params,
    obs_codes,
    progress_enabled,
    read_matrix,
    resolve_device,
    resolve_keys,
    resolve_random_state,
)

if TYPE_CHECKING:
    from os import PathLike

    from anndata import AnnData

_NAME = "dash_grn"
#: Largest |value| accepted with ``scale=False`` (the float32 training overflowed from about 1e9 in a test).
MAX_UNSCALED = 1e6
Network = str | pd.DataFrame | np.ndarray | None


def dash_grn(
    adata: AnnData,
    prior: Network = None,
    *,
    time_key: str = "time",
    trajectory_key: str | None = None,
    n_time_bins: int | None = None,
    layer: str | None = None,
    ppi: Network = None,
    pruning: Literal["dash", "magnitude", "prior", "none"] = "dash",
    hidden_dim: int = 40,
    n_epochs: int = 70,
    batch_size: int | None = None,
    steps_per_epoch: int = 20,
    learning_rate: float = 5e-3,
    lambda_ppi: float = 0.5,
    lambda_motif: float = 0.5,
    normalize_scores: bool = True,
    adapt_prior: bool = False,
    prune_start: int = 25,
    prune_first: float = 0.3,
    prune_step: float = 0.2,
    prune_every: int = 3,
    target_sparsity: float = 0.8,
    prior_loss_weight: float = 0.001,
    solver: Literal["rk4", "euler", "dopri5"] = "rk4",
    n_substeps: int = 4,
    val_fraction: float = 0.066,
    patience: int = 40,
    scale: bool = True,
    save_model: str | PathLike[str] | None = None,
    random_state: int | np.random.Generator | None = 0,
    device: str | None = None,
    progress: bool = True,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Dynamic gene regulatory network: a PHOENIX neural ODE pruned with DASH :cite:p:`dash,phoenix`.

    PHOENIX models ``dx/dt = ReLU(upsilon) * (f(x) - x)`` with additive and multiplicative (Hill-like)
    branches; consecutive time points of each trajectory are the training pairs (fixed-step RK4 by
    default). DASH prunes the four weight layers iteratively by a score that mixes weight magnitude
    with the layer that would reproduce the prior network (least squares).

    Parameters
    ----------
    adata
        Annotated data matrix with a numeric time (or pseudotime) column.
    prior
        Signed prior network, row = regulator, column = target: a ``varp`` key, a decoupler-style
        DataFrame (``source``, ``target``, optional ``weight``) or a genes x genes array. Genes
        missing from ``var_names`` raise a ``KeyError`` naming them. ``None`` with ``pruning="dash"``
        or ``"prior"`` falls back to magnitude pruning with a warning.
    time_key
        Numeric ``obs`` column with the time or pseudotime.
    trajectory_key
        ``obs`` column grouping observations into trajectories; ``None`` means one trajectory.
    n_time_bins
        Average the cells of each trajectory in this many quantile bins of time (for single-cell
        pseudotime); ``None``: average only observations at the same time.
    layer
        Layer to read instead of ``.X``.
    ppi
        Gene-gene (protein-protein interaction) prior for the first layers, in the forms of
        ``prior``; ``None``: ``|P| |P|^T`` normalised (regulators sharing targets).
    pruning
        ``"dash"``; ``"magnitude"`` (iterative magnitude pruning, IMP); ``"prior"`` (the prior term
        alone); ``"none"``.
    hidden_dim
        Width of the hidden layer.
    n_epochs
        Largest number of training epochs.
    batch_size
        Training pairs per step; ``None``: ``ceil(n_train / steps_per_epoch)``, i.e. about
        ``steps_per_epoch`` batches per epoch (the size used is recorded in ``params``).
    steps_per_epoch
        Optimiser steps per epoch when ``batch_size`` is ``None``. The schedule counts epochs, so a
        fixed number of steps per epoch gives every data size the same amount of training before
        and between pruning events (a fixed batch of 128 gave 60 trajectories 2 steps per epoch,
        too few for the magnitudes to carry the data's edges when pruning began; see the docs).
    learning_rate
        Adam step size (five times larger for the rates ``upsilon``); reset after each pruning event.
    lambda_ppi
        Share of the PPI term in the first layers' scores (re-tuned with the prior loss, see the docs).
    lambda_motif
        Share of the motif term in the output layers' scores.
    normalize_scores
        Scale the prior terms to sum 1 like the magnitude terms before mixing, so the lambdas are
        real shares (the authors' code mixes the raw least-squares values).
    adapt_prior
        At the first pruning event, replace the prior in the scores by a per-target mix of the prior
        and the trained model's own edge scores: each target keeps the prior in the share of its
        evidence that falls on the prior's edges, the data fill the rest (``adapted_prior`` in
        ``fischer_sc.core.ode``). Off by default: over the benchmark sweep it helps where the prior
        is badly wrong and the unpruned model is much better than it, and costs AUROC elsewhere
        (figures in the docs).
    prune_start
        Epoch after which the first pruning event happens; late, so the magnitudes carry the data.
    prune_first
        Fraction of every layer removed at the first event.
    prune_step
        Fraction of the remaining weights removed at each later event.
    prune_every
        Epochs between events.
    target_sparsity
        Pruning stops at exactly this fraction of removed weights (the last event is trimmed to it);
        early stopping and the choice of the best epoch start after that event (0.9 lost AUROC, see the docs).
    prior_loss_weight
        Weight ``1 - lambda`` of PHOENIX's prior loss ``mean_u ||f(u) - u P||^2`` (0: the prior enters
        through pruning only, as in DASH's simulations); a soft prior the data can override. The
        loss sums over genes while the data MSE averages, so its pull grows with G; 0.01 made
        magnitude pruning almost as prior-driven as DASH and fitted the data worse (see the docs).
    solver
        ``"rk4"`` or ``"euler"`` (fixed steps), or ``"dopri5"`` (adaptive, adjoint; needs torchdiffeq).
    n_substeps
        Fixed solver steps between consecutive time points.
    val_fraction
        Fraction of the training pairs held out for the validation MSE.
    patience
        Epochs without a better validation MSE before stopping.
    scale
        Min-max scale every gene to [0, 1] (the model's softsign is centred at 1/2).
    save_model
        Save the trained model (:func:`fischer_sc.core.ode.save_phoenix`) to this path.
    random_state
        Seed or generator; the same seed gives the same network on the same machine.
    device
        ``None`` or ``"cpu"``, or ``"cuda"``.
    progress
        Show a progress bar.
    key_added
        Name of every key written instead of ``"dash_grn"``.
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy of ``adata`` when ``copy=True``. Writes (``key`` is ``"dash_grn"`` or ``key_added``):

    ``adata.varp[key]`` : :class:`numpy.ndarray` (n_vars, n_vars)
        ``E = (W_s^T A_s^T + W_p^T A_p^T) * ReLU(upsilon)^T``, row = regulator, column = target: the
        summed path weights of the model (in scaled units), not its Jacobian.
    ``adata.var[key + '_rate']``, ``adata.var[key + '_min']``, ``adata.var[key + '_max']``
        Per-gene rate ``ReLU(upsilon)`` and the scaling range.
    ``adata.uns[key]`` : :class:`dict`
        ``params``; ``edges`` (:class:`pandas.DataFrame`: source, target, weight, score = per-target
        share of ``|E|``, sign, in_prior; non-zero edges by ``|weight|``); ``history`` (per epoch:
        train_mse, val_mse, sparsity, lr, pruned); ``sparsity`` (masked fraction of the weights);
        ``best_epoch``.

    Examples
    --------
    >>> import fischer_sc as fs
    >>> net = fs.datasets.random_signed_network(8, random_state=0)
    >>> adata = fs.datasets.simulate_grn(net, n_trajectories=20, random_state=0)
    >>> fs.tl.dash_grn(adata, net, trajectory_key="trajectory", n_epochs=5, prune_start=1, prune_every=1, progress=False)
    >>> adata.uns["dash_grn"]["edges"].head()  # doctest: +SKIP
    """
    from scanpy import logging as logg

    check_adata(adata, _NAME)
    check_bool(progress, "progress")
    check_bool(copy, "copy")
    check_save_path(save_model, "save_model")
    opts = {
        "pruning": check_choice(pruning, "pruning", ("dash", "magnitude", "prior", "none")),
        "solver": check_choice(solver, "solver", ("rk4", "euler", "dopri5")),
        "hidden_dim": check_int(hidden_dim, "hidden_dim", low=1),
        "n_epochs": check_int(n_epochs, "n_epochs", low=1),
        "batch_size": None if batch_size is None else check_int(batch_size, "batch_size", low=1),
        "steps_per_epoch": check_int(steps_per_epoch, "steps_per_epoch", low=1),
        "learning_rate": check_number(learning_rate, "learning_rate", low=0, low_open=True),
        "lambda_ppi": check_number(lambda_ppi, "lambda_ppi", low=0, high=1),
        "lambda_motif": check_number(lambda_motif, "lambda_motif", low=0, high=1),
        "normalize_scores": check_bool(normalize_scores, "normalize_scores"),
        "adapt_prior": check_bool(adapt_prior, "adapt_prior"),
        "prune_start": check_int(prune_start, "prune_start", low=1),
        "prune_first": check_number(prune_first, "prune_first", low=0, high=1, high_open=True),
        "prune_step": check_number(prune_step, "prune_step", low=0, high=1, high_open=True),
        "prune_every": check_int(prune_every, "prune_every", low=1),
        "target_sparsity": check_number(target_sparsity, "target_sparsity", low=0, high=1, high_open=True),
        "prior_loss_weight": check_number(prior_loss_weight, "prior_loss_weight", low=0, high=1, high_open=True),
        "n_substeps": check_int(n_substeps, "n_substeps", low=1),
        "val_fraction": check_number(val_fraction, "val_fraction", low=0, high=1, high_open=True),
        "patience": check_int(patience, "patience", low=1),
        "scale": check_bool(scale, "scale"),
    }
    n_time_bins = None if n_time_bins is None else check_int(n_time_bins, "n_time_bins", low=2)
    key = resolve_keys(_NAME, key_added).uns
    dev = resolve_device(device, _NAME)
    recorded, seed = resolve_random_state(random_state)
    genes = adata.var_names.astype(str).tolist()
    x, where = read_matrix(adata, layer)
    x = check_finite(np.asarray(x.toarray() if sparse.issparse(x) else x, dtype=np.float64), where)
    if not opts["scale"] and x.size and np.abs(x).max() > MAX_UNSCALED:
        msg = (
            f"{where} holds values up to {np.abs(x).max():.3g} and scale=False: the model trains in float32 around "
            f"the [0, 1] range of its softsign, and overflows on such values (it did from about 1e9). Use scale=True, "
            f"or rescale the data to within +-{MAX_UNSCALED:g}."
        )
        raise ValueError(msg)
    time = _time(adata, time_key)
    traj = None if trajectory_key is None else np.asarray(obs_codes(adata, trajectory_key, param="trajectory_key")[0])
    motif = _network(adata, prior, "prior", genes)
    ppi_m = _network(adata, ppi, "ppi", genes)
    if motif is None and opts["pruning"] in ("dash", "prior"):
        warnings.warn(
            f"dash_grn: pruning={opts['pruning']!r} without a prior network prunes by magnitude only (IMP); "
            "pass prior=... (a varp key, an edge DataFrame or a genes x genes array) or pruning='magnitude'.",
            UserWarning,
            stacklevel=2,
        )
        opts["pruning"] = "magnitude"

    from fischer_sc.core import ode

    lo, hi = x.min(axis=0), x.max(axis=0)
    xs = (x - lo) / np.where(hi > lo, hi - lo, 1.0) if opts["scale"] else x
    pairs = ode.transition_pairs(xs, time, traj, n_time_bins=n_time_bins)
    sched = {k: opts[f"prune_{k}"] for k in ("start", "first", "step", "every")}
    schedule = ode.PruningSchedule(**sched, target_sparsity=opts["target_sparsity"])
    fields = set(ode.TrainConfig.__dataclass_fields__) - {"schedule"}
    config = ode.TrainConfig(**{k: v for k, v in opts.items() if k in fields}, schedule=schedule)
    if opts["pruning"] != "none" and opts["n_epochs"] < schedule.epochs()[-1]:
        warnings.warn(
            f"dash_grn: n_epochs={n_epochs} ends before the last pruning event (epoch {schedule.epochs()[-1]}), so "
            f"the network stays below target_sparsity={target_sparsity}; raise n_epochs or prune_step/prune_every.",
            UserWarning,
            stacklevel=2,
        )
    start = logg.info(f"computing {_NAME} ({opts['pruning']} pruning, {len(genes)} genes, {pairs.dt.size} pairs)")
    data = (pairs.x_start, pairs.x_end, pairs.dt)
    show = progress_enabled(progress)
    fit = ode.fit_phoenix(*data, config=config, motif=motif, ppi=ppi_m, seed=seed, device=dev, progress=show)
    effects = fit.model.effects().numpy().astype(np.float64)
    if save_model is not None:
        meta = {"var_names": genes, "scale_min": lo.tolist(), "scale_max": hi.tolist(), "scaled": opts["scale"]}
        ode.save_phoenix(save_model, fit.model, meta)

    adata = adata.copy() if copy else adata
    adata.varp[key] = effects
    adata.var[f"{key}_rate"] = np.maximum(fit.model.upsilon.detach().numpy().astype(np.float64), 0.0)
    adata.var[f"{key}_min"], adata.var[f"{key}_max"] = lo, hi
    params = {
        **opts,
        "time_key": time_key,
        "trajectory_key": trajectory_key,
        "n_time_bins": n_time_bins,
        "layer": layer,
        "prior": prior if isinstance(prior, str) else (None if prior is None else type(prior).__name__),
        "ppi": ppi if isinstance(ppi, str) else (None if ppi is None else type(ppi).__name__),
        "random_state": recorded,
        "device": dev,
        "save_model": None if save_model is None else str(save_model),
        "n_pairs": int(pairs.dt.size),
        "n_train": fit.n_train,
        "batch_size": fit.batch_size,
        "n_val": fit.n_val,
    }
    adata.uns[key] = {
        "params": clean_params(params),
        "edges": ode.edge_table(effects, genes, motif),
        "history": pd.DataFrame(fit.history),
        "sparsity": float(fit.model.sparsity()),
        "best_epoch": int(fit.best_epoch),
    }
    logg.info(
        "    finished",
        time=start,
        deep=f"added\n    {key!r}, regulator x target effects (adata.varp)\n    {key!r}, edges and history (adata.uns)",
    )
    return adata if copy else None


def _time(adata: AnnData, time_key: str) -> np.ndarray:
    if not isinstance(time_key, str) or time_key not in adata.obs:
        known = ", ".join(repr(k) for k in adata.obs.columns) or "(none)"
        msg = f"time_key={time_key!r} is not a column of adata.obs (columns: {known}); store the time or pseudotime there."
        raise KeyError(msg)
    col = adata.obs[time_key]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        msg = f"adata.obs[{time_key!r}] must be numeric (time or pseudotime), got dtype {col.dtype}; convert it, e.g. with pd.to_numeric."
        raise ValueError(msg)
    return check_finite(col.to_numpy(dtype=np.float64), f"adata.obs[{time_key!r}]")


def _network(adata: AnnData, value: Network, name: str, genes: list[str]) -> np.ndarray | None:
    """A genes x genes matrix (row = regulator) from a varp key, an edge DataFrame or an array."""
    from fischer_sc.core.ode import network_matrix

    if isinstance(value, str):
        if value not in adata.varp:
            known = ", ".join(repr(k) for k in adata.varp) or "(none)"
            msg = f"{name}={value!r} is not in adata.varp (keys: {known}); pass a varp key, an edge DataFrame or an array."
            raise KeyError(msg)
        value = adata.varp[value]
    return network_matrix(value, genes, name=name)

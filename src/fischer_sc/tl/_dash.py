from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ._pending import not_implemented

if TYPE_CHECKING:
    from os import PathLike

    import numpy as np
    import pandas as pd
    from anndata import AnnData


def dash_grn(
    adata: AnnData,
    prior: str | pd.DataFrame | np.ndarray | None = None,
    *,
    time_key: str = "time",
    trajectory_key: str | None = None,
    n_time_bins: int | None = None,
    layer: str | None = None,
    ppi: str | pd.DataFrame | np.ndarray | None = None,
    pruning: Literal["dash", "magnitude", "prior", "none"] = "dash",
    hidden_dim: int = 40,
    n_epochs: int = 200,
    learning_rate: float = 1e-3,
    lambda_ppi: float = 0.05,
    lambda_motif: float = 0.01,
    normalize_scores: bool = True,
    prune_start: int = 3,
    prune_first: float = 0.7,
    prune_step: float = 0.1,
    prune_every: int = 10,
    prior_loss_weight: float = 0.0,
    solver: Literal["rk4", "euler"] = "rk4",
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

    Parameters
    ----------
    adata
        Annotated data matrix with a numeric time (or pseudotime) column.
    prior
        Prior regulatory network: a ``varp`` key, a decoupler-style DataFrame (``source``,
        ``target``, ``weight``) or a genes x genes array; ``None`` prunes by magnitude only.
    time_key
        Numeric ``obs`` column with the time.
    trajectory_key
        ``obs`` column grouping observations into trajectories; ``None`` means one trajectory.
    n_time_bins
        Average cells in this many quantile bins of time per trajectory.
    layer
        Layer to read instead of ``.X``.
    ppi
        Protein-protein interaction prior, in the forms of ``prior``.
    pruning
        ``"dash"``, ``"magnitude"`` (iterative magnitude pruning), ``"prior"`` or ``"none"``.
    hidden_dim
        Width of the hidden layer.
    n_epochs
        Training epochs.
    learning_rate
        Step size.
    lambda_ppi
        Weight of the PPI term of the DASH scores.
    lambda_motif
        Weight of the motif term of the DASH scores.
    normalize_scores
        Normalise the pruning scores per layer.
    prune_start
        Epoch of the first pruning step.
    prune_first
        Fraction pruned at the first step.
    prune_step
        Fraction pruned at each later step.
    prune_every
        Epochs between pruning steps.
    prior_loss_weight
        Weight of the prior-consistency loss.
    solver
        Fixed-step ODE integrator.
    n_substeps
        Integrator steps between consecutive time points.
    val_fraction
        Fraction of time pairs held out for early stopping.
    patience
        Epochs without improvement before stopping.
    scale
        Min-max scale every gene to [0, 1].
    save_model
        Save the trained model to this path.
    random_state
        Seed or generator; the same seed gives the same network.
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
        Regulator x target effects.
    ``adata.var[key + '_rate']`` : :class:`pandas.Series`
        Per-gene decay rate.
    ``adata.uns[key]`` : :class:`dict`
        ``params``, ``edges`` (a :class:`pandas.DataFrame`), ``history`` and ``sparsity``.
    """
    not_implemented("dash_grn", "DASH-pruned PHOENIX dynamic GRN")

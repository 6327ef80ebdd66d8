"""Neural ODEs for gene regulatory dynamics: the PHOENIX vector field, fixed-step solvers, training with pruning.

No AnnData here: :func:`fischer_sc.tl.dash_grn` turns an AnnData into :func:`~fischer_sc.core.ode.transition_pairs`,
trains with :func:`~fischer_sc.core.ode.fit_phoenix` and reads the network with ``Phoenix.effects()``. Needs torch
(``import fischer_sc`` does not load this subpackage).

- Solvers: :func:`~fischer_sc.core.ode.rk4_step`, :func:`~fischer_sc.core.ode.euler_step`, :func:`~fischer_sc.core.ode.integrate_intervals` (a batch of intervals of
  different lengths in one call), :func:`~fischer_sc.core.ode.odeint_grid`; ``"dopri5"`` through the optional torchdiffeq.
- Model: :class:`~fischer_sc.core.ode.Phoenix` (additive and multiplicative branches, gene-wise rates).
- Training: :class:`~fischer_sc.core.ode.TrainConfig`, :class:`~fischer_sc.core.ode.PruningSchedule`, :class:`~fischer_sc.core.ode.PhoenixPruner`, :func:`~fischer_sc.core.ode.fit_phoenix`.
- Networks: :func:`~fischer_sc.core.ode.edge_scores`, :func:`~fischer_sc.core.ode.edge_table`, :func:`~fischer_sc.core.ode.network_from_edges`, :func:`~fischer_sc.core.ode.missing_genes`.
"""

from ._io import load_phoenix, save_phoenix
from ._network import edge_scores, edge_table, missing_genes, network_from_edges, network_matrix
from ._pairs import TransitionPairs, transition_pairs
from ._phoenix import LAYERS, Phoenix, shifted_softsign
from ._prune import PRUNING_MODES, PhoenixPruner, PruningSchedule, default_ppi
from ._solvers import SOLVERS, euler_step, integrate_intervals, odeint_grid, rk4_step
from ._train import FitResult, TrainConfig, fit_phoenix

__all__ = [
    "LAYERS",
    "PRUNING_MODES",
    "SOLVERS",
    "FitResult",
    "Phoenix",
    "PhoenixPruner",
    "PruningSchedule",
    "TrainConfig",
    "TransitionPairs",
    "default_ppi",
    "edge_scores",
    "edge_table",
    "euler_step",
    "fit_phoenix",
    "integrate_intervals",
    "load_phoenix",
    "missing_genes",
    "network_from_edges",
    "network_matrix",
    "odeint_grid",
    "rk4_step",
    "save_phoenix",
    "shifted_softsign",
    "transition_pairs",
]

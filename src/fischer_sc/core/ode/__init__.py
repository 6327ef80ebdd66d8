"""Neural ODEs for gene regulatory dynamics: the PHOENIX vector field, fixed-step solvers, training with pruning.

No AnnData here: :func:`fischer_sc.tl.dash_grn` turns an AnnData into :func:`transition_pairs`,
trains with :func:`fit_phoenix` and reads the network with :meth:`Phoenix.effects`. Needs torch
(``import fischer_sc`` does not load this subpackage).

- Solvers: :func:`rk4_step`, :func:`euler_step`, :func:`integrate_intervals` (a batch of intervals of
  different lengths in one call), :func:`odeint_grid`; ``"dopri5"`` through the optional torchdiffeq.
- Model: :class:`Phoenix` (additive and multiplicative branches, gene-wise rates).
- Training: :class:`TrainConfig`, :class:`PruningSchedule`, :class:`PhoenixPruner`, :func:`fit_phoenix`.
- Networks: :func:`edge_scores`, :func:`edge_table`, :func:`network_from_edges`, :func:`missing_genes`.
"""

from ._io import load_phoenix, save_phoenix
from ._network import edge_scores, edge_table, missing_genes, network_from_edges
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
    "odeint_grid",
    "rk4_step",
    "save_phoenix",
    "shifted_softsign",
    "transition_pairs",
]

"""``plant_n_seek``: build the benchmark, a task's target ticket planted in a random host."""

from __future__ import annotations

import numpy as np

from .planting import PlantedNetwork, he_scaled_host, plant
from .tickets import TASKS, TargetNetwork, _check_depth, make_target

__all__ = ["plant_n_seek"]


def plant_n_seek(
    task: str | TargetNetwork = "relu",
    depth: int | None = 5,
    width: int = 100,
    *,
    random_state: int = 0,
) -> PlantedNetwork:
    """Plant a sparse target ticket in a random ReLU network with non-zero biases.

    Parameters
    ----------
    task
        ``"relu"``, ``"circle"`` or ``"helix"`` (the Plant 'n' Seek targets), or any
        :class:`~fischer_sc_lottery.TargetNetwork` (a user-given sparse target).
    depth
        Layers including the input layer (>= 3): ``depth - 1`` weight matrices. Ignored (may be
        ``None``) for a user-given target, which brings its own.
    width
        Width of every hidden layer of the host; at least the target's widest hidden layer.
    random_state
        Seed of the host's initialisation (He-scaled weights and biases).

    Returns
    -------
    A :class:`~fischer_sc_lottery.PlantedNetwork` with ``density``, ``n_inputs``, ``true_mask``
    (bool (fan_in, fan_out) per weight matrix, input to output), ``target_forward``,
    ``planted_forward`` (equals the target up to rounding) and ``host_forward``.

    Examples
    --------
    >>> from fischer_sc_lottery import plant_n_seek
    >>> net = plant_n_seek("circle", depth=5, width=100)
    >>> round(net.density, 5)
    0.00524
    """
    if isinstance(task, TargetNetwork):
        target, name = task, None
    elif isinstance(task, str):
        if task not in TASKS:
            msg = f"task={task!r} is unknown; choose one of {', '.join(TASKS)} or pass a TargetNetwork."
            raise ValueError(msg)
        if depth is None:
            msg = "depth is required for a named task (an integer >= 3)."
            raise ValueError(msg)
        _check_depth(depth)
        target, name = make_target(task, int(depth)), task
    else:
        msg = f"task must be a task name or a TargetNetwork, got {type(task).__name__}."
        raise TypeError(msg)
    if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 1:
        msg = f"width={width!r} must be a positive integer."
        raise ValueError(msg)
    t_widths = target.widths
    need = max(t_widths[1:-1])
    if width < need:
        msg = f"width={width} is narrower than the target's widest hidden layer ({need}); use width >= {need}."
        raise ValueError(msg)
    widths = [t_widths[0]] + [int(width)] * (len(t_widths) - 2) + [t_widths[-1]]
    rng = np.random.default_rng(random_state)
    weights, biases = he_scaled_host(widths, rng)
    return plant(target, weights, biases, task=name)

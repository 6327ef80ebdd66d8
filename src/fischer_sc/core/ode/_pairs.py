"""Training pairs from time-resolved observations: consecutive time points within each trajectory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class TransitionPairs:
    """Pairs ``x_start -> x_end`` over ``dt``; ``trajectory`` names the trajectory of each pair."""

    x_start: np.ndarray
    x_end: np.ndarray
    dt: np.ndarray
    trajectory: np.ndarray
    n_time_points: int


def _bin_means(x: np.ndarray, t: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of ``x`` and ``t`` in ``n_bins`` quantile bins of ``t`` (empty bins dropped)."""
    edges = np.quantile(t, np.linspace(0.0, 1.0, n_bins + 1))
    which = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, n_bins - 1)
    keep = np.unique(which)
    xs = np.stack([x[which == b].mean(axis=0) for b in keep])
    ts = np.array([t[which == b].mean() for b in keep])
    return xs, ts


def _time_means(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observations at the same time averaged, in time order."""
    times, inverse = np.unique(t, return_inverse=True)
    sums = np.zeros((times.size, x.shape[1]))
    np.add.at(sums, inverse, x)
    return sums / np.bincount(inverse)[:, None], times


def transition_pairs(
    x: np.ndarray,
    time: np.ndarray,
    trajectory: np.ndarray | None = None,
    *,
    n_time_bins: int | None = None,
) -> TransitionPairs:
    """Consecutive time points of every trajectory as training pairs.

    Within a trajectory, observations at the same time are averaged (several cells sampled at one
    time point), or, with ``n_time_bins``, cells are averaged in quantile bins of time (pseudotime:
    ordering thousands of single cells one by one gives noisy pairs). Each consecutive pair of the
    resulting time points is one training pair.

    Parameters
    ----------
    x
        Expression, ``(n_obs, n_genes)``.
    time
        Numeric time of each observation, ``(n_obs,)``.
    trajectory
        Trajectory label of each observation; ``None``: one trajectory.
    n_time_bins
        Number of quantile bins of time per trajectory.

    Returns
    -------
    The pairs, and the total number of time points they come from.

    Raises
    ------
    ValueError
        If a trajectory has fewer than two distinct time points.
    """
    x = np.asarray(x, dtype=np.float64)
    time = np.asarray(time, dtype=np.float64)
    labels = np.zeros(len(time), dtype=np.int64) if trajectory is None else np.asarray(trajectory)
    starts, ends, dts, names = [], [], [], []
    n_points = 0
    for label in dict.fromkeys(labels.tolist()):  # first-appearance order, deterministic
        rows = labels == label
        if n_time_bins is not None:
            xs, ts = _bin_means(x[rows], time[rows], n_time_bins)
        else:
            xs, ts = _time_means(x[rows], time[rows])
        if ts.size < 2:
            what = "the data" if trajectory is None else f"trajectory {label!r}"
            msg = (
                f"{what} has {ts.size} distinct time point(s); at least 2 are needed to learn dynamics. "
                "Check time_key, drop that trajectory, or use fewer n_time_bins."
            )
            raise ValueError(msg)
        n_points += ts.size
        starts.append(xs[:-1])
        ends.append(xs[1:])
        dts.append(np.diff(ts))
        names.extend([label] * (ts.size - 1))
    return TransitionPairs(
        x_start=np.concatenate(starts),
        x_end=np.concatenate(ends),
        dt=np.concatenate(dts),
        trajectory=np.asarray(names),
        n_time_points=n_points,
    )

"""The target tickets of Plant 'n' Seek: sparse ReLU networks that solve the ReLU, Circle and Helix tasks.

A network is a list of weight matrices stored as (fan_in, fan_out), ``x -> x W + b``, with a ReLU after
every layer but the last. ``depth`` counts layers including the input layer, so a depth-L network has
L - 1 weight matrices. Everything is numpy float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["TASKS", "TargetNetwork", "circle_target", "helix_target", "make_target", "relu_target"]

TASKS = ("relu", "circle", "helix")
# Logit slopes and thresholds of the Circle task: class c wins where r^2 lies between thresholds c-1 and c.
CIRCLE_SLOPES = np.array([5.0, 10.0, 20.0, 40.0])
CIRCLE_THRESHOLDS = np.array([0.2, 0.5, 0.7])


@dataclass
class TargetNetwork:
    """A (sparse) ReLU network, weights (fan_in, fan_out), ReLU after every layer but the last."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    def __post_init__(self) -> None:
        if len(self.weights) < 2:
            msg = f"a target needs at least 2 weight matrices (depth >= 3), got {len(self.weights)}."
            raise ValueError(msg)
        if len(self.biases) != len(self.weights):
            msg = f"got {len(self.weights)} weight matrices but {len(self.biases)} bias vectors."
            raise ValueError(msg)
        self.weights = [np.asarray(w, dtype=np.float64) for w in self.weights]
        self.biases = [np.asarray(b, dtype=np.float64).reshape(-1) for b in self.biases]
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if w.ndim != 2 or w.shape[1] != b.shape[0]:
                msg = f"layer {i}: weights {w.shape} (fan_in, fan_out) do not match biases {b.shape}."
                raise ValueError(msg)
            if i and self.weights[i - 1].shape[1] != w.shape[0]:
                msg = f"layer {i} expects {w.shape[0]} inputs but layer {i - 1} has {self.weights[i - 1].shape[1]} outputs."
                raise ValueError(msg)
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                msg = f"layer {i} has NaN or inf weights or biases."
                raise ValueError(msg)

    @property
    def widths(self) -> list[int]:
        """Layer widths, input to output."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def depth(self) -> int:
        """Number of layers including the input layer."""
        return len(self.weights) + 1

    @property
    def n_nonzero(self) -> int:
        """Non-zero weights (biases not counted)."""
        return int(sum(np.count_nonzero(w) for w in self.weights))

    @property
    def n_nonzero_biases(self) -> int:
        """Non-zero biases."""
        return int(sum(np.count_nonzero(b) for b in self.biases))

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Output for inputs ``X`` of shape (n, n_inputs)."""
        h = np.asarray(X, dtype=np.float64)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w + b
            if i < len(self.weights) - 1:
                h = np.maximum(h, 0.0)
        return h


def _hinge_block(
    f: Callable[[np.ndarray], np.ndarray], knots: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Piecewise-linear interpolant of ``f`` on ``knots`` as one hidden ReLU layer.

    Hinge j computes relu(p_j (z - s_j)) at knot s_j (all knots but the last), with alternating signs
    p_j = +1, -1, +1, ...: a p = -1 hinge is active to the left of its knot. Every hinge changes the slope
    by its output weight a_j at s_j, whatever its sign; the first hinge's weight also cancels the slope
    that the p = -1 hinges contribute on the first piece, and the output bias makes the value at s_1
    exact. ``f`` may be vector-valued (one output column per component).

    Returns
    -------
    Input weights p (H,), hidden biases (H,), output weights (H, d_out), output bias (d_out,).
    """
    s = np.asarray(knots, dtype=np.float64)
    fs = np.asarray(f(s), dtype=np.float64).reshape(len(s), -1)
    slopes = np.diff(fs, axis=0) / np.diff(s)[:, None]  # (K - 1, d_out), piece i between s_i and s_{i+1}
    h = len(s) - 1
    p = np.where(np.arange(h) % 2 == 0, 1.0, -1.0)
    a = np.empty_like(slopes)
    a[1:] = np.diff(slopes, axis=0)
    neg = p < 0
    a[0] = slopes[0] + a[neg].sum(axis=0)
    bias_out = fs[0] - (a[neg] * (s[:h][neg] - s[0])[:, None]).sum(axis=0)
    # Slope changes of a linear component are zero up to rounding: make them exactly zero (not in the ticket).
    a[np.abs(a) < 1e-12 * max(1.0, float(np.abs(a).max()))] = 0.0
    return p, -p * s[:h], a, bias_out


def relu_target(depth: int) -> TargetNetwork:
    """Y = max(x, 0) as a chain of single neurons with weight 1 and bias 0."""
    _check_depth(depth)
    return TargetNetwork([np.ones((1, 1)) for _ in range(depth - 1)], [np.zeros(1) for _ in range(depth - 1)])


def _helix(x: np.ndarray) -> np.ndarray:
    t = 5 * np.pi + 3 * np.pi * np.asarray(x, dtype=np.float64)
    return np.stack([t * np.cos(t), t * np.sin(t), t], axis=-1) / (8 * np.pi)


def helix_target(depth: int, n_knots: int = 30) -> TargetNetwork:
    """Helix (t cos t, t sin t, t) / (8 pi), t = 5 pi + 3 pi x, by ``n_knots - 1`` shared hinges.

    Depth 3: the hinges read x directly. Deeper: a first layer relu(1 + x) maps [-1, 1] onto [0, 2],
    the hinges read it, and 3 x 3 identity layers follow; the hinge block's output bias gets +1 so the
    (``abs(value) <= 1``) outputs survive the ReLUs, and the last layer subtracts 1 again.
    """
    _check_depth(depth)
    if depth == 3:
        p, hb, a, c = _hinge_block(_helix, np.linspace(-1.0, 1.0, n_knots))
        return TargetNetwork([p[None, :], a], [hb, c])
    p, hb, a, c = _hinge_block(lambda u: _helix(u - 1.0), np.linspace(0.0, 2.0, n_knots))
    n_identity = depth - 4
    weights = [np.ones((1, 1)), p[None, :], a]
    biases = [np.ones(1), hb, c + (1.0 if n_identity else 0.0)]
    for i in range(n_identity):
        weights.append(np.eye(3))
        biases.append(np.full(3, -1.0) if i == n_identity - 1 else np.zeros(3))
    return TargetNetwork(weights, biases)


def _circle_logit_biases() -> np.ndarray:
    # Lines a_c r^2 + b_c; consecutive classes tie exactly at their threshold.
    b = np.zeros(4)
    for c, t in enumerate(CIRCLE_THRESHOLDS):
        b[c + 1] = b[c] + (CIRCLE_SLOPES[c] - CIRCLE_SLOPES[c + 1]) * t
    return b


def circle_target(depth: int, n_knots: int = 11) -> TargetNetwork:
    """Circle classifier: r^2 = x1^2 + x2^2 from two hinge blocks, then 4 logits a_c r^2 + b_c.

    The logits switch class at r^2 = 0.2, 0.5, 0.7 (slopes 5, 10, 20, 40). Depth 3: the blocks read x_i
    on [-1, 1]. Depth 4: a first layer of halves relu(x_i), relu(-x_i), read by blocks on |x_i| in [0, 1].
    Depth 5: the halves are summed into |x_i| in their own layer. Depth >= 6: ``depth - 5`` rotation
    layers by pi/4, pi/8, ... fold the angle of ``(abs(x_1), abs(x_2))`` (r is unchanged): each keeps u = c a + s b
    (>= 0 while the angle is folded into the first octant) and the halves of w = -s a + c b, and a last
    layer joins them into ``(u, abs(w))``, read by blocks on [0, sqrt 2].
    """
    _check_depth(depth)
    logit_b = _circle_logit_biases()
    if depth == 3:
        lo, hi = -1.0, 1.0
    elif depth <= 5:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = 0.0, np.sqrt(2.0)
    p, hb, a, c = _hinge_block(np.square, np.linspace(lo, hi, n_knots))
    h = len(p)
    # Hinges of both coordinates side by side; both blocks feed r^2, which feeds every logit.
    logit_w = np.concatenate([a[:, 0], a[:, 0]])[:, None] * CIRCLE_SLOPES[None, :]
    logit_bias = CIRCLE_SLOPES * 2 * c[0] + logit_b
    hinge_b = np.concatenate([hb, hb])

    def hinges_from(reads: np.ndarray) -> np.ndarray:
        # reads[i] lists the previous-layer neurons whose sum is coordinate i.
        w = np.zeros((reads.shape[0] * reads.shape[1], 2 * h))
        for i in range(2):
            w[reads[i], i * h : (i + 1) * h] = p
        return w

    if depth == 3:
        w_h = np.zeros((2, 2 * h))
        w_h[0, :h] = p
        w_h[1, h:] = p
        return TargetNetwork([w_h, logit_w], [hinge_b, logit_bias])
    halves = np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]])  # x -> relu(x1), relu(-x1), relu(x2), relu(-x2)
    if depth == 4:
        return TargetNetwork(
            [halves, hinges_from(np.array([[0, 1], [2, 3]])), logit_w], [np.zeros(4), hinge_b, logit_bias]
        )
    weights, biases = [halves], [np.zeros(4)]
    # Current representation: coordinate a = sum of neurons a_idx, b = sum of neurons b_idx.
    a_idx, b_idx, n_prev = [0, 1], [2, 3], 4
    for r in range(depth - 5):
        th = np.pi / 2 ** (r + 2)
        cs, sn = np.cos(th), np.sin(th)
        w = np.zeros((n_prev, 3))  # -> u, relu(w), relu(-w)
        w[a_idx, 0], w[b_idx, 0] = cs, sn
        w[a_idx, 1], w[b_idx, 1] = -sn, cs
        w[a_idx, 2], w[b_idx, 2] = sn, -cs
        weights.append(w)
        biases.append(np.zeros(3))
        a_idx, b_idx, n_prev = [0], [1, 2], 3
    join = np.zeros((n_prev, 2))
    join[a_idx, 0] = 1.0
    join[b_idx, 1] = 1.0
    weights.append(join)
    biases.append(np.zeros(2))
    w_h = np.zeros((2, 2 * h))
    w_h[0, :h] = p
    w_h[1, h:] = p
    weights += [w_h, logit_w]
    biases += [hinge_b, logit_bias]
    return TargetNetwork(weights, biases)


def _check_depth(depth: int) -> None:
    if isinstance(depth, bool) or not isinstance(depth, int | np.integer):
        msg = f"depth must be an integer >= 3, got {type(depth).__name__}."
        raise TypeError(msg)
    if depth < 3:
        msg = f"depth={depth} is too small: depth counts layers including the input layer and must be >= 3 (one hidden layer)."
        raise ValueError(msg)


def make_target(task: str, depth: int) -> TargetNetwork:
    """The target ticket of ``task`` ("relu", "circle" or "helix") at ``depth``."""
    builders: dict[str, Callable[[int], TargetNetwork]] = {
        "relu": relu_target,
        "circle": circle_target,
        "helix": helix_target,
    }
    if task not in builders:
        msg = f"task={task!r} is unknown; choose one of {', '.join(TASKS)}."
        raise ValueError(msg)
    return builders[task](depth)


# Documented (and pickled) under the package name, where it is public.
TargetNetwork.__module__ = "fischer_sc_lottery"

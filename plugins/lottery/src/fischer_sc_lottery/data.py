"""The Plant 'n' Seek tasks as data: ReLU (1 -> 1), Circle (2 -> 4 classes), Helix (1 -> 3), and their scores."""

from __future__ import annotations

import numpy as np

from .tickets import CIRCLE_SLOPES, TASKS, _circle_logit_biases, _helix

__all__ = ["make_task", "rescaled_mse", "task_score"]


def _circle_logits(X: np.ndarray) -> np.ndarray:
    r2 = (X**2).sum(axis=1, keepdims=True)
    return r2 * CIRCLE_SLOPES[None, :] + _circle_logit_biases()[None, :]


def make_task(
    name: str,
    n: int = 10_000,
    *,
    noise: float = 0.01,
    split: float = 0.9,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw a Plant 'n' Seek task once from ``random_state`` and split it into train and test.

    Parameters
    ----------
    name
        ``"relu"``: x ~ U[-1, 1], y = max(x, 0) + N(0, noise^2). ``"circle"``: x ~ U[-1, 1]^2, the class
        counts how many of 0.2, 0.5, 0.7 r^2 exceeds; with probability ``noise`` the label becomes the
        second most likely class. ``"helix"``: x ~ U[-1, 1], t = 5 pi + 3 pi x,
        y = (t cos t, t sin t, t) / (8 pi) + N(0, noise^2) per output.
    n
        Number of samples in total.
    noise
        Noise level (standard deviation, or the label-flip probability for Circle), >= 0.
    split
        Training fraction in (0, 1).
    random_state
        Seed; the same seed gives the same data.

    Returns
    -------
    ``Xtr, ytr, Xte, yte``: X is (n, n_inputs) float64; y is (n, n_outputs) float64 for regression and
    (n,) int64 class labels for Circle.
    """
    if name not in TASKS:
        msg = f"name={name!r} is unknown; choose one of {', '.join(TASKS)}."
        raise ValueError(msg)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        msg = f"n={n!r} must be an integer >= 2."
        raise ValueError(msg)
    if not (np.isfinite(noise) and noise >= 0):
        msg = f"noise={noise!r} must be a finite number >= 0."
        raise ValueError(msg)
    if not 0.0 < split < 1.0:
        msg = f"split={split!r} must be the training fraction in (0, 1)."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    if name == "circle":
        X = rng.uniform(-1.0, 1.0, size=(n, 2))
        order = np.argsort(-_circle_logits(X), axis=1, kind="stable")
        flip = rng.random(n) < noise
        y = np.where(flip, order[:, 1], order[:, 0]).astype(np.int64)
    else:
        X = rng.uniform(-1.0, 1.0, size=(n, 1))
        y = np.maximum(X, 0.0) if name == "relu" else _helix(X[:, 0])
        y = y + noise * rng.standard_normal(y.shape)
    n_train = min(n - 1, max(1, round(split * n)))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def rescaled_mse(pred: np.ndarray, y: np.ndarray) -> float:
    """MSE after the best per-output scale: lambda_j = sum_i y_ij f_ij / sum_i f_ij^2 (1 if the denominator is 0).

    A pruned network can select weights but not scale them; this scores its output up to a positive
    or negative factor per output, as the Plant 'n' Seek benchmark does.
    """
    f = np.asarray(pred, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if f.ndim == 1:
        f = f[:, None]
    if y.ndim == 1:
        y = y[:, None]
    if f.shape != y.shape:
        msg = f"pred has shape {f.shape} but y has {y.shape}."
        raise ValueError(msg)
    den = (f**2).sum(axis=0)
    lam = np.where(den > 0, (y * f).sum(axis=0) / np.where(den > 0, den, 1.0), 1.0)
    return float(np.mean((lam * f - y) ** 2))


def task_score(task: str, pred: np.ndarray, y: np.ndarray) -> float:
    """Circle: accuracy of the argmax (higher is better); ReLU and Helix: rescaled MSE (lower is better)."""
    if task not in TASKS:
        msg = f"task={task!r} is unknown; choose one of {', '.join(TASKS)}."
        raise ValueError(msg)
    if task == "circle":
        return float(np.mean(np.argmax(np.asarray(pred), axis=1) == np.asarray(y)))
    return rescaled_mse(pred, y)

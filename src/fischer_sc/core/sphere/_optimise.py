"""Riemannian Adam on (S^2)^n over freshly sampled triples: Mercat's optimiser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from fischer_sc.core._numba import num_threads

from ._kernels import ANGLES, LOSSES, SAMPLINGS, adam_sphere_step, epoch_gradient, scatter_ends
from ._neighbours import neighbour_gradient

#: Adam's moment decays and its denominator offset.
BETA1, BETA2, ADAM_EPS = 0.9, 0.999, 1e-8
#: The step size decays linearly to 0 over this last fraction of the epochs, so the sampling noise
#: of the final steps averages out and the last iterate is a settled one.
DECAY_FRACTION = 0.3
#: The refinement stage's step is the main stage's divided by this.
REFINE_STEP_DIVISOR = 8.0
#: Negatives per vertex and epoch of the neighbour term in the refinement stage.
REFINE_NEGATIVES = 100


@dataclass(frozen=True, slots=True)
class SphereResult:
    """What :func:`~fischer_sc.core.sphere.optimise_sphere` returns.

    Attributes
    ----------
    embedding
        Unit vectors (n, 3), float64.
    loss
        Mean loss over the valid triples of the last epoch.
    loss_history
        Mean loss of every epoch.
    """

    embedding: np.ndarray
    loss: float
    loss_history: np.ndarray


def check_option(value: str, name: str, options: dict[str, int]) -> int:
    """The kernel code of a string option; a ``ValueError`` lists the choices."""
    if value not in options:
        msg = f"{name}={value!r} is not one of {', '.join(map(repr, options))}."
        raise ValueError(msg)
    return options[value]


def learning_rate_at(epoch: int, n_epochs: int, learning_rate: float) -> float:
    """Constant, then a linear decay to 0 over the last ``DECAY_FRACTION`` of the epochs."""
    start = int(n_epochs * (1 - DECAY_FRACTION))
    if epoch < start:
        return learning_rate
    return learning_rate * (n_epochs - epoch) / (n_epochs - start + 1)


def optimise_sphere(
    scores: np.ndarray,
    init: np.ndarray,
    neighbours: np.ndarray,
    *,
    n_epochs: int = 500,
    triplets_per_point: int = 10,
    sampling: str = "stratified",
    angle: str = "spherical",
    loss: str = "angle",
    learning_rate: float = 0.01,
    precondition: bool = True,
    neighbour_weight: float = 0.0,
    neighbour_scale: float = 0.1,
    neighbour_draws: tuple[int, int] = (5, 50),
    refine_fraction: float = 0.0,
    refine_learning_rate: float | None = None,
    refine_weight: float | None = None,
    refine_negatives: int = REFINE_NEGATIVES,
    seed: int = 0,
    n_jobs: int | None = None,
    callback: Callable[[int, float], None] | None = None,
) -> SphereResult:
    """Fit unit vectors whose triangle angles match the data's, by Riemannian Adam on (S^2)^n.

    Each epoch draws ``triplets_per_point`` triples (i, j, k) per vertex j (stratified: one in ten
    with i, k in kNN(j), one in ten with i in kNN(j) and k uniform, the rest uniform; ``"uniform"``:
    all uniform), evaluates the data angle at x_j on the fly (O(rank)), and descends
    L = mean over triples of (theta_X - theta_Y)^2 (``loss="angle"``) or (cos theta_X - cos theta_Y)^2
    (``"cos"``), with theta_Y the spherical angle at y_j (``angle="spherical"``) or the chord angle
    (``"chord"``). With ``neighbour_weight > 0`` a neighbour term is added (kNN attraction against
    InfoNCE repulsion from shared random negatives, see ``_neighbours.py``): angles do not see scale,
    this keeps who is next to whom. Per point: tangent projection of the gradient, an Adam step,
    renormalisation.

    With ``refine_fraction > 0`` the last ``refine_fraction`` of the epochs are a refinement stage:
    the same objective (the neighbour term at ``refine_weight``) with a step ``refine_learning_rate``
    (default ``learning_rate / 8``), fresh
    Adam moments, its own linear decay over its last 30 %, and ``refine_negatives`` negatives per
    vertex in the neighbour term. Adam moves every point by about the step size per epoch whatever
    its gradient, so at the main step (0.03 rad, the radius of a whole cluster of a few hundred
    points) the sampling noise scrambles neighbourhoods; the slow stage lets them settle while the
    angle loss holds the layout (``benchmarks/results/mercat_recall.md``).

    Parameters
    ----------
    scores
        Denoised data (n, r), float32 (see :func:`~fischer_sc.core.sphere.denoise`).
    init
        Start points (n, 3) on the sphere.
    neighbours
        kNN indices (n, k) for the stratified sampler (itself excluded).
    n_epochs, triplets_per_point, sampling, angle, loss, learning_rate
        As above; the step decays linearly to 0 over the last 30 % of the epochs.
    precondition
        Scale each triple's gradient by its shorter chord on the sphere (see ``epoch_gradient``).
    neighbour_weight
        Weight of the neighbour term (kNN attraction against InfoNCE repulsion, see
        ``neighbour_gradient``) relative to the angle loss; 0 leaves it out.
    neighbour_scale
        The neighbour kernel's squared width s^2 = neighbour_scale * 4 pi / n: the area of the
        sphere per point times this factor, so neighbourhoods shrink as n grows, as in t-SNE.
    neighbour_draws
        (neighbours, shared negatives) drawn per vertex and epoch for the neighbour term.
    refine_fraction
        Share of the epochs in the refinement stage, in [0, 1); 0 leaves it out.
    refine_learning_rate
        The refinement stage's step (``None``: ``learning_rate / 8``).
    refine_weight
        The neighbour term's weight in the refinement stage (``None``: ``neighbour_weight``).
    refine_negatives
        Negatives per vertex and epoch of the neighbour term in the refinement stage.
    seed
        Seed of the counter-based sampler: the result depends on it, not on ``n_jobs``.
    n_jobs
        numba threads (``None``: numba's default).
    callback
        Called as ``callback(epoch, mean_loss)`` after every epoch.
    """
    angle_code = check_option(angle, "angle", ANGLES)
    loss_code = check_option(loss, "loss", LOSSES)
    stratified = check_option(sampling, "sampling", SAMPLINGS) == 0
    if not 0.0 <= refine_fraction < 1.0:
        msg = f"refine_fraction={refine_fraction!r} must lie in [0, 1)."
        raise ValueError(msg)
    if int(refine_negatives) < 1:
        msg = f"refine_negatives={refine_negatives!r} must be at least 1."
        raise ValueError(msg)
    n_main = n_epochs - int(round(refine_fraction * n_epochs))
    refine_lr = learning_rate / REFINE_STEP_DIVISOR if refine_learning_rate is None else float(refine_learning_rate)
    weights = (float(neighbour_weight), float(neighbour_weight if refine_weight is None else refine_weight))
    z = np.ascontiguousarray(scores, dtype=np.float32)
    y = np.ascontiguousarray(init, dtype=np.float64).copy()
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    nbr = np.ascontiguousarray(neighbours, dtype=np.int32)
    n = y.shape[0]
    m = n * triplets_per_point
    grad = np.zeros((n, 3))
    g_i = np.zeros((m, 3))
    g_k = np.zeros((m, 3))
    pairs = np.empty((m, 2), dtype=np.int32)
    point_loss = np.zeros(n)
    point_count = np.zeros(n, dtype=np.int64)
    m1 = np.zeros((n, 3))
    m2 = np.zeros((n, 3))
    history = np.zeros(n_epochs)
    n_pos, n_neg = (int(v) for v in neighbour_draws)
    s2 = float(neighbour_scale) * 4.0 * np.pi / n
    ne_loss = np.zeros(n)
    seed = int(seed) & 0x7FFFFFFFFFFFFFFF
    with num_threads(n_jobs):
        n_blocks = numba.get_num_threads()
        for epoch in range(n_epochs):
            epoch_gradient(
                z, y, nbr, triplets_per_point, seed, epoch, stratified, angle_code, loss_code,
                precondition, grad, g_i, g_k, pairs, point_loss, point_count,
            )  # fmt: skip
            scatter_ends(pairs, g_i, g_k, grad, n_blocks)
            count = max(int(point_count.sum()), 1)
            refining = epoch >= n_main
            if epoch == n_main:  # the refinement stage starts with fresh Adam moments
                m1[:] = 0.0
                m2[:] = 0.0
            if weights[refining] > 0:
                # Per neighbour draw, the same weight as per triple (times the stage's weight).
                weight = weights[refining] * count / (n * n_pos)
                negatives = int(refine_negatives) if refining else n_neg
                neighbour_gradient(y, nbr, n_pos, negatives, seed, epoch, s2, weight, grad, ne_loss)
            history[epoch] = point_loss.sum() / count
            if refining:
                lr = learning_rate_at(epoch - n_main, n_epochs - n_main, refine_lr)
                step = epoch - n_main + 1
            else:
                lr = learning_rate_at(epoch, n_main, learning_rate)
                step = epoch + 1
            adam_sphere_step(y, grad, m1, m2, 1.0 / count, lr, step, BETA1, BETA2, ADAM_EPS)
            if callback is not None:
                callback(epoch, float(history[epoch]))
    return SphereResult(y, float(history[-1]) if n_epochs else float("nan"), history)

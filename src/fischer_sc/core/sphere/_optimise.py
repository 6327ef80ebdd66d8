"""Riemannian Adam on (S^2)^n over freshly sampled triples: Mercat's optimiser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from fischer_sc.core._numba import num_threads

from ._geometry import chord_angle
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
#: ``refine_weight="auto"``: the weight is raised by ``AUTO_FACTOR`` after every ``AUTO_SEGMENT`` share of the
#: refinement epochs while the measured kNN recall rose by at least ``AUTO_GAIN`` (relative) over the last
#: segment, at most ``AUTO_MAX_RAISES`` times; a raise that did not pay is taken back and the weight frozen.
AUTO_SEGMENT, AUTO_FACTOR, AUTO_GAIN, AUTO_MAX_RAISES = 0.1, 1.5, 0.03, 5
#: Points whose embedding neighbours are compared with their data neighbours at each check.
AUTO_SAMPLE = 5000
#: ... and the angles: with d the drop of the rank correlation of ``AUTO_TRIPLES`` uniform triples' angles
#: since the last check, a raise is only made while angle - 2 d stays at or above the floor
#: min(``AUTO_ANGLE_FLOOR``, its value at the first check - ``AUTO_ANGLE_SLACK``), and the last raise is taken
#: back if angle - d is below it. 0.81 is issue 12's angle target (0.8) plus 0.01 for the drift after the
#: last check seen in the sweep (``benchmarks/results/mercat_sweep_refine.md``).
AUTO_TRIPLES, AUTO_ANGLE_FLOOR, AUTO_ANGLE_SLACK = 20_000, 0.81, 0.01


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
    refine_weight
        The refinement stage's neighbour weight at its end (NaN without the stage).
    recall_checks
        With ``refine_weight="auto"``: (epoch, weight up to that epoch, measured kNN recall, angle
        correlation) at every check.
    """

    embedding: np.ndarray
    loss: float
    loss_history: np.ndarray
    refine_weight: float = float("nan")
    recall_checks: tuple[tuple[int, float, float, float], ...] = ()


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


def embedding_recall(y: np.ndarray, neighbours: np.ndarray, sample: np.ndarray) -> float:
    """Share of the data neighbours ``neighbours[sample]`` among the points' nearest neighbours on the sphere.

    The embedding neighbours are the k + 1 nearest by chord (itself included, which never counts, as
    ``neighbours`` excludes it), k = ``neighbours.shape[1]``; the mean over ``sample`` of the overlap / k.
    """
    from scipy.spatial import cKDTree

    k = neighbours.shape[1]
    _, found = cKDTree(y).query(y[sample], k=min(k + 1, y.shape[0]))
    hits = (found[:, :, None] == neighbours[sample][:, None, :]).any(axis=2).sum()
    return float(hits) / (len(sample) * k)


def angle_correlation(z: np.ndarray, y: np.ndarray, triples: np.ndarray) -> float:
    """Spearman correlation of the angles at j of triples (i, j, k) in ``z`` and in ``y`` (Euclidean / chord).

    Degenerate triples (a zero edge, from duplicated points) are left out, as in
    ``fischer_sc.metrics.angle_preservation``.
    """
    from scipy.stats import spearmanr

    a, b = chord_angle(np.asarray(z, dtype=np.float64), triples), chord_angle(y, triples)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(spearmanr(a[ok], b[ok]).statistic)


class _AutoWeight:
    """``refine_weight="auto"``: raise the refinement stage's neighbour weight while it buys neighbours cheaply.

    Every ``AUTO_SEGMENT`` share of the refinement epochs (while the step is constant) the kNN recall of
    ``AUTO_SAMPLE`` points against their data neighbours and the angle correlation of ``AUTO_TRIPLES``
    uniform triples are measured. The first check raises the weight by ``AUTO_FACTOR``. A later one takes the
    last raise back and freezes the weight if the recall rose by less than ``AUTO_GAIN`` since the last
    check or the angles would end below the floor (angle - d, d the drop since the last check: a raise
    shows over about two checks); otherwise it raises the weight again if angle - 2 d stays at or above the
    floor, and freezes it if not.
    """

    def __init__(self, weight: float, z: np.ndarray, neighbours: np.ndarray, n_refine: int, seed: int) -> None:
        n = neighbours.shape[0]
        self.weight = weight
        self.period = max(1, int(round(AUTO_SEGMENT * n_refine)))
        self.last_check = int(n_refine * (1 - DECAY_FRACTION))  # no raise whose segment runs into the decay
        self.raises = 0
        self.frozen = weight <= 0.0
        self.recall = self.angle = self.floor = float("nan")
        self.checks: list[tuple[int, float, float, float]] = []
        self.z = z
        self.neighbours = neighbours
        rng = np.random.default_rng(seed)
        self.sample = np.sort(rng.choice(n, min(n, AUTO_SAMPLE), replace=False))
        triples = rng.integers(0, n, (AUTO_TRIPLES, 3))
        self.triples = triples[(triples[:, 0] != triples[:, 1]) & (triples[:, 2] != triples[:, 1])]

    def update(self, y: np.ndarray, done: int, epoch: int) -> None:
        """After ``done`` refinement epochs (``epoch`` overall): check and move the weight on schedule."""
        if self.frozen or done % self.period:
            return
        recall = embedding_recall(y, self.neighbours, self.sample)
        angle = angle_correlation(self.z, y, self.triples)
        self.checks.append((epoch, self.weight, recall, angle))
        # A raise shows in the angles over about two checks: after a drop d since the last check, the
        # weight kept ends near angle - d and one more raise near angle - 2 d.
        drop = max(self.angle - angle, 0.0) if len(self.checks) > 1 else 0.0
        if len(self.checks) == 1:
            self.floor = min(AUTO_ANGLE_FLOOR, angle - AUTO_ANGLE_SLACK)
        keep = len(self.checks) == 1 or (recall >= self.recall * (1.0 + AUTO_GAIN) and angle - drop >= self.floor)
        if not keep:
            self.weight /= AUTO_FACTOR
            self.frozen = True
        elif (
            angle - 2.0 * drop >= self.floor and self.raises < AUTO_MAX_RAISES and done + self.period <= self.last_check
        ):
            self.weight *= AUTO_FACTOR
            self.raises += 1
        else:
            self.frozen = True
        self.recall, self.angle = recall, angle


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
    refine_weight: float | str | None = None,
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
        The neighbour term's weight in the refinement stage (``None``: ``neighbour_weight``). ``"auto"``:
        start at ``neighbour_weight`` and, every 10 % of the stage, measure the kNN recall of up to 5000
        points against ``neighbours`` and the rank correlation of 20 000 uniform triples' chord angles with
        the angles in ``scores``; raise the weight by 1.5x while the last raise bought 3 % more recall and
        the angle correlation stays above min(0.81, its first value - 0.01) with room for one more drop
        (at most five raises, none into the step's decay); a raise that did not pay is taken back. The
        weight used is returned in ``SphereResult.refine_weight``, the checks in ``recall_checks``.
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
    if isinstance(refine_weight, str) and refine_weight != "auto":
        msg = f"refine_weight={refine_weight!r} must be a number, None or 'auto'."
        raise ValueError(msg)
    n_main = n_epochs - int(round(refine_fraction * n_epochs))
    refine_lr = learning_rate / REFINE_STEP_DIVISOR if refine_learning_rate is None else float(refine_learning_rate)
    auto = refine_weight == "auto"
    fixed = neighbour_weight if refine_weight is None or auto else refine_weight
    weights = [float(neighbour_weight), float(fixed)]
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
    feedback = _AutoWeight(weights[1], z, nbr, n_epochs - n_main, seed) if auto and n_main < n_epochs else None
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
            if refining and feedback is not None:
                feedback.update(y, epoch - n_main + 1, epoch)
                weights[1] = feedback.weight
            if callback is not None:
                callback(epoch, float(history[epoch]))
    return SphereResult(
        y,
        float(history[-1]) if n_epochs else float("nan"),
        history,
        weights[1] if n_main < n_epochs else float("nan"),
        tuple(feedback.checks) if feedback is not None else (),
    )

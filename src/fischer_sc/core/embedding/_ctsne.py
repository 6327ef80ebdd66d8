"""ct-SNE (Kang et al.): t-SNE whose low-dimensional similarities are conditioned on known labels.

q_ij = f_ij w_ij / Z_c with f_ij = a for same-label pairs and b otherwise, Z_c = sum_{k != l} f_kl w_kl,
and a r + b (1 - r) = 1 for r the share of same-label ordered pairs. Since f is constant in Y, the
gradient of KL(P || Q) keeps t-SNE's attraction and its repulsion becomes

    R_i = (b rep_i + (a - b) rep^same_i) / (b Z + (a - b) Z^same),

where rep^same and Z^same are the repulsion sums over same-label pairs only. These are the t-SNE
sums within each label's points, so the engine's exact or Barnes-Hut estimator run on each label
subset gives them: the cost is about one more repulsion evaluation per iteration.

This is the original ct-SNE (the factor on Q). The revised ct-SNE instead multiplies the
high-dimensional p_ij of same-label pairs; it is not implemented here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._bhtree import repulsion_barnes_hut
from ._forces import repulsion_exact
from ._optimise import resolve_repulsion


def ctsne_factors(codes: np.ndarray, beta: float) -> tuple[float, float]:
    """The label factors ``(a, b)``: ``b = beta`` and ``a`` from a r + b (1 - r) = 1."""
    codes = np.asarray(codes)
    n = codes.shape[0]
    _, counts = np.unique(codes, return_counts=True)
    r = float(np.sum(counts * (counts - 1.0)) / (n * (n - 1.0)))
    if r <= 0:
        msg = "ct-SNE needs at least two points with the same label."
        raise ValueError(msg)
    if not 0.0 < beta <= 1.0:
        msg = f"ctsne_beta={beta!r} must lie in (0, 1]; 1e-4 is the usual choice."
        raise ValueError(msg)
    return (1.0 - beta * (1.0 - r)) / r, float(beta)


class CtsneRepulsion:
    """The ``repulsive_gradient`` hook of :func:`~fischer_sc.core.embedding.optimise` for ct-SNE.

    Parameters
    ----------
    codes
        Integer label of every point.
    beta
        Factor of different-label pairs (``ctsne_beta``).
    repulsion
        ``"exact"`` for every group, or ``"barnes_hut"``: then each group takes whichever of the
        two the engine's cost model (``repulsion_costs``, as ``repulsion="auto"``) estimates
        cheaper for its size, Barnes-Hut above about 250 points. (A fixed switch at 2 000 points
        made a 5 000-point, four-label set spend 25 of its 41 s on exact sums within labels.)
    theta
        Barnes-Hut accuracy.
    auto
        ``None`` (fixed ``beta``) or an ``AutoBeta`` (``_auto_lam``) that sets ``b`` from the
        prior's visibility on the running layout (``beta`` is then ignored).
    """

    def __init__(
        self, codes: np.ndarray, beta: float, repulsion: str = "barnes_hut", theta: float = 1.0, auto: Any = None
    ) -> None:
        codes = np.asarray(codes)
        self.codes, self.auto = codes, auto
        self.a, self.b = ctsne_factors(codes, auto.beta if auto is not None else beta)
        self.groups = [np.flatnonzero(codes == c) for c in np.unique(codes)]
        self.groups = [g for g in self.groups if g.size > 1]
        self.method, self.theta = repulsion, theta
        self._orders: list[np.ndarray | None] = [None] * len(self.groups)
        self._ones = [np.ones(g.size) for g in self.groups]
        self._estimators: dict[int, list[bool]] = {}  # per embedding dimension: exact sums per group?

    def _exact(self, dim: int) -> list[bool]:
        """Per group: whether its sums are exact (``repulsion="exact"``, or the cost model's pick for its size)."""
        if dim not in self._estimators:
            self._estimators[dim] = [
                self.method == "exact" or resolve_repulsion("auto", g.size, dim) == "exact" for g in self.groups
            ]
        return self._estimators[dim]

    def same_label_sums(self, y: np.ndarray) -> tuple[np.ndarray, float]:
        """rep^same (n, dim) and Z^same: the repulsion sums over same-label pairs."""
        rep_same = np.zeros_like(y)
        z_same = 0.0
        for gi, (g, exact) in enumerate(zip(self.groups, self._exact(y.shape[1]), strict=True)):
            yg = np.ascontiguousarray(y[g])
            rep_g, z_rows = np.empty_like(yg), np.empty(g.size)
            ones = self._ones[gi]
            if exact:
                repulsion_exact(yg, ones, 2, rep_g, z_rows)
            else:
                self._orders[gi] = repulsion_barnes_hut(yg, ones, 2, self.theta, rep_g, z_rows, self._orders[gi])
            rep_same[g] = rep_g
            z_same += float(z_rows.sum())
        return rep_same, z_same

    def __call__(self, iteration: int, y: np.ndarray, rep: np.ndarray, z: float) -> np.ndarray:
        """The repulsion of the label-conditioned Q (constant 4 dropped)."""
        if self.auto is not None:
            beta = self.auto.update(iteration, y)
            if beta != self.b:
                self.a, self.b = ctsne_factors(self.codes, beta)
        if self.a == self.b:  # no label conditioning (b = 1 with a exactly 1): the sums would be multiplied by 0
            return (self.b * rep) / (self.b * z)
        rep_same, z_same = self.same_label_sums(y)
        return (self.b * rep + (self.a - self.b) * rep_same) / (self.b * z + (self.a - self.b) * z_same)

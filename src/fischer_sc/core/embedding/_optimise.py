"""Initialisation and the gradient-descent loop of t-SNE-like embeddings with per-pair kernel scales.

The loop follows openTSNE's conventions: early exaggeration on the attraction only,
momentum 0.5 then 0.8, delta-bar-delta gains, a per-point step-norm cap, re-centring, and
``learning_rate="auto"`` = max(n / exaggeration, 50) in each phase with the gradient taken
without its constant factor 4. The repulsion estimator is picked by name from
``REPULSIONS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse

from fischer_sc.core._numba import num_threads

from ._bhtree import MAX_DIM, repulsion_barnes_hut
from ._defaults import TSNE_DEFAULTS
from ._density import DensityTerm
from ._forces import (
    N_ATTRACTION_BLOCKS,
    attraction,
    attraction_symmetric,
    gradient_step,
    repulsion_exact,
    symmetric_upper,
)
from ._pair_scale import PAIR_SCALES, pair_scale_code, pair_widths
from ._progress import progress_bar

#: Cost model of ``repulsion="auto"`` (milliseconds per iteration, 2-D, one thread, the default:
#: medians of 30 calls on clustered points, December 2026): exact repulsion costs about
#: EXACT_NS_PER_PAIR ns per ordered pair, Barnes-Hut (the grouped walk of ``_bhgroup``) BH_FIXED_MS
#: plus BH_US_PER_POINT_LOG us per point and log2(n). The two meet near 250 points; above,
#: Barnes-Hut is cheaper and its error (a few per cent of the force) is well below what changes an
#: embedding. Choosing by cost, not by a fixed n, keeps the run time continuous in n. The model
#: does not depend on the thread count, so neither does the estimator chosen (nor the result).
EXACT_NS_PER_PAIR = 6.8
BH_FIXED_MS = 0.28
BH_US_PER_POINT_LOG = 0.056


def repulsion_costs(n: int) -> tuple[float, float]:
    """Estimated milliseconds per iteration of exact and of Barnes-Hut repulsion on ``n`` points."""
    exact = EXACT_NS_PER_PAIR * 1e-6 * n * max(n - 1, 0)
    bh = BH_FIXED_MS + BH_US_PER_POINT_LOG * 1e-3 * n * math.log2(max(n, 2))
    return exact, bh


RepulsionName = Literal["auto", "exact", "barnes_hut"]
#: ``(iteration, y, rep, z) -> array`` subtracted from the attraction; see :func:`optimise`.
RepulsiveGradient = Callable[[int, np.ndarray, np.ndarray, float], np.ndarray]
REPULSIONS: tuple[str, ...] = ("auto", "exact", "barnes_hut")


def pca_init(x: np.ndarray, n_components: int = 2, *, std: float = 1e-4) -> np.ndarray:
    """Top principal components of ``x`` rescaled so that the first has standard deviation ``std``.

    Signs are fixed (largest loading positive) so that the start, and hence the result, is
    reproducible across BLAS builds.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[1] < n_components:
        msg = f"n_components={n_components} exceeds the {x.shape[1]} input dimensions; lower n_components."
        raise ValueError(msg)
    xc = x - x.mean(axis=0)
    # Eigenvectors of the d x d covariance: O(n d^2), no n x n Gram matrix.
    _, vecs = np.linalg.eigh(xc.T @ xc)
    vecs = vecs[:, ::-1][:, :n_components]
    signs = np.sign(vecs[np.abs(vecs).argmax(axis=0), np.arange(n_components)])
    y = xc @ (vecs * signs)
    sd = y[:, 0].std()
    return y * (std / sd) if sd > 0 else y


@dataclass(frozen=True, slots=True)
class EmbeddingResult:
    """What the optimiser returns.

    Attributes
    ----------
    embedding
        The optimised coordinates (n, n_components).
    kl_divergence
        KL(P || Q) at the end; with Barnes-Hut repulsion Z is the Barnes-Hut estimate.
    repulsion
        The estimator that ran (``"exact"`` or ``"barnes_hut"``).
    """

    embedding: np.ndarray
    kl_divergence: float
    repulsion: str


def check_repulsion(repulsion: str) -> None:
    """Raise a ``ValueError`` listing the options when ``repulsion`` is not one of them."""
    if repulsion not in REPULSIONS:
        msg = f"repulsion={repulsion!r} is not one of {', '.join(map(repr, REPULSIONS))}."
        raise ValueError(msg)


def resolve_repulsion(repulsion: str, n: int, dim: int = 2) -> str:
    """``"auto"`` -> the cheaper estimator by ``repulsion_costs`` (exact above 3 dimensions); unknown names raise."""
    check_repulsion(repulsion)
    if repulsion == "auto":
        exact, bh = repulsion_costs(n)
        return "exact" if exact <= bh or dim > MAX_DIM else "barnes_hut"
    if repulsion == "barnes_hut" and dim > MAX_DIM:
        msg = (
            f"repulsion='barnes_hut' supports at most {MAX_DIM} embedding dimensions, got {dim}; use repulsion='exact'."
        )
        raise ValueError(msg)
    return repulsion


class _Attraction:
    """The attraction over the edges of P.

    Each undirected edge is visited once when P is symmetric (as
    :func:`~._affinities.perplexity_affinities` makes it), every stored edge otherwise.
    """

    def __init__(self, P: sparse.csr_matrix, dim: int) -> None:
        upper = symmetric_upper(P)
        self.symmetric = upper is not None
        edges = P if upper is None else upper
        edges.sort_indices()
        self.indptr, self.indices, self.data = edges.indptr, edges.indices, edges.data
        self.buffers = np.empty((N_ATTRACTION_BLOCKS, P.shape[0], dim)) if self.symmetric else None
        self.takes_pull = self.symmetric and dim == 2
        self._with_sums: tuple[np.ndarray, np.ndarray] | None = None  # buffers and output with a third column

    def __call__(
        self,
        y: np.ndarray,
        s: np.ndarray,
        code: int,
        out: np.ndarray,
        pull: np.ndarray | None = None,
        sums: np.ndarray | None = None,
    ) -> None:
        """Fill ``out`` with sum_j p_ij gamma_ij w_ij (y_i - y_j), plus sum_j p_ij (pull_i + pull_j) (y_i - y_j).

        ``pull`` only where ``takes_pull``; so is ``sums``, which then receives
        sum_j p_ij ||y_i - y_j||^2 from the same walk.
        """
        if sums is not None:
            if self._with_sums is None:
                n = y.shape[0]
                self._with_sums = (np.empty((N_ATTRACTION_BLOCKS, n, 3)), np.empty((n, 3)))
            buffers, both = self._with_sums
            attraction_symmetric(self.indptr, self.indices, self.data, y, s, code, buffers, both, pull)
            out[:] = both[:, :2]
            sums[:] = both[:, 2]
        elif self.symmetric:
            attraction_symmetric(self.indptr, self.indices, self.data, y, s, code, self.buffers, out, pull)
        else:
            attraction(self.indptr, self.indices, self.data, y, s, code, out)


class _Repulsion:
    """The repulsion estimator of one optimisation, with what it carries from one iteration to the next."""

    def __init__(self, method: str, theta: float) -> None:
        self.method, self.theta = method, theta
        self.order: np.ndarray | None = None  # last Morton order: a head start for the next sort

    def __call__(self, y: np.ndarray, s: np.ndarray, code: int, rep: np.ndarray, z_rows: np.ndarray) -> float:
        """Fill ``rep`` with the unnormalised repulsion and return Z."""
        if self.method == "exact":
            repulsion_exact(y, s, code, rep, z_rows)
        else:
            self.order = repulsion_barnes_hut(y, s, code, self.theta, rep, z_rows, self.order)
        return float(np.sum(z_rows))


def kl_divergence(
    P: sparse.csr_matrix, y: np.ndarray, s: np.ndarray, code: int, z: float, *, upper: bool = False
) -> float:
    """KL(P || Q) = sum p log p - sum p log w + log Z, with Q = w / Z.

    numpy over the edges rather than a numba kernel: it runs once per optimisation (and every
    50 iterations with a progress bar), so a kernel would cost more to compile than it saves.
    ``upper``: ``P`` is a symmetric P's strict upper triangle (each pair once; half the work).
    """
    return _Objective(P, upper=upper)(y, s, code, z)


class _Objective:
    """KL(P || Q) over fixed edges, with what does not change between evaluations computed once.

    The edges' rows, the entropy term sum p log p and the pair widths (per set of radii) are
    kept; an evaluation gathers the coordinates one column at a time, which is five times faster
    than differencing the (edges, dim) rows (35 -> 7 ms over 370 000 edges).
    """

    def __init__(self, P: sparse.csr_matrix, *, upper: bool = False) -> None:
        self.p = P.data
        self.rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
        self.cols = P.indices
        self.pairs = 2.0 if upper else 1.0
        self.entropy_term = float(np.sum(self.p * np.log(self.p)))
        self._widths: tuple[np.ndarray, int, np.ndarray] | None = None

    def __call__(self, y: np.ndarray, s: np.ndarray, code: int, z: float) -> float:
        if self._widths is None or self._widths[0] is not s or self._widths[1] != code:
            self._widths = (s, code, pair_widths(code, s[self.rows], s[self.cols]))
        d2 = np.zeros(self.rows.size)
        for c in range(y.shape[1]):
            column = y[:, c]
            diff = column[self.rows]
            diff -= column[self.cols]
            diff *= diff
            d2 += diff
        d2 /= self._widths[2]
        data_term = -float(np.dot(self.p, np.log1p(d2)))
        return self.pairs * (self.entropy_term - data_term) + math.log(z)


def optimise(
    P: sparse.csr_matrix,
    y0: np.ndarray,
    *,
    scales: np.ndarray | None = None,
    pair_scale: str | None = "mean",
    n_iter: int = TSNE_DEFAULTS.n_iter,
    early_exaggeration: float = TSNE_DEFAULTS.early_exaggeration,
    early_exaggeration_iter: int = TSNE_DEFAULTS.early_exaggeration_iter,
    learning_rate: float | Literal["auto"] = "auto",
    momentum: tuple[float, float] = (0.5, 0.8),
    repulsion: RepulsionName = "auto",
    theta: float = 1.0,
    max_step_norm: float = 5.0,
    n_jobs: int | None = None,
    progress: bool = False,
    repulsive_gradient: RepulsiveGradient | None = None,
    density: DensityTerm | None = None,
    density_start: int | None = None,
    scale_start: int | None = None,
) -> EmbeddingResult:
    """Minimise KL(P || Q) for the kernel w_ij = 1 / (1 + gamma_ij ||y_i - y_j||^2).

    Parameters
    ----------
    P
        Symmetric joint affinities (CSR, sums to 1), e.g. from :func:`perplexity_affinities`.
    y0
        Start coordinates (n, n_components), e.g. from :func:`pca_init`; not modified.
    scales
        Relative radii s_i of the points (:func:`point_scales`); ``None`` means all 1.
    pair_scale
        How gamma_ij combines s_i and s_j (``"mean"``, ``"geometric"``); ``None`` is plain t-SNE.
    n_iter, early_exaggeration, early_exaggeration_iter
        Total iterations, and the factor on the attraction during the first iterations.
    learning_rate
        Step size, or ``"auto"`` for max(n / exaggeration, 50) in each phase.
    momentum
        Momentum during and after early exaggeration.
    repulsion, theta
        ``"exact"``, ``"barnes_hut"`` (cells whose side is below ``theta`` times the kernel's
        length scale sqrt(d^2 + 1 / gamma) at their distance d act as one pseudo-point, with
        second-order corrections; at most 3 embedding dimensions) or
        ``"auto"`` (whichever ``repulsion_costs`` estimates cheaper, about 250 points;
        exact above 3 dimensions).
    max_step_norm
        Longest step a point may take in one iteration (``0`` disables the cap).
    n_jobs
        Threads of the numba kernels; ``None`` keeps numba's setting.
    progress
        Show a tqdm progress bar with the current KL divergence.
    density, density_start
        An extra term (``DensityTerm``) added from iteration ``density_start`` (default: the end
        of early exaggeration).
    scale_start
        Iteration from which the pair-scaled kernel replaces the plain one (default: the end of
        early exaggeration; ``0``: from the start). Early exaggeration lays out the clusters; with
        the pair scale already on, clusters of large radii push the others apart while they grow,
        which costs global structure (distance correlation on the ``g10d`` toy: 0.55 instead of
        0.63). Later than that, plain t-SNE lays out the clusters and the pair scale only shapes
        them at the end: clusters of unequal radii otherwise repel each other unequally (the
        kernel's tail grows with the pair's width) and drift out of their arrangement.
    repulsive_gradient
        Turns the repulsion into the part of the gradient that is subtracted from the
        (exaggerated) attraction, for objectives that extend KL(P || Q): called as
        ``repulsive_gradient(iteration, y, rep, z)`` with the unnormalised repulsion ``rep`` and
        its normalisation ``z``; ``None`` gives t-SNE's ``rep / z``. Like the attraction, the
        returned array omits the gradient's constant factor 4. JEDI uses it to scale the
        repulsion and add its sparse prior term (see ``fs.tl.factor_out``).

    Returns
    -------
    The embedding, the final KL divergence and the repulsion estimator used.
    """
    P = sparse.csr_matrix(P, dtype=np.float64)
    n = P.shape[0]
    y = np.array(y0, dtype=np.float64, order="C")
    if y.ndim != 2 or y.shape[0] != n:
        msg = f"y0 has shape {y.shape}; expected ({n}, n_components) to match P."
        raise ValueError(msg)
    code = pair_scale_code(pair_scale)
    s = np.ones(n) if scales is None else np.ascontiguousarray(scales, dtype=np.float64)
    method = resolve_repulsion(repulsion, n, y.shape[1])
    if method == "barnes_hut" and not 0.0 < theta <= 1.5:
        msg = f"theta={theta} must lie in (0, 1.5]; 1.0 (default) or 0.5 (more accurate, slower)."
        raise ValueError(msg)
    if not 0 <= early_exaggeration_iter <= n_iter:
        msg = f"early_exaggeration_iter={early_exaggeration_iter} must lie in [0, n_iter={n_iter}]."
        raise ValueError(msg)

    attr, rep = np.empty_like(y), np.empty_like(y)
    grad, update, gains = np.empty_like(y), np.zeros_like(y), np.ones_like(y)
    z_rows = np.empty(n)
    attract = _Attraction(P, y.shape[1])
    # the objective over the edges the attraction walks: each pair once when P is symmetric
    objective = _Objective(
        sparse.csr_matrix((attract.data, attract.indices, attract.indptr), shape=P.shape), upper=attract.symmetric
    )
    repel = _Repulsion(method, theta)
    ones, plain = np.ones(n), PAIR_SCALES[None]
    dens_from = early_exaggeration_iter if density_start is None else density_start
    if scale_start is None:
        scale_start = early_exaggeration_iter
    # The density term's gradient is a pull over the edges of P: where the attraction walks the
    # same edges, it adds that pull in the same walk (about a third of the term's separate cost).
    # Its radii S_i = sum_j p_ij ||y_i - y_j||^2 are collected by that walk too, so its
    # coefficients use the S of the previous iteration (one step behind, as momentum is).
    fused = density is not None and attract.takes_pull and density.uses(P)
    dens_grad = np.empty_like(y) if density is not None and not fused else None
    sums, next_sums = (np.empty(n), np.empty(n)) if fused else (None, None)
    have_sums = False
    with num_threads(n_jobs), progress_bar(n_iter, "embedding", enabled=progress) as bar:
        for it in range(n_iter):
            early = it < early_exaggeration_iter
            exaggeration = early_exaggeration if early else 1.0
            lr = max(n / exaggeration, 50.0) if learning_rate == "auto" else float(learning_rate)
            s_it, code_it = (ones, plain) if it < scale_start else (s, code)
            with_density = density is not None and it >= dens_from
            if with_density and fused:
                # the attraction is multiplied by the exaggeration below; the density term is not
                if not have_sums:  # the radii at the term's first iteration, from the same kernel
                    attract(y, s_it, code_it, attr, None, sums)
                    have_sums = True
                pull = density.pull_coefficients(y, sums) / exaggeration
                attract(y, s_it, code_it, attr, pull, next_sums)
                sums, next_sums = next_sums, sums
            else:
                attract(y, s_it, code_it, attr)
            z = repel(y, s_it, code_it, rep, z_rows)
            np.multiply(attr, exaggeration, out=grad)
            grad -= rep / z if repulsive_gradient is None else repulsive_gradient(it, y, rep, z)
            if with_density and not fused:
                density.gradient(y, dens_grad)
                grad += dens_grad
            gradient_step(y, grad, update, gains, lr, momentum[0] if early else momentum[1], max_step_norm)
            y -= y.mean(axis=0)
            bar.update()
            if progress and (it % 50 == 49 or it == n_iter - 1):
                bar.set_postfix(kl=f"{objective(y, s_it, code_it, z):.4f}")
        # The objective at the final coordinates (Z by the same estimator as the forces).
        z = repel(y, s, code, rep, z_rows)
        kl = objective(y, s, code, z)
    return EmbeddingResult(embedding=y, kl_divergence=kl, repulsion=method)

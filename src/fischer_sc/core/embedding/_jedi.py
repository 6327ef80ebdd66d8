"""JEDI: t-SNE minus a bounded Jensen-Shannon divergence to a prior, as a repulsion hook of the optimiser.

The objective is C(Y) = KL(P || Q) - JS^alpha_beta(P' || Q) with

    M1 = beta Q + (1 - beta) P',    M2 = beta P' + (1 - beta) Q,
    JS = alpha KL(P' || M1) + (1 - alpha) KL(Q || M2).

For a loss C(Q), with G_ij = dC/dq_ij and Gbar = sum_kl G_kl q_kl, the gradient is
dC/dy_i = -4 sum_j q_ij w_ij (G_ij - Gbar)(y_i - y_j). For the JS term

    G^JS_ij = -alpha beta p'_ij / M1_ij + (1 - alpha) [1 + log(q_ij / M2_ij) - (1 - beta) q_ij / M2_ij],

so (without the constant 4, the optimiser's convention)

    grad_i / 4 = sum_j (p_ij - q_ij) w_ij (y_i - y_j) + sum_j q_ij w_ij (G^JS_ij - Gbar)(y_i - y_j).

The second sum enters with a *plus* sign: we minimise KL - JS, so -grad(JS) is added, and
grad(JS) itself carries the minus of the generic formula. The public re-implementations get this
sign wrong (they descend KL + JS and pull the embedding towards the prior).

Acceleration: on every pair with p'_ij = 0, G^JS_ij = c = -(1 - alpha) log(1 - beta), a
constant. The JS sum therefore splits into (c - Gbar) rep_i / Z, an ordinary t-SNE repulsion, plus
a sparse term over the edges of P' only,

    S_i = sum_{p'_ij > 0} (w_ij^2 / Z) (G^JS_ij - c)(y_i - y_j),

and the part of the gradient subtracted from the attraction is
R_i = (1 - c + Gbar) rep_i / Z - S_i (with a weight lambda on the JS term:
R_i = (1 + lambda (Gbar - c)) rep_i / Z - lambda S_i), with Gbar = c (1 - sum_{p'>0} q) + sum_{p'>0} G q.
Only the O(nnz(P')) kernel below is new; rep and Z come from the engine (exact or Barnes-Hut).
P' is symmetric and so is every per-pair quantity of the sparse term (w, q, p', G^JS, the JS
summand) while the force is antisymmetric, so :func:`prior_term_symmetric` visits each pair once
(the strict upper triangle) and adds it to both rows; :func:`prior_term` (full rows) remains for
a P' that is not symmetric.

A label prior (p'_ij uniform over the same-label pairs) has sum_g n_g^2 pairs; its p' is one
constant per label, so :class:`JediLabelRepulsion` never stores them and estimates the sparse
term from a few same-label partners per point drawn afresh in every iteration (unbiased).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from fischer_sc.core._hashing import mix64
from fischer_sc.core._numba import NUMPY_ERRORS, njit

from ._forces import N_ATTRACTION_BLOCKS, _sum_blocks, block_rows, sq_dist, symmetric_upper
from ._threads import run_rows


def js_constant(alpha: float, beta: float) -> float:
    """G^JS on a pair outside the prior graph: c = -(1 - alpha) log(1 - beta)."""
    return -(1.0 - alpha) * math.log1p(-beta)


def check_alpha_beta(alpha: float, beta: float) -> None:
    """Raise a ``ValueError`` unless 0 <= alpha <= 1 and 0 < beta < 1."""
    if not (isinstance(alpha, int | float) and 0.0 <= alpha <= 1.0):
        msg = f"alpha={alpha!r} must lie in [0, 1] (0.5 is the default)."
        raise ValueError(msg)
    if not (isinstance(beta, int | float) and 0.0 < beta < 1.0):
        msg = f"beta={beta!r} must lie in (0, 1) (0.5 is the default)."
        raise ValueError(msg)


@njit(inline="always")
def _js_pair_terms(p: float, q: float, alpha: float, beta: float, with_js: bool) -> tuple[float, float]:
    """(G^JS_ij, the pair's JS summand) for p'_ij = p > 0; the summand is 0 unless ``with_js``.

    G^JS_ij = -alpha beta p / M1 + (1 - alpha) (1 + log(q / M2) - (1 - beta) q / M2) and the summand
    alpha p log(p / M1) + (1 - alpha) q log(q / M2), with M1 = beta q + (1 - beta) p and
    M2 = beta p + (1 - beta) q; one division serves both p / M1 and q / M2: 1 / (M1 M2).
    Every prior kernel (full rows, label groups, samples, upper triangle) calls this one helper.
    """
    m1 = beta * q + (1.0 - beta) * p
    m2 = beta * p + (1.0 - beta) * q
    inv = 1.0 / (m1 * m2)
    p_m1 = p * m2 * inv
    ratio = q * m1 * inv
    log_ratio = math.log(ratio)
    g = -alpha * beta * p_m1 + (1.0 - alpha) * (1.0 + log_ratio - (1.0 - beta) * ratio)
    js = alpha * p * math.log(p_m1) + (1.0 - alpha) * q * log_ratio if with_js else 0.0
    return g, js


@njit(error_model=NUMPY_ERRORS)
def _prior_term_rows(
    lo_row: int,
    hi_row: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    pp: np.ndarray,
    y: np.ndarray,
    z: float,
    alpha: float,
    beta: float,
    c: float,
    out: np.ndarray,
    q_rows: np.ndarray,
    gq_rows: np.ndarray,
    js_rows: np.ndarray,
    with_js: bool,
) -> None:
    """Rows ``lo_row`` to ``hi_row`` of :func:`prior_term`."""
    dim = y.shape[1]
    for i in range(lo_row, hi_row):
        for c_ in range(dim):
            out[i, c_] = 0.0
        sq = 0.0
        sgq = 0.0
        sjs = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            w = 1.0 / (1.0 + sq_dist(y, i, j))
            q = w / z
            p = pp[e]
            g, js = _js_pair_terms(p, q, alpha, beta, with_js)
            sq += q
            sgq += g * q
            sjs += js
            f = w * w / z * (g - c)
            for c_ in range(dim):
                out[i, c_] += f * (y[i, c_] - y[j, c_])
        q_rows[i] = sq
        gq_rows[i] = sgq
        js_rows[i] = sjs


def prior_term(
    indptr: np.ndarray,
    indices: np.ndarray,
    pp: np.ndarray,
    y: np.ndarray,
    z: float,
    alpha: float,
    beta: float,
    c: float,
    out: np.ndarray,
    q_rows: np.ndarray,
    gq_rows: np.ndarray,
    js_rows: np.ndarray,
    with_js: bool,
) -> None:
    """The sparse JS part over the edges of P' (CSR ``indptr``, ``indices``, values ``pp``).

    Writes per row ``out[i] = S_i`` (see the module docstring), ``q_rows[i] = sum_j q_ij``,
    ``gq_rows[i] = sum_j G^JS_ij q_ij`` and ``js_rows[i]``, the row's part of
    alpha KL(P' || M1) + (1 - alpha) sum q log(q / M2) over the prior edges (only when
    ``with_js``: its extra logarithm is a third of the kernel's cost). Each row is written
    by one thread only, so the result does not depend on the thread count.
    """
    run_rows(
        _prior_term_rows,
        y.shape[0],
        indptr,
        indices,
        pp,
        y,
        z,
        alpha,
        beta,
        c,
        out,
        q_rows,
        gq_rows,
        js_rows,
        with_js,
        grain=256,
    )


#: Columns of :func:`prior_term_symmetric`'s output after the force's: sum_j q_ij, sum_j G q_ij, JS part.
N_ROW_SUMS = 3


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _prior_blocks(
    lo: int,
    hi: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    pp: np.ndarray,
    y: np.ndarray,
    inv_z: float,
    alpha: float,
    beta: float,
    c: float,
    with_js: bool,
    buffers: np.ndarray,
) -> None:
    """Row blocks ``lo`` to ``hi`` of :func:`prior_term_symmetric`: block b zeroes rows ``first_b:`` of ``buffers[b]`` and adds into them.

    Each stored pair (i, j > i) is evaluated once: its force goes to row i and, negated, to row
    j; its q, G q and JS summand to both rows' sums (columns ``dim:`` of the buffers).
    """
    n, dim = y.shape
    for blk in range(lo, hi):
        buf = buffers[blk]
        first, last = block_rows(blk, n, buffers.shape[0])
        buf[first:] = 0.0
        for i in range(first, last):
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                w = 1.0 / (1.0 + sq_dist(y, i, j))
                q = w * inv_z
                g, js = _js_pair_terms(pp[e], q, alpha, beta, with_js)
                gq = g * q
                f = w * q * (g - c)
                for c_ in range(dim):
                    d = f * (y[i, c_] - y[j, c_])
                    buf[i, c_] += d
                    buf[j, c_] -= d
                for k, v in enumerate((q, gq, js)):
                    buf[i, dim + k] += v
                    buf[j, dim + k] += v


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _prior_blocks_planar(
    lo: int,
    hi: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    pp: np.ndarray,
    y: np.ndarray,
    inv_z: float,
    alpha: float,
    beta: float,
    c: float,
    with_js: bool,
    buffers: np.ndarray,
) -> None:
    """``_prior_blocks`` for 2-D embeddings: row i's sums in registers (a fifth less time at 20 000 points)."""
    n = y.shape[0]
    for blk in range(lo, hi):
        buf = buffers[blk]
        first, last = block_rows(blk, n, buffers.shape[0])
        buf[first:] = 0.0
        for i in range(first, last):
            xi, yi = y[i, 0], y[i, 1]
            fx, fy, sq, sgq, sjs = 0.0, 0.0, 0.0, 0.0, 0.0
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                dx, dy = xi - y[j, 0], yi - y[j, 1]
                w = 1.0 / (1.0 + dx * dx + dy * dy)
                q = w * inv_z
                g, js = _js_pair_terms(pp[e], q, alpha, beta, with_js)
                gq = g * q
                f = w * q * (g - c)
                fx += f * dx
                fy += f * dy
                sq += q
                sgq += gq
                sjs += js
                buf[j, 0] -= f * dx
                buf[j, 1] -= f * dy
                buf[j, 2] += q
                buf[j, 3] += gq
                buf[j, 4] += js
            buf[i, 0] += fx
            buf[i, 1] += fy
            buf[i, 2] += sq
            buf[i, 3] += sgq
            buf[i, 4] += sjs


def prior_term_symmetric(
    indptr: np.ndarray,
    indices: np.ndarray,
    pp: np.ndarray,
    y: np.ndarray,
    z: float,
    alpha: float,
    beta: float,
    c: float,
    with_js: bool,
    buffers: np.ndarray,
    out: np.ndarray,
) -> None:
    """:func:`prior_term` for a symmetric P' given by its strict upper triangle (CSR, j > i).

    Every per-pair quantity (w, q, p', G^JS, the JS summand) is symmetric in (i, j) and the force
    antisymmetric, so each pair is evaluated once and added to both ends: half the work of
    visiting both directions. Writes ``out[:, :dim] = S`` and, in the next three columns, the
    row sums of :func:`prior_term` (``q_rows``, ``gq_rows``, ``js_rows``, each pair counted in
    both rows as there; the last is 0 unless ``with_js``). Row block b adds into rows
    ``first_b:`` of ``buffers[b]`` (``(N_ATTRACTION_BLOCKS, n, dim + 3)``), summed in a fixed
    order at the end, so the result does not depend on the thread count (as in
    ``attraction_symmetric``). Serial kernels on threads (``run_rows``), not ``parallel=True``,
    which compiles several times slower.
    """
    n, dim = y.shape
    width = dim + N_ROW_SUMS
    if buffers.shape != (N_ATTRACTION_BLOCKS, n, width) or out.shape != (n, width):
        msg = f"buffers {buffers.shape} and out {out.shape} do not fit {n} points in {dim} dimensions."
        raise ValueError(msg)
    kernel = _prior_blocks_planar if dim == 2 else _prior_blocks
    args = (indptr, indices, pp, y, 1.0 / z, float(alpha), float(beta), float(c), bool(with_js), buffers)
    run_rows(kernel, N_ATTRACTION_BLOCKS, *args, grain=1)
    run_rows(_sum_blocks, n, buffers, out, grain=4096)


@njit(error_model=NUMPY_ERRORS)
def _label_prior_term_rows(
    lo_row: int,
    hi_row: int,
    members: np.ndarray,
    group_start: np.ndarray,
    group_of: np.ndarray,
    rank: np.ndarray,
    p_group: np.ndarray,
    n_samples: int,
    seed: int,
    y: np.ndarray,
    z: float,
    alpha: float,
    beta: float,
    c: float,
    out: np.ndarray,
    q_rows: np.ndarray,
    gq_rows: np.ndarray,
    js_rows: np.ndarray,
    with_js: bool,
) -> None:
    """Rows ``lo_row`` to ``hi_row`` of :func:`label_prior_term`."""
    dim = y.shape[1]
    base = mix64(np.int64(seed))
    inv_z = 1.0 / z
    for i in range(lo_row, hi_row):
        for c_ in range(dim):
            out[i, c_] = 0.0
        q_rows[i] = 0.0
        gq_rows[i] = 0.0
        js_rows[i] = 0.0
        g = group_of[i]
        lo = group_start[g]
        m = group_start[g + 1] - lo - 1
        if m < 1:
            continue
        p = p_group[g]
        exact = m <= n_samples
        count = m if exact else n_samples
        weight = 1.0 if exact else m / n_samples
        key = mix64(base ^ i)
        sq = 0.0
        sgq = 0.0
        sjs = 0.0
        for s_ in range(count):
            # a draw in [0, m): 32 bits of the hash scaled by m (Lemire's multiply-shift, no 64-bit
            # division; its bias is below m / 2^32). mix64 is a 63-bit hash (its sign bit is always
            # 0), so the 32 bits are bits 31-62.
            r = s_ if exact else (((mix64(key + s_) >> 31) & 0xFFFFFFFF) * m) >> 32
            if r >= rank[i]:
                r += 1
            j = members[lo + r]
            w = 1.0 / (1.0 + sq_dist(y, i, j))
            q = w * inv_z
            gij, js = _js_pair_terms(p, q, alpha, beta, with_js)
            sq += q
            sgq += gij * q
            sjs += js
            f = weight * w * q * (gij - c)
            for c_ in range(dim):
                out[i, c_] += f * (y[i, c_] - y[j, c_])
        q_rows[i] = weight * sq
        gq_rows[i] = weight * sgq
        js_rows[i] = weight * sjs


def label_prior_term(
    members: np.ndarray,
    group_start: np.ndarray,
    group_of: np.ndarray,
    rank: np.ndarray,
    p_group: np.ndarray,
    n_samples: int,
    seed: int,
    y: np.ndarray,
    z: float,
    alpha: float,
    beta: float,
    c: float,
    out: np.ndarray,
    q_rows: np.ndarray,
    gq_rows: np.ndarray,
    js_rows: np.ndarray,
    with_js: bool,
) -> None:
    """:func:`prior_term` for the uniform label prior, estimated from ``n_samples`` same-label partners per point.

    The points of group g are ``members[group_start[g]:group_start[g + 1]]``; point i is group
    ``group_of[i]``'s member number ``rank[i]``, and every same-label pair of group g has the prior
    affinity ``p_group[g]``. A point whose group has at most ``n_samples`` other members sums over
    all of them (exact). Otherwise it draws ``n_samples`` of its m other members uniformly with
    replacement and weights each by m / n_samples: every row sum (S_i, sum_j q_ij, sum_j G q_ij
    and the JS part) is then an unbiased estimate of the exact one. The draws are a hash of
    (``seed``, point, draw number), so they do not depend on the thread count; pass a new
    ``seed`` each iteration for fresh partners.
    """
    run_rows(
        _label_prior_term_rows,
        y.shape[0],
        members,
        group_start,
        group_of,
        rank,
        p_group,
        n_samples,
        seed,
        y,
        z,
        alpha,
        beta,
        c,
        out,
        q_rows,
        gq_rows,
        js_rows,
        with_js,
        grain=256,
    )


@njit(error_model=NUMPY_ERRORS)
def _sampled_prior_term_rows(
    lo_row: int,
    hi_row: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    pp: np.ndarray,
    cum: np.ndarray,
    row_mass: np.ndarray,
    n_samples: int,
    seed: int,
    y: np.ndarray,
    z: float,
    alpha: float,
    beta: float,
    c: float,
    out: np.ndarray,
    q_rows: np.ndarray,
    gq_rows: np.ndarray,
    js_rows: np.ndarray,
    with_js: bool,
) -> None:
    """Rows ``lo_row`` to ``hi_row`` of :func:`sampled_prior_term`."""
    dim = y.shape[1]
    base = mix64(np.int64(seed))
    for i in range(lo_row, hi_row):
        for c_ in range(dim):
            out[i, c_] = 0.0
        lo, hi = indptr[i], indptr[i + 1]
        exact = hi - lo <= n_samples
        count = hi - lo if exact else n_samples
        key = mix64(base ^ i)
        sq = 0.0
        sgq = 0.0
        sjs = 0.0
        for s_ in range(count):
            if exact:
                e = lo + s_
                weight = 1.0
            else:
                # 53 random bits of the 63-bit hash (bits 10-62) as a float in [0, 1)
                u = np.float64((mix64(key + s_) >> 10) & 0x1FFFFFFFFFFFFF) * (1.0 / 9007199254740992.0)
                a, b = lo, hi - 1  # first e with cum[e] > u (the last one if rounding leaves none)
                while a < b:
                    mid = (a + b) // 2
                    if cum[mid] > u:
                        b = mid
                    else:
                        a = mid + 1
                e = a
                weight = row_mass[i] / (n_samples * pp[e])
            j = indices[e]
            p = pp[e]
            w = 1.0 / (1.0 + sq_dist(y, i, j))
            q = w / z
            gij, js = _js_pair_terms(p, q, alpha, beta, with_js)
            sq += weight * q
            sgq += weight * gij * q
            sjs += weight * js
            f = weight * w * w / z * (gij - c)
            for c_ in range(dim):
                out[i, c_] += f * (y[i, c_] - y[j, c_])
        q_rows[i] = sq
        gq_rows[i] = sgq
        js_rows[i] = sjs


def sampled_prior_term(
    indptr: np.ndarray,
    indices: np.ndarray,
    pp: np.ndarray,
    cum: np.ndarray,
    row_mass: np.ndarray,
    n_samples: int,
    seed: int,
    y: np.ndarray,
    z: float,
    alpha: float,
    beta: float,
    c: float,
    out: np.ndarray,
    q_rows: np.ndarray,
    gq_rows: np.ndarray,
    js_rows: np.ndarray,
    with_js: bool,
) -> None:
    """:func:`prior_term` estimated from ``n_samples`` prior pairs per row drawn with probability p'_ij / sum_j p'_ij.

    ``cum`` holds each row's cumulative sums of ``pp`` divided by the row's total ``row_mass``.
    Rows with at most ``n_samples`` stored pairs are summed exactly. Otherwise each drawn pair
    counts ``row_mass / (n_samples p'_ij)`` times, so every row sum is an unbiased estimate of the
    exact one (importance sampling: a pair's term vanishes with p'_ij, so the weights stay
    bounded). The draws are a hash of (``seed``, row, draw number), as in :func:`label_prior_term`.
    """
    run_rows(
        _sampled_prior_term_rows,
        y.shape[0],
        indptr,
        indices,
        pp,
        cum,
        row_mass,
        n_samples,
        seed,
        y,
        z,
        alpha,
        beta,
        c,
        out,
        q_rows,
        gq_rows,
        js_rows,
        with_js,
        grain=256,
    )


def prior_term_reference(
    P_prior: sparse.csr_matrix, y: np.ndarray, z: float, alpha: float, beta: float
) -> tuple[np.ndarray, float, float, float]:
    """Slow numpy version of :func:`prior_term`: ``(S, sum q, sum G q, js part)`` over the edges of P'."""
    coo = sparse.coo_matrix(P_prior)
    i, j, p = coo.row, coo.col, coo.data
    diff = y[i] - y[j]
    w = 1.0 / (1.0 + (diff**2).sum(1))
    q = w / z
    m1 = beta * q + (1 - beta) * p
    m2 = beta * p + (1 - beta) * q
    g = -alpha * beta * p / m1 + (1 - alpha) * (1 + np.log(q / m2) - (1 - beta) * q / m2)
    c = js_constant(alpha, beta)
    s = np.zeros_like(y)
    np.add.at(s, i, (w * w / z * (g - c))[:, None] * diff)
    js = float(np.sum(alpha * p * np.log(p / m1) + (1 - alpha) * q * np.log(q / m2)))
    return s, float(q.sum()), float((g * q).sum()), js


def _check_samples(n_samples: int | None) -> None:
    if n_samples is not None and (
        isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 1
    ):
        msg = f"n_samples={n_samples!r} must be a positive integer or None (all prior pairs)."
        raise ValueError(msg)


@dataclass
class JediRepulsion:
    """The ``repulsive_gradient`` hook of :func:`~fischer_sc.core.embedding.optimise` that turns t-SNE into JEDI.

    Attributes
    ----------
    P_prior
        Prior affinities P' (symmetric CSR, sums to 1). The exact sum visits each pair of a
        symmetric P' once (``prior_term_symmetric``); any other P' is summed over full rows.
    alpha, beta
        Parameters of the alpha-beta Jensen-Shannon divergence.
    weight
        Factor lambda on the JS term: C = KL(P || Q) - lambda JS^alpha_beta(P' || Q); 1 is the
        paper's objective.
    start
        First iteration with the JS term (the end of early exaggeration); before it the hook
        gives plain t-SNE's ``rep / z``.
    js_iteration
        Iteration at which to evaluate the divergence itself (e.g. the last one); ``None``
        evaluates it at every call.
    js
        JS^alpha_beta(P' || Q) at the last evaluation (``nan`` before).
    n_samples
        ``None`` sums over every stored prior pair (exact). Otherwise rows with more pairs use
        ``n_samples`` pairs drawn afresh in every iteration with probability proportional to
        p'_ij, weighted to give unbiased row sums (``sampled_prior_term``).
    seed
        Seed of those draws.
    auto
        ``None`` (fixed ``weight``) or an ``AutoLam`` (``_auto_lam``) that sets ``weight`` from
        the gradient balance at ``start`` and the prior's visibility on the running layout.
    """

    P_prior: sparse.csr_matrix
    alpha: float = 0.5
    beta: float = 0.5
    weight: float = 1.0
    start: int = 0
    js_iteration: int | None = None
    js: float = field(default=float("nan"))
    n_samples: int | None = None
    seed: int = 0
    auto: Any = None

    def __post_init__(self) -> None:
        check_alpha_beta(self.alpha, self.beta)
        _check_samples(self.n_samples)
        P = sparse.csr_matrix(self.P_prior, dtype=np.float64)
        P.eliminate_zeros()
        P.sort_indices()
        self._indptr = P.indptr.astype(np.int64)
        self._indices = P.indices.astype(np.int64)
        self._data = np.ascontiguousarray(P.data)
        self.c = js_constant(self.alpha, self.beta)
        # The exact sum visits each pair of a symmetric P' once (its strict upper triangle); a
        # non-symmetric P', or one with a diagonal, takes the full rows (``prior_term``).
        upper = symmetric_upper(P) if self.n_samples is None and not P.diagonal().any() else None
        self._upper = None
        if upper is not None:
            self._upper = (
                upper.indptr.astype(np.int64),
                upper.indices.astype(np.int64),
                np.ascontiguousarray(upper.data),
            )
        self._buffers: tuple[np.ndarray, np.ndarray] | None = None  # prior_term_symmetric's, made on first use
        if self.n_samples is not None:
            self._row_mass = np.asarray(P.sum(axis=1)).ravel()
            rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
            cum = np.cumsum(self._data)
            before = np.concatenate([[0.0], cum])[P.indptr[:-1]]
            mass = np.where(self._row_mass > 0, self._row_mass, 1.0)
            self._cum = np.ascontiguousarray((cum - before[rows]) / mass[rows])

    def _prior_sums(self, iteration: int, y: np.ndarray, z: float, sums: tuple, with_js: bool) -> None:
        """Fill ``sums = (S, q_rows, gq_rows, js_rows)`` over the prior pairs (exact, or sampled per row)."""
        if self.n_samples is None and self._upper is not None:
            n, dim = y.shape
            if self._buffers is None or self._buffers[1].shape != (n, dim + N_ROW_SUMS):
                self._buffers = (np.empty((N_ATTRACTION_BLOCKS, n, dim + N_ROW_SUMS)), np.empty((n, dim + N_ROW_SUMS)))
            buffers, out = self._buffers
            prior_term_symmetric(*self._upper, y, z, self.alpha, self.beta, self.c, with_js, buffers, out)
            sums[0][:] = out[:, :dim]
            for k in range(N_ROW_SUMS):
                sums[1 + k][:] = out[:, dim + k]
            return
        if self.n_samples is None:
            prior_term(self._indptr, self._indices, self._data, y, z, self.alpha, self.beta, self.c, *sums, with_js)
            return
        sampled_prior_term(
            self._indptr,
            self._indices,
            self._data,
            self._cum,
            self._row_mass,
            int(self.n_samples),
            (int(self.seed) % 2**31) * 1_000_003 + iteration,
            y,
            z,
            self.alpha,
            self.beta,
            self.c,
            *sums,
            with_js,
        )

    def __call__(self, iteration: int, y: np.ndarray, rep: np.ndarray, z: float) -> np.ndarray:
        """The part of the gradient subtracted from the attraction (constant 4 dropped)."""
        if iteration < self.start:
            return rep / z
        n = y.shape[0]
        s = np.empty_like(y)
        q_rows, gq_rows, js_rows = np.empty(n), np.empty(n), np.empty(n)
        with_js = self.js_iteration is None or iteration == self.js_iteration
        self._prior_sums(iteration, y, z, (s, q_rows, gq_rows, js_rows), with_js)
        q_prior = float(q_rows.sum())
        g_bar = self.c * (1.0 - q_prior) + float(gq_rows.sum())
        if with_js:  # non-prior pairs each contribute q log(1 / (1 - beta)) to KL(Q || M2)
            self.js = float(js_rows.sum()) + self.c * (1.0 - q_prior)
        if self.auto is not None:
            if iteration == self.start:
                self.auto.balance(rep / z, (g_bar - self.c) * rep / z - s)
            self.weight = self.auto.update(iteration, y, self.c - g_bar)
        return (1.0 + self.weight * (g_bar - self.c)) * rep / z - self.weight * s


def label_groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The uniform label prior in compact form: ``(members, group_start, group_of, rank, p_group)``.

    P'_ij = p_group[g] for every pair of distinct points of group g: p'_{j|i} = 1 / (n_g - 1)
    over i's same-label points, symmetrised as (p_{j|i} + p_{i|j}) / 2n' with n' the number of
    points that have a same-label partner (points alone in their label carry no prior pair), so
    that P' sums to 1. See :func:`label_prior_term` for the other arrays.
    """
    codes = np.asarray(codes)
    _, group_of, sizes = np.unique(codes, return_inverse=True, return_counts=True)
    group_of = group_of.astype(np.int64).ravel()
    members = np.argsort(group_of, kind="stable").astype(np.int64)
    group_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    rank = np.empty(codes.shape[0], dtype=np.int64)
    rank[members] = np.arange(codes.shape[0]) - group_start[group_of[members]]
    n_paired = int(sizes[sizes > 1].sum())
    if n_paired == 0:
        msg = "the label prior has no two points with the same label, so it carries no neighbourhoods."
        raise ValueError(msg)
    p_group = np.where(sizes > 1, 1.0 / (n_paired * np.maximum(sizes - 1.0, 1.0)), 0.0)
    return members, group_start, group_of, rank, p_group


def label_prior_dense(codes: np.ndarray) -> np.ndarray:
    """The uniform label prior P' as a dense (n, n) matrix (for tests and small data)."""
    _, _, group_of, _, p_group = label_groups(codes)
    same = group_of[:, None] == group_of[None, :]
    np.fill_diagonal(same, False)
    return np.where(same, p_group[group_of][:, None], 0.0)


class JediLabelRepulsion(JediRepulsion):
    """JEDI's hook for a label prior: the uniform prior over all same-label pairs, never stored.

    The uniform label prior has about sum_g n_g^2 pairs (2 * 10^7 for 20 labels of 1 000 points),
    too many to visit in every iteration. Its prior affinity is one constant per label, so the
    prior term needs only the labels: each point visits ``n_samples`` same-label partners drawn
    afresh in every iteration (all of them in groups that small), weighted to give unbiased row
    sums (``label_prior_term``). The gradient is thus a stochastic but unbiased estimate of
    the exact JEDI gradient of the uniform prior, at O(n * n_samples) cost per iteration, like the
    sampled repulsion of UMAP-type embedders. ``n_samples=None`` sums over all pairs (exact).

    Parameters
    ----------
    codes
        Label of every point.
    n_samples
        Same-label partners per point and iteration; ``None`` for all of them.
    seed
        Seed of the draws (the same seed gives the same embedding).
    """

    def __init__(
        self,
        codes: np.ndarray,
        *,
        n_samples: int | None = 8,
        seed: int = 0,
        alpha: float = 0.5,
        beta: float = 0.5,
        weight: float = 1.0,
        start: int = 0,
        js_iteration: int | None = None,
    ) -> None:
        check_alpha_beta(alpha, beta)
        _check_samples(n_samples)
        self.alpha, self.beta, self.weight, self.start = float(alpha), float(beta), float(weight), int(start)
        self.js_iteration, self.js = js_iteration, float("nan")
        self.auto = None
        self.c = js_constant(self.alpha, self.beta)
        self._groups = label_groups(codes)
        self.n_samples = int(np.iinfo(np.int64).max) if n_samples is None else int(n_samples)
        self.seed = int(seed)

    def _prior_sums(self, iteration: int, y: np.ndarray, z: float, sums: tuple, with_js: bool) -> None:
        members, group_start, group_of, rank, p_group = self._groups
        label_prior_term(
            members,
            group_start,
            group_of,
            rank,
            p_group,
            self.n_samples,
            (self.seed % 2**31) * 1_000_003 + iteration,
            y,
            z,
            self.alpha,
            self.beta,
            self.c,
            *sums,
            with_js,
        )


def jedi_objective_dense(
    P: np.ndarray, P_prior: np.ndarray, y: np.ndarray, alpha: float, beta: float, weight: float = 1.0
) -> float:
    """KL(P || Q) - weight * JS^alpha_beta(P' || Q) with dense (n, n) matrices: the reference for tests and small data."""
    d2 = ((y[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    w = 1.0 / (1.0 + d2)
    np.fill_diagonal(w, 0.0)
    q = w / w.sum()
    off = ~np.eye(len(y), dtype=bool)
    qo, po, ppo = q[off], P[off], P_prior[off]
    m1 = beta * qo + (1 - beta) * ppo
    m2 = beta * ppo + (1 - beta) * qo
    kl = float(np.sum(np.where(po > 0, po * np.log(np.where(po > 0, po, 1.0) / qo), 0.0)))
    kl_pm1 = float(np.sum(np.where(ppo > 0, ppo * np.log(np.where(ppo > 0, ppo, 1.0) / m1), 0.0)))
    kl_qm2 = float(np.sum(qo * np.log(qo / m2)))
    return kl - weight * (alpha * kl_pm1 + (1 - alpha) * kl_qm2)


def jedi_gradient_dense(
    P: np.ndarray, P_prior: np.ndarray, y: np.ndarray, alpha: float, beta: float, weight: float = 1.0
) -> np.ndarray:
    """The full gradient of :func:`jedi_objective_dense` (with its factor 4) from the formula, O(n^2)."""
    diff = y[:, None, :] - y[None, :, :]
    w = 1.0 / (1.0 + (diff**2).sum(-1))
    np.fill_diagonal(w, 0.0)
    q = w / w.sum()
    qs = np.where(q > 0, q, 1.0)
    m1 = beta * q + (1 - beta) * P_prior
    m2 = beta * P_prior + (1 - beta) * q
    m1s, m2s = np.where(m1 > 0, m1, 1.0), np.where(m2 > 0, m2, 1.0)
    g = -alpha * beta * P_prior / m1s + (1 - alpha) * (1 + np.log(qs / m2s) - (1 - beta) * q / m2s)
    np.fill_diagonal(g, 0.0)
    g_bar = float((g * q).sum())
    coef = (P - q) * w + weight * q * w * (g - g_bar)
    return 4.0 * (coef[:, :, None] * diff).sum(1)

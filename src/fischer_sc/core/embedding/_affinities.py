"""High-dimensional affinities from kNN distances: perplexity calibration and sparse symmetric P.

Stages (each a pure function over arrays, so a caller can swap one):

1. :func:`calibrate_beta` finds beta_i = 1 / (2 sigma_i^2) per point so that the perplexity of
   p_{j|i} ~ exp(-beta_i d_ij^2) over the k neighbours equals the target (bisection in log beta).
2. :func:`conditional_affinities` recomputes p_{j|i} with the pair bandwidth beta_ij of a pair
   scale (see :mod:`._pair_scale`); with ``pair_scale=None`` this is plain t-SNE's p_{j|i}.
3. :func:`symmetrise` gives p_ij = (p_{j|i} + p_{i|j}) / (2n) as CSR: O(n k) memory, never n x n.
4. Optionally, :func:`balance_affinities` rescales P symmetrically until every row sums to 1/n (Sinkhorn).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from fischer_sc.core._numba import NUMPY_ERRORS, njit

from ._pair_scale import pair_beta, pair_scale_code
from ._threads import run_rows

# The bisection runs over log(beta * scale_i), scale_i the mean squared neighbour distance of
# row i, inside +-LOG_BETA_SPAN. The upper end caps beta for rows of near-duplicates:
# such a row stops at beta = e^40 / scale_i instead of running to overflow.
LOG_BETA_SPAN = 40.0


@njit(inline="always")
def _calibrate_row(i: int, d2: np.ndarray, target: float, tol: float, max_iter: int) -> float:
    """The beta of row i (see ``calibrate_beta``), by bisection in log beta."""
    k = d2.shape[1]
    dmin = d2[i, 0]
    mean = 0.0
    for j in range(k):
        dmin = min(dmin, d2[i, j])
        mean += d2[i, j]
    mean = mean / k - dmin
    # Shifting by the row minimum leaves p unchanged and keeps exp() from underflowing.
    scale = mean if mean > 0.0 else 1.0
    lo = -LOG_BETA_SPAN - math.log(scale)
    hi = LOG_BETA_SPAN - math.log(scale)
    logb = -math.log(scale)
    for _ in range(max_iter):
        b = math.exp(logb)
        z = 0.0
        m1 = 0.0
        for j in range(k):
            dd = d2[i, j] - dmin
            e = math.exp(-b * dd)
            z += e
            m1 += dd * e
        h = math.log(z) + b * m1 / z
        if abs(h - target) < tol:
            break
        if h > target:  # too flat: sharpen
            lo = logb
        else:
            hi = logb
        logb = 0.5 * (lo + hi)
    return math.exp(logb)


@njit(inline="always")
def _conditional_row(i: int, indices: np.ndarray, d2: np.ndarray, beta: np.ndarray, code: int, p: np.ndarray) -> None:
    """Row i of ``conditional_affinities`` into ``p[i]``."""
    k = d2.shape[1]
    emax = -np.inf
    for j in range(k):
        e = -pair_beta(code, beta[i], beta[indices[i, j]]) * d2[i, j]
        p[i, j] = e
        emax = max(emax, e)
    z = 0.0
    for j in range(k):
        p[i, j] = math.exp(p[i, j] - emax)
        z += p[i, j]
    for j in range(k):
        p[i, j] /= z


@njit(error_model=NUMPY_ERRORS)
def _affinity_rows(
    first: int,
    last: int,
    calibrate: bool,
    d2: np.ndarray,
    perplexity: float,
    tol: float,
    max_iter: int,
    indices: np.ndarray,
    code: int,
    beta: np.ndarray,
    p: np.ndarray,
) -> None:
    """Rows ``first`` to ``last``: with ``calibrate``, ``beta`` (``calibrate_beta``), else ``p`` (``conditional_affinities``).

    One kernel for both stages, so a first call compiles one kernel rather than two (the
    arguments one stage does not use are empty arrays of the same types).
    """
    target = math.log(perplexity)
    for i in range(first, last):
        if calibrate:
            beta[i] = _calibrate_row(i, d2, target, tol, max_iter)
        else:
            _conditional_row(i, indices, d2, beta, code, p)


_NO_INDICES = np.empty((0, 0), dtype=np.int64)
_NO_P = np.empty((0, 0))


#: Up to this many rows both affinity stages run in numpy (``_calibrate_numpy``,
#: ``_conditional_numpy``: the same floating-point operations in the same order as the kernel,
#: tested equal), tens of milliseconds at these sizes, so that a first call need not compile
#: ``_affinity_rows`` (0.9 s). Above it, the kernel on threads.
NUMPY_MAX_ROWS = 4096


def _row_sums(a_t: np.ndarray) -> np.ndarray:
    """Sums over the first axis of ``a_t`` (k, m), added one row after the other from 0, as the kernels do."""
    acc = np.zeros(a_t.shape[1])
    for row in a_t:
        acc += row
    return acc


def _calibrate_numpy(d2: np.ndarray, perplexity: float, tol: float, max_iter: int) -> np.ndarray:
    """``_calibrate_row`` for all rows at once: the bisection of every row still short of the target, in step."""
    n, k = d2.shape
    target = math.log(perplexity)
    d2_t = np.ascontiguousarray(d2.T)
    dmin = d2.min(axis=1)
    mean = _row_sums(d2_t) / k - dmin
    log_scale = np.log(np.where(mean > 0.0, mean, 1.0))
    lo, hi, logb = -LOG_BETA_SPAN - log_scale, LOG_BETA_SPAN - log_scale, -log_scale
    dd_t = d2_t - dmin
    beta = np.empty(n)
    active = np.arange(n)
    for _ in range(max_iter):
        if active.size == 0:
            break
        b = np.exp(logb[active])
        dd = dd_t[:, active]
        e = np.exp(-b * dd)
        z = _row_sums(e)
        h = np.log(z) + b * _row_sums(dd * e) / z
        done = np.abs(h - target) < tol
        beta[active[done]] = b[done]
        active, h = active[~done], h[~done]
        sharpen = h > target  # too flat
        lo[active[sharpen]] = logb[active[sharpen]]
        hi[active[~sharpen]] = logb[active[~sharpen]]
        logb[active] = 0.5 * (lo[active] + hi[active])
    beta[active] = np.exp(logb[active])
    return beta


def _conditional_numpy(indices: np.ndarray, d2: np.ndarray, beta: np.ndarray, code: int) -> np.ndarray:
    """``_conditional_row`` for all rows at once."""
    b_i, b_j = beta[:, None], beta[indices]
    if code == 0:
        pair = 4.0 * b_i * b_j / (b_i + b_j + 2.0 * np.sqrt(b_i * b_j))
    elif code == 1:
        pair = np.sqrt(b_i * b_j)
    else:
        pair = np.broadcast_to(b_i, d2.shape)
    e = -pair * d2
    p_t = np.exp((e - e.max(axis=1)[:, None]).T)
    p_t /= _row_sums(p_t)
    return np.ascontiguousarray(p_t.T)


def calibrate_beta(d2: np.ndarray, perplexity: float, tol: float, max_iter: int) -> np.ndarray:
    """Per-row beta whose Gaussian over the squared distances ``d2`` (n, k) has the given perplexity.

    Entropies are in nats; a row meets the target when ``|H - log(perplexity)| < tol``. Rows run
    on threads (``run_rows``); up to ``NUMPY_MAX_ROWS`` rows, in numpy.
    """
    d2 = np.ascontiguousarray(d2, dtype=np.float64)
    if d2.shape[0] <= NUMPY_MAX_ROWS:
        return _calibrate_numpy(d2, float(perplexity), float(tol), int(max_iter))
    beta = np.empty(d2.shape[0])
    args = (True, d2, float(perplexity), float(tol), int(max_iter), _NO_INDICES, 0, beta, _NO_P)
    run_rows(_affinity_rows, d2.shape[0], *args, grain=256)
    return beta


def conditional_affinities(indices: np.ndarray, d2: np.ndarray, beta: np.ndarray, code: int) -> np.ndarray:
    """p_{j|i} over the kNN of each row with the pair bandwidth of ``code``; rows sum to 1 (rows on threads)."""
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    d2 = np.ascontiguousarray(d2, dtype=np.float64)
    beta = np.ascontiguousarray(beta, dtype=np.float64)
    if d2.shape[0] <= NUMPY_MAX_ROWS:
        return _conditional_numpy(indices, d2, beta, int(code))
    p = np.empty(d2.shape)
    run_rows(_affinity_rows, d2.shape[0], False, d2, 1.0, 0.0, 0, indices, int(code), beta, p, grain=512)
    return p


@njit
def _sort_rows(cols: np.ndarray, vals: np.ndarray) -> None:
    """Sort every row of ``cols`` (and ``vals`` along) by column, in place (insertion sort, stable; serial)."""
    n, k = cols.shape
    for i in range(n):
        for a in range(1, k):
            c, v = cols[i, a], vals[i, a]
            b = a - 1
            while b >= 0 and cols[i, b] > c:
                cols[i, b + 1], vals[i, b + 1] = cols[i, b], vals[i, b]
                b -= 1
            cols[i, b + 1], vals[i, b + 1] = c, v


@njit
def _transpose(cols: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR of the transpose of the (n, k) row lists: for every column j, the rows i that list it, ascending."""
    n, k = cols.shape
    ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        for t in range(k):
            ptr[cols[i, t] + 1] += 1
    for j in range(n):
        ptr[j + 1] += ptr[j]
    fill = ptr[:-1].copy()
    rows = np.empty(n * k, dtype=np.int64)
    rvals = np.empty(n * k)
    for i in range(n):
        for t in range(k):
            j = cols[i, t]
            rows[fill[j]], rvals[fill[j]] = i, vals[i, t]
            fill[j] += 1
    return ptr, rows, rvals


@njit(inline="always")
def _merge_row(
    cols: np.ndarray,
    vals: np.ndarray,
    i: int,
    ptr: np.ndarray,
    rows: np.ndarray,
    rvals: np.ndarray,
    out_cols: np.ndarray,
    out_vals: np.ndarray,
    at: int,
    write: bool,
) -> int:
    """Merge row i of C (sorted) with row i of C^T into C + C^T; return the number of nonzeros.

    Equal columns (on either side, or both) are summed; entries that sum to 0 are dropped.
    """
    k = cols.shape[1]
    a, b, b_end, count = 0, ptr[i], ptr[i + 1], 0
    while a < k or b < b_end:
        col = cols[i, a] if b >= b_end or (a < k and cols[i, a] <= rows[b]) else rows[b]
        value = 0.0
        while a < k and cols[i, a] == col:
            value += vals[i, a]
            a += 1
        while b < b_end and rows[b] == col:
            value += rvals[b]
            b += 1
        if value != 0.0:
            if write:
                out_cols[at + count], out_vals[at + count] = col, value
            count += 1
    return count


@njit(error_model=NUMPY_ERRORS)
def _count_rows(
    lo: int,
    hi: int,
    cols: np.ndarray,
    vals: np.ndarray,
    ptr: np.ndarray,
    rows: np.ndarray,
    rvals: np.ndarray,
    nnz: np.ndarray,
) -> None:
    """``nnz[i + 1]`` = the number of nonzeros of row i of C + C^T, for rows ``lo`` to ``hi``."""
    dummy_cols, dummy_vals = np.empty(0, dtype=np.int32), np.empty(0)
    for i in range(lo, hi):
        nnz[i + 1] = _merge_row(cols, vals, i, ptr, rows, rvals, dummy_cols, dummy_vals, 0, False)


@njit(error_model=NUMPY_ERRORS)
def _fill_rows(
    lo: int,
    hi: int,
    cols: np.ndarray,
    vals: np.ndarray,
    ptr: np.ndarray,
    rows: np.ndarray,
    rvals: np.ndarray,
    nnz: np.ndarray,
    out_cols: np.ndarray,
    out_vals: np.ndarray,
) -> None:
    """Rows ``lo`` to ``hi`` of C + C^T into ``out_cols``/``out_vals`` at the offsets ``nnz``."""
    for i in range(lo, hi):
        _merge_row(cols, vals, i, ptr, rows, rvals, out_cols, out_vals, nnz[i], True)


def _symmetric_csr(
    cols: np.ndarray, vals: np.ndarray, ptr: np.ndarray, rows: np.ndarray, rvals: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, data) of C + C^T from C's sorted row lists and C^T's CSR: count, then fill (rows on threads)."""
    n = cols.shape[0]
    nnz = np.zeros(n + 1, dtype=np.int64)
    run_rows(_count_rows, n, cols, vals, ptr, rows, rvals, nnz, grain=1024)
    np.cumsum(nnz, out=nnz)
    out_cols, out_vals = np.empty(nnz[n], dtype=np.int32), np.empty(nnz[n])
    run_rows(_fill_rows, n, cols, vals, ptr, rows, rvals, nnz, out_cols, out_vals, grain=1024)
    return nnz, out_cols, out_vals


#: ``symmetrise`` merges with numba kernels above this many kNN entries (n k), with scipy below:
#: scipy's merge costs about 0.1 s per million entries, the kernels a tenth of that, but they
#: take about 3 s to compile on a first call, which small data sets should not wait for.
SYMMETRISE_KERNEL_MIN = 1_000_000


def _symmetric_csr_scipy(cols: np.ndarray, vals: np.ndarray) -> sparse.csr_matrix:
    """C + C^T by scipy, C the (n, k) row lists: the same matrix, entry for entry, as ``_symmetric_csr``.

    Each entry is a single sum ``c_ij + c_ji`` (or one of them alone), so the order of the two
    merges cannot change it; sums equal to 0 are dropped by both.
    """
    n, k = cols.shape
    order = np.argsort(cols, axis=1, kind="stable")
    C = sparse.csr_matrix(
        (
            np.take_along_axis(vals, order, axis=1).ravel(),
            np.take_along_axis(cols, order, axis=1).ravel(),
            np.arange(0, n * k + 1, k),
        ),
        shape=(n, n),
    )
    S = (C + C.T.tocsr()).tocsr()
    S.sort_indices()
    return S


def symmetrise(indices: np.ndarray, p_cond: np.ndarray) -> sparse.csr_matrix:
    """p_ij = (p_{j|i} + p_{i|j}) / (2n) as a CSR matrix with sorted indices; entries sum to 1.

    Up to ``SYMMETRISE_KERNEL_MIN`` kNN entries by scipy; above, row lists are merged with their
    transpose by numba kernels (about 10 times faster than scipy's COO -> CSR, transpose and
    add, which took 0.23 s at 20 000 x 90). Both give the same matrix, entry for entry.
    """
    n = p_cond.shape[0]
    cols = np.array(indices, dtype=np.int64, order="C")
    vals = np.array(p_cond, dtype=np.float64, order="C")
    if cols.size <= SYMMETRISE_KERNEL_MIN:
        P = _symmetric_csr_scipy(cols, vals)
        P.data /= 2.0 * n
    else:
        _sort_rows(cols, vals)
        ptr, rows, rvals = _transpose(cols, vals)
        indptr, out_cols, out_vals = _symmetric_csr(cols, vals, ptr, rows, rvals)
        out_vals /= 2.0 * n
        P = sparse.csr_matrix((out_vals, out_cols, indptr), shape=(n, n))
    P.eliminate_zeros()  # subnormal sums that the division took to 0
    return P


def balance_affinities(
    P: sparse.csr_matrix, strength: float = 1.0, *, tol: float = 1e-4, max_iter: int = 1000
) -> sparse.csr_matrix:
    """The doubly stochastic rescaling diag(u) P diag(u) of a symmetric P, or part of the way there.

    Symmetric Sinkhorn-Knopp iteration: u_i <- u_i / sqrt(n u_i (P u)_i) until every row of
    diag(u) P diag(u) sums to 1/n within a relative ``tol``. ``strength`` a in [0, 1] returns
    diag(u^a) P diag(u^a) instead (normalised to sum 1): 0 leaves P as it is, 1 balances it fully,
    and 1/2 goes half the way in the logarithm of the scaling. Symmetrised perplexity affinities give the hubs
    of high-dimensional data (points near a cluster's centre, neighbours of many others) a total
    affinity several times 1/n; the embedding then packs them into a dense core that the data do
    not have. Balancing gives every point the same total attraction and keeps P's sparsity and
    symmetry (SNEkhorn, Van Assel et al. 2023, uses doubly stochastic affinities for the same reason).
    """
    P = sparse.csr_matrix(P, dtype=np.float64)
    n = P.shape[0]
    u = np.ones(n)
    for _ in range(max_iter):
        rows = n * u * (P @ u)
        if np.abs(rows - 1.0).max() < tol:
            break
        u /= np.sqrt(rows)
    u = u**strength
    out = (sparse.diags(u) @ P @ sparse.diags(u)).tocsr()
    out.data /= out.data.sum()
    out.sort_indices()
    return out


def check_balance(balance: float) -> None:
    """Raise a ``ValueError`` unless ``balance`` is a number in [0, 1] (see :func:`balance_affinities`)."""
    if not isinstance(balance, numbers.Real) or isinstance(balance, bool) or not 0.0 <= balance <= 1.0:
        msg = f"balance must be a number in [0, 1], got {balance!r}; 0 keeps t-SNE's affinities, 1 balances them fully."
        raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Affinities:
    """The input similarities of an embedding.

    Attributes
    ----------
    P
        Symmetric joint affinities p_ij (CSR, entries sum to 1).
    beta
        Calibrated bandwidth beta_i = 1 / (2 sigma_i^2) of every point (length n).
    perplexity
        The perplexity the bandwidths were calibrated to.
    """

    P: sparse.csr_matrix
    beta: np.ndarray
    perplexity: float


def perplexity_affinities(
    indices: np.ndarray,
    distances: np.ndarray,
    perplexity: float,
    *,
    pair_scale: str | None = "mean",
    balance: float = 0.0,
    tol: float = 1e-5,
    max_iter: int = 50,
) -> Affinities:
    """Sparse symmetric t-SNE/dtSNE affinities from kNN ``indices``/``distances`` (n, k), self excluded.

    Parameters
    ----------
    indices, distances
        Neighbours of every point and their (not squared) distances.
    perplexity
        Target perplexity; must be below the number of neighbours k.
    pair_scale
        Pair-bandwidth rule, ``"mean"`` or ``"geometric"``; ``None`` gives plain t-SNE affinities.
    balance
        How far to rescale the symmetrised P towards equal row sums 1/n (:func:`balance_affinities`):
        0 keeps t-SNE's P, 1 makes it doubly stochastic.
    tol, max_iter
        Bisection tolerance on the entropy (nats) and step limit.

    Returns
    -------
    The joint affinities and the calibrated bandwidths.
    """
    code = pair_scale_code(pair_scale)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    distances = np.asarray(distances, dtype=np.float64)
    if indices.shape != distances.shape or indices.ndim != 2:
        msg = f"indices {indices.shape} and distances {distances.shape} must be 2-D arrays of the same shape."
        raise ValueError(msg)
    k = indices.shape[1]
    if not 1.0 <= perplexity < k:
        msg = f"perplexity={perplexity} must be in [1, {k}) for {k} neighbours; lower it or use more neighbours."
        raise ValueError(msg)
    d2 = np.ascontiguousarray(distances**2)
    beta = calibrate_beta(d2, float(perplexity), float(tol), int(max_iter))
    p_cond = conditional_affinities(indices, d2, beta, code)
    P = symmetrise(indices, p_cond)
    check_balance(balance)
    if balance > 0.0:
        P = balance_affinities(P, balance)
    return Affinities(P=P, beta=beta, perplexity=float(perplexity))

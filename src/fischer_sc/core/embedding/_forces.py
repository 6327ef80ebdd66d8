"""t-SNE/dtSNE forces with a per-pair kernel scale, as serial numba kernels over row ranges run on threads.

With w_ij = 1 / (1 + gamma_ij ||y_i - y_j||^2) and Z = sum_{k != l} w_kl, the gradient of
KL(P || Q) is 4 sum_j (p_ij - w_ij / Z) gamma_ij w_ij (y_i - y_j). We keep the two halves apart
(and drop the constant 4, as openTSNE does, so its learning-rate convention carries over):

* attraction  A_i = sum_j p_ij gamma_ij w_ij (y_i - y_j) over the sparse edges of P;
* repulsion   R_i = sum_j gamma_ij w_ij^2 (y_i - y_j), to be divided by Z.

The kernels work with the squared width u_ij = 1 / gamma_ij (:func:`~._pair_scale.pair_width`):
w = u / (u + d^2), gamma w = 1 / (u + d^2) and gamma w^2 = u / (u + d^2)^2, one division a pair.

gamma_ij depends on the pair, not only on y_i - y_j, so Barnes-Hut and FFT interpolation do not
apply as they stand. Here the repulsion is exact (O(n^2) per iteration, O(n)
memory); :mod:`._bhtree` gives the Barnes-Hut approximation for large data. Every kernel writes
only its own rows, so results do not depend on the thread count.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from fischer_sc.core._numba import NUMPY_ERRORS, njit

from ._pair_scale import pair_width
from ._threads import run_rows


@njit(inline="always")
def sq_dist(y: np.ndarray, i: int, j: int) -> float:
    """||y_i - y_j||^2."""
    d2 = 0.0
    for c in range(y.shape[1]):
        diff = y[i, c] - y[j, c]
        d2 += diff * diff
    return d2


@njit(inline="always")
def add_pair_repulsion(y: np.ndarray, s: np.ndarray, code: int, i: int, j: int, out: np.ndarray) -> float:
    """Add gamma_ij w_ij^2 (y_i - y_j) to ``out[i]`` and return w_ij."""
    u = pair_width(code, s[i], s[j])
    inv = 1.0 / (u + sq_dist(y, i, j))
    f = u * inv * inv
    for c in range(y.shape[1]):
        out[i, c] += f * (y[i, c] - y[j, c])
    return u * inv


@njit(inline="always")
def edge_attraction(p: float, y: np.ndarray, s: np.ndarray, code: int, i: int, j: int) -> float:
    """p_ij gamma_ij w_ij = p_ij / (u_ij + d_ij^2): the attraction coefficient of the edge (i, j)."""
    return p / (pair_width(code, s[i], s[j]) + sq_dist(y, i, j))


#: Embeddings of up to this many dimensions take the attraction's register path (below).
LOW_DIM = 3


@njit(inline="always")
def _coord(y: np.ndarray, i: int, c: int) -> float:
    """y[i, c], or 0 for a dimension ``c`` the embedding does not have."""
    return y[i, c] if c < y.shape[1] else 0.0


@njit(inline="always")
def row_attraction(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    code: int,
    i: int,
    mirror: np.ndarray,
    use_mirror: bool,
) -> tuple[float, float, float]:
    """Row i's sum_j p_ij gamma_ij w_ij (y_i - y_j) for ``dim <= LOW_DIM``, as three scalars.

    With ``use_mirror``, each edge's term is also subtracted from ``mirror[j]``. The row's sum
    lives in three scalars until the row is done. Adding into ``out[i]`` edge by edge instead, as
    the generic path does, chains every edge to the last one through memory (the compiler cannot
    rule out that ``out`` aliases ``y``), which took half the kernel's time.
    """
    dim = y.shape[1]
    xi, yi, zi, si = _coord(y, i, 0), _coord(y, i, 1), _coord(y, i, 2), s[i]
    ax, ay, az = 0.0, 0.0, 0.0
    if dim == 2:  # the common case, without the branches on the dimension
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            dx, dy = xi - y[j, 0], yi - y[j, 1]
            f = data[e] / (pair_width(code, si, s[j]) + dx * dx + dy * dy)
            ax += f * dx
            ay += f * dy
            if use_mirror:
                mirror[j, 0] -= f * dx
                mirror[j, 1] -= f * dy
        return ax, ay, az
    for e in range(indptr[i], indptr[i + 1]):
        j = indices[e]
        dx, dy, dz = xi - _coord(y, j, 0), yi - _coord(y, j, 1), zi - _coord(y, j, 2)
        f = data[e] / (pair_width(code, si, s[j]) + dx * dx + dy * dy + dz * dz)
        ax += f * dx
        ay += f * dy
        az += f * dz
        if use_mirror:
            mirror[j, 0] -= f * dx
            if dim > 1:
                mirror[j, 1] -= f * dy
            if dim > 2:
                mirror[j, 2] -= f * dz
    return ax, ay, az


@njit(inline="always")
def _store_row(out: np.ndarray, i: int, ax: float, ay: float, az: float, add: bool) -> None:
    """Write (or with ``add``, add) a low-dimensional row sum into ``out[i]``."""
    dim = out.shape[1]
    if add:
        out[i, 0] += ax
        if dim > 1:
            out[i, 1] += ay
        if dim > 2:
            out[i, 2] += az
    else:
        out[i, 0] = ax
        if dim > 1:
            out[i, 1] = ay
        if dim > 2:
            out[i, 2] = az


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _attraction_rows(
    lo: int,
    hi: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    code: int,
    out: np.ndarray,
) -> None:
    """Rows ``lo`` to ``hi`` of ``attraction``."""
    dim = y.shape[1]
    for i in range(lo, hi):
        if dim <= LOW_DIM:
            ax, ay, az = row_attraction(indptr, indices, data, y, s, code, i, out, False)
            _store_row(out, i, ax, ay, az, False)
            continue
        for c in range(dim):
            out[i, c] = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            f = edge_attraction(data[e], y, s, code, i, j)
            for c in range(dim):
                out[i, c] += f * (y[i, c] - y[j, c])


def attraction(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    code: int,
    out: np.ndarray,
) -> None:
    """``out[i] = sum_j p_ij gamma_ij w_ij (y_i - y_j)`` over the CSR edges of P (rows on threads, ``run_rows``)."""
    run_rows(_attraction_rows, y.shape[0], indptr, indices, data, y, s, int(code), out, grain=512)


#: Row blocks of :func:`attraction_symmetric`, each with its own output buffer. Fixed, not the
#: thread count, so that the order of the final sums, and hence the result, never depends on it.
N_ATTRACTION_BLOCKS = 8
_NO_PULL = np.empty(0)


@njit(inline="always")
def block_rows(blk: int, n: int, n_blocks: int) -> tuple[int, int]:
    """The rows ``(lo, hi)`` of block ``blk`` when ``n`` rows are cut into ``n_blocks`` equal blocks."""
    per = (n + n_blocks - 1) // n_blocks
    lo, hi = blk * per, (blk + 1) * per
    return (n, n) if lo > n else (lo, n if n < hi else hi)


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _attraction_blocks(
    lo: int,
    hi: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    code: int,
    buffers: np.ndarray,
) -> None:
    """Row blocks ``lo`` to ``hi`` of ``attraction_symmetric``: block b zeroes rows ``first_b:`` of ``buffers[b]`` and adds into them."""
    n, dim = y.shape
    for blk in range(lo, hi):
        buf = buffers[blk]
        first, last = block_rows(blk, n, buffers.shape[0])
        buf[first:] = 0.0
        for i in range(first, last):
            if dim <= LOW_DIM:
                ax, ay, az = row_attraction(indptr, indices, data, y, s, code, i, buf, True)
                _store_row(buf, i, ax, ay, az, True)
                continue
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                f = edge_attraction(data[e], y, s, code, i, j)
                for c in range(dim):
                    g = f * (y[i, c] - y[j, c])
                    buf[i, c] += g
                    buf[j, c] -= g


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _attraction_blocks_planar(
    lo: int,
    hi: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    code: int,
    pull: np.ndarray,
    buffers: np.ndarray,
) -> None:
    """``_attraction_blocks`` for 2-D embeddings only: the same operations as ``row_attraction``'s 2-D path.

    A kernel of its own so that the default (2-D) call compiles no code for other dimensions.
    With a non-empty ``pull`` (length n), each edge's coefficient gains p_ij (pull_i + pull_j).
    With a third column in ``buffers``, it also collects sum_j p_ij ||y_i - y_j||^2 per point
    (``edge_sq_sums``, the density term's radii) from the same squared distances.
    """
    n = y.shape[0]
    with_pull = pull.shape[0] > 0
    with_sums = buffers.shape[2] > 2
    for blk in range(lo, hi):
        buf = buffers[blk]
        first, last = block_rows(blk, n, buffers.shape[0])
        buf[first:] = 0.0
        for i in range(first, last):
            xi, yi, si = y[i, 0], y[i, 1], s[i]
            ci = pull[i] if with_pull else 0.0
            ax, ay, sq = 0.0, 0.0, 0.0
            for e in range(indptr[i], indptr[i + 1]):
                # Unsigned indices: numba skips the wrap-around of negative ones (20 % faster).
                j = np.uint64(indices[e])
                dx, dy = xi - y[j, 0], yi - y[j, 1]
                d2 = dx * dx + dy * dy
                f = data[e] / (pair_width(code, si, s[j]) + d2)
                if with_pull:
                    f += data[e] * (ci + pull[j])
                ax += f * dx
                ay += f * dy
                buf[j, 0] -= f * dx
                buf[j, 1] -= f * dy
                if with_sums:
                    v = data[e] * d2
                    sq += v
                    buf[j, 2] += v
            buf[i, 0] += ax
            buf[i, 1] += ay
            if with_sums:
                buf[i, 2] += sq


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _sum_blocks(lo: int, hi: int, buffers: np.ndarray, out: np.ndarray) -> None:
    """Rows ``lo`` to ``hi`` of ``out`` = the sum of ``buffers`` over its first axis, in block order.

    Block b holds rows ``first_b:`` only (edges go from a row to later ones), so row i sums the
    blocks up to its own: about half the reads of summing all of them.
    """
    n_blocks, n, dim = buffers.shape
    per = (n + n_blocks - 1) // n_blocks
    for i in range(lo, hi):
        last_block = i // per
        for c in range(dim):
            acc = 0.0
            for blk in range(last_block + 1):
                acc += buffers[blk, i, c]
            out[i, c] = acc


def attraction_symmetric(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    code: int,
    buffers: np.ndarray,
    out: np.ndarray,
    pull: np.ndarray | None = None,
) -> None:
    """:func:`attraction` for a symmetric P given by its strict upper triangle (CSR, j > i).

    Each edge is evaluated once and its force added to both ends, with opposite signs: a third
    less time than visiting both directions. Row block b writes into rows ``first_b:`` of
    ``buffers[b]`` (``(N_ATTRACTION_BLOCKS, n, dim)``), which are summed in a fixed order at the
    end. Both steps are serial range kernels run on threads by ``run_rows`` (a ``parallel=True``
    kernel took about three times longer to compile).

    ``pull`` (2-D embeddings only) adds sum_j p_ij (pull_i + pull_j) (y_i - y_j) to ``out[i]``
    in the same walk: a second force over the same edges, such as the density term's
    (``DensityTerm.pull_coefficients``). With 2-D ``y``, ``buffers`` and ``out`` may have a third
    column, which then receives sum_j p_ij ||y_i - y_j||^2 (the density term's ``edge_sq_sums``).
    """
    n, dim = y.shape
    if buffers.ndim != 3 or buffers.shape[:2] != (N_ATTRACTION_BLOCKS, n) or out.shape != (n, buffers.shape[2]):
        msg = f"buffers {buffers.shape} and out {out.shape} do not fit {y.shape[0]} points."
        raise ValueError(msg)
    if buffers.shape[2] != dim and not (dim == 2 and buffers.shape[2] == 3):
        msg = f"buffers have {buffers.shape[2]} columns; expected {dim} (or 3 with 2-D y, for the squared sums)."
        raise ValueError(msg)
    if dim == 2:
        extra = _NO_PULL if pull is None else np.ascontiguousarray(pull, dtype=np.float64)
        if extra.shape[0] not in (0, y.shape[0]) or extra.ndim != 1:
            msg = f"pull has shape {extra.shape}; expected ({y.shape[0]},), one coefficient per point."
            raise ValueError(msg)
        args = (indptr, indices, data, y, s, int(code), extra, buffers)
        run_rows(_attraction_blocks_planar, buffers.shape[0], *args, grain=1)
    elif pull is None:
        run_rows(_attraction_blocks, buffers.shape[0], indptr, indices, data, y, s, int(code), buffers, grain=1)
    else:
        msg = f"pull is supported for 2-D embeddings only, got {y.shape[1]} dimensions."
        raise ValueError(msg)
    run_rows(_sum_blocks, y.shape[0], buffers, out, grain=4096)


def symmetric_upper(P: sparse.csr_matrix) -> sparse.csr_matrix | None:
    """The strict upper triangle of ``P`` (CSR, sorted indices) if ``P`` is symmetric, else ``None``.

    Symmetric means equal to its transpose within 1e-12 of its largest entry. The kernels that take
    a symmetric P by its upper triangle (``attraction_symmetric``, the density term's radii) visit
    each edge once and add it to both ends.
    """
    scale = float(np.abs(P.data).max()) if P.nnz else 0.0
    if P.nnz == 0 or abs(P - P.T).max() > 1e-12 * scale:
        return None
    upper = sparse.triu(P, k=1, format="csr")
    upper.sort_indices()
    return upper


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _repulsion_rows(
    lo: int, hi: int, y: np.ndarray, s: np.ndarray, code: int, out: np.ndarray, z_rows: np.ndarray
) -> None:
    """Rows ``lo`` to ``hi`` of ``repulsion_exact``."""
    n, dim = y.shape
    for i in range(lo, hi):
        for c in range(dim):
            out[i, c] = 0.0
        z = 0.0
        for j in range(n):
            if j != i:
                z += add_pair_repulsion(y, s, code, i, j, out)
        z_rows[i] = z


def repulsion_exact(y: np.ndarray, s: np.ndarray, code: int, out: np.ndarray, z_rows: np.ndarray) -> None:
    """``out[i] = sum_{j != i} gamma_ij w_ij^2 (y_i - y_j)`` and ``z_rows[i] = sum_{j != i} w_ij`` (rows on threads)."""
    run_rows(_repulsion_rows, y.shape[0], y, s, int(code), out, z_rows, grain=32)


@njit(error_model=NUMPY_ERRORS)
def _edge_log_rows(
    lo: int,
    hi: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    code: int,
    rows: np.ndarray,
) -> None:
    """Rows ``lo`` to ``hi`` of ``edge_log_kernel``."""
    for i in range(lo, hi):
        acc = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            acc -= data[e] * math.log1p(sq_dist(y, i, j) / pair_width(code, s[i], s[j]))
        rows[i] = acc


def edge_log_kernel(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, y: np.ndarray, s: np.ndarray, code: int
) -> np.ndarray:
    """Per row, ``sum_j p_ij log w_ij`` over the edges of P (the data term of the KL divergence)."""
    rows = np.zeros(y.shape[0])
    run_rows(_edge_log_rows, y.shape[0], indptr, indices, data, y, s, int(code), rows, grain=512)
    return rows


#: Up to this many points :func:`gradient_step` runs in numpy (the same operations, equal
#: results): O(n) work a few tens of microseconds an iteration at these sizes, and the first call
#: compiles one kernel fewer (0.5 s). Above it, the kernel.
NUMPY_STEP_MAX_N = 4096


def gradient_step(
    y: np.ndarray,
    grad: np.ndarray,
    update: np.ndarray,
    gains: np.ndarray,
    learning_rate: float,
    momentum: float,
    max_step_norm: float,
) -> None:
    """One delta-bar-delta step with momentum and a per-point step-norm cap, in place.

    Gains grow by 0.2 where the gradient reverses the last update's direction and shrink by a
    factor 0.8 where it keeps it (floor 0.01); steps longer than ``max_step_norm`` are cut to it.
    In numpy up to ``NUMPY_STEP_MAX_N`` points, above by the kernel ``_gradient_step``; both do
    the same floating-point operations in the same order (tested equal).
    """
    if y.shape[0] > NUMPY_STEP_MAX_N:
        _gradient_step(y, grad, update, gains, float(learning_rate), float(momentum), float(max_step_norm))
        return
    keep = grad * update >= 0.0
    np.add(gains, 0.2, out=gains, where=~keep)
    np.maximum(gains * 0.8, 0.01, out=gains, where=keep)
    update *= momentum
    update -= learning_rate * gains * grad
    norm2 = np.zeros(y.shape[0])
    for c in range(y.shape[1]):
        norm2 += update[:, c] * update[:, c]
    if max_step_norm > 0.0:
        long = np.flatnonzero(norm2 > max_step_norm * max_step_norm)
        if long.size:
            update[long] *= (max_step_norm / np.sqrt(norm2[long]))[:, None]
    y += update


@njit
def _gradient_step(
    y: np.ndarray,
    grad: np.ndarray,
    update: np.ndarray,
    gains: np.ndarray,
    learning_rate: float,
    momentum: float,
    max_step_norm: float,
) -> None:
    """``gradient_step`` as a serial kernel, for more than ``NUMPY_STEP_MAX_N`` points."""
    n, dim = y.shape
    # Serial: O(n dim) work is memory-bound and takes well under a millisecond at 100 000
    # points, while a parallel kernel costs seconds more to compile on the first call.
    for i in range(n):
        norm2 = 0.0
        for c in range(dim):
            if grad[i, c] * update[i, c] < 0.0:
                gains[i, c] += 0.2
            else:
                gains[i, c] = max(gains[i, c] * 0.8, 0.01)
            update[i, c] = momentum * update[i, c] - learning_rate * gains[i, c] * grad[i, c]
            norm2 += update[i, c] * update[i, c]
        if max_step_norm > 0.0 and norm2 > max_step_norm * max_step_norm:
            shrink = max_step_norm / math.sqrt(norm2)
            for c in range(dim):
                update[i, c] *= shrink
        for c in range(dim):
            y[i, c] += update[i, c]

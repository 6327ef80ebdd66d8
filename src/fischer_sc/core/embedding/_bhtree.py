"""Barnes-Hut repulsion for kernels with a per-pair scale, on a linear 2^d-tree of Morton-sorted points.

Barnes-Hut replaces a far cell's points by a pseudo-point at their centre of mass. dtSNE's kernel,
written in the pair's squared width u_ij = 1 / gamma_ij, is w = u / (u + d^2); it depends on the
pair's radii as well as on y_i - y_j, and a cell mixes points of different radii. Both pair scales
make u_ij a polynomial in s_j, (s_i + s_j)^2 / 4 for "mean" and s_i s_j for "geometric", so the
mean and the variance of u over a cell follow exactly from the cell's power sums of s.

A cell's contribution is its Taylor expansion to second order, in the spread of u around its
mean and in its points' positions around the centre of mass (their covariance), which makes the
repulsion and Z more accurate than a plain centre-of-mass pseudo-point at the same acceptance
(tested against a slow first-order reference and against the exact sums; the measured gain is in
docs/dtsne.md). The expansion's small parameter is
(cell side)^2 / (u + d^2), so a cell is accepted when its side is below theta times the kernel's
length scale sqrt(u + d^2), not theta times d as in plain Barnes-Hut: in the early iterations,
when all points lie within the kernel's width, this accepts large cells that a geometric test
would open. Cells
whose widths spread too much for the expansion (var(u) > (theta (u + d^2))^2) are opened.

The tree is rebuilt every iteration: Morton keys, a stable sort, and a breadth-first split of
the sorted keys into cells of ``2^d`` children. Points move little between iterations, so the
caller may pass the previous Morton order: the keys are then sorted starting from it, which a
stable (adaptive) sort does in nearly linear time. Points and radii are copied into Morton order,
so a cell's points are contiguous in memory; the traversal runs in parallel over blocks of
consecutive points, each block with its own stack, and writes only its own rows, so results do not
depend on the thread count.
"""

from __future__ import annotations

import numpy as np

from fischer_sc.core._numba import NUMPY_ERRORS, njit

from ._pair_scale import pair_width
from ._threads import run_rows

LEAF_SIZE = 4
#: Barnes-Hut runs on embeddings of up to 3 dimensions (as scikit-learn's): a 2^d-tree in more
#: dimensions visits too many cells to beat exact repulsion.
MAX_DIM = 3
#: Power sums of the radii kept per cell: (s_i + s_j)^2 / 4 has a cell variance in the first four.
N_MOMENTS = 4
_BLOCK = 256  # points per traversal block (one stack each)


@njit(inline="always")
def _spread3(x: int) -> int:
    """The bits of ``x`` (< 2^21) moved to the positions 0, 3, 6, ... of an int64."""
    x &= 0x1FFFFF
    x = (x | (x << 32)) & 0x1F00000000FFFF
    x = (x | (x << 16)) & 0x1F0000FF0000FF
    x = (x | (x << 8)) & 0x100F00F00F00F00F
    x = (x | (x << 4)) & 0x10C30C30C30C30C3
    return (x | (x << 2)) & 0x1249249249249249


@njit(inline="always")
def _bounding_cube(y: np.ndarray, corner: np.ndarray) -> float:
    """Fill ``corner`` with the lowest coordinates of ``y``; return the side of its bounding cube (never 0)."""
    n, dim = y.shape
    side = 0.0
    for c in range(dim):
        lo, hi = y[0, c], y[0, c]
        for i in range(1, n):
            lo = min(lo, y[i, c])
            hi = max(hi, y[i, c])
        corner[c] = lo
        side = max(side, hi - lo)
    return side * (1.0 + 1e-9) if side > 0.0 else 1.0


@njit(error_model=NUMPY_ERRORS)
def _morton_planar(y: np.ndarray, bits: int, corner: np.ndarray, keys: np.ndarray) -> float:
    """``_morton_spatial`` for 2-D points only (the default embedding compiles nothing else).

    The bounding cube and the bit spreading (``_spread3``'s for two axes) are written out:
    numba inlines a helper by copying and re-typing its IR, which costs compile time on the
    first call. Equal keys, side and corner as the 1-D/3-D code's steps.
    """
    n = y.shape[0]
    side = 0.0
    for c in range(2):
        lo, hi = y[0, c], y[0, c]
        for i in range(1, n):
            v = y[i, c]
            lo = v if v < lo else lo  # min(lo, v) and max(hi, v), as numba's builtins choose
            hi = v if v > hi else hi
        corner[c] = lo
        side = hi - lo if hi - lo > side else side
    side = side * (1.0 + 1e-9) if side > 0.0 else 1.0
    top = (1 << bits) - 1
    for i in range(n):
        key = 0
        for c in range(2):
            x = np.int64((y[i, c] - corner[c]) / side * top) & 0x00000000FFFFFFFF
            x = (x | (x << 16)) & 0x0000FFFF0000FFFF
            x = (x | (x << 8)) & 0x00FF00FF00FF00FF
            x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0F
            x = (x | (x << 2)) & 0x3333333333333333
            key = (key << 1) | ((x | (x << 1)) & 0x5555555555555555)
        keys[i] = key
    return side


@njit(error_model=NUMPY_ERRORS)
def _morton_spatial(y: np.ndarray, bits: int, corner: np.ndarray, keys: np.ndarray) -> float:
    """Fill ``corner`` (the bounding cube's lowest corner) and ``keys`` of 1-D or 3-D points; return the cube's side.

    Serial: O(n) integer work, under a tenth of a millisecond at 5 000 points. The interleaving
    spreads each quantised coordinate's bits with shifts and masks, the same key as taking the
    bits one at a time from the top, axis 0 first.
    """
    dim = y.shape[1]
    side = _bounding_cube(y, corner)
    top = (1 << bits) - 1
    for i in range(y.shape[0]):
        q0 = np.int64((y[i, 0] - corner[0]) / side * top)
        if dim == 1:
            keys[i] = q0
        else:
            q1 = np.int64((y[i, 1] - corner[1]) / side * top)
            q2 = np.int64((y[i, 2] - corner[2]) / side * top)
            keys[i] = (_spread3(q0) << 2) | (_spread3(q1) << 1) | _spread3(q2)
    return side


def morton_keys(y: np.ndarray, bits: int) -> tuple[np.ndarray, float, np.ndarray]:
    """Interleaved ``bits``-per-axis keys of ``y`` in its bounding cube; also the cube's side and corner.

    Keys are int64 (``bits * dim <= 63``, and ``bits <= 32`` in 2-D, ``<= 21`` in 3-D): numba
    turns mixed uint64/int64 arithmetic into float64, which made the tree build six times slower
    with unsigned keys.
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    n, dim = y.shape
    limit = {1: 62, 2: 31, 3: 21}.get(dim, 0)
    if not 1 <= bits <= limit:
        msg = f"Morton keys support 1 to {MAX_DIM} dimensions and at most 62, 31, 21 bits in 1, 2, 3; got {dim} and {bits}."
        raise ValueError(msg)
    corner, keys = np.empty(dim), np.empty(n, dtype=np.int64)
    side = (_morton_planar if dim == 2 else _morton_spatial)(y, int(bits), corner, keys)
    return keys, side, corner


def morton_order(keys: np.ndarray, hint: np.ndarray | None = None) -> np.ndarray:
    """The stable sorting permutation of ``keys``, computed from the permutation ``hint`` when given.

    A hint that is nearly right (the order of the previous iteration) leaves a nearly sorted
    array, which numpy's stable sort (timsort for 64-bit keys) finishes in close to linear time.
    (An insertion sort from the hint is slower: a small move that crosses a coarse cell boundary
    shifts a point by many places in Morton order.) Ties are broken by the hint, then by index,
    so the result is deterministic either way.
    """
    if hint is None or hint.shape != keys.shape:
        return np.argsort(keys, kind="stable")
    return hint[np.argsort(keys[hint], kind="stable")]


@njit(inline="always")
def _child_end(keys: np.ndarray, lo: int, hi: int, shift: int, mask: int, child: int) -> int:
    """First position in ``keys[lo:hi]`` whose digit at ``shift`` exceeds ``child`` (binary search)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if ((keys[mid] >> shift) & mask) <= child:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _build_tree_into(
    keys: np.ndarray,
    dim: int,
    bits: int,
    leaf_size: int,
    start: np.ndarray,
    stop: np.ndarray,
    level: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
) -> int:
    """Fill the node arrays breadth-first; return the number of nodes, or -1 when they are too short.

    The arrays are never reallocated in here: numba reference-counts arrays that a loop
    reassigns, which cost a factor of five.
    """
    n = keys.shape[0]
    cap = start.shape[0]
    start[0], stop[0], level[0], first[0], count[0] = 0, n, 0, 0, 0
    n_nodes = 1
    mask = (1 << dim) - 1
    node = 0
    while node < n_nodes:
        a, b, lev = start[node], stop[node], level[node]
        first[node], count[node] = 0, 0
        if b - a > leaf_size and lev < bits:
            if n_nodes + (1 << dim) > cap:
                return -1
            shift = (bits - 1 - lev) * dim
            first[node] = n_nodes
            p = a
            while p < b:
                q = _child_end(keys, p, b, shift, mask, (keys[p] >> shift) & mask)
                start[n_nodes], stop[n_nodes], level[n_nodes] = p, q, lev + 1
                n_nodes += 1
                count[node] += 1
                p = q
        node += 1
    return n_nodes


def build_tree(
    keys: np.ndarray, dim: int, bits: int, leaf_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells of the sorted ``keys``: (start, stop, level, first_child, n_children) per node, root first.

    Children of a node are stored contiguously; a node with ``n_children == 0`` is a leaf. A
    node's points share the key prefix of its level, so each child's end is a binary search for
    the next digit. Room for 2n nodes suffices unless many points share a cell down to the
    last level (duplicates); then the arrays double until they fit.
    """
    cap = 2 * keys.shape[0] + 16
    while True:
        arrays = tuple(np.empty(cap, dtype=np.int64) for _ in range(5))
        n_nodes = _build_tree_into(keys, dim, bits, leaf_size, *arrays)
        if n_nodes >= 0:
            return tuple(a[:n_nodes] for a in arrays)
        cap *= 2


# Columns of the node table: one row of 16 float64 (two cache lines) per node, so the traversal
# reads everything it needs about a cell from one place.
_COM = 0  # centre of mass x, y, z
_COV = 3  # covariance of the positions: xx, yy, zz, xy, xz, yz
_POW = 9  # mean of s^1 .. s^4 over the cell's points
_REACH2 = 13  # (cell width / theta)^2: the cell is far when u + d^2 exceeds it
_SIZE = 14  # number of points
_N_COLS = 16


@njit(error_model=NUMPY_ERRORS)
def _summarise_into(
    nodes: np.ndarray,
    pts: np.ndarray,
    ss: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    level: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    side: float,
    theta: float,
) -> np.ndarray:
    """The node table: per node its centre of mass, covariance, moments of s, reach and size.

    ``pts`` holds the points' coordinates as rows (``(MAX_DIM, n)``) in tree order. Leaves sum
    their points; then, from the last node to the first (nodes are stored breadth-first, so
    children come after their parent), each node adds up its children's raw sums. The sums
    become means and centred covariances at the end. Serial: O(n) work, a few per cent of the
    traversal, and a serial kernel compiles in a fraction of a parallel one's time. ``nodes``
    (m, ``_N_COLS``) comes zeroed from the caller.
    """
    m = start.shape[0]
    for node in range(m - 1, -1, -1):
        if count[node] == 0:
            # The leaf's raw sums (coordinates, their products, powers of s), written out here
            # rather than in a helper: numba's inlining of helpers costs compile time.
            for j in range(start[node], stop[node]):
                x, y, z = pts[0, j], pts[1, j], pts[2, j]
                nodes[node, _COM] += x
                nodes[node, _COM + 1] += y
                nodes[node, _COM + 2] += z
                nodes[node, _COV] += x * x
                nodes[node, _COV + 1] += y * y
                nodes[node, _COV + 2] += z * z
                nodes[node, _COV + 3] += x * y
                nodes[node, _COV + 4] += x * z
                nodes[node, _COV + 5] += y * z
                power = 1.0
                for k in range(N_MOMENTS):
                    power *= ss[j]
                    nodes[node, _POW + k] += power
        else:
            for ch in range(first[node], first[node] + count[node]):
                for c in range(_COM, _POW + N_MOMENTS):
                    nodes[node, c] += nodes[ch, c]
    for node in range(m):
        row = nodes[node]
        size = float(stop[node] - start[node])
        for c in range(_COM, _POW + N_MOMENTS):
            row[c] /= size
        x, y, z = row[_COM], row[_COM + 1], row[_COM + 2]
        d = row[_COV] - x * x
        row[_COV] = 0.0 if d < 0.0 else d  # max(d, 0.0) without the builtin's overload
        d = row[_COV + 1] - y * y
        row[_COV + 1] = 0.0 if d < 0.0 else d  # max(d, 0.0) without the builtin's overload
        d = row[_COV + 2] - z * z
        row[_COV + 2] = 0.0 if d < 0.0 else d  # max(d, 0.0) without the builtin's overload
        row[_COV + 3] -= x * y
        row[_COV + 4] -= x * z
        row[_COV + 5] -= y * z
        width = side / (1 << level[node])
        row[_REACH2] = width * width / (theta * theta)
        row[_SIZE] = size


def summarise(
    pts: np.ndarray,
    ss: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    level: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    side: float,
    theta: float,
) -> np.ndarray:
    """The node table of the tree (``_summarise_into``): per node its centre of mass, covariance, moments of s, reach and size."""
    nodes = np.zeros((start.shape[0], _N_COLS))
    _summarise_into(nodes, pts, ss, start, stop, level, first, count, float(side), float(theta))
    return nodes


def gather_sorted(y: np.ndarray, s: np.ndarray, order: np.ndarray, pts: np.ndarray, ss: np.ndarray) -> None:
    """Points and radii in tree order: ``pts[c, t] = y[order[t], c]`` (rows beyond y's dimension 0), ``ss[t] = s[order[t]]``.

    numpy fancy indexing: O(n) copies that need no kernel of their own.
    """
    dim = y.shape[1]
    for c in range(dim):
        np.take(y[:, c], order, out=pts[c])
    pts[dim:] = 0.0
    np.take(s, order, out=ss)


def scatter_back(
    rep_sorted: np.ndarray, z_sorted: np.ndarray, order: np.ndarray, rep: np.ndarray, z_rows: np.ndarray
) -> None:
    """Results from tree order back to the caller's order."""
    rep[order] = rep_sorted[:, : rep.shape[1]]
    z_rows[order] = z_sorted


@njit(inline="always")
def cell_width_moments(code: int, a: float, nodes: np.ndarray, node: int) -> tuple[float, float]:
    """Mean and variance of u_ij over the points j of a cell, for a point i with radius ``a``.

    From the cell's mean powers of s: u = (a + s)^2 / 4 needs the first four, u = a s two.
    """
    m1, m2 = nodes[node, _POW], nodes[node, _POW + 1]
    if code == 0:  # u = (a + s)^2 / 4
        m3, m4 = nodes[node, _POW + 2], nodes[node, _POW + 3]
        mean = 0.25 * (a * a + 2.0 * a * m1 + m2)
        a2 = a * a  # E[(a + s)^4] by Horner in a, without pow()
        second = (((a2 + 4.0 * a * m1 + 6.0 * m2) * a + 4.0 * m3) * a + m4) / 16.0
    elif code == 1:  # u = a s
        mean = a * m1
        second = a * a * m2
    else:
        return 1.0, 0.0
    var = second - mean * mean
    return mean, (0.0 if var < 0.0 else var)  # max(var, 0.0) without the builtin's overload


@njit(inline="always")
def _walk(
    p: int,
    pts: np.ndarray,
    ss: np.ndarray,
    code: int,
    start: np.ndarray,
    stop: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    nodes: np.ndarray,
    theta2: float,
    stack: np.ndarray,
    three: bool,
) -> tuple[float, float, float, float]:
    """The tree walk of point ``p``: its repulsion (x, y, z) and its row of Z.

    ``three`` is a constant at each call site: with ``False`` the compiler drops every term of
    the third coordinate, which makes 2-D embeddings 15 % faster than carrying zeros.
    """
    px, py, pz = pts[0], pts[1], pts[2]
    ax, ay, az, z = 0.0, 0.0, 0.0, 0.0
    sp, xp, yp = ss[p], px[p], py[p]
    zp = pz[p] if three else 0.0
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        a, b = start[node], stop[node]
        if count[node] == 0:
            for q in range(a, b):
                if q != p:
                    u = pair_width(code, sp, ss[q])
                    dx, dy = xp - px[q], yp - py[q]
                    dz = zp - pz[q] if three else 0.0
                    inv = 1.0 / (u + dx * dx + dy * dy + dz * dz)
                    z += u * inv
                    f = u * inv * inv
                    ax += f * dx
                    ay += f * dy
                    az += f * dz
            continue
        dx, dy = xp - nodes[node, _COM], yp - nodes[node, _COM + 1]
        dz = zp - nodes[node, _COM + 2] if three else 0.0
        d2 = dx * dx + dy * dy + dz * dz
        accept = not (a <= p < b)
        if accept:
            # The expansion below is in powers of (cell width)^2 / (u + d^2), the kernel's own
            # length scale at that distance: near cells are far enough when the kernel is flat
            # across them, and cells whose widths u spread too much are opened.
            u, var = cell_width_moments(code, sp, nodes, node)
            inv = 1.0 / (u + d2)
            accept = nodes[node, _REACH2] * inv < 1.0 and var * inv * inv < theta2
        if accept:
            # Taylor terms: u inv - u inv^2 tr(C) + 4 u inv^3 R'CR - d^2 var inv^3 for w, and
            # for the force R (u inv^2 - 2 u inv^3 tr(C) + 12 u inv^4 R'CR + (u - 2 d^2) var inv^4)
            # - 4 u inv^3 C R, with R = y_p - centre of mass.
            size = nodes[node, _SIZE]
            inv2 = inv * inv
            inv3 = inv2 * inv
            cxx, cyy, cxy = nodes[node, _COV], nodes[node, _COV + 1], nodes[node, _COV + 3]
            tr = cxx + cyy
            crx = cxx * dx + cxy * dy
            cry = cxy * dx + cyy * dy
            crz = 0.0
            if three:
                czz, cxz, cyz = nodes[node, _COV + 2], nodes[node, _COV + 4], nodes[node, _COV + 5]
                tr += czz
                crx += cxz * dz
                cry += cyz * dz
                crz = cxz * dx + cyz * dy + czz * dz
            rcr = dx * crx + dy * cry + dz * crz
            z += size * (u * inv - d2 * var * inv3 - u * inv2 * tr + 4.0 * u * inv3 * rcr)
            f = size * (
                u * inv2 + (u - 2.0 * d2) * var * inv2 * inv2 - 2.0 * u * inv3 * tr + 12.0 * u * inv2 * inv2 * rcr
            )
            g = -4.0 * size * u * inv3
            ax += f * dx + g * crx
            ay += f * dy + g * cry
            az += f * dz + g * crz
        else:
            for ch in range(first[node], first[node] + count[node]):
                stack[top] = ch
                top += 1
    return ax, ay, az, z


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _traverse_planar(
    lo: int,
    hi: int,
    pts: np.ndarray,
    ss: np.ndarray,
    code: int,
    start: np.ndarray,
    stop: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    nodes: np.ndarray,
    theta: float,
    stacks: np.ndarray,
    rep: np.ndarray,
    z_rows: np.ndarray,
) -> None:
    """Blocks ``lo`` to ``hi`` of ``traverse`` for embeddings of one or two dimensions (no third coordinate).

    The walk of ``_walk`` with ``three=False``, written out here with ``pair_width`` and
    ``cell_width_moments``: numba inlines a helper by copying and re-typing its IR at every call
    site, which made this kernel's compilation, paid on the first call, 0.6 s longer (2.1 vs
    1.5 s). The operations and their order are ``_walk``'s, so the results are equal
    (``tests/core/test_engine.py`` compares it with ``_traverse_spatial`` on planar points).
    """
    n = ss.shape[0]
    theta2 = theta * theta
    px, py = pts[0], pts[1]
    for blk in range(lo, hi):
        stack = stacks[blk]
        end = (blk + 1) * _BLOCK
        for p in range(blk * _BLOCK, n if n < end else end):
            ax, ay, z = 0.0, 0.0, 0.0
            sp, xp, yp = ss[p], px[p], py[p]
            stack[0] = 0
            top = 1
            while top > 0:
                top -= 1
                node = stack[top]
                a, b = start[node], stop[node]
                if count[node] == 0:
                    for q in range(a, b):
                        if q != p:
                            if code == 0:  # pair_width
                                m = sp + ss[q]
                                u = 0.25 * m * m
                            elif code == 1:
                                u = sp * ss[q]
                            else:
                                u = 1.0
                            dx, dy = xp - px[q], yp - py[q]
                            inv = 1.0 / (u + dx * dx + dy * dy)
                            z += u * inv
                            f = u * inv * inv
                            ax += f * dx
                            ay += f * dy
                    continue
                dx, dy = xp - nodes[node, _COM], yp - nodes[node, _COM + 1]
                d2 = dx * dx + dy * dy
                accept = not (a <= p < b)
                if accept:
                    m1, m2 = nodes[node, _POW], nodes[node, _POW + 1]  # cell_width_moments
                    if code == 0:
                        m3, m4 = nodes[node, _POW + 2], nodes[node, _POW + 3]
                        u = 0.25 * (sp * sp + 2.0 * sp * m1 + m2)
                        a2 = sp * sp
                        second = (((a2 + 4.0 * sp * m1 + 6.0 * m2) * sp + 4.0 * m3) * sp + m4) / 16.0
                    elif code == 1:
                        u = sp * m1
                        second = sp * sp * m2
                    else:
                        u, second = 1.0, 1.0
                    var = second - u * u
                    var = 0.0 if var < 0.0 else var
                    inv = 1.0 / (u + d2)
                    accept = nodes[node, _REACH2] * inv < 1.0 and var * inv * inv < theta2
                if accept:
                    size = nodes[node, _SIZE]
                    inv2 = inv * inv
                    inv3 = inv2 * inv
                    cxx, cyy, cxy = nodes[node, _COV], nodes[node, _COV + 1], nodes[node, _COV + 3]
                    tr = cxx + cyy
                    crx = cxx * dx + cxy * dy
                    cry = cxy * dx + cyy * dy
                    rcr = dx * crx + dy * cry
                    z += size * (u * inv - d2 * var * inv3 - u * inv2 * tr + 4.0 * u * inv3 * rcr)
                    f = size * (
                        u * inv2
                        + (u - 2.0 * d2) * var * inv2 * inv2
                        - 2.0 * u * inv3 * tr
                        + 12.0 * u * inv2 * inv2 * rcr
                    )
                    g = -4.0 * size * u * inv3
                    ax += f * dx + g * crx
                    ay += f * dy + g * cry
                else:
                    for ch in range(first[node], first[node] + count[node]):
                        stack[top] = ch
                        top += 1
            rep[p, 0], rep[p, 1], rep[p, 2] = ax, ay, 0.0
            z_rows[p] = z


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _traverse_spatial(
    lo: int,
    hi: int,
    pts: np.ndarray,
    ss: np.ndarray,
    code: int,
    start: np.ndarray,
    stop: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    nodes: np.ndarray,
    theta: float,
    stacks: np.ndarray,
    rep: np.ndarray,
    z_rows: np.ndarray,
) -> None:
    """Blocks ``lo`` to ``hi`` of ``traverse`` for three-dimensional embeddings."""
    n = ss.shape[0]
    theta2 = theta * theta
    for blk in range(lo, hi):
        stack = stacks[blk]
        end = (blk + 1) * _BLOCK
        for p in range(blk * _BLOCK, n if n < end else end):
            ax, ay, az, z = _walk(p, pts, ss, code, start, stop, first, count, nodes, theta2, stack, True)
            rep[p, 0], rep[p, 1], rep[p, 2] = ax, ay, az
            z_rows[p] = z


def traverse(
    pts: np.ndarray,
    ss: np.ndarray,
    code: int,
    start: np.ndarray,
    stop: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    nodes: np.ndarray,
    theta: float,
    depth: int,
    n_children: int,
    rep: np.ndarray,
    z_rows: np.ndarray,
) -> None:
    """For points in tree order: ``rep[p] ~ sum_q gamma w^2 (y_p - y_q)``, ``z_rows[p] ~ sum_q w``.

    Coordinates come as three rows (unused ones zero), so the inner loops work on scalars: 20 %
    faster than looping over a dimension axis. Embeddings of one or two dimensions (``n_children``
    below 8) take a walk compiled without the third coordinate, in a kernel of its own, so that
    a 2-D embedding never compiles the 3-D walk. An accepted cell contributes its
    averages to second order: in the spread of the kernel widths u over its points (variance var)
    and in its points' positions around the centre of mass (covariance C); a cell whose widths
    spread too much for that expansion is opened instead.

    The kernels are serial over a range of blocks of ``_BLOCK`` consecutive points (one stack a
    block) and run on threads by ``run_rows``: compiled with ``parallel=True`` the traversal
    took three times longer to compile. Each point's walk is the same whatever the split.
    """
    n_blocks = (ss.shape[0] + _BLOCK - 1) // _BLOCK
    kernel = _traverse_spatial if n_children == 8 else _traverse_planar
    stacks = np.empty((n_blocks, depth * n_children + 1), dtype=np.int64)  # one stack a block
    args = (pts, ss, int(code), start, stop, first, count, nodes, float(theta), stacks, rep, z_rows)
    run_rows(kernel, n_blocks, *args, grain=1)


def repulsion_barnes_hut(
    y: np.ndarray,
    s: np.ndarray,
    code: int,
    theta: float,
    rep: np.ndarray,
    z_rows: np.ndarray,
    order_hint: np.ndarray | None = None,
) -> np.ndarray:
    """Fill ``rep`` and ``z_rows`` like :func:`~fischer_sc.core.embedding._forces.repulsion_exact`, in O(n log n).

    ``y`` has at most ``MAX_DIM`` columns. ``order_hint`` is the Morton order returned by the
    previous call on slightly moved points; it only speeds up the sort. Returns the Morton order of ``y``.
    Embeddings of one or two dimensions walk the tree once per group of nearby points
    (``_bhgroup.traverse_grouped``: every accepted cell passes the per-point test for each point
    of the group, and the sums vectorise), three-dimensional ones once per point (``traverse``).
    """
    n, dim = y.shape
    if dim > MAX_DIM:
        msg = f"Barnes-Hut repulsion supports embeddings of at most {MAX_DIM} dimensions, got {dim}; use repulsion='exact'."
        raise ValueError(msg)
    bits = min(63 // dim, 21)
    keys, side, _ = morton_keys(y, bits)
    order = morton_order(keys, order_hint)
    start, stop, level, first, count = build_tree(keys[order], dim, bits, LEAF_SIZE)
    pts, ss = np.empty((MAX_DIM, n)), np.empty(n)
    gather_sorted(y, np.asarray(s, dtype=np.float64), order, pts, ss)
    nodes = summarise(pts, ss, start, stop, level, first, count, side, theta)
    rep_sorted, z_sorted = np.empty((n, MAX_DIM)), np.empty(n)
    depth = int(level[-1]) + 2  # breadth-first: the last node is the deepest
    if dim <= 2:
        from ._bhgroup import traverse_grouped  # imports this module's node-table layout

        traverse_grouped(pts, ss, code, start, stop, first, count, nodes, theta, depth, rep_sorted, z_sorted)
    else:
        traverse(pts, ss, code, start, stop, first, count, nodes, theta, depth, 1 << dim, rep_sorted, z_sorted)
    scatter_back(rep_sorted, z_sorted, order, rep, z_rows)
    return order

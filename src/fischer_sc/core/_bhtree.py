"""Barnes-Hut repulsion for kernels with a per-pair scale, on a linear 2^d-tree of Morton-sorted points.

Barnes-Hut replaces a far cell's points by one pseudo-point at their centre of mass. t-SNE's
kernel depends only on y_i - y_j, so the pseudo-point is exact to first order. dtSNE's kernel
w_ij = 1 / (1 + gamma_ij ||y_i - y_j||^2) also depends on the pair's radii, and a cell mixes
points of different radii. In the far field, where a cell is accepted, w ~ 1 / (gamma d^2), so
every term of the repulsion and of Z is proportional to 1 / gamma_ij. Both our pair scales make
1 / gamma_ij a polynomial in s_j, (s_i + s_j)^2 / 4 for "mean" and s_i s_j for "geometric", whose
cell average follows exactly from the cell's first two moments of s. We therefore give the
pseudo-point the effective scale gamma_eff = 1 / mean_cell(1 / gamma_ij): exact at the leading
order of the far-field expansion, the same order at which Barnes-Hut itself is accurate
(:func:`effective_gamma`, tested against the exact sum).

The tree is rebuilt every iteration: Morton keys, a stable argsort, and a breadth-first split of
the sorted keys into cells of ``2^d`` children; the traversal runs in parallel over blocks of
points in Morton order, each block with its own stack, and writes only its own rows, so results
do not depend on the thread count.
"""

from __future__ import annotations

import numba
import numpy as np

from ._forces import add_pair_repulsion
from ._numba import njit

LEAF_SIZE = 4
_BLOCK = 256  # points per traversal block (one stack each)


@njit
def morton_keys(y: np.ndarray, bits: int) -> tuple[np.ndarray, float, np.ndarray]:
    """Interleaved ``bits``-per-axis keys of ``y`` in its bounding cube; also the cube's side and corner."""
    n, dim = y.shape
    lo = np.empty(dim)
    side = 0.0
    for c in range(dim):
        lo[c] = y[:, c].min()
        side = max(side, y[:, c].max() - lo[c])
    side = side * (1.0 + 1e-9) if side > 0.0 else 1.0
    top = (1 << bits) - 1
    keys = np.empty(n, dtype=np.uint64)
    for i in range(n):
        key = np.uint64(0)
        for b in range(bits - 1, -1, -1):
            for c in range(dim):
                q = np.int64((y[i, c] - lo[c]) / side * top)
                key = (key << np.uint64(1)) | np.uint64((q >> b) & 1)
        keys[i] = key
    return keys, side, lo


@njit
def build_tree(
    keys: np.ndarray, dim: int, bits: int, leaf_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells of the sorted ``keys``: (start, stop, level, first_child, n_children) per node, root first.

    Children of a node are stored contiguously; a node with ``n_children == 0`` is a leaf.
    """
    n = keys.shape[0]
    cap = 2 * n + 16
    start = np.empty(cap, dtype=np.int64)
    stop = np.empty(cap, dtype=np.int64)
    level = np.empty(cap, dtype=np.int64)
    first = np.zeros(cap, dtype=np.int64)
    count = np.zeros(cap, dtype=np.int64)
    start[0], stop[0], level[0] = 0, n, 0
    n_nodes = 1
    mask = np.uint64((1 << dim) - 1)
    node = 0
    while node < n_nodes:
        a, b, lev = start[node], stop[node], level[node]
        if b - a > leaf_size and lev < bits:
            if n_nodes + (1 << dim) > cap:  # grow (only for pathological duplicate-heavy data)
                cap *= 2
                start = _grow(start, cap)
                stop = _grow(stop, cap)
                level = _grow(level, cap)
                first = _grow(first, cap)
                count = _grow(count, cap)
            shift = np.uint64((bits - 1 - lev) * dim)
            first[node] = n_nodes
            p = a
            while p < b:
                child = (keys[p] >> shift) & mask
                q = p + 1
                while q < b and ((keys[q] >> shift) & mask) == child:
                    q += 1
                start[n_nodes], stop[n_nodes], level[n_nodes] = p, q, lev + 1
                n_nodes += 1
                count[node] += 1
                p = q
        node += 1
    return start[:n_nodes], stop[:n_nodes], level[:n_nodes], first[:n_nodes], count[:n_nodes]


@njit
def _grow(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.zeros(cap, dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@njit
def summarise(
    y: np.ndarray,
    s: np.ndarray,
    order: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node: centre of mass, and the sums of s and s^2 (bottom-up: children come after parents)."""
    m = start.shape[0]
    dim = y.shape[1]
    com = np.zeros((m, dim))
    s1 = np.zeros(m)
    s2 = np.zeros(m)
    for node in range(m - 1, -1, -1):
        if count[node] == 0:
            for p in range(start[node], stop[node]):
                j = order[p]
                for c in range(dim):
                    com[node, c] += y[j, c]
                s1[node] += s[j]
                s2[node] += s[j] * s[j]
        else:
            for ch in range(first[node], first[node] + count[node]):
                size = stop[ch] - start[ch]
                for c in range(dim):
                    com[node, c] += com[ch, c] * size
                s1[node] += s1[ch]
                s2[node] += s2[ch]
        size = stop[node] - start[node]
        for c in range(dim):
            com[node, c] /= size
    return com, s1, s2


@njit(inline="always")
def effective_gamma(code: int, s_i: float, size: float, s1: float, s2: float) -> float:
    """1 / mean_j(1 / gamma_ij) over a cell with ``size`` points and sums ``s1`` (of s) and ``s2`` (of s^2)."""
    if code == 0:  # 1/gamma = (s_i + s_j)^2 / 4
        return 4.0 / (s_i * s_i + 2.0 * s_i * s1 / size + s2 / size)
    if code == 1:  # 1/gamma = s_i s_j
        return 1.0 / (s_i * s1 / size)
    return 1.0


@njit(parallel=True, fastmath=True)
def traverse(
    y: np.ndarray,
    s: np.ndarray,
    code: int,
    order: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    level: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    com: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    side: float,
    theta: float,
    rep: np.ndarray,
    z_rows: np.ndarray,
) -> None:
    """``rep[i] ~ sum_j gamma_ij w_ij^2 (y_i - y_j)`` and ``z_rows[i] ~ sum_j w_ij`` by Barnes-Hut."""
    n, dim = y.shape
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    depth = level.max() + 2
    # A cell is far when side / 2^level < theta * distance: compare squares, precomputed per node.
    reach2 = np.empty(level.shape[0])
    for node in range(level.shape[0]):
        width = side / (1 << level[node])
        reach2[node] = width * width / (theta * theta)
    for blk in numba.prange(n_blocks):
        stack = np.empty(depth * (1 << dim) + 1, dtype=np.int64)
        for p in range(blk * _BLOCK, min((blk + 1) * _BLOCK, n)):
            i = order[p]
            for c in range(dim):
                rep[i, c] = 0.0
            z = 0.0
            top = 0
            stack[0] = 0
            top = 1
            while top > 0:
                top -= 1
                node = stack[top]
                a, b = start[node], stop[node]
                if count[node] == 0:
                    for q in range(a, b):
                        j = order[q]
                        if j != i:
                            z += add_pair_repulsion(y, s, code, i, j, rep)
                    continue
                d2 = 0.0
                for c in range(dim):
                    diff = y[i, c] - com[node, c]
                    d2 += diff * diff
                if reach2[node] < d2 and not (a <= p < b):
                    size = float(b - a)
                    g = effective_gamma(code, s[i], size, s1[node], s2[node])
                    w = 1.0 / (1.0 + g * d2)
                    z += size * w
                    f = size * g * w * w
                    for c in range(dim):
                        rep[i, c] += f * (y[i, c] - com[node, c])
                else:
                    for ch in range(first[node], first[node] + count[node]):
                        stack[top] = ch
                        top += 1
            z_rows[i] = z


def repulsion_barnes_hut(
    y: np.ndarray, s: np.ndarray, code: int, theta: float, rep: np.ndarray, z_rows: np.ndarray
) -> None:
    """Fill ``rep`` and ``z_rows`` like :func:`~fischer_sc.core._forces.repulsion_exact`, in O(n log n)."""
    dim = y.shape[1]
    bits = min(63 // dim, 21)
    keys, side, _ = morton_keys(y, bits)
    order = np.argsort(keys, kind="stable")
    start, stop, level, first, count = build_tree(keys[order], dim, bits, LEAF_SIZE)
    com, s1, s2 = summarise(y, s, order, start, stop, first, count)
    traverse(y, s, code, order, start, stop, level, first, count, com, s1, s2, side, theta, rep, z_rows)

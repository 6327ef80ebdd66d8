"""Barnes-Hut repulsion of 2-D embeddings with one tree walk per group of nearby points.

The walk of ``_bhtree`` visits the tree once per point: at 5 000 points about 80 cells a
point, each visit a chain of dependent loads (node, its range, its row of the node table), which
made the walk latency-bound (about 11 ns a visit). Here the points are split into groups, the
cells of at most ``GROUP_SIZE`` points whose parent holds more, and each group walks the tree
once, with an acceptance test that holds for every point of the group: a cell is accepted when
its side is below ``theta`` times the kernel's length scale sqrt(u + d^2) at the *smallest* u
and distance d over the group (u grows with the point's radius, so its smallest value is at the
group's smallest radius; d is measured to the group's bounding box), and when the spread of u
over the cell, largest at the group's largest radius, is small enough. Accepted cells and the
points of the leaves that are not are copied into contiguous lists, and every point of the group
then sums over the lists in loops without branches that the compiler vectorises. A group's
own points are in its direct list.

Every accepted cell thus passes the per-point test of ``_bhtree`` for each point of the group:
finer cells (with the same second-order cell expansion) at the cost of more, cheaper,
interactions. The force error is below the per-point walk's at the same ``theta`` (2.1 % vs
2.3 % on the clustered set of ``tests/core/test_bhgroup.py``, 2.2 % vs 8.9 % on a converged
5 000-point embedding), and at 5 000 points the walk takes about two thirds of its time
(``benchmarks/results/first_call.md``). Each group writes only
its own rows, so the result does not depend on how groups are split over threads.
"""

from __future__ import annotations

import numpy as np

from fischer_sc.core._numba import NUMPY_ERRORS, njit

from ._bhtree import _COM, _COV, _POW, _REACH2, _SIZE
from ._threads import run_rows

#: Most points a group holds (one walk for all of them).
GROUP_SIZE = 32
#: Capacity of a group's lists of accepted cells and of direct points; a full list is summed
#: into the group's accumulators and emptied, so it bounds memory, not the walk.
LIST_CAPACITY = 1024
#: Groups are split into this many chunks, each with its own lists (not the thread count, so that
#: the buffers never depend on it).
N_CHUNKS = 16
# Fields of the cell list: centre of mass x, y, covariance xx, yy, xy, mean s and s^2,
# var(s), cov(s, s^2), var(s^2), size.
_CX, _CY, _CXX, _CYY, _CXY, _M1, _M2, _V1, _C12, _V2, _CN = range(11)
_N_CELL_FIELDS = 11


def width_coefficients(code: int) -> np.ndarray:
    """The mean pair width E[u] and its variance over a cell as polynomials in a point's radius a, per pair-scale code.

    u_ij = c0 a^2 + c1 a s_j + c2 s_j^2 + c3, so over a cell E[u] = c0 a^2 + c1 a m1 + c2 m2 + c3
    and var(u) = c0' a^2 var(s) + c1' a cov(s, s^2) + c2' var(s^2), with (c0', c1', c2') =
    (c1^2, 2 c1 c2, c2^2) = (1/4, 1/4, 1/16) for ``"mean"`` ((a + s)^2 / 4), (1, 0, 0) for
    ``"geometric"`` (a s) and 0 for plain t-SNE (u = 1). One loop without branches serves all
    three.
    """
    c = {0: (0.25, 0.5, 0.25, 0.0), 1: (0.0, 1.0, 0.0, 0.0)}.get(int(code), (0.0, 0.0, 0.0, 1.0))
    return np.array([c[0], c[1], c[2], c[3], c[1] * c[1], 2.0 * c[1] * c[2], c[2] * c[2]])


@njit(fastmath=True, error_model=NUMPY_ERRORS)
def _traverse_groups(
    lo: int,
    hi: int,
    pts: np.ndarray,
    ss: np.ndarray,
    cw: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    nodes: np.ndarray,
    theta: float,
    groups: np.ndarray,
    boxes: np.ndarray,
    chunk_bounds: np.ndarray,
    stacks: np.ndarray,
    cells: np.ndarray,
    direct: np.ndarray,
    accs: np.ndarray,
    rep: np.ndarray,
    z_rows: np.ndarray,
) -> None:
    """Chunks ``lo`` to ``hi`` of ``traverse_grouped``: chunk c walks groups ``chunk_bounds[c]`` to ``chunk_bounds[c + 1]``.

    ``boxes[g]`` is group g's (x min, x max, y min, y max, s min, s max). The walk fills the
    lists until one is full or the walk is done, then sums them for every point of the group,
    with the second-order cell terms of ``_bhtree._walk``. The group's own points go into the
    direct list too; each meets itself there with w = 1 and no force, which is taken off Z at the end.
    """
    theta2 = theta * theta
    px, py = pts[0], pts[1]
    cap_cells, cap_direct = cells.shape[2], direct.shape[2]
    c0, c1, c2, c3, e0, e1, e2 = cw[0], cw[1], cw[2], cw[3], cw[4], cw[5], cw[6]
    for chunk in range(lo, hi):
        stack, cl, dl, acc = stacks[chunk], cells[chunk], direct[chunk], accs[chunk]
        for gi in range(chunk_bounds[chunk], chunk_bounds[chunk + 1]):
            g = groups[gi]
            ga, gb = start[g], stop[g]
            xlo, xhi, ylo, yhi = boxes[gi, 0], boxes[gi, 1], boxes[gi, 2], boxes[gi, 3]
            slo, shi = boxes[gi, 4], boxes[gi, 5]
            for r in range(gb - ga):
                acc[r, 0], acc[r, 1], acc[r, 2] = 0.0, 0.0, 0.0
            n_direct = 0
            for q in range(ga, gb):  # the group's own points (gb - ga <= cap_direct)
                dl[0, n_direct], dl[1, n_direct], dl[2, n_direct] = px[q], py[q], ss[q]
                n_direct += 1
            n_cells = 0
            stack[0] = 0
            top = 1
            while True:
                while top > 0 and n_cells < cap_cells:
                    top -= 1
                    node = stack[top]
                    a, b = start[node], stop[node]
                    if a < gb and ga < b:  # the group, or a cell that holds it: open all but the group
                        if node != g:
                            for ch in range(first[node], first[node] + count[node]):
                                stack[top] = ch
                                top += 1
                        continue
                    if count[node] == 0:  # a leaf: its points directly (leaves fit in the list)
                        if n_direct + (b - a) > cap_direct:
                            top += 1  # back on the stack, after the lists are summed
                            break
                        for q in range(a, b):
                            dl[0, n_direct], dl[1, n_direct], dl[2, n_direct] = px[q], py[q], ss[q]
                            n_direct += 1
                        continue
                    cx, cy = nodes[node, _COM], nodes[node, _COM + 1]
                    ex = xlo - cx if xlo > cx else (cx - xhi if cx > xhi else 0.0)
                    ey = ylo - cy if ylo > cy else (cy - yhi if cy > yhi else 0.0)
                    m1, m2 = nodes[node, _POW], nodes[node, _POW + 1]
                    v1 = m2 - m1 * m1
                    c12 = nodes[node, _POW + 2] - m1 * m2
                    v2 = nodes[node, _POW + 3] - m2 * m2
                    # E[u] at the group's smallest radius, var(u) at its largest (both grow with it).
                    u = c0 * slo * slo + c1 * slo * m1 + c2 * m2 + c3
                    var = e0 * shi * shi * v1 + e1 * shi * c12 + e2 * v2
                    var = 0.0 if var < 0.0 else var
                    inv = 1.0 / (u + ex * ex + ey * ey)
                    if nodes[node, _REACH2] * inv < 1.0 and var * inv * inv < theta2:
                        cl[_CX, n_cells], cl[_CY, n_cells] = cx, cy
                        cl[_CXX, n_cells], cl[_CYY, n_cells] = nodes[node, _COV], nodes[node, _COV + 1]
                        cl[_CXY, n_cells] = nodes[node, _COV + 3]
                        cl[_M1, n_cells], cl[_M2, n_cells] = m1, m2
                        cl[_V1, n_cells], cl[_C12, n_cells], cl[_V2, n_cells] = v1, c12, v2
                        cl[_CN, n_cells] = nodes[node, _SIZE]
                        n_cells += 1
                    else:
                        for ch in range(first[node], first[node] + count[node]):
                            stack[top] = ch
                            top += 1
                # The lists' sums for every point of the group (the loops vectorise). Written out
                # here, not called: numba compiles a called kernel once more for a literal argument.
                for p in range(ga, gb):
                    sp, xp, yp = ss[p], px[p], py[p]
                    ax, ay, z = 0.0, 0.0, 0.0
                    base = c0 * sp * sp + c3
                    b1, ev0, ev1 = c1 * sp, e0 * sp * sp, e1 * sp
                    for t in range(n_cells):
                        dx, dy = xp - cl[_CX, t], yp - cl[_CY, t]
                        d2 = dx * dx + dy * dy
                        u = base + b1 * cl[_M1, t] + c2 * cl[_M2, t]
                        var = ev0 * cl[_V1, t] + ev1 * cl[_C12, t] + e2 * cl[_V2, t]
                        inv = 1.0 / (u + d2)
                        size = cl[_CN, t]
                        inv2 = inv * inv
                        inv3 = inv2 * inv
                        cxx, cyy, cxy = cl[_CXX, t], cl[_CYY, t], cl[_CXY, t]
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
                        g4 = -4.0 * size * u * inv3
                        ax += f * dx + g4 * crx
                        ay += f * dy + g4 * cry
                    for t in range(n_direct):
                        sq = dl[2, t]
                        u = base + (b1 + c2 * sq) * sq
                        dx, dy = xp - dl[0, t], yp - dl[1, t]
                        inv = 1.0 / (u + dx * dx + dy * dy)
                        z += u * inv
                        f = u * inv * inv
                        ax += f * dx
                        ay += f * dy
                    acc[p - ga, 0] += ax
                    acc[p - ga, 1] += ay
                    acc[p - ga, 2] += z
                n_cells, n_direct = 0, 0
                if top == 0:
                    break
            for p in range(ga, gb):
                rep[p, 0], rep[p, 1], rep[p, 2] = acc[p - ga, 0], acc[p - ga, 1], 0.0
                z_rows[p] = acc[p - ga, 2] - 1.0  # the point's own w = u / u


def group_nodes(start: np.ndarray, stop: np.ndarray, first: np.ndarray, count: np.ndarray, size: int) -> np.ndarray:
    """The groups: nodes of at most ``size`` points whose parent holds more (the root if it is small), by first point.

    Nodes are stored breadth-first with each node's children contiguous, so the parents of
    nodes 1, 2, ... are the internal nodes repeated by their child counts. The groups' point
    ranges partition the points.
    """
    m = start.shape[0]
    n_points = stop - start
    if n_points[0] <= size:
        return np.zeros(1, dtype=np.int64)
    parent = np.empty(m, dtype=np.int64)
    parent[0] = -1
    parent[1:] = np.repeat(np.arange(m), count)
    small = n_points <= size
    small[0] = False
    groups = np.flatnonzero(small & (n_points[np.maximum(parent, 0)] > size))
    return groups[np.argsort(start[groups], kind="stable")]


def traverse_grouped(
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
    rep: np.ndarray,
    z_rows: np.ndarray,
    group_size: int = GROUP_SIZE,
    capacity: int = LIST_CAPACITY,
) -> None:
    """For 2-D points in tree order: ``rep[p] ~ sum_q gamma w^2 (y_p - y_q)``, ``z_rows[p] ~ sum_q w``, one walk per group.

    The arguments are those of ``_bhtree.traverse`` (``pts`` as three rows, the third unused).
    Groups run in ``N_CHUNKS`` chunks on threads (``run_rows``), each chunk with its own stack
    and lists.
    """
    groups = group_nodes(start, stop, first, count, group_size)
    n_groups = groups.shape[0]
    n_chunks = min(N_CHUNKS, n_groups)
    # Chunks of about equal numbers of points.
    ends = stop[groups]
    chunk_bounds = np.searchsorted(ends, np.linspace(0, ss.shape[0], n_chunks + 1)[1:], side="left") + 1
    chunk_bounds = np.concatenate(([0], np.minimum(chunk_bounds, n_groups)))
    chunk_bounds[-1] = n_groups
    # Each group's bounding box and range of radii (its points are contiguous in tree order).
    cuts = start[groups]
    boxes = np.empty((n_groups, 6))
    for k, row in enumerate((pts[0], pts[1], ss)):
        boxes[:, 2 * k] = np.minimum.reduceat(row, cuts)
        boxes[:, 2 * k + 1] = np.maximum.reduceat(row, cuts)
    leaves = count == 0
    largest_leaf = int((stop[leaves] - start[leaves]).max())
    stacks = np.empty((n_chunks, depth * 4 + 1), dtype=np.int64)
    cells = np.empty((n_chunks, _N_CELL_FIELDS, capacity))
    direct = np.empty((n_chunks, 3, max(capacity, group_size + largest_leaf)))
    accs = np.empty((n_chunks, group_size, 3))
    args = (pts, ss, width_coefficients(code), start, stop, first, count, nodes, float(theta), groups, boxes)
    run_rows(_traverse_groups, n_chunks, *args, chunk_bounds, stacks, cells, direct, accs, rep, z_rows, grain=1)

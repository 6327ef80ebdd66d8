"""numba kernel of Mercat's neighbour term: kNN attraction against sampled repulsion on the sphere.

Angles are scale-free: the angle at j of (i, j, k) is the same however close i is to j, so the
angle loss alone places neighbourhoods but does not keep who is next to whom (kNN recall@15 on
Gaussian clusters 0.2-0.3x openTSNE's). This term adds, per vertex j and epoch, ``n_pos`` draws i
from kNN(j) and ``n_neg`` uniform negatives k shared by them, with a Cauchy kernel
q = s^2 / (s^2 + d^2) of the squared chord d^2 = 2 - 2 <y_a, y_b> and the InfoNCE loss

    L_j = sum_i -log(q_ij / (q_ij + S_j)),    S_j = sum_k q_jk,

whose gradients through the dot products a = <y_a, y_j> are, with Q_i = q_ij + S_j,

    d L_j / d a_ij = -2 (1 - q_ij / Q_i) / (s^2 + d_ij^2),
    d L_j / d a_jk = 2 q_jk / (s^2 + d_jk^2) * sum_i 1 / Q_i.

InfoNCE with a few dozen negatives behaves like t-SNE's normalised repulsion (Damrich et al.,
ICLR 2023), which keeps more neighbours than UMAP's per-pair negative sampling: on 10 Gaussian
clusters in 50-D, UMAP-style repulsion kept recall@15 at 0.15 whatever its weight, InfoNCE 0.21-0.24.
Only y_j moves (the ends are other vertices' own draws), so there is no scatter and no race. Each
vertex's gradient is multiplied by s, as the angle triples are by their chord, so a draw moves a
point by order one radian per unit weight at any n.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from fischer_sc.core._hashing import mix64
from fischer_sc.core._numba import njit

from ._kernels import draw_index

#: Salt of the neighbour term's draws, so they are independent of the triples' draws.
SALT = 0x2545F4914F6CDD1D


@njit(inline="always")
def neighbour_draw(seed: int, epoch: int, j: int, draw: int, n: int) -> int:
    """Draw ``draw`` of vertex ``j``'s neighbour term in ``epoch``: a uniform integer in [0, n).

    Draws 0 .. n_pos - 1 pick positions in kNN(j), draws n_pos .. n_pos + n_neg - 1 the negatives.
    """
    return draw_index(mix64(seed ^ SALT), epoch, j, draw, n)


@njit(parallel=True, fastmath=True)
def neighbour_gradient(
    y: np.ndarray,
    nbr: np.ndarray,
    n_pos: int,
    n_neg: int,
    seed: int,
    epoch: int,
    s2: float,
    weight: float,
    grad: np.ndarray,
    point_loss: np.ndarray,
) -> None:
    """Add ``weight * s`` times the gradient of L_j by y_j (ambient) to ``grad[j]``; L_j to ``point_loss[j]``."""
    n = y.shape[0]
    k_nb = nbr.shape[1]
    s = np.sqrt(s2)
    for j in prange(n):
        # Pass 1: the negatives' kernel sum S_j (a negative equal to j is skipped, marked -1); the
        # draws and their kernel denominators s^2 + d^2 are kept for pass 2.
        negs = np.empty(n_neg, dtype=np.int64)
        dens = np.empty(n_neg)
        total = 0.0
        for q in range(n_neg):
            k = neighbour_draw(seed, epoch, j, n_pos + q, n)
            negs[q] = -1 if k == j else k
            if k == j:
                continue
            a = y[k, 0] * y[j, 0] + y[k, 1] * y[j, 1] + y[k, 2] * y[j, 2]
            dens[q] = s2 + max(2.0 - 2.0 * a, 0.0)
            total += s2 / dens[q]
        # The positives: attraction, and the sum of 1 / Q_i that scales every negative's push.
        g0 = 0.0
        g1 = 0.0
        g2 = 0.0
        inv_sum = 0.0
        loss = 0.0
        for p in range(n_pos):
            i = nbr[j, neighbour_draw(seed, epoch, j, p, k_nb)]
            if i < 0 or i == j:
                continue
            a = y[i, 0] * y[j, 0] + y[i, 1] * y[j, 1] + y[i, 2] * y[j, 2]
            d2 = max(2.0 - 2.0 * a, 0.0)
            q_ij = s2 / (s2 + d2)
            big_q = q_ij + total
            loss -= np.log(q_ij / big_q)
            inv_sum += 1.0 / big_q
            coef = -2.0 * (1.0 - q_ij / big_q) / (s2 + d2)
            g0 += coef * y[i, 0]
            g1 += coef * y[i, 1]
            g2 += coef * y[i, 2]
        # Pass 2: the negatives' pushes.
        if inv_sum > 0.0:
            for q in range(n_neg):
                k = negs[q]
                if k < 0:
                    continue
                coef = 2.0 * s2 / (dens[q] * dens[q]) * inv_sum
                g0 += coef * y[k, 0]
                g1 += coef * y[k, 1]
                g2 += coef * y[k, 2]
        grad[j, 0] += weight * s * g0
        grad[j, 1] += weight * s * g1
        grad[j, 2] += weight * s * g2
        point_loss[j] = loss

"""A density term for t-SNE-like objectives: the correlation of log local radii, data against embedding.

densMAP (Narayan et al. 2021) adds -lambda * Corr(log R_X, log R_Y) to UMAP's loss, with a point's
local radius R(i) the affinity-weighted mean squared distance to its neighbours. We add the same
kind of term to KL(P || Q), with the radii taken over the edges of P on both sides:

    R_X(i) = sum_j p_ij ||x_i - x_j||^2 / sum_j p_ij,   R_Y(i) = sum_j p_ij ||y_i - y_j||^2 / sum_j p_ij

With fixed weights p_ij, R_Y is a quadratic in y, so the gradient of the correlation is a sparse
sum over the edges of P (O(nnz) per iteration, like the attraction):

    d/dy_k sum_i a_i log R_Y(i) = sum_j 2 p_kj (a_k / S_k + a_j / S_j) (y_k - y_j),

with S_i = sum_j p_ij ||y_i - y_j||^2 and a_i = dCorr / d log R_Y(i) = (o_i - r e_i) / (n sd_e),
o and e the standardised log radii, r their correlation, sd_e the standard deviation of log R_Y.

Why a term is needed in high dimensions: the data's radii there vary little (distances
concentrate; inside a 50-D Gaussian cluster the standard deviation of log r_15 is about 0.05, and
clusters of equal spread but different sizes differ by (1/D) log(size ratio)), so dtSNE's per-point
kernel widths, which come from the same radii, barely differ, and the embedding's own layout noise
(about 0.16 in log radius for a random-like 2-D arrangement) swamps them. The correlation is
scale-free: its gradient grows as the embedding's radii vary less, so it amplifies the
small, real differences until they stand above that noise.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from fischer_sc.core._numba import NUMPY_ERRORS, njit

from ._threads import run_rows


@njit(error_model=NUMPY_ERRORS)
def _edge_sq_sums_rows(
    lo: int, hi: int, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, y: np.ndarray, out: np.ndarray
) -> None:
    """Rows ``lo:hi`` of :func:`edge_sq_sums`."""
    dim = y.shape[1]
    for i in range(lo, hi):
        acc = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            d2 = 0.0
            for c in range(dim):
                diff = y[i, c] - y[j, c]
                d2 += diff * diff
            acc += data[e] * d2
        out[i] = acc


@njit(error_model=NUMPY_ERRORS)
def _edge_pull_rows(
    lo: int,
    hi: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    b: np.ndarray,
    y: np.ndarray,
    out: np.ndarray,
) -> None:
    """Rows ``lo:hi`` of :func:`edge_pull`."""
    dim = y.shape[1]
    for i in range(lo, hi):
        for c in range(dim):
            out[i, c] = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            f = data[e] * (b[i] + b[j])
            for c in range(dim):
                out[i, c] += f * (y[i, c] - y[j, c])


def edge_sq_sums(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = sum_j p_ij ||y_i - y_j||^2`` over the CSR edges of P (rows on threads, ``run_rows``)."""
    run_rows(_edge_sq_sums_rows, y.shape[0], indptr, indices, data, y, out, grain=512)


def edge_pull(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, b: np.ndarray, y: np.ndarray, out: np.ndarray
) -> None:
    """``out[i] = sum_j p_ij (b_i + b_j) (y_i - y_j)`` over the CSR edges of P (rows on threads, ``run_rows``)."""
    run_rows(_edge_pull_rows, y.shape[0], indptr, indices, data, b, y, out, grain=512)


def log_radii(P: sparse.csr_matrix, x: np.ndarray) -> np.ndarray:
    """Log-radii log R(i), with R(i) = sum_j p_ij ||x_i - x_j||^2 / sum_j p_ij over the stored edges of ``P``."""
    P = sparse.csr_matrix(P, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    sums = np.empty(P.shape[0])
    edge_sq_sums(P.indptr, P.indices, P.data, x, sums)
    weight = np.asarray(P.sum(axis=1)).ravel()
    return np.log(np.maximum(sums, 1e-300) / np.maximum(weight, 1e-300))


class DensityTerm:
    """-weight * Corr(log R_X, log R_Y) over the edges of a symmetric ``P``, and its gradient.

    Parameters
    ----------
    P
        Symmetric affinities (CSR), both directions of every edge stored.
    target
        log R_X(i) of the data (:func:`log_radii`), length n.
    weight
        lambda; the gradient is returned without the KL gradient's factor 4, so it adds to the
        optimiser's gradient as it is.
    """

    def __init__(self, P: sparse.csr_matrix, target: np.ndarray, weight: float) -> None:
        P = sparse.csr_matrix(P, dtype=np.float64)
        P.sort_indices()
        self.indptr, self.indices, self.data = P.indptr, P.indices, P.data
        t = np.asarray(target, dtype=np.float64)
        sd = t.std()
        self.o = (t - t.mean()) / sd if sd > 0 else np.zeros_like(t)
        self.weight = float(weight)
        n = P.shape[0]
        self.log_weight = np.log(np.maximum(np.asarray(P.sum(axis=1)).ravel(), 1e-300))
        self.sums, self.b = np.empty(n), np.empty(n)
        self.correlation = float("nan")

    def uses(self, P: sparse.csr_matrix) -> bool:
        """Whether this term was built on the edges of ``P`` (so its pull can ride on P's attraction)."""
        P = sparse.csr_matrix(P)
        return (
            P.shape[0] == self.indptr.size - 1
            and np.array_equal(P.indptr, self.indptr)
            and np.array_equal(P.indices, self.indices)
            and np.array_equal(P.data, self.data)
        )

    def radii_sums(self, y: np.ndarray) -> np.ndarray:
        """S_i = sum_j p_ij ||y_i - y_j||^2 at ``y`` (a walk over the edges of P); a buffer reused by the next call.

        The optimiser's default path does not call this: where the term rides on the attraction,
        the attraction kernel collects these sums in its own walk over P's upper triangle.
        """
        edge_sq_sums(self.indptr, self.indices, self.data, y, self.sums)
        return self.sums

    def pull_coefficients(self, y: np.ndarray, sums: np.ndarray | None = None) -> np.ndarray:
        """Per-point c_i with gradient_i = sum_j p_ij (c_i + c_j) (y_i - y_j); records the correlation.

        The gradient is a sparse pull over the edges of P with these coefficients, so an
        attraction kernel that walks the same edges can add it at the cost of one multiply-add
        per edge (``pull`` of ``attraction_symmetric``) instead of a second walk. ``sums``: the
        S_i to use instead of walking the edges at ``y`` (the optimiser passes those its
        attraction collected one iteration earlier).
        """
        n = y.shape[0]
        s = np.maximum(self.radii_sums(y) if sums is None else sums, 1e-300)
        e = np.log(s) - self.log_weight
        sd = e.std()
        if sd <= 0:
            self.b[:] = 0.0
            return self.b
        e = (e - e.mean()) / sd
        r = float(np.mean(self.o * e))
        self.correlation = r
        np.divide((self.o - r * e) / (n * sd), s, out=self.b)
        # d(-w r)/dy = -w * 2 * pull(b); the optimiser's gradient omits the factor 4.
        self.b *= -0.5 * self.weight
        return self.b

    def gradient(self, y: np.ndarray, out: np.ndarray) -> None:
        """Fill ``out`` with d(-weight Corr) / dy / 4 at ``y``; records the correlation."""
        edge_pull(self.indptr, self.indices, self.data, self.pull_coefficients(y), y, out)

"""Prior knowledge as distances D^Z and as affinities P': labels, features, sparse graphs, dense matrices.

A prior is kept in its compact form (label codes, a feature matrix, a sparse distance graph) and
only expanded row block by row block, so that no n x n matrix exists unless the user passed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse

from ._defaults import TSNE_DEFAULTS, perplexity_for_neighbours
from ._select import select_rows

PriorKind = Literal["labels", "features", "graph", "dense"]
PRIOR_KINDS: tuple[str, ...] = ("labels", "features", "graph", "dense")


@dataclass(frozen=True)
class Prior:
    """A prior over n points and the distance D^Z it defines.

    Attributes
    ----------
    kind
        ``"labels"`` (D^Z_ij = 0 for the same label, 1 otherwise), ``"features"`` (Euclidean
        distance between rows), ``"graph"`` (a sparse distance graph; missing pairs are as far as
        the farthest stored pair) or ``"dense"`` (an (n, n) distance matrix given by the user).
    values
        Integer label codes (n,), features (n, d), a CSR graph or a dense (n, n) array.
    description
        Text describing where the prior came from (stored in ``uns``).
    """

    kind: PriorKind
    values: np.ndarray | sparse.csr_matrix
    description: str

    def __post_init__(self) -> None:
        v = self.values
        if self.kind not in PRIOR_KINDS:
            msg = f"kind={self.kind!r} is not one of {', '.join(map(repr, PRIOR_KINDS))}."
            raise ValueError(msg)
        if self.kind == "graph" and not sparse.issparse(v):
            msg = "a graph prior must be a sparse (n, n) distance matrix."
            raise TypeError(msg)
        ndim = {"labels": 1, "features": 2, "graph": 2, "dense": 2}[self.kind]
        if len(v.shape) != ndim or (self.kind in ("graph", "dense") and v.shape[0] != v.shape[1]):
            shape = "(n,)" if ndim == 1 else "(n, n)" if self.kind in ("graph", "dense") else "(n, d)"
            msg = f"a {self.kind} prior must have shape {shape}, got {v.shape}."
            raise ValueError(msg)
        if self.kind == "labels" and not np.issubdtype(np.asarray(v).dtype, np.integer):
            msg = f"a label prior holds integer codes, got dtype {np.asarray(v).dtype}; factorise the labels first."
            raise TypeError(msg)

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.values.shape[0])

    def permuted(self, perm: np.ndarray) -> Prior:
        """The prior with point ``i`` given the value of point ``perm[i]`` (independent of any layout for a random ``perm``)."""
        v = self.values
        if self.kind in ("labels", "features"):
            return Prior(self.kind, v[perm], self.description)
        v = v[perm][:, perm]
        return Prior(self.kind, sparse.csr_matrix(v) if self.kind == "graph" else v, self.description)

    def max_distance(self, rng: np.random.Generator) -> float:
        """The largest D^Z: exact for labels, graphs and dense matrices, estimated for features."""
        if self.kind == "labels":
            return 1.0 if np.unique(self.values).size > 1 else 0.0
        if self.kind == "graph":
            return float(self.values.data.max()) if self.values.nnz else 0.0
        if self.kind == "dense":
            return float(np.max(self.values))
        from ._confetti import estimate_max_distance

        return estimate_max_distance(self.values, rng)

    def block(self, lo: int, hi: int) -> np.ndarray:
        """D^Z of rows ``lo:hi`` to all points, (hi - lo, n); graph pairs without an edge are ``inf``."""
        v = self.values
        if self.kind == "labels":
            return (v[lo:hi, None] != v[None, :]).astype(np.float64)
        if self.kind == "features":
            return euclidean_block(v, lo, hi)
        if self.kind == "dense":
            return np.asarray(v[lo:hi], dtype=np.float64)
        rows = v[lo:hi]
        out = np.full((hi - lo, self.n), np.inf)
        r, c = rows.nonzero()
        out[r, c] = np.asarray(rows[r, c]).ravel()
        out[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
        return out


def prior_from_array(
    values: np.ndarray | sparse.spmatrix, n: int, description: str | None = None, *, what: str = "prior"
) -> Prior:
    """The prior of a finite numeric array over ``n`` points: a distance graph, a distance matrix or features.

    A sparse matrix is a distance graph (non-negative, (n, n)). A dense (n, n) array that is
    symmetric, non-negative and zero on the diagonal is a distance matrix; any other (n, d) array,
    or a vector (n,) of numbers, holds features whose Euclidean distance is D^Z. Labels are not
    numbers: pass their integer codes as ``Prior("labels", codes, description)``. ``what`` names
    the array in error messages; the caller checks that the values are finite. ``description``
    defaults to a text naming the kind of a user-supplied array.
    """
    if sparse.issparse(values):
        g = sparse.csr_matrix(values, dtype=np.float64)
        if g.shape != (n, n):
            msg = f"{what}: a sparse prior must be an (n_obs, n_obs) = ({n}, {n}) distance graph, got {g.shape}."
            raise ValueError(msg)
        if (g.data < 0).any():
            msg = f"{what} has negative entries; a sparse prior must hold distances."
            raise ValueError(msg)
        return Prior("graph", g, description or "user-supplied sparse distance graph")
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim not in (1, 2):
        msg = f"{what} must be (n,) numbers, (n, d) features or (n, n) distances, got shape {arr.shape}."
        raise ValueError(msg)
    if arr.shape[0] != n:
        msg = f"{what} has {arr.shape[0]} rows for {n} observations."
        raise ValueError(msg)
    if arr.ndim == 1:
        return Prior("features", arr[:, None], description or "user-supplied numbers (absolute difference)")
    if arr.shape == (n, n) and np.allclose(arr, arr.T) and np.allclose(np.diag(arr), 0) and (arr >= 0).all():
        return Prior("dense", arr, description or "user-supplied (n, n) distance matrix")
    default = f"Euclidean distance on user-supplied features ({arr.shape[1]} dimensions)"
    return Prior("features", arr, description or default)


def euclidean_block(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Euclidean distances of rows ``lo:hi`` of ``x`` to all rows (hi - lo, n), clipped at 0 before the root."""
    sq = np.einsum("ij,ij->i", x, x)
    d2 = sq[lo:hi, None] - 2.0 * (x[lo:hi] @ x.T) + sq[None, :]
    d = np.sqrt(np.maximum(d2, 0.0))
    d[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
    return d


def prior_knn(prior: Prior, k: int, *, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest neighbours of every point under D^Z (self excluded), for non-label priors."""
    from ._knn import knn, knn_from_graph

    if prior.kind == "features":
        return knn(prior.values, k, random_state=random_state)
    if prior.kind == "graph":
        g = prior.values
        k_avail = int(np.diff(g.indptr).min()) if g.shape[0] else 0
        if k_avail < 1:
            msg = "the prior graph has points without neighbours; every row needs at least one stored distance."
            raise ValueError(msg)
        return knn_from_graph(g, min(k, k_avail))
    if prior.kind == "dense":
        n = prior.n
        idx = np.empty((n, k), dtype=np.int64)
        dist = np.empty((n, k))
        for lo in range(0, n, 1024):
            hi = min(n, lo + 1024)
            d = np.array(prior.block(lo, hi), dtype=np.float64, order="C")
            d[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
            select_rows(d, k, idx[lo:hi], dist[lo:hi])
        return idx, dist
    msg = f"prior_knn does not apply to {prior.kind!r} priors; a label prior has no neighbour order."
    raise ValueError(msg)


def prior_affinities(prior: Prior, perplexity: float, *, random_state: int = 0) -> tuple[sparse.csr_matrix, float]:
    """P' of a non-label prior: perplexity-calibrated affinities on its 3 * perplexity nearest neighbours.

    (The uniform label prior is never stored: see :class:`~fischer_sc.core.embedding.JediLabelRepulsion`.)

    Parameters
    ----------
    prior
        The prior (``"features"``, ``"graph"`` or ``"dense"``).
    perplexity
        Perplexity of P' (the "desired neighbourhood size in the prior space").
    random_state
        Seed of an approximate kNN search.

    Returns
    -------
    ``(P', perplexity)``: the symmetric CSR prior affinities summing to 1, and the perplexity
    actually used (lower than asked when there are too few neighbours).
    """
    from ._affinities import perplexity_affinities

    n = prior.n
    k = max(1, min(n - 1, math.floor(TSNE_DEFAULTS.neighbours_per_perplexity * perplexity)))
    idx, dist = prior_knn(prior, k, random_state=random_state)
    k = idx.shape[1]
    if k < 2:
        msg = "the prior gives fewer than 2 neighbours per point; it cannot be calibrated to a perplexity."
        raise ValueError(msg)
    used = perplexity_for_neighbours(k, perplexity)
    return perplexity_affinities(idx, dist, used, pair_scale=None).P, used


def residualise(x: np.ndarray, prior: Prior) -> tuple[np.ndarray, bool]:
    """``x`` minus the part a linear model of the prior explains (what ``sc.pp.regress_out`` removes).

    Label priors: each label's mean is replaced by the overall mean. Feature priors: the least
    squares fit on an intercept and the prior's columns is subtracted (the overall mean kept).
    Distance priors (graphs, matrices) have no linear model: ``x`` is returned unchanged. The
    second value says whether anything was removed.
    """
    x = np.asarray(x, dtype=np.float64)
    if prior.kind == "labels":
        codes = np.unique(np.asarray(prior.values), return_inverse=True)[1].ravel()
        sums = np.zeros((codes.max() + 1, x.shape[1]))
        np.add.at(sums, codes, x)
        means = sums / np.bincount(codes)[:, None]
        return x - means[codes] + x.mean(0), True
    if prior.kind == "features":
        z = np.asarray(prior.values, dtype=np.float64)
        design = np.hstack([np.ones((z.shape[0], 1)), z - z.mean(0)])
        coef, *_ = np.linalg.lstsq(design, x, rcond=None)
        return x - design[:, 1:] @ coef[1:], True
    return x, False

"""Gene regulatory networks with known ground truth: random signed networks, their Hill-ODE simulation, prior corruption.

The simulation turns each gene's Boolean rule "(any activator) AND NOT (any repressor)" into an ODE
the way Wittmann et al. (2009) do and scanpy's ``sc.tl.sim`` does for krumsiek11: every Boolean
input becomes a normalised Hill function ``h(x) = x^n / (x^n + K^n)``, OR becomes
``1 - prod(1 - h)``, AND NOT becomes ``* prod(1 - h)``, and ``dx/dt = k (f(x) - x)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:
    from anndata import AnnData

DASH_TIMES = (0.0, 2.0, 3.0, 7.0, 9.0)  # the observation times of DASH's simulated trajectories


def _rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    return random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)


def random_signed_network(
    n_genes: int,
    *,
    n_regulators: int | None = None,
    mean_in_degree: float = 2.0,
    repressing_fraction: float = 0.32,
    random_state: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """A random signed regulatory network: a few hub regulators, each target with 1-4 inputs.

    Regulators are drawn with Zipf-like popularity (hubs, as in yeast-derived simulators); no
    self-loops. ``repressing_fraction`` defaults to DASH's simulations (176 of 550 edges).

    Parameters
    ----------
    n_genes
        Number of genes G (at least 3).
    n_regulators
        Genes that regulate anything; ``None``: ``max(2, G // 3)``.
    mean_in_degree
        Mean number of inputs per target (Poisson, clipped to 1-4).
    repressing_fraction
        Probability that an edge represses.
    random_state
        Seed or generator.

    Returns
    -------
    G x G matrix of +1 (activation), -1 (repression) and 0; row = regulator, column = target.
    """
    if n_genes < 3:
        msg = f"n_genes must be at least 3, got {n_genes}."
        raise ValueError(msg)
    rng = _rng(random_state)
    n_reg = max(2, n_genes // 3) if n_regulators is None else int(n_regulators)
    regulators = rng.choice(n_genes, size=min(n_reg, n_genes), replace=False)
    popularity = 1.0 / np.arange(1, regulators.size + 1) ** 0.8
    net = np.zeros((n_genes, n_genes))
    for target in range(n_genes):
        candidates = regulators[regulators != target]
        p = popularity[regulators != target]
        k = int(np.clip(rng.poisson(mean_in_degree - 1.0) + 1, 1, min(4, candidates.size)))
        chosen = rng.choice(candidates, size=k, replace=False, p=p / p.sum())
        net[chosen, target] = np.where(rng.random(k) < repressing_fraction, -1.0, 1.0)
    return net


def hill_vector_field(
    network: np.ndarray, hill_n: np.ndarray, hill_k: np.ndarray, rates: np.ndarray, basal: np.ndarray
):
    """The Boolean -> Hill vector field ``dx/dt = k (f(x) - x)`` of a signed network, for a batch of states ``(B, G)``.

    Targets without inputs relax to their ``basal`` level.
    """
    act = network > 0
    rep = network < 0
    has_act, has_rep = act.any(axis=0), rep.any(axis=0)
    # sparse incidence matrices: a target has a handful of inputs, so the products cost O(B * edges)
    log_not_act = sparse.csr_matrix(act.astype(np.float64))
    log_not_rep = sparse.csr_matrix(rep.astype(np.float64))

    def field(x: np.ndarray) -> np.ndarray:
        xp = np.clip(x, 0.0, None) ** hill_n
        h = xp / (xp + hill_k**hill_n)
        log1mh = np.log(np.clip(1.0 - h, 1e-300, None))
        none_active = np.exp((log_not_act.T @ log1mh.T).T)  # prod over activators of (1 - h)
        none_repressing = np.exp((log_not_rep.T @ log1mh.T).T)
        f = np.where(has_act, 1.0 - none_active, 1.0) * np.where(has_rep, none_repressing, 1.0)
        f = np.where(has_act | has_rep, f, basal)
        return rates * (f - x)

    return field


def simulate_grn(
    network: np.ndarray,
    *,
    n_trajectories: int = 150,
    times: tuple[float, ...] | np.ndarray = DASH_TIMES,
    noise: float = 0.025,
    step: float = 0.05,
    random_state: int | np.random.Generator | None = 0,
) -> AnnData:
    """Time courses of a signed network's Boolean -> Hill ODE from random initial states, with measurement noise.

    Parameters
    ----------
    network
        G x G signed matrix, row = regulator, column = target (e.g. :func:`~fischer_sc.datasets.random_signed_network`).
    n_trajectories
        Number of trajectories, each from ``x0 ~ U(0, 1)^G``.
    times
        Observation times (DASH's: 0, 2, 3, 7, 9).
    noise
        Standard deviation of Gaussian noise added to every observation.
    step
        RK4 step of the simulation.
    random_state
        Seed or generator of the kinetic parameters, the initial states and the noise.

    Returns
    -------
    ``n_trajectories * len(times)`` observations x G genes (``g0``, ``g1``, ...):
    ``obs["time"]``, ``obs["trajectory"]`` (categorical), ``layers["clean"]`` (noise-free),
    ``varp["true_network"]`` (the network) and ``uns["grn_simulation"]`` (settings, and the edge
    table ``edges``: source, target, weight).
    """
    import anndata as ad

    net = np.asarray(network, dtype=np.float64)
    if net.ndim != 2 or net.shape[0] != net.shape[1]:
        msg = f"network must be a square G x G matrix, got shape {net.shape}."
        raise ValueError(msg)
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
        msg = "times must hold at least two increasing observation times."
        raise ValueError(msg)
    rng = _rng(random_state)
    g = net.shape[0]
    field = hill_vector_field(
        net,
        hill_n=rng.uniform(2.0, 4.0, g),  # per regulator: the shape of its input to every target
        hill_k=rng.uniform(0.3, 0.7, g),
        rates=rng.uniform(0.2, 0.8, g),
        basal=rng.uniform(0.2, 0.8, g),
    )
    x = rng.uniform(0.0, 1.0, (n_trajectories, g))
    t, out = times[0], []
    for t_next in times:
        n = int(np.ceil((t_next - t) / step - 1e-9))
        h = (t_next - t) / n if n else 0.0
        for _ in range(n):
            k1 = field(x)
            k2 = field(x + 0.5 * h * k1)
            k3 = field(x + 0.5 * h * k2)
            k4 = field(x + h * k3)
            x = x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(x.copy())
        t = t_next
    clean = np.stack(out, axis=1).reshape(-1, g)  # trajectory-major: all times of trajectory 0 first
    obs = pd.DataFrame(
        {
            "time": np.tile(times, n_trajectories),
            "trajectory": pd.Categorical([f"traj{i}" for i in np.repeat(np.arange(n_trajectories), times.size)]),
        },
        index=[f"obs{i}" for i in range(clean.shape[0])],
    )
    genes = [f"g{j}" for j in range(g)]
    adata = ad.AnnData(
        (clean + noise * rng.standard_normal(clean.shape)).astype(np.float32), obs=obs, var=pd.DataFrame(index=genes)
    )
    adata.layers["clean"] = clean.astype(np.float32)
    adata.varp["true_network"] = net
    rows, cols = np.nonzero(net)
    edges = pd.DataFrame(
        {"source": np.asarray(genes)[rows], "target": np.asarray(genes)[cols], "weight": net[rows, cols]}
    )
    adata.uns["grn_simulation"] = {
        "noise": float(noise),
        "n_trajectories": int(n_trajectories),
        "times": times,
        "edges": edges,
    }
    return adata


def corrupt_prior(
    network: np.ndarray, fraction: float, *, random_state: int | np.random.Generator | None = 0
) -> np.ndarray:
    """A prior with ``round(fraction * n_edges)`` of the network's edges moved to random non-edges (DASH's corruption).

    Parameters
    ----------
    network
        G x G matrix; non-zero = edge.
    fraction
        Share of the edges to move, in [0, 1].
    random_state
        Seed or generator.

    Returns
    -------
    The corrupted copy: moved edges keep their weights; they land off the diagonal on positions
    that held no edge; the number of edges is unchanged.
    """
    if not 0.0 <= fraction <= 1.0:
        msg = f"fraction must lie in [0, 1], got {fraction}."
        raise ValueError(msg)
    rng = _rng(random_state)
    net = np.asarray(network, dtype=np.float64)
    out = net.copy()
    edges = np.flatnonzero(net)
    n_move = int(round(fraction * edges.size))
    moved = rng.choice(edges, size=n_move, replace=False)
    free = np.flatnonzero((net == 0) & ~np.eye(net.shape[0], dtype=bool))
    if n_move > free.size:
        msg = f"cannot move {n_move} edges: only {free.size} free positions."
        raise ValueError(msg)
    targets = rng.choice(free, size=n_move, replace=False)
    flat = out.reshape(-1)
    flat[targets] = flat[moved]
    flat[moved] = 0.0
    return out


def krumsiek11_network() -> pd.DataFrame:
    """The signed regulatory network behind :func:`fischer_sc.datasets.krumsiek11`, read from scanpy's model file.

    scanpy ships the model (``scanpy/sim_models/krumsiek11.txt``); in its coupling list ``A B w``,
    ``A`` is the *target* and ``B`` the regulator. Here each edge is regulator -> target.

    Returns
    -------
    A decoupler-style edge table: ``source`` (regulator), ``target`` and ``weight`` (the coupling,
    its sign the edge's sign); 30 couplings, 4 of them self-loops.
    """
    from importlib.resources import files

    text = files("scanpy").joinpath("sim_models", "krumsiek11.txt").read_text()
    rows, in_couplings = [], False
    for line in text.splitlines():
        if line.startswith("# coupling list"):
            in_couplings = True
        elif line.startswith("#"):
            in_couplings = in_couplings and not rows
        elif in_couplings and line.strip():
            target, source, weight = line.split()
            rows.append((source, target, float(weight)))
    return pd.DataFrame(rows, columns=["source", "target", "weight"])

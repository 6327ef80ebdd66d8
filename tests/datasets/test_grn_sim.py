"""GRN simulation: network shape, the Hill vector field against a per-gene loop, time courses against solve_ivp, corruption."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import fischer_sc as fs
from fischer_sc.datasets._grn import hill_vector_field


def test_random_network_shape():
    net = fs.datasets.random_signed_network(30, random_state=0)
    assert net.shape == (30, 30) and set(np.unique(net)) <= {-1.0, 0.0, 1.0}
    assert np.all(np.diag(net) == 0)
    indeg = (net != 0).sum(axis=0)
    assert indeg.min() >= 1 and indeg.max() <= 4
    assert np.array_equal(net, fs.datasets.random_signed_network(30, random_state=0))
    with pytest.raises(ValueError, match="at least 3"):
        fs.datasets.random_signed_network(2)


def _slow_field(net, n, k, rates, basal, x):
    """The Boolean rule '(any activator) and not (any repressor)' as Hill functions, one gene at a time."""
    out = np.zeros_like(x)
    for j in range(net.shape[0]):
        h = lambda i: x[i] ** n[i] / (x[i] ** n[i] + k[i] ** n[i])
        acts = [i for i in range(net.shape[0]) if net[i, j] > 0]
        reps = [i for i in range(net.shape[0]) if net[i, j] < 0]
        if not acts and not reps:
            f = basal[j]
        else:
            f = 1.0 - np.prod([1 - h(i) for i in acts]) if acts else 1.0
            f *= np.prod([1 - h(i) for i in reps]) if reps else 1.0
        out[j] = rates[j] * (f - x[j])
    return out


def test_hill_field_matches_a_per_gene_loop():
    rng = np.random.default_rng(0)
    net = fs.datasets.random_signed_network(9, random_state=1)
    net[:, 4] = 0  # a gene without inputs relaxes to its basal level
    n, k, rates, basal = rng.uniform(2, 4, 9), rng.uniform(0.3, 0.7, 9), rng.uniform(0.2, 0.8, 9), rng.random(9)
    field = hill_vector_field(net, n, k, rates, basal)
    x = rng.random((3, 9))
    np.testing.assert_allclose(field(x), np.stack([_slow_field(net, n, k, rates, basal, r) for r in x]), atol=1e-12)


def test_simulation_matches_solve_ivp_and_records_the_truth():
    net = fs.datasets.random_signed_network(6, random_state=2)
    adata = fs.datasets.simulate_grn(net, n_trajectories=3, noise=0.0, random_state=5)
    assert adata.shape == (15, 6) and adata.obs["trajectory"].nunique() == 3
    np.testing.assert_array_equal(adata.varp["true_network"], net)
    # the same draws as the simulator: kinetic parameters, then the initial states
    rng = np.random.default_rng(5)
    n, k, rates, basal = (
        rng.uniform(2, 4, 6),
        rng.uniform(0.3, 0.7, 6),
        rng.uniform(0.2, 0.8, 6),
        rng.uniform(0.2, 0.8, 6),
    )
    x0 = rng.uniform(0, 1, (3, 6))
    field = hill_vector_field(net, n, k, rates, basal)
    ref = solve_ivp(lambda _, y: field(y[None])[0], (0, 9), x0[1], t_eval=[0, 2, 3, 7, 9], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(adata.layers["clean"][5:10], ref.y.T, atol=1e-5)
    edges = adata.uns["grn_simulation"]["edges"]
    assert len(edges) == np.count_nonzero(net)


def test_corrupt_prior_moves_exactly_the_fraction():
    net = fs.datasets.random_signed_network(20, random_state=3)
    n_edges = np.count_nonzero(net)
    prior = fs.datasets.corrupt_prior(net, 0.4, random_state=0)
    assert np.count_nonzero(prior) == n_edges and np.all(np.diag(prior) == 0)
    kept = np.count_nonzero((prior != 0) & (net != 0))
    assert kept == n_edges - round(0.4 * n_edges)
    assert sorted(prior[prior != 0]) == sorted(net[net != 0])  # signs travel with the edges
    assert np.array_equal(prior, fs.datasets.corrupt_prior(net, 0.4, random_state=0))
    with pytest.raises(ValueError, match=r"fraction must lie in \[0, 1\]"):
        fs.datasets.corrupt_prior(net, 1.5)


def test_krumsiek11_network_orientation():
    edges = fs.datasets.krumsiek11_network()
    assert len(edges) == 30 and (edges["source"] == edges["target"]).sum() == 4
    # the model file says "Gfi1 EgrNab -5.0": EgrNab represses Gfi1
    row = edges[(edges["source"] == "EgrNab") & (edges["target"] == "Gfi1")]
    assert row["weight"].tolist() == [-5.0]
    assert set(edges["source"]) <= set(fs.datasets.krumsiek11().var_names)

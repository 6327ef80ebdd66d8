"""fischer_sc.metrics angle, distance and triplet measures: exact values on planted cases."""

from __future__ import annotations

import numpy as np
import pytest

import fischer_sc as fs
from fischer_sc.core.sphere import unit_rows

m = fs.metrics


@pytest.fixture(scope="module")
def cloud():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 6))


def test_random_and_local_triples_are_valid(cloud):
    t = m.random_triples(300, 5000, random_state=1)
    assert t.shape == (5000, 3)
    assert ((t[:, 0] != t[:, 1]) & (t[:, 1] != t[:, 2]) & (t[:, 0] != t[:, 2])).all()
    np.testing.assert_array_equal(t, m.random_triples(300, 5000, random_state=1))
    loc = m.local_triples(cloud, 500, k=5)
    d = np.linalg.norm(cloud[:, None] - cloud[None], axis=-1)
    fifth = np.sort(d, axis=1)[:, 5]
    assert (d[loc[:, 1], loc[:, 0]] <= fifth[loc[:, 1]] + 1e-12).all() and (loc[:, 0] != loc[:, 2]).all()


def test_triple_angles_by_hand():
    y = np.eye(3)
    t = np.array([[0, 1, 2]])
    assert m.triple_angles(y, t)[0] == pytest.approx(np.pi / 3)
    assert m.triple_angles(y, t, "spherical")[0] == pytest.approx(np.pi / 2)
    flat = np.array([[1.0, 0], [0, 0], [0, 2]])
    assert m.triple_angles(flat, t)[0] == pytest.approx(np.pi / 2)


def test_similarity_transforms_preserve_everything(cloud):
    q = np.linalg.qr(np.random.default_rng(2).normal(size=(6, 6)))[0]
    y = 3.0 * cloud @ q + 5.0
    scores = m.angle_preservation(cloud, y, n_triples=5000)
    assert scores["spearman"] == pytest.approx(1.0) and scores["mae"] < 1e-9
    assert m.angle_preservation(cloud, y, n_triples=2000, triples="local")["pearson"] == pytest.approx(1.0)
    assert m.distance_preservation(cloud, y, n_pairs=5000) == pytest.approx(1.0)
    assert m.triplet_accuracy(cloud, y, n_triplets=5000) == pytest.approx(1.0)


def test_unrelated_embedding_scores_chance(cloud):
    y = np.random.default_rng(3).normal(size=(300, 2))
    assert abs(m.angle_preservation(cloud, y, n_triples=20_000)["spearman"]) < 0.05
    assert m.triplet_accuracy(cloud, y, n_triplets=20_000) == pytest.approx(0.5, abs=0.02)


def test_sphere_geometry_uses_great_circles():
    rng = np.random.default_rng(4)
    y = unit_rows(rng.normal(size=(200, 3)))
    # great-circle distance is monotone in the chord: rank correlations 1
    assert m.distance_preservation(y, y, geometry="spherical", n_pairs=5000) == pytest.approx(1.0)
    assert m.triplet_accuracy(y, y, geometry="spherical", n_triplets=5000) == pytest.approx(1.0)
    # spherical angles differ from the chord angles of the same points (angle excess)
    sph = m.angle_preservation(y, y, geometry="spherical", n_triples=5000)
    assert 0.3 < sph["spearman"] < 0.99 and sph["mae"] > 0.1


def test_bad_input():
    y = np.zeros((10, 2))
    with pytest.raises(ValueError, match="geometry"):
        m.angle_preservation(y, y, geometry="hyperbolic")
    with pytest.raises(ValueError, match="unit vectors"):
        m.angle_preservation(y, y, geometry="spherical")
    with pytest.raises(ValueError, match="n_triples"):
        m.angle_preservation(y, y, n_triples=0)
    with pytest.raises(ValueError, match="triples"):
        m.angle_preservation(y, y, triples="far")
    with pytest.raises(ValueError, match="rows"):
        m.triplet_accuracy(y, y[:5])

"""fs.metrics on hand-computed cases and against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.manifold import trustworthiness as sk_trustworthiness

import fischer_sc as fs

RNG = np.random.default_rng(0)
X = RNG.normal(size=(200, 8))
Y = X[:, :2] + RNG.normal(size=(200, 2)) * 0.5


def rotate(y: np.ndarray, angle: float = 0.7) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return y @ np.array([[c, -s], [s, c]])


def test_perfect_embedding_scores_one():
    y = 3.0 * rotate(X[:, :2])
    x = X[:, :2]
    assert fs.metrics.knn_recall(x, y, k=10) == 1.0
    assert fs.metrics.trustworthiness(x, y, k=10) == pytest.approx(1.0)
    assert fs.metrics.continuity(x, y, k=10) == pytest.approx(1.0)
    assert fs.metrics.global_distance_correlation(x, y) == pytest.approx(1.0)
    assert fs.metrics.local_distance_correlation(x, y, k=20) == pytest.approx(1.0)
    assert fs.metrics.density_correlation(x, y, k=5) == pytest.approx(1.0)
    np.testing.assert_allclose(fs.metrics.cluster_size_ratios(x, y, np.arange(200) % 3).to_numpy(), 1.0)


def test_knn_recall_on_a_line_by_hand():
    # points 0, 1, 2, 10, 11, 12: 1-NN in X is the adjacent point; in Y we swap two points across the gap
    x = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])[:, None]
    y = np.array([0.0, 1.0, 12.0, 10.0, 11.0, 2.0])[:, None]
    # ties go to the lower index
    # X 1-NN: 0->1, 1->0, 2->1, 3->4, 4->3, 5->4
    # Y 1-NN: 0->1, 1->0, 2->4, 3->4, 4->2, 5->1   -> 0, 1, 3 agree
    assert fs.metrics.knn_recall(x, y, k=1) == pytest.approx(3 / 6)


def test_trustworthiness_matches_sklearn():
    for k in (5, 15):
        assert fs.metrics.trustworthiness(X, Y, k=k) == pytest.approx(sk_trustworthiness(X, Y, n_neighbors=k))
        assert fs.metrics.continuity(X, Y, k=k) == pytest.approx(sk_trustworthiness(Y, X, n_neighbors=k))


def test_nos_curve_matches_brute_force_and_recall():
    ks, nos = fs.metrics.neighbourhood_overlap(X[:60], Y[:60])
    x, y = X[:60], Y[:60]
    dx = np.linalg.norm(x[:, None] - x[None], axis=2)
    dy = np.linalg.norm(y[:, None] - y[None], axis=2)
    np.fill_diagonal(dx, np.inf)
    np.fill_diagonal(dy, np.inf)
    ox, oy = np.argsort(dx, axis=1, kind="stable"), np.argsort(dy, axis=1, kind="stable")
    for k in (1, 7, 30, 59):
        brute = np.mean([len(set(ox[i, :k]) & set(oy[i, :k])) for i in range(60)]) / k
        assert nos[k - 1] == pytest.approx(brute)
    assert nos[14] == pytest.approx(fs.metrics.knn_recall(x, y, k=15))
    assert nos[-1] == pytest.approx(1.0)


def test_nos_area_bounds():
    assert fs.metrics.neighbourhood_overlap_auc(X, X) == pytest.approx(0.5 - 1 / 200 / 2, abs=1e-3)
    assert abs(fs.metrics.neighbourhood_overlap_auc(X, RNG.normal(size=(200, 2)))) < 0.05


def test_density_correlation_by_hand():
    # 1-D points whose gaps double: r_1 in X is the gap to the nearer neighbour
    x = np.cumsum([0, 1, 2, 4, 8, 16])[:, None].astype(float)
    # Y keeps the order but makes all gaps equal: every radius 1 -> correlation undefined (nan)
    y = np.arange(6)[:, None].astype(float)
    assert np.isnan(fs.metrics.density_correlation(x, y, k=1))
    # Y squares the gaps: log r_Y = 2 log r_X exactly -> correlation 1
    y2 = np.cumsum([0, 1, 4, 16, 64, 256])[:, None].astype(float)
    assert fs.metrics.density_correlation(x, y2, k=1) == pytest.approx(1.0)
    np.testing.assert_allclose(fs.metrics.local_radius(x, k=1), [1, 1, 2, 4, 8, 16])


def test_log_radius_correlation_uses_p_weights():
    x = np.cumsum([0, 1, 2, 4, 8, 16])[:, None].astype(float)
    p = sparse.csr_matrix(np.eye(6, k=1) + np.eye(6, k=-1))
    # R(i) = mean squared gap to the two (or one) neighbours; Y = x^... keep order, scale 3 -> R_Y = 9 R_X
    assert fs.metrics.log_radius_correlation(x, 3 * x, p) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"P has shape \(2, 2\)"):
        fs.metrics.log_radius_correlation(x, x, sparse.eye(2))


def test_cluster_size_ratios_planted_shrink():
    labels = np.repeat(["big", "small", "mid"], [100, 40, 60])
    x = RNG.normal(size=(200, 2))
    y = x.copy()
    y[labels == "small"] *= 0.5
    ratios = fs.metrics.cluster_size_ratios(x, y * 7.0, labels)
    assert list(ratios.index) == ["big", "small", "mid"]
    np.testing.assert_allclose(ratios.to_numpy(), [1.0, 0.5, 1.0])


def test_sampled_global_correlation_is_close_to_all_pairs():
    full = fs.metrics.global_distance_correlation(X, Y)
    sampled = fs.metrics.global_distance_correlation(X, Y, n_pairs=5_000, random_state=1)
    assert sampled == pytest.approx(full, abs=0.03)
    assert fs.metrics.global_distance_correlation(X, Y, method="spearman") > 0.3


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: fs.metrics.knn_recall(X, Y[:10]), r"X has 200 rows but Y has 10"),
        (lambda: fs.metrics.knn_recall(X, Y, k=0), r"k=0 must be an integer in \[1, 199\]"),
        (lambda: fs.metrics.trustworthiness(X, Y, k=150), r"k=150 must be below n / 2"),
        (lambda: fs.metrics.density_correlation(X, np.full_like(Y, np.nan)), r"Y contains NaN"),
        (lambda: fs.metrics.global_distance_correlation(X, Y, method="kendall"), r"method='kendall'"),
        (lambda: fs.metrics.cluster_size_ratios(X, Y, np.zeros(3)), r"one label per point"),
    ],
)
def test_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()

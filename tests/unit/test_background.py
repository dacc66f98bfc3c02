"""Background-adapted min_samples controlled per map, and the Monte-Carlo test of clusters against the background."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from models.analytics.background import (
    SPURIOUS_PER_MAP,
    auto_min_samples,
    background_threshold,
    cluster_significance,
    core_probability,
)
from models.analytics.dbscan import dbscan


def test_sparse_background_needs_few_incidents_per_cluster() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 30_000, (2, 3_000))
    threshold = background_threshold(x, y, eps_m=100)
    # ~0.2 others per 100 m disc: 5 incidents would still leave 0.25 chance clusters on 3,000; 6 leave 0.04.
    assert threshold.min_samples == 6 and threshold.expected_spurious <= SPURIOUS_PER_MAP
    assert auto_min_samples(x, y, eps_m=100, spurious=1.0) == 5


def test_dense_background_raises_the_threshold_above_chance_clusters() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 10_000, (2, 400_000))  # 4 incidents per hectare
    k = auto_min_samples(x, y, eps_m=100)
    expected_neighbours = 400_000 / 1e8 * np.pi * 100**2  # ≈ 12.6
    assert k > expected_neighbours + 5
    sample = np.column_stack([x[:5_000], y[:5_000]])
    neighbours = cKDTree(np.column_stack([x, y])).query_ball_point(sample, 100, return_length=True)
    assert (neighbours >= k).mean() < 1e-3


@pytest.mark.parametrize("mu", [0.3, 1.885, 4.0, 12.6, 40.0])
def test_the_bound_on_spurious_clusters_holds_exactly_and_is_tight(mu: float) -> None:
    # A background incident is core when the N ~ Poisson(mu) others in its disc reach min_samples - 1.
    n = 24_000
    threshold = background_threshold(*_uniform(n, mu, 0), eps_m=100, floor=1)
    m = threshold.min_samples
    assert n * core_probability(m, threshold.expected_neighbours) <= SPURIOUS_PER_MAP
    assert n * core_probability(m - 1, threshold.expected_neighbours) > SPURIOUS_PER_MAP  # one less is too few
    assert threshold.expected_spurious == pytest.approx(n * threshold.core_probability)


def _uniform(n: int, mu: float, seed: int, eps: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """n uniform points on a square sized so that an eps-disc holds mu others on average."""
    side = np.sqrt(n * np.pi * eps * eps / mu)
    return tuple(np.random.default_rng(seed).uniform(0, side, (2, n)))  # type: ignore[return-value]


def test_a_uniform_background_gives_less_than_one_spurious_cluster_in_expectation() -> None:
    # 24,000 uniform incidents over 400 km² (the map): 15 chance clusters with the old threshold.
    found = []
    for seed in range(8):
        x, y = np.random.default_rng(seed).uniform(0, 20_000, (2, 24_000))
        m = auto_min_samples(x, y, eps_m=100)
        found.append(int(dbscan(x, y, 100, m).max()) + 1)
    assert np.mean(found) < 1
    assert background_threshold(x, y, eps_m=100).expected_spurious <= SPURIOUS_PER_MAP


def test_monte_carlo_keeps_a_real_cluster_and_rejects_chance_ones() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 20_000, (2, 24_000))
    # A dense quarter (4 km²) where a low min_samples makes chance clusters, and a real den elsewhere.
    dx, dy = rng.uniform(0, 2_000, (2, 6_000))
    px, py = 15_000 + rng.normal(0, 25, 25), 15_000 + rng.normal(0, 25, 25)
    x, y = np.concatenate([x, dx, px]), np.concatenate([y, dy, py])
    labels = dbscan(x, y, 100, 8)
    real = labels[-1]
    assert real >= 0 and labels.max() >= 5  # the den and several chance clusters in the dense quarter
    test = cluster_significance(x, y, labels, 100, 8, simulations=99, seed=1)
    assert test.p_value[real] <= 0.05
    chance = np.setdiff1d(np.unique(labels[labels >= 0]), [real])
    assert np.mean(test.p_value[chance] > 0.05) >= 0.8
    assert test.expected_spurious >= 1  # this threshold is too low for this map, and the figure says so


def test_no_points() -> None:
    assert auto_min_samples(np.array([]), np.array([]), eps_m=100, floor=7) == 7
    assert cluster_significance(np.array([]), np.array([]), np.array([], int), 100, 5).p_value.size == 0

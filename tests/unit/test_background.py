"""Background-adapted min_samples: the floor on sparse data, higher where background is dense."""

import numpy as np

from models.analytics.background import auto_min_samples


def test_sparse_background_keeps_the_floor() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 30_000, (2, 3_000))
    assert auto_min_samples(x, y, eps_m=100) == 5


def test_dense_background_raises_the_threshold_above_chance_clusters() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 10_000, (2, 400_000))  # 4 incidents per hectare
    k = auto_min_samples(x, y, eps_m=100)
    expected_neighbours = 400_000 / 1e8 * np.pi * 100**2  # ≈ 12.6
    assert k > expected_neighbours + 5
    # With that threshold almost no background point is a core point.
    from scipy.spatial import cKDTree

    sample = np.column_stack([x[:5_000], y[:5_000]])
    neighbours = cKDTree(np.column_stack([x, y])).query_ball_point(sample, 100, return_length=True)
    assert (neighbours >= k).mean() < 0.01


def test_no_points() -> None:
    assert auto_min_samples(np.array([]), np.array([]), eps_m=100, floor=7) == 7

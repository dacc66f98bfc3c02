"""DBSCAN must give sklearn's labels exactly on random and edge-case point sets."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.cluster import DBSCAN

from models.analytics.dbscan import dbscan


def reference(pts: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """sklearn's labels with a ball tree."""
    return DBSCAN(eps=eps, min_samples=min_samples, algorithm="ball_tree").fit_predict(pts)


def check(pts: np.ndarray, eps: float, min_samples: int) -> None:
    """Assert identical labels (same numbering, border ties included)."""
    np.testing.assert_array_equal(dbscan(pts[:, 0], pts[:, 1], eps, min_samples), reference(pts, eps, min_samples))


@pytest.mark.parametrize("seed", range(40))
def test_random_clustered_sets_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 600))
    pts = rng.uniform(0, 1000, (n, 2)) + [650_000.0, 2_300_000.0]
    k = int(rng.integers(1, 6))
    centres = rng.uniform(0, 1000, (k, 2)) + [650_000.0, 2_300_000.0]
    m = n // 2
    pts[:m] = centres[rng.integers(0, k, m)] + rng.normal(0, 30, (m, 2))
    if seed % 3 == 0:
        pts = np.round(pts / 10) * 10  # duplicates and exact distances
    check(pts, float(rng.uniform(5, 80)), int(rng.integers(1, 12)))


def test_all_noise() -> None:
    pts = np.arange(20, dtype=float)[:, None] * [100.0, 0.0]
    assert (dbscan(pts[:, 0], pts[:, 1], 50, 2) == -1).all()
    check(pts, 50, 2)


def test_single_cluster_and_min_samples_one() -> None:
    pts = np.random.default_rng(1).normal(0, 5, (300, 2))
    check(pts, 10, 5)
    assert set(dbscan(pts[:, 0], pts[:, 1], 10, 5)) <= {0, -1}
    check(pts, 0.5, 1)  # every point core, singletons are their own clusters


def test_points_exactly_eps_apart_are_neighbours() -> None:
    pts = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [9.0, 12.0], [100.0, 100.0]])
    labels = dbscan(pts[:, 0], pts[:, 1], 5.0, 2)
    np.testing.assert_array_equal(labels, [0, 0, 0, 0, -1])
    check(pts, 5.0, 2)
    check(pts, 5.0, 3)


def test_duplicates_count_towards_min_samples() -> None:
    pts = np.array([[0.0, 0.0]] * 4 + [[1.0, 0.0]] + [[50.0, 50.0]] * 2)
    check(pts, 2.0, 4)
    check(pts, 2.0, 2)


def test_border_point_goes_to_lower_cluster() -> None:
    left = np.column_stack([np.linspace(0, 4, 5), np.zeros(5)])
    right = left + [12.0, 0.0]
    pts = np.vstack([right, left, [[8.0, 0.0]]])  # the border point at 8 is 4 m from both clusters
    check(pts, 4.0, 3)


def test_sparse_extent_uses_sorted_lookup() -> None:
    rng = np.random.default_rng(5)
    pts = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(0, 1, (50, 2)) + 1e8])
    check(pts, 0.5, 4)


def test_empty_and_invalid_input() -> None:
    assert dbscan(np.array([]), np.array([]), 10, 3).size == 0
    with pytest.raises(ValueError):
        dbscan(np.zeros(3), np.zeros(2), 10, 3)
    with pytest.raises(ValueError):
        dbscan(np.zeros(3), np.zeros(3), 0, 3)


@settings(max_examples=60, deadline=None)
@given(
    pts=arrays(np.float64, st.tuples(st.integers(1, 80), st.just(2)), elements=st.integers(0, 40).map(float)),
    eps=st.sampled_from([1.0, 2.0, 5.0, 7.5]),
    min_samples=st.integers(1, 6),
)
def test_property_integer_grids_match_sklearn(pts: np.ndarray, eps: float, min_samples: int) -> None:
    check(pts, eps, min_samples)  # integer coordinates: many duplicates and exact-eps distances

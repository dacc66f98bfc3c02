"""Emerging hot-spot patterns: every one of the 17 outcomes on constructed series, plus Mann-Kendall."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from models.analytics.emerging import (
    PATTERN_LABELS_VI,
    PATTERNS,
    classify_patterns,
    emerging_hotspots,
    mann_kendall,
)

H, C, _ = 1, -1, 0

#: (state series, trend of z, expected pattern) for the hot patterns; cold ones are their mirror.
HOT_CASES = [
    ([_, _, _, _, _, _, _, _, _, H], 0, "new_hot_spot"),
    ([_, _, _, _, _, _, _, H, H, H], 1, "consecutive_hot_spot"),
    ([C, C, _, _, _, _, _, H, H, H], 0, "consecutive_hot_spot"),  # cold before the run is allowed
    ([H] * 10, 1, "intensifying_hot_spot"),
    ([H] * 10, 0, "persistent_hot_spot"),
    ([_, H, H, H, H, H, H, H, H, H], 0, "persistent_hot_spot"),  # 90 % hot including the final step
    ([H] * 10, -1, "diminishing_hot_spot"),
    ([H, C, _, H, _, _, H, _, _, H], 0, "oscillating_hot_spot"),
    ([_, C, _, _, _, _, _, _, _, H], 0, "new_hot_spot"),  # hot only in the final step stays new
    ([H, _, H, _, _, H, _, _, _, H], 0, "sporadic_hot_spot"),
    ([H, _, _, _, _, _, _, _, H, H], 0, "sporadic_hot_spot"),  # final run, but hot before it
    ([H, H, H, H, H, H, H, H, H, _], -1, "historical_hot_spot"),
    ([H, H, H, H, H, H, H, H, H, C], 0, "new_cold_spot"),  # a final-step pattern beats historical
]
NO_PATTERN_CASES = [[_] * 10, [H, _, _, _, _, _, _, _, _, _], [H, H, C, _, _, _, _, _, _, _]]


def classify_one(series: list[int], trend: int) -> str:
    """Pattern of a single series."""
    return classify_patterns(np.array([series]), np.array([trend]))[0]


@pytest.mark.parametrize(("series", "trend", "expected"), HOT_CASES)
def test_hot_patterns(series: list[int], trend: int, expected: str) -> None:
    assert classify_one(series, trend) == expected


@pytest.mark.parametrize(("series", "trend", "expected"), HOT_CASES)
def test_cold_patterns_mirror_hot(series: list[int], trend: int, expected: str) -> None:
    mirrored = expected.replace("hot", "tmp").replace("cold", "hot").replace("tmp", "cold")
    assert classify_one([-s for s in series], -trend) == mirrored


@pytest.mark.parametrize("series", NO_PATTERN_CASES)
def test_no_pattern(series: list[int]) -> None:
    assert classify_one(series, 0) == "no_pattern"


def test_every_outcome_is_covered_and_labelled() -> None:
    seen = {e for *_, e in HOT_CASES} | {"no_pattern"}
    seen |= {e.replace("hot", "cold") for *_, e in HOT_CASES if "hot" in e}
    assert seen == set(PATTERNS) and len(PATTERNS) == 17
    assert set(PATTERN_LABELS_VI) == set(PATTERNS)
    assert PATTERN_LABELS_VI["new_hot_spot"] == "Điểm nóng mới"


def test_classification_is_vectorised_over_cells() -> None:
    states = np.array([s for s, _, _ in HOT_CASES])
    trends = np.array([t for _, t, _ in HOT_CASES])
    np.testing.assert_array_equal(classify_patterns(states, trends), [e for *_, e in HOT_CASES])


def brute_mann_kendall(x: list[float]) -> tuple[float, float]:
    """Textbook Mann-Kendall S and tie-corrected z, with loops."""
    n = len(x)
    s = sum(np.sign(x[j] - x[i]) for i in range(n) for j in range(i + 1, n))
    _, counts = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in counts)) / 18
    z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var) if s < 0 else 0.0
    return s, z


def test_mann_kendall_matches_textbook_with_ties() -> None:
    rng = np.random.default_rng(2)
    series = np.round(rng.normal(size=(30, 12)) + np.linspace(0, 2, 12), 0)
    result = mann_kendall(series)
    for row, s, z, p in zip(series, result.s, result.z, result.p):
        ref_s, ref_z = brute_mann_kendall(list(row))
        assert s == ref_s and z == pytest.approx(ref_z) and p == pytest.approx(2 * norm.sf(abs(ref_z)))
    assert mann_kendall(np.ones((1, 6))).z[0] == 0.0
    trend = mann_kendall(np.array([np.arange(10.0), -np.arange(10.0), np.zeros(10)])).trend(0.05)
    np.testing.assert_array_equal(trend, [1, -1, 0])


def test_emerging_hotspots_finds_a_growing_hotspot() -> None:
    rng = np.random.default_rng(0)
    cube = rng.poisson(1.0, (10, 30, 30)).astype(float)
    cube[:, 14:17, 14:17] += np.arange(10)[:, None, None] * 2 + 8  # hot throughout and rising
    cube[-1, 4:7, 24:27] += 15  # hot only at the end
    result = emerging_hotspots(cube, None, distance_cells=1.5)
    assert result.pattern[15, 15] == "intensifying_hot_spot"
    assert result.pattern[5, 25] == "new_hot_spot"
    assert result.z.shape == cube.shape and result.bins.shape == cube.shape
    assert result.pattern.shape == (30, 30) and set(result.pattern.ravel()) <= set(PATTERNS)


def test_emerging_hotspots_respects_mask() -> None:
    cube = np.random.default_rng(1).poisson(2.0, (4, 10, 10)).astype(float)
    mask = np.zeros((10, 10), bool)
    mask[2:8, 2:8] = True
    result = emerging_hotspots(cube, mask)
    assert (result.pattern[~mask] == "no_pattern").all()

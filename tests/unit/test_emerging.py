"""Emerging hot-spot patterns: every one of the 17 outcomes on constructed series, plus Mann-Kendall."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from models.analytics.emerging import (
    COLD_PATTERNS,
    HOT_PATTERNS,
    PATTERN_LABELS_VI,
    PATTERN_MEANINGS_VI,
    PATTERNS,
    EmergingOptions,
    classify_patterns,
    emerging_hotspots,
    mann_kendall,
)
from models.analytics.gistar import CONFIDENCE_LEVELS, bh_critical_p

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
    assert PATTERN_LABELS_VI["new_hot_spot"] == "Ô nóng mới"


def test_patterns_are_named_by_the_cell_and_each_says_what_it_means() -> None:
    """A pattern is a map cell's, named as the Gi* layer names its cells («Ô nóng», «Ô lạnh»): «Điểm nóng mới» read
    as a new hotspot of the register, and «Không có xu hướng» (no pattern) as what «dai dẳng» (no trend) means. Each
    pattern's meaning says in plain words what its rule is, the cold ones in their own words."""
    assert not [label for label in PATTERN_LABELS_VI.values() if label.startswith("Điểm")]
    assert all(PATTERN_LABELS_VI[p].startswith("Ô nóng ") for p in HOT_PATTERNS)
    assert all(PATTERN_LABELS_VI[p].startswith("Ô lạnh ") for p in COLD_PATTERNS)
    assert PATTERN_LABELS_VI["no_pattern"] == "Không thuộc dạng nào"
    assert set(PATTERN_MEANINGS_VI) == set(PATTERNS) and len(set(PATTERN_MEANINGS_VI.values())) == 17
    assert PATTERN_MEANINGS_VI["new_hot_spot"] == "chỉ nóng ở kỳ gần nhất, trước đó chưa kỳ nào nóng"
    assert PATTERN_MEANINGS_VI["oscillating_cold_spot"].startswith("lạnh ở kỳ gần nhất, có kỳ trước đó lại nóng")
    assert (
        "90 %" in PATTERN_MEANINGS_VI["historical_hot_spot"]
        and "không còn nóng" in PATTERN_MEANINGS_VI["historical_hot_spot"]
    )


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


def brute_spacetime_z(cube: np.ndarray, mask: np.ndarray, distance: float, k: int, whole_cube: bool) -> np.ndarray:
    """Space-time Gi* z of every bin by its definition, with loops (NaN outside the mask or without neighbours)."""
    steps, ny, nx = cube.shape
    cells = [(y, x) for y in range(ny) for x in range(nx) if mask[y, x]]
    out = np.full(cube.shape, np.nan)
    for t in range(steps):
        population = cube[:, mask] if whole_cube else cube[t, mask]
        n, mean, sd = population.size, population.mean(), population.std()
        for y, x in cells:
            neighbours = [
                (s, v, u)
                for s in range(max(0, t - k), t + 1)
                for v, u in cells
                if (v - y) ** 2 + (u - x) ** 2 <= distance**2 + 1e-9
            ]
            card = len(neighbours)
            if card > 1:
                lag = sum(cube[s, v, u] for s, v, u in neighbours)
                out[t, y, x] = (lag - mean * card) / (sd * math.sqrt((n * card - card**2) / (n - 1)))
    return out


def test_arcgis_mode_uses_the_previous_step_the_whole_cube_and_locations_with_data() -> None:
    rng = np.random.default_rng(3)
    cube = rng.poisson(0.6, (5, 7, 8)).astype(float)
    cube[:, 3, 4] += np.arange(5) * 3
    cube[:, 0, :] = 0  # never an incident: not a location with data in ArcGIS
    land = np.ones((7, 8), bool)
    arcgis = EmergingOptions.preset("arcgis")
    assert (arcgis.neighbour_steps, arcgis.global_window, arcgis.fdr_family) == (1, "cube", "cube")
    result = emerging_hotspots(cube, land, 1.5, options=arcgis)
    with_data = cube.sum(axis=0) > 0
    np.testing.assert_allclose(result.z, brute_spacetime_z(cube, with_data, 1.5, 1, True), atol=1e-9)
    assert (result.pattern[0] == "no_pattern").all()
    default = emerging_hotspots(cube, land, 1.5)
    np.testing.assert_allclose(default.z, brute_spacetime_z(cube, land, 1.5, 0, False), atol=1e-9)
    assert not np.allclose(np.nan_to_num(default.z), np.nan_to_num(result.z))


def test_fdr_family_of_the_whole_cube_is_one_correction() -> None:
    rng = np.random.default_rng(4)
    cube = rng.poisson(1.0, (6, 12, 12)).astype(float)
    cube[5, 5:8, 5:8] += 6
    per_step = emerging_hotspots(cube, None, 1.5, options=EmergingOptions(fdr_family="step"))
    whole = emerging_hotspots(cube, None, 1.5, options=EmergingOptions(fdr_family="cube"))
    np.testing.assert_allclose(per_step.z, whole.z)
    p = 2 * norm.sf(np.abs(whole.z))
    expected = np.sign(whole.z) * np.select(
        [p <= bh_critical_p(p, a) for _, a in reversed(CONFIDENCE_LEVELS)], [3, 2, 1], 0
    )
    np.testing.assert_array_equal(whole.bins, expected)
    for t in range(6):
        step_p = p[t]
        step_expected = np.sign(whole.z[t]) * np.select(
            [step_p <= bh_critical_p(step_p, a) for _, a in reversed(CONFIDENCE_LEVELS)], [3, 2, 1], 0
        )
        np.testing.assert_array_equal(per_step.bins[t], step_expected)


def test_a_spatially_isolated_location_is_flagged() -> None:
    cube = np.zeros((4, 6, 6))
    cube[:, 1:3, 1:3] = 1
    cube[:, 5, 5] = [0, 3, 3, 9]
    mask = np.zeros((6, 6), bool)
    mask[0:4, 0:4] = True
    mask[5, 5] = True
    result = emerging_hotspots(cube, mask, 1.5)
    assert result.no_neighbours[5, 5] and result.no_neighbours.sum() == 1
    assert np.isnan(result.z[:, 5, 5]).all() and result.pattern[5, 5] == "no_pattern"

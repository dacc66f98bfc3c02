"""Hand-computed checks of hit rate, PAI and PEI with partial last units."""

import math

import numpy as np
import pytest

from models.forecast.metrics import forecast_scores, hit_rate, pai, pei

# Four unit cells (A = 4), N = 10 events next period; the best cell by density is the last one.
SCORES, COUNTS, AREAS = [0.9, 0.1, 0.5, 0.2], [3, 1, 0, 6], [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("coverage", "hit", "pai_value", "pei_value"),
    [
        (0.25, 0.3, 1.2, 3 / 6),  # top cell 0 (3) vs best cell 3 (6)
        (0.5, 0.3, 0.6, 3 / 9),  # cells 0, 2 (3) vs cells 3, 0 (9)
        (0.375, 0.3, 0.8, 3 / 7.5),  # cell 0 + half of cell 2 (0) vs cell 3 + half of cell 0 (1.5)
        (1.0, 1.0, 1.0, 1.0),
    ],
)
def test_equal_cells(coverage, hit, pai_value, pei_value):
    assert hit_rate(SCORES, COUNTS, AREAS, coverage) == pytest.approx(hit)
    assert pai(SCORES, COUNTS, AREAS, coverage) == pytest.approx(pai_value)
    assert pei(SCORES, COUNTS, AREAS, coverage) == pytest.approx(pei_value)


def test_unequal_areas_take_proportional_share_of_last_unit():
    scores, counts, areas = [0.8, 0.9, 0.1], [4, 1, 5], [2, 1, 1]  # A = 4, N = 10
    # 50 % = 2 area units: unit 1 (1 event) + half of unit 0 (2 of its 4 events) = 3 events.
    assert hit_rate(scores, counts, areas, 0.5) == pytest.approx(0.3)
    assert pai(scores, counts, areas, 0.5) == pytest.approx(0.6)
    # Best: unit 2 (density 5) + half of unit 0 (density 2) = 7 events.
    assert pei(scores, counts, areas, 0.5) == pytest.approx(3 / 7)


def test_scoring_by_observed_density_is_optimal():
    density = [c / a for c, a in zip(COUNTS, AREAS)]
    assert pei(density, COUNTS, AREAS, 0.25) == pytest.approx(1.0)


def test_a_tie_is_split_pro_rata_so_row_order_never_changes_any_score():
    assert hit_rate([1, 1], [0, 5], [1, 1], 0.5) == 0.5
    assert hit_rate([1, 1], [5, 0], [1, 1], 0.5) == 0.5
    # "Last year's class" ranks 114 communes with 5 values: every order of the rows gives the same PAI.
    rng = np.random.default_rng(0)
    scores, counts, areas = rng.integers(0, 5, 114), rng.poisson(20, 114), rng.uniform(1, 80, 114)
    reference = [forecast_scores(scores, counts, areas)]
    for _ in range(20):
        order = rng.permutation(114)
        reference.append(forecast_scores(scores[order], counts[order], areas[order]))
    for table in reference[1:]:
        np.testing.assert_allclose(table[["hit_rate", "pai", "pei"]], reference[0][["hit_rate", "pai", "pei"]])


def test_no_events_gives_nan_and_bad_inputs_raise():
    assert math.isnan(hit_rate([1, 2], [0, 0], [1, 1], 0.5))
    assert math.isnan(pei([1, 2], [0, 0], [1, 1], 0.5))
    with pytest.raises(ValueError, match="coverage must be in"):
        pai(SCORES, COUNTS, AREAS, 0)
    with pytest.raises(ValueError, match="aligned"):
        hit_rate([1, 2], [1], [1, 1], 0.1)
    with pytest.raises(ValueError, match="area must be positive"):
        hit_rate([1, 2], [1, 1], [1, 0], 0.1)


def test_summary_table_at_standard_coverages():
    table = forecast_scores(SCORES, COUNTS, AREAS)
    assert table["coverage"].tolist() == [0.01, 0.05, 0.10]
    # 1 % of 4 cells lies inside cell 0 (3 events per cell): n = 0.04 * 3 = 0.12, PAI = 0.012 / 0.01.
    assert table.loc[0, "pai"] == pytest.approx(1.2)
    assert table.loc[0, "pei"] == pytest.approx(0.5)

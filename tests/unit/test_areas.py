"""The demo's areas of responsibility: the border unit a second area holds too (models.analytics.areas)."""

from __future__ import annotations

import numpy as np

from models.analytics.areas import shared_border_unit

#: A row of five units, 0-1-2-3-4, with 2 also touching 4: areas {0, 1} and {2, 3, 4}.
ROW = [(0, 1), (1, 2), (2, 3), (3, 4), (2, 4)]


def test_the_unit_reaching_furthest_into_a_neighbouring_area_is_shared_with_it() -> None:
    # Unit 1 touches area 1 once (unit 2); unit 2 touches area 0 once (unit 1): a tie, won by the larger area's unit.
    assert shared_border_unit(np.array([0, 0, 1, 1, 1]), ROW) == (2, 0)
    # Unit 2 in the smaller area {0, 1, 2} touches both 3 and 4 of the other: it reaches furthest.
    assert shared_border_unit(np.array([0, 0, 0, 1, 1]), ROW) == (2, 1)


def test_a_single_area_shares_nothing() -> None:
    assert shared_border_unit(np.zeros(5, dtype=int), ROW) is None

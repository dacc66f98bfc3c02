"""Grid specification, point binning, centres and cell polygons."""

import numpy as np

from models.analytics.grid import GridSpec


def test_from_points_covers_all_points_with_padding() -> None:
    x = np.array([600_000.0, 600_950.0, 601_000.0])
    y = np.array([2_300_000.0, 2_300_400.0, 2_300_500.0])
    g = GridSpec.from_points(x, y, 100.0, pad=50.0)
    assert (g.x0, g.y0) == (599_950.0, 2_299_950.0)
    assert g.nx == 12 and g.ny == 7 and g.shape == (7, 12)
    assert (g.flat_index(x, y) >= 0).all()
    xmin, ymin, xmax, ymax = g.bounds
    assert xmax >= 601_050 and ymax >= 2_300_550


def test_point_on_upper_edge_stays_inside() -> None:
    g = GridSpec.from_bounds(0, 0, 100, 100, 10)
    assert g.flat_index(np.array([100.0]), np.array([100.0]))[0] >= 0


def test_counts_and_weights() -> None:
    g = GridSpec(0.0, 0.0, 10.0, 3, 2)
    x = np.array([1.0, 2.0, 15.0, 29.0, 35.0, -1.0])
    y = np.array([1.0, 3.0, 5.0, 19.0, 5.0, 5.0])
    np.testing.assert_array_equal(g.counts(x, y), [[2, 1, 0], [0, 0, 1]])
    w = np.array([0.5, 1.5, 2.0, 3.0, 9.0, 9.0])
    np.testing.assert_array_equal(g.counts(x, y, w), [[2.0, 2.0, 0.0], [0.0, 0.0, 3.0]])


def test_centres_bounds_and_polygons_agree() -> None:
    g = GridSpec(100.0, 200.0, 50.0, 4, 3)
    cx, cy = g.centres()
    assert cx.shape == (3, 4) and cx[0, 0] == 125.0 and cy[2, 0] == 325.0
    b = g.cell_bounds()
    assert b.shape == (12, 4) and tuple(b[5]) == (150.0, 250.0, 200.0, 300.0)
    polys = g.cell_polygons()
    assert len(polys) == 12 and all(p.area == 2500.0 for p in polys)
    np.testing.assert_array_equal(g.flat_index(cx.ravel(), cy.ravel()), np.arange(12))

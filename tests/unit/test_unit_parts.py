"""Boundaries cut into pieces for point-in-commune joins: valid pieces of a few vertices covering each unit exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from gis.store import unit_parts
from gis.store.unit_parts import MAX_VERTICES, subdivide

#: Xã Bắc Thụy Anh (Hưng Yên, 537 vertices), cut unchanged from the national file: GEOS's rectangle clip leaves one of
#: its pieces crossing itself, where the pieces' ring touches the cut line at a vertex.
BAC_THUY_ANH = Path(__file__).resolve().parents[1] / "data" / "hung-yen-bac-thuy-anh.geojson"


def assert_exact_cover(geoms: np.ndarray, pieces: np.ndarray, owners: np.ndarray, max_vertices: int) -> None:
    assert shapely.is_valid(pieces).all()
    assert (shapely.get_type_id(pieces) == 3).all()
    assert shapely.get_num_coordinates(pieces).max() <= max_vertices
    for index, geom in enumerate(geoms):
        mine = pieces[owners == index]
        union = shapely.union_all(mine)
        # Together the pieces are the unit, and they overlap nowhere (their areas add up to the unit's).
        assert shapely.area(shapely.symmetric_difference(union, geom)) <= 1e-12 * geom.area
        assert shapely.area(mine).sum() == pytest.approx(geom.area, rel=1e-9)


def test_a_unit_the_rectangle_clip_breaks_is_cut_again_exactly() -> None:
    unit = shapely.from_geojson(BAC_THUY_ANH.read_text(encoding="utf-8"))
    geoms = np.array(shapely.get_parts(unit))  # the collection's one feature
    fast, _ = unit_parts._cut(geoms, MAX_VERTICES, unit_parts._clip)
    assert not shapely.is_valid(fast).all()  # the fallback is what this test exercises
    pieces, owners = subdivide(geoms)
    assert_exact_cover(geoms, pieces, owners, MAX_VERTICES)
    assert len(pieces) > 4


def test_holes_multipolygons_and_small_units_are_cut_exactly() -> None:
    ring = shapely.Point(0, 0).buffer(10, quad_segs=64)
    with_hole = ring.difference(shapely.Point(2, 1).buffer(3, quad_segs=32))
    islands = shapely.MultiPolygon([shapely.box(20, 0, 21, 1), shapely.Point(30, 0).buffer(2, quad_segs=40)])
    small = shapely.box(0, 0, 1, 1)
    geoms = np.array([with_hole, islands, small], dtype=object)
    for max_vertices in (8, 16, MAX_VERTICES):
        pieces, owners = subdivide(geoms, max_vertices)
        assert_exact_cover(geoms, pieces, owners, max_vertices)
    assert subdivide(np.array([small]))[0].tolist() == [small]  # small enough: kept whole


def test_fewer_than_a_rectangles_vertices_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        subdivide(np.array([shapely.box(0, 0, 1, 1)]), 4)

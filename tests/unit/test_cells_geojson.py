"""The analysis cells' GeoJSON: the same features geopandas writes, faster; missing values stay null."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from maps.geojson import cells_geojson


def _frame() -> gpd.GeoDataFrame:
    squares = shapely.box([106.1, 106.2, 106.3], [20.8, 20.9, 21.0], [106.11, 106.21, 106.31], [20.81, 20.91, 21.01])
    return gpd.GeoDataFrame(
        {
            "z": [1.959963984540054, np.nan, -np.inf],
            "p": [1.234e-20, 0.000123456789012345678, 0.5],
            "bin": np.array([3, 0, -1], dtype="int8"),
            "no_neighbours": [False, True, False],
            "pattern": ["Điểm nóng mới", None, 'x"y'],
        },
        geometry=squares,
        crs=4326,
    )


def test_the_features_are_geopandas_own_with_missing_values_null() -> None:
    frame = _frame()
    written = json.loads(cells_geojson(frame))
    assert written["type"] == "FeatureCollection"
    assert written["features"][:2] == json.loads(frame.to_json(drop_id=True))["features"][:2]
    assert written["features"][1]["properties"] == {
        "z": None,
        "p": 0.000123456789012345678,
        "bin": 0,
        "no_neighbours": True,
        "pattern": None,
    }
    # An infinity is no number JSON can hold: null, where geopandas wrote -Infinity (no JSON reader takes it).
    assert written["features"][0]["properties"]["pattern"] == "Điểm nóng mới"
    assert written["features"][2]["properties"]["z"] is None


def test_no_cells_is_an_empty_collection_and_text_is_refused() -> None:
    assert json.loads(cells_geojson(_frame().iloc[:0])) == {"type": "FeatureCollection", "features": []}
    with pytest.raises(TypeError, match="numbers, booleans and text"):
        cells_geojson(_frame().assign(day=np.datetime64("2026-12-07")))

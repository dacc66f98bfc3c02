"""GeoJSON of analysis cells (density, Gi*, emerging patterns), written by GEOS's and pandas' C encoders.

geopandas' ``to_json`` builds a Python dictionary per feature and encodes it: 1.7 s for the 12,348 Gi* cells of
Hải Phòng at 500 m (all cells, 4.9 MB), against 0.05 s here, the same features (one process, quiet machine); at
250 m there are four times as many. The properties are numbers (exactly, as Python writes them), booleans, text and nulls (NaN: missing, never 0).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import numpy as np
import shapely

if TYPE_CHECKING:
    import geopandas as gpd


def _encoded(values: np.ndarray) -> list[str]:
    """Each value of a column as JSON: floats exactly (repr), NaN and infinities as null; text (an emerging
    pattern's name) through the json module, a missing one as null."""
    if values.dtype == object:
        return ["null" if v is None or v != v else json.dumps(v) for v in values.tolist()]
    if values.dtype == bool:
        return ["true" if v else "false" for v in values.tolist()]
    if np.issubdtype(values.dtype, np.integer):
        return [str(v) for v in values.tolist()]
    return [repr(v) if math.isfinite(v) else "null" for v in values.astype(float).tolist()]


def cells_geojson(frame: gpd.GeoDataFrame) -> bytes:
    """A FeatureCollection of ``frame``'s rows: its geometry and its other columns (numbers, booleans, text; TypeError
    for another kind, e.g. dates) as properties, no ids."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype, is_object_dtype, is_string_dtype  # with the frame

    values = frame.drop(columns=frame.geometry.name)
    kinds = values.dtypes.items()
    if wrong := [
        str(c)
        for c, k in kinds
        if not (is_numeric_dtype(k) or is_bool_dtype(k) or is_object_dtype(k) or is_string_dtype(k))
    ]:
        raise TypeError(f"cells_geojson writes numbers, booleans and text only, not {wrong}")
    names = [json.dumps(str(column)) for column in values.columns]
    columns = [_encoded(values[column].to_numpy()) for column in values.columns]
    geometries = shapely.to_geojson(frame.geometry.to_numpy()).tolist()
    features = ",".join(
        f'{{"type":"Feature","properties":{{{",".join(f"{n}:{v}" for n, v in zip(names, row))}}},"geometry":{g}}}'
        for g, *row in zip(geometries, *columns)
    )
    return f'{{"type":"FeatureCollection","features":[{features}]}}'.encode()

"""What the access sweeps share: the tile over a point, an answer's text, the marks of the other side in it, a path
filled with its ids (tests/api/test_permissions.py across provinces, tests/api/test_team_scope.py across teams)."""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Mapping

import mapbox_vector_tile


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The slippy-map tile holding a lon/lat point."""
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def answer_text(response) -> str:
    """What an answer says as text: JSON, GeoJSON, CSV, the XML inside an Excel workbook, or the layers and
    properties of a vector tile."""
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/vnd.mapbox-vector-tile"):
        layers = mapbox_vector_tile.decode(response.content)
        return json.dumps({k: [f["properties"] for f in v["features"]] for k, v in layers.items()}, ensure_ascii=False)
    if "spreadsheetml" in kind:
        with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
            return " ".join(workbook.read(name).decode() for name in workbook.namelist() if name.endswith(".xml"))
    return response.text if kind.startswith(("application/json", "application/geo+json", "text/")) else ""


def mentions(body: str, codes: Iterable[str], marks: Iterable[str]) -> list[str]:
    """The commune codes (not as digits of a coordinate) and the other marks found in an answer."""
    found = [code for code in codes if re.search(rf"(?<![\d.]){code}(?!\d)", body)]
    return found + [mark for mark in marks if mark in body]


def fill_path(path: str, values: Mapping[str, object]) -> str:
    """An OpenAPI path with its ``{parameters}`` replaced by their values."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)

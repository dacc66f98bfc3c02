"""The current commune-level units (xã, phường, đặc khu): GeoJSON, codes, names and areas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from gis.store.sql import current_unit, display_simplified
from models.errors import InvalidRequest
from models.lazy import lazy_module
from models.vocabulary import METRIC_DOMAIN, METRIC_SRID, WGS84_SRID

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

Extent = tuple[float, float, float, float]


class OutsideCity(InvalidRequest):
    """A point lies outside the city's extent (its communes and a margin around them)."""

    code = "outside_city"


def communes_geojson(conn: Connection, simplify_m: float = 0.0, province_code: str | None = None) -> dict[str, Any]:
    """Current commune-level units (of one province, when given) as a GeoJSON FeatureCollection (optionally
    simplified), each with its province."""
    row = conn.execute(
        text(f"""
        SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f ORDER BY f.code), '[]'))
        FROM (
            SELECT u.code, 'Feature' AS type, u.code AS id,
                   ST_AsGeoJSON(CASE WHEN :tol > 0 THEN {display_simplified("u.geom", ":tol")}
                                     ELSE u.geom END, 6)::json AS geometry,
                   json_build_object('code', u.code, 'name', u.name, 'full_name', u.full_name,
                                     'kind', u.kind, 'area_km2', u.area_km2, 'province_code', u.province_code,
                                     'valid_from', u.valid_from,
                                     'label', json_build_array(round(ST_X(l.p)::numeric, 6), round(ST_Y(l.p)::numeric, 6)))
                     AS properties
            FROM admin_units u
            -- where the name is written: a point surely inside the unit (4 ms for the 114 units, of the 300 ms the
            -- simplified answer takes; ST_MaximumInscribedCircle, the visual centre, is missing from Debian 12's PostGIS)
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(u.geom) AS p) l
            WHERE {current_unit("u")}
              AND (CAST(:province AS text) IS NULL OR u.province_code = :province)
        ) f
    """),
        {
            "tol": simplify_m / 111_000.0,
            "province": province_code,
        },  # metres to degrees here: a subnormal tolerance underflowed in SQL
    ).scalar_one()
    for feature in row["features"]:
        feature.pop("code", None)
    return row


def current_commune_codes(conn: Connection) -> set[str]:
    """Codes of the current units."""
    return set(conn.execute(text(f"SELECT u.code FROM admin_units u WHERE {current_unit('u')}")).scalars())


def unknown_communes(conn: Connection, codes: Iterable[str]) -> list[str]:
    """Codes that are not current commune-level units."""
    wanted = sorted(set(codes))
    known = set(
        conn.execute(
            text(f"SELECT u.code FROM admin_units u WHERE {current_unit('u')} AND u.code = ANY(:c)"), {"c": wanted}
        ).scalars()
    )
    return sorted(set(wanted) - known)


def current_communes(conn: Connection) -> pd.DataFrame:
    """Current units: commune_code, name, full_name and area_km2, ordered by code."""
    rows = conn.execute(
        text(
            f"SELECT u.code, u.name, u.full_name, u.area_km2 FROM admin_units u"
            f" WHERE {current_unit('u')} ORDER BY u.code"
        )
    ).all()
    return pd.DataFrame(rows, columns=["commune_code", "name", "full_name", "area_km2"])


def city_extent(conn: Connection, margin_m: float) -> Extent:
    """The bounding box (WGS84) of the current communes widened by ``margin_m`` metres; before any boundary is
    loaded, the region where metric coordinates are trustworthy (METRIC_DOMAIN)."""
    row = conn.execute(
        text(f"""
        SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
        FROM (SELECT ST_Transform(ST_Expand(ST_Transform(ST_SetSRID(ST_Extent(u.geom)::geometry, {WGS84_SRID}),
                                                         {METRIC_SRID}), :m), {WGS84_SRID}) AS e
              FROM admin_units u WHERE {current_unit("u")}) x"""),
        {"m": margin_m},
    ).one()
    return METRIC_DOMAIN if row[0] is None else (row[0], row[1], row[2], row[3])


def check_in_city(conn: Connection, lon: float, lat: float, margin_m: float) -> None:
    """Refuse (422) a point outside the city's extent: a typo or a swapped coordinate, not a place in Hải Phòng."""
    x0, y0, x1, y1 = city_extent(conn, margin_m)
    if not (x0 <= lon <= x1 and y0 <= lat <= y1):
        raise OutsideCity(
            f"tọa độ ({lon:.5f}, {lat:.5f}) nằm ngoài phạm vi thành phố (kinh độ {x0:.3f}–{x1:.3f},"
            f" vĩ độ {y0:.3f}–{y1:.3f}); kiểm tra lại kinh độ/vĩ độ",
            f"point outside the city's extent lon {x0:.3f}..{x1:.3f}, lat {y0:.3f}..{y1:.3f}",
        )

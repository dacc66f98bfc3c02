"""Read queries for the API: GeoJSON assembled inside PostGIS (no per-feature Python work)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from gis.scoping import UNRESTRICTED, AreaScope


@dataclass(frozen=True)
class IncidentFilter:
    """Filters of the incident list: bounding box (lon/lat), time range, kinds, commune, the user's area."""

    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None
    kinds: tuple[str, ...] = ()
    commune: str | None = None
    scope: AreaScope = UNRESTRICTED

    def where(self) -> tuple[str, dict[str, Any]]:
        """SQL condition on table alias `i` and its bound parameters."""
        clauses, params = [self.scope.incidents("i")], dict(self.scope.params)
        if self.bbox:
            clauses.append("i.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
            params.update(zip(("x0", "y0", "x1", "y1"), self.bbox))
        if self.start:
            clauses.append("i.occurred_at >= :start")
            params["start"] = self.start
        if self.end:
            clauses.append("i.occurred_at < :end")
            params["end"] = self.end
        if self.kinds:
            clauses.append("i.kind = ANY(:kinds)")
            params["kinds"] = list(self.kinds)
        if self.commune:
            clauses.append("i.commune_code = :commune")
            params["commune"] = self.commune
        return " AND ".join(clauses), params


def communes_geojson(conn: Connection, simplify_m: float = 0.0) -> dict[str, Any]:
    """Current commune-level units as a GeoJSON FeatureCollection (optionally simplified)."""
    row = conn.execute(text("""
        SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f ORDER BY f.code), '[]'))
        FROM (
            SELECT u.code, 'Feature' AS type, u.code AS id,
                   ST_AsGeoJSON(CASE WHEN :tol > 0 THEN ST_SimplifyPreserveTopology(u.geom, :tol / 111000.0)
                                     ELSE u.geom END, 6)::json AS geometry,
                   json_build_object('code', u.code, 'name', u.name, 'full_name', u.full_name,
                                     'kind', u.kind, 'area_km2', u.area_km2,
                                     'valid_from', u.valid_from) AS properties
            FROM admin_units u WHERE u.valid_to IS NULL
        ) f
    """), {"tol": simplify_m}).scalar_one()
    for feature in row["features"]:
        feature.pop("code", None)
    return row


def incidents_page(conn: Connection, flt: IncidentFilter, limit: int, offset: int) -> dict[str, Any]:
    """One page of incidents as GeoJSON with the total number matched."""
    where, params = flt.where()
    total = conn.execute(text(f"SELECT count(*) FROM incidents i WHERE {where}"), params).scalar_one()
    rows = conn.execute(text(f"""
        SELECT coalesce(json_agg(json_build_object(
            'type', 'Feature', 'id', p.id,
            'geometry', ST_AsGeoJSON(p.geom, 6)::json,
            'properties', json_build_object('ref', p.ref, 'occurred_at', p.occurred_at, 'kind', p.kind,
                'substance', p.substance, 'quantity_g', p.quantity_g, 'arrested', p.arrested,
                'source', p.source, 'commune_code', p.commune_code, 'assignment', p.assignment)
        ) ORDER BY p.occurred_at, p.id), '[]')
        FROM (SELECT * FROM incidents i WHERE {where} ORDER BY i.occurred_at, i.id LIMIT :limit OFFSET :offset) p
    """), {**params, "limit": limit, "offset": offset}).scalar_one()
    features = rows if isinstance(rows, list) else json.loads(rows)
    return {"type": "FeatureCollection", "features": features, "numberMatched": total,
            "numberReturned": len(features), "limit": limit, "offset": offset}

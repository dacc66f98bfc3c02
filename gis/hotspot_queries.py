"""Hotspot register reads: GeoJSON lists with filters, one hotspot with its incidents and events, export."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from gis.scoping import UNRESTRICTED, AreaScope


@dataclass(frozen=True)
class HotspotFilter:
    """Filters of the hotspot list: statuses, commune(s), lon/lat box, activity within dates."""

    statuses: tuple[str, ...] = ()
    communes: tuple[str, ...] | None = None
    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None
    scope: AreaScope = UNRESTRICTED

    def where(self) -> tuple[str, dict[str, Any]]:
        """SQL condition on alias `h` and its parameters (the user's area scope included)."""
        clauses, params = [self.scope.hotspots("h")], dict(self.scope.params)
        if self.statuses:
            clauses.append("h.status = ANY(:statuses)")
            params["statuses"] = list(self.statuses)
        if self.communes is not None:
            clauses.append("h.commune_code = ANY(:communes)")
            params["communes"] = list(self.communes)
        if self.bbox:
            clauses.append("h.centroid && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
            params.update(zip(("x0", "y0", "x1", "y1"), self.bbox))
        if self.start:
            clauses.append("coalesce(h.last_seen, h.created_at) >= :start")
            params["start"] = self.start
        if self.end:
            clauses.append("coalesce(h.first_seen, h.created_at) < :end")
            params["end"] = self.end
        return " AND ".join(clauses), params


_PROPERTIES = """json_build_object('id', h.id, 'status', h.status, 'kind', h.kind, 'origin', h.origin,
    'n_incidents', h.n_incidents, 'kinds', h.kinds, 'first_seen', h.first_seen, 'last_seen', h.last_seen,
    'commune_code', h.commune_code, 'radius_m', round(h.radius_m::numeric, 1), 'version', h.version,
    'status_changed_at', h.status_changed_at, 'note', h.note)"""


def hotspots_geojson(conn: Connection, flt: HotspotFilter, footprints: bool = False) -> dict[str, Any]:
    """Hotspots as GeoJSON: centroid points, or footprint polygons when asked."""
    where, params = flt.where()
    geometry = "coalesce(h.footprint, h.centroid)" if footprints else "h.centroid"
    features = conn.execute(text(f"""
        SELECT coalesce(json_agg(json_build_object('type', 'Feature', 'id', h.id,
               'geometry', ST_AsGeoJSON({geometry}, 6)::json, 'properties', {_PROPERTIES}) ORDER BY h.id), '[]')
        FROM hotspots h WHERE {where}"""), params).scalar_one()
    return {"type": "FeatureCollection", "features": features}


def hotspot_detail(conn: Connection, hotspot_id: int, scope: AreaScope = UNRESTRICTED) -> dict[str, Any] | None:
    """One hotspot (if in scope) as a GeoJSON feature with its footprint, incidents and event history."""
    return conn.execute(text(f"""
        SELECT json_build_object('type', 'Feature', 'id', h.id,
            'geometry', ST_AsGeoJSON(h.centroid, 6)::json,
            'properties', {_PROPERTIES}::jsonb || jsonb_build_object(
                'footprint', ST_AsGeoJSON(h.footprint, 6)::json,
                'incidents', (SELECT coalesce(json_agg(json_build_object('id', i.id, 'ref', i.ref,
                        'occurred_at', i.occurred_at, 'kind', i.kind, 'lon', round(ST_X(i.geom)::numeric, 6),
                        'lat', round(ST_Y(i.geom)::numeric, 6)) ORDER BY i.occurred_at), '[]')
                    FROM hotspot_incidents hi JOIN incidents i ON i.id = hi.incident_id WHERE hi.hotspot_id = h.id),
                'events', (SELECT coalesce(json_agg(json_build_object('id', e.id, 'at', e.at, 'actor', e.actor,
                        'event', e.event, 'from_status', e.from_status, 'to_status', e.to_status, 'note', e.note,
                        'run_id', e.run_id, 'details', e.details) ORDER BY e.id), '[]')
                    FROM hotspot_events e WHERE e.hotspot_id = h.id)))
        FROM hotspots h WHERE h.id = :id AND {scope.hotspots("h")}"""), {"id": hotspot_id, **scope.params}).scalar()


EXPORT_COLUMNS = ("id", "status", "kind", "n_incidents", "first_seen", "last_seen", "commune_code", "radius_m")


def export_hotspots(conn: Connection, fmt: str = "geojson", footprints: bool = False) -> str:
    """The register as GeoJSON (centroids, or footprints) or CSV with lon/lat, in the export contract."""
    collection = hotspots_geojson(conn, HotspotFilter(), footprints=footprints)
    for feature in collection["features"]:
        feature["properties"] = {k: feature["properties"][k] for k in EXPORT_COLUMNS}
    if fmt == "geojson":
        return json.dumps(collection, ensure_ascii=False)
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r} (geojson | csv)")
    rows = conn.execute(text("SELECT h.id, h.status, h.kind, h.n_incidents, h.first_seen, h.last_seen, h.commune_code,"
                             " round(h.radius_m::numeric, 1) AS radius_m, round(ST_X(h.centroid)::numeric, 6) AS lon,"
                             " round(ST_Y(h.centroid)::numeric, 6) AS lat FROM hotspots h ORDER BY h.id")).mappings().all()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*EXPORT_COLUMNS, "lon", "lat"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()

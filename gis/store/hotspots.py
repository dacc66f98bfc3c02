"""The hotspot register in PostGIS: GeoJSON lists with filters, one hotspot with its incidents and events,
export, and the append-only event history."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, text

from gis.io.exports import ExportFile, neutralised
from gis.store.scoping import UNRESTRICTED, AreaScope
from gis.store.selection import HotspotFilter
from gis.store.tables import HotspotEvent
from models.domain.state_machine import StateMachine

_PROPERTIES = """json_build_object('id', h.id, 'status', h.status, 'kind', h.kind, 'origin', h.origin,
    'n_incidents', h.n_incidents, 'kinds', h.kinds, 'first_seen', h.first_seen, 'last_seen', h.last_seen,
    'commune_code', h.commune_code, 'radius_m', round(h.radius_m::numeric, 1), 'version', h.version,
    'status_changed_at', h.status_changed_at, 'note', h.note)"""


def hotspots_geojson(conn: Connection, flt: HotspotFilter, footprints: bool = False) -> dict[str, Any]:
    """Hotspots as GeoJSON: centroid points, or footprint polygons when asked."""
    where = flt.where("h")
    geometry = "coalesce(h.footprint, h.centroid)" if footprints else "h.centroid"
    features = conn.execute(
        text(f"""
        SELECT coalesce(json_agg(json_build_object('type', 'Feature', 'id', h.id,
               'geometry', ST_AsGeoJSON({geometry}, 6)::json, 'properties', {_PROPERTIES}) ORDER BY h.id), '[]')
        FROM hotspots h WHERE {where.sql}"""),
        where.params,
    ).scalar_one()
    return {"type": "FeatureCollection", "features": features}


def hotspot_detail(conn: Connection, hotspot_id: int, scope: AreaScope = UNRESTRICTED) -> dict[str, Any] | None:
    """One hotspot (if in scope) as a GeoJSON feature with its footprint, incidents and event history."""
    return conn.execute(
        text(f"""
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
        FROM hotspots h WHERE h.id = :id AND {scope.hotspots("h")}"""),
        {"id": hotspot_id, **scope.params},
    ).scalar()


EXPORT_COLUMNS = ("id", "status", "kind", "n_incidents", "first_seen", "last_seen", "commune_code", "radius_m")


def export_hotspots(conn: Connection, fmt: str = "geojson", footprints: bool = False) -> ExportFile:
    """The register as GeoJSON (centroids, or footprints) or CSV with lon/lat, in the export contract (UTF-8), with
    its number of hotspots."""
    collection = hotspots_geojson(conn, HotspotFilter(), footprints=footprints)
    for feature in collection["features"]:
        feature["properties"] = {k: feature["properties"][k] for k in EXPORT_COLUMNS}
    if fmt == "geojson":
        return ExportFile(json.dumps(collection, ensure_ascii=False).encode("utf-8"), len(collection["features"]))
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r} (geojson | csv)")
    rows = (
        conn.execute(
            text(
                "SELECT h.id, h.status, h.kind, h.n_incidents, h.first_seen, h.last_seen, h.commune_code,"
                " round(h.radius_m::numeric, 1) AS radius_m, round(ST_X(h.centroid)::numeric, 6) AS lon,"
                " round(ST_Y(h.centroid)::numeric, 6) AS lat FROM hotspots h ORDER BY h.id"
            )
        )
        .mappings()
        .all()
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*EXPORT_COLUMNS, "lon", "lat"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: neutralised(v) for k, v in row.items()} for row in rows)
    return ExportFile(buffer.getvalue().encode("utf-8"), len(rows))


def record_hotspot_event(
    conn: Connection,
    hotspot_id: int,
    actor: str,
    source: str | None,
    target: str,
    note: str,
    details: dict[str, Any],
    at: datetime | None = None,
    event: str = "transition",
) -> None:
    """Append one event (a transition by default) to the hotspot's history (at `at`, default now)."""
    values = dict(
        hotspot_id=hotspot_id,
        actor=actor,
        event=event,
        from_status=source,
        to_status=target,
        note=note or None,
        details=details,
    )
    conn.execute(insert(HotspotEvent).values(**values, **({"at": at} if at else {})))


def replay_hotspot(conn: Connection, machine: StateMachine, hotspot_id: int) -> str:
    """The status derived from the hotspot's status-changing events, oldest first."""
    events = conn.execute(
        text("""SELECT from_status, to_status FROM hotspot_events
                                  WHERE hotspot_id = :id AND from_status IS NOT NULL AND to_status IS NOT NULL
                                    AND from_status <> to_status ORDER BY id"""),
        {"id": hotspot_id},
    ).all()
    return machine.replay([tuple(e) for e in events])


def assign_communes(conn: Connection, hotspot_ids: list[int]) -> None:
    """Set each hotspot's commune: the current unit containing its centroid."""
    conn.execute(
        text("""
        UPDATE hotspots h SET commune_code = (
            SELECT p.code FROM admin_unit_parts p WHERE ST_Intersects(p.geom, h.centroid) ORDER BY p.code LIMIT 1)
        WHERE h.id = ANY(:ids)"""),
        {"ids": [int(i) for i in hotspot_ids]},
    )


def hotspot_commune(conn: Connection, hotspot_id: int) -> str | None:
    """The commune code of a hotspot (None when unknown or outside every commune)."""
    return conn.execute(text("SELECT commune_code FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar()

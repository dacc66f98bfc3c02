"""Hotspot lifecycle use cases: facts from PostGIS, a versioned status change and an append-only event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from gis.settings import DataSettings
from gis.store.communes import check_in_city
from gis.store.hotspots import assign_communes, record_hotspot_event
from gis.store.scoping import AreaScope
from gis.store.sql import local_date, to_metric, to_wgs84
from gis.store.versioned import load_at_version, update_at_version
from models.domain.access import Principal
from models.domain.hotspot_lifecycle import HotspotFacts
from models.domain.state_machine import StateMachine
from models.errors import InvalidRequest
from models.vocabulary import WGS84_SRID, HotspotOrigin, HotspotStatus

#: When monitoring started and whether an incident occurred in the footprint (or, without a
#: footprint, within radius_m of the centroid) between then and the time of the transition.
_MONITORING_FACTS = text(f"""
    WITH start AS (
        SELECT max(e.at) AS at FROM hotspot_events e
        WHERE e.hotspot_id = :id AND e.from_status = '{HotspotStatus.ERADICATED}'
          AND e.to_status = '{HotspotStatus.MONITORING}'
    )
    SELECT {local_date("s.at")} AS monitoring_since,
           {local_date("coalesce(:at, now())")} AS as_of,
           EXISTS (
               SELECT 1 FROM incidents i
               WHERE i.occurred_at >= s.at AND i.occurred_at <= coalesce(:at, now())
                 AND CASE WHEN h.footprint IS NOT NULL THEN ST_Intersects(i.geom, h.footprint)
                          ELSE ST_DWithin(i.geom::geography, h.centroid::geography, h.radius_m) END
           ) AS incident_in_footprint
    FROM hotspots h CROSS JOIN start s WHERE h.id = :id
""")


def hotspot_facts(
    conn: Connection, hotspot_id: int, status: str, note: str, actor_role: str, at: datetime | None = None
) -> HotspotFacts:
    """Facts for a transition at `at` (default now); monitoring facts come from the events and incidents."""
    if status != HotspotStatus.MONITORING:
        return HotspotFacts(note=note, actor_role=actor_role)
    row = conn.execute(_MONITORING_FACTS, {"id": hotspot_id, "at": at}).mappings().one()
    return HotspotFacts(note=note, actor_role=actor_role, **row)


def _check_recorded_time(conn: Connection, hotspot_id: int, at: datetime) -> None:
    """A past transition may be recorded: not in the future, not before the hotspot was first seen,
    not before its latest status change (detection's bookkeeping events do not count)."""
    earliest = conn.execute(
        text("""
        SELECT greatest((SELECT coalesce(first_seen, created_at) FROM hotspots WHERE id = :id),
                        (SELECT max(at) FROM hotspot_events WHERE hotspot_id = :id AND event = 'transition'))"""),
        {"id": hotspot_id},
    ).scalar()
    if at > datetime.now(UTC) or (earliest is not None and at < earliest):
        raise InvalidRequest(
            f"thời điểm ghi nhận {at:%d/%m/%Y %H:%M} không hợp lệ: phải sau lần chuyển trạng thái"
            " gần nhất và không ở tương lai (recorded time must follow the latest status change"
            " and not be in the future)"
        )


def transition_hotspot(
    conn: Connection,
    machine: StateMachine,
    hotspot_id: int,
    target: str,
    note: str,
    version: int,
    actor: Principal,
    scope: AreaScope,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Move a visible hotspot at ``version`` to ``target`` if the lifecycle allows it; return id, status, version.

    ``at`` records a transition that happened earlier (field work entered afterwards); the rules are
    checked as of that time.
    """
    row = load_at_version(conn, "hotspots", hotspot_id, version, "r.status", scope.hotspots("r"), scope.params)
    if at is not None:
        _check_recorded_time(conn, hotspot_id, at)
    machine.check(row["status"], target, hotspot_facts(conn, hotspot_id, row["status"], note, actor.role, at))
    new_version = update_at_version(
        conn,
        "hotspots",
        hotspot_id,
        version,
        "status = :to, status_changed_at = coalesce(:at, now())",
        {"to": target, "at": at},
    )
    record_hotspot_event(
        conn, hotspot_id, actor.username, row["status"], target, note, {"role": actor.role, "version": new_version}, at
    )
    return {"id": hotspot_id, "status": target, "version": new_version}


def create_manual_hotspot(
    conn: Connection,
    *,
    lon: float,
    lat: float,
    note: str,
    actor: str,
    kind: str = "spot",
    radius_m: float = 50.0,
    city_margin_m: float = DataSettings.model_fields["city_margin_m"].default,
) -> int:
    """A hotspot reported by hand (e.g. from a tip): a point inside the city's extent, a note, status `detected`."""
    check_in_city(conn, lon, lat, city_margin_m)
    hotspot_id = conn.execute(
        text(f"""
        INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, note, version, centroid, footprint)
        SELECT '{HotspotStatus.DETECTED}', :kind, '{HotspotOrigin.MANUAL}', 0, '{{}}'::jsonb, :r, :note, 1, c,
               {to_wgs84(f"ST_Buffer({to_metric('c')}, :r)")}
        FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), {WGS84_SRID}) AS c) p
        RETURNING id"""),
        {"kind": kind, "r": radius_m, "note": note, "lon": lon, "lat": lat},
    ).scalar_one()
    assign_communes(conn, [hotspot_id])
    record_hotspot_event(conn, hotspot_id, actor, None, HotspotStatus.DETECTED, note, {}, event="created")
    return hotspot_id

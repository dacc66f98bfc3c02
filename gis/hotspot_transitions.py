"""Hotspot lifecycle persisted: facts from PostGIS, a versioned status change and an append-only event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, text

from gis.scoping import AreaScope
from gis.tables import HotspotEvent
from gis.versioned import load_at_version, update_at_version
from models.access import Principal
from models.hotspot_lifecycle import HotspotFacts
from models.state_machine import StateMachine

LOCAL_TODAY = "(now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"

#: When monitoring started and whether an incident has since occurred in the footprint
#: (or, without a footprint, within radius_m of the centroid).
_MONITORING_FACTS = text(f"""
    WITH start AS (
        SELECT max(e.at) AS at FROM hotspot_events e
        WHERE e.hotspot_id = :id AND e.from_status = 'eradicated' AND e.to_status = 'monitoring'
    )
    SELECT (s.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS monitoring_since, {LOCAL_TODAY} AS as_of,
           EXISTS (
               SELECT 1 FROM incidents i
               WHERE i.occurred_at >= s.at
                 AND CASE WHEN h.footprint IS NOT NULL THEN ST_Intersects(i.geom, h.footprint)
                          ELSE ST_DWithin(i.geom::geography, h.centroid::geography, h.radius_m) END
           ) AS incident_in_footprint
    FROM hotspots h CROSS JOIN start s WHERE h.id = :id
""")


def hotspot_facts(conn: Connection, hotspot_id: int, status: str, note: str, actor_role: str) -> HotspotFacts:
    """Facts for a transition; monitoring facts come from the events and incidents when monitoring."""
    if status != "monitoring":
        return HotspotFacts(note=note, actor_role=actor_role)
    row = conn.execute(_MONITORING_FACTS, {"id": hotspot_id}).mappings().one()
    return HotspotFacts(note=note, actor_role=actor_role, **row)


def record_hotspot_event(conn: Connection, hotspot_id: int, actor: str, source: str, target: str, note: str,
                         details: dict[str, Any]) -> None:
    """Append one transition event to the hotspot's history."""
    conn.execute(insert(HotspotEvent).values(hotspot_id=hotspot_id, actor=actor, event="transition",
                                             from_status=source, to_status=target, note=note or None,
                                             details=details))


def transition_hotspot(conn: Connection, machine: StateMachine, hotspot_id: int, target: str, note: str,
                       version: int, actor: Principal, scope: AreaScope) -> dict[str, Any]:
    """Move a visible hotspot at ``version`` to ``target`` if the lifecycle allows it; return id, status, version."""
    row = load_at_version(conn, "hotspots", hotspot_id, version, "r.status", scope.hotspots("r"), scope.params)
    machine.check(row["status"], target, hotspot_facts(conn, hotspot_id, row["status"], note, actor.role))
    new_version = update_at_version(conn, "hotspots", hotspot_id, version,
                                    "status = :to, status_changed_at = now()", {"to": target})
    record_hotspot_event(conn, hotspot_id, actor.username, row["status"], target, note,
                         {"role": actor.role, "version": new_version})
    return {"id": hotspot_id, "status": target, "version": new_version}


def replay_hotspot(conn: Connection, machine: StateMachine, hotspot_id: int) -> str:
    """The status derived from the hotspot's status-changing events, oldest first."""
    events = conn.execute(text("""SELECT from_status, to_status FROM hotspot_events
                                  WHERE hotspot_id = :id AND from_status IS NOT NULL AND to_status IS NOT NULL
                                    AND from_status <> to_status ORDER BY id"""), {"id": hotspot_id}).all()
    return machine.replay([tuple(e) for e in events])


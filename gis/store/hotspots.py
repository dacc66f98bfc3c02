"""The hotspot register in PostGIS: GeoJSON lists with filters, one hotspot with its incidents and events,
export, and the append-only event history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, insert, text

from gis.store.access_log import AccessLine, append_line
from gis.store.bulk import copy_arrow
from gis.store.scoping import UNRESTRICTED, AreaScope, in_team_area
from gis.store.selection import HotspotFilter, held_outside_area, recurrences, team_unstaffed
from gis.store.sql import containing_unit, current_unit, local_date, move_note
from gis.store.tables import HotspotEvent
from models.domain.state_machine import StateMachine
from models.lazy import lazy_module
from models.vocabulary import (
    COMMUNE_CHANGED,
    REPORT_DISMISSED_DAYS,
    REPORT_LISTED,
    REPORT_NOTICE_STATUSES,
    HotspotOrigin,
    HotspotStatus,
    TaskKind,
)

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy_module("pyarrow")


def incident_within(hotspot: str, since: str, until: str) -> str:
    """Condition that an incident occurred in a hotspot's footprint (without one: within radius_m of its
    centroid) between two instants: what keeps a monitored hotspot from being closed."""
    return f"""EXISTS (
        SELECT 1 FROM incidents i
        WHERE i.occurred_at >= {since} AND i.occurred_at <= {until}
          AND CASE WHEN {hotspot}.footprint IS NOT NULL THEN ST_Intersects(i.geom, {hotspot}.footprint)
                   ELSE ST_DWithin(i.geom::geography, {hotspot}.centroid::geography, {hotspot}.radius_m) END)"""


def _from(scope: AreaScope) -> str:
    """Hotspots with their newest suppression task (alias ``st``): the one the coupling rules look at, with
    ``outside``, whether its team holds it outside its area today (``held_outside_area``), and ``seen``, whether the
    scope may see that task (a team never sees another team's task, even on a hotspot of its area)."""
    return f"""hotspots h LEFT JOIN LATERAL (
        SELECT t.id, t.state, t.version, t.team_id, t.commune_code, tm.name AS team, t.due_date,
               jsonb_array_length(t.checklist) AS steps,
               (SELECT count(*) FROM jsonb_array_elements(t.checklist) l WHERE NOT coalesce((l ->> 'done')::boolean, false))
                   AS steps_open,
               {held_outside_area("t")} AS outside, ({scope.tasks("t")}) AS seen,
               {team_unstaffed("t")} AS unstaffed
        FROM tasks t
        LEFT JOIN teams tm ON tm.id = t.team_id
        WHERE t.hotspot_id = h.id AND t.kind = '{TaskKind.SUPPRESSION}' ORDER BY t.id DESC LIMIT 1) st ON true"""


_MONITORED = f"h.status = '{HotspotStatus.MONITORING}'"
#: The task's fields, only when the user may see the task; ``newest_task_state`` is the state whoever holds it, for
#: the hotspot's own actions (gis.services.hotspots.add_actions takes it out of the answer).
_PROPERTIES = f"""json_build_object('id', h.id, 'status', h.status, 'kind', h.kind, 'origin', h.origin,
    'n_incidents', h.n_incidents, 'kinds', h.kinds, 'first_seen', h.first_seen, 'last_seen', h.last_seen,
    'commune_code', h.commune_code, 'radius_m', round(h.radius_m::numeric, 1), 'version', h.version,
    'status_changed_at', h.status_changed_at, 'created_at', h.created_at, 'note', h.note,
    'recurred_at', (SELECT max(re.at) FROM {recurrences("h")}),
    'task_id', CASE WHEN st.seen THEN st.id END, 'task_state', CASE WHEN st.seen THEN st.state END,
    'task_version', CASE WHEN st.seen THEN st.version END, 'task_team_id', CASE WHEN st.seen THEN st.team_id END,
    'task_team', CASE WHEN st.seen THEN st.team END, 'task_due_date', CASE WHEN st.seen THEN st.due_date END,
    'task_steps', CASE WHEN st.seen THEN st.steps ELSE 0 END,
    'task_steps_open', CASE WHEN st.seen THEN st.steps_open ELSE 0 END,
    'task_outside_team_area', coalesce(st.seen AND st.outside, false),
    'task_team_unstaffed', coalesce(st.seen AND st.unstaffed, false), 'newest_task_state', st.state,
    'monitoring_since', CASE WHEN {_MONITORED} THEN {local_date("h.status_changed_at")} END,
    'incident_since_monitoring', CASE WHEN {_MONITORED} THEN {incident_within("h", "h.status_changed_at", "now()")} END)"""


def _event_shown(scope: AreaScope) -> str:
    """What the scope may see of a hotspot event (alias ``e``): its note and the task it names (``task``: not when it
    went with a task it may not see; who made it is ``AreaScope.actor``)."""
    if not scope.key:
        return "SELECT true AS task"
    return f"""SELECT NOT EXISTS (SELECT 1 FROM tasks et
        WHERE et.id = CAST(e.details ->> 'task_id' AS integer) AND NOT ({scope.tasks("et")})) AS task"""


def hotspots_geojson(
    conn: Connection, flt: HotspotFilter, footprints: bool = False, access: AccessLine | None = None
) -> dict[str, Any]:
    """Hotspots as GeoJSON: centroid points, or footprint polygons when asked. ``access``: the access line of the read,
    written with the number of hotspots by the list's own statement (one round trip, as a street-zoom tile's)."""
    where = flt.where("h")
    geometry = "coalesce(h.footprint, h.centroid)" if footprints else "h.centroid"
    # Near a place: each with its distance in whole metres, nearest first.
    distance = flt.distance("h")
    properties, order = _PROPERTIES, "h.id"
    if distance is not None:
        properties = f"({_PROPERTIES}::jsonb || jsonb_build_object('distance_m', round({distance})))"
        order = f"{distance}, h.id"
    listed = f"""SELECT coalesce(json_agg(json_build_object('type', 'Feature', 'id', h.id,
               'geometry', ST_AsGeoJSON({geometry}, 6)::json, 'properties', {properties}) ORDER BY {order}), '[]') AS f,
               count(*) AS n
        FROM {_from(flt.scope)} WHERE {where.sql}"""
    if access is None:
        statement, params = f"SELECT l.f FROM ({listed}) l", where.params
    else:
        statement = f"WITH l AS ({listed}), log AS ({append_line('l.n', 'l')}) SELECT l.f FROM l"
        params = {**where.params, **access.bound()}
    return {"type": "FeatureCollection", "features": conn.execute(text(statement), params).scalar_one()}


def hotspot_detail(conn: Connection, hotspot_id: int, scope: AreaScope = UNRESTRICTED) -> dict[str, Any] | None:
    """One hotspot (if in scope) as a GeoJSON feature with its footprint, incidents, event history and lineage
    (merges into / splits off other hotspots)."""
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
                'events', (SELECT coalesce(json_agg(json_build_object('id', e.id, 'at', e.at,
                        'actor', {scope.actor("e.actor")}, 'event', e.event,
                        'from_status', e.from_status, 'to_status', e.to_status,
                        'note', CASE WHEN ev.task THEN e.note END, 'run_id', e.run_id,
                        'details', CASE WHEN ev.task THEN e.details ELSE e.details - 'task_id' END) ORDER BY e.id),
                        '[]')
                    FROM hotspot_events e CROSS JOIN LATERAL ({_event_shown(scope)}) ev WHERE e.hotspot_id = h.id),
                'lineage', (SELECT coalesce(json_agg(json_build_object('kind', l.kind, 'parent_id', l.parent_id,
                        'child_id', l.child_id, 'run_id', l.run_id, 'at', l.at) ORDER BY l.id), '[]')
                    FROM hotspot_lineage l WHERE h.id IN (l.parent_id, l.child_id))))
        FROM {_from(scope)} WHERE h.id = :id AND {scope.hotspots("h")}"""),
        {"id": hotspot_id, **scope.params},
    ).scalar()


EXPORT_COLUMNS = ("id", "status", "kind", "n_incidents", "first_seen", "last_seen", "commune_code", "radius_m")


def register_geojson(conn: Connection, footprints: bool = False) -> dict[str, Any]:
    """The whole register as GeoJSON (centroids, or footprints) with the export properties."""
    collection = hotspots_geojson(conn, HotspotFilter(), footprints=footprints)
    for feature in collection["features"]:
        feature["properties"] = {k: feature["properties"][k] for k in EXPORT_COLUMNS}
    return collection


def register_rows(conn: Connection) -> list[dict[str, Any]]:
    """The whole register as rows: the export properties, the commune's name and its province's, the centroid's
    lon/lat."""
    return [
        dict(row)
        for row in conn.execute(
            text(f"""
                SELECT h.id, h.status, h.kind, h.n_incidents, h.first_seen, h.last_seen, h.commune_code,
                       u.name AS commune_name, p.name AS province, round(h.radius_m::numeric, 1) AS radius_m,
                       round(ST_X(h.centroid)::numeric, 6) AS lon, round(ST_Y(h.centroid)::numeric, 6) AS lat
                FROM hotspots h LEFT JOIN admin_units u ON u.code = h.commune_code AND {current_unit("u")}
                LEFT JOIN provinces p ON p.code = u.province_code
                ORDER BY h.id""")
        ).mappings()
    ]


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
    client_key: str | None = None,
) -> None:
    """Append one event (a transition by default) to the hotspot's history (at `at`, default now), with the client's
    ``Idempotency-Key`` of a report sent again after a lost answer (unique per actor)."""
    values = dict(
        hotspot_id=hotspot_id,
        actor=actor,
        event=event,
        from_status=source,
        to_status=target,
        note=note or None,
        details=details,
        client_key=client_key,
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
    """Set each hotspot's commune: the current unit containing its centroid (a hotspot already there is not
    rewritten)."""
    conn.execute(
        text(f"""
        UPDATE hotspots h SET commune_code = p.code
        FROM (SELECT h2.id, {containing_unit("h2.centroid")} AS code FROM hotspots h2 WHERE h2.id = ANY(:ids)) p
        WHERE h.id = p.id AND h.commune_code IS DISTINCT FROM p.code"""),
        {"ids": [int(i) for i in hotspot_ids]},
    )


def replace_hotspots(conn: Connection, codes: list[str], actor: str, source: str) -> int:
    """Give the hotspots the commune the current boundaries give their centroid, after the units ``codes`` were
    inserted or changed (a boundary import), each move recorded in the hotspot's history (`COMMUNE_CHANGED`, by
    ``actor``, naming the file ``source``); the number of hotspots moved.

    A hotspot belongs from then on to the commune it lies in, whatever its status: the register, the command's
    scope and its tasks (`gis.store.tasks.follow_hotspots`) follow it. Only hotspots in one of ``codes`` or inside
    their new parts are looked at; a centroid outside every unit has none. One statement, in the caller's
    transaction."""
    return conn.execute(
        text(f"""
        WITH placed AS (
            SELECT h.id, h.commune_code AS before, {containing_unit("h.centroid")} AS code FROM hotspots h
            WHERE h.commune_code = ANY(:codes)
               OR EXISTS (SELECT 1 FROM admin_unit_parts p WHERE p.code = ANY(:codes) AND ST_Intersects(p.geom, h.centroid))
        ), moved AS (
            UPDATE hotspots h SET commune_code = p.code FROM placed p
            WHERE h.id = p.id AND h.commune_code IS DISTINCT FROM p.code
            RETURNING h.id, p.before, p.code
        )
        INSERT INTO hotspot_events (hotspot_id, actor, event, note, details)
        SELECT m.id, :actor, '{COMMUNE_CHANGED}', {move_note("m.before", "m.code")},
               jsonb_build_object('from', m.before, 'to', m.code, 'source', CAST(:source AS text))
        FROM moved m"""),
        {"codes": list(codes), "actor": actor, "source": source},
    ).rowcount


def replace_members(
    conn: Connection, hotspot_ids: list[int], owners: np.ndarray, incident_ids: np.ndarray
) -> tuple[int, int]:
    """Make the incident lists of ``hotspot_ids`` exactly the pairs (``owners[k]``, ``incident_ids[k]``), writing
    only the difference; the numbers of pairs removed and added.

    The pairs arrive in one binary COPY into a temporary table; removing and adding are two set-based statements
    (the membership trigger checks the added rows once). A run that finds the lists as they were writes nothing
    to them.
    """
    conn.execute(text("CREATE TEMP TABLE hotspot_members (hotspot_id int NOT NULL, incident_id bigint NOT NULL)"))
    copy_arrow(
        conn,
        "hotspot_members",
        pa.table(
            [pa.array(owners, pa.int32()), pa.array(incident_ids, pa.int64())], names=["hotspot_id", "incident_id"]
        ),
    )
    conn.execute(text("ANALYZE hotspot_members"))  # else the planner guesses its size and may loop over it
    removed = conn.execute(
        text("""
        DELETE FROM hotspot_incidents h WHERE h.hotspot_id = ANY(:ids) AND NOT EXISTS (
            SELECT 1 FROM hotspot_members m WHERE m.hotspot_id = h.hotspot_id AND m.incident_id = h.incident_id)"""),
        {"ids": [int(i) for i in hotspot_ids]},
    ).rowcount
    # The pairs already stored are taken out of the staged ones first, and the rest inserted by a statement that
    # reads no hotspot_incidents: an INSERT testing NOT EXISTS on the table it fills was planned, when the table
    # was empty, as a nested loop scanning it once per staged pair, rows of its own included, so quadratic: the
    # first detection on 10 M national incidents (about 300,000 pairs) was still in it after 14 minutes.
    conn.execute(
        text("""
        DELETE FROM hotspot_members m USING hotspot_incidents h
        WHERE h.hotspot_id = m.hotspot_id AND h.incident_id = m.incident_id""")
    )
    added = conn.execute(
        text(
            "INSERT INTO hotspot_incidents (hotspot_id, incident_id) SELECT hotspot_id, incident_id FROM hotspot_members"
        )
    ).rowcount
    conn.execute(text("DROP TABLE hotspot_members"))
    return removed, added


def suppression_task_states(conn: Connection, hotspot_id: int) -> list[str]:
    """States of the hotspot's suppression tasks, oldest first (the newest one is the one that counts)."""
    return list(
        conn.execute(
            text("SELECT state FROM tasks WHERE hotspot_id = :id AND kind = 'suppression' ORDER BY id"),
            {"id": hotspot_id},
        ).scalars()
    )


def hotspot_commune(conn: Connection, hotspot_id: int, scope: AreaScope = UNRESTRICTED) -> str | None:
    """The commune code of a hotspot (None when unknown, outside the scope or outside every commune)."""
    return conn.execute(
        text(f"SELECT h.commune_code FROM hotspots h WHERE h.id = :id AND {scope.hotspots('h')}"),
        {**scope.params, "id": hotspot_id},
    ).scalar()


def _reported_by_member(event: str, hotspot: str) -> str:
    """Condition that hotspot event ``event`` created hotspot ``hotspot`` by hand (a report) and that its actor is now a
    member of team ``:scope_team`` (a member is who is in the team now)."""
    return f"""{event}.event = 'created' AND {hotspot}.origin = '{HotspotOrigin.MANUAL}'
        AND EXISTS (SELECT 1 FROM users m WHERE m.username = {event}.actor AND m.team_id = :scope_team)"""


def _listed(hotspot: str) -> str:
    """Condition that a spot the team ``:scope_team`` reported is in its list of reports: open, or dismissed less than
    ``:dismissed_days`` ago; inside the team's area today (a spot now outside it is no longer the team's to watch); not
    one of the team's tasks (any state: once it is, the task list shows the place)."""
    return f"""{hotspot}.status = ANY(:listed)
        AND ({hotspot}.status <> '{HotspotStatus.DISMISSED}'
             OR {hotspot}.status_changed_at >= now() - make_interval(days => :dismissed_days))
        AND {in_team_area(f"{hotspot}.commune_code")}
        AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.hotspot_id = {hotspot}.id AND t.team_id = :scope_team)"""


#: The bound parameters of ``_listed``.
_LISTED = {"listed": sorted(REPORT_LISTED), "dismissed_days": REPORT_DISMISSED_DAYS}


def reported_by_team(conn: Connection, team_id: int, limit: int) -> list[dict[str, Any]]:
    """The team's list of reports (``_listed``: open hotspots that members of team ``team_id`` reported by hand inside
    the team's area and that are not its tasks, and those command dismissed in the last REPORT_DISMISSED_DAYS days),
    newest report first: the place, when and by whom it was reported, the reporter's note, the hotspot's status and,
    dismissed, command's reason (``reason``: the dismissal's note)."""
    return [
        dict(row)
        for row in conn.execute(
            text(f"""
                SELECT h.id, round(ST_X(h.centroid)::numeric, 6) AS lon, round(ST_Y(h.centroid)::numeric, 6) AS lat,
                       round(h.radius_m::numeric, 1) AS radius_m, h.kind, h.status, h.commune_code,
                       u.name AS commune_name, e.at AS reported_at, e.actor AS reported_by, e.note,
                       CASE WHEN h.status = '{HotspotStatus.DISMISSED}' THEN (SELECT d.note FROM hotspot_events d
                           WHERE d.hotspot_id = h.id AND d.to_status = h.status ORDER BY d.id DESC LIMIT 1) END AS reason
                FROM hotspot_events e
                JOIN hotspots h ON h.id = e.hotspot_id
                LEFT JOIN admin_units u ON u.code = h.commune_code AND {current_unit("u")}
                WHERE {_reported_by_member("e", "h")} AND {_listed("h")}
                ORDER BY e.at DESC, e.id DESC LIMIT :limit"""),
            {"scope_team": team_id, **_LISTED, "limit": limit},
        ).mappings()
    ]


def reports_awaiting_command(conn: Connection, scope: AreaScope, limit: int) -> list[dict[str, Any]]:
    """Spots teams reported that still wait for command (command's inbox beside the task events), newest first: made
    by hand (origin «Nhập tay») by a user who is a member of a team, still «Phát hiện» — neither verified nor
    dismissed —, in ``scope``. Before, a team was told «chờ chỉ huy xem xét» and command heard nothing: the spot was one
    more row of the register. ``actor_team``: the reporter's team as the scope may name it; ``note``: the report's."""
    rows = conn.execute(
        text(f"""
        SELECT h.id AS hotspot_id, e.at, {scope.actor("e.actor")} AS actor,
               (SELECT tm.name FROM teams tm WHERE tm.id = u.team_id AND {scope.teams("tm")}) AS actor_team,
               coalesce(e.note, h.note) AS note, h.commune_code, h.kind
        FROM hotspot_events e
        JOIN hotspots h ON h.id = e.hotspot_id
        JOIN users u ON u.username = e.actor AND u.team_id IS NOT NULL
        WHERE e.event = 'created' AND h.origin = '{HotspotOrigin.MANUAL}' AND h.status = '{HotspotStatus.DETECTED}'
          AND {scope.hotspots("h")}
        ORDER BY e.at DESC, e.id DESC LIMIT :limit"""),
        {**scope.params, "limit": limit},
    )
    return [dict(row) for row in rows.mappings()]


def report_notices(conn: Connection, scope: AreaScope, limit: int) -> list[dict[str, Any]]:
    """What a team (``scope``: a team's) hears of the spots its members reported (the inbox beside its task events), newest first: the
    hotspot events that move such a spot into a status of REPORT_NOTICE_STATUSES — verified from «Phát hiện» (not a
    withdrawn task's return to «Đã xác minh»), dismissed, given to another team (an assignment of a task the team ever
    held is the task's notice), merged — made by no member of the team, of spots the scope may see now.

    Read from the hotspots' own history, nothing stored for it: ``id`` is the event's, ``status`` the status it moved
    into, ``note`` its note as the scope may read it (not that of another team's task), ``actor`` as the scope may name
    them (``run_id``: the detection run that made it, if one did), ``merged_into`` the spot a merge went into, ``listed`` whether the spot is in the team's list of reports."""
    rows = conn.execute(
        text(f"""
        SELECT e.id, e.hotspot_id, e.at, {scope.actor("e.actor")} AS actor, e.run_id, e.to_status AS status,
               CASE WHEN ev.task THEN e.note END AS note, CAST(e.details ->> 'into' AS integer) AS merged_into,
               ({_listed("h")}) AS listed
        FROM hotspot_events r
        JOIN hotspots h ON h.id = r.hotspot_id
        JOIN hotspot_events e ON e.hotspot_id = h.id
        CROSS JOIN LATERAL ({_event_shown(scope)}) ev
        WHERE {_reported_by_member("r", "h")} AND {scope.hotspots("h")}
          AND e.to_status = ANY(:heard)
          AND (e.to_status <> '{HotspotStatus.VERIFIED}' OR e.from_status = '{HotspotStatus.DETECTED}')
          AND NOT EXISTS (SELECT 1 FROM users a WHERE a.username = e.actor AND a.team_id = :scope_team)
          AND NOT EXISTS (SELECT 1 FROM task_events te
                          WHERE te.task_id = CAST(e.details ->> 'task_id' AS integer) AND te.team_id = :scope_team)
        ORDER BY e.id DESC LIMIT :limit"""),
        {**scope.params, **_LISTED, "heard": sorted(REPORT_NOTICE_STATUSES), "limit": limit},
    )
    return [dict(row) for row in rows.mappings()]

"""Hotspot lifecycle use cases: facts from PostGIS, a versioned status change and an append-only event."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, text
from sqlalchemy.exc import IntegrityError

from gis.io.exports import ExportFile, check_raw, hotspot_features, hotspot_register_file
from gis.settings import DataSettings
from gis.store.access_log import AccessLine
from gis.store.communes import check_in_city, refuse_personal_names
from gis.store.hotspots import (
    assign_communes,
    hotspot_detail,
    hotspots_geojson,
    incident_within,
    record_hotspot_event,
    register_geojson,
    register_rows,
    reported_by_team,
    suppression_task_states,
)
from gis.store.period_counts import incidents_until
from gis.store.provinces import document_heading, require_province, scope_label
from gis.store.scoping import UNRESTRICTED, AreaScope
from gis.store.selection import HotspotFilter
from gis.store.sql import containing_unit, local_date, to_metric, to_wgs84
from gis.store.versioned import load_at_version, update_at_version
from models.domain.access import Principal
from models.domain.coupling import (
    closing_waits,
    hotspot_actions,
    hotspot_targets,
    may_open_task,
    task_actions,
    task_still_open,
)
from models.domain.dates import vn_time
from models.domain.hotspot_lifecycle import MANUAL_MAX_RADIUS_M, MANUAL_NOTE_CHARS, HotspotFacts
from models.domain.state_machine import StateMachine, TransitionNotAllowed
from models.domain.task_lifecycle import overdue_days
from models.errors import InvalidRequest, KeyReused, PermissionDenied
from models.vocabulary import (
    REPORT_STATUS_LABELS,
    WGS84_SRID,
    HotspotOrigin,
    HotspotStatus,
    local_today,
)

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
           {incident_within("h", "s.at", "coalesce(:at, now())")} AS incident_in_footprint
    FROM hotspots h CROSS JOIN start s WHERE h.id = :id
""")


def _day(value: str | date | None) -> date | None:
    """A date from the JSON the register is built as (ISO text) or from Python."""
    return date.fromisoformat(value) if isinstance(value, str) else value


_Actions = tuple[list[dict[str, Any]], list[dict[str, Any]], bool, list[str]]


def _actions(
    status: str,
    newest: str | None,
    task_state: str | None,
    monitoring: tuple[date | None, bool | None],
    role: str,
    machine: StateMachine,
    today: date,
) -> _Actions:
    """Hotspot actions, task actions, whether a task may be opened and what still keeps the hotspot from being closed,
    for one combination of the facts: the state of the newest task (``newest``, whoever holds it) rules the hotspot;
    the user acts only on a task they may see (``task_state``)."""
    facts = HotspotFacts(
        task_state=newest, monitoring_since=monitoring[0], as_of=today, incident_in_footprint=monitoring[1]
    )
    return (
        [{"to": a.to, "note_required": a.note_required} for a in hotspot_actions(machine, status, role, facts)],
        [{"to": a.to, "note_required": a.note_required} for a in task_actions(task_state, role)] if task_state else [],
        may_open_task(role, status, newest),
        closing_waits(machine, status, facts),
    )


def add_actions(
    properties: dict[str, Any],
    role: str,
    machine: StateMachine,
    today: date,
    known: dict[tuple, _Actions] | None = None,
) -> dict[str, Any]:
    """What the role may do now with a hotspot of the register and its newest suppression task (the buttons the
    pages show), what still keeps it from being closed, that task's overdue days and the team holding it while it
    is open (``holding_team``). ``known`` remembers the answer for facts already seen: most
    hotspots of a register share their status and task state (5,000 hotspots: bench/bench_register.py)."""
    task_state = properties["task_state"]  # None when there is none or the user may not see it (another team's)
    newest = properties.pop("newest_task_state", task_state)  # not part of the answer
    monitoring = (_day(properties["monitoring_since"]), properties["incident_since_monitoring"])
    key = (properties["status"], newest, task_state, monitoring)
    known = {} if known is None else known
    if key not in known:
        known[key] = _actions(properties["status"], newest, task_state, monitoring, role, machine, today)
    actions, task_moves, may_open, waits = known[key]
    properties["actions"] = list(actions)
    properties["task_actions"] = list(task_moves)
    properties["may_open_task"] = may_open
    properties["closing_waits"] = list(waits)
    properties["task_overdue_days"] = (
        overdue_days(task_state, _day(properties["task_due_date"]), today) if task_state else 0
    )
    # The register's «Tổ»: it named the team of a cancelled task, a hotspot no team works on read as still theirs.
    properties["holding_team"] = properties["task_team"] if task_still_open(task_state) else None
    return properties


def hotspot_register(
    conn: Connection,
    flt: HotspotFilter,
    role: str,
    machine: StateMachine,
    footprints: bool = False,
    access: AccessLine | None = None,
) -> dict[str, Any]:
    """The hotspots a filter selects, as GeoJSON, each with its task and what the role may do now; ``access``: the
    read's access line, written by the same statement (gis.store.hotspots.hotspots_geojson)."""
    collection = hotspots_geojson(conn, flt, footprints, access)
    today = local_today()
    known: dict[tuple, _Actions] = {}
    for feature in collection["features"]:
        add_actions(feature["properties"], role, machine, today, known)
    return collection


def hotspot_card(
    conn: Connection, hotspot_id: int, scope: AreaScope, role: str, machine: StateMachine
) -> dict[str, Any] | None:
    """One hotspot in scope with incidents, events, its task and what the role may do now (None: not visible)."""
    detail = hotspot_detail(conn, hotspot_id, scope)
    if detail is not None:
        add_actions(detail["properties"], role, machine, local_today())
    return detail


def hotspot_facts(
    conn: Connection,
    hotspot_id: int,
    status: str,
    note: str,
    actor_role: str,
    at: datetime | None = None,
    with_task: bool = False,
) -> HotspotFacts:
    """Facts for a transition at `at` (default now): the state of the hotspot's newest suppression task, and
    for a monitored hotspot the monitoring facts from the events and incidents."""
    tasks = suppression_task_states(conn, hotspot_id)
    facts = HotspotFacts(note=note, actor_role=actor_role, with_task=with_task, task_state=tasks[-1] if tasks else None)
    if status != HotspotStatus.MONITORING:
        return facts
    row = conn.execute(_MONITORING_FACTS, {"id": hotspot_id, "at": at}).mappings().one()
    return replace(facts, **row)


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
            f"thời điểm ghi nhận {vn_time(at)} không hợp lệ: phải sau lần chuyển trạng thái"
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
    task_id: int | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """Move a visible hotspot at ``version`` to ``target`` if the lifecycle allows it; return id, status, version.

    ``at`` records a transition that happened earlier (field work entered afterwards); the rules are
    checked as of that time. ``task_id`` names the suppression task whose change this transition accompanies
    (gis.services.tasks); without it, statuses that belong to the task are refused. A note that looks like it holds a
    person's name is refused before anything is read (gis.store.communes.refuse_personal_names).

    ``key`` (the client's ``Idempotency-Key``) makes a retry safe, as for a task's moves: the same user sending the
    same move with the same key again (its answer lost, the hotspot since at a newer version) gets the first answer
    back and nothing changes; the key with another request is refused.
    """
    refuse_personal_names(conn, note, "Ghi chú")
    if key is not None and (first := _event_under_key(conn, actor.username, key)) is not None:
        same = (hotspot_id, "transition", target, note)
        if (first.hotspot_id, first.event, first.to_status, first.note or "") != same:
            raise KeyReused("Idempotency-Key already used for another request")
        return {"id": hotspot_id, "status": target, "version": first.details["version"]}
    row = load_at_version(conn, "hotspots", hotspot_id, version, "r.status", scope.hotspots("r"), scope.params)
    if at is not None:
        _check_recorded_time(conn, hotspot_id, at)
    facts = hotspot_facts(conn, hotspot_id, row["status"], note, actor.role, at, with_task=task_id is not None)
    try:
        machine.check(row["status"], target, facts)
    except TransitionNotAllowed as refused:  # name only what this user may ask for (not a task's or detection's)
        raise machine.refusal(refused.source, target, hotspot_targets(machine, refused.source, actor.role)) from None
    new_version = update_at_version(
        conn,
        "hotspots",
        hotspot_id,
        version,
        "status = :to, status_changed_at = coalesce(:at, now())",
        {"to": target, "at": at},
    )
    details = {"role": actor.role, "version": new_version, **({"task_id": task_id} if task_id is not None else {})}
    record_hotspot_event(conn, hotspot_id, actor.username, row["status"], target, note, details, at, client_key=key)
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
    key: str | None = None,
    scope: AreaScope | None = None,
) -> int:
    """A hotspot reported by hand (e.g. from a tip): a point inside the city's extent, a note, status `detected`.
    ``scope`` (a team's, a province's; None: anywhere): the point must lie in one of its communes, else
    PermissionDenied, and in some unit in any case (InvalidRequest: open sea) — checked before anything is stored, so
    that a refused report takes no number (two refused reports had made the register jump from #27 to #30).

    The radius and the note are checked here as the API's body checks them: `diaban hotspots add` stored a negative
    radius (an empty footprint) and a blank note, and an infinite radius was a database error. A note that looks
    like a person's name is refused (refuse_personal_names): the system keeps no names of people who use drugs.

    ``key`` (the client's ``Idempotency-Key``) makes a retry safe, as for a task's comments: the same user sending the
    same report with the same key again (its answer lost, or a second tap) gets the first hotspot back and nothing is
    stored; the key with another report is refused."""
    if not 0 < radius_m <= MANUAL_MAX_RADIUS_M:  # NaN fails the test too
        raise InvalidRequest(
            f"bán kính phạm vi phải lớn hơn 0 và không quá {MANUAL_MAX_RADIUS_M:.0f} m: {radius_m}",
            "radius out of range",
        )
    if not note.strip() or len(note) > MANUAL_NOTE_CHARS:
        raise InvalidRequest(f"ghi chú cần từ 1 đến {MANUAL_NOTE_CHARS} ký tự", "a note of 1 to 2000 characters")
    refuse_personal_names(conn, note, "Mô tả")
    reported = {"lon": lon, "lat": lat, "kind": kind, "radius_m": radius_m}
    if key is not None and (first := _keyed_report(conn, actor, key, note, reported)) is not None:
        return first
    check_in_city(conn, lon, lat, city_margin_m)
    _require_reportable_here(conn, UNRESTRICTED if scope is None else scope, lon, lat)
    try:
        with conn.begin_nested():
            hotspot_id = conn.execute(
                text(f"""
                INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, note, version, centroid,
                                      footprint)
                SELECT '{HotspotStatus.DETECTED}', :kind, '{HotspotOrigin.MANUAL}', 0, '{{}}'::jsonb, :r, :note, 1, c,
                       {to_wgs84(f"ST_Buffer({to_metric('c')}, :r)")}
                FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), {WGS84_SRID}) AS c) p
                RETURNING id"""),
                {"kind": kind, "r": radius_m, "note": note, "lon": lon, "lat": lat},
            ).scalar_one()
            assign_communes(conn, [hotspot_id])
            record_hotspot_event(
                conn, hotspot_id, actor, None, HotspotStatus.DETECTED, note, reported, event="created", client_key=key
            )
    except IntegrityError:
        # The same key sent twice at once: the other request stored its hotspot first (and has committed, or the
        # unique index would still be waiting for it); this one's savepoint undid its own.
        first = _keyed_report(conn, actor, key, note, reported) if key is not None else None
        if first is None:
            raise
        return first
    return hotspot_id


def _require_reportable_here(conn: Connection, scope: AreaScope, lon: float, lat: float) -> None:
    """Refuse a point no unit contains (InvalidRequest: open sea, or a province not loaded — a nation-wide user's
    hotspot there had no commune, so no one's register held it), and PermissionDenied unless that unit lies in
    ``scope``, said in the scope's terms: a team reports in its area, a province's user in their province."""
    point = f"ST_SetSRID(ST_MakePoint(:lon, :lat), {WGS84_SRID})"
    found = conn.execute(
        text(f"SELECT c.code, {scope.communes('c.code')} AS inside FROM (SELECT {containing_unit(point)} AS code) c"),
        {**scope.params, "lon": lon, "lat": lat},
    ).one()
    if found.code is None:
        raise InvalidRequest(
            f"điểm ({lon:.5f}, {lat:.5f}) không nằm trong xã, phường, đặc khu nào của hệ thống (ngoài biển, hoặc ở"
            " tỉnh chưa nạp ranh giới): kiểm tra lại kinh độ/vĩ độ",
            "the point lies in no unit",
        )
    if found.inside:
        return
    if scope.province_code is not None:
        province = require_province(conn, scope.province_code)["full_name"]
        raise PermissionDenied(
            f"điểm này nằm ngoài {province}: tài khoản của bạn chỉ báo điểm mới trong {province} — điểm ở tỉnh,"
            " thành phố khác hãy báo công an nơi đó",
            "outside the user's province",
        )
    raise PermissionDenied(
        "điểm này nằm ngoài địa bàn của tổ: tổ chỉ báo điểm mới trong địa bàn được giao — điểm ở nơi khác hãy báo"
        " ban chỉ huy",
        "outside the user's area",
    )


def _keyed_report(conn: Connection, actor: str, key: str, note: str, reported: dict[str, Any]) -> int | None:
    """The hotspot the user already reported under ``key`` (None: none yet); KeyReused if the key was used for another
    report (another place, note, kind or radius)."""
    first = _event_under_key(conn, actor, key)
    if first is None:
        return None
    if (first.event, first.note, first.details) != ("created", note, reported):
        raise KeyReused("Idempotency-Key already used for another hotspot report")
    return int(first.hotspot_id)


def _event_under_key(conn: Connection, actor: str, key: str) -> Row | None:
    """The hotspot event the user stored under ``key`` (None: none yet)."""
    return conn.execute(
        text("""SELECT hotspot_id, event, to_status, note, details FROM hotspot_events
                WHERE actor = :actor AND client_key = :key"""),
        {"actor": actor, "key": key},
    ).first()


def team_reports(conn: Connection, scope: AreaScope, limit: int) -> list[dict[str, Any]]:
    """The spots a team reported in its area that are not (yet) one of its tasks, and those command dismissed lately with
    its reason (gis.store.hotspots.reported_by_team), each with its status as the team reads it (``status_label``): the
    team page keeps them on its map after a reload, and warns before the same place is reported twice. Only a team's scope has them (PermissionDenied otherwise)."""
    if scope.team_id is None:
        raise PermissionDenied(
            "chỉ người dùng thuộc một tổ công tác mới có danh sách điểm tổ đã báo", "not a team user's scope"
        )
    reports = reported_by_team(conn, scope.team_id, limit)
    for report in reports:
        report["status_label"] = REPORT_STATUS_LABELS[report["status"]]
    return reports


def export_register(conn: Connection, fmt: str, *, footprints: bool = False, raw: bool = False, by: str) -> ExportFile:
    """The hotspot register as GeoJSON, CSV or Excel (Vietnamese headers and labels; ``raw``: machine names and codes,
    CSV or GeoJSON only), with its number of hotspots, exported now by ``by``. It holds every hotspot of the database:
    an Excel file is the Ministry's, or in a one-province database that province's police's; its figures reach the
    day of the newest incident (as the periodic report says it), not the day of the export."""
    check_raw(fmt, raw)
    if fmt == "geojson":
        collection = register_geojson(conn, footprints)
        if raw:
            content = json.dumps(collection, ensure_ascii=False, default=str).encode("utf-8")
        else:
            until = incidents_until(conn, UNRESTRICTED)
            content = hotspot_features(register_rows(conn), collection["features"], until)
        return ExportFile(content, len(collection["features"]))
    if fmt in ("csv", "xlsx"):
        rows = register_rows(conn)
        heading = document_heading(conn, None, by)
        until = incidents_until(conn, UNRESTRICTED)
        content = hotspot_register_file(
            rows, fmt, heading=heading, scope=scope_label(conn, None), data_until=until, raw=raw
        )
        return ExportFile(content, len(rows))
    raise InvalidRequest(f"định dạng không hỗ trợ: {fmt!r} (chọn geojson, csv, xlsx)", "unsupported format")

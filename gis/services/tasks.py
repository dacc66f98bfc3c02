"""Task use cases: creation and assignment, versioned transitions, comments, each written as append-only events."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from gis.services.hotspots import transition_hotspot
from gis.store.scoping import UNRESTRICTED, AreaScope
from gis.store.sql import current_unit
from gis.store.tasks import record_task_event
from gis.store.versioned import load_at_version, update_at_version
from models.domain.access import Principal
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE
from models.domain.task_lifecycle import TASK_LIFECYCLE, TaskFacts
from models.errors import AlreadyExists, InvalidRequest, NotFound
from models.vocabulary import TASK_REASSIGNABLE, HotspotStatus, TaskKind, TaskState

#: Task fields that command may change directly (state and team change through transitions and assignment).
EDITABLE = ("due_date", "priority", "checklist")


def _team_exists(conn: Connection, team_id: int) -> None:
    """Raise NotFound for an unknown team."""
    if conn.execute(text("SELECT 1 FROM teams WHERE id = :t"), {"t": team_id}).scalar() is None:
        raise NotFound(f"không có tổ công tác #{team_id}")


def _task_commune(conn: Connection, kind: str, hotspot_id: int | None, commune_code: str | None) -> str:
    """The commune of a new task: the hotspot's for suppression, the given current commune for conversion."""
    if kind == TaskKind.SUPPRESSION:
        hotspot = (
            conn.execute(text("SELECT commune_code FROM hotspots WHERE id = :id"), {"id": hotspot_id})
            .mappings()
            .first()
        )
        if hotspot is None:
            raise NotFound(f"không tìm thấy điểm nóng #{hotspot_id}")
        commune_code = hotspot["commune_code"] or commune_code
    if commune_code is None:
        raise InvalidRequest("điểm nóng nằm ngoài các xã/phường: hãy ghi rõ commune_code")
    exists = conn.execute(
        text(f"SELECT 1 FROM admin_units u WHERE u.code = :c AND {current_unit('u')}"), {"c": commune_code}
    ).scalar()
    if exists is None:
        raise NotFound(f"không có xã/phường/đặc khu hiện hành mã {commune_code}")
    return commune_code


def create_task(
    conn: Connection,
    actor: Principal,
    *,
    kind: str,
    hotspot_id: int | None,
    commune_code: str | None,
    year: int | None,
    team_id: int | None,
    due_date: date | None,
    priority: str,
    checklist: list[dict[str, Any]],
    note: str = "",
) -> int:
    """New task, assigned when a team is given.

    At most one open suppression task per hotspot and one open conversion task per commune and year.
    """
    commune = _task_commune(conn, kind, hotspot_id, commune_code)
    try:
        with conn.begin_nested():
            task_id = conn.execute(
                text("""
                INSERT INTO tasks (kind, hotspot_id, commune_code, year, state, due_date, priority, checklist,
                                   version, created_by)
                VALUES (:kind, :hotspot, :commune, :year, 'unassigned', :due, :priority, CAST(:checklist AS jsonb),
                        1, :actor) RETURNING id"""),
                {
                    "kind": kind,
                    "hotspot": hotspot_id if kind == TaskKind.SUPPRESSION else None,
                    "commune": commune,
                    "year": year,
                    "due": due_date,
                    "priority": priority,
                    "checklist": _json(checklist),
                    "actor": actor.username,
                },
            ).scalar_one()
    except IntegrityError:
        raise AlreadyExists("đã có nhiệm vụ đang mở cho điểm nóng / xã-năm này") from None
    record_task_event(conn, task_id, actor, None, "created", None, TaskState.UNASSIGNED, note)
    if team_id is not None:
        assign_task(conn, task_id, team_id, 1, actor)
    return task_id


def assign_task(conn: Connection, task_id: int, team_id: int, version: int, actor: Principal) -> int:
    """Assign (unassigned → assigned) or reassign a task not yet started; move its hotspot to 'assigned'."""
    _team_exists(conn, team_id)
    row = load_at_version(conn, "tasks", task_id, version, "r.state, r.team_id, r.hotspot_id")
    if row["state"] not in TASK_REASSIGNABLE:
        allowed = ", ".join(f"«{TaskState(s).label}»" for s in sorted(TASK_REASSIGNABLE))
        raise InvalidRequest(
            f"chỉ giao lại được nhiệm vụ ở trạng thái {allowed} (hiện tại: "
            f"«{TaskState(row['state']).label}»); hãy hủy và tạo nhiệm vụ mới",
            f"only tasks in {', '.join(sorted(TASK_REASSIGNABLE))} can be reassigned",
        )
    target = TaskState.ASSIGNED
    if row["state"] == TaskState.UNASSIGNED:
        TASK_LIFECYCLE.check(TaskState.UNASSIGNED, target, TaskFacts())
    new_version = update_at_version(
        conn,
        "tasks",
        task_id,
        version,
        "team_id = :team, state = :to, state_changed_at = now()",
        {"team": team_id, "to": target},
    )
    if row["state"] == TaskState.UNASSIGNED:
        record_task_event(
            conn, task_id, actor, team_id, "transition", TaskState.UNASSIGNED, target, details={"version": new_version}
        )
    else:
        record_task_event(
            conn, task_id, actor, team_id, "reassigned", details={"from_team": row["team_id"], "version": new_version}
        )
    _assign_hotspot(conn, row["hotspot_id"], task_id, actor)
    return new_version


def _assign_hotspot(conn: Connection, hotspot_id: int | None, task_id: int, actor: Principal) -> None:
    """Move a verified or recurred hotspot to 'assigned' when its suppression task gets a team."""
    if hotspot_id is None:
        return
    hotspot = conn.execute(text("SELECT status, version FROM hotspots WHERE id = :id"), {"id": hotspot_id}).one()
    if HotspotStatus.ASSIGNED in HOTSPOT_LIFECYCLE.allowed(hotspot.status):
        transition_hotspot(
            conn,
            HOTSPOT_LIFECYCLE,
            hotspot_id,
            HotspotStatus.ASSIGNED,
            f"giao nhiệm vụ #{task_id}",
            hotspot.version,
            actor,
            UNRESTRICTED,
        )


def transition_task(
    conn: Connection, task_id: int, target: str, note: str, version: int, actor: Principal, scope: AreaScope
) -> dict[str, Any]:
    """Move a visible task at ``version`` to ``target`` if its lifecycle allows it; return id, state, version."""
    row = load_at_version(conn, "tasks", task_id, version, "r.state, r.team_id", scope.tasks("r"), scope.params)
    TASK_LIFECYCLE.check(row["state"], target, TaskFacts(comment=note, reason=note))
    new_version = update_at_version(
        conn, "tasks", task_id, version, "state = :to, state_changed_at = now()", {"to": target}
    )
    record_task_event(
        conn, task_id, actor, row["team_id"], "transition", row["state"], target, note, {"version": new_version}
    )
    return {"id": task_id, "state": target, "version": new_version}


def update_task(conn: Connection, task_id: int, version: int, changes: dict[str, Any], actor: Principal) -> int:
    """Change due date, priority or checklist of a task at ``version``; return the new version (the same one when
    there is nothing to change)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidRequest(f"không sửa trực tiếp được: {', '.join(sorted(unknown))}")
    row = load_at_version(conn, "tasks", task_id, version, "r.team_id")
    if not changes:
        return version
    params = {**changes, "checklist": _json(changes["checklist"])} if "checklist" in changes else dict(changes)
    sets = ", ".join(f"{k} = CAST(:{k} AS jsonb)" if k == "checklist" else f"{k} = :{k}" for k in changes)
    new_version = update_at_version(conn, "tasks", task_id, version, sets, params)
    record_task_event(
        conn, task_id, actor, row["team_id"], "updated", details={"changed": sorted(changes), "version": new_version}
    )
    return new_version


def comment_task(conn: Connection, task_id: int, note: str, actor: Principal, scope: AreaScope) -> int:
    """Append a comment to a visible task (comments change no state, so they carry no version)."""
    team_id = conn.execute(
        text(f"SELECT t.team_id FROM tasks t WHERE t.id = :id AND {scope.tasks('t')}"), {**scope.params, "id": task_id}
    ).first()
    if team_id is None:
        raise NotFound(f"không tìm thấy nhiệm vụ #{task_id}")
    return record_task_event(conn, task_id, actor, team_id[0], "comment", note=note)


def _json(value: Any) -> str:
    """JSON text for a jsonb parameter."""
    return json.dumps(value, ensure_ascii=False, default=str)

"""Task use cases: creation and assignment, versioned transitions, comments, each written as append-only events.

Every text a user types here (notes, comments, checklist lines) is refused before anything is read or written when it
looks like it holds a person's name (gis.store.communes.refuse_personal_names), for the API and the CLI alike.

A suppression task carries its hotspot along (models.domain.coupling): the task change and the hotspot
transition it needs are checked before anything is written and recorded in one savepoint, each side
naming the other in its event.

Locks are taken in one order everywhere: the team (share), the hotspot, then the task — as a boundary import moves
hotspots and then their tasks (gis.store.tasks.follow_hotspots); a change of a hotspot alone and a detection run lock
hotspots and no task. A change of a task locks its hotspot, then the task's row as it reads it at the version the user
sent (:func:`_locked_task`). Two changes of one task thus wait for each other before either reads the task, and the
second is refused as stale (412) — it read the task unlocked and waited for the hotspot only, then paired the task's
old state with the hotspot's new status: a 409 about the hotspot that the user could do nothing about.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, text
from sqlalchemy.exc import IntegrityError

from gis.io.photos import Photo
from gis.services.hotspots import transition_hotspot
from gis.store.accounts import working_team
from gis.store.communes import refuse_personal_names
from gis.store.scoping import UNRESTRICTED, AreaScope, require_commune_in_scope, require_team_in_scope
from gis.store.selection import team_unstaffed
from gis.store.sql import current_unit
from gis.store.tasks import record_task_event, store_photo, when_made
from gis.store.versioned import load_at_version, update_at_version
from models.domain.access import Principal
from models.domain.coupling import check_taskable, companion, task_targets
from models.domain.dates import vn_time
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE
from models.domain.state_machine import TransitionNotAllowed
from models.domain.task_lifecycle import TASK_LIFECYCLE, TaskFacts, note_refusal
from models.errors import AlreadyExists, Conflict, DiabanError, InvalidRequest, KeyReused, NotFound
from models.vocabulary import TASK_CLOSED, TASK_OPEN, TASK_REASSIGNABLE, TASK_WORK_DONE, TaskKind, TaskState

#: Task fields that command may change directly (state and team change through transitions and assignment).
EDITABLE = ("due_date", "priority", "checklist")


def _refuse_names_in_checklist(conn: Connection, checklist: list[dict[str, Any]]) -> None:
    """Refuse a checklist with a line that looks like it holds a person's name."""
    for line in checklist:
        refuse_personal_names(conn, str(line.get("item", "")), "Danh mục công việc")


def _task_commune(
    conn: Connection, kind: str, hotspot_id: int | None, commune_code: str | None, scope: AreaScope
) -> str:
    """The commune of a new task: the hotspot's for suppression, the given current commune for conversion.

    The hotspot is looked up in ``scope``: one the user may not see is not found, as one that does not exist. Looked up
    unscoped, another province's hotspot was refused with its commune's code (its existence and place told), and one
    outside every commune, which only a nation-wide user sees, took the commune the user gave: a provincial command
    made a task of it, read its place and could assign it."""
    if kind == TaskKind.SUPPRESSION:
        hotspot = (
            conn.execute(
                text(f"SELECT h.commune_code FROM hotspots h WHERE h.id = :id AND {scope.hotspots('h')}"),
                {**scope.params, "id": hotspot_id},
            )
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
    at: datetime | None = None,
    scope: AreaScope = UNRESTRICTED,
    key: str | None = None,
) -> int:
    """New task, assigned when a team is given (and its hotspot with it: models.domain.coupling).

    At most one open suppression task per hotspot and one open conversion task per commune and year; a
    suppression task only for a verified or recurred hotspot. ``at`` records work entered afterwards. A provincial
    command (``scope``) creates tasks only in its province's communes, for its province's teams.

    ``key`` (the client's ``Idempotency-Key``) makes a retry safe as for comments: the same user sending the same
    task again under it (its answer lost) gets the first task back and nothing is stored — it was refused, the hotspot
    being given already, and command read its assignment as failed; the key with another task is refused.
    """
    refuse_personal_names(conn, note, "Ghi chú nhiệm vụ")
    _refuse_names_in_checklist(conn, checklist)
    commune = _task_commune(conn, kind, hotspot_id, commune_code, scope)
    require_commune_in_scope(conn, scope, commune)
    if key is not None and (first := _event_under_key(conn, actor, key)) is not None:
        made = conn.execute(
            text("SELECT kind, hotspot_id, commune_code, year FROM tasks WHERE id = :id"), {"id": first.task_id}
        ).one()
        hotspot = hotspot_id if kind == TaskKind.SUPPRESSION else None
        if (first.event, *made) != ("created", kind, hotspot, commune, year):
            raise KeyReused("Idempotency-Key already used for another request")
        return int(first.task_id)
    if kind == TaskKind.SUPPRESSION:
        status = conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar_one()
        check_taskable(status)
    if at is not None:
        _check_recorded_time(conn, None, at)
    _refuse_a_second_open_task(conn, kind, hotspot_id, commune, year)
    try:
        with conn.begin_nested():
            task_id = conn.execute(
                text("""
                INSERT INTO tasks (kind, hotspot_id, commune_code, year, state, due_date, priority, checklist,
                                   version, created_by, created_at, state_changed_at)
                VALUES (:kind, :hotspot, :commune, :year, 'unassigned', :due, :priority, CAST(:checklist AS jsonb),
                        1, :actor, coalesce(:at, now()), coalesce(:at, now())) RETURNING id"""),
                {
                    "kind": kind,
                    "hotspot": hotspot_id if kind == TaskKind.SUPPRESSION else None,
                    "commune": commune,
                    "year": year,
                    "due": due_date,
                    "priority": priority,
                    "checklist": _json(checklist),
                    "actor": actor.username,
                    "at": at,
                },
            ).scalar_one()
    except IntegrityError:  # made by another request meanwhile
        _refuse_a_second_open_task(conn, kind, hotspot_id, commune, year)
        raise AlreadyExists("đã có nhiệm vụ đang mở cho điểm nóng / xã-năm này") from None
    record_task_event(conn, task_id, actor, None, "created", None, TaskState.UNASSIGNED, note, at=at, client_key=key)
    if team_id is not None:
        assign_task(conn, task_id, team_id, 1, actor, at=at, scope=scope)
    return task_id


def _refuse_a_second_open_task(
    conn: Connection, kind: str, hotspot_id: int | None, commune: str, year: int | None
) -> None:
    """AlreadyExists naming the open task of the hotspot (suppression) or of the commune and year (conversion), if
    any: at most one of each is open (the unique indexes ix_tasks_open_*). «Đã có nhiệm vụ đang mở cho điểm nóng /
    xã-năm này» named neither the task nor its team, and the refused insert used up a task number."""
    where = "t.hotspot_id = :h" if kind == TaskKind.SUPPRESSION else "t.commune_code = :c AND t.year = :y"
    held = conn.execute(
        text(f"""SELECT t.id, t.state, tm.name AS team FROM tasks t LEFT JOIN teams tm ON tm.id = t.team_id
                 WHERE t.kind = :k AND {where} AND NOT (t.state = ANY(:closed)) ORDER BY t.id LIMIT 1"""),
        {"k": kind, "h": hotspot_id, "c": commune, "y": year, "closed": sorted(TASK_CLOSED)},
    ).first()
    if held is None:
        return
    what = f"điểm nóng #{hotspot_id}" if kind == TaskKind.SUPPRESSION else f"xã/phường này năm {year}"
    holder = f"{held.team}, " if held.team else ""
    raise AlreadyExists(
        f"{what} đã có nhiệm vụ #{held.id} đang mở ({holder}{TaskState(held.state).label}): hãy mở nhiệm vụ đó, hoặc"
        " hủy nó trước khi giao nhiệm vụ mới",
        f"task #{held.id} is open for it",
    )


def _check_recorded_time(conn: Connection, task_id: int | None, at: datetime) -> None:
    """Work recorded afterwards: not in the future, not before the task's latest event."""
    latest = None
    if task_id is not None:
        latest = conn.execute(text("SELECT max(at) FROM task_events WHERE task_id = :id"), {"id": task_id}).scalar()
    if at > datetime.now(UTC) or (latest is not None and at < latest):
        raise InvalidRequest(
            f"thời điểm ghi nhận {vn_time(at)} không hợp lệ: phải sau lần thay đổi gần nhất của nhiệm vụ"
            " và không ở tương lai",
            "recorded time must follow the task's latest event and not be in the future",
        )


@dataclass(frozen=True)
class _HotspotMove:
    """The hotspot transition a task change carries, checked before anything is written."""

    hotspot_id: int
    target: str
    version: int
    note: str


def _plan_hotspot(
    conn: Connection, task: dict[str, Any], task_id: int, task_target: str, note: str
) -> _HotspotMove | None:
    """The hotspot transition that must accompany a suppression task's change (None: the hotspot stays).

    The hotspot and task rows are locked already (:func:`_locked_task`), so that neither can change between this check
    and the write.
    """
    if task["kind"] != TaskKind.SUPPRESSION or task["hotspot_id"] is None:
        return None
    hotspot = conn.execute(
        text("SELECT status, version FROM hotspots WHERE id = :id"), {"id": task["hotspot_id"]}
    ).one()
    target = companion(task["state"], task_target, hotspot.status)
    if target is None:
        return None
    return _HotspotMove(task["hotspot_id"], target, hotspot.version, note or f"theo nhiệm vụ #{task_id}")


def _apply_hotspot(
    conn: Connection, move: _HotspotMove | None, task_id: int, actor: Principal, at: datetime | None
) -> dict[str, Any]:
    """Record the planned hotspot transition naming the task; return what the task's event records of it."""
    if move is None:
        return {}
    moved = transition_hotspot(
        conn,
        HOTSPOT_LIFECYCLE,
        move.hotspot_id,
        move.target,
        move.note,
        move.version,
        actor,
        UNRESTRICTED,
        at=at,
        task_id=task_id,
    )
    return {"hotspot_id": move.hotspot_id, "hotspot_status": moved["status"], "hotspot_version": moved["version"]}


def _locked_task(conn: Connection, task_id: int, version: int, scope: AreaScope) -> dict[str, Any]:
    """The task ``scope`` sees, at ``version``, locked until the transaction ends, its hotspot locked before it (the
    module's lock order); NotFound or StaleVersion otherwise."""
    conn.execute(
        text("SELECT 1 FROM hotspots h WHERE h.id = (SELECT t.hotspot_id FROM tasks t WHERE t.id = :id) FOR UPDATE"),
        {"id": task_id},
    )
    return load_at_version(
        conn,
        "tasks",
        task_id,
        version,
        f"r.state, r.team_id, r.hotspot_id, r.kind, {team_unstaffed('r')} AS unstaffed",
        scope.tasks("r"),
        scope.params,
        lock=True,
    )


def assign_task(
    conn: Connection,
    task_id: int,
    team_id: int,
    version: int,
    actor: Principal,
    at: datetime | None = None,
    scope: AreaScope = UNRESTRICTED,
    note: str = "",
    key: str | None = None,
) -> int:
    """Assign (unassigned → assigned, the hotspot with it) or reassign a task not yet started to another team, both in
    ``scope`` (a provincial command: its province's tasks and teams), with command's ``note``; return the version.
    Work under way (in progress, paused, returned) is reassigned only when its team has no active member left
    (``team_unstaffed``): nobody could work it, and cancelling it would end its history; it keeps its state, and the
    new team goes on from where it stands.

    ``key`` (the client's ``Idempotency-Key``): the same user giving the same task to the same team with the same note
    again under it (its answer lost) gets the version it reached back and nothing changes — it was refused as stale, and
    command read its assignment as failed; the key with another request is refused."""
    refuse_personal_names(conn, note, "Ghi chú giao nhiệm vụ")
    working_team(conn, team_id)
    require_team_in_scope(conn, scope, team_id)
    if key is not None and (first := _event_under_key(conn, actor, key)) is not None:
        _task_team(conn, task_id, scope)
        given = first.event == "reassigned" or (first.event == "transition" and first.to_state == TaskState.ASSIGNED)
        if not given or (first.task_id, first.team_id, first.note or "") != (task_id, team_id, note):
            raise KeyReused("Idempotency-Key already used for another request")
        return int(first.details["version"])
    row = _locked_task(conn, task_id, version, scope)
    under_way = row["state"] not in TASK_REASSIGNABLE
    if under_way and not row["unstaffed"]:
        allowed = ", ".join(f"«{TaskState(s).label}»" for s in sorted(TASK_REASSIGNABLE))
        raise InvalidRequest(
            f"chỉ giao lại được nhiệm vụ ở trạng thái {allowed} (hiện tại: "
            f"«{TaskState(row['state']).label}»), hoặc khi tổ đang giữ không còn ai hoạt động; hãy hủy và tạo nhiệm vụ"
            " mới",
            f"only tasks in {', '.join(sorted(TASK_REASSIGNABLE))}, or held by a team without an active member, can"
            " be reassigned",
        )
    target = TaskState(row["state"]) if under_way else TaskState.ASSIGNED
    first = row["state"] == TaskState.UNASSIGNED
    if not first and row["team_id"] == team_id:
        # Nothing to hand over: a "reassigned" event would reach the team twice, as news and as the task taken away.
        raise InvalidRequest(
            f"nhiệm vụ #{task_id} đã giao cho tổ này rồi: hãy chọn tổ khác", "the task is already this team's"
        )
    if first:
        TASK_LIFECYCLE.check(TaskState.UNASSIGNED, target, TaskFacts())
    if at is not None:
        _check_recorded_time(conn, task_id, at)
    with conn.begin_nested():
        move = _plan_hotspot(conn, row, task_id, target, f"giao nhiệm vụ #{task_id}") if first else None
        new_version = update_at_version(
            conn,
            "tasks",
            task_id,
            version,
            "team_id = :team" if under_way else "team_id = :team, state = :to, state_changed_at = coalesce(:at, now())",
            {"team": team_id, "to": target, "at": at},
        )
        details = {"version": new_version, **_apply_hotspot(conn, move, task_id, actor, at)}
        if first:
            record_task_event(
                conn, task_id, actor, team_id, "transition", TaskState.UNASSIGNED, target, note, details, at, key
            )
        else:
            details["from_team"] = row["team_id"]
            record_task_event(
                conn, task_id, actor, team_id, "reassigned", note=note, details=details, at=at, client_key=key
            )
    return new_version


def transition_task(
    conn: Connection,
    task_id: int,
    target: str,
    note: str,
    version: int,
    actor: Principal,
    scope: AreaScope,
    at: datetime | None = None,
    key: str | None = None,
    made_at: datetime | None = None,
) -> dict[str, Any]:
    """Move a visible task at ``version`` to ``target`` if its lifecycle allows it, with the hotspot transition
    that must accompany it, all or nothing; return id, state, version and the hotspot's status if it moved.
    ``made_at``: when a phone without signal made the move it sends now (gis.store.tasks.when_made).

    ``key`` (the client's ``Idempotency-Key``) makes a retry safe as for comments: the same user sending the same move
    with the same key again (its answer lost, the task since at a newer version) gets the first answer back and
    nothing changes; the key with another move or comment is refused.
    """
    refuse_personal_names(conn, note, "Ghi chú")
    same = (task_id, "transition", target, note, None)  # what a first try under the key must have been
    if key is not None:
        _task_team(conn, task_id, scope)
        if (first := _keyed_event(conn, actor, key, same)) is not None:
            return _transition_answer(first)
    try:
        row = _locked_task(conn, task_id, version, scope)
        try:
            TASK_LIFECYCLE.check(row["state"], target, TaskFacts(comment=note, reason=note))
        except TransitionNotAllowed:  # name only what this user's role may ask for
            raise TASK_LIFECYCLE.refusal(row["state"], target, task_targets(row["state"], actor.role)) from None
        if at is not None:
            _check_recorded_time(conn, task_id, at)
        with conn.begin_nested():
            move = _plan_hotspot(conn, row, task_id, target, note)
            new_version = update_at_version(
                conn,
                "tasks",
                task_id,
                version,
                "state = :to, state_changed_at = coalesce(:at, now())",
                {"to": target, "at": at},
            )
            details = {"version": new_version, **_apply_hotspot(conn, move, task_id, actor, at)}
            record_task_event(
                conn,
                task_id,
                actor,
                row["team_id"],
                "transition",
                row["state"],
                target,
                note,
                details,
                at,
                key,
                when_made(conn, task_id, made_at),
            )
    except (DiabanError, IntegrityError):
        # The same key sent twice at once: the other request moved the task first (and has committed: this one waited
        # for its row), so this one was refused from the version or state it left behind. Or the key sent at once for
        # another task: this move waited on the key's unique index, and its savepoint undid it; the key's event is the
        # other's.
        first = _keyed_event(conn, actor, key, same) if key is not None else None
        if first is None:
            raise
        return _transition_answer(first)
    return {"id": task_id, "state": target, "version": new_version, "hotspot_status": details.get("hotspot_status")}


def _transition_answer(event: Row) -> dict[str, Any]:
    """What a transition answered, from its event (a retry's answer)."""
    return {
        "id": event.task_id,
        "state": event.to_state,
        "version": event.details["version"],
        "hotspot_status": event.details.get("hotspot_status"),
    }


def tick_checklist(
    conn: Connection,
    task_id: int,
    version: int,
    item: int,
    done: bool,
    actor: Principal,
    scope: AreaScope,
    made_at: datetime | None = None,
    key: str | None = None,
) -> int:
    """Mark line ``item`` (from 0) of a task's checklist done or not at ``version``; return the new version (the same
    one when the line already says so). The checklist is command's list of steps; the team holding the task ticks
    them off as it works (a task assigned, in progress, paused or returned: TASK_OPEN), command too until the work is
    sent (not in TASK_WORK_DONE). Before, only command could change it (PATCH, the whole list) and no page showed it.
    Kept in the history as an update naming the line (its number and words) and what it now says; ``made_at``: when
    a phone without signal ticked it (gis.store.tasks.when_made).

    ``key`` (the client's ``Idempotency-Key``): the same user sending the same tick again under it (its answer lost,
    the task since at a newer version) gets the version the tick reached and nothing changes — a phone resending a
    kept tick was refused as stale (412) and said so of a tick that was stored; the key with anything else is refused."""
    if key is not None and (first := _event_under_key(conn, actor, key)) is not None:
        _task_team(conn, task_id, scope)
        ticked = first.details or {}
        if (first.task_id, first.event, ticked.get("item"), ticked.get("done")) != (task_id, "updated", item, done):
            raise KeyReused("Idempotency-Key already used for another request")
        return int(ticked["version"])
    row = load_at_version(
        conn, "tasks", task_id, version, "r.team_id, r.state, r.checklist", scope.tasks("r"), scope.params
    )
    team = actor.team_id is not None
    if team and actor.team_id != row["team_id"]:
        raise NotFound(f"không có nhiệm vụ #{task_id} của tổ")
    if row["state"] not in (TASK_OPEN if team else set(TaskState) - TASK_WORK_DONE):
        raise Conflict(
            f"nhiệm vụ #{task_id} đang ở trạng thái «{TaskState(row['state']).label}»: không đánh dấu danh sách việc được",
            f"task is {row['state']}: its checklist is not ticked",
        )
    lines = row["checklist"] or []
    if not 0 <= item < len(lines):
        raise InvalidRequest(
            f"nhiệm vụ #{task_id} không có việc số {item + 1} trong danh sách việc ({len(lines)} việc)",
            "no such checklist line",
        )
    if bool(lines[item].get("done")) == done:
        return version
    new_version = update_at_version(
        conn,
        "tasks",
        task_id,
        version,
        "checklist = jsonb_set(checklist, ARRAY[CAST(:item AS text), 'done'], to_jsonb(CAST(:done AS boolean)))",
        {"item": item, "done": done},
    )
    line = lines[item].get("item")
    details = {"changed": ["checklist"], "item": item, "line": line, "done": done, "version": new_version}
    made = when_made(conn, task_id, made_at)
    record_task_event(conn, task_id, actor, row["team_id"], "updated", details=details, made_at=made, client_key=key)
    return new_version


def update_task(
    conn: Connection,
    task_id: int,
    version: int,
    changes: dict[str, Any],
    actor: Principal,
    scope: AreaScope = UNRESTRICTED,
) -> int:
    """Change due date, priority or checklist of a task in ``scope`` at ``version``; return the new version (the same
    one when there is nothing to change). A due date changed is kept in the history, the one before and the new one
    (``details.due_date``: ``from``/``to``, ISO days or null): the period report counts a task overdue at a past
    instant by the due date it had then (gis.store.period_counts.task_counts)."""
    _refuse_names_in_checklist(conn, changes.get("checklist") or [])
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidRequest(f"không sửa trực tiếp được: {', '.join(sorted(unknown))}")
    row = load_at_version(conn, "tasks", task_id, version, "r.team_id, r.due_date", scope.tasks("r"), scope.params)
    if not changes:
        return version
    params = {**changes, "checklist": _json(changes["checklist"])} if "checklist" in changes else dict(changes)
    sets = ", ".join(f"{k} = CAST(:{k} AS jsonb)" if k == "checklist" else f"{k} = :{k}" for k in changes)
    new_version = update_at_version(conn, "tasks", task_id, version, sets, params)
    details: dict[str, Any] = {"changed": sorted(changes), "version": new_version}
    if "due_date" in changes:
        details["due_date"] = {"from": _iso(row["due_date"]), "to": _iso(changes["due_date"])}
    record_task_event(conn, task_id, actor, row["team_id"], "updated", details=details)
    return new_version


def _iso(day: date | None) -> str | None:
    """A day as the history's JSON keeps it (None: no day)."""
    return None if day is None else day.isoformat()


def comment_task(
    conn: Connection,
    task_id: int,
    note: str,
    actor: Principal,
    scope: AreaScope,
    photo: Photo | None = None,
    key: str | None = None,
    made_at: datetime | None = None,
) -> dict[str, Any]:
    """Append a comment (a progress note) to a visible task, with its photo evidence if any; comments change no
    state, so they carry no version. Returns the event id and the photo id (None without a photo). A closed task
    (cancelled, accepted, declined) takes none: Conflict naming its state (task_lifecycle.note_refusal). ``made_at``:
    when a phone without signal wrote the note it sends now (gis.store.tasks.when_made).

    ``key`` (the client's ``Idempotency-Key``) makes a retry safe: the same user sending the same note (and photo)
    with the same key again gets the first comment back and nothing is stored; the key with another note is refused.
    """
    refuse_personal_names(conn, note, "Ghi chú")
    task = _task_team(conn, task_id, scope, share=True)
    if key is not None and (first := _keyed_comment(conn, task_id, note, actor, photo, key)) is not None:
        return first  # stored before the task closed: answered as it was
    if (refused := note_refusal(task_id, task.state)) is not None:
        raise Conflict(refused, f"task is {task.state}: no more comments")
    details = {"photo": photo.media_type, "location_kept": photo.location_kept} if photo else None
    try:
        with conn.begin_nested():
            event_id = record_task_event(
                conn,
                task_id,
                actor,
                task.team_id,
                "comment",
                note=note,
                details=details,
                client_key=key,
                made_at=when_made(conn, task_id, made_at),
            )
            photo_id = store_photo(conn, task_id, event_id, photo, actor) if photo else None
    except IntegrityError:
        # The same key sent twice at once: the other request stored it first (and has committed, or the unique index
        # would still be waiting for it).
        first = _keyed_comment(conn, task_id, note, actor, photo, key) if key is not None else None
        if first is None:
            raise
        return first
    return {"id": event_id, "task_id": task_id, "photo_id": photo_id}


def _task_team(conn: Connection, task_id: int, scope: AreaScope, share: bool = False) -> Row:
    """The team (``team_id``, None: not assigned) and ``state`` of a task ``scope`` sees; NotFound when it sees none (a
    key sent again after the task was taken away answers nothing of it). ``share``: its row share-locked until the
    transaction ends, so that a change of the task on its way (a cancel) is waited for, not written after what is
    read (a comment takes no other lock: the order hotspot, then task, of the changes is kept)."""
    lock = " FOR SHARE OF t" if share else ""
    found = conn.execute(
        text(f"SELECT t.team_id, t.state FROM tasks t WHERE t.id = :id AND {scope.tasks('t')}{lock}"),
        {**scope.params, "id": task_id},
    ).first()
    if found is None:
        raise NotFound(f"không tìm thấy nhiệm vụ #{task_id}")
    return found


def _keyed_comment(
    conn: Connection, task_id: int, note: str, actor: Principal, photo: Photo | None, key: str
) -> dict[str, Any] | None:
    """The comment the user already stored under ``key`` (None: none yet); Conflict if the key was used for another
    comment (another task, note or photo) or a transition."""
    sha256 = hashlib.sha256(photo.content).hexdigest() if photo else None
    first = _keyed_event(conn, actor, key, (task_id, "comment", None, note, sha256))
    return None if first is None else {"id": first.id, "task_id": task_id, "photo_id": first.photo_id}


def _event_under_key(conn: Connection, actor: Principal, key: str) -> Row | None:
    """The task event the user stored under ``key`` (None: none yet), with its photo if any."""
    return conn.execute(
        text("""SELECT e.id, e.task_id, e.team_id, e.event, e.to_state, e.note, e.details, p.id AS photo_id, p.sha256
                FROM task_events e LEFT JOIN task_photos p ON p.event_id = e.id
                WHERE e.actor = :actor AND e.client_key = :key"""),
        {"actor": actor.username, "key": key},
    ).first()


def _keyed_event(conn: Connection, actor: Principal, key: str, same: tuple[Any, ...]) -> Row | None:
    """The event the user already stored under ``key`` (None: none yet), if it is the one ``same`` describes (task,
    event, state reached, note, photo's SHA-256); Conflict if the key was used for anything else."""
    first = _event_under_key(conn, actor, key)
    if first is None:
        return None
    if (first.task_id, first.event, first.to_state, first.note or "", first.sha256) != same:
        raise KeyReused("Idempotency-Key already used for another comment or transition")
    return first


def _json(value: Any) -> str:
    """JSON text for a jsonb parameter."""
    return json.dumps(value, ensure_ascii=False, default=str)

"""Tasks in PostGIS: filtered lists with overdue days, one task with its history, assignee suggestions, inboxes,
and the append-only event history (written here, read back by replay)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, insert, text

from gis.io.photos import Photo
from gis.store.scoping import AreaScope
from gis.store.selection import TaskFilter, held_outside_area, overdue_condition, team_unstaffed
from gis.store.sql import current_unit, move_note, reassigned_from, valid_on
from gis.store.tables import TaskEvent, TaskPhoto
from models.domain.access import Principal
from models.domain.coupling import task_actions
from models.domain.task_lifecycle import TASK_LIFECYCLE, overdue_days
from models.text import vietnamese_key
from models.vocabulary import COMMUNE_CHANGED, TASK_CLOSED, TASK_OPEN, Role, TaskKind, TaskState, codes, local_today

#: A task with its team, its commune and its place: the hotspot's centroid, else a point inside the commune; whether
#: its team holds it outside its area today (``held_outside_area``).
_SELECT = f"""
    SELECT t.id, t.kind, t.hotspot_id, h.status AS hotspot_status, t.commune_code, u.full_name AS commune_name,
           t.year, t.state, t.team_id, tm.name AS team, t.due_date, t.priority, t.checklist, t.version, t.created_by,
           t.created_at, t.state_changed_at, p.lon, p.lat, {held_outside_area("t")} AS outside_team_area,
           {team_unstaffed("t")} AS team_unstaffed
    FROM tasks t
    LEFT JOIN teams tm ON tm.id = t.team_id
    LEFT JOIN hotspots h ON h.id = t.hotspot_id
    LEFT JOIN admin_units u ON u.code = t.commune_code AND {current_unit("u")}
    LEFT JOIN LATERAL (SELECT round(ST_X(g)::numeric, 6)::float8 AS lon, round(ST_Y(g)::numeric, 6)::float8 AS lat
                       FROM (SELECT coalesce(h.centroid, ST_PointOnSurface(u.geom)) AS g) place) p ON true
"""
_EVENT_COLUMNS = "e.id, e.task_id, e.at, e.made_at, e.actor, e.event, e.from_state, e.to_state, e.note, e.details"


def _event_columns(scope: AreaScope) -> str:
    """A task event (alias ``e``) as the scope reads it. A handover keeps the work's notes and photos, but a user of a
    team the scope may not see is only «tổ công tác khác», and the team a reassignment took the task from is named
    only to a scope that may see that team."""
    if not scope.key:
        return _EVENT_COLUMNS
    from_team = f"""CASE WHEN EXISTS (SELECT 1 FROM teams ft WHERE ft.id = CAST(e.details ->> 'from_team' AS integer)
                         AND {scope.teams("ft")}) THEN e.details ELSE e.details - 'from_team' END AS details"""
    return (
        f"e.id, e.task_id, e.at, e.made_at, {scope.actor('e.actor')} AS actor, e.event, e.from_state, e.to_state, e.note, "
        + from_team
    )


@cache
def _by_state(kind: str, state: str, role: str) -> tuple[str, str, tuple[str, ...], tuple[tuple[str, bool], ...]]:
    """What a task's kind, state and the reader's role alone decide: the labels, the states it may move to and those
    the role may move it to now (remembered: a list of 50 tasks spent a tenth of its server time working them out
    again for each task, py-spy under bench_api)."""
    return (
        TaskKind(kind).label,
        TaskState(state).label,
        tuple(TASK_LIFECYCLE.allowed(state)),
        tuple((a.to, a.note_required) for a in task_actions(state, role)),
    )


def task_payload(row: dict[str, Any], as_of: date, role: str) -> dict[str, Any]:
    """A task row with labels, the states it may move to, those the role may move it to now, its overdue days."""
    kind_label, state_label, allowed, actions = _by_state(row["kind"], row["state"], role)
    return {
        **row,
        "kind_label": kind_label,
        "state_label": state_label,
        "allowed": list(allowed),
        "actions": [{"to": to, "note_required": note} for to, note in actions],
        "overdue_days": overdue_days(row["state"], row["due_date"], as_of),
    }


def list_tasks(
    conn: Connection, scope: AreaScope, flt: TaskFilter, limit: int, offset: int, role: str
) -> dict[str, Any]:
    """A page of visible tasks (most urgent due date first) and the total matched, in one statement (one snapshot, one
    round trip: a page past the end still answers the total, on a row without a task)."""
    as_of = local_today()
    where = flt.where(as_of, scope)
    page = f"{_SELECT} WHERE {where.sql} ORDER BY t.due_date NULLS LAST, t.id LIMIT :limit OFFSET :offset"
    rows = conn.execute(
        text(
            f"""SELECT (SELECT count(*) FROM tasks t WHERE {where.sql}) AS number_matched, p.*
                FROM (SELECT 1) one LEFT JOIN ({page}) p ON true ORDER BY p.due_date NULLS LAST, p.id"""
        ),
        {**where.params, "limit": limit, "offset": offset},
    ).mappings()
    tasks, total = [], 0
    for row in rows:
        task = dict(row)
        total = task.pop("number_matched")
        if task["id"] is not None:
            tasks.append(task_payload(task, as_of, role))
    return {"tasks": tasks, "numberMatched": total}


def count_tasks(conn: Connection, scope: AreaScope, flt: TaskFilter) -> dict[str, Any]:
    """How many visible tasks the filter selects: in all, overdue, open (``TASK_OPEN``), held outside their team's
    area today (``held_outside_area``) and in each state, in one statement with the list's own conditions, so each
    count is the ``numberMatched`` of the list with that filter (and that state, ``overdue`` or ``outside_area``)
    added: the command page read its figures from six lists of one task each."""
    as_of = local_today()
    where = flt.where(as_of, scope)
    late = overdue_condition(where, "t", as_of, True)
    rows = conn.execute(
        text(
            f"SELECT t.state, count(*) AS n, count(*) FILTER (WHERE {late}) AS overdue,"
            f" count(*) FILTER (WHERE {held_outside_area('t')}) AS outside_area FROM tasks t"
            f" WHERE {where.sql} GROUP BY t.state"
        ),
        where.params,
    ).all()
    by_state = {state.value: 0 for state in TaskState} | {row.state: row.n for row in rows}
    return {
        "total": sum(by_state.values()),
        "overdue": sum(row.overdue for row in rows),
        "outside_area": sum(row.outside_area for row in rows),
        "open": sum(by_state[state] for state in codes(TASK_OPEN)),
        "by_state": by_state,
    }


def get_task(conn: Connection, task_id: int, scope: AreaScope, role: str) -> dict[str, Any] | None:
    """One visible task with its events and photos, oldest first (who of a team the scope may not see did what is
    withheld: ``_event_columns``); None when missing or out of scope."""
    row = (
        conn.execute(text(f"{_SELECT} WHERE t.id = :id AND {scope.tasks('t')}"), {**scope.params, "id": task_id})
        .mappings()
        .first()
    )
    if row is None:
        return None
    params = {**scope.params, "id": task_id}
    events = conn.execute(
        text(f"SELECT {_event_columns(scope)} FROM task_events e WHERE e.task_id = :id ORDER BY e.id"), params
    ).mappings()
    photos = conn.execute(
        text(f"SELECT {_photo_columns(scope)} FROM task_photos p WHERE p.task_id = :id ORDER BY p.id"), params
    ).mappings()
    return {
        **task_payload(dict(row), local_today(), role),
        "events": [dict(e) for e in events],
        "photos": [dict(p) for p in photos],
    }


def _photo_columns(scope: AreaScope) -> str:
    """A task photo's metadata (alias ``p``) as the scope reads it: its uploader as ``_event_columns`` names actors."""
    return (
        "p.id, p.event_id, p.media_type, p.byte_size, p.width, p.height, p.location_kept, "
        f"{scope.actor('p.uploaded_by')} AS uploaded_by, p.uploaded_at"
    )


def store_photo(conn: Connection, task_id: int, event_id: int, photo: Photo, actor: Principal) -> int:
    """Keep a photo of a progress note (its bytes in PostgreSQL, with a SHA-256 to show it never changed)."""
    return conn.execute(
        insert(TaskPhoto)
        .values(
            task_id=task_id,
            event_id=event_id,
            media_type=photo.media_type,
            content=photo.content,
            byte_size=len(photo.content),
            width=photo.width,
            height=photo.height,
            sha256=hashlib.sha256(photo.content).hexdigest(),
            location_kept=photo.location_kept,
            uploaded_by=actor.username,
        )
        .returning(TaskPhoto.id)
    ).scalar_one()


def photo_content(conn: Connection, task_id: int, photo_id: int, scope: AreaScope) -> tuple[bytes, str] | None:
    """A photo's bytes and media type if its task is visible in the scope, else None."""
    row = conn.execute(
        text(f"""SELECT p.content, p.media_type FROM task_photos p JOIN tasks t ON t.id = p.task_id
                 WHERE p.id = :photo AND p.task_id = :task AND {scope.tasks("t")}"""),
        {**scope.params, "photo": photo_id, "task": task_id},
    ).first()
    return (bytes(row.content), row.media_type) if row else None


def suggest_assignees(conn: Connection, commune_code: str) -> list[dict[str, Any]]:
    """Teams whose current area covers the commune, least open tasks first, then by name in Vietnamese order (the
    database's order is the code points': «Tổ Em» before «Tổ Đông»); a commune's teams are a handful. A team with
    no active member comes last whatever its load (``active_members`` 0): it was suggested first, having the
    fewest tasks, right after the administrator was told not to give it work."""
    rows = conn.execute(
        text(f"""
        SELECT tm.id AS team_id, tm.name, count(t.id) AS open_tasks,
               (SELECT count(*) FROM users u WHERE u.team_id = tm.id AND u.active) AS active_members
        FROM teams tm
        JOIN team_areas ta ON ta.team_id = tm.id AND ta.commune_code = :c AND {valid_on("ta")}
        LEFT JOIN tasks t ON t.team_id = tm.id AND t.state = ANY(:open)
        GROUP BY tm.id, tm.name"""),
        {"c": commune_code, "open": list(codes(TASK_OPEN))},
    ).mappings()
    return sorted(
        (dict(r) for r in rows),
        key=lambda r: (not r["active_members"], r["open_tasks"], vietnamese_key(r["name"]), r["team_id"]),
    )


def open_tasks_held(conn: Connection, team_id: int, communes: list[str]) -> list[dict[str, Any]]:
    """The team's open tasks in each of ``communes`` (code, current name, how many), for an administrator taking those
    communes from its area: the tasks stay the team's (it still sees and works them) until command gives them to
    another team, and the team now answering for the commune does not see them."""
    return [
        dict(r)
        for r in conn.execute(
            text(f"""
        SELECT t.commune_code, max(u.full_name) AS commune_name, count(*) AS tasks
        FROM tasks t LEFT JOIN admin_units u ON u.code = t.commune_code AND {current_unit("u")}
        WHERE t.team_id = :t AND t.commune_code = ANY(:codes) AND t.state = ANY(:open)
        GROUP BY t.commune_code ORDER BY t.commune_code"""),
            {"t": team_id, "codes": communes, "open": list(codes(TASK_OPEN))},
        ).mappings()
    ]


def team_left(conn: Connection, team_id: int) -> dict[str, Any]:
    """A team a member just left (moved, or given another role): its name, its open tasks and its active members now.
    Tasks belong to the team, not to its members: they stay the team's, and a team left without an active member
    has nobody to work them until command gives them to another team (the administrator is told)."""
    return dict(
        conn.execute(
            text("""SELECT t.id, t.name,
                           (SELECT count(*) FROM tasks k WHERE k.team_id = t.id AND k.state = ANY(:open)) AS open_tasks,
                           (SELECT count(*) FROM users u WHERE u.team_id = t.id AND u.active) AS active_members
                    FROM teams t WHERE t.id = :t"""),
            {"t": team_id, "open": list(codes(TASK_OPEN))},
        )
        .mappings()
        .one()
    )


#: Task states whose arrival a team hears of (work given, its finished work accepted or sent back, work withdrawn), and
#: command (work done or refused). The team was never told that command accepted its work.
INBOX_TEAM_STATES = frozenset({TaskState.ASSIGNED, TaskState.ACCEPTED, TaskState.RETURNED, TaskState.CANCELED})
INBOX_COMMAND_STATES = frozenset({TaskState.COMPLETED, TaskState.DECLINED})


#: Whether an event of command's inbox (alias ``e``, its task ``t``) still waits for command: work completed that is
#: still the task's latest completion and not yet accepted, returned or cancelled; a task declined whose hotspot (a
#: conversion: commune and year) has no newer task; a team's note on a task not yet finished that command has neither
#: answered nor acted on (no later event on the task by someone of no team, a boundary import's move of the task
#: — `COMMUNE_CHANGED` — not counted: it answers nothing); a note on a finished task (accepted,
#: declined, cancelled), which the page offers no answer to, is read and waits for nothing. The page counted every
#: decline and every note for ever.
_AWAITING_COMMAND = f"""CASE
    WHEN e.event = 'comment' THEN t.state <> ALL(:finished) AND NOT EXISTS (
        SELECT 1 FROM task_events c WHERE c.task_id = e.task_id AND c.id > e.id AND c.actor_team_id IS NULL
          AND c.event <> '{COMMUNE_CHANGED}')
    WHEN e.to_state = '{TaskState.DECLINED}' THEN NOT EXISTS (
        SELECT 1 FROM tasks n WHERE n.id > t.id AND n.kind = t.kind
          AND (n.hotspot_id = t.hotspot_id
               OR (t.hotspot_id IS NULL AND n.commune_code = t.commune_code AND n.year IS NOT DISTINCT FROM t.year)))
    ELSE t.state = e.to_state AND NOT EXISTS (
        SELECT 1 FROM task_events c WHERE c.task_id = e.task_id AND c.id > e.id AND c.to_state = e.to_state)
END"""


def inbox(conn: Connection, user: Principal, limit: int) -> list[dict[str, Any]]:
    """Events that need the user's attention, newest first: by the time each happened, then as recorded (work is
    recorded afterwards with its own time, ``at``; by the record alone a task's events of 2025 came before those of
    2026 recorded earlier).

    A team hears of tasks assigned to it, its work accepted or returned, tasks cancelled, and comments from outside the
    team; command hears of work completed or declined and of comments from teams (a provincial command: its
    province's), each event with the name of the actor's team (``actor_team``: the inbox named only the user; null for
    an actor of no team or of a team the scope may not see).
    Only of tasks the user may see now: a task since given to another team is no longer the team's news, except the
    reassignment that took it away (``taken_away``: when, by whom of command, its note; not the new team, nor the
    task's state or anything done since). Command's events say whether they still wait for it (``awaiting_command``,
    _AWAITING_COMMAND); a team's, null.
    """
    scope = AreaScope.of(user)
    params = {
        **scope.params,
        "team": user.team_id,
        "limit": limit,
        "reaches_team": list(codes(INBOX_TEAM_STATES)),
        "reaches_command": list(codes(INBOX_COMMAND_STATES)),
        "finished": list(codes(TASK_CLOSED)),
    }
    if user.role == Role.TEAM:
        concern = """e.team_id = :team AND e.actor_team_id IS DISTINCT FROM :team
                     AND (e.event IN ('comment', 'reassigned') OR e.to_state = ANY(:reaches_team))"""
        awaiting = "NULL"
    else:
        concern = "e.actor_team_id IS NOT NULL AND (e.event = 'comment' OR e.to_state = ANY(:reaches_command))"
        awaiting = _AWAITING_COMMAND
    news = f"""SELECT {_event_columns(scope)}, t.kind, t.commune_code, t.state AS task_state, false AS taken_away,
               {awaiting} AS awaiting_command,
               (SELECT atm.name FROM teams atm WHERE atm.id = e.actor_team_id AND {scope.teams("atm")}) AS actor_team
        FROM task_events e JOIN tasks t ON t.id = e.task_id
        WHERE {concern} AND {scope.tasks("t")}
        ORDER BY e.at DESC, e.id DESC LIMIT :limit"""
    if user.role == Role.TEAM:
        taken = f"""SELECT e.id, e.task_id, e.at, e.made_at, {scope.actor("e.actor")} AS actor, e.event, NULL AS from_state,
                   NULL AS to_state, e.note, '{{}}'::jsonb AS details, t.kind, t.commune_code, NULL AS task_state,
                   true AS taken_away, NULL AS awaiting_command, NULL AS actor_team
            FROM task_events e JOIN tasks t ON t.id = e.task_id
            WHERE e.event = 'reassigned' AND {reassigned_from("e")} = :team
            ORDER BY e.at DESC, e.id DESC LIMIT :limit"""
        news = f"SELECT * FROM (({news}) UNION ALL ({taken})) n ORDER BY n.at DESC, n.id DESC LIMIT :limit"
    return [dict(r) for r in conn.execute(text(news), params).mappings()]


def follow_hotspots(conn: Connection, actor: str, source: str) -> int:
    """Move each suppression task not yet ended (not in `TASK_CLOSED`) to its hotspot's commune, after a boundary
    import moved hotspots (gis.store.hotspots.replace_hotspots); each move recorded in the task's history
    (`COMMUNE_CHANGED`, by ``actor``, naming the file ``source``); the number of tasks moved.

    The work goes where the hotspot now lies: a team holding such a task outside its area is then marked so
    (`held_outside_area`) and command hands it to the commune's team. A task accepted, declined or canceled is the
    record of work done where the hotspot lay then and keeps its commune; so does a task whose hotspot now lies
    outside every commune (a task has a commune). One statement, in the caller's transaction."""
    return conn.execute(
        text(f"""
        WITH moved AS (
            UPDATE tasks t SET commune_code = h.commune_code
            FROM hotspots h, tasks before
            WHERE h.id = t.hotspot_id AND before.id = t.id AND t.kind = '{TaskKind.SUPPRESSION}'
              AND NOT t.state = ANY(:closed) AND h.commune_code IS NOT NULL AND t.commune_code <> h.commune_code
            RETURNING t.id, t.team_id, before.commune_code AS before, t.commune_code AS after
        )
        INSERT INTO task_events (task_id, actor, team_id, event, note, details)
        SELECT m.id, :actor, m.team_id, '{COMMUNE_CHANGED}', {move_note("m.before", "m.after")},
               jsonb_build_object('from', m.before, 'to', m.after, 'source', CAST(:source AS text))
        FROM moved m"""),
        {"closed": list(codes(TASK_CLOSED)), "actor": actor, "source": source},
    ).rowcount


def record_task_event(
    conn: Connection,
    task_id: int,
    actor: Principal,
    team_id: int | None,
    event: str,
    source: str | None = None,
    target: str | None = None,
    note: str = "",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
    client_key: str | None = None,
    made_at: datetime | None = None,
) -> int:
    """Append one event to the task's history (at `at`, default now); ``team_id`` is the assignee it concerns,
    ``client_key`` the client's key of a comment or transition it may send again (unique per actor), ``made_at`` when
    a change kept on a phone without signal was made (:func:`when_made`)."""
    return conn.execute(
        insert(TaskEvent)
        .values(
            task_id=task_id,
            actor=actor.username,
            actor_team_id=actor.team_id,
            team_id=team_id,
            event=event,
            from_state=source,
            to_state=target,
            note=note or None,
            details=details or {},
            client_key=client_key,
            made_at=made_at,
            **({"at": at} if at else {}),
        )
        .returning(TaskEvent.id)
    ).scalar_one()


def when_made(conn: Connection, task_id: int, made_at: datetime | None) -> datetime | None:
    """When a change a phone kept without signal was made (``made_at``, the phone's clock), within what the server
    knows: not after now (a clock ahead) nor before the task's latest event happened (a clock behind, or a change
    command made meanwhile): the history keeps its order, and a change is never dated before what it answered. The
    latest event counts by when it was made: the changes a phone kept go one after the other, and each after the
    first was dated when the one before it reached the server (a walk-through's note made at 03:36, sent behind a
    start, read 03:37). None: not given."""
    if made_at is None:
        return None
    return conn.execute(
        text("""SELECT greatest(least(CAST(:made AS timestamptz), now()),
                                (SELECT max(coalesce(made_at, at)) FROM task_events WHERE task_id = :id))"""),
        {"made": made_at, "id": task_id},
    ).scalar_one()


def replay_task(conn: Connection, task_id: int) -> str:
    """The state derived from the task's transition events, oldest first."""
    events = conn.execute(
        text("""SELECT from_state, to_state FROM task_events
                                  WHERE task_id = :id AND event = 'transition' ORDER BY id"""),
        {"id": task_id},
    ).all()
    return TASK_LIFECYCLE.replay([tuple(e) for e in events])

"""Task reads: filtered lists with overdue days, one task with its history, assignee suggestions, inboxes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from gis.scoping import AreaScope
from gis.task_store import local_today
from models.access import Principal
from models.task_lifecycle import TASK_KINDS_VI, TASK_LABELS_VI, TASK_LIFECYCLE, WORK_DONE_STATES, overdue_days

#: States in which a task still weighs on its team's workload.
OPEN_STATES = ("assigned", "in_progress", "paused", "returned")

_SELECT = """
    SELECT t.id, t.kind, t.hotspot_id, t.commune_code, u.name AS commune_name, t.year, t.state, t.team_id,
           tm.name AS team, t.due_date, t.priority, t.checklist, t.version, t.created_by, t.created_at,
           t.state_changed_at
    FROM tasks t
    LEFT JOIN teams tm ON tm.id = t.team_id
    LEFT JOIN admin_units u ON u.code = t.commune_code AND u.valid_to IS NULL
"""
_EVENT_COLUMNS = "e.id, e.task_id, e.at, e.actor, e.event, e.from_state, e.to_state, e.note, e.details"


@dataclass(frozen=True)
class TaskFilter:
    """Filters of the task list: state, kind, assignee team, overdue as of a date."""

    state: str | None = None
    kind: str | None = None
    team_id: int | None = None
    overdue: bool | None = None

    def where(self, as_of: date) -> tuple[str, dict[str, Any]]:
        """SQL condition on alias ``t`` and its parameters."""
        clauses, params = ["true"], {}
        for column in ("state", "kind", "team_id"):
            if getattr(self, column) is not None:
                clauses.append(f"t.{column} = :f_{column}")
                params[f"f_{column}"] = getattr(self, column)
        if self.overdue is not None:
            late = "(t.due_date < :as_of AND t.state <> ALL(:done))"
            clauses.append(late if self.overdue else f"NOT coalesce({late}, false)")
            params.update(as_of=as_of, done=sorted(WORK_DONE_STATES))
        return " AND ".join(clauses), params


def task_payload(row: dict[str, Any], as_of: date) -> dict[str, Any]:
    """A task row with labels, the states it may move to and its overdue days."""
    return {**row, "kind_label": TASK_KINDS_VI[row["kind"]], "state_label": TASK_LABELS_VI[row["state"]],
            "allowed": list(TASK_LIFECYCLE.allowed(row["state"])),
            "overdue_days": overdue_days(row["state"], row["due_date"], as_of)}


def list_tasks(conn: Connection, scope: AreaScope, flt: TaskFilter, limit: int, offset: int) -> dict[str, Any]:
    """A page of visible tasks (most urgent due date first) and the total matched."""
    as_of = local_today(conn)
    where, params = flt.where(as_of)
    params.update(scope.params)
    condition = f"{where} AND {scope.tasks('t')}"
    total = conn.execute(text(f"SELECT count(*) FROM tasks t WHERE {condition}"), params).scalar_one()
    rows = conn.execute(text(f"{_SELECT} WHERE {condition} ORDER BY t.due_date NULLS LAST, t.id "
                             "LIMIT :limit OFFSET :offset"), {**params, "limit": limit, "offset": offset}).mappings()
    return {"tasks": [task_payload(dict(r), as_of) for r in rows], "numberMatched": total}


def get_task(conn: Connection, task_id: int, scope: AreaScope) -> dict[str, Any] | None:
    """One visible task with its events, oldest first; None when missing or out of scope."""
    row = conn.execute(text(f"{_SELECT} WHERE t.id = :id AND {scope.tasks('t')}"),
                       {**scope.params, "id": task_id}).mappings().first()
    if row is None:
        return None
    events = conn.execute(text(f"SELECT {_EVENT_COLUMNS} FROM task_events e WHERE e.task_id = :id ORDER BY e.id"),
                          {"id": task_id}).mappings()
    return {**task_payload(dict(row), local_today(conn)), "events": [dict(e) for e in events]}


def suggest_assignees(conn: Connection, commune_code: str) -> list[dict[str, Any]]:
    """Teams whose current area covers the commune, least open tasks first."""
    return [dict(r) for r in conn.execute(text("""
        SELECT tm.id AS team_id, tm.name, count(t.id) AS open_tasks
        FROM teams tm
        JOIN team_areas ta ON ta.team_id = tm.id AND ta.commune_code = :c AND ta.valid_from <= current_date
                          AND (ta.valid_to IS NULL OR ta.valid_to > current_date)
        LEFT JOIN tasks t ON t.team_id = tm.id AND t.state = ANY(:open)
        GROUP BY tm.id, tm.name ORDER BY count(t.id), tm.name"""), {"c": commune_code, "open": list(OPEN_STATES)}
    ).mappings()]


def inbox(conn: Connection, user: Principal, limit: int) -> list[dict[str, Any]]:
    """Events that need the user's attention, newest first.

    A team hears of tasks assigned or returned to it, cancelled, and comments from outside the team;
    command hears of work completed or declined and of comments from teams.
    """
    if user.role == "team":
        concern = """e.team_id = :team AND e.actor_team_id IS DISTINCT FROM :team
                     AND (e.event IN ('comment', 'reassigned') OR e.to_state IN ('assigned', 'returned', 'canceled'))"""
    else:
        concern = "e.actor_team_id IS NOT NULL AND (e.event = 'comment' OR e.to_state IN ('completed', 'declined'))"
    rows = conn.execute(text(f"""
        SELECT {_EVENT_COLUMNS}, t.kind, t.commune_code, t.state AS task_state
        FROM task_events e JOIN tasks t ON t.id = e.task_id
        WHERE {concern} ORDER BY e.id DESC LIMIT :limit"""), {"team": user.team_id, "limit": limit}).mappings()
    return [dict(r) for r in rows]

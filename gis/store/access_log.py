"""The access log: one append-only line per read of detailed data (api.audit) and per export (user, route, parameters,
rows returned, time, address), queried by `diaban audit`, kept DIABAN_ACCESS_LOG_DAYS days.

The application's role may only add and read lines (migration 0010, gis.store.privileges); deleting lines
past their retention is the owner's (`diaban audit --prune`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from models.text import one_line
from models.vocabulary import COMMAND_OPTION_LABELS, QUERY_FIELD_LABELS, AccessedData, Role, param_value_label

#: Role recorded for reads made from the command line (the username is the operating-system user's), and its name.
COMMAND_LINE = "cli"
COMMAND_LINE_LABEL = "Dòng lệnh trên máy chủ"

#: What each recorded route (``METHOD /template``, api.audit) and command reads, as the administrator's page names it
#: (tests/api/test_access_sweep.py fails on a recorded route missing here).
ACCESSED_BY_ROUTE: dict[str, AccessedData] = {
    "GET /api/incidents": AccessedData.INCIDENTS,
    "GET /tiles/incidents/{z}/{x}/{y}.mvt": AccessedData.INCIDENT_TILES,
    "GET /api/heat": AccessedData.FINE_CELLS,
    "GET /api/gistar": AccessedData.FINE_CELLS,
    "GET /api/hotspots": AccessedData.HOTSPOT_REGISTER,
    "GET /api/hotspots/{hotspot_id}": AccessedData.HOTSPOT,
    "diaban hotspots export": AccessedData.HOTSPOT_EXPORT,
    "GET /api/hotspots/reported": AccessedData.TEAM_REPORTS,
    "GET /api/inbox": AccessedData.INBOX,
    "GET /api/tasks/{task_id}": AccessedData.TASK,
    "PATCH /api/tasks/{task_id}": AccessedData.TASK_CHANGE,
    "POST /api/tasks/{task_id}/checklist": AccessedData.TASK_CHANGE,
    "POST /api/tasks/{task_id}/assignment": AccessedData.TASK_CHANGE,
    "GET /api/tasks/{task_id}/photos/{photo_id}": AccessedData.TASK_PHOTO,
    "GET /api/tasks/{task_id}/photos/{photo_id}/preview": AccessedData.TASK_PHOTO,
    "GET /api/classifications/{year}/export": AccessedData.CLASSIFICATION_EXPORT,
    "diaban classify export": AccessedData.CLASSIFICATION_EXPORT,
    "GET /api/reports/kpi.xlsx": AccessedData.KPI_EXPORT,
    "diaban classify kpi --xlsx": AccessedData.KPI_EXPORT,
    "GET /api/reports/period.xlsx": AccessedData.PERIOD_EXPORT,
    "GET /api/audit": AccessedData.ADMIN_AUDIT,
    "GET /api/audit.xlsx": AccessedData.ADMIN_AUDIT_EXPORT,
    "GET /api/access-log": AccessedData.ACCESS_LOG,
    "diaban audit": AccessedData.ACCESS_LOG,
    "GET /api/access-log.xlsx": AccessedData.ACCESS_LOG_EXPORT,
    "diaban db backup": AccessedData.BACKUP,
}


def routes_of(what: AccessedData) -> list[str]:
    """The routes and commands whose lines record a read of ``what``."""
    return sorted(route for route, accessed in ACCESSED_BY_ROUTE.items() if accessed == what)


def with_what(line: dict[str, Any]) -> dict[str, Any]:
    """A line as the administrator reads it: what it read (``what``, None for a route not named here) and its
    Vietnamese name (``what_label``: the route itself when unnamed, e.g. a line of an older version), the reader's
    role by name (``role_label``) and the parameters on one line by their Vietnamese names, the codes among their
    values by their labels (``params_text``: «xã, phường=10507; loại=Tin báo, tố giác»; the page showed «task_id=7»,
    then «loại=tip»; a command's options by COMMAND_OPTION_LABELS: «in dạng JSON=có», not «json=True»). The page and
    the Excel export both read it; what a client sent in its query is shown as it sent it, its control characters and
    bidirectional marks as escapes (:func:`~models.text.one_line`): a team member's ``?x=%01`` made the administrator's
    Excel export fail, a right-to-left mark turned the page's line around."""
    what = ACCESSED_BY_ROUTE.get(line["route"])
    labels = COMMAND_OPTION_LABELS if line["role"] == COMMAND_LINE else QUERY_FIELD_LABELS
    shown = "; ".join(
        f"{labels.get(key, key)}="
        + ", ".join(param_value_label(key, v) for v in (value if isinstance(value, list) else [value]))
        for key, value in (line["params"] or {}).items()
    )
    role = Role.labels().get(line["role"], COMMAND_LINE_LABEL if line["role"] == COMMAND_LINE else line["role"] or "")
    return {
        **line,
        "what": what,
        "what_label": what.label if what else line["route"],
        "role_label": role,
        "params_text": one_line(shown),
    }


@dataclass(frozen=True)
class AccessLine:
    """One line of the access log but its number of rows, which the read it records finds out."""

    username: str
    role: str | None
    route: str
    params: dict[str, Any]
    address: str | None = None

    def bound(self) -> dict[str, Any]:
        """The line's values as the bound parameters of :data:`APPEND` and :func:`append_line`."""
        return {
            "log_u": self.username,
            "log_r": self.role,
            "log_route": self.route,
            "log_p": json.dumps(self.params, ensure_ascii=False, default=str),
            "log_a": self.address,
        }


_COLUMNS = "INSERT INTO access_log (username, role, route, params, rows, address)"
_VALUES = ":log_u, :log_r, :log_route, CAST(:log_p AS jsonb)"


def append_line(rows: str, source: str) -> str:
    """An INSERT of one line (values from :meth:`AccessLine.bound`) whose rows are the expression ``rows`` over the
    one-row relation ``source``: a read writes its line in its own statement, as a data-modifying WITH."""
    return f"{_COLUMNS} SELECT {_VALUES}, {rows}, :log_a FROM {source}"


def record_access(
    conn: Connection,
    *,
    username: str,
    role: str | None,
    route: str,
    params: dict[str, Any],
    rows: int | None,
    address: str | None = None,
) -> None:
    """Add one line (in the caller's transaction: a read that fails leaves no line)."""
    record_line(conn, AccessLine(username, role, route, params, address), rows)


def record_line(conn: Connection, line: AccessLine, rows: int | None) -> None:
    """Add one line (in the caller's transaction, if any)."""
    conn.execute(text(f"{_COLUMNS} VALUES ({_VALUES}, :log_n, :log_a)"), {**line.bound(), "log_n": rows})


def access_lines(
    conn: Connection,
    *,
    username: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    route: str | None = None,
    what: AccessedData | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Lines, newest first, filtered by user, time window [since, until), a route substring and what was read
    (``what``: the lines of its routes, :data:`ACCESSED_BY_ROUTE`)."""
    return [
        dict(r)
        for r in conn.execute(
            text("""
            SELECT id, at, username, role, route, params, rows, address FROM access_log
            WHERE (CAST(:u AS text) IS NULL OR username = :u)
              AND (CAST(:since AS timestamptz) IS NULL OR at >= :since)
              AND (CAST(:until AS timestamptz) IS NULL OR at < :until)
              AND (CAST(:route AS text) IS NULL OR strpos(route, :route) > 0)
              AND (CAST(:routes AS text[]) IS NULL OR route = ANY(:routes))
            ORDER BY at DESC, id DESC LIMIT :limit"""),
            {
                "u": username,
                "since": since,
                "until": until,
                "route": route,
                "routes": routes_of(what) if what else None,
                "limit": limit,
            },
        ).mappings()
    ]


def prune_access_log(conn: Connection, keep_days: int) -> int:
    """Delete the lines older than ``keep_days`` (as the owner: the application's role cannot); the number deleted."""
    return len(
        conn.execute(
            text("DELETE FROM access_log WHERE at < now() - make_interval(days => :d) RETURNING id"), {"d": keep_days}
        ).all()
    )

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

#: Role recorded for reads made from the command line (the username is the operating-system user's).
COMMAND_LINE = "cli"


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
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Lines, newest first, filtered by user, time window [since, until) and a route substring."""
    return [
        dict(r)
        for r in conn.execute(
            text("""
            SELECT id, at, username, role, route, params, rows, address FROM access_log
            WHERE (CAST(:u AS text) IS NULL OR username = :u)
              AND (CAST(:since AS timestamptz) IS NULL OR at >= :since)
              AND (CAST(:until AS timestamptz) IS NULL OR at < :until)
              AND (CAST(:route AS text) IS NULL OR strpos(route, :route) > 0)
            ORDER BY at DESC, id DESC LIMIT :limit"""),
            {"u": username, "since": since, "until": until, "route": route, "limit": limit},
        ).mappings()
    ]


def prune_access_log(conn: Connection, keep_days: int) -> int:
    """Delete the lines older than ``keep_days`` (as the owner: the application's role cannot); the number deleted."""
    return len(
        conn.execute(
            text("DELETE FROM access_log WHERE at < now() - make_interval(days => :d) RETURNING id"), {"d": keep_days}
        ).all()
    )

"""The access log: one append-only line per read of incident-level data and per export (user, route, parameters,
rows returned, time, address), queried by `diaban audit`, kept DIABAN_ACCESS_LOG_DAYS days.

The application's role may only add and read lines (migration 0005, gis.store.privileges); deleting lines
past their retention is the owner's (`diaban audit --prune`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

#: Role recorded for reads made from the command line (the username is the operating-system user's).
COMMAND_LINE = "cli"


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
    conn.execute(
        text("""INSERT INTO access_log (username, role, route, params, rows, address)
                VALUES (:u, :r, :route, CAST(:p AS jsonb), :n, :a)"""),
        {
            "u": username,
            "r": role,
            "route": route,
            "p": json.dumps(params, ensure_ascii=False, default=str),
            "n": rows,
            "a": address,
        },
    )


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

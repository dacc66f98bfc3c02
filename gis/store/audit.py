"""The admin audit in PostGIS: one append-only row per administrator action, user's change of their own password and
restore of a backup (a trigger refuses edits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, text

from gis.store.tables import AdminAudit


def record_admin_action(
    conn: Connection,
    actor: str,
    action: str,
    *,
    user_id: int | None = None,
    team_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append what ``actor`` did (an administrator; a user to their own password; the operator restoring a backup), to
    which user or team (with their names now), with its details (never a password or its hash)."""
    names = conn.execute(
        text("SELECT (SELECT username FROM users WHERE id = :u), (SELECT name FROM teams WHERE id = :t)"),
        {"u": user_id, "t": team_id},
    ).one()
    return conn.execute(
        insert(AdminAudit)
        .values(
            actor=actor,
            action=action,
            target_user_id=user_id,
            target_user=names[0],
            target_team_id=team_id,
            target_team=names[1],
            details=details or {},
        )
        .returning(AdminAudit.id)
    ).scalar_one()


def admin_audit(
    conn: Connection, limit: int, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """The newest entries first, made in [since, until) when given, with the names the user and team concerned had
    then."""
    rows = conn.execute(
        text("""
        SELECT id, at, actor, action, target_user_id, target_user, target_team_id, target_team, details
        FROM admin_audit
        WHERE (CAST(:since AS timestamptz) IS NULL OR at >= :since)
          AND (CAST(:until AS timestamptz) IS NULL OR at < :until)
        ORDER BY id DESC LIMIT :limit"""),
        {"limit": limit, "since": since, "until": until},
    ).mappings()
    return [dict(r) for r in rows]

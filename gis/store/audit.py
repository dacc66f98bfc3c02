"""The admin audit in PostGIS: one append-only row per administrator action, user's change of their own password and
restore of a backup (a trigger refuses edits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, text

from gis.store.tables import AdminAudit
from models.domain.access import RECENT_RESET_DAYS
from models.vocabulary import AdminAction


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


def recent_reset(conn: Connection, username: str, at: datetime | None = None) -> tuple[str | None, datetime | None]:
    """Who reset ``username``'s password and when, the newest reset in the :data:`RECENT_RESET_DAYS` up to ``at``
    (default now); (None, None) when there is none. Whoever held that reset's one-time password may have made the
    forced change and acted as the user: an approval and the own change's audit line say so."""
    row = conn.execute(
        text("""
        SELECT a.actor, a.at FROM admin_audit a JOIN users u ON u.id = a.target_user_id
        WHERE a.action = :action AND u.username = :username
          AND a.at <= COALESCE(CAST(:at AS timestamptz), now())
          AND a.at > COALESCE(CAST(:at AS timestamptz), now()) - make_interval(days => :days)
        ORDER BY a.at DESC, a.id DESC LIMIT 1"""),
        {"action": AdminAction.RESET_PASSWORD.value, "username": username, "at": at, "days": RECENT_RESET_DAYS},
    ).one_or_none()
    return (row.actor, row.at) if row else (None, None)

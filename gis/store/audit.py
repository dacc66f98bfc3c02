"""The admin audit in PostGIS: one append-only row per administrator action, user's change of their own password and
restore of a backup (a trigger refuses edits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

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
    then, and whether the actor is an account of the app (``actor_account``; else the operating-system user who ran
    a command on the server, or the demo's seeding)."""
    rows = conn.execute(
        text("""
        SELECT id, at, actor, action, target_user_id, target_user, target_team_id, target_team, details,
               EXISTS (SELECT 1 FROM users u WHERE u.username = admin_audit.actor) AS actor_account
        FROM admin_audit
        WHERE (CAST(:since AS timestamptz) IS NULL OR at >= :since)
          AND (CAST(:until AS timestamptz) IS NULL OR at < :until)
        ORDER BY id DESC LIMIT :limit"""),
        {"limit": limit, "since": since, "until": until},
    ).mappings()
    return [dict(r) for r in rows]


class GivenPassword(NamedTuple):
    """Who gave a user the password they hold, when, and whether it came with the account (else by a reset)."""

    by: str | None
    at: datetime | None
    on_creation: bool = False


def recent_reset(conn: Connection, username: str, at: datetime | None = None) -> GivenPassword:
    """Who gave ``username`` a password and when, the newest such act in the :data:`RECENT_RESET_DAYS` up to ``at``
    (default now): a reset, or the account's creation with a password its user had to change (a creation without one,
    an operator's own account or the demo's, is not one: its details say ``given`` false; one audited before creations
    said so gave one if its user then changed a given password); (None, None) when there is none. Whoever
    held that one-time password may have made the forced change and acted as the user: an approval and the own
    change's audit line say so. Only resets were looked for, so an administrator who created a planner account, made
    its forced change and approved a colleague's draft left an approval marked by nothing."""
    return recent_resets(conn, [(username, at)])[0]


def recent_resets(conn: Connection, asked: Sequence[tuple[str | None, datetime | None]]) -> list[GivenPassword]:
    """:func:`recent_reset` of each (username, at) of ``asked``, in its order, in one statement (a year's review or
    history asks it of each override: one statement each before); nobody named (None) has (None, None), and when
    nobody is, no statement runs (a review without overrides)."""
    if not any(username for username, _ in asked):
        return [GivenPassword(None, None)] * len(asked)
    rows = conn.execute(
        text("""
        SELECT g.actor, g.at, g.on_creation
        FROM unnest(CAST(:names AS text[]), CAST(:ats AS timestamptz[])) WITH ORDINALITY AS q(username, at, i)
        LEFT JOIN LATERAL (
            SELECT a.actor, a.at, a.action = :created AS on_creation
            FROM admin_audit a JOIN users u ON u.id = a.target_user_id
            WHERE u.username = q.username
              AND (a.action = :reset OR (a.action = :created AND COALESCE(CAST(a.details ->> 'given' AS boolean), EXISTS (
                  SELECT 1 FROM admin_audit c WHERE c.action = :own_change AND c.target_user_id = a.target_user_id
                    AND c.at >= a.at AND CAST(c.details ->> 'given' AS boolean)))))
              AND a.at <= COALESCE(q.at, now())
              AND a.at > COALESCE(q.at, now()) - make_interval(days => :days)
            ORDER BY a.at DESC, a.id DESC LIMIT 1
        ) g ON true
        ORDER BY q.i"""),
        {
            "reset": AdminAction.RESET_PASSWORD.value,
            "created": AdminAction.CREATE_USER.value,
            "own_change": AdminAction.CHANGE_OWN_PASSWORD.value,
            "names": [username for username, _ in asked],
            "ats": [at for _, at in asked],
            "days": RECENT_RESET_DAYS,
        },
    ).all()
    return [
        GivenPassword(row.actor, row.at, bool(row.on_creation)) if row.actor else GivenPassword(None, None)
        for row in rows
    ]

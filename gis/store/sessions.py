"""Server-side login sessions: a token names one, every request checks it is still open.

A session ends when it expires, at logout, when an administrator revokes the user's sessions, and —
by a trigger on ``users`` (migrations 0010 and 0020), whatever made the change — when the user is
deactivated, their password changes or they get another role. Every end, and every change of what a server
remembers of a user, is announced on :data:`SESSIONS_CHANNEL` when it commits (migration 0026,
gis.store.session_notices).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, text

from models.domain.access import Principal
from models.vocabulary import SessionEnd

#: The channel on which the triggers of migration 0026 send the id of a user whose session ended or who changed.
SESSIONS_CHANNEL = "diaban_sessions"
#: Random bytes of a session id (its text form is 32 characters).
_ID_BYTES = 24


def open_session(conn: Connection, user_id: int, minutes: int, address: str | None = None) -> str:
    """A new session of ``user_id`` lasting ``minutes``; its id goes into the token."""
    session_id = secrets.token_urlsafe(_ID_BYTES)
    conn.execute(
        text("""INSERT INTO sessions (id, user_id, expires_at, address)
                VALUES (:id, :u, now() + make_interval(mins => :m), :a)"""),
        {"id": session_id, "u": user_id, "m": minutes, "a": address},
    )
    return session_id


class OpenSession(NamedTuple):
    """An open session's user and how long the session has left (seconds, by the database's clock)."""

    principal: Principal
    seconds_left: float


def session_principal(conn: Connection, session_id: str, user_id: int) -> OpenSession | None:
    """The active user of an open, unexpired session (which must be ``user_id``'s) and the seconds until it expires,
    else None: a process that remembers the session trusts it no longer than that."""
    row = conn.execute(
        text("""SELECT u.id, u.username, u.role, u.team_id, u.province_code, u.must_change_password,
                       extract(epoch FROM s.expires_at - clock_timestamp())
                FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.id = :s AND s.user_id = :u AND s.revoked_at IS NULL AND s.expires_at > now() AND u.active"""),
        {"s": session_id, "u": user_id},
    ).first()
    if row is None:
        return None
    *user, seconds_left = row
    return OpenSession(Principal(*user), float(seconds_left))


def previous_login(conn: Connection, user_id: int) -> datetime | None:
    """When the user's session before the newest began (None: this is their first), for a page to tell what is new
    since: a team's phone visited for the first time marked every old notice «mới»."""
    return conn.execute(
        text("SELECT created_at FROM sessions WHERE user_id = :u ORDER BY created_at DESC OFFSET 1 LIMIT 1"),
        {"u": user_id},
    ).scalar()


def revoke_session(conn: Connection, session_id: str, reason: SessionEnd) -> None:
    """End one session (logout)."""
    conn.execute(
        text("UPDATE sessions SET revoked_at = now(), revoked_reason = :r WHERE id = :s AND revoked_at IS NULL"),
        {"s": session_id, "r": reason},
    )


def revoke_user_sessions(conn: Connection, user_id: int, reason: SessionEnd) -> int:
    """End every open session of a user; the number ended."""
    return len(
        conn.execute(
            text("""UPDATE sessions SET revoked_at = now(), revoked_reason = :r
                    WHERE user_id = :u AND revoked_at IS NULL RETURNING id"""),
            {"u": user_id, "r": reason},
        ).all()
    )


def prune_sessions(conn: Connection, keep_days: int) -> int:
    """Delete sessions that ended (expired or revoked) more than ``keep_days`` ago; the number deleted."""
    return len(
        conn.execute(
            text("""DELETE FROM sessions WHERE least(expires_at, coalesce(revoked_at, expires_at))
                    < now() - make_interval(days => :d) RETURNING id"""),
            {"d": keep_days},
        ).all()
    )

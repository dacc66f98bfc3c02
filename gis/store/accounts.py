"""Users, teams and areas of responsibility in PostGIS (failed logins: gis.store.logins)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from gis.store.communes import unknown_communes
from gis.store.sql import LOCAL_TODAY, valid_on
from models.domain.access import Principal, check_username
from models.errors import AlreadyExists, InvalidRequest, NotFound

FOREIGN_KEY_VIOLATION = "23503"


def create_team(conn: Connection, name: str, communes: list[str], valid_from: date | None = None) -> int:
    """New team responsible for ``communes`` from ``valid_from`` (default today)."""
    missing = unknown_communes(conn, communes)
    if missing:
        raise NotFound(f"không có xã/phường/đặc khu hiện hành mã: {', '.join(missing)}")
    try:
        with conn.begin_nested():
            team_id = conn.execute(
                text("INSERT INTO teams (name, version) VALUES (:n, 1) RETURNING id"), {"n": name}
            ).scalar_one()
    except IntegrityError:
        raise AlreadyExists(f"tổ công tác '{name}' đã tồn tại") from None
    conn.execute(
        text(f"""INSERT INTO team_areas (team_id, commune_code, valid_from)
                          SELECT :t, c, coalesce(:f, {LOCAL_TODAY}) FROM unnest(CAST(:codes AS text[])) c"""),
        {"t": team_id, "codes": sorted(set(communes)), "f": valid_from},
    )
    return team_id


def team_id_by_name(conn: Connection, name: str) -> int:
    """Id of the team called ``name``."""
    team_id = conn.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": name}).scalar()
    if team_id is None:
        raise NotFound(f"không có tổ công tác '{name}'")
    return team_id


def list_teams(conn: Connection) -> list[dict[str, Any]]:
    """Teams with their current communes and member count."""
    return [
        dict(r)
        for r in conn.execute(
            text(f"""
        SELECT t.id, t.name, t.version,
               coalesce((SELECT array_agg(ta.commune_code ORDER BY ta.commune_code) FROM team_areas ta
                         WHERE ta.team_id = t.id AND {valid_on("ta")}), '{{}}') AS communes,
               (SELECT count(*) FROM users u WHERE u.team_id = t.id) AS members
        FROM teams t ORDER BY t.name""")
        ).mappings()
    ]


def create_user(conn: Connection, username: str, password_hash: str, role: str, team_id: int | None) -> int:
    """New active user with a login name (no spaces or diacritics); a team user must belong to a team, other roles to
    none."""
    check_username(username)
    if (role == "team") != (team_id is not None):
        raise InvalidRequest(
            "người dùng vai trò «Tổ công tác» phải thuộc một tổ; vai trò khác thì không",
            "a team user needs a team, other roles none",
        )
    try:
        with conn.begin_nested():
            return conn.execute(
                text("""INSERT INTO users (username, password_hash, role, team_id, active,
                                                           failed_logins, version)
                                        VALUES (:u, :h, :r, :t, true, 0, 1) RETURNING id"""),
                {"u": username, "h": password_hash, "r": role, "t": team_id},
            ).scalar_one()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION:
            raise NotFound(f"không có tổ công tác #{team_id}") from None
        raise AlreadyExists(f"người dùng '{username}' đã tồn tại") from None


_USERS = """
SELECT u.id, u.username, u.role, u.team_id, t.name AS team, u.active,
       u.locked_until IS NOT NULL AND u.locked_until > now() AS locked
FROM users u LEFT JOIN teams t ON t.id = u.team_id"""


def list_users(conn: Connection) -> list[dict[str, Any]]:
    """Users with role, team and lock state (never the hash)."""
    return [dict(r) for r in conn.execute(text(_USERS + " ORDER BY u.username")).mappings()]


def get_user(conn: Connection, user_id: int) -> dict[str, Any]:
    """One user as :func:`list_users` shows it; NotFound otherwise."""
    row = conn.execute(text(_USERS + " WHERE u.id = :id"), {"id": user_id}).mappings().first()
    if row is None:
        raise NotFound(f"không có người dùng #{user_id}", f"no user {user_id}")
    return dict(row)


def user_id_by_name(conn: Connection, username: str) -> int:
    """Id of the user called ``username`` (active or not); NotFound otherwise."""
    user_id = conn.execute(text("SELECT id FROM users WHERE username = :u"), {"u": username}).scalar()
    if user_id is None:
        raise NotFound(f"không có người dùng '{username}'", f"no user {username!r}")
    return user_id


def principal_by_username(conn: Connection, username: str) -> Principal:
    """The active user with this name as a Principal; NotFound otherwise."""
    row = (
        conn.execute(
            text("SELECT id, username, role, team_id FROM users WHERE username = :u AND active"), {"u": username}
        )
        .mappings()
        .first()
    )
    principal = Principal(**row) if row else None
    if principal is None:
        raise NotFound(f"không có người dùng đang hoạt động tên '{username}' (no active user {username!r})")
    return principal


def set_password(conn: Connection, user_id: int, password_hash: str) -> None:
    """Store a new password hash (a trigger ends every session of the user); NotFound if there is no such user."""
    if (
        conn.execute(
            text("UPDATE users SET password_hash = :h, version = version + 1 WHERE id = :id RETURNING id"),
            {"id": user_id, "h": password_hash},
        ).first()
        is None
    ):
        raise NotFound(f"không có người dùng #{user_id}", f"no user {user_id}")


def set_active(conn: Connection, user_id: int, active: bool) -> None:
    """(De)activate a user; deactivation ends every session of the user (a trigger); NotFound if there is none."""
    if (
        conn.execute(
            text("UPDATE users SET active = :a, version = version + 1 WHERE id = :id RETURNING id"),
            {"id": user_id, "a": active},
        ).first()
        is None
    ):
        raise NotFound(f"không có người dùng #{user_id}", f"no user {user_id}")

"""Administration use cases (API and CLI): users, teams and areas, each change audited in the same transaction.

Passwords arrive hashed (api.security hashes them); the audit records what was done, never a password.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from gis.store import accounts
from gis.store.audit import record_admin_action
from gis.store.sessions import revoke_user_sessions
from gis.store.tasks import open_tasks_held, team_left
from models.errors import InvalidRequest
from models.vocabulary import AdminAction, Role, SessionEnd


def create_user(
    conn: Connection,
    actor: str,
    username: str,
    password_hash: str,
    role: str,
    team_id: int | None,
    province_code: str | None = None,
    *,
    must_change_password: bool = True,
) -> int:
    """A new active user (a command or planner user possibly limited to a province), audited. Its password, given by
    the administrator, must be changed at the first login unless ``must_change_password`` is False (an operator's
    own account made on the server)."""
    user_id = accounts.create_user(
        conn, username, password_hash, role, team_id, province_code, must_change_password=must_change_password
    )
    details = {"role": role, **({"province_code": province_code} if province_code else {})}
    record_admin_action(conn, actor, AdminAction.CREATE_USER, user_id=user_id, team_id=team_id, details=details)
    return user_id


def set_user_province(
    conn: Connection, actor: str, user_id: int, province_code: str | None, version: int
) -> dict[str, Any]:
    """Limit a command or planner user read at ``version`` to a province, or (None) give them the whole country;
    audited with the province before and after. The caller forgets the user's remembered sessions."""
    before = accounts.get_user(conn, user_id)["province_code"]
    accounts.set_user_province(conn, user_id, province_code, version)
    details = {"before": before, "after": province_code}
    record_admin_action(conn, actor, AdminAction.SET_USER_PROVINCE, user_id=user_id, details=details)
    return accounts.get_user(conn, user_id)


def set_user_active(
    conn: Connection, actor: str, user_id: int, active: bool, version: int, *, actor_id: int | None = None
) -> dict[str, Any]:
    """Deactivate (or reactivate) a user read at ``version``, audited; an administrator (``actor_id``) cannot
    deactivate their own account, nor anyone (the command line included) the last active administrator: nobody could
    then manage users. Deactivation ends the user's sessions (a trigger on users)."""
    if user_id == actor_id and not active:
        raise InvalidRequest(
            "không thể tự ngừng kích hoạt tài khoản của chính mình", "an administrator cannot deactivate themselves"
        )
    if not active and accounts.is_last_active_admin(conn, user_id):
        raise InvalidRequest(
            "không thể ngừng kích hoạt quản trị viên cuối cùng còn hoạt động: hãy tạo hoặc kích hoạt lại một quản trị"
            " viên khác trước",
            "the last active administrator cannot be deactivated",
        )
    accounts.set_user_active(conn, user_id, active, version)
    action = AdminAction.ACTIVATE_USER if active else AdminAction.DEACTIVATE_USER
    record_admin_action(conn, actor, action, user_id=user_id)
    return accounts.get_user(conn, user_id)


def move_user(conn: Connection, actor: str, user_id: int, team_id: int, version: int) -> dict[str, Any]:
    """Move a team user read at ``version`` to another team (an officer transferred): the same account, so their
    history stays theirs; audited with the team before and after. Their sessions go on (same role, the next request
    reads the new team's area; the caller forgets the remembered sessions). Tasks belong to teams, not to people: the
    former team keeps its open tasks, and ``former_team`` says how many and how many active members it has left."""
    left = team_left(conn, accounts.set_user_team(conn, user_id, team_id, version))
    after = accounts.get_user(conn, user_id)
    details = {"before": left["name"], "after": after["team"]}
    record_admin_action(conn, actor, AdminAction.MOVE_USER, user_id=user_id, team_id=team_id, details=details)
    return {**after, "former_team": left}


def change_user_role(
    conn: Connection,
    actor: str,
    user_id: int,
    role: str,
    team_id: int | None,
    province_code: str | None,
    version: int,
    *,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """Give a user read at ``version`` another role with its scope (a team leader promoted to command), audited with
    the role, team and province before and after. Their rights change, so their sessions end (a trigger on users;
    the caller forgets the remembered ones). An administrator (``actor_id``) cannot change their own role (nobody
    would have checked the rights they give themselves), nor anyone (the command line included) take the role from the
    last active administrator. ``former_team`` as for :func:`move_user` when the user leaves a team."""
    if user_id == actor_id:
        raise InvalidRequest("không thể tự đổi vai trò của chính mình", "an administrator cannot change their own role")
    before = accounts.get_user(conn, user_id)
    if before["role"] == Role.ADMIN and role != Role.ADMIN and accounts.is_last_active_admin(conn, user_id):
        raise InvalidRequest(
            "không thể đổi vai trò của quản trị viên cuối cùng còn hoạt động: hãy tạo hoặc kích hoạt lại một quản trị"
            " viên khác trước",
            "the last active administrator keeps the role",
        )
    accounts.set_user_role(conn, user_id, role, team_id, province_code, version)
    after = accounts.get_user(conn, user_id)
    details = {key: {"before": before[key], "after": after[key]} for key in ("role", "team", "province_code")}
    record_admin_action(conn, actor, AdminAction.CHANGE_USER_ROLE, user_id=user_id, team_id=team_id, details=details)
    left = team_left(conn, before["team_id"]) if before["team_id"] is not None else None
    return {**after, "former_team": left}


def reset_password(
    conn: Connection, actor: str, user_id: int, password_hash: str, *, must_change_password: bool = True
) -> dict[str, Any]:
    """Give a user a new password (shown once to the administrator by the caller), lifting any lock-out; audited. The
    user must change it at the next login (the administrator knows it) unless ``must_change_password`` is False."""
    accounts.set_password(conn, user_id, password_hash, must_change=must_change_password)
    record_admin_action(conn, actor, AdminAction.RESET_PASSWORD, user_id=user_id)
    return accounts.get_user(conn, user_id)


def unlock_user(conn: Connection, actor: str, user_id: int) -> dict[str, Any]:
    """Lift a lock-out after failed logins, audited (with whether the user was locked)."""
    was_locked = accounts.unlock_user(conn, user_id)
    record_admin_action(conn, actor, AdminAction.UNLOCK_USER, user_id=user_id, details={"was_locked": was_locked})
    return accounts.get_user(conn, user_id)


def revoke_sessions(conn: Connection, actor: str, user_id: int) -> int:
    """End every open session of a user (a lost phone, a leaked token), audited with how many ended; the number."""
    accounts.get_user(conn, user_id)  # NotFound for an unknown user
    revoked = revoke_user_sessions(conn, user_id, SessionEnd.REVOKED)
    record_admin_action(conn, actor, AdminAction.REVOKE_SESSIONS, user_id=user_id, details={"revoked": revoked})
    return revoked


def create_team(conn: Connection, actor: str, name: str, communes: list[str], valid_from: date | None = None) -> int:
    """A new team responsible for ``communes`` from ``valid_from`` (default today), audited."""
    team_id = accounts.create_team(conn, name, communes, valid_from)
    details = {"communes": sorted(set(communes)), "valid_from": valid_from.isoformat() if valid_from else None}
    record_admin_action(conn, actor, AdminAction.CREATE_TEAM, team_id=team_id, details=details)
    return team_id


def change_team_area(
    conn: Connection, actor: str, team_id: int, communes: list[str], valid_from: date
) -> dict[str, Any]:
    """Make ``communes`` the team's area from ``valid_from``, keeping the history; audited with what changed.
    ``open_tasks_kept``: the team's open tasks in the communes it no longer holds, which stay its own (the administrator
    is told, so that command gives them to the commune's new team if it should)."""
    accounts.team_exists(conn, team_id)
    change = accounts.set_team_area(conn, team_id, communes, valid_from)
    change["open_tasks_kept"] = open_tasks_held(conn, team_id, change["removed"])
    details = {
        "valid_from": valid_from.isoformat(),
        "added": change["added"],
        "removed": change["removed"],
        "replaced_planned": [{**r, "valid_from": r["valid_from"].isoformat()} for r in change["replaced"]],
    }
    record_admin_action(conn, actor, AdminAction.CHANGE_TEAM_AREA, team_id=team_id, details=details)
    return change


def rename_team(conn: Connection, actor: str, team_id: int, name: str, version: int) -> dict[str, Any]:
    """Rename a team read at ``version`` (police units are renamed after a reorganisation): the same team, so its
    members, area, tasks and history stay its own; audited with the name before and after. The new name is unique up
    to letter case, as a new team's."""
    renamed = accounts.rename_team(conn, team_id, name, version)
    details = {"before": renamed["before"], "after": renamed["name"]}
    record_admin_action(conn, actor, AdminAction.RENAME_TEAM, team_id=team_id, details=details)
    return renamed

"""Administration use cases (API and CLI): users, teams and areas, each change audited in the same transaction.

Passwords arrive hashed (api.security hashes them); the audit records what was done, never a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from gis.io.exports import ExportFile, audit_trail_workbook, day_in_name
from gis.store import accounts
from gis.store.access_log import COMMAND_LINE_LABEL, access_lines, with_what
from gis.store.audit import admin_audit, record_admin_action
from gis.store.communes import commune_full_names
from gis.store.provinces import document_heading, province_names
from gis.store.sessions import revoke_user_sessions
from gis.store.tasks import open_tasks_held, team_left
from models.domain.dates import vn_day
from models.errors import Conflict, InvalidRequest
from models.vocabulary import AccessedData, AdminAction, AreaLevel, Role, SessionEnd


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
    source: str | None = None,
) -> int:
    """A new active user (a command or planner user possibly limited to a province), audited (with the imported file
    it came from, ``source``). Its password, given by the administrator, must be changed at the first login unless
    ``must_change_password`` is False (an operator's own account made on the server)."""
    user_id = accounts.create_user(
        conn, username, password_hash, role, team_id, province_code, must_change_password=must_change_password
    )
    details = {
        "role": role,
        **({"province_code": province_code} if province_code else {}),
        **_source(source),
        "given": must_change_password,  # a one-time password the creator knew (gis.store.audit.recent_reset)
    }
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
    then manage users. Deactivation ends the user's sessions (a trigger on users); ``former_team`` as for
    :func:`move_user` when a team member is deactivated (their team keeps its open tasks, perhaps with nobody left)."""
    if user_id == actor_id and not active:
        raise InvalidRequest(
            "không thể tự ngừng kích hoạt tài khoản của chính mình", "an administrator cannot deactivate themselves"
        )
    if not active and accounts.is_last_active_admin(conn, user_id):
        raise Conflict(
            "không thể ngừng kích hoạt quản trị viên cuối cùng còn hoạt động: hãy tạo hoặc kích hoạt lại một quản trị"
            " viên khác trước",
            "the last active administrator cannot be deactivated",
        )
    accounts.set_user_active(conn, user_id, active, version)
    action = AdminAction.ACTIVATE_USER if active else AdminAction.DEACTIVATE_USER
    record_admin_action(conn, actor, action, user_id=user_id)
    after = accounts.get_user(conn, user_id)
    left = team_left(conn, after["team_id"]) if not active and after["team_id"] is not None else None
    return {**after, "former_team": left}


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
        raise Conflict(
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
    conn: Connection,
    actor: str,
    user_id: int,
    password_hash: str,
    *,
    must_change_password: bool = True,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """Give a user a new password (shown once to the administrator by the caller), lifting any lock-out; audited. The
    user must change it at the next login (the administrator knows it) unless ``must_change_password`` is False. An
    administrator (``actor_id``) cannot reset their own password, as they cannot deactivate themselves or change their
    own role: whoever held their open session would take the account without knowing its password; their own change
    asks for the current one. The command line (the server's operator, no named administrator) is not refused."""
    if user_id == actor_id:
        raise InvalidRequest(
            "không thể tự cấp lại mật khẩu của chính mình: dùng trang đổi mật khẩu (cần mật khẩu hiện tại)",
            "an administrator cannot reset their own password",
        )
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


def _source(source: str | None) -> dict[str, str]:
    """An audit entry's note of the imported file an account came from (none for one created by hand)."""
    return {"file": source} if source else {}


def create_team(
    conn: Connection,
    actor: str,
    name: str,
    communes: list[str],
    valid_from: date | None = None,
    *,
    source: str | None = None,
) -> int:
    """A new team responsible for ``communes`` from ``valid_from`` (default today), audited (with the imported file it
    came from, ``source``)."""
    team_id = accounts.create_team(conn, name, communes, valid_from)
    details = {
        "communes": sorted(set(communes)),
        "valid_from": valid_from.isoformat() if valid_from else None,
        **_source(source),
    }
    record_admin_action(conn, actor, AdminAction.CREATE_TEAM, team_id=team_id, details=details)
    return team_id


def change_team_area(
    conn: Connection, actor: str, team_id: int, communes: list[str], valid_from: date
) -> dict[str, Any]:
    """Make ``communes`` the team's area from ``valid_from``, keeping the history; audited with what changed.
    ``open_tasks_kept``: the team's open tasks in the communes it no longer holds, which stay its own (the administrator
    is told, so that command gives them to the commune's new team if it should); ``left_without_team``: the communes
    removed that no other team holds from that day; ``replaced_rows``: the rows it replaced (commune, named, and
    the day it was to start), as the audit records them (its details' ``replaced_planned``)."""
    accounts.working_team(conn, team_id)
    change = accounts.set_team_area(conn, team_id, communes, valid_from)
    change["open_tasks_kept"] = open_tasks_held(conn, team_id, change["removed"])
    change["left_without_team"] = accounts.communes_without_team(conn, change["removed"], valid_from)
    names = commune_full_names(conn, [r["commune_code"] for r in change["replaced"]])
    change["replaced_rows"] = [{**r, "commune_name": names.get(r["commune_code"])} for r in change["replaced"]]
    details = {
        "valid_from": valid_from.isoformat(),
        "added": change["added"],
        "removed": change["removed"],
        "left_without_team": [c["commune_code"] for c in change["left_without_team"]],
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


def dissolve_team(conn: Connection, actor: str, team_id: int, version: int) -> dict[str, Any]:
    """Dissolve a team read at ``version`` (:func:`gis.store.accounts.dissolve_team`: refused while it holds unfinished
    tasks or members; its area ends today, it stays for history), audited with the communes it held, those no other
    team holds (``left_without_team``) and the planned changes dropped."""
    dissolved = accounts.dissolve_team(conn, team_id, version)
    dissolved["left_without_team"] = accounts.communes_without_team(conn, dissolved["communes"])
    details = {
        "dissolved_on": dissolved["dissolved_on"].isoformat(),
        "communes": dissolved["communes"],
        "planned_dropped": [day.isoformat() for day in dissolved["planned_dropped"]],
        "left_without_team": [c["commune_code"] for c in dissolved["left_without_team"]],
    }
    record_admin_action(conn, actor, AdminAction.DISSOLVE_TEAM, team_id=team_id, details=details)
    return dissolved


def _value(action: str, value: Any, provinces: Mapping[str, str]) -> str:
    """A value before or after a change as the administrator reads it: a province by its name (none: the whole
    country), a role by its label, a team's name as it was."""
    if action == AdminAction.SET_USER_PROVINCE:
        return provinces.get(value, value) if value else AreaLevel.NATION.label
    if action == AdminAction.CHANGE_USER_ROLE and value in Role.labels():
        return Role(value).label
    return "—" if value is None else str(value)


#: The audit details' lists of commune codes (an area's change, a new team's area, a dissolution), named in words.
COMMUNE_LISTS = ("added", "removed", "communes", "left_without_team")


def _communes_named(codes: list[str], communes: Mapping[str, str]) -> str:
    """Communes by name (their code when it has none) in parentheses, "" for none."""
    return f" ({', '.join(communes.get(code, code) for code in codes)})" if codes else ""


def _left_without_team(details: Mapping[str, Any], communes: Mapping[str, str]) -> str:
    """The communes a change left with no team, said after it ("" for none, or a line recorded before they were)."""
    left = details.get("left_without_team") or []
    return f"; không còn tổ nào phụ trách: {', '.join(communes.get(c, c) for c in left)}" if left else ""


def audit_details(
    entry: Mapping[str, Any], provinces: Mapping[str, str], communes: Mapping[str, str] | None = None
) -> str:
    """What an audit entry changed, in words (the page's list and the Excel export): the area's change, a new team's
    area, a value before and after, a role change, a dissolution, an accounts file's counts (and the file an imported
    account or import came from), the address of a user's own password change, a restored backup's file; "" for an
    action that says it all."""
    details = entry["details"]
    said = _details_text(entry["action"], details, provinces, communes or {})
    if details.get("file"):
        return f"{said}; nhập từ tệp «{details['file']}»"
    return said


def _given(details: Mapping[str, Any]) -> str:
    """What an own password change replaced: a given password, and the recent reset that gave it (who, which day:
    whoever held its one-time password made this change)."""
    if not details["given"]:
        return ""
    if details.get("given_by"):
        day = vn_day(datetime.fromisoformat(details["given_at"]))
        how = "cấp khi tạo tài khoản" if details.get("given_on_creation") else "cấp lại"
        return f"thay mật khẩu do quản trị viên {details['given_by']} {how} ngày {day}, "
    return "thay mật khẩu được cấp, "


def _details_text(
    action: str, details: Mapping[str, Any], provinces: Mapping[str, str], communes: Mapping[str, str]
) -> str:
    """What an audit entry changed, in words (:func:`audit_details` without the imported file; ``communes``: code →
    name of the communes it lists)."""
    since = f" từ {vn_day(date.fromisoformat(details['valid_from']))}" if details.get("valid_from") else ""
    if action == AdminAction.CHANGE_OWN_PASSWORD:
        return f"{_given(details)}từ địa chỉ {details['address']}"
    if action == AdminAction.RESTORE_BACKUP:
        return (
            f"tệp «{details['archive']}», sao lưu ngày {vn_day(date.fromisoformat(details['created_at'][:10]))} từ CSDL"
            f" {details['database']}, lược đồ {details['schema_revision']}"
        )
    if action == AdminAction.IMPORT_ACCOUNTS:
        return f"{details['teams']} tổ công tác mới, {details['users']} người dùng mới"
    if action == AdminAction.DISSOLVE_TEAM:
        return (
            f"địa bàn {len(details['communes'])} xã/phường{_communes_named(details['communes'], communes)} kết thúc"
            f" ngày {vn_day(date.fromisoformat(details['dissolved_on']))}{_left_without_team(details, communes)}"
        )
    if "added" in details:
        added, removed = details["added"], details["removed"]
        return (
            f"{since.strip()}: thêm {len(added)} xã/phường{_communes_named(added, communes)}, bớt {len(removed)}"
            f" xã/phường{_communes_named(removed, communes)}{_left_without_team(details, communes)}"
        )
    if "communes" in details:
        return f"{len(details['communes'])} xã/phường{_communes_named(details['communes'], communes)}{since}"
    if action == AdminAction.DEACTIVATE_USER:
        return "không đăng nhập được nữa, mọi phiên đăng nhập đã kết thúc"
    if action == AdminAction.ACTIVATE_USER:
        return "đăng nhập được trở lại"
    if "after" in details:
        return f"{_value(action, details['before'], provinces)} → {_value(action, details['after'], provinces)}"
    role = details.get("role")
    if isinstance(role, dict):  # a role changed
        return f"{_value(action, role['before'], provinces)} → {_value(action, role['after'], provinces)}"
    if role:  # a new user's role, and province if limited to one
        province = details.get("province_code")
        return Role(role).label + (f", {provinces.get(province, province)}" if province else "")
    if "revoked" in details:
        return f"{details['revoked']} phiên"
    return ""


def audit_entries(
    conn: Connection,
    provinces: Mapping[str, str],
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """The admin audit's entries, newest first, in [since, until) when given, each with its action's label and what it
    changed in words (:func:`audit_details`; ``provinces``: code → full name; the communes its lines list named), and
    its actor as shown (``actor_shown``): an actor that is no account of the app is the operating-system user who ran
    a command on the server, said so («root (Dòng lệnh trên máy chủ)»: «root» alone read as an unknown account)."""
    entries = admin_audit(conn, limit, since, until)
    listed = {code for e in entries for key in COMMUNE_LISTS for code in e["details"].get(key) or []}
    communes = commune_full_names(conn, listed)
    return [
        {
            **entry,
            "actor_shown": entry["actor"] if entry["actor_account"] else f"{entry['actor']} ({COMMAND_LINE_LABEL})",
            "action_label": AdminAction(entry["action"]).label,
            "details_text": audit_details(entry, provinces, communes),
        }
        for entry in entries
    ]


#: At most this many lines in an exported audit trail (the newest; the file says when lines were left out).
EXPORT_LINES = 50_000


def _filters(since: date | None, until: date | None, more: list[str]) -> str:
    """What an exported trail covers, for its provenance line: the whole system, the days and other filters chosen."""
    chosen = [f"từ ngày {vn_day(since)}" if since else "", f"đến ngày {vn_day(until)}" if until else "", *more]
    shown = ", ".join(part for part in chosen if part)
    return "toàn hệ thống" + (f"; lọc: {shown}" if shown else "; không lọc")


def access_log_xlsx(
    conn: Connection,
    by: str,
    *,
    days: tuple[date | None, date | None],
    bounds: tuple[datetime | None, datetime | None],
    username: str | None = None,
    route: str | None = None,
    what: AccessedData | None = None,
) -> ExportFile:
    """The access log's lines filtered as on the page (local ``days`` [from, to], whose instants are ``bounds``; user,
    route text, what was read), newest first and at most :data:`EXPORT_LINES`, as an Excel file exported now by
    ``by`` (the caller records the export itself in the log, with its number of lines)."""
    lines = access_lines(
        conn, username=username, since=bounds[0], until=bounds[1], route=route, what=what, limit=EXPORT_LINES
    )
    more = [
        f"người dùng {username}" if username else "",
        f"dữ liệu «{what.label}»" if what else "",
        f"đường dẫn chứa «{route}»" if route else "",
    ]
    heading = document_heading(conn, None, by)
    content = audit_trail_workbook(
        "access",
        [with_what(line) for line in lines],
        heading=heading,
        filters=_filters(*days, more),
        capped=len(lines) == EXPORT_LINES,
    )
    return ExportFile(content, len(lines), f"nhật-ký-truy-cập-{day_in_name(heading.day)}.xlsx")


def admin_audit_xlsx(
    conn: Connection,
    by: str,
    *,
    days: tuple[date | None, date | None],
    bounds: tuple[datetime | None, datetime | None],
) -> ExportFile:
    """The admin audit's entries in the local ``days`` [from, to] (instants ``bounds``), newest first and at most
    :data:`EXPORT_LINES`, as an Excel file exported now by ``by``."""
    entries = audit_entries(conn, province_names(conn), EXPORT_LINES, *bounds)
    heading = document_heading(conn, None, by)
    content = audit_trail_workbook(
        "admin", entries, heading=heading, filters=_filters(*days, []), capped=len(entries) == EXPORT_LINES
    )
    return ExportFile(content, len(entries), f"nhật-ký-quản-trị-{day_in_name(heading.day)}.xlsx")

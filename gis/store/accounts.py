"""Users, teams and areas of responsibility in PostGIS (failed logins: gis.store.logins)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from gis.store.communes import unknown_communes
from gis.store.provinces import require_province
from gis.store.scoping import UNRESTRICTED, AreaScope
from gis.store.sql import LOCAL_TODAY, current_unit, valid_on
from gis.store.versioned import load_at_version, update_at_version
from models.domain.access import Principal, check_user_scope, check_username, normal_team_name, team_name
from models.domain.dates import vn_day
from models.errors import AlreadyExists, Conflict, InvalidRequest, NotFound
from models.text import vietnamese_key
from models.vocabulary import TASK_CLOSED, Role, codes

FOREIGN_KEY_VIOLATION = "23503"

#: The user a typed login name ``:u`` names: unique up to letter case (migration 0021), found whatever the case typed
#: and without the space a phone's keyboard adds after a word («To01 » is «to01»).
NAMED_USER = "lower(username) = lower(btrim(:u))"


def create_team(conn: Connection, name: str, communes: list[str], valid_from: date | None = None) -> int:
    """New team responsible for ``communes`` (at least one) from ``valid_from`` (default today); its name is stored
    as :func:`models.domain.access.team_name` gives it."""
    name = team_name(name)
    _check_area(conn, communes)
    if valid_from is not None:
        _refuse_before_units(conn, communes, valid_from)
    _refuse_name_of_another_team(conn, name)
    try:
        with conn.begin_nested():
            team_id = conn.execute(
                text("INSERT INTO teams (name, version) VALUES (:n, 1) RETURNING id"), {"n": name}
            ).scalar_one()
    except IntegrityError:
        raise AlreadyExists(f"tổ công tác «{name}» đã tồn tại") from None
    conn.execute(
        text(f"""INSERT INTO team_areas (team_id, commune_code, valid_from)
                          SELECT :t, c, coalesce(:f, {LOCAL_TODAY}) FROM unnest(CAST(:codes AS text[])) c"""),
        {"t": team_id, "codes": sorted(set(communes)), "f": valid_from},
    )
    return team_id


def _check_area(conn: Connection, communes: list[str]) -> None:
    """A team's area, new or changed: at least one commune (a team without one sees nothing but the tasks it still
    holds, and the page refuses it too), every one a current unit, all of one province."""
    if not communes:
        raise InvalidRequest("tổ công tác cần phụ trách ít nhất một xã, phường", "a team needs at least one commune")
    missing = unknown_communes(conn, communes)
    if missing:
        raise NotFound(f"không có xã/phường/đặc khu hiện hành mã: {', '.join(missing)}")
    provinces = conn.execute(
        text(f"""SELECT coalesce(p.full_name, u.province_code), count(*) FROM admin_units u
                 LEFT JOIN provinces p ON p.code = u.province_code
                 WHERE {current_unit("u")} AND u.code = ANY(:c) GROUP BY 1, u.province_code ORDER BY u.province_code"""),
        {"c": sorted(set(communes))},
    ).all()
    if len(provinces) > 1:  # a team is a province police's unit; its Gi* and emerging hot spots cover one province
        named = ", ".join(f"{name} ({n} xã, phường)" for name, n in provinces)
        raise InvalidRequest(
            f"địa bàn của một tổ phải nằm trong một tỉnh, thành phố (tổ công tác là đơn vị của công an tỉnh): các xã,"
            f" phường đã chọn thuộc {named}",
            "a team's area lies in one province",
        )


def _refuse_before_units(conn: Connection, communes: list[str], valid_from: date) -> None:
    """Refuse a new team's area starting before its communes existed as the units they are now (a walk-through
    created a team «từ 01/01/2020» over communes formed on 01/07/2025, unquestioned): the area would name, for
    those years, units that were not there."""
    late = conn.execute(
        text(f"""SELECT u.full_name, u.valid_from FROM admin_units u
                 WHERE {current_unit("u")} AND u.code = ANY(:c) AND u.valid_from > :d
                 ORDER BY u.valid_from DESC, u.code"""),
        {"c": sorted(set(communes)), "d": valid_from},
    ).all()
    if late:
        named = ", ".join(row.full_name for row in late[:3]) + (
            f" và {len(late) - 3} đơn vị khác" if len(late) > 3 else ""
        )
        raise InvalidRequest(
            f"ngày có hiệu lực {vn_day(valid_from)} sớm hơn ngày {named} bắt đầu có theo ranh giới hiện hành"
            f" ({vn_day(late[0].valid_from)}): hãy chọn từ ngày {vn_day(late[0].valid_from)} trở đi",
            "a team's area starts before its communes existed",
        )


def _refuse_name_of_another_team(conn: Connection, name: str, team_id: int | None = None) -> None:
    """AlreadyExists when a team other than ``team_id`` (the one renamed) has ``name`` up to letter case («tổ 1» beside
    «Tổ 1» is one team typed twice, and the lists would show both); a team may change the case of its own name.
    A dissolved team keeps its name: its old tasks, the registers' filters and the audit name it, and a new team of
    the same name would be told apart there by nothing (the refusal says so; the administrator's list no longer shows
    it). Compared in Python: the database's lower() folds only ASCII under the C locale (not «Đ»)."""
    existing = teams_by_name(conn).get(name.casefold())
    if existing is not None and existing.id != team_id:
        dissolved = "the name belongs to a dissolved team" if existing.dissolved_on is not None else None
        raise AlreadyExists(team_name_taken(existing.name, existing.dissolved_on), dissolved)


def teams_by_name(conn: Connection) -> dict[str, Any]:
    """Every team (dissolved ones too) by its name folded to lower case: rows of id, name, dissolved_on. Folded in
    Python: the database's lower() folds only ASCII under the C locale (not «Đ»)."""
    rows = conn.execute(text("SELECT id, name, dissolved_on FROM teams")).all()
    return {row.name.casefold(): row for row in rows}


def team_name_taken(existing: str, dissolved_on: date | None) -> str:
    """Why a new name is refused: a team has it, or had it before it was dissolved (its old tasks and the audit name
    it, and a new team of the same name would be told apart there by nothing)."""
    if dissolved_on is not None:
        return (
            f"tên «{existing}» là của tổ công tác đã giải thể ngày {vn_day(dissolved_on)}: nhiệm vụ cũ và nhật ký"
            " vẫn mang tên này — hãy đặt tên khác (ví dụ thêm năm thành lập)"
        )
    return f"tổ công tác «{existing}» đã tồn tại"


def folded_usernames(conn: Connection) -> dict[str, str]:
    """Every login name (deactivated users' too) by its lower-case form: names are unique up to letter case."""
    return {name.lower(): name for name in conn.execute(text("SELECT username FROM users")).scalars()}


def rename_team(conn: Connection, team_id: int, name: str, version: int) -> dict[str, Any]:
    """Give the team read at ``version`` a new name (stored as :func:`models.domain.access.team_name` gives it, unique
    up to letter case as a new team's); its id, name before and after, and new version. Users, areas, tasks and the audit hold the team's id, so
    everything stays the team's; the audit lines written before keep the name it had then."""
    name = team_name(name)
    working_team(conn, team_id)
    before = load_at_version(conn, "teams", team_id, version, "r.name")["name"]
    if name == before:
        raise InvalidRequest(f"tổ công tác đã có tên «{name}»", "the team already has this name")
    _refuse_name_of_another_team(conn, name, team_id)
    try:
        with conn.begin_nested():
            new_version = update_at_version(conn, "teams", team_id, version, "name = :n", {"n": name})
    except IntegrityError:  # another team took the name meanwhile
        raise AlreadyExists(f"tổ công tác «{name}» đã tồn tại") from None
    return {"id": team_id, "before": before, "name": name, "version": new_version}


def team_exists(conn: Connection, team_id: int) -> None:
    """Raise NotFound for an unknown team."""
    if conn.execute(text("SELECT 1 FROM teams WHERE id = :t"), {"t": team_id}).scalar() is None:
        raise NotFound(f"không có tổ công tác #{team_id}", "no such team")


def team_name_of(conn: Connection, team_id: int) -> str | None:
    """The name of a team (None: no such team), as its pages show it."""
    return conn.execute(text("SELECT name FROM teams WHERE id = :t"), {"t": team_id}).scalar()


def working_team(conn: Connection, team_id: int) -> str:
    """The name of a team that is not dissolved, which may be given users, an area or tasks: NotFound for an unknown
    team, Conflict for a dissolved one. Its row is share-locked until the transaction ends, so that a dissolution
    (:func:`dissolve_team`, which locks it for update) and a new member or task cannot cross unseen."""
    row = conn.execute(text("SELECT name, dissolved_on FROM teams WHERE id = :t FOR SHARE"), {"t": team_id}).first()
    if row is None:
        raise NotFound(f"không có tổ công tác #{team_id}", "no such team")
    if row.dissolved_on is not None:
        raise Conflict(
            f"tổ công tác «{row.name}» đã giải thể ngày {vn_day(row.dissolved_on)}: hãy chọn tổ khác",
            "the team is dissolved",
        )
    return str(row.name)


def dissolve_team(conn: Connection, team_id: int, version: int) -> dict[str, Any]:
    """Dissolve the team read at ``version`` (a unit disbanded after a reorganisation): refused (Conflict) while it
    holds a task not yet finished (open, or awaiting acceptance: command reassigns, accepts or cancels it first) or has
    members (the administrator moves them first: a team user always belongs to a team). Its area ends today (the
    communes it held until yesterday, returned; changes planned for later are dropped) and it is marked dissolved: kept,
    so that its old tasks and the audit still name it, but no longer listed, suggested or given anything
    (:func:`working_team`)."""
    team = conn.execute(
        text("SELECT name, version, dissolved_on FROM teams WHERE id = :t FOR UPDATE"), {"t": team_id}
    ).first()
    if team is None:
        raise NotFound(f"không có tổ công tác #{team_id}", "no such team")
    if team.dissolved_on is not None:
        raise Conflict(f"tổ công tác «{team.name}» đã giải thể ngày {vn_day(team.dissolved_on)}", "already dissolved")
    load_at_version(conn, "teams", team_id, version, "r.name")
    held = conn.execute(
        text("""SELECT (SELECT count(*) FROM tasks k WHERE k.team_id = :t AND k.state <> ALL(:closed)),
                       (SELECT count(*) FROM users u WHERE u.team_id = :t)"""),
        {"t": team_id, "closed": list(codes(TASK_CLOSED))},
    ).one()
    refusals = []
    if held[0]:
        refusals.append(
            f"còn giữ {held[0]} nhiệm vụ chưa kết thúc (đang làm hoặc chờ nghiệm thu): ban chỉ huy cần giao lại cho tổ"
            " khác, nghiệm thu hoặc hủy các nhiệm vụ này trước"
        )
    if held[1]:
        refusals.append(
            f"còn {held[1]} thành viên (kể cả tài khoản ngừng hoạt động): hãy chuyển họ sang tổ khác hoặc đổi vai trò"
            " trước"
        )
    if refusals:
        raise Conflict(
            f"chưa thể giải thể tổ «{team.name}»: tổ {'; '.join(refusals)}",
            f"the team holds {held[0]} unfinished tasks and {held[1]} members",
        )
    params = {"t": team_id}
    communes = sorted(
        conn.execute(
            text(f"SELECT commune_code FROM team_areas ta WHERE team_id = :t AND {valid_on('ta')}"), params
        ).scalars()
    )
    # Days of area changes planned after today (a commune added or removed then), which no longer take place.
    planned_dropped = list(
        conn.execute(
            text(f"""SELECT DISTINCT d FROM team_areas ta, LATERAL (VALUES (ta.valid_from), (ta.valid_to)) v(d)
                     WHERE ta.team_id = :t AND d > {LOCAL_TODAY} ORDER BY d"""),
            params,
        ).scalars()
    )
    # A period that begins today or later never held a day; an earlier one ends today ([valid_from, valid_to)).
    conn.execute(text(f"DELETE FROM team_areas WHERE team_id = :t AND valid_from >= {LOCAL_TODAY}"), params)
    conn.execute(
        text(f"""UPDATE team_areas SET valid_to = {LOCAL_TODAY}
                 WHERE team_id = :t AND (valid_to IS NULL OR valid_to > {LOCAL_TODAY})"""),
        params,
    )
    new_version = update_at_version(conn, "teams", team_id, version, f"dissolved_on = {LOCAL_TODAY}", {})
    day = conn.execute(text(f"SELECT {LOCAL_TODAY}")).scalar_one()
    return {
        "id": team_id,
        "name": team.name,
        "dissolved_on": day,
        "communes": communes,
        "planned_dropped": planned_dropped,
        "version": new_version,
    }


def team_version(conn: Connection, team_id: int) -> int:
    """The team's version (the command line changes a team at the version it reads)."""
    return int(conn.execute(text("SELECT version FROM teams WHERE id = :t"), {"t": team_id}).scalar_one())


def team_id_by_name(conn: Connection, name: str) -> int:
    """Id of the team called ``name`` (typed in NFC or NFD, with or without surrounding spaces)."""
    team_id = conn.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": normal_team_name(name)}).scalar()
    if team_id is None:
        raise NotFound(f"không có tổ công tác «{name}»")
    return team_id


def list_teams(conn: Connection, scope: AreaScope = UNRESTRICTED, dissolved: bool = False) -> list[dict[str, Any]]:
    """The working teams in the scope (a dissolved team is in no picker or suggestion) in Vietnamese order of their
    names, with their current communes, member count (``members``, deactivated accounts included; ``active_members``),
    the tasks they hold not yet finished and the day their area next changes (if one is planned).

    ``dissolved``: then, for the registers' filters only, the dissolved teams that hold a task the scope may see (their
    old tasks stay theirs: completed, accepted, cancelled), each with its ``dissolved_on``: a dissolved team has no area
    today, which is how :meth:`AreaScope.teams` places a team in a province."""
    working = f"t.dissolved_on IS NULL AND {scope.teams('t')}"
    if dissolved:
        held = f"EXISTS (SELECT 1 FROM tasks k WHERE k.team_id = t.id AND {scope.tasks('k')})"
        working = f"(({working}) OR (t.dissolved_on IS NOT NULL AND {held}))"
    rows = [
        dict(r)
        for r in conn.execute(
            text(f"""
        SELECT t.id, t.name, t.version, t.dissolved_on,
               (SELECT count(*) FROM tasks k WHERE k.team_id = t.id AND k.state <> ALL(:closed)) AS unfinished_tasks,
               coalesce((SELECT array_agg(ta.commune_code ORDER BY ta.commune_code) FROM team_areas ta
                         WHERE ta.team_id = t.id AND {valid_on("ta")}), '{{}}') AS communes,
               (SELECT count(*) FROM users u WHERE u.team_id = t.id) AS members,
               (SELECT count(*) FROM users u WHERE u.team_id = t.id AND u.active) AS active_members,
               (SELECT min(d) FROM team_areas ta, LATERAL (VALUES (ta.valid_from), (ta.valid_to)) v(d)
                WHERE ta.team_id = t.id AND d > {LOCAL_TODAY}) AS next_change
        FROM teams t WHERE {working}"""),
            {**scope.params, "closed": list(codes(TASK_CLOSED))},
        ).mappings()
    ]
    # In Vietnamese order, as the pages sort names (the database's order is the code points': capitals first).
    return sorted(rows, key=lambda team: (team["dissolved_on"] is not None, vietnamese_key(team["name"])))


def set_team_area(conn: Connection, team_id: int, communes: list[str], valid_from: date) -> dict[str, Any]:
    """Make ``communes`` the team's area from ``valid_from`` (today or later), keeping the history.

    Rows valid before that day keep their period: those the new area drops end on ``valid_from``
    (``valid_to``), communes it adds start then. A change planned earlier for that day or later never took
    effect and is replaced. Returns the communes added and removed, the rows replaced (``replaced``: commune and the
    day it was to start, a row of that same day included — an area set for that day earlier and overwritten — but not
    one of a commune kept, written again as it was) and the later days whose planned change was cancelled.
    """
    _check_area(conn, communes)
    today = conn.execute(text(f"SELECT {LOCAL_TODAY}")).scalar_one()
    if valid_from < today:
        raise InvalidRequest(
            f"ngày có hiệu lực {valid_from:%d/%m/%Y} đã qua: địa bàn chỉ thay đổi từ hôm nay trở đi",
            "an area change takes effect today or later",
        )
    wanted = sorted(set(communes))
    params = {"t": team_id, "d": valid_from, "codes": wanted}
    before = set(
        conn.execute(
            text(f"SELECT commune_code FROM team_areas ta WHERE team_id = :t AND {valid_on('ta', ':d')}"), params
        ).scalars()
    )
    replaced = [
        dict(r)
        for r in conn.execute(
            text("DELETE FROM team_areas WHERE team_id = :t AND valid_from >= :d RETURNING commune_code, valid_from"),
            params,
        ).mappings()
    ]
    # A row valid that day with an end is a later planned removal (areas end only by a change or a dissolution,
    # which ends them today): this change rewrites it.
    planned_ends = conn.execute(
        text(f"""UPDATE team_areas ta SET valid_to = CASE WHEN ta.commune_code = ANY(:codes) THEN NULL ELSE :d END
                 FROM team_areas old WHERE old.id = ta.id AND ta.team_id = :t AND {valid_on("ta", ":d")}
                 RETURNING old.valid_to"""),
        params,
    ).scalars()
    # A row of that same day for a commune kept is written again as it was: nothing of it was replaced.
    replaced = [r for r in replaced if r["valid_from"] > valid_from or r["commune_code"] not in wanted]
    later_days = {r["valid_from"] for r in replaced if r["valid_from"] > valid_from}
    later_days.update(day for day in planned_ends if day is not None)
    conn.execute(
        text(f"""INSERT INTO team_areas (team_id, commune_code, valid_from)
                 SELECT :t, c, :d FROM unnest(CAST(:codes AS text[])) c
                 WHERE NOT EXISTS (SELECT 1 FROM team_areas ta WHERE ta.team_id = :t AND ta.commune_code = c
                                   AND {valid_on("ta", ":d")})"""),
        params,
    )
    return {
        "added": sorted(set(wanted) - before),
        "removed": sorted(before - set(wanted)),
        "valid_from": valid_from,
        "replaced": replaced,
        # Days of changes planned after this one's day that it cancels: the administrator is told, not surprised.
        "planned_replaced": sorted(later_days),
    }


def shared_communes(conn: Connection, team_id: int, valid_from: date | None = None) -> list[dict[str, Any]]:
    """Communes of the team's area on ``valid_from`` (default today) that another team also holds that day: each
    with its name and the other teams' names, for the administrator to confirm the overlap is meant (a ward's police
    and a district task force may share it; a second team by mistake splits who answers for the place). The other
    teams' names in Vietnamese order (:func:`models.text.vietnamese_key`), not the database's code points'."""
    return [
        {**r, "teams": sorted(r["teams"], key=vietnamese_key)}
        for r in conn.execute(
            text(f"""
            WITH day AS (SELECT coalesce(CAST(:d AS date), {LOCAL_TODAY}) AS d)
            SELECT mine.commune_code, max(u.full_name) AS commune_name, array_agg(DISTINCT t.name) AS teams
            FROM day, team_areas mine
            JOIN team_areas other ON other.commune_code = mine.commune_code AND other.team_id <> mine.team_id
            JOIN teams t ON t.id = other.team_id
            LEFT JOIN admin_units u ON u.code = mine.commune_code AND {current_unit("u")}
            WHERE mine.team_id = :t AND {valid_on("mine", "day.d")} AND {valid_on("other", "day.d")}
            GROUP BY mine.commune_code ORDER BY mine.commune_code"""),
            {"t": team_id, "d": valid_from},
        ).mappings()
    ]


def communes_without_team(conn: Connection, communes: list[str], day: date | None = None) -> list[dict[str, Any]]:
    """Of ``communes``, those no working team holds on ``day`` (default today), by code with their current names: an
    area change or a dissolution that leaves a commune to nobody says so (nobody is given its tasks, nobody answers
    for it) rather than listing it among the removed only."""
    rows = conn.execute(
        text(f"""
        WITH day AS (SELECT coalesce(CAST(:d AS date), {LOCAL_TODAY}) AS d)
        SELECT c.code AS commune_code, u.full_name AS commune_name
        FROM day, unnest(CAST(:codes AS text[])) AS c(code)
        LEFT JOIN admin_units u ON u.code = c.code AND {current_unit("u")}
        WHERE NOT EXISTS (SELECT 1 FROM team_areas ta JOIN teams t ON t.id = ta.team_id
                          WHERE ta.commune_code = c.code AND t.dissolved_on IS NULL AND {valid_on("ta", "day.d")})
        ORDER BY c.code"""),
        {"codes": sorted(set(communes)), "d": day},
    ).mappings()
    return [dict(r) for r in rows]


def team_area_history(conn: Connection, team_id: int) -> list[dict[str, Any]]:
    """Every period of every commune of a team's area, newest first."""
    rows = conn.execute(
        text(f"""
        SELECT ta.commune_code, u.full_name AS commune_name, ta.valid_from, ta.valid_to
        FROM team_areas ta LEFT JOIN admin_units u ON u.code = ta.commune_code AND {current_unit("u")}
        WHERE ta.team_id = :t ORDER BY ta.valid_from DESC, ta.commune_code"""),
        {"t": team_id},
    ).mappings()
    return [dict(r) for r in rows]


def create_user(
    conn: Connection,
    username: str,
    password_hash: str,
    role: str,
    team_id: int | None,
    province_code: str | None = None,
    *,
    must_change_password: bool = False,
) -> int:
    """New active user with a login name (no spaces or diacritics); a team user must belong to a team, other roles to
    none; a command or planner user may be limited to a province (``province_code``); ``must_change_password``: the
    password was given by an administrator (set_password)."""
    check_username(username)
    check_user_scope(role, team_id, province_code)
    if team_id is not None:
        working_team(conn, team_id)
    if province_code is not None:
        require_province(conn, province_code)
    existing = conn.execute(text(f"SELECT username FROM users WHERE {NAMED_USER}"), {"u": username}).scalar()
    if existing is not None:
        raise AlreadyExists(
            f"người dùng «{existing}» đã tồn tại (tên đăng nhập không phân biệt chữ hoa, chữ thường)",
            f"user {existing!r} exists (usernames are compared up to letter case)",
        )
    try:
        with conn.begin_nested():
            return conn.execute(
                text("""INSERT INTO users (username, password_hash, role, team_id, province_code, active,
                                           failed_logins, version, must_change_password)
                        VALUES (:u, :h, :r, :t, :p, true, 0, 1, :must) RETURNING id"""),
                {
                    "u": username,
                    "h": password_hash,
                    "r": role,
                    "t": team_id,
                    "p": province_code,
                    "must": must_change_password,
                },
            ).scalar_one()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION:
            raise NotFound(f"không có tổ công tác #{team_id}") from None
        raise AlreadyExists(f"người dùng «{username}» đã tồn tại") from None


def set_user_province(conn: Connection, user_id: int, province_code: str | None, version: int) -> int:
    """Limit a command or planner user read at ``version`` to a province (None: the whole country); the new version."""
    row = load_at_version(conn, "users", user_id, version, "r.role, r.team_id")
    check_user_scope(row["role"], row["team_id"], province_code)
    if province_code is not None:
        require_province(conn, province_code)
    return update_at_version(conn, "users", user_id, version, "province_code = :p", {"p": province_code})


def set_user_team(conn: Connection, user_id: int, team_id: int, version: int) -> int:
    """Move the team user read at ``version`` to another team (only team users belong to one); the team they left."""
    row = load_at_version(conn, "users", user_id, version, "r.role, r.team_id, r.province_code")
    check_user_scope(row["role"], team_id, row["province_code"])
    if team_id == row["team_id"]:
        raise InvalidRequest("người dùng đã thuộc tổ công tác này", "the user is already in this team")
    working_team(conn, team_id)
    update_at_version(conn, "users", user_id, version, "team_id = :t", {"t": team_id})
    return int(row["team_id"])


def set_user_role(
    conn: Connection, user_id: int, role: str, team_id: int | None, province_code: str | None, version: int
) -> None:
    """Give the user read at ``version`` another role with the whole scope it takes (a team for a team user, none
    otherwise; a province or none for command and planner users: stated, never carried over unseen). The user's
    sessions end (a trigger on users, migration 0020)."""
    current = load_at_version(conn, "users", user_id, version, "r.role")["role"]
    if role == current:
        raise InvalidRequest(f"người dùng đã có vai trò «{Role(role).label}»", "the user already has this role")
    check_user_scope(role, team_id, province_code)
    if team_id is not None:
        working_team(conn, team_id)
    if province_code is not None:
        require_province(conn, province_code)
    update_at_version(
        conn,
        "users",
        user_id,
        version,
        "role = :r, team_id = :t, province_code = :p",
        {"r": role, "t": team_id, "p": province_code},
    )


_USER = """
    SELECT u.id, u.username, u.role, u.team_id, t.name AS team, u.province_code, p.name AS province, u.active,
           u.version, u.must_change_password, u.last_login_at,
           u.locked_until IS NOT NULL AND u.locked_until > now() AS locked,
           CASE WHEN u.locked_until > now() THEN u.locked_until END AS locked_until
    FROM users u LEFT JOIN teams t ON t.id = u.team_id LEFT JOIN provinces p ON p.code = u.province_code"""


def list_users(conn: Connection) -> list[dict[str, Any]]:
    """Users with role, team name, version and lock state (never the hash)."""
    return [dict(r) for r in conn.execute(text(f"{_USER} ORDER BY u.username")).mappings()]


def get_user(conn: Connection, user_id: int) -> dict[str, Any]:
    """One user as list_users shows it; NotFound when there is none."""
    row = conn.execute(text(f"{_USER} WHERE u.id = :id"), {"id": user_id}).mappings().first()
    if row is None:
        raise NotFound(f"không có người dùng #{user_id}", "no such user")
    return dict(row)


def set_user_active(conn: Connection, user_id: int, active: bool, version: int) -> int:
    """Deactivate or reactivate a user at ``version`` (an inactive user's sessions stop at the next request)."""
    load_at_version(conn, "users", user_id, version, "r.active")
    return update_at_version(conn, "users", user_id, version, "active = :active", {"active": active})


def is_last_active_admin(conn: Connection, user_id: int) -> bool:
    """Whether ``user_id`` is the one active administrator left. The active administrators' rows stay locked until the
    transaction ends: two administrators deactivating each other at once cannot both pass (the second reads the first's
    change once it commits)."""
    active = conn.execute(
        text("SELECT id FROM users WHERE role = :admin AND active ORDER BY id FOR UPDATE"), {"admin": Role.ADMIN}
    ).scalars()
    return list(active) == [user_id]


def set_password(conn: Connection, user_id: int, password_hash: str, *, must_change: bool) -> None:
    """Replace a user's password hash and lift a lock-out (a reset is how a locked-out user gets back in);
    ``must_change``: an administrator gave it, and its user must change it before anything else."""
    get_user(conn, user_id)
    conn.execute(
        text("""UPDATE users SET password_hash = :h, failed_logins = 0, locked_until = NULL, version = version + 1,
                must_change_password = :must WHERE id = :id"""),
        {"h": password_hash, "id": user_id, "must": must_change},
    )


def unlock_user(conn: Connection, user_id: int) -> bool:
    """Lift a lock-out after failed logins; return whether the user was locked."""
    was_locked = get_user(conn, user_id)["locked"]
    conn.execute(
        text("UPDATE users SET failed_logins = 0, locked_until = NULL, version = version + 1 WHERE id = :id"),
        {"id": user_id},
    )
    return bool(was_locked)


def user_id_by_name(conn: Connection, username: str) -> int:
    """Id of the user called ``username`` (up to letter case, active or not); NotFound otherwise."""
    user_id = conn.execute(text(f"SELECT id FROM users WHERE {NAMED_USER}"), {"u": username}).scalar()
    if user_id is None:
        raise NotFound(f"không có người dùng «{username}»", f"no user {username!r}")
    return user_id


def principal_by_username(conn: Connection, username: str) -> Principal:
    """The active user with this name (up to letter case) as a Principal; NotFound otherwise."""
    row = (
        conn.execute(
            text(
                "SELECT id, username, role, team_id, province_code, must_change_password FROM users"
                f" WHERE {NAMED_USER} AND active"
            ),
            {"u": username},
        )
        .mappings()
        .first()
    )
    principal = Principal(**row) if row else None
    if principal is None:
        raise NotFound(f"không có người dùng đang hoạt động tên «{username}»", f"no active user {username!r}")
    return principal

"""Set up a city's accounts from one file (models.domain.account_contract): new teams with their areas and new users.

All or nothing: every row is checked first, against the file's other rows and what the system holds (a login name
taken up to letter case, a dissolved team's name, an unknown commune or province…), and one refused row refuses the
whole file (:class:`AccountsRefused`, every reason with its line): an administrator would rather fix the file than
find half a city created. A valid file is created in the caller's transaction through the single-creation use cases
(:mod:`gis.services.admin`), so each team and each user is audited as one created by hand, the file named, and the
import as a whole is audited too (``import_accounts``: the file, how many teams and users), after them in the same
transaction; a refused file is rolled back whole and leaves no line, as any refused administrator action. Each user
gets a generated password they must change at the first login, answered once (:func:`password_sheet`) and never
stored or logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from gis.io.excel import administrative_workbook
from gis.io.heading import Heading
from gis.io.readers import naming_the_sheet, read_table
from gis.services.admin import create_team, create_user
from gis.store.accounts import folded_usernames, team_name_taken, teams_by_name
from gis.store.audit import record_admin_action
from gis.store.communes import current_commune_codes
from gis.store.import_runs import dry_run_savepoint
from gis.store.provinces import list_provinces, province_names
from gis.unit_directory import unit_directory
from models.domain.access import check_username, team_name
from models.domain.account_contract import IMPORTABLE_ROLES, account_table, commune_items, is_nation, role_of
from models.domain.row_checks import REJECT_COLUMNS, ContractError, empty_rejects, header_key
from models.errors import InvalidRequest
from models.vocabulary import ACCOUNT_FIELD_LABELS, PROVINCIAL_ROLES, WHOLE_ROW, AdminAction, AreaLevel, Role

#: Most rows a file may hold: a city's officers are hundreds, and each new user's password is hashed (argon2, about
#: 0.1 s each), all in one request.
MAX_ROWS = 1_000
#: The template offered on the administration page (package data).
TEMPLATE = "mau-nhap-tai-khoan.xlsx"
#: The name it is downloaded as: in Vietnamese with its diacritics like every other download (``api.downloads``).
TEMPLATE_DOWNLOAD = "mẫu-nhập-tài-khoản.xlsx"
#: What a dry run of the file says of the passwords it did not make (the real import makes and answers them once).
PASSWORDS_AT_IMPORT = (
    "mỗi người dùng mới sẽ được cấp một mật khẩu dùng một lần khi nhập thật (bảng mật khẩu chỉ tải về lúc đó);"
    " kiểm tra không tạo mật khẩu nào"
)
#: The password hash of a dry run's users, rolled back with them: hashing passwords nobody gets costs about 0.1 s
#: each (argon2) and checks nothing.
_NO_HASH = "!dry-run"


class AccountsRefused(InvalidRequest):
    """A file with at least one refused row: nothing was created; ``rejects`` holds every row's reasons (line, ref,
    field, reason)."""

    code = "accounts_refused"

    def __init__(self, rejects: pd.DataFrame) -> None:
        lines = rejects["line"].nunique()
        super().__init__(
            f"{lines} dòng của tệp bị loại: chưa tạo tổ, người dùng nào — hãy sửa các dòng này rồi nhập lại cả tệp",
            f"{lines} rows refused; nothing was created",
        )
        self.rejects = rejects


@dataclass(frozen=True)
class NewUser:
    """A user the file creates: their line, login name, role, team (its name) or province (None: the country)."""

    line: int
    username: str
    role: Role
    team: str | None
    province_code: str | None


@dataclass
class NewTeam:
    """A team the file creates: its name as stored, the first line naming it, the communes of its area and the line
    that gave them first; ``given``: some row wrote its communes (refused ones too: the row says why)."""

    name: str
    first: int
    communes: list[str] = field(default_factory=list)
    line: int | None = None
    given: bool = False


@dataclass
class AccountPlan:
    """What a file would create, and every reason a row is refused (creation only when there is none)."""

    teams: dict[str, NewTeam] = field(default_factory=dict)
    users: list[NewUser] = field(default_factory=list)
    rejects: list[tuple[int, str, str, str]] = field(default_factory=list)

    def refuse(self, line: int, ref: str, column: str, reason: str) -> None:
        """One reason a row is refused."""
        self.rejects.append((line, ref, column, reason))


@dataclass(frozen=True)
class CreatedAccount:
    """A user created, with the one-time password to hand them (never stored); None in a dry run: the real import
    generates it."""

    username: str
    role: str
    where: str
    password: str | None


@dataclass(frozen=True)
class AccountsImported:
    """The import's outcome: the teams and the users created (with their passwords), or, ``dry_run``, those it would
    create (rolled back, without passwords)."""

    teams: list[str]
    users: list[CreatedAccount]
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        """How many teams and users were created."""
        return {"teams": len(self.teams), "users": len(self.users)}


class _Lookups:
    """What the rows are checked against: login names, teams, provinces and current communes."""

    def __init__(self, conn: Connection) -> None:
        self.usernames = folded_usernames(conn)
        self.teams = teams_by_name(conn)
        self.provinces: dict[str, str] = {}
        for province in list_provinces(conn):
            for key in (province["code"], header_key(province["name"]), header_key(province["full_name"])):
                self.provinces[key] = province["code"]
        self.communes = current_commune_codes(conn)


def plan_accounts(conn: Connection, path: Path, sheet: str | None = None) -> AccountPlan:
    """Every row of the file checked (ContractError for a file without its columns, or too long): the teams and users
    it would create, and each refused row's reasons."""
    with naming_the_sheet(path, sheet):
        table = account_table(read_table(path, sheet=sheet))
    if len(table) > MAX_ROWS:
        raise ContractError(
            f"tệp có {len(table)} dòng, quá {MAX_ROWS} dòng nhập một lần: hãy chia thành nhiều tệp",
            f"more than {MAX_ROWS} rows",
        )
    if not len(table):
        raise ContractError("tệp không có dòng nào", "no rows")
    seen = _Lookups(conn)
    plan = AccountPlan()
    first_line: dict[str, int] = {}
    for row in table.itertuples(index=False):
        line, username = int(row.line), str(row.username)
        if row.error:  # the row as the file holds it cannot be trusted: refused whole, nothing else said of it
            plan.refuse(line, username, WHOLE_ROW, str(row.error))
            continue
        refused = len(plan.rejects)
        if not username:
            plan.refuse(line, "", "username", "thiếu tên đăng nhập")
        else:
            _check_username(plan, seen, first_line, line, username)
        role = _role(plan, line, str(row.role))
        team = _team(plan, seen, line, role, str(row.team), str(row.communes))
        province = _province(plan, seen, line, role, str(row.province))
        if role is not None and len(plan.rejects) == refused:
            plan.users.append(NewUser(line, username, role, team, province))
    for team_entry in plan.teams.values():
        if not team_entry.given:
            plan.refuse(
                team_entry.first,
                team_entry.name,
                "communes",
                f"tổ mới «{team_entry.name}» chưa có địa bàn: ghi xã/phường phụ trách ở ít nhất một dòng của tổ",
            )
    return plan


def _check_username(plan: AccountPlan, seen: _Lookups, first_line: dict[str, int], line: int, username: str) -> None:
    """A login name: well formed, given once in the file, not taken (each up to letter case)."""
    try:
        check_username(username)
    except InvalidRequest as exc:
        plan.refuse(line, username, "username", exc.message)
        return
    folded = username.lower()
    if folded in first_line:
        plan.refuse(
            line,
            username,
            "username",
            f"tên đăng nhập trùng với dòng {first_line[folded]} (không phân biệt chữ hoa, chữ thường)",
        )
    elif folded in seen.usernames:
        plan.refuse(line, username, "username", f"người dùng «{seen.usernames[folded]}» đã tồn tại")
    first_line.setdefault(folded, line)


def _role(plan: AccountPlan, line: int, text: str) -> Role | None:
    """The row's role, or None (refused: missing, unknown, or an administrator)."""
    role = role_of(text)
    importable = ", ".join(f"«{role.label}»" for role in IMPORTABLE_ROLES)
    if role is None:
        reason = f"vai trò «{text}» không có" if text else "thiếu vai trò"
        plan.refuse(line, text, "role", f"{reason}: ghi một trong {importable}")
    elif role not in IMPORTABLE_ROLES:
        plan.refuse(
            line,
            text,
            "role",
            f"không tạo «{role.label}» bằng tệp: hãy tạo từng quản trị viên ở trang Quản trị (chỉ nhận {importable})",
        )
        return None
    return role


def _team(plan: AccountPlan, seen: _Lookups, line: int, role: Role | None, text: str, communes: str) -> str | None:
    """The team of a team user's row (its name as stored), an existing working team or one the file creates with
    the communes its rows give; None for another role, which may give neither a team nor communes."""
    if role != Role.TEAM:
        for column, value in (("team", text), ("communes", communes)):
            if value and role is not None:
                plan.refuse(
                    line, value, column, f"chỉ người dùng vai trò «{Role.TEAM.label}» thuộc một tổ; để trống cột này"
                )
        return None
    if not text:
        plan.refuse(line, "", "team", f"người dùng vai trò «{Role.TEAM.label}» cần tên tổ công tác")
        return None
    try:
        name = team_name(text)
    except InvalidRequest as exc:
        plan.refuse(line, text[:80], "team", exc.message)
        return None
    existing = seen.teams.get(name.casefold())
    if existing is not None:
        if existing.dissolved_on is not None or communes:
            reason = team_name_taken(existing.name, existing.dissolved_on)
            if existing.dissolved_on is None:
                reason += ": để trống cột Xã/phường để thêm người vào tổ này (đổi địa bàn ở trang Quản trị)"
            plan.refuse(line, existing.name, "team" if existing.dissolved_on else "communes", reason)
        return existing.name
    new = plan.teams.setdefault(name.casefold(), NewTeam(name, line))
    if communes:
        new.given = True
        codes = _communes(plan, seen, line, communes)
        if codes is not None and new.line is None:
            new.communes, new.line = codes, line
        elif codes is not None and sorted(codes) != sorted(new.communes):
            plan.refuse(
                line, communes[:80], "communes", f"địa bàn của tổ «{new.name}» khác với dòng {new.line}: ghi một lần"
            )
    return new.name


def _communes(plan: AccountPlan, seen: _Lookups, line: int, text: str) -> list[str] | None:
    """The current communes a cell lists (codes or names, :func:`commune_items`), or None when one is refused."""
    directory = unit_directory()
    before = len(plan.rejects)
    codes: list[str] = []
    for item in commune_items(text):
        code = item if item.isdigit() else ""
        match, _ = directory.locate(code, "" if code else item, False, seen.communes)
        if match.found and match.system == "current":
            codes.append(match.candidates[0])
        elif match.found:
            plan.refuse(
                line,
                item,
                "communes",
                f"«{item}» là đơn vị trước ngày 1/7/2025: ghi xã/phường hiện hành (nay thuộc mã"
                f" {', '.join(match.candidates)})",
            )
        else:
            plan.refuse(line, item, "communes", match.reason or f"không có xã/phường «{item}»")
    return sorted(set(codes)) if codes and len(plan.rejects) == before else None


def _province(plan: AccountPlan, seen: _Lookups, line: int, role: Role | None, text: str) -> str | None:
    """The province a command or planner user is limited to (None: the whole country, written «Toàn quốc»); no other
    role gives one."""
    if role not in PROVINCIAL_ROLES:
        if text and role is not None:
            plan.refuse(line, text, "province", f"chỉ vai trò «{Role.COMMAND.label}», «{Role.PLANNER.label}» ghi tỉnh")
        return None
    if not text:
        plan.refuse(line, "", "province", "ghi mã hoặc tên tỉnh, thành phố (ví dụ 31), hoặc «Toàn quốc»")
        return None
    if is_nation(text):
        return None
    code = seen.provinces.get(text) or seen.provinces.get(header_key(text))
    if code is None:
        plan.refuse(line, text, "province", f"không có tỉnh, thành phố «{text}» (ghi mã, tên, hoặc «Toàn quốc»)")
    return code


def rejects_frame(plan: AccountPlan) -> pd.DataFrame:
    """The refused rows as a report table (line, ref, field, reason), in line order."""
    if not plan.rejects:
        return empty_rejects()
    frame = pd.DataFrame(plan.rejects, columns=list(REJECT_COLUMNS))
    return frame.sort_values(["line"], kind="stable", ignore_index=True)


def import_accounts(
    conn: Connection,
    actor: str,
    path: Path,
    *,
    new_password: Callable[[], str],
    hash_password: Callable[[str], str],
    sheet: str | None = None,
    dry_run: bool = False,
) -> AccountsImported:
    """Create the file's teams and users in the caller's transaction, or nothing (:class:`AccountsRefused`) when any
    row is refused. ``new_password`` and ``hash_password`` are the single creation's (api.security): each user's
    password is generated, hashed and must be changed at the first login. The import itself is audited last, with
    the file's name and what it created.

    ``dry_run``: the same creations, rolled back at their end (:func:`dry_run_savepoint`: no team, user or audit line
    stays), answering what the import would create; no password is generated (``password`` None)."""
    with dry_run_savepoint(conn, dry_run):
        return _import(conn, actor, path, new_password, hash_password, sheet, dry_run)


def _import(
    conn: Connection,
    actor: str,
    path: Path,
    new_password: Callable[[], str],
    hash_password: Callable[[str], str],
    sheet: str | None,
    dry_run: bool,
) -> AccountsImported:
    """The import itself (:func:`import_accounts`)."""
    plan = plan_accounts(conn, path, sheet)
    if plan.rejects:
        raise AccountsRefused(rejects_frame(plan))
    source = path.name
    for team in plan.teams.values():
        create_team(conn, actor, team.name, team.communes, source=source)
    team_ids = {key: row.id for key, row in teams_by_name(conn).items()}
    provinces = province_names(conn)
    created = []
    for user in plan.users:
        password = None if dry_run else new_password()
        hashed = _NO_HASH if password is None else hash_password(password)
        team_id = team_ids[user.team.casefold()] if user.team else None
        create_user(conn, actor, user.username, hashed, user.role, team_id, user.province_code, source=source)
        where = _where(user, provinces)
        created.append(CreatedAccount(user.username, user.role.label, where, password))
    imported = AccountsImported([team.name for team in plan.teams.values()], created, dry_run)
    record_admin_action(conn, actor, AdminAction.IMPORT_ACCOUNTS, details={"file": source, **imported.counts()})
    return imported


def _where(user: NewUser, provinces: dict[str, str]) -> str:
    """A new user's team or scope as the users list shows it: the team's name, a command or planner user's province
    by its name («Thành phố Hải Phòng», not its code) or «Toàn quốc», nothing for an administrator."""
    if user.team:
        return user.team
    if user.role in PROVINCIAL_ROLES:
        return provinces.get(user.province_code, user.province_code) if user.province_code else AreaLevel.NATION.label
    return ""


def password_sheet(imported: AccountsImported, heading: Heading) -> bytes:
    """The one-time passwords as an administrative Excel sheet, its heading telling to hand each officer their own
    line and destroy the sheet; made once, in memory, never stored."""
    return administrative_workbook(
        "MẬT KHẨU ĐĂNG NHẬP LẦN ĐẦU",
        "MẬT — Giao riêng cho từng cán bộ đúng dòng của mình (cắt rời từng dòng, không đưa cả bảng); người dùng phải"
        " đổi mật khẩu ngay khi đăng nhập lần đầu. Giao xong hãy hủy bảng này (xóa tệp, hủy bản in): hệ thống không"
        " lưu các mật khẩu này và không cấp lại bảng.",
        ["STT", "Tên đăng nhập", "Vai trò", "Tổ công tác / phạm vi", "Mật khẩu dùng một lần"],
        [[i, u.username, u.role, u.where, u.password] for i, u in enumerate(imported.users, 1)],
        heading=heading,
        issued=heading.issued_line(f"{len(imported.teams)} tổ mới, {len(imported.users)} người dùng mới"),
        sheet="Mật khẩu",
        widths=(6, 24, 18, 36, 24),
    )


def template_bytes() -> bytes:
    """The accounts template shipped with the package (data/samples), for the page and the README."""
    return resources.files("data").joinpath("samples", TEMPLATE).read_bytes()


def refusal_rows(refused: AccountsRefused) -> list[dict[str, Any]]:
    """The refused rows with their column's Vietnamese name (the command line prints them)."""
    return [
        {**row, "field_label": ACCOUNT_FIELD_LABELS.get(row["field"], row["field"])}
        for row in refused.rejects.to_dict("records")
    ]

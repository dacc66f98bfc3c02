"""Administration of users, teams and their areas (admin only; command may read the teams), every change audited."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from api.audit import record_read
from api.deps import Admin, ConnDep, OneOfEachPart, SessionsDep, require_roles
from api.downloads import disposition
from api.errors import RowsRefused
from api.limits import upload_body_size
from api.params import DateFrom, DateTo, day_window
from api.routes.imports import REFUSED_RESPONSE, DryRun, Sheet, Upload, note_dry_run, report_body, uploaded
from api.routes.reports import XLSX, XLSX_RESPONSE
from api.schemas import (
    AccessLogLine,
    AuditEntry,
    ImportOut,
    PasswordReset,
    ProvinceOut,
    SessionsRevoked,
    TeamAreaChange,
    TeamAreaIn,
    TeamAreaPeriod,
    TeamCreated,
    TeamDissolved,
    TeamDissolveIn,
    TeamIn,
    TeamNameIn,
    TeamOut,
    TeamRenamed,
    UserActiveIn,
    UserChanged,
    UserCreated,
    UserIn,
    UserOut,
    UserProvinceIn,
    UserRoleIn,
    UserTeamIn,
)
from api.security import generate_password, hash_password
from api.slots import heavy
from gis.services import admin
from gis.store.access_log import access_lines, with_what
from gis.store.accounts import list_teams, list_users, shared_communes, team_area_history, team_exists
from gis.store.provinces import document_heading, list_provinces, province_names
from gis.store.scoping import AreaScope
from models.domain.access import Principal, check_new_password, check_scope_stated
from models.vocabulary import ACCOUNT_FIELD_LABELS, AccessedData, Role

if TYPE_CHECKING:
    from gis.services.account_import import AccountsImported, AccountsRefused

router = APIRouter(prefix="/api", tags=["accounts"])
TeamReader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.COMMAND))]
ProvinceReader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.COMMAND, Role.PLANNER))]
Limit = Annotated[int, Query(ge=1, le=1000)]
Username = Annotated[str | None, Query(max_length=64, description="only this user's reads")]
RouteText = Annotated[str | None, Query(max_length=200, description="only routes containing this text")]
What = Annotated[AccessedData | None, Query(description="only reads of this data (its routes and commands)")]


@router.get("/teams", response_model=list[TeamOut])
def get_teams(
    conn: ConnDep,
    user: TeamReader,
    include_dissolved: Annotated[
        bool, Query(description="also the dissolved teams holding tasks in scope, after the others (filters only)")
    ] = False,
) -> list[dict]:
    """Teams with their current communes and member counts (administrators; command, to filter and assign — a
    provincial command only the teams working in its province). ``include_dissolved``: for the registers' filters, the
    dissolved teams whose old tasks the user may see follow, with ``dissolved_on``; never for a picker (such a team
    is given nothing)."""
    return list_teams(conn, AreaScope.of(user), include_dissolved)


@router.get("/provinces", response_model=list[ProvinceOut])
def get_provinces(conn: ConnDep, user: ProvinceReader) -> list[dict]:
    """Provinces with their number of current units (a provincial user: only their own)."""
    return [p for p in list_provinces(conn) if user.province_code in (None, p["code"])]


@router.post("/teams", status_code=201, response_model=TeamCreated)
def post_team(body: TeamIn, conn: ConnDep, user: Admin) -> dict:
    """Create a team responsible for the given communes from `valid_from` (default today); `shared` lists the
    communes another team also holds that day (allowed, for the administrator to confirm)."""
    team_id = admin.create_team(conn, user.username, body.name, body.communes, body.valid_from)
    return {"id": team_id, "name": body.name, "shared": shared_communes(conn, team_id, body.valid_from)}


@router.put("/teams/{team_id}/area", response_model=TeamAreaChange)
def put_team_area(team_id: int, body: TeamAreaIn, conn: ConnDep, user: Admin) -> dict:
    """Make `communes` the team's area from `valid_from` (today or later); earlier periods stay in the history and
    permissions follow the area valid on each day. `shared`: the area's communes another team also holds then."""
    change = admin.change_team_area(conn, user.username, team_id, body.communes, body.valid_from)
    return {"team_id": team_id, **change, "shared": shared_communes(conn, team_id, body.valid_from)}


@router.put("/teams/{team_id}/name", response_model=TeamRenamed)
def put_team_name(team_id: int, body: TeamNameIn, conn: ConnDep, user: Admin) -> dict:
    """Rename a team (412 on a stale version; 409 when another team has the name up to letter case): members, area,
    tasks and history stay the team's."""
    return admin.rename_team(conn, user.username, team_id, body.name, body.version)


@router.post("/teams/{team_id}/dissolution", response_model=TeamDissolved)
def post_team_dissolution(team_id: int, body: TeamDissolveIn, conn: ConnDep, user: Admin) -> dict:
    """Dissolve a team (giải thể tổ), audited: 409 while it holds unfinished tasks (how many; command reassigns,
    accepts or cancels them first) or has members (move them first), 412 on a stale version. Its area ends today; it
    is kept for its old tasks and the audit, but leaves every list and picker and can be given nothing."""
    return admin.dissolve_team(conn, user.username, team_id, body.version)


@router.get("/teams/{team_id}/areas", response_model=list[TeamAreaPeriod])
def get_team_areas(team_id: int, conn: ConnDep, user: Admin) -> list[dict]:
    """Every period of every commune of the team's area, newest first (planned changes included)."""
    team_exists(conn, team_id)
    return team_area_history(conn, team_id)


@router.get("/users", response_model=list[UserOut])
def get_users(conn: ConnDep, user: Admin) -> list[dict]:
    """Users with role, team, version and lock state."""
    return list_users(conn)


@router.post("/users", status_code=201, response_model=UserCreated)
def post_user(body: UserIn, conn: ConnDep, user: Admin) -> dict:
    """Create a user with an argon2-hashed password; without one, a generated password is answered this once. A
    command or planner user needs `province_code` or `national: true` (:func:`check_scope_stated`)."""
    check_scope_stated(body.role, body.province_code, body.national)
    if body.password is not None:
        check_new_password(body.password, body.username)
    password = body.password or generate_password()
    user_id = admin.create_user(
        conn, user.username, body.username, hash_password(password), body.role, body.team_id, body.province_code
    )
    created = {
        "id": user_id,
        "username": body.username,
        "role": body.role,
        "team_id": body.team_id,
        "province_code": body.province_code,
    }
    return {**created, "password": None if body.password else password}


#: Headers of the password sheet: kept by no cache, the browser's included (it is answered once).
NO_STORE = {"Cache-Control": "no-store"}


#: The accounts import's answers: the password sheet, or a dry run's report (JSON).
USERS_IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            **XLSX_RESPONSE[200]["content"],
            "application/json": {"schema": {"$ref": "#/components/schemas/ImportOut"}},
        },
        "description": "the one-time password sheet (Excel); with `dry_run=true` the check's report (JSON, ImportOut)",
    },
    **REFUSED_RESPONSE,
}


@router.post(
    "/users/import",
    response_class=Response,
    max_body_size=upload_body_size(),
    responses=USERS_IMPORT_RESPONSES,
)
def post_users_import(
    request: Request,
    conn: ConnDep,
    user: Admin,
    parts: OneOfEachPart,
    file: Upload,
    sheet: Sheet = None,
    dry_run: DryRun = False,
) -> Response:
    """Create the teams (with their areas) and users of an accounts file (as `diaban users import`; layout in
    README «Setting up a city»), all or nothing: one refused row refuses the file (422 with every refused row, its
    line and reason; nothing created, nothing audited). Each creation is audited as a single one, the file named, and
    the import as a whole after them (`import_accounts`: the file, how many teams and users). The answer is the
    one-time password sheet (Excel, answered once, never stored: `Cache-Control: no-store`); `X-Created-Teams` and
    `X-Created-Users` count what was created.

    `dry_run`: only check the file, the same creations rolled back: the same 422, or a report (ImportOut, JSON) of the
    users (`imported`) and new teams (`teams`) it would create, without passwords (none is generated: the import
    generates them)."""
    from gis.io.readers import EXCEL_SUFFIXES, TEXT_SUFFIXES
    from gis.services.account_import import AccountsRefused, import_accounts, password_sheet

    note_dry_run(request, dry_run)
    with uploaded(file, TEXT_SUFFIXES | EXCEL_SUFFIXES) as path:
        try:
            imported = heavy(
                request,
                lambda: import_accounts(
                    conn,
                    user.username,
                    path,
                    new_password=generate_password,
                    hash_password=hash_password,
                    sheet=sheet or None,
                    dry_run=dry_run,
                ),
            )
        except AccountsRefused as refused:
            report = _refusal_report(refused, path.name, dry_run)
            raise RowsRefused(report, refused.message, refused.reason) from None
    if imported.dry_run:
        return JSONResponse(_dry_run_report(imported, path.name), headers=NO_STORE)
    sheet_bytes = password_sheet(imported, document_heading(conn, None, user.username))
    counts = imported.counts()
    headers = {
        **disposition(f"mật-khẩu-lần-đầu-{len(imported.users)}-người.xlsx"),
        **NO_STORE,
        "X-Created-Teams": str(counts["teams"]),
        "X-Created-Users": str(counts["users"]),
    }
    return Response(sheet_bytes, media_type=XLSX, headers=headers)


def _refusal_report(refused: "AccountsRefused", file_name: str, dry_run: bool) -> dict[str, Any]:
    """An all-or-nothing import's refusal as an import report (the pages show every refused row)."""
    from gis.io.report_rows import ReportRows

    counts = {"imported": 0, "rejected": int(refused.rejects["line"].nunique())}
    rows = ReportRows.of(refused.rejects)
    return report_body("Tài khoản", file_name, counts, ACCOUNT_FIELD_LABELS, rows, dry_run=dry_run)


def _dry_run_report(imported: "AccountsImported", file_name: str) -> dict[str, Any]:
    """What a checked accounts file would create, as an import report: its users (``imported``) and new teams, and
    that their passwords are made by the import."""
    from gis.io.report_rows import ReportRows
    from gis.services.account_import import PASSWORDS_AT_IMPORT

    counts = {"imported": len(imported.users), "rejected": 0, "teams": len(imported.teams)}
    body = report_body(
        "Tài khoản", file_name, counts, ACCOUNT_FIELD_LABELS, ReportRows(), warnings=[PASSWORDS_AT_IMPORT], dry_run=True
    )
    return ImportOut.model_validate(body).model_dump(mode="json")


@router.get("/users/import-template", response_class=Response, responses=XLSX_RESPONSE)
def get_users_import_template(user: Admin) -> Response:
    """The accounts file's template (an Excel workbook with examples and a sheet of instructions)."""
    from gis.services.account_import import TEMPLATE_DOWNLOAD, template_bytes

    return Response(template_bytes(), media_type=XLSX, headers=disposition(TEMPLATE_DOWNLOAD))


@router.put("/users/{user_id:int}/province", response_model=UserOut)
def put_user_province(user_id: int, body: UserProvinceIn, conn: ConnDep, user: Admin, sessions: SessionsDep) -> dict:
    """Limit a command or planner user to a province, or (null) give them the whole country (412 on a stale version);
    the user's remembered sessions are forgotten so that the next request reads the new scope."""
    changed = admin.set_user_province(conn, user.username, user_id, body.province_code, body.version)
    sessions.forget_user(user_id)
    return changed


@router.patch("/users/{user_id:int}", response_model=UserChanged)
def patch_user(user_id: int, body: UserActiveIn, conn: ConnDep, user: Admin, sessions: SessionsDep) -> dict:
    """Deactivate or reactivate a user (412 on a stale version); deactivation ends every session of the user at once.
    A team member deactivated: `former_team` says how many open tasks their team keeps and who is left to work them."""
    changed = admin.set_user_active(conn, user.username, user_id, body.active, body.version, actor_id=user.id)
    sessions.forget_user(user_id)
    return changed


@router.put("/users/{user_id:int}/team", response_model=UserChanged)
def put_user_team(user_id: int, body: UserTeamIn, conn: ConnDep, user: Admin, sessions: SessionsDep) -> dict:
    """Move a team user to another team (412 on a stale version); their sessions go on, the next request reads the new
    team's area. The former team keeps its open tasks (`former_team` says how many, and who is left to work them)."""
    changed = admin.move_user(conn, user.username, user_id, body.team_id, body.version)
    sessions.forget_user(user_id)
    return changed


@router.put("/users/{user_id:int}/role", response_model=UserChanged)
def put_user_role(user_id: int, body: UserRoleIn, conn: ConnDep, user: Admin, sessions: SessionsDep) -> dict:
    """Give a user another role with its team or province (412 on a stale version); every session of the user ends
    (their rights change). Not one's own role, nor the last active administrator's. A command or planner role needs
    `province_code` or `national: true`: the whole country is never given by an omitted field. The API asks for it
    (the page and scripts, where a field is easily left out); the command line keeps its documented default (no
    `--province`: the whole country), which the server's operator types and reads back."""
    check_scope_stated(body.role, body.province_code, body.national)
    changed = admin.change_user_role(
        conn, user.username, user_id, body.role, body.team_id, body.province_code, body.version, actor_id=user.id
    )
    sessions.forget_user(user_id)
    return changed


@router.post("/users/{user_id:int}/password", response_model=PasswordReset)
def post_password(user_id: int, conn: ConnDep, user: Admin, sessions: SessionsDep) -> dict:
    """Give the user a new generated password, answered this once, lift any lock-out and end every session; not one's
    own (the own password's change asks for the current one)."""
    password = generate_password()
    changed = admin.reset_password(conn, user.username, user_id, hash_password(password), actor_id=user.id)
    sessions.forget_user(user_id)
    return {"id": user_id, "username": changed["username"], "password": password}


@router.post("/users/{user_id:int}/unlock", response_model=UserOut)
def post_unlock(user_id: int, conn: ConnDep, user: Admin) -> dict:
    """Lift a lock-out after too many failed logins."""
    return admin.unlock_user(conn, user.username, user_id)


@router.delete("/users/{user_id:int}/sessions", response_model=SessionsRevoked)
def delete_sessions(user_id: int, conn: ConnDep, user: Admin, sessions: SessionsDep) -> dict:
    """End every open session of a user (a lost phone, a leaked token): they must log in again; audited."""
    revoked = admin.revoke_sessions(conn, user.username, user_id)
    sessions.forget_user(user_id)
    return {"revoked": revoked}


@router.get("/audit", response_model=list[AuditEntry])
def get_audit(
    request: Request,
    conn: ConnDep,
    user: Admin,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Limit = 200,
) -> list[dict[str, Any]]:
    """Administrator actions, newest first, made on local days [from, to] (who, when, what, on which user or team, and
    what changed in words); the read is itself recorded in the access log."""
    entries = admin.audit_entries(conn, province_names(conn), limit, *day_window(date_from, date_to))
    record_read(request, conn, user, len(entries))
    return entries


@router.get("/audit.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def get_audit_xlsx(
    request: Request, conn: ConnDep, user: Admin, date_from: DateFrom = None, date_to: DateTo = None
) -> Response:
    """The admin audit of local days [from, to] as an administrative Excel file (Vietnamese headers, who exported it
    when and what it covers; at most the newest 50 000 entries), ``nhật-ký-quản-trị-<ngày xuất>.xlsx``; the export
    is recorded in the access log."""
    days = (date_from, date_to)
    export = admin.admin_audit_xlsx(conn, user.username, days=days, bounds=day_window(*days))
    record_read(request, conn, user, export.rows)
    return Response(export.content, media_type=XLSX, headers=disposition(export.name or ""))


@dataclass(frozen=True)
class AccessLogAsked:
    """The access log's filters as asked, the same for its list and its Excel export: local days [from, to] and their
    instants, a user, a route's text, what was read."""

    days: tuple[date | None, date | None]
    bounds: tuple[datetime | None, datetime | None]
    username: str | None
    route: str | None
    what: AccessedData | None


async def _access_log_asked(
    date_from: DateFrom = None,
    date_to: DateTo = None,
    username: Username = None,
    route: RouteText = None,
    what: What = None,
) -> AccessLogAsked:
    """The access log's filters from the query (a reversed window refused); async: nothing here waits."""
    return AccessLogAsked((date_from, date_to), day_window(date_from, date_to), username, route, what)


AccessLogAskedDep = Annotated[AccessLogAsked, Depends(_access_log_asked)]


@router.get("/access-log", response_model=list[AccessLogLine])
def get_access_log(
    request: Request, conn: ConnDep, user: Admin, asked: AccessLogAskedDep, limit: Limit = 200
) -> list[dict[str, Any]]:
    """Who read detailed data, newest first, filtered by user, local days [from, to], route text and what was read
    (`what`; each line says it, `what_label`), as `diaban audit` does on the command line; the read is itself a line of
    the log."""
    since, until = asked.bounds
    lines = access_lines(
        conn, username=asked.username, since=since, until=until, route=asked.route, what=asked.what, limit=limit
    )
    record_read(request, conn, user, len(lines))
    return [with_what(line) for line in lines]


@router.get("/access-log.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def get_access_log_xlsx(request: Request, conn: ConnDep, user: Admin, asked: AccessLogAskedDep) -> Response:
    """The access log filtered as `GET /api/access-log` (at most the newest 50 000 lines) as an administrative Excel
    file, ``nhật-ký-truy-cập-<ngày xuất>.xlsx``; the export is itself a line of the log."""
    export = admin.access_log_xlsx(
        conn,
        user.username,
        days=asked.days,
        bounds=asked.bounds,
        username=asked.username,
        route=asked.route,
        what=asked.what,
    )
    record_read(request, conn, user, export.rows)
    return Response(export.content, media_type=XLSX, headers=disposition(export.name or ""))

"""Web pages for people: login and logout with a session cookie, the change of one's own password, and each role's
working page."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from api.deps import CSRF_COOKIE, SESSION_COOKIE, ConnDep, SessionsDep, token_principal
from api.errors import PAGE_TAG
from api.headers import with_nonce
from api.login import attempt_login, change_own_password, client_address, issue_token, refusal_headers
from gis.services.overview import overview
from gis.store.incidents import has_synthetic_incidents
from gis.store.provinces import view_province
from gis.store.scoping import UNRESTRICTED, AreaScope, units_outside
from gis.store.sessions import previous_login, revoke_session
from maps.assets import map_view
from maps.pages import PageData, Viewer, login_page, password_page, role_page
from models.domain.access import PASSWORD_MAX_CHARS, Principal
from models.domain.hotspot_lifecycle import monitoring_days
from models.errors import InvalidRequest
from models.vocabulary import Role, SessionEnd

router = APIRouter(include_in_schema=False, tags=[PAGE_TAG])


def _secure(request: Request) -> bool:
    """Whether the browser talks HTTPS to us (directly or through a proxy)."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _login_page(conn: Connection, message: str = "", username: str = "") -> str:
    """The login form under the demo band while the data is synthetic, titled with the database's one province
    (several: 'toàn quốc')."""
    province = view_province(conn, UNRESTRICTED)
    return login_page(message, username, has_synthetic_incidents(conn), province["name"] if province else None)


@router.get("/login", response_class=HTMLResponse)
def get_login(request: Request, conn: ConnDep) -> HTMLResponse:
    """The login form (under the demo band while the data is synthetic); after a session that ended while a page was
    open (``?het-han``), saying so."""
    message = "Phiên đăng nhập đã hết hạn: hãy đăng nhập lại" if "het-han" in request.query_params else ""
    return HTMLResponse(with_nonce(_login_page(conn, message), request.state.csp_nonce))


def _same_origin(request: Request) -> bool:
    """Whether a form was posted from one of our own pages: its Origin (else Referer) is this site or one of
    DIABAN_ALLOWED_ORIGINS. Browsers send Origin with every cross-site POST; a request with neither header is not
    a browser's and carries no victim's cookies."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent:
        return True
    parts = urlsplit(sent)
    origin = f"{parts.scheme}://{parts.netloc}"
    scheme = "https" if _secure(request) else request.url.scheme
    return origin == f"{scheme}://{request.headers.get('host', '')}" or origin in request.app.state.allowed_origins


def _cross_site(request: Request, conn: Connection) -> HTMLResponse:
    """The refusal of a form posted from another site (login CSRF)."""
    page = _login_page(conn, "yêu cầu gửi từ trang khác, không được chấp nhận")
    return HTMLResponse(with_nonce(page, request.state.csp_nonce), status_code=403)


@router.post("/login", response_model=None)
def post_login(
    request: Request,
    conn: ConnDep,
    username: Annotated[str, Form(max_length=150)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Check the password (same lock-out as the API), then set the session and CSRF cookies; a form posted from
    another site is refused (it would log the victim into the attacker's account)."""
    if not _same_origin(request):
        return _cross_site(request, conn)
    outcome = attempt_login(request, conn, username, password)
    if outcome.user_id is None:
        page = _login_page(conn, outcome.shown, username)
        return HTMLResponse(
            with_nonce(page, request.state.csp_nonce),
            status_code=outcome.status,
            headers=refusal_headers(outcome),
        )
    return _signed_in(request, conn, outcome.user_id)


def _signed_in(request: Request, conn: Connection, user_id: int) -> RedirectResponse:
    """To the working page, with the cookies of a new session of the user (after a login or a password change)."""
    auth = request.app.state.auth
    response = RedirectResponse("/", status_code=303)
    max_age = auth.token_minutes * 60
    response.set_cookie(
        SESSION_COOKIE,
        issue_token(conn, auth, user_id, client_address(request)),
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(24),
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    return response


@router.post("/logout", response_model=None)
def post_logout(request: Request, conn: ConnDep, sessions: SessionsDep) -> Response:
    """End the session on the server and forget its cookies: the old cookie, replayed, no longer reads or writes
    anything. A logout posted from another site is refused with the 403 page of a cross-site form (Origin / Referer),
    never answered like a logout that kept the session. One from our own page ends the session whatever its ``csrf``
    field holds: an older tab's token (the user logged in again in another tab, which set a new one) had been refused
    with a login form over a session still open — on a shared computer the user left believing they were logged out;
    ending a session is what the holder of its cookie asked, and another site cannot ask it. Without an open session
    there is nothing to end: to the login form."""
    response = RedirectResponse("/login", status_code=303)
    if token_principal(request, conn, request.cookies.get(SESSION_COOKIE)) is not None:
        if not _same_origin(request):
            return _cross_site(request, conn)
        revoke_session(conn, request.state.session_id, SessionEnd.LOGOUT)
        sessions.forget(request.state.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/", response_model=None)
def home(request: Request, conn: ConnDep) -> Response:
    """The working page of the logged-in user's role, or the login form."""
    user = token_principal(request, conn, request.cookies.get(SESSION_COOKIE))
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if user.must_change_password:
        return _password_form(request, conn, user, status_code=200)
    facts = overview(conn, user, memo=request.app.state.analysis_memo.get_or_build)
    extent = facts.extent
    mainland, whole = (extent.mainland, extent.whole) if extent else (None, None)
    viewer = Viewer(
        username=user.username,
        role=user.role,
        role_label=Role(user.role).label,
        team_id=user.team_id,
        team_communes=facts.team_communes,
        team_name=facts.team_name,
        area=facts.area,
        view=map_view(facts.province_code, mainland, whole),
    )
    csrf = request.cookies.get(CSRF_COOKIE, "")
    data = PageData(
        years=facts.years,
        approved_year=facts.approved_year,
        last_incident=facts.last_incident,
        kpi=facts.kpi,
        synthetic=facts.synthetic,
        four_eyes=request.app.state.four_eyes,
        photo_max_bytes=request.app.state.photo_max_bytes,
        monitoring_days=monitoring_days(request.app.state.hotspot_machine),
        covers_all=user.role not in (Role.PLANNER, Role.COMMAND) or not units_outside(conn, AreaScope.of(user)),
        previous_login=previous_login(conn, user.id) if user.role == Role.TEAM else None,
    )
    body = role_page(viewer, csrf, data, request.app.state.basemap)
    return HTMLResponse(with_nonce(body, request.state.csp_nonce), headers={"Cache-Control": "no-store"})


def _password_form(
    request: Request, conn: Connection, user: Principal, message: str = "", status_code: int = 200
) -> HTMLResponse:
    """The password change page of ``user`` (the only page while an administrator's password is unchanged)."""
    province = view_province(conn, AreaScope.of(user))
    page = password_page(
        user.username,
        request.cookies.get(CSRF_COOKIE, ""),
        forced=user.must_change_password,
        message=message,
        synthetic=has_synthetic_incidents(conn),
        area=province["name"] if province else None,
    )
    return HTMLResponse(
        with_nonce(page, request.state.csp_nonce), status_code=status_code, headers={"Cache-Control": "no-store"}
    )


@router.get("/password", response_model=None)
def get_password(request: Request, conn: ConnDep) -> Response:
    """The form to change one's own password (the login form without a session)."""
    user = token_principal(request, conn, request.cookies.get(SESSION_COOKIE))
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return _password_form(request, conn, user)


@router.post("/password", response_model=None)
def post_password(
    request: Request,
    conn: ConnDep,
    sessions: SessionsDep,
    current_password: Annotated[str, Form(max_length=PASSWORD_MAX_CHARS)],
    new_password: Annotated[str, Form(max_length=PASSWORD_MAX_CHARS)],
    repeated: Annotated[str, Form(max_length=PASSWORD_MAX_CHARS)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Change one's own password from the page (as POST /api/auth/password: the current one checked like a login,
    every session of the user ended), then continue in a new session; a refusal shows the form again with why."""
    user = token_principal(request, conn, request.cookies.get(SESSION_COOKIE))
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if not (csrf and csrf == request.cookies.get(CSRF_COOKIE) and _same_origin(request)):
        return _password_form(request, conn, user, "yêu cầu gửi từ trang khác, không được chấp nhận", 403)
    if new_password != repeated:
        return _password_form(request, conn, user, "hai lần nhập mật khẩu mới không khớp", 422)
    try:
        outcome = change_own_password(
            conn, request.app.state.auth, user, current_password, new_password, client_address(request)
        )
    except InvalidRequest as refusal:
        return _password_form(request, conn, user, refusal.message, 422)
    if outcome.user_id is None:  # the brakes' counts are committed with the refusal
        return _password_form(request, conn, user, outcome.shown, outcome.status)
    sessions.forget_user(user.id)
    return _signed_in(request, conn, user.id)

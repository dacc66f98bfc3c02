"""Web pages for people: login and logout with a session cookie, and each role's working page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import CSRF_COOKIE, SESSION_COOKIE, ConnDep, token_principal
from api.login import authenticate
from api.security import create_access_token
from gis.services.overview import overview
from gis.store.incidents import has_synthetic_incidents
from maps.pages import PageData, Viewer, login_page, role_page
from models.vocabulary import Role

router = APIRouter(include_in_schema=False)


def _secure(request: Request) -> bool:
    """Whether the browser talks HTTPS to us (directly or through a proxy)."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


@router.get("/login", response_class=HTMLResponse)
def get_login(conn: ConnDep) -> HTMLResponse:
    """The login form (under the demo band while the data is synthetic)."""
    return HTMLResponse(login_page(synthetic=has_synthetic_incidents(conn)))


@router.post("/login", response_model=None)
def post_login(
    request: Request,
    conn: ConnDep,
    username: Annotated[str, Form(max_length=150)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Check the password (same lock-out as the API), then set the session and CSRF cookies."""
    auth = request.app.state.auth
    outcome = authenticate(conn, auth, username, password)
    if outcome.user_id is None:
        page = login_page(outcome.message, username, has_synthetic_incidents(conn))
        return HTMLResponse(page, status_code=outcome.status)
    response = RedirectResponse("/", status_code=303)
    max_age = auth.token_minutes * 60
    response.set_cookie(
        SESSION_COOKIE,
        create_access_token(outcome.user_id, auth.secret_key, auth.token_minutes),
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


@router.post("/logout")
def post_logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> RedirectResponse:
    """Forget the session (only when the form carries the CSRF token, so other sites cannot log users out)."""
    response = RedirectResponse("/login", status_code=303)
    if csrf and csrf == request.cookies.get(CSRF_COOKIE):
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/", response_model=None)
def home(request: Request, conn: ConnDep) -> Response:
    """The working page of the logged-in user's role, or the login form."""
    user = token_principal(request, conn, request.cookies.get(SESSION_COOKIE))
    if user is None:
        return RedirectResponse("/login", status_code=303)
    facts = overview(conn, user)
    viewer = Viewer(
        username=user.username,
        role=user.role,
        role_label=Role(user.role).label,
        team_id=user.team_id,
        team_communes=facts.team_communes,
    )
    csrf = request.cookies.get(CSRF_COOKIE, "")
    data = PageData(
        years=facts.years,
        approved_year=facts.approved_year,
        last_incident=facts.last_incident,
        kpi=facts.kpi,
        synthetic=facts.synthetic,
    )
    body = role_page(viewer, csrf, data, request.app.state.basemap)
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})

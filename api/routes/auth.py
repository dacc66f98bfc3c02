"""OAuth2 password flow: a short-lived bearer token naming a server-side session; who am I; logout; new password."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ConnDep, SessionsDep, SessionUser
from api.errors import ErrorOut
from api.login import attempt_login, change_own_password, client_address, issue_token, refusal_headers
from api.schemas import MeOut, PasswordChangeIn, TokenOut
from gis.store.sessions import revoke_session
from models.vocabulary import Role, SessionEnd

router = APIRouter(prefix="/api/auth", tags=["auth"])
THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorOut, "description": "quá nhiều lần sai từ địa chỉ này; chờ Retry-After giây (throttled)"}
}


@router.post("/token", response_model=TokenOut, responses=THROTTLED)
def login(
    request: Request, conn: ConnDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> dict[str, str] | JSONResponse:
    """Exchange a username and password for a bearer token. Failures are counted per account (a short lock) and per
    client address (a growing delay, 429); every refusal of a name or password reads the same.

    Refusals are returned, not raised, so that the failure counts are committed.
    """
    outcome = attempt_login(request, conn, form.username, form.password)
    if outcome.user_id is None:
        return JSONResponse(
            status_code=outcome.status,
            headers=refusal_headers(outcome),
            content=outcome.body,
        )
    token = issue_token(conn, request.app.state.auth, outcome.user_id, client_address(request))
    return {"access_token": token, "token_type": "bearer"}


@router.get("/me", response_model=MeOut)
def me(user: SessionUser) -> dict[str, Any]:
    """The logged-in user: id, username, role (with its Vietnamese label), team, province, how far their view
    reaches (nation, province or team) and whether they must first change the password an administrator gave."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "role_label": Role(user.role).label,
        "team_id": user.team_id,
        "province_code": user.province_code,
        "level": user.level,
        "level_label": user.level.label,
        "must_change_password": user.must_change_password,
    }


@router.post("/logout", status_code=204, response_class=Response)
def logout(request: Request, conn: ConnDep, user: SessionUser, sessions: SessionsDep) -> Response:
    """End the session of this token at once: the token (or cookie) no longer reads or writes anything."""
    revoke_session(conn, request.state.session_id, SessionEnd.LOGOUT)
    sessions.forget(request.state.session_id)
    return Response(status_code=204)


@router.post("/password", response_model=TokenOut, responses={403: {"model": ErrorOut}, **THROTTLED})
def change_password(
    request: Request, conn: ConnDep, user: SessionUser, sessions: SessionsDep, body: PasswordChangeIn
) -> dict[str, str] | JSONResponse:
    """Change one's own password (the current one is checked like a login; the new one must differ): every session
    of the user ends, this one included, and the answer carries a token for a new session. The one route open to a
    user who must change the password an administrator gave, with who am I and logout."""
    auth = request.app.state.auth
    address = client_address(request)
    outcome = change_own_password(conn, auth, user, body.current_password, body.new_password, address)
    if outcome.user_id is None:
        return JSONResponse(
            status_code=outcome.status,
            headers=refusal_headers(outcome) if outcome.status == 429 else None,
            content=outcome.body,
        )
    sessions.forget_user(user.id)
    return {"access_token": issue_token(conn, auth, user.id, address), "token_type": "bearer"}

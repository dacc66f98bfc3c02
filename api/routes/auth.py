"""OAuth2 password flow: a short-lived bearer token for a username and password; who am I."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ConnDep, CurrentUser
from api.errors import ErrorOut
from api.login import authenticate, client_address, refusal_headers
from api.schemas import MeOut, TokenOut
from api.security import create_access_token
from models.vocabulary import Role

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenOut,
    responses={
        429: {"model": ErrorOut, "description": "quá nhiều lần sai từ địa chỉ này; chờ Retry-After giây (throttled)"}
    },
)
def login(
    request: Request, conn: ConnDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> dict[str, str] | JSONResponse:
    """Exchange a username and password for a bearer token. Failures are counted per account (a short lock) and per
    client address (a growing delay, 429); every refusal of a name or password reads the same.

    Refusals are returned, not raised, so that the failure counts are committed.
    """
    auth = request.app.state.auth
    outcome = authenticate(conn, auth, form.username, form.password, client_address(request))
    if outcome.user_id is None:
        return JSONResponse(
            status_code=outcome.status,
            headers=refusal_headers(outcome),
            content={"detail": outcome.message, "code": outcome.code},
        )
    return {
        "access_token": create_access_token(outcome.user_id, auth.secret_key, auth.token_minutes),
        "token_type": "bearer",
    }


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser) -> dict[str, Any]:
    """The logged-in user: id, username, role (with its Vietnamese label) and team."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "role_label": Role(user.role).label,
        "team_id": user.team_id,
    }

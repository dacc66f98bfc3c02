"""OAuth2 password flow: a short-lived bearer token for a username and password; who am I."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ConnDep, CurrentUser
from api.errors import ErrorOut
from api.login import authenticate
from api.schemas import MeOut, TokenOut
from api.security import create_access_token
from models.vocabulary import Role

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenOut,
    responses={429: {"model": ErrorOut, "description": "tài khoản tạm khóa (account locked)"}},
)
def login(
    request: Request, conn: ConnDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> dict[str, str] | JSONResponse:
    """Exchange a username and password for a bearer token; repeated failures lock the account for a while.

    Refusals are returned, not raised, so that the failure count is committed.
    """
    auth = request.app.state.auth
    outcome = authenticate(conn, auth, form.username, form.password)
    if outcome.user_id is None:
        headers = {"WWW-Authenticate": "Bearer"} if outcome.status == 401 else None
        return JSONResponse(
            status_code=outcome.status, headers=headers, content={"detail": outcome.message, "code": outcome.code}
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

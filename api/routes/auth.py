"""OAuth2 password flow: a short-lived bearer token for a username and password; who am I."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ConnDep, CurrentUser
from api.security import create_access_token, dummy_hash, verify_password
from gis.accounts import login_record, record_login
from models.access import ROLE_LABELS_VI

router = APIRouter(prefix="/api/auth", tags=["auth"])



def refused() -> JSONResponse:
    """401 for a wrong username or password (the same answer for both)."""
    return JSONResponse(status_code=401, headers={"WWW-Authenticate": "Bearer"},
                        content={"detail": "sai tên đăng nhập hoặc mật khẩu (incorrect username or password)"})


@router.post("/token", response_model=None)
def login(request: Request, conn: ConnDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
          ) -> dict[str, str] | JSONResponse:
    """Exchange a username and password for a bearer token; repeated failures lock the account for a while.

    Refusals are returned, not raised, so that the failure count is committed.
    """
    auth = request.app.state.auth
    user = login_record(conn, form.username)
    if user is not None and user["locked"]:
        return JSONResponse(status_code=429, content={
            "detail": f"tài khoản tạm khóa sau {auth.max_failed_logins} lần đăng nhập sai; "
                      f"thử lại sau {auth.lockout_minutes} phút (account temporarily locked)"})
    ok = verify_password(form.password, user["password_hash"] if user else dummy_hash())
    if user is None:
        return refused()
    record_login(conn, user["id"], ok and user["active"], auth.max_failed_logins, auth.lockout_minutes)
    if not (ok and user["active"]):
        return refused()
    return {"access_token": create_access_token(user["id"], auth.secret_key, auth.token_minutes),
            "token_type": "bearer"}


@router.get("/me")
def me(user: CurrentUser) -> dict[str, Any]:
    """The logged-in user: id, username, role (with its Vietnamese label) and team."""
    return {"id": user.id, "username": user.username, "role": user.role, "role_label": ROLE_LABELS_VI[user.role],
            "team_id": user.team_id}

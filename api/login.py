"""Checking a username and password, shared by the API token route and the login page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from api.security import dummy_hash, verify_password
from gis.settings import AuthSettings
from gis.store.accounts import login_record, record_login


@dataclass(frozen=True)
class LoginOutcome:
    """The user id on success, else the HTTP status (401 refused, 429 locked) and a Vietnamese message."""

    user_id: int | None
    status: int
    message: str = ""
    code: str = ""


def authenticate(conn: Connection, auth: AuthSettings, username: str, password: str) -> LoginOutcome:
    """Verify a password; repeated failures lock the account for a while (the caller must commit)."""
    user = login_record(conn, username)
    if user is not None and user["locked"]:
        return LoginOutcome(
            None,
            429,
            f"tài khoản tạm khóa sau {auth.max_failed_logins} lần đăng nhập sai; "
            f"thử lại sau {auth.lockout_minutes} phút (account temporarily locked)",
            "account_locked",
        )
    ok = verify_password(password, user["password_hash"] if user else dummy_hash())
    if user is not None:
        record_login(conn, user["id"], ok and user["active"], auth.max_failed_logins, auth.lockout_minutes)
    if user is None or not (ok and user["active"]):
        return LoginOutcome(
            None, 401, "sai tên đăng nhập hoặc mật khẩu (incorrect username or password)", "invalid_credentials"
        )
    return LoginOutcome(user["id"], 200)

"""Checking a username and password, shared by the API token route and the login page.

Two brakes, both counted in the database under row locks (see :mod:`gis.store.logins`), so that
parallel guesses are counted one by one: after ``login_free_failures`` failures a client address waits 1, 2,
4 … seconds before each further try (429 with ``Retry-After``, whatever the username); an account locks for
``lockout_minutes`` after ``max_failed_logins`` failures and until then refuses even the right password.
A locked, unknown, inactive account and a wrong password get the same answer, after the same argon2
work, so the answer says nothing about which names exist.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import Connection

from api.security import create_access_token, dummy_hash, hash_password, verify_password
from gis.settings import AuthSettings
from gis.store.accounts import set_password
from gis.store.audit import recent_reset, record_admin_action
from gis.store.logins import claim_account, claim_source, record_account, record_source
from gis.store.sessions import open_session
from models.domain.access import Principal, check_new_password
from models.errors import InvalidRequest
from models.vocabulary import AdminAction, vietnamese_reason

#: The one refusal of a login, whatever the reason (no enumeration of usernames or locks).
REFUSED = (
    "sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang tạm khóa do đăng nhập sai nhiều lần "
    "(incorrect username or password, or the account is temporarily locked)"
)
#: Longest client address kept (an IPv6 address with a zone fits).
_ADDRESS_MAX = 64
#: Longest login name written to the request log for a refused login (the forms take 150 characters).
_TRIED_MAX = 150

log = logging.getLogger("diaban.login")


@dataclass(frozen=True)
class LoginOutcome:
    """The user id on success, else the HTTP status (401 refused, 429 throttled), a Vietnamese message and code."""

    user_id: int | None
    status: int
    message: str = ""
    code: str = ""
    retry_after: int | None = None

    @property
    def shown(self) -> str:
        """What a page shows: the message without the English reason in its closing brackets (for API clients and
        the logs)."""
        return vietnamese_reason(self.message)

    @property
    def body(self) -> dict[str, str]:
        """The API's refusal: the documented error body (``detail`` with the English reason, ``message`` without)."""
        return {"detail": self.message, "message": self.shown, "code": self.code}


def refusal_headers(outcome: LoginOutcome) -> dict[str, str]:
    """Headers of a refused login: the bearer challenge (401) or when to retry (429)."""
    if outcome.retry_after is not None:
        return {"Retry-After": str(outcome.retry_after)}
    return {"WWW-Authenticate": "Bearer"}


def client_address(request: Request) -> str:
    """The client's address as the server sees it (uvicorn puts a trusted proxy's X-Forwarded-For there)."""
    return (request.client.host if request.client else "unknown")[:_ADDRESS_MAX]


def authenticate(conn: Connection, auth: AuthSettings, username: str, password: str, address: str) -> LoginOutcome:
    """Verify a password under the address's and the account's brakes (the caller must commit the counts)."""
    wait = claim_source(conn, address, auth.login_window_minutes)
    if wait > 0:
        seconds = math.ceil(wait)
        return LoginOutcome(
            None,
            429,
            f"quá nhiều lần đăng nhập sai từ địa chỉ này; thử lại sau {seconds} giây "
            f"(too many failed logins from this address; retry after {seconds} s)",
            "too_many_attempts",
            seconds,
        )
    account = claim_account(conn, username)
    checkable = account is not None and not account.locked
    ok = verify_password(password, account.password_hash if checkable and account else dummy_hash())
    success = bool(checkable and ok and account and account.active)
    if account is not None:
        locked = record_account(conn, account.id, success, auth.max_failed_logins, auth.lockout_minutes)
        if locked and not account.locked:
            log.warning(
                "tài khoản %s tạm khóa %d phút sau %d lần đăng nhập sai, lần cuối từ %s (account locked)",
                username,
                auth.lockout_minutes,
                auth.max_failed_logins,
                address,
            )
    record_source(conn, address, success, auth.login_free_failures, auth.login_max_delay_s)
    if not success or account is None:
        return LoginOutcome(None, 401, REFUSED, "invalid_credentials")
    return LoginOutcome(account.id, 200)


def attempt_login(request: Request, conn: Connection, username: str, password: str) -> LoginOutcome:
    """A login from the page's form or the API's token route (:func:`authenticate` from the client's address); the
    request's log line names the user on success, else the account tried (a login name, never the password)."""
    outcome = authenticate(conn, request.app.state.auth, username, password, client_address(request))
    if outcome.user_id is not None:
        request.state.username = username
    else:
        request.state.login_tried = username[:_TRIED_MAX]
    return outcome


def issue_token(conn: Connection, auth: AuthSettings, user_id: int, address: str) -> str:
    """Open a server-side session for the user and sign a token that names it (the caller must commit)."""
    assert auth.secret_key is not None, "the app resolves the signing key at start-up"
    session_id = open_session(conn, user_id, auth.token_minutes, address)
    return create_access_token(user_id, session_id, auth.secret_key, auth.token_minutes)


#: The refusal of a password change whose current password is wrong (a login's brakes count it).
WRONG_CURRENT = "mật khẩu hiện tại không đúng (wrong current password)"


def change_own_password(
    conn: Connection, auth: AuthSettings, user: Principal, current: str, new: str, address: str
) -> LoginOutcome:
    """A user's change of their own password, shared by the API and the page: the current one is checked like a login
    (the same brakes); on success the new one is stored, no longer one to change (a trigger ends every session of
    the user), the change is written to the admin audit (who, from ``address``, whether it replaced a password an
    administrator gave; never a password or hash), and the caller issues a new token. A new password equal to the
    current one is refused: it would keep the one an administrator gave; so is one guessed first
    (:func:`models.domain.access.check_new_password`)."""
    if new == current:
        raise InvalidRequest(
            "mật khẩu mới phải khác mật khẩu hiện tại", "the new password must differ from the current one"
        )
    check_new_password(new, user.username)
    outcome = authenticate(conn, auth, user.username, current, address)
    if outcome.user_id is None:
        return outcome if outcome.status == 429 else LoginOutcome(None, 403, WRONG_CURRENT, "wrong_password")
    set_password(conn, user.id, hash_password(new), must_change=False)
    details: dict[str, Any] = {"address": address, "given": user.must_change_password}
    if user.must_change_password:  # the reset it replaces, if recent: whoever held the one-time password made this
        given = recent_reset(conn, user.username)
        if given.by is not None and given.at is not None:
            details |= {"given_by": given.by, "given_at": given.at.isoformat()}
            if given.on_creation:
                details["given_on_creation"] = True
    record_admin_action(conn, user.username, AdminAction.CHANGE_OWN_PASSWORD, user_id=user.id, details=details)
    return outcome

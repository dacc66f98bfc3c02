"""Server-side sessions (finding 4 of issue 15: after logout the old cookie still read and wrote for 30 minutes).

A token names a session; logout, a password change, deactivation and an administrator end it at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from conftest import TEST_PASSWORD, bearer_headers, scratch_database
from sqlalchemy import text

from api.sessions import SessionCache
from gis.ops.postgres import ManagedCluster
from gis.store.accounts import create_user
from models.domain.access import Principal

HOTSPOT = {"lon": 106.683, "lat": 20.86, "note": "tin báo"}


def _token(client, username: str, password: str = TEST_PASSWORD) -> dict[str, str]:
    response = client.post(
        "/api/auth/token", data={"username": username, "password": password}, headers={"Authorization": ""}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_replayed_cookie_neither_reads_nor_writes_after_logout(client, make_user, conn) -> None:
    client.headers.pop("Authorization")
    make_user("out-cookie", "command")
    assert client.post("/login", data={"username": "out-cookie", "password": TEST_PASSWORD}).status_code == 200
    cookies = dict(client.cookies)
    csrf = {"X-CSRF-Token": cookies["diaban_csrf"]}
    assert client.get("/api/hotspots").status_code == 200
    client.post("/logout", data={"csrf": cookies["diaban_csrf"]}, follow_redirects=False)
    client.cookies.clear()
    for name, value in cookies.items():  # an attacker who kept the cookies
        client.cookies.set(name, value)
    assert client.get("/api/hotspots").status_code == 401
    assert client.post("/api/hotspots", json=HOTSPOT, headers=csrf).status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303
    reason = conn.execute(
        text("SELECT revoked_reason FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'out-cookie'")
    ).scalar_one()
    assert reason == "logout"


def test_api_logout_ends_only_that_session(client, make_user) -> None:
    make_user("out-api", "planner")
    first, second = _token(client, "out-api"), _token(client, "out-api")
    assert client.post("/api/auth/logout", headers=first).status_code == 204
    assert client.get("/api/auth/me", headers=first).status_code == 401
    assert client.get("/api/auth/me", headers=second).status_code == 200


def test_a_new_password_ends_every_session_and_gives_a_new_one(client, make_user) -> None:
    make_user("new-pw", "planner")
    phone, laptop = _token(client, "new-pw"), _token(client, "new-pw")
    wrong = client.post(
        "/api/auth/password", json={"current_password": "sai", "new_password": "mat-khau-moi-dai"}, headers=phone
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    changed = client.post(
        "/api/auth/password",
        json={"current_password": TEST_PASSWORD, "new_password": "mat-khau-moi-dai"},
        headers=phone,
    )
    assert changed.status_code == 200
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get("/api/auth/me", headers=phone).status_code == 401
    assert client.get("/api/auth/me", headers=laptop).status_code == 401
    assert client.get("/api/auth/me", headers=fresh).status_code == 200
    assert _token(client, "new-pw", "mat-khau-moi-dai")


def test_an_administrator_ends_sessions_and_deactivates(client, make_user, bearer) -> None:
    user_id = make_user("lost-phone", "command")
    admin = bearer(make_user("admin-sessions", "admin"))
    one, two = _token(client, "lost-phone"), _token(client, "lost-phone")
    revoked = client.delete(f"/api/users/{user_id}/sessions", headers=admin)
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 2}
    assert client.get("/api/auth/me", headers=one).status_code == 401
    assert client.get("/api/auth/me", headers=two).status_code == 401
    again = _token(client, "lost-phone")
    assert (
        client.patch(f"/api/users/{user_id}", json={"active": False, "version": 1}, headers=admin).json()["active"]
        is False
    )
    assert client.get("/api/auth/me", headers=again).status_code == 401
    assert client.delete("/api/users/999999/sessions", headers=admin).status_code == 404
    assert client.delete(f"/api/users/{user_id}/sessions", headers=again).status_code == 401


def test_any_deactivation_or_new_password_ends_sessions_in_the_database(conn, make_user) -> None:
    """The trigger on users ends sessions whoever makes the change (here plain SQL, as a maintenance script would)."""
    from gis.store.sessions import open_session

    user_id = make_user("by-sql", "planner")
    open_session(conn, user_id, 30)
    conn.execute(text("UPDATE users SET password_hash = 'x' WHERE id = :id"), {"id": user_id})
    open_session(conn, user_id, 30)
    conn.execute(text("UPDATE users SET active = false WHERE id = :id"), {"id": user_id})
    reasons = conn.execute(
        text("SELECT revoked_reason FROM sessions WHERE user_id = :id ORDER BY created_at, revoked_reason"),
        {"id": user_id},
    ).scalars()
    assert sorted(reasons) == ["deactivated", "password"]


def test_the_process_remembers_open_sessions_briefly() -> None:
    now = [0.0]
    cache = SessionCache(5, clock=lambda: now[0])
    cache.heard_until(math.inf)  # its listener hears the database's notices
    alice, bob = Principal(1, "alice", "command"), Principal(2, "bob", "planner")
    cache.put("a", alice, cache.generation())
    cache.put("b", bob, cache.generation())
    now[0] = 4.9
    assert cache.get("a") == alice
    now[0] = 5.0  # older than the delay: ask the database again
    assert cache.get("a") is None
    cache.put("a", alice, cache.generation())
    cache.forget_user(1)
    assert cache.get("a") is None
    cache.forget("b")
    assert cache.get("b") is None
    off = SessionCache(0)
    off.put("a", alice, off.generation())
    assert off.get("a") is None


def test_a_remembered_session_is_trusted_until_its_expiry_not_past_it(client, conn, make_user) -> None:
    """A session that reaches its expiry time sends no notice: the process remembered it for the whole delay
    (DIABAN_SESSION_CHECK_SECONDS) whatever time it had left, so it worked up to that long past its end. It is
    remembered until its end by the database's clock (the token, signed by the server's clock, may say later)."""
    now = [0.0]
    cache = SessionCache(3600, clock=lambda: now[0])
    cache.heard_until(math.inf)
    client.app.state.sessions = cache
    user_id = make_user("het-gio", "command")
    headers = bearer_headers(client.app, conn, user_id, minutes=30)
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    # Its 30 minutes pass (the process's clock, and the database's: the session expired there).
    conn.execute(
        text("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = :u"), {"u": user_id}
    )
    now[0] = 29 * 60
    assert client.get("/api/auth/me", headers=headers).status_code == 200  # remembered: the database is not asked
    now[0] = 30 * 60
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_an_answer_read_before_a_revocation_is_not_remembered_after_it() -> None:
    """A lookup that read the session open before a revocation committed, and would remember it after the process
    forgot the user's sessions, remembers nothing: the session would have worked for the whole delay."""
    cache = SessionCache(5, clock=lambda: 0.0)
    cache.heard_until(math.inf)
    alice = Principal(1, "alice", "command")
    before_lookup = cache.generation()
    cache.forget_user(1)  # the revocation commits while the lookup runs
    cache.put("a", alice, before_lookup)
    assert cache.get("a") is None
    cache.put("a", alice, cache.generation())
    assert cache.get("a") == alice


def test_the_process_trusts_nothing_it_remembers_while_it_does_not_hear_the_notices() -> None:
    """Before the listener's first heartbeat, after its lease ran out and after its connection was lost, every request
    asks the database; a lookup begun while deaf is not remembered once the notices are heard again (a revocation
    may have gone unheard meanwhile). A notice naming a user forgets that user's sessions, one naming none all."""
    now = [0.0]
    cache = SessionCache(600, clock=lambda: now[0])
    alice, bob = Principal(1, "alice", "command"), Principal(2, "bob", "planner")
    cache.put("a", alice, cache.generation())
    assert cache.get("a") is None  # not heard yet
    while_deaf = cache.generation()
    cache.heard_until(3.0)
    cache.put("a", alice, while_deaf)
    assert cache.get("a") is None
    cache.put("a", alice, cache.generation())
    cache.put("b", bob, cache.generation())
    assert cache.get("a") == alice
    now[0] = 3.0  # no heartbeat came back within the lease
    assert cache.get("a") is None
    cache.heard_until(6.0)
    assert cache.get("a") == alice  # the connection lived: nothing went unheard
    cache.user_changed(1)
    assert (cache.get("a"), cache.get("b")) == (None, bob)
    cache.user_changed(None)
    assert cache.get("b") is None
    cache.put("b", bob, cache.generation())
    cache.deaf()
    assert cache.get("b") is None
    cache.put("b", bob, cache.generation())
    assert cache.get("b") is None


class _RequestsWhileForgetting(SessionCache):
    """A session cache that, when told to forget a user, first lets ``during`` run (another request of the process)."""

    def __init__(self, during: Callable[[], None]) -> None:
        super().__init__(3600)  # long: nothing expires during the test, however slow the machine
        self.during = during

    def forget_user(self, user_id: int) -> None:
        self.during()
        super().forget_user(user_id)


def test_a_deactivated_officer_is_refused_by_the_next_request_even_one_racing_the_commit(
    cluster: ManagedCluster, password_hash: str
) -> None:
    """The process forgot the user's sessions before the deactivation committed: a request in between read the session
    still open in the database and the process remembered it, so the retired officer's token went on working for
    DIABAN_SESSION_CHECK_SECONDS. Real commits here (a scratch database), not the tests' rolled-back transaction."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with scratch_database(cluster, "sessions_race") as engine:
        with engine.begin() as conn:
            officer = create_user(conn, "retiring", password_hash, "command", None)
            admin = create_user(conn, "race-admin", password_hash, "admin", None)
        app = create_app(engine)
        with engine.begin() as conn:
            officer_token, admin_token = bearer_headers(app, conn, officer), bearer_headers(app, conn, admin)
        seen: list[int] = []
        with TestClient(app) as client:
            app.state.sessions = _RequestsWhileForgetting(
                lambda: seen.append(client.get("/api/auth/me", headers=officer_token).status_code)
            )
            deactivated = client.patch(
                f"/api/users/{officer}", json={"active": False, "version": 1}, headers=admin_token
            )
            assert deactivated.status_code == 200, deactivated.text
            assert seen == [401]  # the racing request, which asked the database, found the session ended
            assert client.get("/api/auth/me", headers=officer_token).status_code == 401

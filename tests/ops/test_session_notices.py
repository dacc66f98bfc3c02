"""A session ended anywhere is refused at once everywhere: two `diaban serve` processes (A and B) on a scratch database
of the test cluster trust a session they found open for 600 s (DIABAN_SESSION_CHECK_SECONDS), so B can refuse a
session ended through A, or by the command line, within the tests' deadline only by hearing the database's notice
(migration 0026, gis.store.session_notices), or, its listener lost, by checking every request.

B hears the notices as a role of its own (DIABAN_LISTEN_URL), which a test forbids to log in to keep B deaf.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, make_url, text

from api.security import hash_password
from api.sessions import SessionCache
from gis.ops.postgres import APP_ROLE, ManagedCluster
from gis.store.accounts import create_user
from gis.store.session_notices import SessionListener
from gis.store.sessions import SESSIONS_CHANNEL
from models.domain.access import Principal
from tests.conftest import TEST_PASSWORD, migrated_database
from tests.ops.test_several_servers import ROOT, AppServer, start_server, wait_for

DB = "session_notices"
LISTENER_ROLE = "diaban_notice_listener"
LISTENER_PASSWORD = "notice-listener-test"
OFFICERS = ("api-logout", "api-deactivate", "api-role", "api-reset", "cli-deactivate", "cli-role", "cli-password")


def _admin(cluster: ManagedCluster, statement: str) -> list[tuple]:
    """Run one statement as the cluster's superuser; its rows (none for a command)."""
    url = make_url(cluster.admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def database(cluster: ManagedCluster) -> Iterator[dict[str, int]]:
    """The scratch database with an administrator, the officers and a login role for B's listener; the users' ids."""
    migrated_database(cluster, DB)
    _admin(cluster, f"DROP ROLE IF EXISTS {LISTENER_ROLE}")
    _admin(cluster, f"CREATE ROLE {LISTENER_ROLE} LOGIN PASSWORD '{LISTENER_PASSWORD}'")
    engine = create_engine(cluster.url(DB))
    digest = hash_password(TEST_PASSWORD)
    with engine.begin() as conn:
        ids = {name: create_user(conn, name, digest, "command", None) for name in (*OFFICERS, "lost-1", "lost-2")}
        ids["notice-admin"] = create_user(conn, "notice-admin", digest, "admin", None)
    engine.dispose()
    try:
        yield ids
    finally:
        cluster.drop_database(DB)
        _admin(cluster, f"DROP ROLE IF EXISTS {LISTENER_ROLE}")


def _listener_url(cluster: ManagedCluster) -> str:
    return (
        make_url(cluster.url(DB))
        .set(username=LISTENER_ROLE, password=LISTENER_PASSWORD)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="module")
def env(cluster: ManagedCluster, database: dict[str, int]) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DIABAN_DATABASE_URL": cluster.url(DB),
        "DIABAN_OWNER_DATABASE_URL": cluster.owner_url(DB),
        "DIABAN_SECRET_KEY": "session-notices-test-key-of-enough-length",
        "DIABAN_WARM_CONNECTIONS": "1",
        "DIABAN_SESSION_CHECK_SECONDS": "600",
        "DIABAN_LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="module")
def servers(env: dict[str, str], cluster: ManagedCluster) -> Iterator[tuple[AppServer, AppServer]]:
    """Server A, and server B hearing the notices as the listener role; one worker process each."""
    started = [start_server(env, workers=1), start_server({**env, "DIABAN_LISTEN_URL": _listener_url(cluster)}, 1)]
    try:
        for server in started:
            wait_for(lambda s=server: s.announced.is_set() or s.process.poll() is not None, "a server to announce")
            assert server.announced.is_set(), f"server exited with {server.process.returncode}"
        yield started[0], started[1]
    finally:
        for server in started:
            if server.process.poll() is None:
                server.kill()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def _login(http: httpx.Client, server: AppServer, username: str) -> dict[str, str]:
    response = http.post(f"{server.url}/api/auth/token", data={"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _me(http: httpx.Client, server: AppServer, auth: dict[str, str]) -> int:
    return http.get(f"{server.url}/api/auth/me", headers=auth).status_code


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_a_session_ended_through_a_or_the_command_line_is_refused_by_b(
    http: httpx.Client, servers: tuple[AppServer, AppServer], env: dict[str, str], database: dict[str, int]
) -> None:
    a, b = servers
    admin = _login(http, a, "notice-admin")

    def version(name: str) -> int:
        return next(u["version"] for u in http.get(f"{a.url}/api/users", headers=admin).json() if u["username"] == name)

    endings = {
        "api-logout": lambda auth: http.post(f"{a.url}/api/auth/logout", headers=auth),
        "api-deactivate": lambda auth: http.patch(
            f"{a.url}/api/users/{database['api-deactivate']}",
            json={"active": False, "version": version("api-deactivate")},
            headers=admin,
        ),
        "api-role": lambda auth: http.put(
            f"{a.url}/api/users/{database['api-role']}/role",
            json={"role": "planner", "national": True, "version": version("api-role")},
            headers=admin,
        ),
        "api-reset": lambda auth: http.post(f"{a.url}/api/users/{database['api-reset']}/password", headers=admin),
        "cli-deactivate": lambda auth: _cli(env, "users", "deactivate", "cli-deactivate"),
        "cli-role": lambda auth: _cli(env, "users", "role", "cli-role", "--role", "planner"),
        "cli-password": lambda auth: _cli(
            env, "users", "password", "cli-password", "--password-stdin", stdin="another-password-of-length\n"
        ),
    }
    for name, end in endings.items():
        auth = _login(http, a, name)
        assert _me(http, b, auth) == 200, name  # B looked the session up and remembers it for 600 s
        answer = end(auth)
        assert answer is None or answer.status_code < 300, (name, answer.text)
        wait_for(lambda auth=auth: _me(http, b, auth) == 401, f"B to refuse the session of {name}")
        assert _me(http, a, auth) == 401, name


def test_b_checks_every_request_while_its_listener_is_lost(
    http: httpx.Client, servers: tuple[AppServer, AppServer], cluster: ManagedCluster, database: dict[str, int]
) -> None:
    """B's listening connection is terminated and may not come back: B then trusts nothing it remembers. A revocation
    by SQL sends its notice to nobody on B's side, yet B refuses the session (polled: until B has seen the loss), and
    a session revoked afterwards is refused by B's very next request."""
    a, b = servers
    first, second = _login(http, a, "lost-1"), _login(http, a, "lost-2")
    assert _me(http, b, first) == 200 and _me(http, b, second) == 200
    _admin(cluster, f"ALTER ROLE {LISTENER_ROLE} NOLOGIN")
    try:
        terminated = _admin(
            cluster, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{LISTENER_ROLE}'"
        )
        assert terminated == [(True,)]
        engine = create_engine(cluster.url(DB))
        revoke = text("UPDATE sessions SET revoked_at = now(), revoked_reason = 'revoked' WHERE user_id = :u")
        with engine.begin() as conn:
            conn.execute(revoke, {"u": database["lost-1"]})
        wait_for(lambda: _me(http, b, first) == 401, "B to check the session in the database")
        assert _me(http, b, second) == 200
        with engine.begin() as conn:
            conn.execute(revoke, {"u": database["lost-2"]})
        assert _me(http, b, second) == 401
        engine.dispose()
    finally:
        _admin(cluster, f"ALTER ROLE {LISTENER_ROLE} LOGIN")
    wait_for(
        lambda: _admin(cluster, f"SELECT 1 FROM pg_stat_activity WHERE usename = '{LISTENER_ROLE}'") != [],
        "B's listener to reconnect",
    )


@contextlib.asynccontextmanager
async def listening(cluster: ManagedCluster, cache: SessionCache) -> AsyncIterator[SessionListener]:
    """A listener of the test role's own telling ``cache``, running until the block ends."""
    conninfo = make_url(_listener_url(cluster)).set(drivername="postgresql").render_as_string(hide_password=False)
    listener = SessionListener(conninfo, cache)
    task = asyncio.create_task(listener.run())
    try:
        yield listener
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_a_lost_listener_trusts_nothing_until_it_hears_again(cluster: ManagedCluster, database: dict[str, int]) -> None:
    """The listener and the cache in this process: the listener's backend terminated (and its role kept out), what
    the cache remembered is dropped and nothing is remembered; back, it remembers again."""
    alice = Principal(database["lost-1"], "lost-1", "command")

    async def scenario() -> None:
        cache = SessionCache(600)
        async with listening(cluster, cache) as listener:
            await asyncio.wait_for(listener.hearing.wait(), 60)
            cache.put("s", alice, cache.generation())
            assert cache.get("s") == alice
            _admin(cluster, f"ALTER ROLE {LISTENER_ROLE} NOLOGIN")
            try:
                _admin(
                    cluster, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{LISTENER_ROLE}'"
                )
                deadline = time.monotonic() + 60
                while cache.get("s") is not None:
                    assert time.monotonic() < deadline, "the cache still trusts what it remembered"
                    await asyncio.sleep(0.02)
                cache.put("s", alice, cache.generation())
                assert cache.get("s") is None and not listener.hearing.is_set()
            finally:
                _admin(cluster, f"ALTER ROLE {LISTENER_ROLE} LOGIN")
            await asyncio.wait_for(listener.hearing.wait(), 60)
            cache.put("s", alice, cache.generation())
            assert cache.get("s") == alice

    asyncio.run(scenario())


def test_a_notice_the_app_role_forges_makes_the_process_forget_and_nothing_else(
    cluster: ManagedCluster, database: dict[str, int]
) -> None:
    """Any role that may connect may notify the channel, the app's own too: a notice naming a user, or none, makes a
    process forget sessions — nothing a notice says makes it trust one (trust comes back only with the listener's
    heartbeat, on a channel of its own). A payload of 5,000 digits, past Python's limit for reading an int, broke the
    listener's connection, every such notice again (every request then checked its session in the database); it is a
    notice naming no user, and the connection lives on."""
    alice = Principal(database["lost-1"], "lost-1", "command")
    listeners = f"SELECT pid FROM pg_stat_activity WHERE usename = '{LISTENER_ROLE}'"
    forger_url = make_url(cluster.url(DB)).set(drivername="postgresql").render_as_string(hide_password=False)

    async def scenario() -> None:
        cache = SessionCache(600)
        async with listening(cluster, cache) as listener:
            await asyncio.wait_for(listener.hearing.wait(), 60)
            before = set(_admin(cluster, listeners))
            cache.put("s", alice, cache.generation())
            assert cache.get("s") == alice
            with psycopg.connect(forger_url, autocommit=True) as forger:
                assert forger.execute("SELECT current_user").fetchone() == (APP_ROLE,)
                forger.execute("SELECT pg_notify(%s, repeat('9', 5000))", (SESSIONS_CHANNEL,))
            deadline = time.monotonic() + 60
            while cache.get("s") is not None:  # forgotten: the notice was heard (or broke the connection)
                assert time.monotonic() < deadline, "the forged notice was not heard"
                await asyncio.sleep(0.02)
            assert set(_admin(cluster, listeners)) == before  # the same connections: none was lost
            cache.put("s", alice, cache.generation())
            assert cache.get("s") == alice and listener.hearing.is_set()

    asyncio.run(scenario())

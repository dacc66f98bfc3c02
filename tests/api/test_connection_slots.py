"""A served app under more concurrent requests than its pool has connections and its thread pool has threads.

Requests that found an idle connection used to take it on the event loop and then wait for a worker thread, while
every worker thread waited in the pool for a connection: the server answered nothing until the pool's timeout
(found by bench/bench_national.py with 1,000 users). Here a pool of 2 connections meets 3 × 40 requests at once
(anyio lends 40 worker threads): every one must be answered, and fast enough that none waited out the pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import TEST_PASSWORD, serve
from sqlalchemy import Engine, create_engine, text

from api.app import create_app
from gis.store.accounts import create_user

#: More than the 40 worker threads anyio lends, so that before the fix all of them ended up waiting in the pool.
REQUESTS = 120


@pytest.fixture
def small_pool(engine: Engine) -> Iterator[Engine]:
    """The session database through a pool of two connections that gives up after 10 s."""
    small = create_engine(engine.url, pool_size=2, max_overflow=0, pool_timeout=10)
    yield small
    small.dispose()


@pytest.fixture
def command_login(engine: Engine, password_hash: str) -> Iterator[str]:
    """A committed command user, removed afterwards; its name."""
    with engine.begin() as conn:
        user_id = create_user(conn, "slots-pool", password_hash, "command", None)
    yield "slots-pool"
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM sessions WHERE user_id = :u"), {"u": user_id})
        conn.execute(text("DELETE FROM users WHERE id = :u"), {"u": user_id})


def test_more_requests_than_connections_and_threads_are_all_answered(small_pool: Engine, command_login: str) -> None:
    app = create_app(small_pool)
    # One client, a connection per parallel request (a client per request loaded the system's certificates each time).
    limits = httpx.Limits(max_connections=REQUESTS)
    with serve(app) as base, httpx.Client(base_url=base, timeout=120, limits=limits) as client:
        token = client.post("/api/auth/token", data={"username": command_login, "password": TEST_PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        with ThreadPoolExecutor(REQUESTS) as pool:
            answers = list(pool.map(lambda _: client.get("/api/tasks?limit=5", headers=headers), range(REQUESTS)))
    assert [a.status_code for a in answers] == [200] * REQUESTS, {a.status_code: a.text[:200] for a in answers}

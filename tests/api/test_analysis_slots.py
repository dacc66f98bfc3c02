"""At most DIABAN_MAX_CONCURRENT_ANALYSES heavy analyses compute at once per server process (issue 18).

The app is served by uvicorn on the session's database and sent concurrent heat maps of different views (so the
cache joins none of them). A transaction of the test holds ``admin_units`` locked, which every heat map's one
statement reads, so the heat maps that got a slot stay in the database, where pg_stat_activity shows them waiting on
the lock: the real count of analyses in flight. The others wait for a slot in the app and, after
DIABAN_ANALYSIS_WAIT_SECONDS, are told in Vietnamese that the server is busy (429, never 500; not 503, which would make nginx take the server
out of rotation).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import TEST_PASSWORD, serve
from sqlalchemy import Engine, text

from api.app import create_app
from api.slots import WAITING_PER_SLOT, AnalysisBusy, AnalysisSlots
from gis.store.accounts import create_user

LIMIT = 2
REQUESTS = 5
#: The heat maps' statement as pg_stat_activity shows it (gis.store.incidents.incident_points).
HEAT_STATEMENT = "%array_send(array_agg(x_m))%"


@pytest.fixture
def command_token(engine: Engine, password_hash: str) -> Iterator[Callable[[str], str]]:
    """A committed command user (removed afterwards) and a function logging them in to a served app."""
    with engine.begin() as conn:
        user_id = create_user(conn, "slots-command", password_hash, "command", None)

    def login(base: str) -> str:
        answer = httpx.post(
            f"{base}/api/auth/token", data={"username": "slots-command", "password": TEST_PASSWORD}, timeout=60
        )
        answer.raise_for_status()
        return answer.json()["access_token"]

    yield login
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM sessions WHERE user_id = :u"), {"u": user_id})
        conn.execute(text("DELETE FROM users WHERE id = :u"), {"u": user_id})


def _heat_statements_in_flight(engine: Engine) -> int:
    """Heat-map statements of the served app that PostgreSQL is running now (all waiting on the test's lock)."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE :q AND wait_event_type = 'Lock'"
                " AND pid <> pg_backend_pid()"
            ),
            {"q": HEAT_STATEMENT},
        ).scalar_one()


def _until(condition: Callable[[], bool], seconds: float = 60) -> None:
    """Wait until ``condition()`` holds (polled), failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def test_heavy_analyses_are_bounded_and_a_request_that_waits_too_long_gets_429_in_vietnamese(
    engine: Engine, command_token: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIABAN_MAX_CONCURRENT_ANALYSES", str(LIMIT))
    monkeypatch.setenv("DIABAN_ANALYSIS_WAIT_SECONDS", "1")
    app = create_app(engine)
    with serve(app) as base:
        headers = {"Authorization": f"Bearer {command_token(base)}"}
        blocker = engine.connect()
        blocker.execute(text("LOCK TABLE admin_units IN ACCESS EXCLUSIVE MODE"))  # held until the rollback below
        try:
            with ThreadPoolExecutor(REQUESTS) as pool:
                answers = [
                    pool.submit(
                        httpx.get,
                        f"{base}/api/heat",
                        params={"format": "overlay", "bbox": f"106.{60 + i},20.80,106.{61 + i},20.81"},
                        headers=headers,
                        timeout=120,
                    )
                    for i in range(REQUESTS)
                ]
                _until(lambda: _heat_statements_in_flight(engine) == LIMIT)
                _until(lambda: sum(a.done() for a in answers) == REQUESTS - LIMIT)
                # The bound held: only LIMIT heat maps ever reached the database, the others were refused.
                assert _heat_statements_in_flight(engine) == LIMIT
                assert app.state.analysis_slots.running == LIMIT
                refused = [a for a in answers if a.done()]
                for answer in (a.result() for a in refused):
                    assert answer.status_code == 429
                    assert answer.json()["code"] == "analysis_busy"
                    assert answer.json()["detail"].startswith("máy chủ đang bận tính 2 phân tích nặng khác")
                    assert answer.headers["retry-after"]
                blocker.rollback()
                computed = [a.result() for a in answers if a not in refused]
        finally:
            blocker.close()
    assert [a.status_code for a in computed] == [200] * LIMIT
    assert app.state.analysis_slots.running == 0


def test_no_more_than_the_waiting_bound_wait_for_a_slot() -> None:
    slots = AnalysisSlots(limit=1, wait_s=120)
    release = threading.Event()
    with ThreadPoolExecutor(1 + WAITING_PER_SLOT) as pool:
        busy = pool.submit(slots.run, lambda: release.wait(120))
        _until(lambda: slots.running == 1)
        waiting = [pool.submit(slots.run, lambda: "done") for _ in range(WAITING_PER_SLOT)]
        _until(lambda: slots.waiting == WAITING_PER_SLOT)
        with pytest.raises(AnalysisBusy, match="vui lòng thử lại"):  # one more would hold a worker thread too
            slots.run(lambda: "never")
        release.set()
        assert busy.result() is True and [w.result() for w in waiting] == ["done"] * WAITING_PER_SLOT
    assert slots.running == 0 and slots.waiting == 0

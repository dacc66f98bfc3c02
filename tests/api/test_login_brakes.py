"""Password guessing against the served app, in parallel (findings 2 and 3 of issue 15).

Before: 40 parallel wrong guesses all got 401 and no 429, 20 parallel logins were all checked (the right
one got a token past the lock), a locked account answered 429 and an unknown one 401 (enumeration).
The app is served by uvicorn on the session's database, so the guesses really race each other; the
users and address rows these tests commit are removed afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from conftest import TEST_PASSWORD, serve
from sqlalchemy import Engine, text

from api.app import create_app
from gis.store.accounts import create_user

GUESSES = 40
#: One HTTP client for the module's requests (thread-safe, a connection per parallel guess): a client per request
#: loaded the system's certificates each time, ~45 ms of CPU, some 20 s a run.
HTTP = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=GUESSES))


@pytest.fixture(scope="module")
def served(engine: Engine) -> Iterator[str]:
    with serve(create_app(engine)) as base, HTTP:
        yield base


@pytest.fixture
def committed_user(engine: Engine, password_hash: str) -> Iterator[Callable[[str, str], int]]:
    """Factory of committed users, removed (with every address row the test made) afterwards."""
    made: list[int] = []

    def make(username: str, role: str = "planner") -> int:
        with engine.begin() as conn:
            made.append(create_user(conn, username, password_hash, role, None))
        return made[-1]

    yield make
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE id = ANY(:ids)"), {"ids": made})
        conn.execute(text("DELETE FROM login_sources WHERE address LIKE '10.%' OR address = '127.0.0.1'"))


def _login(base: str, username: str, password: str, address: str) -> httpx.Response:
    return HTTP.post(
        f"{base}/api/auth/token",
        data={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


def _burst(base: str, attempts: list[tuple[str, str, str]]) -> list[httpx.Response]:
    """Send every (username, password, address) attempt at the same moment."""
    start = Barrier(len(attempts))

    def one(attempt: tuple[str, str, str]) -> httpx.Response:
        start.wait()
        return _login(base, *attempt)

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(one, attempts))


def test_forty_parallel_guesses_from_one_address_are_throttled(served: str, committed_user, engine: Engine) -> None:
    committed_user("brake-one")
    answers = _burst(served, [("brake-one", f"sai-{i}", "10.1.0.1") for i in range(GUESSES)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * 10 + [429] * (GUESSES - 10)  # the address's 10 free failures, then a delay
    throttled = next(a for a in answers if a.status_code == 429)
    assert int(throttled.headers["retry-after"]) >= 1 and throttled.json()["code"] == "too_many_attempts"
    # The delay is the address's, whoever it names (an unknown user too), and not another address's.
    assert _login(served, "nobody-at-all", "x", "10.1.0.1").status_code == 429
    assert _login(served, "nobody-at-all", "x", "10.1.0.2").status_code == 401


def test_the_delay_grows_with_each_failure_past_the_free_ones(served: str, committed_user, engine: Engine) -> None:
    committed_user("brake-delay")
    for i in range(10):
        assert _login(served, "brake-delay", f"sai-{i}", "10.2.0.1").status_code == 401
    waits = []
    for _ in range(3):
        refused = _login(served, "brake-delay", "sai", "10.2.0.1")
        assert refused.status_code == 429
        waits.append(int(refused.headers["retry-after"]))
        with engine.begin() as conn:  # let the block pass without sleeping
            conn.execute(text("UPDATE login_sources SET blocked_until = now() WHERE address = '10.2.0.1'"))
        assert _login(served, "brake-delay", "sai", "10.2.0.1").status_code == 401  # tried, failed: a longer block
    assert waits == [1, 2, 4]


def test_forty_parallel_guesses_from_forty_addresses_lock_the_account(
    served: str, committed_user, engine: Engine
) -> None:
    user_id = committed_user("brake-many")
    answers = _burst(served, [("brake-many", f"sai-{i}", f"10.3.0.{i}") for i in range(GUESSES)])
    assert {a.status_code for a in answers} == {401}
    assert len({a.text for a in answers}) == 1  # a locked account answers like a wrong password
    with engine.connect() as conn:
        failed, locked = conn.execute(
            text("SELECT failed_logins, locked_until > now() FROM users WHERE id = :id"), {"id": user_id}
        ).one()
    assert (failed, locked) == (GUESSES, True)  # every guess counted, none lost to a race
    right = _login(served, "brake-many", TEST_PASSWORD, "10.3.1.1")
    unknown = _login(served, "no-such-officer", TEST_PASSWORD, "10.3.1.2")
    assert right.status_code == unknown.status_code == 401
    assert right.json() == unknown.json()  # no oracle: locked and unknown read the same


def test_a_parallel_burst_checks_no_more_passwords_than_the_lock_allows(
    served: str, committed_user, engine: Engine
) -> None:
    """Nineteen wrong guesses and the right password, sent together: the right one gets a token only if it was
    among the first five decided (then it cleared the count), else it is refused and counted like the others."""
    user_id = committed_user("brake-race")
    attempts = [("brake-race", f"sai-{i}", f"10.4.0.{i}") for i in range(19)] + [
        ("brake-race", TEST_PASSWORD, "10.4.0.99")
    ]
    answers = _burst(served, attempts)
    right = answers[-1]
    with engine.connect() as conn:
        failed, locked = conn.execute(
            text("SELECT failed_logins, coalesce(locked_until > now(), false) FROM users WHERE id = :id"),
            {"id": user_id},
        ).one()
    if right.status_code == 200:  # decided k-th, k <= 5: only the 20 - k later failures remain
        assert 15 <= failed <= 19
    else:  # decided after the fifth failure: refused while locked, and counted
        assert right.status_code == 401 and failed == 20
    assert locked


def test_an_administrator_unlocks_at_once(served: str, committed_user, engine: Engine) -> None:
    user_id = committed_user("brake-unlock")
    admin_id = committed_user("brake-admin", "admin")
    for i in range(5):
        assert _login(served, "brake-unlock", f"sai-{i}", f"10.5.0.{i}").status_code == 401
    assert _login(served, "brake-unlock", TEST_PASSWORD, "10.5.0.9").status_code == 401
    token = _login(served, "brake-admin", TEST_PASSWORD, "10.5.1.1").json()["access_token"]
    unlocked = httpx.post(f"{served}/api/users/{user_id}/unlock", headers={"Authorization": f"Bearer {token}"})
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    assert _login(served, "brake-unlock", TEST_PASSWORD, "10.5.0.9").status_code == 200
    assert admin_id != user_id

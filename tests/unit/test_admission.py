"""The door in front of a server process (api.admission): how many requests are worked on at once, in which order
the others get in, and that a place always comes back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from starlette.types import Receive, Scope, Send

from api.admission import Admission

#: Generous bound on waiting for something that happens at once: a hang fails the test instead of stalling it.
PATIENCE_S = 10.0


class Held:
    """An inner app whose requests each run until the test lets them finish; records who got in, in order."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.arrived: dict[str, asyncio.Event] = {}

    def event(self, name: str) -> asyncio.Event:
        return self.release.setdefault(name, asyncio.Event())

    def arrival(self, name: str) -> asyncio.Event:
        return self.arrived.setdefault(name, asyncio.Event())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].strip("/")
        self.entered.append(name)
        self.arrival(name).set()
        if name == "fails":
            raise RuntimeError("the route failed")
        await self.event(name).wait()


def request(path: str) -> Scope:
    return {"type": "http", "path": path, "method": "GET", "headers": []}


async def nothing() -> dict:
    return {"type": "http.request", "body": b""}


async def ignore(message: dict) -> None:
    return None


def call(app: Admission, path: str) -> asyncio.Task:
    return asyncio.ensure_future(app(request(path), nothing, ignore))


async def settle() -> None:
    """Let every task that can run, run (a few turns of the loop)."""
    for _ in range(10):
        await asyncio.sleep(0)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), PATIENCE_S))


def test_at_most_limit_requests_run_and_the_others_get_in_in_arrival_order() -> None:
    async def scenario() -> None:
        inner = Held()
        door = Admission(inner, limit=2, hold_s=60)
        tasks = [call(door, f"/r{i}") for i in range(5)]
        await settle()
        assert inner.entered == ["r0", "r1"]
        assert (door.active, door.waiting) == (2, 3)
        inner.event("r1").set()
        await inner.arrival("r2").wait()
        await settle()
        assert inner.entered == ["r0", "r1", "r2"]
        for name in ("r0", "r2", "r3", "r4"):
            inner.event(name).set()
        await asyncio.gather(*tasks)
        assert inner.entered == ["r0", "r1", "r2", "r3", "r4"]
        assert (door.active, door.waiting) == (0, 0)

    run(scenario)


def test_a_long_request_lets_the_next_one_in_when_its_time_is_up() -> None:
    async def scenario() -> None:
        inner = Held()
        door = Admission(inner, limit=1, hold_s=0.05)
        long = call(door, "/long")
        await settle()
        after = call(door, "/after")
        await inner.arrival("after").wait()  # got in while the long one still runs
        assert not long.done()
        inner.event("after").set()
        inner.event("long").set()
        await asyncio.gather(long, after)
        assert (door.active, door.waiting) == (0, 0)

    run(scenario)


def test_a_failed_request_gives_its_place_back() -> None:
    async def scenario() -> None:
        inner = Held()
        door = Admission(inner, limit=1, hold_s=60)
        with pytest.raises(RuntimeError):
            await door(request("/fails"), nothing, ignore)
        after = call(door, "/after")
        await inner.arrival("after").wait()
        inner.event("after").set()
        await after
        assert (door.active, door.waiting) == (0, 0)

    run(scenario)


def test_a_request_cancelled_while_waiting_leaves_the_queue() -> None:
    async def scenario() -> None:
        inner = Held()
        door = Admission(inner, limit=1, hold_s=60)
        first = call(door, "/first")
        await settle()
        gone = call(door, "/gone")
        last = call(door, "/last")
        await settle()
        assert door.waiting == 2
        gone.cancel()
        await settle()
        assert door.waiting == 1
        inner.event("first").set()
        await inner.arrival("last").wait()
        inner.event("last").set()
        await asyncio.gather(first, last)
        assert "gone" not in inner.entered
        assert (door.active, door.waiting) == (0, 0)

    run(scenario)


def test_health_and_other_scopes_never_wait() -> None:
    async def scenario() -> None:
        inner = Held()
        door = Admission(inner, limit=1, hold_s=60)
        busy = call(door, "/busy")
        await settle()
        health = call(door, "/health")
        lifespan = asyncio.ensure_future(door({"type": "lifespan", "path": "/x"}, nothing, ignore))
        await inner.arrival("health").wait()
        await inner.arrival("x").wait()
        assert door.waiting == 0
        for name in ("busy", "health", "x"):
            inner.event(name).set()
        await asyncio.gather(busy, health, lifespan)

    run(scenario)


def test_no_limit_lets_everything_in() -> None:
    async def scenario() -> None:
        inner = Held()
        door = Admission(inner, limit=0, hold_s=60)
        tasks = [call(door, f"/r{i}") for i in range(20)]
        await settle()
        assert len(inner.entered) == 20
        for i in range(20):
            inner.event(f"r{i}").set()
        await asyncio.gather(*tasks)

    run(scenario)

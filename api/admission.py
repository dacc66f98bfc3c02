"""A first-come, first-served door in front of each server process: at most ``limit`` requests are worked on at once,
the others wait their turn in arrival order.

Without it every request that arrived was worked on at once: a process under load interleaved some 50 requests at
each of their awaits (a connection, a worker thread, a statement), so a request that needed several steps went to
the back of the queue at each one, and all of them slowed down together. bench_api's mix, 100 users without pause,
2 processes, 1M incidents, one limit after the other in one session (load 1.2-5.3): no door 157-179 req/s with p95
1.51-1.55 s (3 runs); 8 or 12 places per process 199-222 req/s with p95 0.73-1.01 s (6 runs); 20 places 180 req/s
with p95 0.86 s. The users who pause (~1 s between requests) met no queue either way: p95 37-69 ms.

A place is held at most ``hold_s`` seconds: a long request (an import, an export, a heavy analysis waiting for its
own turn, a slow client reading a large answer) then gives its place to the next one and goes on outside the count,
so that it never holds the others back longer than that. ``/health`` never waits (a load balancer must not take
a busy process for a dead one).
"""

from __future__ import annotations

import asyncio
from collections import deque

from starlette.types import ASGIApp, Receive, Scope, Send

#: Paths that never wait at the door.
UNQUEUED = frozenset({"/health"})


class _Places:
    """``limit`` places of one event loop, given in arrival order."""

    def __init__(self, limit: int) -> None:
        self.free = limit
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def take(self) -> None:
        """Wait for a place (at once when one is free and nobody waits before)."""
        if self.free > 0 and not self.waiting:
            self.free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # the place came with the cancellation: pass it on
                self.give()
            else:
                self.waiting.remove(turn)
            raise

    def give(self) -> None:
        """Hand a place back: to the first one waiting, else to the free ones."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.free += 1


class _Held:
    """One request's place, given back once: when the request ends or its time is up, whichever comes first."""

    def __init__(self, places: _Places) -> None:
        self._places: _Places | None = places

    def give_back(self) -> None:
        if self._places is not None:
            places, self._places = self._places, None
            places.give()


class Admission:
    """ASGI middleware: at most ``limit`` HTTP requests of this process worked on at once, each for at most
    ``hold_s`` seconds before it stops counting; the others wait in arrival order (module docstring). ``limit`` 0: no
    door. ``waiting`` and ``active`` are the counts now (for the tests)."""

    def __init__(self, app: ASGIApp, limit: int, hold_s: float) -> None:
        self.app = app
        self.limit = limit
        self.hold_s = hold_s
        self._places: tuple[asyncio.AbstractEventLoop, _Places] | None = None

    def _of_this_loop(self) -> _Places:
        """The places of the running event loop (a test client runs its own loop)."""
        loop = asyncio.get_running_loop()
        if self._places is None or self._places[0] is not loop:
            self._places = (loop, _Places(self.limit))
        return self._places[1]

    @property
    def waiting(self) -> int:
        return 0 if self._places is None else len(self._places[1].waiting)

    @property
    def active(self) -> int:
        return 0 if self._places is None else self.limit - self._places[1].free

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope["path"] in UNQUEUED:
            await self.app(scope, receive, send)
            return
        places = self._of_this_loop()
        await places.take()
        held = _Held(places)
        timer = asyncio.get_running_loop().call_later(self.hold_s, held.give_back)
        try:
            await self.app(scope, receive, send)
        finally:
            timer.cancel()
            held.give_back()

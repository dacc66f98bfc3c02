"""Reads from replicas over HTTP: a read that lost its replica is run again on the primary, and a write's WAL position
goes back to the client in a cookie, so that whichever server answers next sends the user's reads where their
write already is (the routing itself: gis.store.replicas). Without replicas, a write's time goes back instead, so
that whichever worker or server answers next reads the data versions afresh for that user (`wrote_within`)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Cookie with the WAL position of the client's last write (a number; a forged one only sends reads to the primary).
WRITE_COOKIE = "diaban_wal"
#: Seconds the cookie lives: as long as a server remembers a write (gis.store.replicas.WRITE_MEMORY_S).
WRITE_COOKIE_AGE = 600
#: ``request.state`` keys: the WAL position a write reached; the request must read from the primary (its retry); the
#: request reads from the primary because of the user's own recent write (its data versions are read afresh).
WRITE_LSN = "write_lsn"
PRIMARY_ONLY = "primary_only"
OWN_WRITE = "own_write"
#: ``request.state`` key: a request of a writing method that wrote nothing (an import's dry run, rolled back): its
#: commit forgets no data version and notes no write, its answer carries no write cookie (:func:`wrote_nothing`).
NOTHING_WRITTEN = "nothing_written"
#: Cookie with the time (ms since the epoch) of the client's last write when no replica serves. Another worker or
#: server trusts the data versions it remembered for DIABAN_DATA_VERSION_SECONDS: within that delay after their write,
#: the writer's reads read them afresh, so that an import or an area change shows at once to whoever made it. A
#: forged cookie only costs its client a statement a read.
WROTE_COOKIE = "diaban_wrote"
_SAFE = {"GET", "HEAD", "OPTIONS"}
_RETRIED = {"GET", "HEAD"}


def wrote_nothing(state: object) -> None:
    """Say that the request of this ``request.state`` writes nothing, whatever its method (see `NOTHING_WRITTEN`)."""
    setattr(state, NOTHING_WRITTEN, True)


class ReplicaLost(Exception):
    """A read-only request's replica failed under it (gone, or a recovery conflict cancelled its statement): the
    request runs again on the primary. Never reaches a user."""


def written_lsn(cookies: dict[str, str]) -> int:
    """The WAL position of the client's last write, from its cookie (0 without one, or with an unreadable one)."""
    value = cookies.get(WRITE_COOKIE, "")
    return int(value) if value.isdigit() and len(value) <= 20 else 0


def wrote_within(cookies: dict[str, str], seconds: float, now_ms: int) -> bool:
    """Whether the client's last write (its `WROTE_COOKIE`) was less than ``seconds`` before ``now_ms``."""
    value = cookies.get(WROTE_COOKIE, "")
    return value.isdigit() and len(value) <= 15 and 0 <= now_ms - int(value) < seconds * 1000


class ReplicaFallback:
    """ASGI middleware: a GET or HEAD whose replica failed before the response started runs again on the primary;
    a response to a write carries its WAL position as a cookie; without replicas, a logged-in user's write answered
    below 400 (committed before its answer starts: api.deps.ConnDep) carries its time.

    Innermost of the app's middleware: the request log sees one request, and the domain's exception handlers
    (which answer a database failure with 503) never see a ReplicaLost.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        started = False

        async def send_with_cookie(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                wrote = (
                    scope["method"] not in _SAFE
                    and not state.get(NOTHING_WRITTEN)
                    and message["status"] < 400
                    and state.get("user_id") is not None
                    and scope["app"].state.replicas is None
                )
                at = time.time_ns() // 1_000_000 if wrote else None
                for name, value in ((WRITE_COOKIE, state.get(WRITE_LSN)), (WROTE_COOKIE, at)):
                    if value:
                        secure = "; Secure" if scope.get("scheme") == "https" else ""
                        cookie = f"{name}={value}; Max-Age={WRITE_COOKIE_AGE}; Path=/; HttpOnly; SameSite=Lax{secure}"
                        message = {
                            **message,
                            "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())],
                        }
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        except ReplicaLost:
            if started or scope["method"] not in _RETRIED:
                raise
            state[PRIMARY_ONLY] = True
            await self.app(scope, receive, send_with_cookie)

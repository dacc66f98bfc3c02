"""Hearing the database announce ended sessions and changed users (``LISTEN``), so that a server process stops
trusting a session it remembered as soon as another process, another server or the command line ends it.

Triggers on ``sessions`` and ``users`` (migration 0026) send the user's id on :data:`SESSIONS_CHANNEL` when the
change commits. :class:`SessionListener` holds one connection of its own to the primary (a replica hears nothing
of the primary's notices; PgBouncer in transaction mode passes none), in the event loop, and tells its
:class:`SessionNotices` three things: a user changed; everything committed until a moment has been heard (its
heartbeat, a notice the connection sends itself every ``heartbeat_s``, came back); the connection is lost. The
heartbeat is a notice rather than ``SELECT 1`` so that it proves the whole path — the LISTEN in force on this
backend, its notices reaching this process — and PostgreSQL delivers a backend's pending notices before the
answer to its next statement, so whatever committed before the heartbeat was sent has been handled by the time it
comes back.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Protocol

import psycopg
from psycopg import sql

from gis.store.sessions import SESSIONS_CHANNEL

log = logging.getLogger("diaban.sessions")

#: How the listening connection shows in pg_stat_activity.
APPLICATION_NAME = "diaban session notices"
#: Seconds between heartbeats of the listening connection.
HEARTBEAT_S = 1.0
#: Seconds for which a heartbeat vouches that nothing went unheard: a link that dies silently (a cable, a frozen
#: host; a restart or a terminated backend is noticed at once) stops the trust within this delay.
LEASE_S = 3.0
#: Seconds between attempts to reconnect after the connection is lost.
RETRY_S = 1.0


class SessionNotices(Protocol):
    """What the listener tells (api.sessions.SessionCache)."""

    def user_changed(self, user_id: int | None) -> None:
        """A session of ``user_id`` ended or the user changed (None: an unreadable notice, some user)."""

    def heard_until(self, until: float) -> None:
        """Every change committed before the last heartbeat was sent has been told; trust until ``until``
        (time.monotonic) unless a later heartbeat extends it."""

    def deaf(self) -> None:
        """The connection is lost: changes may go unheard until it is back."""


class SessionListener:
    """LISTEN on :data:`SESSIONS_CHANNEL` through a connection of its own to ``conninfo`` (a libpq URL), telling
    ``notices``; reconnects after a loss. Run :meth:`run` as a task and cancel it to stop."""

    def __init__(self, conninfo: str, notices: SessionNotices) -> None:
        self.conninfo = conninfo
        self.notices = notices
        #: Set once the first heartbeat came back (the server waits for it, a little, before it serves).
        self.hearing = asyncio.Event()
        #: A channel of this listener's own for its heartbeat (random: no other process hears it).
        self._beat = f"{SESSIONS_CHANNEL}_beat_{secrets.token_hex(8)}"
        self._lost = False

    async def run(self) -> None:
        """Listen until cancelled; after a loss, tell the notices at once and try again every :data:`RETRY_S`."""
        while True:
            try:
                await self._listen()
            except Exception as exc:  # whatever broke the connection: never a task that dies and leaves the cache deaf
                if not self._lost:  # once per outage, not once per attempt
                    self._lost = True
                    log.warning("session notices lost, every request checks its session until back: %s", exc)
            finally:
                self.notices.deaf()
                self.hearing.clear()
            await asyncio.sleep(RETRY_S)

    async def _listen(self) -> None:
        """One connection's life: LISTEN, then a heartbeat every :data:`HEARTBEAT_S` and every notice told."""
        async with await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, application_name=APPLICATION_NAME
        ) as conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(SESSIONS_CHANNEL)))
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._beat)))
            while True:
                sent = time.monotonic()
                await conn.execute("SELECT pg_notify(%s, '')", (self._beat,))
                async for notice in conn.notifies(timeout=HEARTBEAT_S):
                    if notice.channel == self._beat:
                        self.notices.heard_until(sent + LEASE_S)
                        self.hearing.set()
                        if self._lost:
                            self._lost = False
                            log.warning("session notices heard again")
                    else:
                        self.notices.user_changed(_user_id(notice.payload))


#: Digits of the largest user id (a bigint): a longer payload names no user.
_ID_DIGITS = 19


def _user_id(payload: str) -> int | None:
    """The user id a notice names (None: a notice sent by hand that names none). Any role that may connect may notify
    the channel: a payload of 5,000 digits, past Python's limit for reading an int, broke the listener's connection
    again and again (every request then checked its session in the database)."""
    return int(payload) if payload.isascii() and payload.isdigit() and len(payload) <= _ID_DIGITS else None

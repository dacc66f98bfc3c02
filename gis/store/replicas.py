"""Read replicas: which engine a read-only request uses (a streaming replica that is up, not too far behind and has
replayed the user's own last write; else the primary).

PostgreSQL's streaming replication (hot standby) is the engine; this module only routes. Each replica is asked, at
most every DIABAN_REPLICA_CHECK_SECONDS and in a background thread (no request waits for it), whether it is in
recovery, how far it has replayed (``pg_last_wal_replay_lsn()``) and how old its last replayed transaction is
when WAL is waiting to be replayed (the usual lag formula: 0 when it has replayed all it received). A replica that
does not answer, or lags beyond DIABAN_REPLICA_MAX_LAG_SECONDS, is skipped until a check finds it well again.

Read-your-writes: after a user's write commits on the primary, the primary's WAL position
(``pg_current_wal_insert_lsn()``, at or past the commit record once the commit returned) is remembered for the user; a
replica serves that user only once its last checked replay position has passed it. The check's position is older
than the replica's own, so the comparison may send a user to the primary a moment longer than needed, never to a
replica that lacks the write. The comparison costs no statement per read; the write pays one statement.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from gis.store.db import app_engine, postgres_url

log = logging.getLogger("diaban.replicas")

#: Seconds a replica's connection attempt may take (libpq connect_timeout): a replica on a dead host makes the
#: check thread wait this long, never a request.
CONNECT_TIMEOUT_S = 2
#: How long a remembered write keeps sending its user to replicas that have replayed it: long past any usable lag.
WRITE_MEMORY_S = 600.0

_CHECK = text("""
SELECT pg_is_in_recovery(),
       CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0)
            ELSE pg_current_wal_lsn() - '0/0'::pg_lsn END::bigint,
       CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 'Infinity') END::float8
""")


def wal_position(conn: Connection) -> int:
    """The primary's WAL insert position in bytes: once a commit has returned, at or past its commit record.

    Not the write position (``pg_current_wal_lsn()``): under ``synchronous_commit = off`` a commit returns before
    its record is written, and a replica that had replayed up to the write position served the user a map without
    their own write (found when the test cluster ran so)."""
    return int(conn.execute(text("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")).scalar_one())


@dataclass
class ReplicaState:
    """What the last check of one replica found."""

    up: bool = False
    replay_lsn: int = 0
    lag_s: float = float("inf")
    checked_at: float = float("-inf")


@dataclass
class Replica:
    """One replica: its engine and its last known state."""

    name: str
    engine: Engine
    state: ReplicaState


class Replicas:
    """The replicas of one primary, checked in the background, and the users' last writes."""

    def __init__(
        self,
        primary: Engine,
        engines: Sequence[Engine],
        max_lag_s: float = 5.0,
        check_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replicas = [Replica(f"{e.url.host}:{e.url.port}/{e.url.database}", e, ReplicaState()) for e in engines]
        self.max_lag_s = max_lag_s
        self.check_s = check_s
        self._clock = clock
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._checking = False
        self._writes: dict[int, tuple[int, float]] = {}  # user id → (WAL position of the last write, when)
        #: Reads served per engine name ("primary" or a replica's), for the health answer and the tests.
        self.served: dict[str, int] = {}

    @classmethod
    def connect(
        cls,
        primary: Engine,
        urls: Sequence[str],
        max_lag_s: float,
        check_s: float,
        statement_timeout_ms: int = 0,
        pgbouncer: bool = False,
        pool_size: int = 50,
        parallel_workers: int | None = None,
    ) -> Replicas:
        """Engines for ``urls`` (the application's role on each replica) beside ``primary``, checked once now; one that
        is no PostgreSQL URL stops the server in one line naming DIABAN_REPLICA_URLS."""
        engines = [
            app_engine(
                postgres_url(url, "DIABAN_REPLICA_URLS"),
                statement_timeout_ms,
                pool_size,
                pgbouncer,
                CONNECT_TIMEOUT_S,
                parallel_workers,
            )
            for url in urls
        ]
        replicas = cls(primary, engines, max_lag_s, check_s)
        replicas.check()
        return replicas

    # -- health ---------------------------------------------------------------------------------
    def check(self) -> None:
        """Ask every replica now whether it is up and how far behind (a failure marks it down; nothing is raised)."""
        for replica in self.replicas:
            try:
                with replica.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                    _, lsn, lag = conn.execute(_CHECK).one()
                state = ReplicaState(True, int(lsn), float(lag), self._clock())
            except Exception as exc:  # noqa: BLE001 - any failure means: do not read from it now
                if replica.state.up:
                    log.warning("replica %s is down: %s", replica.name, (str(exc).strip().splitlines() or ["?"])[0])
                state = ReplicaState(False, replica.state.replay_lsn, float("inf"), self._clock())
            else:
                if state.lag_s > self.max_lag_s and replica.state.lag_s <= self.max_lag_s:
                    log.warning("replica %s lags %.1f s: skipped", replica.name, state.lag_s)
                elif not replica.state.up:
                    log.info("replica %s is up", replica.name)
            replica.state = state
        self._forget_replayed_writes()

    def _check_due(self) -> None:
        """Start a background check if the last one is older than check_s (one at a time)."""
        now = self._clock()
        with self._lock:
            oldest = min((r.state.checked_at for r in self.replicas), default=now)
            if self._checking or now - oldest < self.check_s:
                return
            self._checking = True

        def run() -> None:
            try:
                self.check()
            finally:
                with self._lock:
                    self._checking = False

        threading.Thread(target=run, name="diaban-replica-check", daemon=True).start()

    def mark_down(self, engine: Engine) -> None:
        """A request found ``engine`` broken: skip it until the next check finds it up."""
        for replica in self.replicas:
            if replica.engine is engine:
                replica.state = ReplicaState(False, replica.state.replay_lsn, float("inf"), self._clock())

    def _usable(self, replica: Replica, min_lsn: int, now: float) -> bool:
        state = replica.state
        fresh = now - state.checked_at <= 3 * self.check_s + CONNECT_TIMEOUT_S  # a stuck check proves nothing
        return state.up and fresh and state.lag_s <= self.max_lag_s and state.replay_lsn >= min_lsn

    # -- routing --------------------------------------------------------------------------------
    def choose(self, min_lsn: int = 0) -> Engine:
        """The engine of a read-only request: a usable replica (in turn) that has replayed WAL position ``min_lsn``
        (the user's last write: :meth:`last_write`, or brought by the client), else the primary."""
        self._check_due()
        now = self._clock()
        usable = [r for r in self.replicas if self._usable(r, min_lsn, now)]
        if not usable:
            return self.primary
        return usable[next(self._turn) % len(usable)].engine

    def replayed(self, engine: Engine) -> int:
        """How far the last check found ``engine`` replayed (its WAL position; 0 for the primary)."""
        return next((r.state.replay_lsn for r in self.replicas if r.engine is engine), 0)

    def name_of(self, engine: Engine) -> str:
        """ "primary" or the replica's host:port/database."""
        return next((r.name for r in self.replicas if r.engine is engine), "primary")

    def count(self, engine: Engine) -> None:
        """Count one read served by ``engine``."""
        name = self.name_of(engine)
        with self._lock:
            self.served[name] = self.served.get(name, 0) + 1

    # -- read-your-writes -----------------------------------------------------------------------
    def note_write(self, user_id: int, lsn: int) -> None:
        """Remember that ``user_id`` wrote up to WAL position ``lsn`` (their reads need a replica past it)."""
        with self._lock:
            previous = self._writes.get(user_id, (0, 0.0))[0]
            self._writes[user_id] = (max(lsn, previous), self._clock())

    def last_write(self, user_id: int | None) -> int:
        """The WAL position of the user's last remembered write (0: none)."""
        if user_id is None:
            return 0
        with self._lock:
            lsn, _ = self._writes.get(user_id, (0, 0.0))
        return lsn

    def _forget_replayed_writes(self) -> None:
        """Drop the writes every replica has replayed, and those older than WRITE_MEMORY_S (bounded memory)."""
        replayed = min((r.state.replay_lsn for r in self.replicas), default=0)
        cutoff = self._clock() - WRITE_MEMORY_S
        with self._lock:
            for user, (lsn, when) in list(self._writes.items()):
                if lsn <= replayed or when < cutoff:
                    del self._writes[user]

    def dispose(self) -> None:
        """Close the replicas' pooled connections."""
        for replica in self.replicas:
            replica.engine.dispose()

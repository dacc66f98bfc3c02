"""Typed FastAPI dependencies shared by the routers."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.pool import QueuePool
from starlette.datastructures import UploadFile

from api.cache import Memo
from api.errors import DATABASE_FAILURES
from api.replicas import NOTHING_WRITTEN, OWN_WRITE, PRIMARY_ONLY, WRITE_LSN, ReplicaLost, written_lsn, wrote_within
from api.security import InvalidToken, TokenClaims, decode_access_token
from api.sessions import SessionCache, SessionEnds
from gis.store.data_versions import DataVersions, data_versions
from gis.store.replicas import Replicas, wal_position
from gis.store.scoping import AreaScope
from gis.store.sessions import session_principal
from models.domain.access import Principal, require_role
from models.domain.state_machine import StateMachine
from models.errors import InvalidRequest, PasswordChangeRequired
from models.vocabulary import READERS, WRITERS, Role


async def get_engine(request: Request) -> Engine:
    """The engine the app was created with (async: no worker thread for what does not block)."""
    return request.app.state.engine


#: Methods that change nothing (CSRF: a cookie alone may send them; data versions: kept after them).
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def get_read_connection(request: Request) -> AsyncIterator[Connection]:
    """A pooled connection outside any transaction: each statement commits on its own (autocommit), so a read of
    one statement is one round trip, without BEGIN and COMMIT. Authentication and the read-only map routes use it;
    :func:`get_connection` turns it into a transaction for the routes that need one.

    Async: an idle pooled connection is taken and given back on the event loop, where neither does I/O (the
    isolation level is psycopg's own attribute; giving back a connection outside a transaction sends nothing). A
    sync dependency cost a worker thread each way, a fifth of a warm tile's Python time (issue 18, py-spy). When
    none is idle (opening one, or waiting for one), the checkout runs in a worker thread."""
    engine: Engine = request.app.state.engine
    slots = _connection_slots(request, engine)
    if slots is not None:
        await slots.acquire()
    try:
        idle = isinstance(engine.pool, QueuePool) and engine.pool.checkedin() > 0
        conn = engine.connect() if idle else await run_in_threadpool(engine.connect)
        try:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
        finally:
            conn.close()
    finally:
        if slots is not None:
            slots.release()


def _connection_slots(request: Request, engine: Engine) -> asyncio.Semaphore | None:
    """One slot per connection the pool can give (None: a pool that never makes anyone wait), taken on the event
    loop before a request checks a connection out.

    Without it a busy server locked itself up: requests that found an idle connection took it on the loop and then
    waited for a worker thread, while every worker thread waited in the pool for a connection (found by
    bench/bench_national.py: 1,000 users, all 100 connections idle in PostgreSQL, all 40 worker threads in
    ``QueuePool._do_get``, no answer for 60 s). With the slots a request waits for its connection on the loop, and a
    thread never waits for one.
    """
    pool = engine.pool
    if not isinstance(pool, QueuePool) or pool._max_overflow < 0:
        return None
    loop = asyncio.get_running_loop()
    held: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = getattr(
        request.app.state, "connection_slots", None
    )
    if held is None or held[0] is not loop:  # one per event loop (a test client runs its own)
        held = (loop, asyncio.Semaphore(pool.size() + pool._max_overflow))
        request.app.state.connection_slots = held
    return held[1]


#: Function scope, like ConnDep: the connection goes back to the pool before the response is sent.
ReadConnDep = Annotated[Connection, Depends(get_read_connection, scope="function")]


async def get_connection(request: Request, conn: ReadConnDep) -> AsyncIterator[Connection]:
    """The request's connection in a transaction, committed when the request succeeds. After a change committed
    by this process (any method but GET, HEAD, OPTIONS: reads change no data version), the process reads the data
    versions again.

    Async: beginning sends nothing (the statements before, authentication, each committed on their own, and psycopg
    opens the transaction with the next statement), so it happens on the event loop; only the commit or the
    rollback, which wait for the database, take a worker thread. As a sync dependency it took one each way."""
    conn.commit()  # nothing is pending: psycopg sends no COMMIT outside a transaction
    conn.execution_options(isolation_level=conn.default_isolation_level)
    transaction = conn.begin()
    try:
        yield conn
    except BaseException:
        await run_in_threadpool(transaction.rollback)
        raise
    await run_in_threadpool(_commit, request, conn, transaction)


def _commit(request: Request, conn: Connection, transaction: RootTransaction) -> None:
    """Commit the request's transaction, then forget the sessions it ended; after a write (not a dry run's: it wrote
    nothing, `NOTHING_WRITTEN`), forget the data versions and note the write's position."""
    transaction.commit()
    forget_ended_sessions(request)
    if request.method not in _SAFE_METHODS and not getattr(request.state, NOTHING_WRITTEN, False):
        request.app.state.data_versions.forget()
        replicas: Replicas | None = request.app.state.replicas
        if replicas is not None:
            _remember_write(request, conn, replicas)


def _remember_write(request: Request, conn: Connection, replicas: Replicas) -> None:
    """Read-your-writes: the WAL position of a user's committed write, for their next reads on this server and, by
    the cookie, on any other (one statement per write: measured by bench/bench_replicas.py)."""
    user_id = getattr(request.state, "user_id", None)
    if user_id is None:  # a login: nothing the user reads back comes from a replica
        return
    conn.execution_options(isolation_level="AUTOCOMMIT")
    lsn = wal_position(conn)
    setattr(request.state, WRITE_LSN, lsn)
    replicas.note_write(user_id, lsn)


#: Function scope: the transaction commits before the response is sent (FastAPI's default for a generator
#: would commit afterwards, so a client could read its own write before it is visible, or get 200 for a
#: commit that then fails).
ConnDep = Annotated[Connection, Depends(get_connection, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

#: Cookies of a logged-in browser: the signed session token (HttpOnly) and its CSRF companion (readable by JS).
SESSION_COOKIE = "diaban_session"
CSRF_COOKIE = "diaban_csrf"
CSRF_HEADER = "X-CSRF-Token"


def _unauthorized() -> HTTPException:
    return HTTPException(
        401,
        "phiên đăng nhập không hợp lệ hoặc đã hết hạn (invalid or expired token)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _claims(request: Request, token: str | None) -> TokenClaims | None:
    """What a signed, unexpired token names, else None."""
    if not token:
        return None
    try:
        return decode_access_token(token, request.app.state.auth.secret_key)
    except InvalidToken:
        return None


def _remembered(request: Request, claims: TokenClaims) -> Principal | None:
    """The user of the session as this process remembers it (api.sessions), else None: ask the database."""
    principal = request.app.state.sessions.get(claims.session_id)
    return principal if principal is not None and principal.id == claims.user_id else None


def _looked_up(request: Request, conn: Connection, claims: TokenClaims) -> Principal | None:
    """The active user of the open session, from the database (remembered for the next requests unless a session
    was forgotten meanwhile: the answer may predate its revocation), else None."""
    cache: SessionCache = request.app.state.sessions
    generation = cache.generation()
    session = session_principal(conn, claims.session_id, claims.user_id)
    if session is None:
        return None
    cache.put(claims.session_id, session.principal, generation, session.seconds_left)
    return session.principal


def token_principal(request: Request, conn: Connection, token: str | None) -> Principal | None:
    """The active user of the open session a signed, unexpired token names (bearer or session cookie), else None.

    The session's id is kept in ``request.state.session_id`` (logout and password change end it).
    """
    claims = _claims(request, token)
    if claims is None:
        return None
    principal = _remembered(request, claims) or _looked_up(request, conn, claims)
    if principal is not None:
        _attach(request, claims, principal)
    return principal


def _attach(request: Request, claims: TokenClaims, principal: Principal) -> None:
    """Note the request's session (logout and password change end it) and user (the request's log line names them)."""
    request.state.session_id = claims.session_id
    request.state.username = principal.username


async def get_session_user(
    request: Request, conn: ReadConnDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The active user named by a valid bearer token or session cookie, else 401, even one who must change the
    password an administrator gave (:func:`get_current_user` refuses them).

    A cookie is sent by the browser on its own, so a state-changing request authenticated by the
    cookie must also echo the CSRF cookie in a header (double submit), else 403.

    Async: a session this process remembers is checked on the event loop; only a lookup in the database takes a
    worker thread (a sync dependency cost every request one, issue 18).
    """
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
        if token is None:
            raise _unauthorized()
        csrf = request.cookies.get(CSRF_COOKIE)
        if request.method not in _SAFE_METHODS and (not csrf or request.headers.get(CSRF_HEADER) != csrf):
            raise HTTPException(403, "thiếu mã chống giả mạo yêu cầu (missing or wrong CSRF token)")
    claims = _claims(request, token)
    if claims is None:
        raise _unauthorized()
    principal = _remembered(request, claims) or await run_in_threadpool(_looked_up, request, conn, claims)
    if principal is None:
        raise _unauthorized()
    _attach(request, claims, principal)
    request.state.user_id = principal.id  # whose write it is (read-your-writes)
    return principal


SessionUser = Annotated[Principal, Depends(get_session_user)]


async def get_current_user(user: SessionUser) -> Principal:
    """The logged-in user, refused (403 password_change_required) while the password an administrator gave them
    (a new account, a reset) is unchanged: until then only who am I, logout and the password change are open to
    them, so that the administrator who knows it cannot work as them."""
    if user.must_change_password:
        raise PasswordChangeRequired(
            "bạn cần đổi mật khẩu được giao trước khi làm việc: mở trang chủ để đổi",
            "the password an administrator gave must be changed first (POST /api/auth/password)",
        )
    return user


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_roles(*roles: str) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """Dependency that lets only users with one of ``roles`` through (403 otherwise)."""

    async def check(user: CurrentUser) -> Principal:
        """Refuse other roles."""
        require_role(user, roles)
        return user

    return check


Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
Commander = Annotated[Principal, Depends(require_roles(Role.COMMAND))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


async def get_area_scope(user: Reader) -> AreaScope:
    """A team's area of responsibility, a provincial user's province; the Ministry sees all."""
    return AreaScope.of(user)


AreaScopeDep = Annotated[AreaScope, Depends(get_area_scope)]


async def get_hotspot_machine(request: Request) -> StateMachine:
    """The hotspot lifecycle with the configured monitoring period."""
    return request.app.state.hotspot_machine


HotspotMachine = Annotated[StateMachine, Depends(get_hotspot_machine)]


async def get_session_ends(request: Request) -> SessionEnds:
    """The sessions this request ends (record a revocation here): the process forgets them once the request's
    transaction commits (:func:`forget_ended_sessions`), not before, when another request could still read them open
    in the database and remember them."""
    ends = SessionEnds()
    request.state.session_ends = ends
    return ends


def forget_ended_sessions(request: Request) -> None:
    """After the request's commit: forget the sessions it ended in the process's memory."""
    ends: SessionEnds | None = getattr(request.state, "session_ends", None)
    if ends is not None:
        ends.apply(request.app.state.sessions)


SessionsDep = Annotated[SessionEnds, Depends(get_session_ends)]


async def get_replica_connection(
    request: Request, user: CurrentUser, primary: ReadConnDep
) -> AsyncIterator[Connection]:
    """A connection in autocommit for a route that only reads: to a replica that is up, close enough and has
    replayed the user's last write (gis.store.replicas), else the request's primary connection.

    A replica that fails under the request (connection lost, statement cancelled by a conflict with recovery) is
    skipped and the request runs again on the primary (:class:`api.replicas.ReplicaFallback`). Without
    DIABAN_REPLICA_URLS this is the request's primary connection, as before."""
    replicas: Replicas | None = request.app.state.replicas
    if replicas is None or getattr(request.state, PRIMARY_ONLY, False):
        if replicas is None:  # the user's own recent write, maybe through another worker: versions read afresh
            ttl = request.app.state.data_versions.ttl_s
            setattr(request.state, OWN_WRITE, wrote_within(request.cookies, ttl, time.time_ns() // 1_000_000))
        yield primary
        return
    needed = max(replicas.last_write(user.id), written_lsn(request.cookies))
    engine = replicas.choose(needed)
    if engine is replicas.primary:
        setattr(request.state, OWN_WRITE, needed > 0)
        replicas.count(engine)
        yield primary
        return
    try:
        conn = await run_in_threadpool(engine.connect)
    except DATABASE_FAILURES:
        replicas.mark_down(engine)
        replicas.count(replicas.primary)
        yield primary
        return
    try:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        replicas.count(engine)
        yield conn
    except DATABASE_FAILURES as exc:
        if conn.invalidated:  # the replica itself failed (a lost connection), not the statement
            replicas.mark_down(engine)
        elif not _recovery_conflict(exc):
            raise
        raise ReplicaLost(replicas.name_of(engine)) from exc
    finally:
        conn.close()


def _versions_memo(request: Request, conn: Connection) -> Memo[DataVersions]:
    """Where the data versions of ``conn``'s engine are remembered (see :func:`get_data_key`)."""
    state = request.app.state
    if conn.engine is state.engine:
        return Memo(0) if getattr(request.state, OWN_WRITE, False) else state.data_versions
    position = state.replicas.replayed(conn.engine)
    held = state.replica_versions.get(conn.engine)
    if held is None or held[0] != position:  # the replica has replayed more since these were read
        held = state.replica_versions[conn.engine] = (position, Memo(state.data_versions.ttl_s))
    return held[1]


def _recovery_conflict(exc: Exception) -> bool:
    """Whether a hot standby cancelled the statement because replay needed what it read (SQLSTATE 40001)."""
    from psycopg.errors import SerializationFailure

    return isinstance(getattr(exc, "orig", None) or exc, SerializationFailure)


#: Function scope, like ReadConnDep: back to its pool before the response is sent.
ReplicaConnDep = Annotated[Connection, Depends(get_replica_connection, scope="function")]


async def current_versions(request: Request, conn: Connection) -> DataVersions:
    """The data versions as ``conn`` sees them, remembered by the process for DIABAN_DATA_VERSION_SECONDS (see
    api.cache.Memo).

    They are read on the connection that builds the answer, and remembered per engine: a replica's versions are
    never newer than what it serves, so no answer built from a replica that lags is cached under a newer key. A
    replica's are remembered only while its checked replay position stays the same, and a user reading on the
    primary because of their own recent write (made maybe through another server) reads them afresh: either way
    the key holds the user's write. Only reading them again takes a worker thread."""
    memo = _versions_memo(request, conn)
    versions = memo.fresh()
    if versions is None:
        versions = await run_in_threadpool(memo.get, lambda: data_versions(conn))
    return versions


async def get_data_key(request: Request, conn: ReplicaConnDep, scope: AreaScopeDep) -> tuple:
    """What a cached map answer depends on: the incidents' and boundaries' versions (:func:`current_versions`), the
    scope and, for a team, its area as of today."""
    versions = await current_versions(request, conn)
    if scope.team_id is None:
        return versions.incidents, versions.boundaries, *scope.key
    return versions.incidents, versions.boundaries, *scope.key, versions.team_areas, versions.today


@dataclass(frozen=True)
class Reading:
    """What a read-only route needs, in one dependency: the user (of the roles the route allows, else 403), their
    area, the connection to read on (a replica when one serves, see :func:`get_replica_connection`) and the request's
    primary connection (what a replica cannot do, such as writing the access line).

    FastAPI solves a dependency's own dependencies again for every parameter that names it, cached or not (each
    solve 20-40 µs of the event loop, and the solver was a fifth of a worker's Python time at saturation, py-spy): a
    hotspot list naming ReplicaConnDep, Reader and AreaScopeDep made 15 dependency solves; naming this one, whose
    replica connection is entered here rather than as a dependency of its own, it makes 6 (issue 18)."""

    user: Principal
    scope: AreaScope
    conn: Connection
    primary: Connection


@dataclass(frozen=True)
class MapRead(Reading):
    """A :class:`Reading` by any role of READERS, with the data key of a cached map answer (:func:`get_data_key`)."""

    data_key: tuple


_replica_or_primary = asynccontextmanager(get_replica_connection)


@asynccontextmanager
async def _reading_as(
    request: Request, user: Principal, primary: Connection, roles: tuple[str, ...]
) -> AsyncIterator[Reading]:
    """The :class:`Reading` of a user with one of ``roles`` (403 otherwise), its replica connection open meanwhile."""
    require_role(user, roles)
    async with _replica_or_primary(request, user, primary) as conn:
        yield Reading(user, AreaScope.of(user), conn, primary)


def reading(*roles: str) -> Callable[..., AsyncIterator[Reading]]:
    """Dependency giving a :class:`Reading` to users with one of ``roles`` (403 otherwise)."""

    async def get_reading(request: Request, user: CurrentUser, primary: ReadConnDep) -> AsyncIterator[Reading]:
        """The reader, their area and connections."""
        async with _reading_as(request, user, primary, roles) as read:
            yield read

    return get_reading


async def get_map_read(request: Request, user: CurrentUser, primary: ReadConnDep) -> AsyncIterator[MapRead]:
    """The reader (any role of READERS, else 403), their area, connections and the data key of a map request, in one
    dependency (see :class:`Reading`): a tile makes 5 dependency solves."""
    async with _reading_as(request, user, primary, READERS) as read:
        key = await get_data_key(request, read.conn, read.scope)
        yield MapRead(read.user, read.scope, read.conn, read.primary, key)


#: Function scope, like ReplicaConnDep: their connections go back to their pools before the response is sent.
ReaderRead = Annotated[Reading, Depends(reading(*READERS), scope="function")]
WriterRead = Annotated[Reading, Depends(reading(*WRITERS), scope="function")]
TeamRead = Annotated[Reading, Depends(reading(Role.TEAM), scope="function")]
MapReadDep = Annotated[MapRead, Depends(get_map_read, scope="function")]


@dataclass(frozen=True)
class Writing:
    """What a route that changes data needs, in one dependency: the user (of the roles the route allows, else 403),
    their area and the request's connection in its transaction (:func:`get_connection`); a comment on a task makes 6
    dependency solves with it, 11 naming ConnDep, Writer and AreaScopeDep (see :class:`Reading`)."""

    user: Principal
    scope: AreaScope
    conn: Connection


def writing(*roles: str) -> Callable[..., Coroutine[Any, Any, Writing]]:
    """Dependency giving a :class:`Writing` to users with one of ``roles`` (403 otherwise)."""

    async def get_writing(user: CurrentUser, conn: ConnDep) -> Writing:
        """The writer, their area and the transaction."""
        require_role(user, roles)
        return Writing(user, AreaScope.of(user), conn)

    return get_writing


WriterWrite = Annotated[Writing, Depends(writing(*WRITERS))]


class RepeatedFormPart(InvalidRequest):
    """A multipart form sending one part twice (422): the route reads one value of it, and Starlette's form gives
    the last one sent — a second `file` silently replaced the first."""

    code = "repeated_form_part"


async def one_of_each_part(request: Request) -> None:
    """:class:`RepeatedFormPart` for a form repeating a part (a file, or a field such as `sheet`). The form is the
    one FastAPI parsed already for the route's parameters (Starlette keeps it on the request): nothing is read
    twice. Declared after the user, so that a request without a valid login is refused for that first."""
    form = await request.form()
    sent = Counter(name for name, _ in form.multi_items())
    repeated = [(name, times) for name, times in sent.items() if times > 1]
    if repeated:
        name, times = repeated[0]
        one = "một tệp" if any(isinstance(value, UploadFile) for value in form.getlist(name)) else "một giá trị"
        raise RepeatedFormPart(
            f"biểu mẫu gửi phần «{name}» {times} lần: mỗi lần tải lên chỉ nhận {one} cho phần này",
            f"form part {name!a} sent {times} times; one is accepted",
        )


#: Checks that an upload's form repeats no part (see :func:`one_of_each_part`).
OneOfEachPart = Annotated[None, Depends(one_of_each_part)]

"""Connecting to PostGIS: the configured server or the managed cluster, PostGIS check, migrations.

Two URLs: the application's (``DIABAN_DATABASE_URL`` or the managed cluster's ``diaban_app``), which
every request and command uses, and the owner's (``DIABAN_OWNER_DATABASE_URL`` or ``diaban_owner``),
which only runs the migrations and then grants the application's role its privileges. Without an
owner URL the application's URL runs the migrations itself (one role for both, as before the split).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from gis.ops.postgres import ClusterError, managed_cluster
from gis.settings import DatabaseSettings
from gis.store.privileges import grant_app_role
from models.errors import Conflict, Unavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Advisory lock key that serialises concurrent migration runs.
_MIGRATION_LOCK = 7_312_025


class DatabaseUnavailable(Unavailable):
    """The database cannot be used: unreachable, no PostGIS, or the managed cluster failed."""

    code = "database_unavailable"


class QueryTimeout(Unavailable):
    """PostgreSQL cancelled a statement that ran past the server's statement_timeout."""

    code = "query_timeout"


def unavailable(exc: Exception) -> Unavailable:
    """The domain error of a failure to use the database (a driver's or the pool's exception)."""
    from psycopg.errors import QueryCanceled

    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, QueryCanceled):
        return QueryTimeout(
            "truy vấn chạy quá thời gian cho phép; hãy thu hẹp yêu cầu",
            "the statement ran past the server's statement_timeout",
        )
    return DatabaseUnavailable(
        "CSDL tạm thời không dùng được; thử lại sau ít giây", "the database is unreachable or refused the connection"
    )


@dataclass(frozen=True)
class DatabaseUrls:
    """Where the application connects, and who runs the migrations (None: the application's URL does)."""

    app: str
    owner: str | None = None


def driver_url(url: str) -> str:
    """A plain postgresql:// URL made explicit for SQLAlchemy's psycopg 3 driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def postgres_url(url: str, setting: str = "DIABAN_DATABASE_URL") -> str:
    """``url`` made explicit for psycopg, or DatabaseUnavailable naming its ``setting`` when it is no PostgreSQL URL
    (the URL itself is not repeated: it holds a password). A typo there was SQLAlchemy's ArgumentError, another scheme
    a missing driver module: a traceback and an internal error."""
    try:
        backend = make_url(driver_url(url)).get_backend_name()
    except ArgumentError:
        backend = None
    if backend != "postgresql":
        raise DatabaseUnavailable(
            f"{setting} không phải địa chỉ PostgreSQL hợp lệ (dạng postgresql://người_dùng:mật_khẩu@máy:cổng/tên_csdl)",
            "not a PostgreSQL URL",
        )
    return driver_url(url)


def resolve_urls(settings: DatabaseSettings | None = None) -> DatabaseUrls:
    """DIABAN_DATABASE_URL (and DIABAN_OWNER_DATABASE_URL) if set, else start the managed cluster: its two roles."""
    settings = settings or DatabaseSettings()
    if settings.database_url:
        owner = (
            postgres_url(settings.owner_database_url, "DIABAN_OWNER_DATABASE_URL")
            if settings.owner_database_url
            else None
        )
        return DatabaseUrls(postgres_url(settings.database_url), owner)
    try:
        cluster = managed_cluster(settings)
        return DatabaseUrls(cluster.start(), cluster.owner_url())
    except ClusterError as exc:
        raise DatabaseUnavailable(str(exc)) from exc


#: The newest migration (a test keeps it equal to the migrations' head). A database already at it needs no
#: Alembic: importing Alembic alone costs ~0.8 s, which every command paid before doing anything.
SCHEMA_HEAD = "0033"


def alembic_config(connection: Connection) -> Config:
    """Alembic configuration bound to an open connection (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def schema_revision(conn: Connection) -> str | None:
    """The database's migration revision (None before the first migration)."""
    if not conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def read_schema_revision(url: str, pgbouncer: bool = False) -> str | None:
    """The schema revision of the database at ``url``, read without migrating it (`diaban db status` shows it beside
    the code's SCHEMA_HEAD); DatabaseUnavailable in one line when it does not answer."""
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(0, pgbouncer))
    try:
        _check_reachable(engine)
        with engine.connect() as conn:
            return schema_revision(conn)
    finally:
        engine.dispose()


def ensure_postgis(conn: Connection) -> None:
    """Create PostGIS in the database if it is missing; DatabaseUnavailable when the server has none, or when only
    a superuser could create it (the migrations and a restore both need it before anything else)."""
    available = conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).scalar()
    if not available:
        raise DatabaseUnavailable(
            "máy chủ CSDL không có PostGIS (the server lacks the postgis extension: "
            "install postgresql-15-postgis-3 or use a PostGIS server)"
        )
    installed = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).scalar()
    if not installed:
        try:
            with conn.begin_nested():
                conn.execute(text("CREATE EXTENSION postgis"))
        except ProgrammingError as exc:
            raise DatabaseUnavailable(
                "chưa cài PostGIS trong CSDL và vai trò chủ sở hữu không được phép cài "
                "(postgis is not installed and only a superuser may install it: CREATE EXTENSION postgis)"
            ) from exc


def known_revisions() -> list[str]:
    """Every migration revision this version has, oldest first: the schemas it can upgrade from (a database or a
    backup at another revision is from a newer diaban)."""
    from alembic.script import ScriptDirectory

    return [script.revision for script in reversed(list(ScriptDirectory(str(MIGRATIONS)).walk_revisions()))]


def refuse_newer_schema(revision: str | None, holder: str, advice: str) -> None:
    """Conflict when ``holder`` (a database, a backup) is at a schema ``revision`` this version does not know: a newer
    diaban migrated or wrote it, and this one can neither read it nor upgrade it. ``advice``: what to install."""
    known = known_revisions()
    if revision is not None and revision not in known:
        raise Conflict(
            f"{holder} có lược đồ {revision}, mới hơn lược đồ phiên bản diaban này biết ({known[-1]}): {advice}",
            f"schema {revision} is newer than this version's {known[-1]}",
        )


def migrate(engine: Engine, revision: str = "head", app_role: str | None = None) -> None:
    """Create PostGIS if missing and upgrade the schema, one process at a time; then, when the application connects
    as another role than ``engine``'s, grant it its privileges (see :mod:`gis.store.privileges`). A database a newer
    diaban migrated is refused in one line (Alembic's 'Can't locate revision' was a traceback on every command)."""
    from alembic import command

    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        refuse_newer_schema(
            schema_revision(conn),
            "CSDL",
            "một phiên bản diaban mới hơn đã nâng cấp nó; cài phiên bản đó (hoặc mới hơn) rồi chạy lại",
        )
        ensure_postgis(conn)
        command.upgrade(alembic_config(conn), revision)
        if app_role and app_role != conn.execute(text("SELECT current_user")).scalar_one():
            grant_app_role(conn, app_role)


def connect_args(statement_timeout_ms: int = 0, pgbouncer: bool = False, parallel_workers: int | None = None) -> dict:
    """psycopg's connection arguments for a statement timeout and the parallel workers a statement may use (None:
    the server's default), directly or through PgBouncer in transaction mode.

    Through PgBouncer each transaction (each statement in autocommit) may run on another server connection, so
    nothing may live in the session: psycopg must not prepare statements (``prepare_threshold=None``; else after
    five runs of a statement the next server connection answers 'prepared statement "_pg3_0" does not exist'),
    and the startup packet carries no ``options`` (PgBouncer refuses it: 'unsupported startup parameter:
    options'), so PgBouncer sets both on its server connections (``connect_query``, see the README).
    """
    if pgbouncer:
        return {"prepare_threshold": None}
    options = [f"-c statement_timeout={statement_timeout_ms}"] if statement_timeout_ms else []
    if parallel_workers is not None:
        options.append(f"-c max_parallel_workers_per_gather={parallel_workers}")
    return {"options": " ".join(options)} if options else {}


def app_engine(
    url: str,
    statement_timeout_ms: int = 0,
    pool_size: int = 50,
    pgbouncer: bool = False,
    connect_timeout_s: int | None = None,
    parallel_workers: int | None = None,
) -> Engine:
    """The application's engine: a pool covering every request in flight, no ping before each checkout.

    A request holds its connection while it waits for a worker thread, so the pool must cover every request in
    flight (not just the 40 threads) or a burst of users starves it (measured: bench_api). ``pool_pre_ping`` is
    off: it cost every request a round trip (one of the six statements of a tile, issue 18). A connection the
    server dropped (a restart) fails its request with the driver's OperationalError, answered 503 with
    Retry-After like any unavailable database, and SQLAlchemy then discards every pooled connection older than
    the failure, so the next request reconnects. ``pgbouncer``: the URL leads to PgBouncer in transaction mode
    (:func:`connect_args`). ``connect_timeout_s``: how long a connection attempt may wait (libpq's connect_timeout;
    a replica on a dead host). ``parallel_workers``: see :func:`connect_args` (the server gives none, ApiSettings).
    ``hide_parameters``: an error's text (logged, with a server error's traceback) names the statement but not the
    values it was given, which may hold a note, a ref or an address.
    """
    timeout = {} if connect_timeout_s is None else {"connect_timeout": connect_timeout_s}
    return create_engine(
        url,
        pool_pre_ping=False,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=30,
        hide_parameters=True,
        connect_args={**connect_args(statement_timeout_ms, pgbouncer, parallel_workers), **timeout},
    )


@lru_cache(maxsize=4)
def _engine_for(
    url: str, statement_timeout_ms: int = 0, pgbouncer: bool = False, parallel_workers: int | None = None
) -> Engine:
    return app_engine(url, statement_timeout_ms, pgbouncer=pgbouncer, parallel_workers=parallel_workers)


def get_engine(
    settings: DatabaseSettings | None = None,
    *,
    prepare: bool = True,
    statement_timeout_s: float | None = None,
    parallel_workers: int | None = None,
) -> Engine:
    """Engine of the application's role on the configured or managed database, checked reachable and migrated (by the
    owner's role when there is one). ``statement_timeout_s``: PostgreSQL cancels any statement of this engine that
    runs longer; ``parallel_workers``: the most one statement may use (the server sets both, ApiSettings; imports
    and other commands run with the database's defaults)."""
    settings = settings or DatabaseSettings()
    urls = resolve_urls(settings)
    engine = _engine_for(urls.app, round((statement_timeout_s or 0) * 1000), settings.pgbouncer, parallel_workers)
    _check_reachable(engine)
    if prepare and not _at_head(engine):
        if urls.owner is None:
            migrate(engine)
        else:
            owner = create_engine(urls.owner, poolclass=NullPool, connect_args=connect_args(0, settings.pgbouncer))
            try:
                _check_reachable(owner)
                migrate(owner, app_role=make_url(urls.app).username)
            finally:
                owner.dispose()
    return engine


def _at_head(engine: Engine) -> bool:
    """Whether the schema is already at SCHEMA_HEAD (then nothing needs Alembic or the owner's role)."""
    with engine.connect() as conn:
        return schema_revision(conn) == SCHEMA_HEAD


def get_owner_engine(settings: DatabaseSettings | None = None, urls: DatabaseUrls | None = None) -> Engine:
    """A short-lived engine of the owner's role (the application's URL when no owner is configured), for maintenance
    the application's role may not do: retention of the append-only access log, imports, backup and restore.
    ``urls``: those already resolved from the settings. Dispose of it after use."""
    settings = settings or DatabaseSettings()
    urls = urls or resolve_urls(settings)
    engine = create_engine(urls.owner or urls.app, poolclass=NullPool, connect_args=connect_args(0, settings.pgbouncer))
    _check_reachable(engine)
    return engine


def _check_reachable(engine: Engine) -> None:
    """Raise DatabaseUnavailable in one line if the server does not answer or refuses the login: where, and what to
    check, in Vietnamese; the driver's own (English) text as its reason, for the log."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = f"{engine.url.host or 'localhost'}, cổng {engine.url.port or 5432}"
        raise DatabaseUnavailable(
            f"không kết nối được CSDL ({where}): máy chủ CSDL chưa chạy, sai địa chỉ hoặc bị từ chối đăng nhập; hãy"
            " kiểm tra DIABAN_DATABASE_URL (CSDL do diaban quản lý: chạy «diaban db start»)",
            f"database unreachable: {reason}",
        ) from exc


def warm_pool(engine: Engine, connections: int) -> None:
    """Open ``connections`` pooled connections and run a PostGIS statement on each, so that the first users after a
    start do not wait for connection set-up, password authentication and PostGIS's projection set-up (~40 ms each,
    measured: bench_api's first seconds). Never more than the pool keeps, so that the start cannot wait on it."""
    opened = []
    try:
        for _ in range(min(connections, engine.pool.size())):  # type: ignore[attr-defined]  # a QueuePool
            conn = engine.connect()
            opened.append(conn)
            conn.execute(text("SELECT ST_Transform(ST_TileEnvelope(0, 0, 0), 4326)"))
            conn.rollback()
    finally:
        for conn in opened:
            conn.close()


def session_factory(engine: Engine) -> sessionmaker:
    """Session factory with expire_on_commit off (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def postgis_version(conn: Connection) -> str:
    """The PostGIS library version of the server (the health check's question)."""
    return conn.execute(text("SELECT postgis_lib_version()")).scalar_one()

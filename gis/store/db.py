"""Connecting to PostGIS: the configured server or the managed cluster, PostGIS check, migrations."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from gis.ops.postgres import ClusterError, managed_cluster
from gis.settings import DatabaseSettings
from models.errors import Unavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Advisory lock key that serialises concurrent migration runs.
_MIGRATION_LOCK = 7_312_025


class DatabaseUnavailable(Unavailable):
    """The database cannot be used: unreachable, no PostGIS, or the managed cluster failed."""

    code = "database_unavailable"


def resolve_url(settings: DatabaseSettings | None = None) -> str:
    """DIABAN_DATABASE_URL if set, else start the managed cluster and return its URL."""
    settings = settings or DatabaseSettings()
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    try:
        return managed_cluster(settings).start()
    except ClusterError as exc:
        raise DatabaseUnavailable(str(exc)) from exc


#: The newest migration (a test keeps it equal to the migrations' head). A database already at it needs no
#: Alembic: importing Alembic alone costs ~0.8 s, which every command paid before doing anything.
SCHEMA_HEAD = "0006"


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


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create PostGIS if missing and upgrade the schema, one process at a time (nothing to do: no Alembic)."""
    if revision == "head":
        with engine.connect() as conn:
            if schema_revision(conn) == SCHEMA_HEAD:
                return
    from alembic import command

    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        available = conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).scalar()
        if not available:
            raise DatabaseUnavailable(
                "máy chủ CSDL không có PostGIS (the server lacks the postgis extension: "
                "install postgresql-15-postgis-3 or use a PostGIS server)"
            )
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        command.upgrade(alembic_config(conn), revision)


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    # A request holds its connection while it waits for a worker thread, so the pool must cover every
    # request in flight (not just the 40 threads) or a burst of users starves it (measured: bench_api).
    return create_engine(url, pool_pre_ping=True, pool_size=50, max_overflow=50, pool_timeout=30)


def get_engine(settings: DatabaseSettings | None = None, *, prepare: bool = True) -> Engine:
    """Engine on the configured or managed database, checked reachable and migrated."""
    url = resolve_url(settings)
    engine = _engine_for(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(f"không kết nối được CSDL (database unreachable): {reason}") from exc
    if prepare:
        migrate(engine)
    return engine


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

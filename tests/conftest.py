"""Test fixtures on real PostGIS: a throwaway managed cluster per session, each test rolled back."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine

from gis.boundary_import import import_boundaries
from gis.cluster import ManagedCluster
from gis.db import migrate
from gis.settings import DataSettings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def boundaries_path() -> Path:
    """The real Hải Phòng communes (DIABAN_BOUNDARIES overrides)."""
    path = DataSettings().boundaries
    if not path.exists():
        pytest.fail(f"boundary data not found at {path}: set DIABAN_BOUNDARIES")
    return path


@pytest.fixture(scope="session")
def cluster_home() -> Iterator[Path]:
    """A throwaway DIABAN_HOME readable by the non-root server user."""
    home = Path(tempfile.mkdtemp(prefix="diaban-test-"))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster(cluster_home: Path) -> Iterator[ManagedCluster]:
    """The session's managed cluster, stopped at the end."""
    managed = ManagedCluster(cluster_home / "db")
    managed.start()
    yield managed
    managed.stop()


@pytest.fixture(scope="session")
def engine(cluster: ManagedCluster, boundaries_path: Path) -> Iterator[Engine]:
    """Migrated database with the 114 real communes committed once for the whole session."""
    eng = create_engine(cluster.url(), pool_size=5, max_overflow=25)
    migrate(eng)
    with eng.begin() as conn:
        import_boundaries(conn, boundaries_path)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture
def db_env(cluster: ManagedCluster, engine: Engine) -> dict[str, str]:
    """Environment for running `diaban` in a subprocess against the test database."""
    return {**os.environ, "DIABAN_DATABASE_URL": cluster.url()}


@pytest.fixture
def client(engine: Engine, conn: Connection) -> Iterator["TestClient"]:
    """API client whose requests all run in the test's rolled-back transaction."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.deps import get_connection

    app = create_app(engine)
    app.dependency_overrides[get_connection] = lambda: conn
    with TestClient(app) as test_client:
        yield test_client

"""Test fixtures on real PostGIS: a throwaway managed cluster per session, each test rolled back."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool
from starlette.requests import Request  # at module level: the test apps' connection overrides are typed with it

from gis.ops.postgres import APP_ROLE, DB_NAME, ManagedCluster, temporary_cluster
from gis.services.boundary_import import import_boundaries
from gis.settings import DataSettings
from gis.store.db import migrate

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from gis.io.photos import Photo
    from models.domain.access import Principal

ROOT = Path(__file__).resolve().parents[1]

# Passwords hashed at argon2's lowest cost the settings accept (gis.settings.PasswordSettings): the same hashing and
# checking, where the production cost (0.1 s a hash) took some 40 s of the suite's CPU in about 250 hashes and checks.
# Set before anything is hashed; servers and commands the tests start inherit it. tests/unit/test_password_cost.py
# checks the production default.
os.environ.setdefault("DIABAN_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("DIABAN_PASSWORD_HASH_MEMORY_KIB", "1024")


#: Folder → markers: `make test-fast` runs what needs neither PostgreSQL nor a browser (`-m "not db and not browser"`).
_FOLDER_MARKERS = {
    "unit": (),
    "db": ("db",),
    "api": ("db",),
    "browser": ("db", "browser", "slow"),
    "ops": ("db", "slow"),
}


#: DIABAN_TEST_DEEP=1 (`make test-deep`): the fuzzers and the property-based tests try several times as many cases,
#: for a run before a release; `make test` keeps the budgets that hold the suite to its time on two cores.
DEEP = os.environ.get("DIABAN_TEST_DEEP") == "1"


def examples(default: int, deep: int) -> int:
    """How many cases a fuzzer or a property-based test tries: ``deep`` under DIABAN_TEST_DEEP=1, else ``default``."""
    return deep if DEEP else default


#: The longest files, roughly longest first (summed seconds of their tests in one run of the whole suite, 463 s in
#: place at load 1.4-2.9, files whole on one of two workers): `make test` hands
#: files to its two workers in collection order (--no-loadscope-reorder), so these start first and the short files
#: fill in behind them. (xdist's own order, files with most tests first, started the national import 12 minutes into
#: the run, the last thing its worker did.)
HEAVY_FIRST = (
    "browser/test_browser.py",  # 108
    "browser/test_page_walk.py",  # 75: every role's page walked on three screens
    "db/test_provinces.py",  # 50: the national boundary file
    "api/test_openapi_fuzz.py",  # 42
    "browser/test_map_reading.py",  # 38
    "browser/test_admin_pages.py",  # 18
    "api/test_classification_api.py",  # 32
    "browser/test_team_offline.py",  # 17
    "db/test_cli.py",  # 24
    "browser/test_team_phone_day.py",  # 12
    "api/test_lifecycle_stateful.py",  # 21
    "unit/test_forecast_evaluation.py",  # 11
    "browser/test_national_pages.py",  # 15
    "browser/test_command_week.py",  # 12
)
# Not db/test_legacy_units.py: its `diaban incidents import` commits a yearly partition the app role has no
# grant on, and db/test_least_privilege.py, which checks every table's grants, fails when it runs after it.


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the layer folder it lives in (tests/unit, tests/db, tests/api, tests/browser, tests/ops),
    and put the files of HEAVY_FIRST first (each file's own order and the others' kept)."""
    for item in items:
        folder = Path(str(item.path)).parent.name
        for marker in _FOLDER_MARKERS.get(folder, ("db",)):
            item.add_marker(marker)
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.path)).relative_to(ROOT / "tests").as_posix(), len(rank)))


@pytest.fixture(scope="session")
def boundaries_path() -> Path:
    """The real Hải Phòng communes (DIABAN_BOUNDARIES overrides)."""
    path = DataSettings().boundaries
    if path is None or not path.exists():
        pytest.fail(f"boundary data not found at {path}: set DIABAN_BOUNDARIES")
    return path


@pytest.fixture(scope="session")
def national_path() -> Path:
    """The national boundary file: 3,321 units of 34 provinces (DIABAN_NATIONAL_BOUNDARIES overrides)."""
    path = DataSettings().national_boundaries
    if path is None or not path.exists():
        pytest.fail(f"national boundary data not found at {path}: set DIABAN_NATIONAL_BOUNDARIES")
    return path


#: The second province of tests of several provinces (Quảng Ninh, Hải Phòng's neighbour) and how many of its units.
SECOND_PROVINCE, SECOND_PROVINCE_UNITS = "22", 3
#: Those units, cut unchanged from the national file (its first three of province 22 by code). Reading them out of
#: the 34 MB gzip file took 20 s of CPU per suite; the national import test checks the cut still matches the file.
SECOND_PROVINCE_FILE = Path(__file__).parent / "data" / "quang-ninh-3-units.geojson"


def second_province_point(conn: Connection) -> tuple[float, float]:
    """A point (lon, lat) inside the second province's first unit by code, once its boundaries are imported."""
    return tuple(
        conn.execute(
            text("""SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_units
                    WHERE province_code = :p AND valid_to IS NULL ORDER BY code LIMIT 1) u"""),
            {"p": SECOND_PROVINCE},
        ).one()
    )


@pytest.fixture(scope="session")
def second_province_path() -> Path:
    """A few units of a second province, as a small boundary file of their own."""
    return SECOND_PROVINCE_FILE


@pytest.fixture(scope="session")
def cluster() -> Iterator[ManagedCluster]:
    """The session's throwaway managed cluster, not waiting for the disk (`NON_DURABLE`)."""
    with temporary_cluster("diaban-test-", durable=False) as managed:
        yield managed


@pytest.fixture(scope="session")
def cluster_home(cluster: ManagedCluster) -> Path:
    """A directory beside the session cluster for further throwaway clusters."""
    return cluster.home.parent


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `diaban` in-process with ``args``: (exit code, stdout, stderr); an argparse usage error's exit included."""
    from api.cli.main import main

    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def migrate_as_owner(cluster: ManagedCluster, dbname: str = DB_NAME) -> None:
    """Run the migrations as the owner role and grant the app role its privileges, as `diaban db start` does."""
    owner = create_engine(cluster.owner_url(dbname), poolclass=NullPool)
    try:
        migrate(owner, app_role=APP_ROLE)
    finally:
        owner.dispose()


#: Each cluster's migrated empty database (by the cluster's home), made once per test process: a copy of it is a file
#: copy (0.14 s), where a new database's PostGIS and the migrations took 1.3 s (on a 2-core machine, quiet).
_MIGRATED: dict[Path, str] = {}


def migrated_database(cluster: ManagedCluster, name: str) -> None:
    """``name`` made afresh (dropped first if there) as a database migrated as `diaban db start` does: a copy of the
    cluster's migrated empty database."""
    if cluster.home not in _MIGRATED:
        template = "migrated_template"
        cluster.drop_database(template)
        cluster.create_database(template)
        migrate_as_owner(cluster, template)  # NullPool: no connection left open, a template must have none
        _MIGRATED[cluster.home] = template
    cluster.drop_database(name)
    cluster.create_database(name, template=_MIGRATED[cluster.home])


@contextmanager
def scratch_database(cluster: ManagedCluster, name: str, template: str | None = None) -> Iterator[Engine]:
    """A database of its own for a module (made afresh, migrated as `diaban db start` does, or a copy of
    ``template``), the app role's engine on it; dropped afterwards."""
    if template is None:
        migrated_database(cluster, name)
    else:
        cluster.drop_database(name)
        cluster.create_database(name, template=template)
    engine = create_engine(cluster.url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        cluster.drop_database(name)


@pytest.fixture(scope="session")
def city_template(cluster: ManagedCluster, boundaries_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The browser tests' small synthetic city (30,000 incidents over three years, their hotspots, the demo accounts
    and story, an approved and a draft year), built once per test process into a database that each browser module
    copies as its own (test_browser.city). Building it took 10-40 s per module, 17 modules, at load 7; a copy is a
    file copy. Dropped with the session's cluster."""
    import geopandas as gpd

    from api.security import hash_password
    from gis.demo.accounts import DEMO_PLANNERS, seed_demo_accounts
    from gis.demo.classification import seed_demo_classification
    from gis.demo.lifecycle import run_lifecycle_demo
    from gis.io.scenario_files import write_scenario
    from gis.services.incident_import import import_incidents
    from gis.store.accounts import principal_by_username
    from models.domain.hotspot_lifecycle import hotspot_lifecycle
    from models.synthetic.scenario import ScenarioConfig, generate_scenario

    name = "browser_city_template"
    scenario = generate_scenario(gpd.read_file(boundaries_path), ScenarioConfig(seed=1, years=3, n_incidents=30_000))
    paths = write_scenario(scenario, tmp_path_factory.mktemp("city"))
    migrated_database(cluster, name)
    engine = create_engine(cluster.url(name), poolclass=NullPool)  # no connection left open: a template must have none
    try:
        with engine.begin() as conn:
            import_boundaries(conn, boundaries_path)
            import_incidents(conn, paths["incidents"], imported_by="test")
            seed_demo_accounts(conn, hash_password)
            # The story's detection runs, in time order (as `make demo-data`: a run over the latest window first
            # would leave the story's run of the past refused).
            run_lifecycle_demo(conn, hotspot_lifecycle(180), principal_by_username(conn, "chihuy"), 180)
            seed_demo_classification(conn, 2025, 2026, *DEMO_PLANNERS)  # thammuu runs, thammuu2 approves
    finally:
        engine.dispose()
    return name


@pytest.fixture(scope="session")
def engine(cluster: ManagedCluster, boundaries_path: Path) -> Iterator[Engine]:
    """The app role's engine on the migrated database, with the 114 real communes committed once for the session."""
    migrate_as_owner(cluster)
    eng = create_engine(cluster.url(), pool_size=5, max_overflow=25)
    with eng.begin() as conn:
        import_boundaries(conn, boundaries_path)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def owner_engine(cluster: ManagedCluster, engine: Engine) -> Iterator[Engine]:
    """The owner role's engine (migrations, and the clean-up of committed history that the app role may not touch)."""
    eng = create_engine(cluster.owner_url(), poolclass=NullPool)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection of the app role inside a transaction that is rolled back after the test."""
    yield from _rolled_back(engine)


@pytest.fixture
def owner_conn(owner_engine: Engine) -> Iterator[Connection]:
    """A connection of the owner role (as `diaban incidents import` connects) rolled back after the test."""
    yield from _rolled_back(owner_engine)


def _rolled_back(engine: Engine) -> Iterator[Connection]:
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
    return {**os.environ, "DIABAN_DATABASE_URL": cluster.url(), "DIABAN_OWNER_DATABASE_URL": cluster.owner_url()}


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port (in a thread) and yield its base URL.

    Like `diaban serve`, uvicorn believes X-Forwarded-For from 127.0.0.1, so a test can speak for many addresses.
    """
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    if not running.started:
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


#: Password of every user made by the `make_user` fixture.
TEST_PASSWORD = "mật-khẩu-thử-nghiệm"


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One argon2 hash of TEST_PASSWORD (hashing is deliberately slow, so it is done once)."""
    from api.security import hash_password

    return hash_password(TEST_PASSWORD)


@pytest.fixture
def make_user(conn: Connection, password_hash: str) -> Callable[..., int]:
    """Factory of users (password TEST_PASSWORD) in the test's transaction: make_user(name, role, team_id=None)."""
    from gis.store.accounts import create_user

    def make(username: str, role: str, team_id: int | None = None, province_code: str | None = None) -> int:
        return create_user(conn, username, password_hash, role, team_id, province_code)

    return make


@pytest.fixture
def client(engine: Engine, conn: Connection, make_user: Callable[..., int]) -> Iterator[TestClient]:
    """API client whose requests all run in the test's rolled-back transaction, logged in as a command user."""
    from fastapi.testclient import TestClient

    from api.cache import Memo
    from api.deps import forget_ended_sessions, get_connection, get_read_connection

    app, routes = _worker_app(engine)

    def in_test_transaction(request: Request) -> Iterator[Connection]:
        yield conn
        forget_ended_sessions(request)  # as the app's commit does

    app.dependency_overrides[get_connection] = in_test_transaction
    app.dependency_overrides[get_read_connection] = lambda: conn
    # The tests write through `conn` too (imports, fixtures), as this process: versions are read for every request.
    app.state.data_versions = Memo(0)
    with TestClient(app) as test_client:
        test_client.headers.update(bearer_headers(app, conn, make_user("test-command", "command")))
        yield test_client
    if len(app.router.routes) != routes:  # the test added a route: the next test gets an app of its own
        _worker_apps.clear()


#: The app the ``client`` tests of this worker share, by engine and settings (a DIABAN_ setting given to a test
#: through its environment gets an app of its own), with its number of routes.
_worker_apps: dict[tuple, tuple[FastAPI, int]] = {}


def _worker_app(engine: Engine) -> tuple[FastAPI, int]:
    """This worker's app for ``engine`` in the current environment, its state new (:func:`api.app.set_state`) and no
    dependency overridden, with its number of routes. FastAPI derives an app's routes on its first request
    (0.08-0.16 s, a sixth of the API tests' CPU): one app a test spent some 40 s of CPU a run."""
    from api.app import create_app, set_state

    # Keyed by the DIABAN_ settings alone: the whole environment holds PYTEST_CURRENT_TEST, another for each test,
    # and every test had built an app of its own (FastAPI's route contexts, 77 routes: about 0.3 s of CPU each time).
    key = (engine, tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("DIABAN_"))))
    if key not in _worker_apps:
        _worker_apps.clear()
        app = create_app(engine)
        _worker_apps[key] = (app, len(app.router.routes))
        return _worker_apps[key]
    app, routes = _worker_apps[key]
    set_state(app, engine, app.state.replicas)
    app.dependency_overrides.clear()
    return app, routes


def requests_in_savepoints(app: FastAPI, conn: Connection) -> None:
    """Serve every request of ``app`` on ``conn`` (the test's rolled-back transaction), each in a savepoint, so that
    a refused write (an integrity error, say) cannot poison the next request."""
    from api.deps import forget_ended_sessions, get_connection, get_read_connection

    def savepoint() -> Iterator[Connection]:
        nested = conn.begin_nested()
        try:
            yield conn
        except Exception:
            nested.rollback()
            raise
        else:
            nested.commit()

    def committed_savepoint(request: Request) -> Iterator[Connection]:
        yield from savepoint()
        forget_ended_sessions(request)  # as the app's commit does

    app.dependency_overrides[get_connection] = committed_savepoint
    app.dependency_overrides[get_read_connection] = savepoint


#: What an import can leave behind, counted: a dry run must leave each as it was (tests of `dry_run`).
_FOOTPRINT = {
    "incidents": "SELECT count(*) FROM incidents",
    "indicators": "SELECT count(*) FROM commune_indicators",
    "import_runs": "SELECT count(*) FROM import_runs",
    "admin_audit": "SELECT count(*) FROM admin_audit",
    "users": "SELECT count(*) FROM users",
    "teams": "SELECT count(*) FROM teams",
    "team_areas": "SELECT count(*) FROM team_areas",
    "data_versions": "SELECT coalesce(sum(version), 0) FROM data_versions",
    "partitions": "SELECT count(*) FROM pg_inherits",
}


def footprint(conn: Connection) -> dict[str, int]:
    """Rows of every table an import writes, the data versions' sum and the partitions (`pg_inherits`)."""
    from sqlalchemy import text

    return {name: conn.execute(text(sql)).scalar_one() for name, sql in _FOOTPRINT.items()}


def incident_burst(
    tmp_path: Path, lon: float, lat: float, start: datetime, n: int, prefix: str, kind: str = "drug_use"
) -> Path:
    """A CSV of ``n`` incidents a day apart from ``start``, scattered 20 m (one σ) around a point: one cluster for
    detection (refs ``prefix`` + number)."""
    import numpy as np
    from pyproj import Transformer

    rng = np.random.default_rng(1)
    x, y = Transformer.from_crs(4326, 32648, always_xy=True).transform(lon, lat)
    xs, ys = x + rng.normal(0, 20, n), y + rng.normal(0, 20, n)
    lons, lats = Transformer.from_crs(32648, 4326, always_xy=True).transform(xs, ys)
    lines = ["ref,occurred_at,lon,lat,kind"] + [
        f"{prefix}{i},{(start + timedelta(days=i)).isoformat()},{lo:.6f},{la:.6f},{kind}"
        for i, (lo, la) in enumerate(zip(lons, lats, strict=True))
    ]
    path = tmp_path / f"{prefix}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def conversion_task(
    conn: Connection,
    actor: Principal,
    commune: str,
    year: int,
    team_id: int | None,
    checklist: list[dict[str, Any]] | None = None,
) -> int:
    """A commune's conversion task of ``year`` made by ``actor`` (command), given to ``team_id``, no due date, with
    command's ``checklist`` if any."""
    return _task(
        conn, actor, team_id, checklist=checklist, kind="conversion", hotspot_id=None, commune_code=commune, year=year
    )


def suppression_task(
    conn: Connection, actor: Principal, hotspot_id: int, team_id: int | None, priority: str = "normal"
) -> int:
    """A hotspot's suppression task made by ``actor`` (command), given to ``team_id`` (None: unassigned), no due date."""
    return _task(conn, actor, team_id, kind="suppression", hotspot_id=hotspot_id, priority=priority)


def _task(
    conn: Connection,
    actor: Principal,
    team_id: int | None,
    priority: str = "normal",
    checklist: list[dict[str, Any]] | None = None,
    **what: Any,
) -> int:
    """A task through the service, without due date or note (``what``: its kind and what it is about)."""
    from gis.services.tasks import create_task

    what = {"commune_code": None, "year": None, **what}
    return create_task(
        conn, actor, team_id=team_id, due_date=None, priority=priority, checklist=checklist or [], **what
    )


def bearer_headers(app: FastAPI, conn: Connection, user_id: int, minutes: int = 30) -> dict[str, str]:
    """Authorization header with a token for a new session of ``user_id`` (opened on ``conn``), signed with the app's
    key, as a login would give."""
    from api.security import create_access_token
    from gis.store.sessions import open_session

    token = create_access_token(user_id, open_session(conn, user_id, minutes), app.state.auth.secret_key, minutes)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def bearer(client: TestClient, conn: Connection) -> Callable[..., dict[str, str]]:
    """Authorization headers for a user id: bearer(user_id, minutes=30)."""
    return lambda user_id, minutes=30: bearer_headers(client.app, conn, user_id, minutes)


@pytest.fixture
def make_team(conn: Connection) -> Callable[[str, list[str]], int]:
    """Factory of teams responsible for some communes, in the test's transaction."""
    from gis.store.accounts import create_team

    return lambda name, communes: create_team(conn, name, communes)


@pytest.fixture
def scatter_incidents(conn: Connection) -> Callable[[str, str, int], None]:
    """Factory of trafficking incidents at ``n`` random points inside a commune, one a day over the last ``n`` days,
    refs ``prefix`` + 1..n: scatter_incidents(code, prefix, n)."""
    from sqlalchemy import text

    def scatter(commune_code: str, prefix: str, n: int) -> None:
        conn.execute(
            text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                    SELECT :ref || d.path[1], now() - make_interval(days => d.path[1]), 'trafficking', 'inside',
                           u.code, d.geom
                    FROM admin_units u, LATERAL ST_Dump(ST_GeneratePoints(u.geom, :n, 7)) d
                    WHERE u.code = :c AND u.valid_to IS NULL"""),
            {"ref": prefix, "c": commune_code, "n": n},
        )

    return scatter


def evidence_photo() -> Photo:
    """A small accepted PNG, as a team's photo evidence."""
    import io

    from PIL import Image

    from gis.io.photos import accept_photo

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 40, 40)).save(buffer, "PNG")
    return accept_photo(buffer.getvalue(), max_bytes=2**20, keep_location=False)


@pytest.fixture
def make_hotspot(conn: Connection) -> Callable[..., int]:
    """Factory of 'detected' manual hotspots at the point-on-surface of a commune: make_hotspot(code, radius_m=150)."""
    from sqlalchemy import text

    def make(commune_code: str, radius_m: float = 150.0) -> int:
        return conn.execute(
            text("""
            INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, commune_code, version, centroid)
            SELECT 'detected', 'spot', 'manual', 0, '{}', :r, code, 1, ST_PointOnSurface(geom)
            FROM admin_units WHERE code = :c AND valid_to IS NULL RETURNING id"""),
            {"c": commune_code, "r": radius_m},
        ).scalar_one()

    return make


@pytest.fixture
def api_schema(engine: Engine, conn: Connection, make_user):
    """The served OpenAPI description as a schemathesis schema, logged in as command (``schema.app.state.fuzz_headers``).

    Requests run in-process, each in a savepoint of the test's rolled-back transaction, so that a refused
    write (an integrity error, say) cannot poison the next request.
    """
    import schemathesis

    from api.app import create_app

    app = create_app(engine)
    requests_in_savepoints(app, conn)
    app.state.fuzz_headers = bearer_headers(app, conn, make_user("schema-command", "command"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.app = app
    return schema

"""A tile request on a warm server process runs one database statement: counted by SQLAlchemy's cursor events and,
below them, by libpq's own trace of every message the driver sends (a pool ping, BEGIN or COMMIT would show there).

The app runs on the production engine options (gis.store.db.app_engine) in a scratch database, with committed data:
the session check and the data versions must really come from the process's memory.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from gis.ops.postgres import ManagedCluster
from gis.store.session_notices import APPLICATION_NAME

DB = "tile_statements"
#: Frontend messages that each make the server run something: a simple query, or the end of an extended one.
_ROUND_TRIP = re.compile(r"\tF\t\d+\t(Query|Sync)\b")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


class Counter:
    """Statements seen by SQLAlchemy and round trips seen by libpq, on every connection of an engine."""

    def __init__(self, engine: Engine, trace: Path) -> None:
        self.statements: list[str] = []
        self.trace = trace
        self._fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine.pool, "connect", self._traced)

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self.statements.append(statement)

    def _traced(self, dbapi_connection, record) -> None:  # noqa: ANN001
        dbapi_connection.pgconn.trace(self._fd)

    def mark(self) -> tuple[int, int]:
        return len(self.statements), self.trace.stat().st_size

    def since(self, mark: tuple[int, int]) -> tuple[list[str], list[str]]:
        """Statements and libpq round trips since ``mark``."""
        with self.trace.open("rb") as fh:
            fh.seek(mark[1])
            sent = [m.group(0) for m in _ROUND_TRIP.finditer(fh.read().decode("utf-8", "replace"))]
        return self.statements[mark[0] :], sent


@pytest.fixture(scope="module")
def served(cluster: ManagedCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """The app on the production engine options over a scratch database with committed incidents and a session."""
    from conftest import bearer_headers, migrated_database
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.cache import Memo
    from api.sessions import SessionCache
    from gis.store.accounts import create_user
    from gis.store.db import app_engine

    migrated_database(cluster, DB)
    engine = app_engine(cluster.url(DB), pool_size=2)
    counter = Counter(engine, tmp_path_factory.mktemp("trace") / "libpq.trace")
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, geom)
                    SELECT 'TS-' || n, now() - n * interval '1 day', 'tip', 'outside',
                           ST_SetSRID(ST_MakePoint(106.683 + (n % 10) * 0.0002, 20.86 + (n / 10) * 0.0002), 4326)
                    FROM generate_series(1, 60) n""")
        )
        user_id = create_user(conn, "tile-counter", "-", "command", None)
    app = create_app(engine)
    # Long enough that no entry expires between the warm-up and the counted request on a slow machine.
    app.state.sessions = SessionCache(600)
    app.state.data_versions = Memo(600)
    with engine.begin() as conn:
        headers = bearer_headers(app, conn, user_id)
    with TestClient(app) as client:
        client.headers.update(headers)
        yield client, counter, engine
    engine.dispose()
    cluster.drop_database(DB)


@pytest.mark.parametrize("z", [13, 15])
def test_a_warm_tile_request_runs_one_statement(served, z: int) -> None:
    client, counter, engine = served
    x, y = tile_of(106.684, 20.861, z)
    client.get(f"/tiles/incidents/{z}/{x - 1}/{y}.mvt")  # warm: the session and the data versions remembered
    saved, client.app.state.cache.max_bytes = client.app.state.cache.max_bytes, 0  # every tile from the database
    try:
        mark = counter.mark()
        response = client.get(f"/tiles/incidents/{z}/{x}/{y}.mvt")
        statements, sent = counter.since(mark)
    finally:
        client.app.state.cache.max_bytes = saved
    assert response.status_code == 200 and response.content
    assert len(statements) == 1, statements
    assert "ST_AsMVT" in statements[0]
    assert len(sent) == 1, sent  # no ping, no BEGIN, no COMMIT, nothing else on the wire
    # The tile's access line (counts on cells under 100 m at 13, single incidents at 15), written by the same statement.
    with engine.connect() as conn:
        line = conn.execute(
            text("SELECT rows, params->>'x' FROM access_log WHERE username = 'tile-counter' ORDER BY id DESC")
        ).first()
    assert line is not None and tuple(line) == (int(response.headers["X-Incidents"]), str(x))
    assert line[0] > 0


def test_a_cached_tile_runs_no_statement_below_zoom_13_and_only_its_access_line_from_it(served) -> None:
    client, counter, engine = served
    for z, expected in ((12, 0), (13, 1), (15, 1)):
        x, y = tile_of(106.684, 20.861, z)
        client.get(f"/tiles/incidents/{z}/{x}/{y}.mvt")
        mark = counter.mark()
        assert client.get(f"/tiles/incidents/{z}/{x}/{y}.mvt").status_code == 200
        statements, sent = counter.since(mark)
        assert (len(statements), len(sent)) == (expected, expected), statements
        assert all(s.lstrip().startswith("INSERT INTO access_log") for s in statements)


def test_a_dropped_connection_is_answered_503_once_then_the_pool_reconnects(served, cluster: ManagedCluster) -> None:
    """No ping before each checkout: a connection the server dropped fails one request with 503 and Retry-After."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    client, counter, engine = served
    x, y = tile_of(106.684, 20.861, 13)
    url = f"/tiles/incidents/13/{x}/{y}.mvt"
    assert client.get(url).status_code == 200
    admin = create_engine(cluster.admin_url(DB), poolclass=NullPool)
    with admin.connect() as conn:  # the pool's connections; the session listener's has its own test
        ended = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :d AND usename = 'diaban_app'"
                " AND application_name <> :listener"
            ),
            {"d": DB, "listener": APPLICATION_NAME},
        ).scalar_one()
    admin.dispose()
    assert ended >= 1
    saved, client.app.state.cache.max_bytes = client.app.state.cache.max_bytes, 0
    try:
        failed = client.get(url)
        assert failed.status_code == 503 and failed.headers["retry-after"] == "5"
        assert failed.json()["code"] == "database_unavailable"
        assert client.get(url).status_code == 200
    finally:
        client.app.state.cache.max_bytes = saved


def test_a_statement_cut_by_the_timeout_answers_504_which_nginx_does_not_count_against_the_server(
    served, cluster: ManagedCluster
) -> None:
    """A statement cancelled by DIABAN_STATEMENT_TIMEOUT_S is the request's weight, not a broken server: 504
    (``query_timeout``, no Retry-After), outside the front's ``proxy_next_upstream`` list, where a 503 would take a
    healthy server out of rotation and send the same heavy request to the next one."""
    from conftest import bearer_headers
    from fastapi.testclient import TestClient

    from api.app import create_app
    from gis.store.db import app_engine

    _, _, engine = served
    timed = app_engine(cluster.url(DB), statement_timeout_ms=300, pool_size=1)
    app = create_app(timed)
    with engine.begin() as conn:
        user_id = conn.execute(text("SELECT id FROM users WHERE username = 'tile-counter'")).scalar_one()
        headers = bearer_headers(app, conn, user_id)
    x, y = tile_of(106.684, 20.861, 15)
    try:
        with engine.connect() as locker, TestClient(app) as client:
            locker.execute(text("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE"))  # the tile waits past 300 ms
            cut = client.get(f"/tiles/incidents/15/{x}/{y}.mvt", headers=headers)
            locker.rollback()
            assert cut.status_code == 504 and cut.json()["code"] == "query_timeout"
            assert "retry-after" not in cut.headers
            assert client.get(f"/tiles/incidents/15/{x}/{y}.mvt", headers=headers).status_code == 200
    finally:
        timed.dispose()
    site = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "diaban.conf"
    assert "http_504" not in site.read_text()


def test_a_change_committed_by_this_process_drops_the_data_versions_and_a_read_keeps_them(served) -> None:
    from types import SimpleNamespace

    from api.cache import Memo
    from api.deps import get_connection

    client, counter, engine = served
    memo: Memo[str] = Memo(600)
    memo.get(lambda: "old")
    for method, seen in (("GET", "old"), ("POST", "new")):
        request = SimpleNamespace(
            method=method,
            state=SimpleNamespace(),
            app=SimpleNamespace(state=SimpleNamespace(data_versions=memo, replicas=None)),
        )

        async def request_succeeds(request: SimpleNamespace) -> None:
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                steps = get_connection(request, conn)  # type: ignore[arg-type]
                assert await anext(steps) is conn and conn.in_transaction()
                conn.execute(text("SELECT 1"))
                with pytest.raises(StopAsyncIteration):
                    await anext(steps)  # the request succeeded: committed
                assert not conn.in_transaction()

        asyncio.run(request_succeeds(request))
        assert memo.get(lambda: "new") == seen


@pytest.mark.parametrize("path", ["/api/hotspots?bbox=106.6,20.8,106.8,20.9", "/api/tasks?limit=50"])
def test_a_warm_list_request_runs_one_statement(served, path: str) -> None:
    """The hotspot and task lists read in autocommit (no BEGIN, no COMMIT), the task list's total and page together."""
    client, counter, engine = served
    assert client.get(path).status_code == 200  # warm: the session remembered
    mark = counter.mark()
    response = client.get(path)
    statements, sent = counter.since(mark)
    assert response.status_code == 200
    assert (len(statements), len(sent)) == (1, 1), statements


def test_a_heat_map_answered_from_the_cache_runs_no_statement(served) -> None:
    client, counter, engine = served
    path = "/api/heat?format=overlay&bbox=106.6,20.8,106.8,20.9&cell_m=100"
    assert client.get(path).status_code == 200  # computed once, then kept
    mark = counter.mark()
    assert client.get(path).status_code == 200
    assert counter.since(mark) == ([], [])

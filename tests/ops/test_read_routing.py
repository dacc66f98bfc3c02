"""Reads from a streaming replica and the app through PgBouncer, with the real engines started here.

A scratch database on the session's cluster (the primary) is streamed to a hot standby made by ``pg_basebackup -R``
on a port of its own; PgBouncer (Debian's) runs in transaction mode from a temporary configuration. Each wait is on a
condition with a deadline: a test that cannot reach its state fails in seconds, it does not hang.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from conftest import TEST_PASSWORD, migrated_database, serve
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from api.app import create_app
from api.cache import Memo
from gis.ops.postgres import APP_ROLE, ManagedCluster, find_pg_bin, libpq_url
from gis.services.boundary_import import import_boundaries
from gis.store.accounts import create_user
from gis.store.db import app_engine
from gis.store.replicas import Replicas, wal_position

DB = "diaban_replicas"
WRITER, READER = "rep-writer", "rep-reader"
#: A point in central Hải Phòng and the tiles around it (zoom 12: communes and hotspots layers).
LON, LAT = 106.683, 20.845
TILE = "12/3261/1805"
#: Longest wait for any state (a replica caught up, lagging, down; PgBouncer listening).
DEADLINE_S = 30.0


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def replica_db(cluster: ManagedCluster, boundaries_path: Path, password_hash: str) -> Iterator[str]:
    """A scratch database on the session's cluster: migrated, the 114 communes and two command users committed."""
    migrated_database(cluster, DB)
    engine = create_engine(cluster.url(DB), poolclass=NullPool)
    with engine.begin() as conn:
        import_boundaries(conn, boundaries_path)
        for name in (WRITER, READER):
            create_user(conn, name, password_hash, "command", None)
    engine.dispose()
    yield DB
    cluster.drop_database(DB)


@pytest.fixture(scope="module")
def standby(cluster: ManagedCluster, replica_db: str) -> Iterator[ManagedCluster]:
    """A hot standby of the session's cluster, streaming (pg_basebackup -R), on its own port."""
    if not (find_pg_bin() / "pg_basebackup").exists():
        pytest.skip("pg_basebackup is not installed (Debian: postgresql-15)")
    replica = cluster.make_standby(cluster.home.parent / f"standby-{time.monotonic_ns()}")
    replica.start()
    yield replica
    replica.stop("immediate")
    shutil.rmtree(replica.home, ignore_errors=True)


def _primary_lsn(cluster: ManagedCluster) -> int:
    with create_engine(cluster.url(DB), poolclass=NullPool).connect() as conn:
        return wal_position(conn)


def _on_standby(standby: ManagedCluster, sql: str) -> object:
    """One statement as the superuser on the standby (replay control, what it holds)."""
    with psycopg.connect(libpq_url(standby.admin_url(DB)), autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
    return row[0] if row else None


def _replayed(standby: ManagedCluster) -> int:
    return int(_on_standby(standby, "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint"))  # type: ignore[arg-type]


def catch_up(cluster: ManagedCluster, standby: ManagedCluster) -> None:
    """Wait until the standby has replayed all the primary has written so far."""
    target = _primary_lsn(cluster)
    wait_until(lambda: _replayed(standby) >= target, "the standby to catch up")


@pytest.fixture
def replica_up(cluster: ManagedCluster, standby: ManagedCluster) -> ManagedCluster:
    """The standby running, replaying, caught up (a test before may have paused or killed it)."""
    standby.start()
    _on_standby(standby, "SELECT pg_wal_replay_resume()")
    catch_up(cluster, standby)
    return standby


@contextmanager
def replica_app(
    cluster: ManagedCluster, standby: ManagedCluster, max_lag_s: float = 60.0
) -> Iterator[tuple[FastAPI, Replicas]]:
    """The app over the primary and the standby (checked every 0.2 s), as `diaban serve` builds it from settings."""
    primary = app_engine(cluster.url(DB), pool_size=8)
    replicas = Replicas.connect(primary, [standby.url(DB)], max_lag_s=max_lag_s, check_s=0.2, pool_size=8)
    try:
        yield create_app(primary, replicas=replicas), replicas
    finally:
        replicas.dispose()
        primary.dispose()


def login(client: TestClient | httpx.Client, username: str) -> dict[str, str]:
    """Bearer headers of a fresh login."""
    answer = client.post("/api/auth/token", data={"username": username, "password": TEST_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def hotspot_ids(client: TestClient) -> set[int]:
    answer = client.get("/api/hotspots")
    assert answer.status_code == 200, answer.text
    return {feature["id"] for feature in answer.json()["features"]}


def served(replicas: Replicas, name: str = "primary") -> int:
    return replicas.served.get(name, 0)


def _insert_hotspot(engine: Engine) -> int:
    """A hotspot committed on the primary by someone else than the users reading (an analyst's command, say)."""
    with engine.begin() as conn:
        return conn.execute(
            text("""
            INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, commune_code, version, centroid)
            SELECT 'detected', 'spot', 'manual', 0, '{}', 100, code, 1, ST_PointOnSurface(geom)
            FROM admin_units WHERE valid_to IS NULL ORDER BY code LIMIT 1 RETURNING id""")
        ).scalar_one()


def test_the_server_takes_its_replicas_from_the_settings(
    cluster: ManagedCluster, replica_up: ManagedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DIABAN_REPLICA_URLS (plain libpq URLs, blanks ignored) and the lag limit, as `diaban serve` reads them."""
    monkeypatch.setenv("DIABAN_REPLICA_URLS", f" {libpq_url(replica_up.url(DB))} , ")
    monkeypatch.setenv("DIABAN_REPLICA_MAX_LAG_SECONDS", "2.5")
    engine = app_engine(cluster.url(DB), pool_size=2)
    try:
        replicas = create_app(engine).state.replicas
        assert [r.name for r in replicas.replicas] == [f"127.0.0.1:{replica_up.status().port}/{DB}"]
        assert replicas.max_lag_s == 2.5 and replicas.replicas[0].state.up
        replicas.dispose()
    finally:
        engine.dispose()


def test_reads_go_to_the_replica_and_a_user_reads_back_their_write(
    cluster: ManagedCluster, replica_up: ManagedCluster
) -> None:
    """Read-your-writes with replay paused: the writer reads the new hotspot at once (from the primary), another
    user reads the replica (which lacks it); a second server that never saw the write sends the writer to the
    primary by the write's cookie; once replay passes the write, the writer reads from the replica again."""
    with replica_app(cluster, replica_up) as (app, replicas), TestClient(app) as writer, TestClient(app) as reader:
        replica = replicas.replicas[0].name
        writer.headers.update(login(writer, WRITER))
        reader.headers.update(login(reader, READER))
        catch_up(cluster, replica_up)
        _on_standby(replica_up, "SELECT pg_wal_replay_pause()")
        wait_until(lambda: _on_standby(replica_up, "SELECT pg_get_wal_replay_pause_state()") == "paused", "pause")

        created = writer.post(
            "/api/hotspots", json={"lon": LON, "lat": LAT, "note": "tin báo thử nghiệm", "radius_m": 80}
        )
        assert created.status_code == 201, created.text
        hotspot = created.json()["id"]
        assert writer.cookies.get("diaban_wal")

        before = served(replicas, replica)
        assert hotspot in hotspot_ids(writer)  # read back at once, though the replica has not replayed it
        assert hotspot not in hotspot_ids(reader)  # the other user is served by the paused replica
        assert served(replicas, replica) == before + 1

        with replica_app(cluster, replica_up) as (other_app, _), TestClient(other_app) as other_server:
            other_server.headers.update(writer.headers)
            other_server.cookies.set("diaban_wal", writer.cookies["diaban_wal"])
            assert hotspot in hotspot_ids(other_server)  # server B knows the write only by the cookie
            other_server.cookies.clear()
            assert hotspot not in hotspot_ids(other_server)

        _on_standby(replica_up, "SELECT pg_wal_replay_resume()")
        catch_up(cluster, replica_up)
        replicas.check()
        before = served(replicas, replica)
        assert hotspot in hotspot_ids(writer)
        assert served(replicas, replica) == before + 1  # the replica has the write: the writer reads it there


def test_a_lagging_replica_is_skipped_and_reads_are_current(
    cluster: ManagedCluster, replica_up: ManagedCluster
) -> None:
    """Replay paused while another process writes: once the lag passes the limit, reads go to the primary and see
    the write, which the replica still lacks."""
    with replica_app(cluster, replica_up, max_lag_s=1.0) as (app, replicas), TestClient(app) as reader:
        reader.headers.update(login(reader, READER))
        catch_up(cluster, replica_up)
        replicas.check()
        assert replicas.choose() is not replicas.primary  # caught up: the replica serves
        _on_standby(replica_up, "SELECT pg_wal_replay_pause()")
        hotspot = _insert_hotspot(replicas.primary)

        def lagging() -> bool:
            replicas.check()
            return replicas.replicas[0].state.lag_s > 1.0

        wait_until(lagging, "the paused replica to lag beyond 1 s")
        before = served(replicas)
        assert hotspot in hotspot_ids(reader)
        assert served(replicas) == before + 1  # from the primary
        assert _on_standby(replica_up, f"SELECT count(*) FROM hotspots WHERE id = {hotspot}") == 0


def test_an_answer_from_a_lagging_replica_is_cached_under_the_replicas_data_version(
    cluster: ManagedCluster, replica_up: ManagedCluster
) -> None:
    """Heat read from a paused replica is cached under the data version the replica holds: once it has replayed a
    new incident, the next answer counts it. (Versions read on the primary would have cached the replica's stale
    answer under the new version, and served it on.)"""
    with replica_app(cluster, replica_up) as (app, replicas), TestClient(app) as reader:
        app.state.data_versions = Memo(0)  # versions read for every request: the test needs no clock
        replica = replicas.replicas[0].name
        reader.headers.update(login(reader, READER))
        catch_up(cluster, replica_up)
        replicas.check()

        def counted() -> int:
            answer = reader.get("/api/heat?format=overlay")
            assert answer.status_code == 200, answer.text
            return answer.json()["n_incidents"]

        before = counted()
        _on_standby(replica_up, "SELECT pg_wal_replay_pause()")
        with replicas.primary.begin() as conn:
            conn.execute(
                text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                        SELECT 'REP-1', now(), 'tip', 'inside', code, ST_PointOnSurface(geom)
                        FROM admin_units WHERE valid_to IS NULL ORDER BY code LIMIT 1""")
            )
        from_replica = served(replicas, replica)
        assert counted() == before  # the paused replica has not replayed the incident
        assert served(replicas, replica) == from_replica + 1
        _on_standby(replica_up, "SELECT pg_wal_replay_resume()")
        catch_up(cluster, replica_up)
        replicas.check()
        assert counted() == before + 1
        assert served(replicas, replica) == from_replica + 2


def test_a_users_write_is_in_the_key_of_their_next_map_answer_on_the_primary_and_on_the_replica(
    cluster: ManagedCluster, replica_up: ManagedCluster
) -> None:
    """With data versions remembered for long (600 s), a user whose write changed the incidents reads heat counting
    it: first on the primary (its versions read afresh for them), then on the replica once it has replayed the
    write (its versions remembered only while its replay position stays the same)."""
    with replica_app(cluster, replica_up) as (app, replicas), TestClient(app) as writer:
        app.state.data_versions = Memo(600)
        replica = replicas.replicas[0]
        writer.headers.update(login(writer, WRITER))
        writer_id = writer.get("/api/auth/me").json()["id"]
        catch_up(cluster, replica_up)
        replicas.check()

        def counted() -> int:
            answer = writer.get("/api/heat?format=overlay")
            assert answer.status_code == 200, answer.text
            return answer.json()["n_incidents"]

        before = counted()  # from the replica: its versions remembered
        replicas.mark_down(replica.engine)
        assert counted() == before  # from the primary: the primary's remembered too
        _on_standby(replica_up, "SELECT pg_wal_replay_pause()")
        replicas.check()
        with replicas.primary.connect() as conn:  # the user's write, as a route of theirs commits it
            with conn.begin():
                conn.execute(
                    text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                            SELECT 'REP-2', now(), 'tip', 'inside', code, ST_PointOnSurface(geom)
                            FROM admin_units WHERE valid_to IS NULL ORDER BY code LIMIT 1""")
                )
            replicas.note_write(writer_id, wal_position(conn))
        from_primary = served(replicas)
        assert counted() == before + 1
        assert served(replicas) == from_primary + 1
        _on_standby(replica_up, "SELECT pg_wal_replay_resume()")
        catch_up(cluster, replica_up)
        replicas.check()
        from_replica = served(replicas, replica.name)
        assert counted() == before + 1
        assert served(replicas, replica.name) == from_replica + 1


def test_killing_the_replica_under_read_load_loses_no_request(
    cluster: ManagedCluster, replica_up: ManagedCluster
) -> None:
    """Four clients read tiles and lists over HTTP; the replica is killed (pg_ctl stop -m immediate) mid-load:
    every request is answered 200, those in flight on the replica again from the primary."""
    paths = [
        f"/tiles/communes/{TILE}.mvt",
        f"/tiles/hotspots/{TILE}.mvt",
        "/api/hotspots",
        "/api/incidents?limit=20",
        "/api/tasks",
    ]
    with replica_app(cluster, replica_up) as (app, replicas), serve(app) as base:
        replica = replicas.replicas[0].name
        with httpx.Client(base_url=base) as client:
            headers = login(client, READER)
        stop = threading.Event()
        answers: list[int] = []
        failures: list[str] = []

        def load(offset: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                turn = offset
                while not stop.is_set():
                    path = paths[turn % len(paths)]
                    turn += 1
                    try:
                        answers.append(client.get(path).status_code)
                    except httpx.HTTPError as exc:
                        failures.append(f"{path}: {exc!r}")

        threads = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(4)]
        for thread in threads:
            thread.start()
        try:
            wait_until(lambda: served(replicas, replica) >= 40, "reads served by the replica")
            replica_up.stop("immediate")
            after_kill = served(replicas)
            wait_until(lambda: served(replicas) >= after_kill + 80, "reads served by the primary after the kill")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=DEADLINE_S)
        assert not failures
        assert len(answers) >= 120
        assert set(answers) == {200}, {code: answers.count(code) for code in set(answers)}
        assert replicas.replicas[0].state.up is False


# -- PgBouncer ------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pgbouncer(cluster: ManagedCluster, replica_db: str) -> Iterator[str]:
    """PgBouncer in transaction mode in front of the scratch database (3 server connections, so that transactions
    of one client connection run on different server connections); its URL for the app's role."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    home = cluster.home.parent / f"pgbouncer-{time.monotonic_ns()}"
    home.mkdir(mode=0o755)
    port, password = _free_port(), cluster._password(APP_ROLE)
    (home / "userlist.txt").write_text(f'"{APP_ROLE}" "{password}"\n')
    primary_port = cluster.status().port
    (home / "pgbouncer.ini").write_text(
        f"""[databases]
diaban = host=127.0.0.1 port={primary_port} dbname={DB} connect_query='SET statement_timeout = 30000'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {home / "userlist.txt"}
pool_mode = transaction
default_pool_size = 3
max_client_conn = 100
logfile = {home / "pgbouncer.log"}
"""
    )
    command = [binary, str(home / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        entry = pwd.getpwnam("postgres")
        for path in (home, *home.iterdir()):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        command = [binary, "--user", "postgres", str(home / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"postgresql+psycopg://{APP_ROLE}:{password}@127.0.0.1:{port}/diaban"

    def listening() -> bool:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "pgbouncer exited"
        try:
            psycopg.connect(libpq_url(url), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    try:
        wait_until(listening, "PgBouncer to accept connections")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


def test_the_app_runs_through_pgbouncer_in_transaction_mode(pgbouncer: str) -> None:
    """Four clients run login, who-am-I, tiles, heat, a write and lists 6 times each (past psycopg's threshold of 5,
    after which it would prepare a statement on one server connection and run it on another: 3 server connections
    for 4 clients) through PgBouncer: every answer succeeds. The statement timeout is PgBouncer's connect_query
    (the startup option it refuses)."""
    engine = app_engine(pgbouncer, statement_timeout_ms=30_000, pool_size=4, pgbouncer=True)
    paths = (
        "/api/auth/me",
        f"/tiles/incidents/{TILE}.mvt",
        f"/tiles/communes/{TILE}.mvt",
        f"/tiles/hotspots/{TILE}.mvt",
        "/api/heat?format=overlay",
        "/api/hotspots",
        "/api/incidents?limit=10",
        "/api/tasks",
    )
    answers: list[tuple[str, int, str]] = []

    def client_session(base: str, number: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            client.headers.update(login(client, WRITER))
            for turn in range(6):
                for path in paths:
                    answer = client.get(path)
                    answers.append((path, answer.status_code, answer.text[:200]))
                note = f"tin báo {number}-{turn}"
                answer = client.post("/api/hotspots", json={"lon": LON, "lat": LAT, "note": note})
                answers.append(("POST /api/hotspots", answer.status_code, answer.text[:200]))

    try:
        with serve(create_app(engine)) as base:
            threads = [threading.Thread(target=client_session, args=(base, i)) for i in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=DEADLINE_S * 2)
        failed = [answer for answer in answers if answer[1] not in (200, 201)]
        assert not failed, failed[:3]
        assert len(answers) == 4 * 6 * (len(paths) + 1)
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "30s"
    finally:
        engine.dispose()
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter"):
        psycopg.connect(libpq_url(pgbouncer), options="-c statement_timeout=1000").close()

"""The managed cluster: first start, idempotent and concurrent start, restart, stale-lock recovery."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from gis.ops.postgres import NON_DURABLE, ManagedCluster, libpq_url
from gis.ops.redis import free_port


@pytest.fixture
def fresh(cluster_home: Path) -> ManagedCluster:
    managed = ManagedCluster(cluster_home / f"c{time.monotonic_ns()}")
    yield managed
    managed.stop()


def _ping(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute("SELECT 1").fetchone()[0]


def test_start_is_idempotent_and_restart_keeps_data(fresh: ManagedCluster) -> None:
    url = fresh.start()
    assert fresh.start() == url
    plain = _plain(fresh.owner_url())
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
    assert fresh.stop() is True
    assert fresh.status().running is False
    assert fresh.stop() is False
    assert fresh.start() == url  # the same port again, even with connections in TIME_WAIT
    with psycopg.connect(plain) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone()[0] == 0
    assert _ping(url) == 1  # the app role logs in too
    if os.geteuid() == 0:
        owner = (fresh.datadir / "PG_VERSION").stat().st_uid
        assert owner != 0, "the server must not run as root"


def test_two_processes_starting_at_once(fresh: ManagedCluster) -> None:
    code = (
        "import sys; from pathlib import Path; from gis.ops.postgres import ManagedCluster;"
        f"print(ManagedCluster(Path({str(fresh.home)!r})).start())"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    urls = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert urls[0] == urls[1]
    assert _ping(urls[0]) == 1


def test_recovers_from_a_killed_server(fresh: ManagedCluster) -> None:
    fresh.start()
    pid = fresh.status().pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 30
    while time.time() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    time.sleep(0.5)  # children notice the postmaster died and exit
    assert (fresh.datadir / "postmaster.pid").exists()  # the stale lock file is left behind
    url = fresh.start()
    assert _ping(url) == 1


def test_status_of_an_uninitialised_home(cluster_home: Path) -> None:
    status = ManagedCluster(cluster_home / "never").status()
    assert (status.running, status.initialised) == (False, False)


def test_the_cluster_makes_an_owner_and_an_app_role(fresh: ManagedCluster) -> None:
    from sqlalchemy import text

    from gis.ops.postgres import ADMIN_ROLE, APP_ROLE, OWNER_ROLE
    from gis.settings import DatabaseSettings
    from gis.store.db import get_engine

    engine = get_engine(DatabaseSettings(home=fresh.home, database_url=None))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == APP_ROLE
        assert conn.execute(text("SELECT count(*) FROM admin_units")).scalar() == 0  # granted by the migration run
        owner = conn.execute(text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"))
        assert owner.scalar() == OWNER_ROLE
    engine.dispose()
    for role in (OWNER_ROLE, APP_ROLE):
        assert stat.S_IMODE((fresh.home / f"{role}.password").stat().st_mode) == 0o600
    # A cluster made before the role split had the superuser own everything: the next start hands it over.
    with psycopg.connect(_plain(fresh.admin_url("diaban")), autocommit=True) as conn:
        conn.execute("CREATE TABLE legacy (id serial PRIMARY KEY)")
        assert conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'legacy'").fetchone()[0] == ADMIN_ROLE
    fresh.start()
    with psycopg.connect(_plain(fresh.owner_url()), autocommit=True) as conn:
        assert conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'legacy'").fetchone()[0] == OWNER_ROLE
        conn.execute("DROP TABLE legacy")  # the owner may now change it


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _diaban(home: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`diaban ARGS` with the managed cluster under ``home`` and these DIABAN_* settings only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIABAN_")} | {"DIABAN_HOME": str(home), **settings}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_a_pg_bin_without_pg_ctl_is_refused_and_leaves_the_running_cluster_reachable(
    fresh: ManagedCluster, tmp_path: Path
) -> None:
    """`pg_ctl status` that could not start was read as "not running": the start wrote a new port for the running
    cluster, and every command after, whatever the setting, ended in a traceback."""
    url = fresh.start()
    proc = _diaban(fresh.home, "users", "list", DIABAN_PG_BIN=str(tmp_path / "khong-co"))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"Lỗi: không có pg_ctl trong DIABAN_PG_BIN={tmp_path / 'khong-co'}"), proc.stderr
    assert fresh.start() == url and _ping(url) == 1
    assert _diaban(fresh.home, "users", "list").returncode == 0


def test_a_managed_cluster_that_does_not_answer_is_one_line(fresh: ManagedCluster) -> None:
    fresh.start()
    port = fresh.status().port
    (fresh.home / "port").write_text(str(free_port()))  # as a lost or edited port file leaves it
    try:
        proc = _diaban(fresh.home, "users", "list")
    finally:
        (fresh.home / "port").write_text(str(port))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"Lỗi: không kết nối được cụm CSDL do diaban quản lý tại {fresh.home}"), proc.stderr


def test_a_cluster_keeps_its_postgresql_version_when_a_newer_one_is_installed_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Debian upgrade installs PostgreSQL 16 beside 15: the cluster made with 15 kept being run with the newest
    pg_ctl, which refuses a data folder of another major version, and the database no longer started. It keeps its own
    version; without that version installed it says what to do, in one Vietnamese line. A new cluster takes the
    newest."""
    import gis.ops.postgres as postgres

    lib = tmp_path / "lib"
    for major in ("15", "16"):
        (lib / major / "bin").mkdir(parents=True)
        (lib / major / "bin" / "pg_ctl").touch()
    monkeypatch.setattr(postgres, "PG_LIB", lib)
    made = ManagedCluster(tmp_path / "home")
    assert made.pg_bin == lib / "16" / "bin"  # nothing made yet: the newest
    made.datadir.mkdir(parents=True)
    (made.datadir / "PG_VERSION").write_text("15\n")
    assert made.pg_bin == lib / "15" / "bin"
    (lib / "15" / "bin" / "pg_ctl").unlink()
    with pytest.raises(postgres.ClusterError) as missing:
        made.pg_bin  # noqa: B018 - the property is what is checked
    assert str(missing.value).startswith("cụm CSDL được tạo bằng PostgreSQL 15 nhưng máy không có"), missing.value


def test_the_running_cluster_uses_the_programs_of_its_own_version(fresh: ManagedCluster) -> None:
    fresh.start()
    version = (fresh.datadir / "PG_VERSION").read_text().strip()
    assert fresh.pg_bin == Path("/usr/lib/postgresql") / version / "bin"


def test_the_suites_cluster_does_not_wait_for_the_disk(cluster: ManagedCluster) -> None:
    """The session's throwaway cluster runs under NON_DURABLE (set after it started, kept by ALTER SYSTEM)."""
    with psycopg.connect(libpq_url(cluster.admin_url())) as conn:
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in NON_DURABLE}
    assert shown == NON_DURABLE

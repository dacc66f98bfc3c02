"""The managed ("embedded") PostgreSQL + PostGIS cluster that diaban runs under DIABAN_HOME.

initdb on first use, start on a private socket directory and a free loopback port, password
authentication, and idempotent, lock-protected start so that two commands can start it at once.
PostgreSQL refuses to run as root, so as root every server command runs as a non-root system user.

Three roles, least privilege: the bootstrap superuser (``diaban``) is used only here, to create the
other two, the database and the PostGIS extension; ``diaban_owner`` owns the schema and runs the
migrations; ``diaban_app`` is what the API and the commands connect as — no superuser, no CREATEROLE,
no server files or programs, and only the table privileges the migrations grant it
(:func:`gis.store.privileges.grant_app_role`).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from gis.settings import DatabaseSettings
from models.errors import Unavailable

DB_NAME = "diaban"
#: Memory for bulk imports and analyses: the default 8 MB of temp_buffers makes the GiST index of a
#: million staged points spill to disk (a 40x slowdown of the commune join).
SERVER_SETTINGS = (
    "-c shared_buffers=1GB -c temp_buffers=256MB -c work_mem=64MB -c maintenance_work_mem=512MB"
    " -c jit=off -c max_connections=300"
)
#: The bootstrap superuser made by initdb (its name predates the split into roles; kept so old clusters still start).
ADMIN_ROLE = "diaban"
#: Owns the database and its schema; runs the migrations.
OWNER_ROLE = "diaban_owner"
#: The application's login role: data privileges only.
APP_ROLE = "diaban_app"
#: What neither login role may do (checked by tests/db/test_least_privilege.py).
_UNPRIVILEGED = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


class ClusterError(Unavailable):
    """The managed cluster could not be created, started or stopped."""

    code = "cluster_error"


#: Where Debian installs each PostgreSQL major version (``15/bin``, ``16/bin``…).
PG_LIB = Path("/usr/lib/postgresql")


def find_pg_bin(explicit: Path | None = None, major: str | None = None) -> Path:
    """Directory of initdb/pg_ctl: explicit setting, else ``major``'s (the version of an existing cluster's data
    folder), else the newest /usr/lib/postgresql/*/bin.

    An explicit folder without pg_ctl is refused before any command runs: `pg_ctl status` failing to start was read as
    "not running", and the start chose a new port for a cluster that was running, which no command reached after.
    A cluster's own version is kept: a newer PostgreSQL installed beside it (a Debian upgrade installs 16 beside 15)
    was chosen, and its pg_ctl refuses a data folder of another major version — the database no longer started."""
    if explicit is not None:
        if not (explicit / "pg_ctl").is_file():
            raise ClusterError(
                f"không có pg_ctl trong DIABAN_PG_BIN={explicit}: đặt thư mục bin của PostgreSQL (ví dụ"
                " /usr/lib/postgresql/15/bin) hoặc bỏ biến này",
                "DIABAN_PG_BIN holds no pg_ctl",
            )
        return explicit
    if major is not None:
        own = PG_LIB / major / "bin"
        if (own / "pg_ctl").is_file():
            return own
        raise ClusterError(
            f"cụm CSDL được tạo bằng PostgreSQL {major} nhưng máy không có {own / 'pg_ctl'}: cài lại"
            f" postgresql-{major} và postgresql-{major}-postgis-3, hoặc sao lưu (diaban db backup) bằng bản cũ rồi khôi"
            " phục vào một cụm mới của bản đang cài",
            f"the cluster's PostgreSQL {major} is not installed",
        )
    candidates = sorted(PG_LIB.glob("*/bin"), key=lambda p: int(p.parent.name))
    if candidates:
        return candidates[-1]
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise ClusterError("PostgreSQL không được cài đặt: không tìm thấy pg_ctl (hãy cài gói postgresql-15-postgis-3)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Whether PostgreSQL could listen on the port (it sets SO_REUSEADDR, so TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _adopt_schema_objects(conn: psycopg.Connection) -> None:
    """Give the owner role what a cluster made before the role split left to the superuser: the tables, views,
    sequences and functions of schema public that no extension owns (PostGIS keeps its own)."""
    rows = conn.execute(
        """
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              ELSE 'TABLE' END, c.oid::regclass::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner = %(admin)s::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
        UNION ALL
        SELECT 'FUNCTION', p.oid::regprocedure::text
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner = %(admin)s::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
        {"admin": ADMIN_ROLE},
    ).fetchall()
    for kind, name in rows:
        conn.execute(
            sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(kind), sql.SQL(name), sql.Identifier(OWNER_ROLE))
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class ClusterStatus:
    """What `diaban db status` reports."""

    running: bool
    initialised: bool
    port: int | None
    pid: int | None
    datadir: Path


class ManagedCluster:
    """A PostgreSQL cluster owned by diaban under `home` (data, sockets, logs, credentials); ``standby``: a streaming
    replica made by :meth:`make_standby` (hot standby, read-only: start neither creates roles nor the database)."""

    def __init__(
        self, home: Path, pg_bin: Path | None = None, os_user: str = "postgres", standby: bool = False
    ) -> None:
        self.home = home.resolve()
        self.standby = standby
        self.datadir = self.home / "pgdata"
        self.rundir = self.home / "run"
        self.logfile = self.rundir / "postgres.log"
        self._pg_bin = pg_bin
        self._os_user = os_user if os.geteuid() == 0 else None

    # -- paths and credentials -------------------------------------------------------------
    @property
    def pg_bin(self) -> Path:
        """The PostgreSQL programs of this cluster: DIABAN_PG_BIN, else those of the version its data folder was made
        with, else (no cluster yet) the newest installed."""
        version = self.datadir / "PG_VERSION"
        return find_pg_bin(self._pg_bin, version.read_text().strip() if version.is_file() else None)

    @property
    def _password_file(self) -> Path:
        return self.home / "password"

    @property
    def _port_file(self) -> Path:
        return self.home / "port"

    def _password(self, role: str = ADMIN_ROLE) -> str:
        """The password of one of the cluster's roles (the admin's is ``password``, the others ``<role>.password``)."""
        path = self._password_file if role == ADMIN_ROLE else self.home / f"{role}.password"
        return path.read_text().strip()

    def _role_password(self, role: str) -> tuple[str, bool]:
        """The password kept for ``role``, created (0600) if missing; and whether it was just created."""
        path = self.home / f"{role}.password"
        if path.exists():
            return path.read_text().strip(), False
        password = secrets.token_urlsafe(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(password)
        return password, True

    def _port(self) -> int | None:
        try:
            return int(self._port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _url(self, role: str, dbname: str) -> str:
        port = self._port()
        if port is None or not self._password_file.exists():
            raise ClusterError(f"cụm CSDL chưa được khởi tạo tại {self.home} (run: diaban db start)")
        return f"postgresql+psycopg://{role}:{self._password(role)}@127.0.0.1:{port}/{dbname}"

    def url(self, dbname: str = DB_NAME) -> str:
        """SQLAlchemy URL of a database of this cluster as the application's role (cluster must be started once)."""
        return self._url(APP_ROLE, dbname)

    def owner_url(self, dbname: str = DB_NAME) -> str:
        """SQLAlchemy URL as the owner role, which runs the migrations."""
        return self._url(OWNER_ROLE, dbname)

    def admin_url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL as the bootstrap superuser (cluster maintenance and test databases only)."""
        return self._url(ADMIN_ROLE, dbname)

    # -- running commands as the server's OS user -------------------------------------------
    def _run(
        self, *cmd: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full = [str(self.pg_bin / cmd[0]), *cmd[1:]]
        if self._os_user:
            full = ["runuser", "-u", self._os_user, "--", *full]
        environ = {**os.environ, **env} if env else None
        proc = subprocess.run(full, capture_output=True, text=True, cwd="/", env=environ)
        if check and proc.returncode != 0:
            raise ClusterError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
        return proc

    def _own(self, path: Path, mode: int) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self._os_user:
            entry = pwd.getpwnam(self._os_user)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        path.chmod(mode)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise start/stop between concurrent diaban processes."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "cluster.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- lifecycle --------------------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def _initdb(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o755)
        password = secrets.token_urlsafe(24)
        self._own(self.datadir, 0o700)
        self._own(self.rundir, 0o700)
        pwfile = self.rundir / "initdb.pw"
        pwfile.write_text(password)
        if self._os_user:
            entry = pwd.getpwnam(self._os_user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        pwfile.chmod(0o600)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.datadir),
                "-U",
                ADMIN_ROLE,
                "-E",
                "UTF8",
                "--no-locale",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self._password_file.write_text(password)
        self._password_file.chmod(0o600)

    def _clear_stale_pidfile(self) -> None:
        """Remove postmaster.pid left by a killed server, so that start does not refuse."""
        pidfile = self.datadir / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (ValueError, IndexError):
            pid = -1
        cmdline = Path(f"/proc/{pid}/cmdline")
        is_our_postgres = pid > 0 and _pid_alive(pid) and cmdline.exists() and b"postgres" in cmdline.read_bytes()
        if not is_our_postgres:
            pidfile.unlink(missing_ok=True)
            for lock in self.rundir.glob(".s.PGSQL.*"):
                lock.unlink(missing_ok=True)

    def _running(self) -> bool:
        if not self.initialised():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.datadir), check=False).returncode == 0

    def start(self) -> str:
        """Create (first time) and start the cluster and its database; return the URL. Idempotent."""
        with self._locked():
            if not self.initialised():
                if self.standby:
                    raise ClusterError(
                        f"bản sao chưa được tạo tại {self.home}: chưa có bản sao lưu gốc",
                        "no base backup: make_standby first",
                    )
                self._initdb()
            if not self._running():
                self._clear_stale_pidfile()
                port = self._port()
                if port is None or not _port_is_free(port):
                    port = _free_port()
                    self._port_file.write_text(str(port))
                self._own(self.rundir, 0o700)
                opts = f"-p {port} -k {self.rundir} -c listen_addresses=127.0.0.1 {SERVER_SETTINGS}"
                self._run(
                    "pg_ctl", "start", "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", "60", "-o", opts
                )
            if not self.standby:
                self._ensure_database()
            return self.url()

    def _admin(self, dbname: str = "postgres") -> psycopg.Connection:
        """An autocommit connection as the bootstrap superuser; ClusterError in one line when the server does not
        answer on the port kept under home (psycopg's error was a traceback on every command)."""
        try:
            return psycopg.connect(
                host="127.0.0.1",
                port=self._port(),
                user=ADMIN_ROLE,
                password=self._password(),
                dbname=dbname,
                autocommit=True,
            )
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0]
            raise ClusterError(
                f"không kết nối được cụm CSDL do diaban quản lý tại {self.home} (cổng {self._port()}): {reason};"
                " thử `diaban db stop` rồi `diaban db start`",
                "the managed cluster does not answer",
            ) from None

    def _ensure_roles(self, conn: psycopg.Connection) -> None:
        """Create the owner and app roles if missing (passwords kept 0600 under home); strip any extra power."""
        for role in (OWNER_ROLE, APP_ROLE):
            password, new = self._role_password(role)
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None
            verb = "ALTER" if exists else "CREATE"
            if new or not exists:
                conn.execute(
                    sql.SQL("{} ROLE {} {} PASSWORD {}").format(
                        sql.SQL(verb), sql.Identifier(role), sql.SQL(_UNPRIVILEGED), sql.Literal(password)
                    )
                )
            else:
                conn.execute(sql.SQL("ALTER ROLE {} {}").format(sql.Identifier(role), sql.SQL(_UNPRIVILEGED)))

    def create_database(self, dbname: str, template: str | None = None) -> None:
        """Create a database owned by the owner role, with PostGIS (only the superuser may create it), if missing.

        ``template``: a database of this cluster to copy (tables, rows and grants; it must have no open connection)
        instead of an empty one, e.g. a test city built once and copied for each module that changes it."""
        with self._admin() as conn:
            self._ensure_roles(conn)
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone() is None:
                copied = sql.SQL(" TEMPLATE {}").format(sql.Identifier(template)) if template else sql.SQL("")
                conn.execute(
                    sql.SQL("CREATE DATABASE {}{} OWNER {}").format(
                        sql.Identifier(dbname), copied, sql.Identifier(OWNER_ROLE)
                    )
                )
            else:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), sql.Identifier(OWNER_ROLE))
                )
        with self._admin(dbname) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            _adopt_schema_objects(conn)

    def drop_database(self, dbname: str) -> None:
        """Drop a database of this cluster (test and benchmark scratch databases), closing its connections."""
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))

    def _ensure_database(self) -> None:
        self.create_database(DB_NAME)

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server if it runs (``mode``: pg_ctl's fast, or immediate as a crash would); return whether it
        was running."""
        with self._locked():
            if not self._running():
                return False
            self._run("pg_ctl", "stop", "-D", str(self.datadir), "-m", mode, "-w", "-t", "60")
            return True

    def configure(self, settings: dict[str, str]) -> None:
        """Set server parameters (``ALTER SYSTEM``, kept across restarts) and reload the running server with them."""
        with self._admin() as conn:
            for name, value in settings.items():
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
            conn.execute("SELECT pg_reload_conf()")

    def make_standby(self, home: Path) -> ManagedCluster:
        """A streaming replica of this (running) cluster under ``home``: ``pg_basebackup -R`` (standby.signal and
        primary_conninfo written for it) as the bootstrap superuser, the roles' passwords copied (the replica has the
        same roles). Start it with :meth:`start`; it serves reads as a hot standby on a port of its own."""
        standby = ManagedCluster(home, self._pg_bin, self._os_user or "postgres", standby=True)
        standby.home.mkdir(parents=True, exist_ok=True)
        standby.home.chmod(0o755)
        standby._own(standby.rundir, 0o700)
        standby._own(standby.datadir, 0o700)
        for secret in [self._password_file, *self.home.glob("*.password")]:
            shutil.copy2(secret, standby.home / secret.name)
        conninfo = f"host=127.0.0.1 port={self._port()} user={ADMIN_ROLE}"
        standby._run(
            "pg_basebackup",
            *("-d", conninfo, "-D", str(standby.datadir), "-R", "-X", "stream", "-c", "fast"),
            env={"PGPASSWORD": self._password()},  # -R writes it into primary_conninfo, not the process list
        )
        return standby

    def status(self) -> ClusterStatus:
        pid = None
        running = self._running()
        if running:
            pid = int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
        return ClusterStatus(
            running=running, initialised=self.initialised(), port=self._port(), pid=pid, datadir=self.datadir
        )


#: PostgreSQL's "non-durable settings" (its manual, 14.5): nothing waits for the disk. An operating-system crash
#: could corrupt such a cluster; a throwaway one is removed afterwards anyway. Only the test suite's cluster runs
#: so: its thousands of commits, database copies and migrations (benchmarks keep the durable defaults they measure).
NON_DURABLE = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@contextmanager
def temporary_cluster(prefix: str = "diaban-tmp-", durable: bool = True) -> Iterator[ManagedCluster]:
    """A throwaway cluster in a temporary directory (tests, benchmarks), removed afterwards; with ``durable`` false,
    running under `NON_DURABLE`."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix=prefix))
    home.chmod(0o755)  # the non-root server user must reach its data directory
    cluster = ManagedCluster(home / "db")
    try:
        cluster.start()
        if not durable:
            cluster.configure(NON_DURABLE)
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


def managed_cluster(settings: DatabaseSettings | None = None) -> ManagedCluster:
    """The managed cluster described by the settings."""
    settings = settings or DatabaseSettings()
    return ManagedCluster(settings.home, settings.pg_bin, settings.pg_os_user)


def libpq_url(url: str) -> str:
    """A connection URL as libpq (psql, pg_dump) reads it: without SQLAlchemy's ``+driver`` part."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"

"""Backup and restore of the database: a ``pg_dump`` archive with a manifest beside it, restored only into an empty
database, with the roles' privileges given again the way the migrations give them.

The archive (``FILE``) is ``pg_dump``'s custom format, taken as the owner's role; the manifest (``FILE.json``) says
what it holds, read in the same snapshot as the dump (an exported snapshot that ``pg_dump --snapshot`` adopts): the
schema revision, the diaban version, the rows of every table and partition, the yearly partitions of ``incidents``
and their bounds, and the archive's SHA-256 and size. A checksum cannot sit inside what it checks, hence the file
beside it.

A restore checks the archive against its manifest before touching the database, refuses a schema newer than this
version knows and a database that already holds tables, and loads the archive as the owner in one transaction
(``pg_restore --single-transaction --exit-on-error``: a failure leaves the database empty) without the archive's
owners and grants (``--no-owner --no-privileges``): the source's role names need not exist here. PostGIS is the
target's own (a superuser installs it; the archive's ``CREATE EXTENSION`` and its comment are left out). The restored
rows and partitions are then compared with the manifest, an older schema is upgraded, and the application's role is
granted exactly its privileges (:func:`gis.store.db.migrate`, :mod:`gis.store.privileges`). Last, the restored
database's admin audit gets a line of the restore itself (who ran it, the archive, its date, checksum and source):
written once the restore is checked and upgraded, it is not in the manifest's counts and needs the upgraded schema.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import Connection, make_url, text

from gis.ops.postgres import find_pg_bin
from gis.settings import DatabaseSettings
from gis.store.access_log import COMMAND_LINE, record_access
from gis.store.audit import record_admin_action
from gis.store.db import (
    ensure_postgis,
    get_owner_engine,
    known_revisions,
    migrate,
    refuse_newer_schema,
    resolve_urls,
    schema_revision,
)
from models.errors import AlreadyExists, Conflict, InvalidInput, InvalidRequest, Unavailable
from models.vocabulary import AdminAction

#: What the manifest says it is (a later layout changes the number).
MANIFEST_FORMAT = "diaban-backup/1"
#: The manifest is the archive's name with this added: ``diaban.dump`` → ``diaban.dump.json``.
MANIFEST_SUFFIX = ".json"
_CHUNK = 1 << 20

#: Tables and other relations of schema public that belong to us, not to an extension (PostGIS's spatial_ref_sys).
_OUR_RELATIONS = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ({kinds})
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype = 'e')
ORDER BY c.relname"""
_PARTITIONS = text("""
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'incidents'::regclass ORDER BY c.relname""")
#: A line of ``pg_restore -l``'s table of contents: ``id; table-oid oid TYPE schema name owner``.
_TOC_ENTRY = re.compile(r"^\d+; \d+ \d+ (?P<what>.*)$")
#: What an archive older than a revision holds that pg_restore cannot create, left out of its restore because that
#: revision's migration (run by the restore) creates it: 0016, the incidents' metric trigger, whose condition
#: PostgreSQL printed without the schema of PostGIS's ``=``.
_MADE_AGAIN_BY = {"0016": ("TRIGGER public incidents incidents_metric_update ",)}


class BackupFailed(Unavailable):
    """``pg_dump`` or ``pg_restore`` failed (the server, the disk, the tools): nothing usable was written."""

    code = "backup_failed"


@dataclass(frozen=True)
class Inventory:
    """What a database holds, to compare a restore with its source: rows per table (each partition too) and the
    partitions attached to ``incidents`` with their bounds."""

    counts: dict[str, int]
    partitions: dict[str, str]

    def differences(self, other: Inventory) -> list[str]:
        """Each table whose rows, and each partition whose presence or bounds, differ in ``other`` (Vietnamese)."""
        found = []
        for table in sorted(self.counts.keys() | other.counts.keys()):
            mine, theirs = self.counts.get(table), other.counts.get(table)
            if mine != theirs:
                found.append(f"{table}: ghi {_rows(mine)}, khôi phục {_rows(theirs)}")
        for name in sorted(self.partitions.keys() | other.partitions.keys()):
            if self.partitions.get(name) != other.partitions.get(name):
                found.append(
                    f"phân vùng {name}: ghi {self.partitions.get(name)}, khôi phục {other.partitions.get(name)}"
                )
        return found


def _rows(count: int | None) -> str:
    return "không có bảng" if count is None else f"{count} dòng"


def inventory(conn: Connection) -> Inventory:
    """Rows of every table of ours in schema public (exact counts, in the connection's snapshot) and the partitions of
    ``incidents``."""
    quote = conn.dialect.identifier_preparer.quote
    tables = conn.execute(text(_OUR_RELATIONS.format(kinds="'r', 'p'"))).scalars().all()
    counts = {table: conn.execute(text(f"SELECT count(*) FROM {quote(table)}")).scalar_one() for table in tables}
    rows = conn.execute(_PARTITIONS).all() if "incidents" in counts else []
    partitions: dict[str, str] = {name: bound for name, bound in rows}
    return Inventory(counts, partitions)


@dataclass(frozen=True)
class Manifest:
    """The file beside an archive: what it holds and how to check it (``FILE.json``)."""

    archive: str
    sha256: str
    size_bytes: int
    created_at: str
    diaban_version: str
    schema_revision: str
    server_version: str
    database: str
    counts: dict[str, int]
    partitions: dict[str, str]
    format: str = field(default=MANIFEST_FORMAT)

    @property
    def inventory(self) -> Inventory:
        return Inventory(self.counts, self.partitions)

    def write(self, path: Path) -> None:
        """Write it as JSON (UTF-8, indented, readable by a person), replacing the file whole."""
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        partial.replace(path)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """The manifest at ``path``; InvalidInput when it is missing or is not one."""
        if not path.is_file():
            raise InvalidInput(
                f"không thấy tệp mô tả {path} bên cạnh bản sao lưu (nó ghi mã kiểm tra SHA-256 và số dòng);"
                " chép nó cùng bản sao lưu",
                "the manifest beside the archive is missing",
            )
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
            if values.get("format") != MANIFEST_FORMAT:
                raise ValueError(values.get("format"))
            return cls(**values)
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidInput(
                f"tệp {path} không phải tệp mô tả bản sao lưu của diaban", f"not a {MANIFEST_FORMAT} manifest"
            ) from exc


def manifest_path(archive: Path) -> Path:
    """Where the manifest of ``archive`` is: beside it, its name + ``.json``."""
    return archive.with_name(archive.name + MANIFEST_SUFFIX)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks (an archive may be larger than memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as ``pg_dump``/``pg_restore`` take it: a connection string without the password, and the
    environment that carries the password (PGPASSWORD: not on the command line, which every local user can read)."""
    from psycopg.conninfo import make_conninfo

    parsed = make_url(url)
    params = {
        key: str(value)
        for key, value in parsed.translate_connect_args(username="user", database="dbname").items()
        if key != "password"
    }
    params.update({key: str(value) for key, value in parsed.query.items()})
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    return make_conninfo(**params), env


def _run(tool: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL client tool; BackupFailed with its first error line when it fails."""
    proc = subprocess.run([str(tool), *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        detail = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "")
        raise BackupFailed(f"{tool.name} thất bại (mã {proc.returncode}): {detail.strip()}", f"{tool.name} failed")
    return proc


def _private_file(path: Path) -> None:
    """Create ``path`` empty, readable by its owner alone (0600), for a tool to write into: the archive holds password
    hashes, photos and every record, and pg_dump created it under the umask (0644: every local user could read it)."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


Progress = Callable[[str], None]


def _silent(_: str) -> None:
    """The default progress: say nothing."""


def backup(
    archive: Path,
    *,
    overwrite: bool = False,
    username: str,
    settings: DatabaseSettings | None = None,
    progress: Progress = _silent,
) -> Manifest:
    """Write the configured (or managed) database to ``archive`` as the owner's role, and its manifest beside it.

    Refuses an existing archive or manifest unless ``overwrite``. The counts are read in the snapshot the dump is
    taken in, so they are exactly what the archive holds, whatever writes meanwhile. The archive is written under a
    temporary name and renamed when complete: a failed or interrupted dump leaves no file that looks like a backup.
    A backup reads every detailed record: the access log gets a line of it by ``username``, after the snapshot (the
    archive does not hold its own line). The archive is readable by its owner alone (0600).
    """
    settings = settings or DatabaseSettings()
    target = manifest_path(archive)
    for path in (archive, target):
        if path.exists() and not overwrite:
            raise AlreadyExists(f"tệp {path} đã có; thêm --overwrite để ghi đè", "the file exists")
    pg_dump = find_pg_bin(settings.pg_bin) / "pg_dump"
    engine = get_owner_engine(settings)
    partial = archive.with_name(archive.name + ".partial")
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                revision = schema_revision(conn)
                if revision is None:
                    raise InvalidRequest(
                        "CSDL chưa có lược đồ diaban: không có gì để sao lưu", "the database has no diaban schema"
                    )
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                progress("Đang đếm số dòng từng bảng…")
                held = inventory(conn)
                server = conn.execute(text("SHOW server_version")).scalar_one()
                database = conn.execute(text("SELECT current_database()")).scalar_one()
                progress(f"Đang ghi bản sao lưu CSDL {database} bằng pg_dump (định dạng custom)…")
                conninfo, env = _libpq(engine.url.render_as_string(hide_password=False))
                _private_file(partial)
                _run(pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}", conninfo, env=env)
        with engine.begin() as conn:
            record_access(
                conn,
                username=username,
                role=COMMAND_LINE,
                route="diaban db backup",
                params={"file": str(archive)},
                rows=sum(held.counts.values()),
            )
        progress("Đang tính mã kiểm tra SHA-256…")
        manifest = Manifest(
            archive=archive.name,
            sha256=sha256_of(partial),
            size_bytes=partial.stat().st_size,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            diaban_version=version("diaban"),
            schema_revision=revision,
            server_version=server,
            database=database,
            counts=held.counts,
            partitions=held.partitions,
        )
        partial.replace(archive)
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()
    manifest.write(target)
    return manifest


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did: the manifest it checked, what it restored, the schema before and after the upgrade."""

    manifest: Manifest
    restored: Inventory
    revision_restored: str
    revision_now: str


def check_archive(archive: Path) -> Manifest:
    """The manifest of ``archive`` once the archive is checked against it (size and SHA-256) and its schema is one
    this version knows; InvalidInput or Conflict, before anything else is done, otherwise."""
    size = archive.stat().st_size  # a missing archive: FileNotFoundError naming it, before its manifest is looked for
    manifest = Manifest.read(manifest_path(archive))
    digest = sha256_of(archive)
    if size != manifest.size_bytes or digest != manifest.sha256:
        raise InvalidInput(
            f"tệp sao lưu {archive} bị hỏng hoặc đã bị sửa: mã SHA-256 {digest[:16]}… ({size} byte) khác mã đã ghi khi"
            f" sao lưu {manifest.sha256[:16]}… ({manifest.size_bytes} byte); không khôi phục gì",
            "checksum mismatch",
        )
    refuse_newer_schema(
        manifest.schema_revision,
        "bản sao lưu",
        f"diaban {manifest.diaban_version} đã tạo nó; cài phiên bản diaban đó hoặc mới hơn rồi khôi phục",
    )
    return manifest


def _check_target(conn: Connection, app_role: str | None) -> None:
    """Refuse a database that holds tables of its own (a restore only fills an empty one) or whose server lacks the
    application's role (the grants would name a role that does not exist)."""
    ensure_postgis(conn)
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    present = conn.execute(text(_OUR_RELATIONS.format(kinds="'r', 'p', 'v', 'm', 'S', 'f'"))).scalars().all()
    if present:
        shown = ", ".join(present[:5]) + (" …" if len(present) > 5 else "")
        raise Conflict(
            f"CSDL {database} không trống ({len(present)} bảng, chuỗi số hoặc khung nhìn: {shown}): chỉ khôi phục vào"
            " CSDL trống. Tạo một CSDL mới (với cụm do diaban quản lý: một DIABAN_HOME mới, và đừng chạy"
            " `diaban db start` trước khi khôi phục) rồi chạy lại",
            "the target database is not empty",
        )
    if app_role and conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app_role}).scalar() is None:
        raise InvalidRequest(
            f"máy chủ chưa có vai trò {app_role} của ứng dụng (DIABAN_DATABASE_URL): tạo nó (CREATE ROLE … LOGIN"
            " PASSWORD '…') rồi chạy lại",
            "the application's role does not exist",
        )


def _extension_tables(conn: Connection) -> set[str]:
    """The tables of schema public that an extension owns in this database (PostGIS's spatial_ref_sys)."""
    members = _OUR_RELATIONS.format(kinds="'r'").replace("NOT EXISTS", "EXISTS")
    return set(conn.execute(text(members)).scalars())


def _restore_list(
    pg_restore: Path, archive: Path, env: dict[str, str], extension_tables: set[str], revision: str
) -> str:
    """The archive's table of contents as ``pg_restore --use-list`` takes it, without what belongs to the target's
    own PostGIS (a superuser installed it; its owner alone may comment on it or write its tables): the CREATE
    EXTENSION, its comment, and the rows pg_dump keeps of an extension's tables (SRIDs added by hand: diaban adds
    none); and without what a later migration makes again (``_MADE_AGAIN_BY``) when the archive's ``revision``
    predates it."""
    listing = _run(pg_restore, "--list", str(archive), env=env).stdout.splitlines()
    known = known_revisions()
    skipped = ["EXTENSION ", "COMMENT - EXTENSION ", *(f"TABLE DATA public {name} " for name in extension_tables)]
    for made_by, entries in _MADE_AGAIN_BY.items():
        if known.index(revision) < known.index(made_by):
            skipped.extend(entries)
    return "".join(
        f";{line}\n" if (entry := _TOC_ENTRY.match(line)) and entry["what"].startswith(tuple(skipped)) else f"{line}\n"
        for line in listing
    )


def restore(
    archive: Path,
    *,
    username: str,
    settings: DatabaseSettings | None = None,
    progress: Progress = _silent,
) -> RestoreReport:
    """Restore ``archive`` into the configured (or managed) database, which must be empty; see the module's text.

    Everything that can refuse does so before the database is touched. Restored rows or partitions that differ from
    the manifest are an error (the database then holds the restore: drop it rather than use it). A restore that
    succeeds is written to the restored database's admin audit as done by ``username`` (the operator's account).
    """
    settings = settings or DatabaseSettings()
    progress(f"Đang kiểm tra {archive} với tệp mô tả của nó (SHA-256)…")
    manifest = check_archive(archive)
    pg_restore = find_pg_bin(settings.pg_bin) / "pg_restore"
    urls = resolve_urls(settings)
    app_role = make_url(urls.app).username if urls.owner else None
    engine = get_owner_engine(settings, urls)
    try:
        with engine.begin() as conn:
            _check_target(conn, app_role)
            extension_tables = _extension_tables(conn)
        conninfo, env = _libpq(engine.url.render_as_string(hide_password=False))
        progress("Đang nạp bản sao lưu bằng pg_restore (một giao dịch)…")
        # Beside the archive it failed on read-only media (a backup disk or DVD mounted read-only): a temporary file.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", prefix="diaban-restore-", suffix=".list") as listing:
            listing.write(_restore_list(pg_restore, archive, env, extension_tables, manifest.schema_revision))
            listing.flush()
            _run(
                pg_restore,
                *("--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"),
                *(f"--use-list={listing.name}", f"--dbname={conninfo}", str(archive)),
                env=env,
            )
        with engine.begin() as conn:
            restored = inventory(conn)
            revision_restored = schema_revision(conn) or ""
        differences = manifest.inventory.differences(restored)
        if revision_restored != manifest.schema_revision:
            differences.append(f"lược đồ: ghi {manifest.schema_revision}, khôi phục {revision_restored}")
        if differences:
            raise BackupFailed(
                "dữ liệu khôi phục khác bản mô tả — đừng dùng CSDL này, xóa nó và khôi phục lại: "
                + "; ".join(differences),
                "the restored database differs from the manifest",
            )
        progress("Đang nâng cấp lược đồ (nếu cần) và cấp lại quyền cho vai trò ứng dụng…")
        migrate(engine, app_role=app_role)
        with engine.begin() as conn:
            revision_now = schema_revision(conn) or ""
            details = {
                "archive": str(archive.resolve()),
                "created_at": manifest.created_at,
                "sha256": manifest.sha256,
                "database": manifest.database,
                "schema_revision": manifest.schema_revision,
                "diaban_version": manifest.diaban_version,
            }
            record_admin_action(conn, username, AdminAction.RESTORE_BACKUP, details=details)
    finally:
        engine.dispose()
    return RestoreReport(manifest, restored, revision_restored, revision_now)

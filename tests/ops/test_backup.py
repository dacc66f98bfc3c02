"""`diaban db backup` and `diaban db restore` on the session's cluster: a seeded database (incidents of two years,
hence two partitions; a task with a photo; audit and access lines) backed up, restored into a fresh database, and
compared — rows, partitions, the application role's privileges, a login, the restore's own line in the admin audit;
and the refusals: a damaged archive, a database that is not empty, a file that exists, a schema newer than this
version's. An older schema is upgraded."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import psycopg.errors
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from api.app import create_app
from api.cli.main import main
from gis.ops.backup import inventory, manifest_path, sha256_of
from gis.ops.postgres import APP_ROLE, ManagedCluster
from gis.services import admin
from gis.services.boundary_import import import_boundaries
from gis.services.incident_import import import_incidents
from gis.services.tasks import comment_task
from gis.store.access_log import COMMAND_LINE, record_access
from gis.store.db import SCHEMA_HEAD, app_engine, known_revisions, migrate
from gis.store.scoping import UNRESTRICTED
from models.domain.access import Principal
from models.domain.dates import vn_day
from tests.conftest import TEST_PASSWORD, conversion_task, evidence_photo, migrated_database, run_cli

SOURCE = "backup_source"
COMMUNE = "10507"
COMMAND, TEAM = "chihuy-saoluu", "to-saoluu"
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(cluster: ManagedCluster, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `diaban` in-process against database ``db`` of the cluster (its app and owner roles): (exit, out, err)."""

    def run(db: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("DIABAN_DATABASE_URL", cluster.url(db))
        monkeypatch.setenv("DIABAN_OWNER_DATABASE_URL", cluster.owner_url(db))
        return run_cli(capsys, *args)

    return run


@pytest.fixture(scope="module")
def source(cluster: ManagedCluster, boundaries_path: Path, password_hash: str, tmp_path_factory) -> Iterator[str]:
    """A scratch database, migrated and seeded as the application would have written it, committed."""
    migrated_database(cluster, SOURCE)
    app = create_engine(cluster.url(SOURCE), poolclass=NullPool)
    owner = create_engine(cluster.owner_url(SOURCE), poolclass=NullPool)
    with app.begin() as conn:
        import_boundaries(conn, boundaries_path)
        team_id = admin.create_team(conn, "quantri", "Tổ sao lưu", [COMMUNE])
        command = Principal(
            admin.create_user(conn, "quantri", COMMAND, password_hash, "command", None, must_change_password=False),
            COMMAND,
            "command",
        )
        member = admin.create_user(conn, "quantri", TEAM, password_hash, "team", team_id, must_change_password=False)
        task_id = conversion_task(conn, command, COMMUNE, 2025, team_id)
        team = Principal(member, TEAM, "team", team_id)
        comment_task(conn, task_id, "Đã xác minh tại chỗ", team, UNRESTRICTED, photo=evidence_photo())
        record_access(conn, username=COMMAND, role=COMMAND_LINE, route="thử", params={}, rows=1)
        lon, lat = conn.execute(
            text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_units WHERE code = :c) s"),
            {"c": COMMUNE},
        ).one()
    incidents = tmp_path_factory.mktemp("backup") / "incidents.csv"
    incidents.write_text(
        "ref,occurred_at,lon,lat,kind\n"
        + "".join(
            f"SL{i},{year}-0{i + 1}-15T09:00:00,{lon:.6f},{lat:.6f},trafficking\n"
            for i, year in enumerate([2024] * 2 + [2025] * 3)
        ),
        encoding="utf-8",
    )
    with owner.begin() as conn:  # as `diaban incidents import`: the owner creates and attaches the years' partitions
        import_incidents(conn, incidents, imported_by="test")
    app.dispose()
    owner.dispose()
    yield SOURCE
    cluster.drop_database(SOURCE)


@pytest.fixture(scope="module")
def archive(cluster: ManagedCluster, source: str, tmp_path_factory) -> Path:
    """The source backed up by `diaban db backup` (run once for the module)."""
    path = tmp_path_factory.mktemp("archive") / "diaban.dump"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIABAN_DATABASE_URL", cluster.url(source))
        patch.setenv("DIABAN_OWNER_DATABASE_URL", cluster.owner_url(source))
        assert main(["db", "backup", str(path)]) == 0
    return path


@pytest.fixture
def target(cluster: ManagedCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database of the cluster as `diaban db start` leaves a new one before migrating: roles, PostGIS, empty."""
    name = f"restore_{request.node.name[:40].lower()}"
    cluster.create_database(name)
    yield name
    cluster.drop_database(name)


def _engine(cluster: ManagedCluster, db: str, owner: bool = False) -> Engine:
    return create_engine(cluster.owner_url(db) if owner else cluster.url(db), poolclass=NullPool)


def _grants(cluster: ManagedCluster, db: str) -> set[tuple[str, str, str]]:
    """Every privilege of the app role on the tables and sequences of schema public: (object, privilege, kind)."""
    engine = _engine(cluster, db, owner=True)
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT c.relname, p.privilege, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p(privilege)
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
              AND has_table_privilege(:role, c.oid, p.privilege)
            UNION ALL
            SELECT c.relname, p.privilege, 'S' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN unnest(ARRAY['USAGE','SELECT','UPDATE']) p(privilege)
            WHERE n.nspname = 'public' AND c.relkind = 'S' AND has_sequence_privilege(:role, c.oid, p.privilege)"""),
            {"role": APP_ROLE},
        )
        found = set(rows)
    engine.dispose()
    return found


def _tables(cluster: ManagedCluster, db: str) -> list[str]:
    engine = _engine(cluster, db)
    with engine.connect() as conn:
        names = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'")
        ).scalars()
        found = list(names)
    engine.dispose()
    return found


def test_a_restore_reproduces_the_database(
    cluster: ManagedCluster, source: str, archive: Path, target: str, cli: Cli
) -> None:
    manifest = json.loads(manifest_path(archive).read_text(encoding="utf-8"))
    assert manifest["sha256"] == sha256_of(archive) and manifest["schema_revision"] == SCHEMA_HEAD
    assert set(manifest["partitions"]) >= {"incidents_y2024", "incidents_y2025"}

    code, out, err = cli(target, "db", "restore", str(archive))
    assert code == 0, err
    assert "số dòng khớp tệp mô tả" in out and "task_photos" in out and "đã ghi vào nhật ký quản trị" in out
    made = vn_day(datetime.fromisoformat(manifest["created_at"]))  # its Hải Phòng day, dd/mm/yyyy (was ISO)
    assert f"Đã khôi phục bản sao lưu ngày {made} của CSDL" in out, out

    before, after = (_engine(cluster, db, owner=True) for db in (source, target))
    with before.connect() as old, after.connect() as new:
        recorded, restored = inventory(old), inventory(new)
        photo = "SELECT content FROM task_photos"
        assert new.execute(text(photo)).scalar_one() == old.execute(text(photo)).scalar_one()
        newest = admin.audit_entries(new, {}, 1)[0]
    before.dispose()
    after.dispose()
    # The source's access log has one more line since: the backup's own, recorded after its snapshot; the restored
    # admin audit one more: the restore's own, recorded once it was checked.
    counts = {"access_log": recorded.counts["access_log"] - 1, "admin_audit": recorded.counts["admin_audit"] + 1}
    assert restored.counts == {**recorded.counts, **counts}
    assert (newest["actor"], newest["action"]) == (getpass.getuser(), "restore_backup")
    assert newest["details"]["archive"] == str(archive.resolve()) and newest["details"]["sha256"] == manifest["sha256"]
    assert newest["details_text"].startswith(f"tệp «{archive.resolve()}», sao lưu ngày "), newest["details_text"]
    assert newest["details_text"].endswith(f" từ CSDL {SOURCE}, lược đồ {SCHEMA_HEAD}"), newest["details_text"]
    assert restored.counts["incidents_y2024"] == 2 and restored.counts["incidents_y2025"] == 3
    assert restored.counts["admin_audit"] >= 3 and restored.counts["task_events"] >= 2
    assert restored.partitions == recorded.partitions  # attached to incidents, with the same bounds
    assert _grants(cluster, target) == _grants(cluster, source)

    app = _engine(cluster, target)
    with app.connect() as conn:
        for forbidden in ("UPDATE admin_audit SET actor = 'ai-do'", "DELETE FROM task_events", "TRUNCATE incidents"):
            with pytest.raises(DBAPIError) as refused, conn.begin_nested():
                conn.execute(text(forbidden))
            assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), forbidden
        conn.rollback()
    app.dispose()
    served = app_engine(cluster.url(target), pool_size=4)
    with TestClient(create_app(served)) as client:
        answer = client.post("/api/auth/token", data={"username": COMMAND, "password": TEST_PASSWORD})
        assert answer.status_code == 200, answer.text
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        tasks = client.get("/api/tasks", headers=headers)
        assert tasks.status_code == 200 and tasks.json()["numberMatched"] == 1
    served.dispose()


def test_the_archive_is_readable_by_its_owner_alone(archive: Path) -> None:
    """It holds password hashes, photos and every record: pg_dump wrote it under the umask, 0644."""
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600


@pytest.fixture
def read_only(archive: Path, tmp_path: Path) -> Iterator[Path]:
    """The archive and its manifest in a folder nobody may write to, as on a backup disk or DVD mounted read-only:
    a folder without write permission, or for root (whom permissions do not stop) a read-only bind mount."""
    folder, view = tmp_path / "ban-sao", tmp_path / "o-dia"
    folder.mkdir()
    for path in (archive, manifest_path(archive)):
        shutil.copy2(path, folder / path.name)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder / archive.name
        folder.chmod(0o755)
        return
    view.mkdir()
    if subprocess.run(["mount", "--bind", str(folder), str(view)], capture_output=True).returncode != 0:
        pytest.skip("root without the right to mount: no read-only folder to restore from")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True, capture_output=True)
        yield view / archive.name
    finally:
        subprocess.run(["umount", str(view)], check=True)


def test_a_restore_of_a_missing_archive_names_the_archive(target: str, cli: Cli, tmp_path: Path) -> None:
    """It said its manifest was missing («không thấy tệp mô tả …json»), as if the archive were there without it."""
    missing = tmp_path / "missing.dump"
    code, out, err = cli(target, "db", "restore", str(missing))
    assert code == 2, err
    assert err.strip().splitlines()[-1] == f"Lỗi dữ liệu: không tìm thấy tệp {missing}", err


def test_a_restore_reads_the_archive_from_read_only_media(
    cluster: ManagedCluster, read_only: Path, target: str, cli: Cli
) -> None:
    """It wrote its table of contents beside the archive: «không ghi được …restore-list», exit 2, nothing restored."""
    code, out, err = cli(target, "db", "restore", str(read_only))
    assert code == 0, err
    assert "số dòng khớp tệp mô tả" in out and "users" in _tables(cluster, target)


@pytest.mark.parametrize("command", [("users", "list"), ("audit", "--prune")])
def test_a_database_a_newer_diaban_migrated_is_refused_in_one_line(
    cluster: ManagedCluster, cli: Cli, command: tuple[str, ...]
) -> None:
    """Older code than the database: Alembic's 'Can't locate revision' was a traceback (exit 70) on every command and
    at every start of the server. The retention (`audit --prune`, as the owner's role) deleted from it unchecked."""
    newer = f"backup_newer_schema_{command[0]}"  # a database of its own: the engines of a name are cached
    migrated_database(cluster, newer)
    try:
        owner = _engine(cluster, newer, owner=True)
        with owner.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        owner.dispose()
        code, out, err = cli(newer, *command)
        assert (code, out) == (3, ""), err
        assert err.strip() == (
            f"Bị từ chối: CSDL có lược đồ 9999, mới hơn lược đồ phiên bản diaban này biết ({SCHEMA_HEAD}): một phiên"
            " bản diaban mới hơn đã nâng cấp nó; cài phiên bản đó (hoặc mới hơn) rồi chạy lại"
        )  # the English reason only in the debug log
    finally:
        cluster.drop_database(newer)


def test_a_damaged_archive_is_refused_and_the_target_stays_empty(
    cluster: ManagedCluster, archive: Path, target: str, cli: Cli, tmp_path: Path
) -> None:
    damaged = tmp_path / archive.name
    shutil.copy(archive, damaged)
    shutil.copy(manifest_path(archive), manifest_path(damaged))
    content = bytearray(damaged.read_bytes())
    content[len(content) // 2] ^= 0x01
    damaged.write_bytes(bytes(content))

    code, _, err = cli(target, "db", "restore", str(damaged))
    assert code == 2 and "bị hỏng hoặc đã bị sửa" in err and "không khôi phục gì" in err
    assert _tables(cluster, target) == []

    manifest_path(damaged).unlink()
    code, _, err = cli(target, "db", "restore", str(damaged))
    assert code == 2 and "không thấy tệp mô tả" in err


def test_a_database_that_is_not_empty_is_refused(cluster: ManagedCluster, source: str, archive: Path, cli: Cli) -> None:
    engine = _engine(cluster, source, owner=True)
    with engine.connect() as conn:
        before = inventory(conn)
    code, _, err = cli(source, "db", "restore", str(archive))
    assert code == 3 and "không trống" in err and "chỉ khôi phục vào CSDL trống" in err
    with engine.connect() as conn:
        assert inventory(conn) == before
    engine.dispose()


def test_a_backup_does_not_overwrite_unless_asked(source: str, archive: Path, cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "diaban.dump"
    path.write_bytes(b"an older backup")
    code, _, err = cli(source, "db", "backup", str(path))
    assert code == 3 and "đã có" in err and "--overwrite" in err
    assert path.read_bytes() == b"an older backup" and not manifest_path(path).exists()

    code, out, err = cli(source, "db", "backup", str(path), "--overwrite")
    assert code == 0, err
    assert f"vào {path.resolve()} (" in out
    assert json.loads(manifest_path(path).read_text(encoding="utf-8"))["sha256"] == sha256_of(path)


def test_a_newer_schema_is_refused(
    cluster: ManagedCluster, archive: Path, target: str, cli: Cli, tmp_path: Path
) -> None:
    newer = tmp_path / archive.name
    shutil.copy(archive, newer)
    manifest = json.loads(manifest_path(archive).read_text(encoding="utf-8"))
    manifest_path(newer).write_text(json.dumps({**manifest, "schema_revision": "9999"}), encoding="utf-8")
    code, _, err = cli(target, "db", "restore", str(newer))
    assert code == 3 and "mới hơn" in err and SCHEMA_HEAD in err
    assert _tables(cluster, target) == []


def test_an_older_schema_is_upgraded_and_granted(
    cluster: ManagedCluster, target: str, cli: Cli, tmp_path: Path
) -> None:
    older = known_revisions()[-2]
    old_db = "backup_older"
    cluster.create_database(old_db)
    try:
        owner = _engine(cluster, old_db, owner=True)
        migrate(owner, revision=older, app_role=APP_ROLE)
        owner.dispose()
        path = tmp_path / "older.dump"
        code, _, err = cli(old_db, "db", "backup", str(path))
        assert code == 0, err
        assert json.loads(manifest_path(path).read_text(encoding="utf-8"))["schema_revision"] == older
    finally:
        cluster.drop_database(old_db)

    code, out, err = cli(target, "db", "restore", str(path))
    assert code == 0, err
    assert f"nâng cấp lược đồ {older} → {SCHEMA_HEAD}" in out
    fresh = "backup_fresh"
    migrated_database(cluster, fresh)
    try:
        assert _grants(cluster, target) == _grants(cluster, fresh)
    finally:
        cluster.drop_database(fresh)

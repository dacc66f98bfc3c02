"""Incidents partitioned by year (migration 0011): years built apart and attached, daily files inserted into their
year, refs unique across years, storage order, referential checks per statement, chunked imports."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

import gis.services.incident_import as service
import gis.store.incident_load as load
from gis.io import report_rows
from gis.io.readers import read_table_chunks
from gis.services.incident_import import import_incidents
from gis.store.incident_load import REBUILD_SHARE
from tests.conftest import footprint

HEADER = "ref,occurred_at,lon,lat,kind\n"


@pytest.fixture
def conn(owner_conn: Connection) -> Connection:
    """As `diaban incidents import` connects: the owner's role, which may create and attach partitions."""
    return owner_conn


def write(tmp_path: Path, rows: list[str], name: str = "incidents.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


def rows(prefix: str, n: int, day: str, lon: float = 106.683, lat: float = 20.86) -> list[str]:
    return [f"{prefix}{i},{day}T10:00:00,{lon + i * 1e-4:.6f},{lat:.6f},tip" for i in range(n)]


def partitions(conn: Connection) -> dict[str, str]:
    """Partition name → bounds, as PostgreSQL states them."""
    return dict(
        conn.execute(
            text("""SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'incidents'::regclass""")
        ).all()
    )


def filenode(conn: Connection, table: str) -> int:
    return conn.execute(text("SELECT pg_relation_filenode(CAST(:t AS regclass))"), {"t": table}).scalar_one()


def test_a_year_is_built_apart_indexed_and_attached(conn: Connection, tmp_path: Path) -> None:
    version = conn.execute(text("SELECT version FROM data_versions WHERE name = 'incidents'")).scalar_one()
    report = import_incidents(
        conn, write(tmp_path, rows("Y3-", 30, "2013-05-01") + rows("Y4-", 20, "2014-02-01")), imported_by="test"
    )
    assert report.imported == 50
    found = partitions(conn)
    assert "incidents_default" in found
    # Local calendar years: Hải Phòng's midnight of 1 January is 17:00 UTC the day before.
    assert found["incidents_y2013"] == "FOR VALUES FROM ('2012-12-31 17:00:00+00') TO ('2013-12-31 17:00:00+00')"
    counts = dict(conn.execute(text("SELECT tableoid::regclass::text, count(*) FROM incidents GROUP BY 1")).all())
    assert counts["incidents_y2013"] == 30 and counts["incidents_y2014"] == 20
    # Each year has every index of incidents, attached to the parent's (not built again by ATTACH).
    indexes = conn.execute(
        text("""SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE c.relkind = 'i' AND c.relname LIKE 'incidents_y2013%'""")
    ).scalar_one()
    parent = conn.execute(text("SELECT count(*) FROM pg_index WHERE indrelid = 'incidents'::regclass")).scalar_one()
    assert indexes == parent == 5  # key, points (GiST), time, commune and time, incidents without a point (0014)
    # The application role holds the same privileges on the new year as on incidents, as after a migration.
    privileges = "SELECT grantee, privilege_type FROM information_schema.role_table_grants WHERE table_name = :t"
    for year in ("incidents_y2013", "incidents_y2014"):
        assert set(conn.execute(text(privileges), {"t": year}).all()) == set(
            conn.execute(text(privileges), {"t": "incidents"}).all()
        )
    leftovers = conn.execute(
        text("SELECT relname FROM pg_class WHERE relname LIKE 'incidents%load%' OR relname = 'incidents_loading'")
    ).scalars()
    assert list(leftovers) == []
    refs = conn.execute(text("SELECT count(*) FROM incident_refs WHERE ref LIKE 'Y_-%'")).scalar_one()
    assert refs == 50
    assert conn.execute(text("SELECT version FROM data_versions WHERE name = 'incidents'")).scalar_one() > version


def test_a_small_file_goes_into_its_year_and_a_large_one_rebuilds_it(conn: Connection, tmp_path: Path) -> None:
    first = import_incidents(conn, write(tmp_path, rows("B-", 40, "2012-03-01")), imported_by="test")
    assert first.imported == 40
    built = filenode(conn, "incidents_y2012")
    small = int(40 * REBUILD_SHARE) - 1
    daily = import_incidents(conn, write(tmp_path, rows("D-", small, "2012-03-02"), "d.csv"), imported_by="test")
    assert daily.imported == small
    assert filenode(conn, "incidents_y2012") == built  # inserted into, not rebuilt
    ids_before = dict(conn.execute(text("SELECT ref, id FROM incidents WHERE ref LIKE 'B-%'")).all())
    large = import_incidents(conn, write(tmp_path, rows("L-", 30, "2012-04-01"), "l.csv"), imported_by="test")
    assert large.imported == 30
    assert filenode(conn, "incidents_y2012") != built  # rebuilt, with the rows it held
    assert dict(conn.execute(text("SELECT ref, id FROM incidents WHERE ref LIKE 'B-%'")).all()) == ids_before
    stored = conn.execute(text("SELECT count(*) FROM incidents_y2012")).scalar_one()
    assert stored == 40 + small + 30
    refs = conn.execute(text("SELECT count(*) FROM incident_refs WHERE ref ~ '^[BDL]-'")).scalar_one()
    assert refs == stored


def test_a_dry_run_builds_and_rebuilds_years_as_the_import_does_and_leaves_every_partition(
    conn: Connection, tmp_path: Path
) -> None:
    """A new year built apart and a year rebuilt, then rolled back: the same report as the import that follows, and
    the partitions, their files, the rows and the data versions as they were."""
    import_incidents(conn, write(tmp_path, rows("K-", 10, "2016-03-01")), imported_by="test")
    before, built = footprint(conn), filenode(conn, "incidents_y2016")
    path = write(tmp_path, rows("KN-", 20, "2016-04-01") + rows("KM-", 5, "2017-01-05"), "kiem-tra.csv")
    checked = import_incidents(conn, path, imported_by="test", dry_run=True)
    assert (checked.dry_run, checked.import_id, checked.imported) == (True, None, 25)
    assert footprint(conn) == before and filenode(conn, "incidents_y2016") == built
    assert "incidents_y2017" not in partitions(conn)
    imported = import_incidents(conn, path, imported_by="test")
    assert imported.summary() == checked.summary() and not imported.dry_run
    assert "incidents_y2017" in partitions(conn) and filenode(conn, "incidents_y2016") != built


def test_a_ref_is_a_duplicate_whatever_year_it_was_stored_in(conn: Connection, tmp_path: Path) -> None:
    import_incidents(conn, write(tmp_path, ["R-1,2011-06-01,106.683,20.86,tip"]), imported_by="test")
    again = import_incidents(
        conn,
        write(tmp_path, ["R-1,2016-06-01,106.683,20.86,tip", "R-2,2016-06-01,106.683,20.86,tip"], "b.csv"),
        imported_by="test",
    )
    assert again.imported == 1 and again.duplicates == 1
    years = conn.execute(text("SELECT ref, tableoid::regclass::text FROM incidents WHERE ref LIKE 'R-%' ORDER BY ref"))
    assert years.all() == [("R-1", "incidents_y2011"), ("R-2", "incidents_y2016")]
    with pytest.raises(DBAPIError, match="incident_refs_pkey"), conn.begin_nested():
        conn.execute(
            text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
            VALUES ('R-1', '2019-01-01', 'tip', 'outside', NULL, ST_SetSRID(ST_MakePoint(106.7, 20.9), 4326))""")
        )


def test_a_row_written_by_hand_gets_its_metric_point_and_moves_into_its_year(conn: Connection, tmp_path: Path) -> None:
    """Other writers than the import: the trigger projects the point, the default partition takes a year that
    has none, and the import that later builds that year takes the row along."""
    conn.execute(
        text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
        VALUES ('H-1', '2009-07-01T00:00:00+07:00', 'tip', 'outside', NULL,
                ST_SetSRID(ST_MakePoint(106.683, 20.86), 4326))""")
    )
    row = conn.execute(
        text("""SELECT tableoid::regclass::text, abs(x_m - ST_X(ST_Transform(geom, 32648)))
        + abs(y_m - ST_Y(ST_Transform(geom, 32648))) FROM incidents WHERE ref = 'H-1'""")
    ).one()
    assert row[0] == "incidents_default" and row[1] < 1e-6
    import_incidents(conn, write(tmp_path, rows("H-", 3, "2009-08-01")[1:]), imported_by="test")
    where = conn.execute(text("SELECT ref, tableoid::regclass::text FROM incidents WHERE ref LIKE 'H-%' ORDER BY ref"))
    assert {table for _, table in where} == {"incidents_y2009"}
    moved = conn.execute(
        text("UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(106.7, 20.9), 4326) WHERE ref = 'H-1'")
    )
    assert moved.rowcount == 1
    drift = conn.execute(
        text("SELECT abs(x_m - ST_X(ST_Transform(geom, 32648))) FROM incidents WHERE ref = 'H-1'")
    ).scalar_one()
    assert drift < 1e-6


def test_a_point_taken_away_or_given_back_keeps_its_metric_point(conn: Connection) -> None:
    """The update trigger's condition (migration 0016, written so that a dump restores) fires when the point changes
    to or from none, as IS DISTINCT FROM did: the metric point follows, or the table's check refuses the row."""
    conn.execute(
        text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
        VALUES ('N-1', '2009-07-01T00:00:00+07:00', 'tip', 'outside', NULL,
                ST_SetSRID(ST_MakePoint(106.683, 20.86), 4326))""")
    )
    metric = text("SELECT x_m, y_m FROM incidents WHERE ref = 'N-1'")
    conn.execute(
        text("UPDATE incidents SET geom = NULL, assignment = 'code', commune_code = '10507' WHERE ref = 'N-1'")
    )
    assert tuple(conn.execute(metric).one()) == (None, None)
    conn.execute(
        text(
            "UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(106.7, 20.9), 4326), assignment = 'inside' WHERE ref = 'N-1'"
        )
    )
    x_m, y_m = conn.execute(metric).one()
    assert x_m is not None and y_m is not None


def test_rows_are_stored_month_by_month(conn: Connection, tmp_path: Path) -> None:
    """Storage order inside a year: months in turn, so that a daily file appends after what a year's load wrote."""
    mixed = []
    for i in range(60):  # the file alternates months and places
        month = 1 + i % 3
        mixed.append(f"M{i},2010-0{month}-15T08:00:00,{106.3 + (i * 7 % 60) / 100:.4f},20.86,tip")
    import_incidents(conn, write(tmp_path, mixed), imported_by="test")
    months = conn.execute(
        text("""SELECT extract(month FROM occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int FROM incidents
        WHERE ref LIKE 'M%' ORDER BY id""")
    ).scalars()
    assert list(months) == sorted(1 + i % 3 for i in range(60))


def test_references_are_checked_per_statement(conn: Connection, tmp_path: Path, make_hotspot) -> None:  # noqa: ANN001
    report = import_incidents(conn, write(tmp_path, rows("F-", 3, "2015-01-01")), imported_by="test")
    with pytest.raises(DBAPIError, match="import_id not in import_runs"), conn.begin_nested():
        conn.execute(
            text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, import_id, geom)
            VALUES ('F-x', '2015-02-01', 'tip', 'outside', -1, ST_SetSRID(ST_MakePoint(106.7, 20.9), 4326))""")
        )
    with pytest.raises(DBAPIError, match="still referenced"), conn.begin_nested():
        # A run is history (migration 0030): only its owner, lifting the guard, could try to delete it.
        conn.execute(text("ALTER TABLE import_runs DISABLE TRIGGER import_runs_append_only"))
        conn.execute(text("DELETE FROM import_runs WHERE id = :i"), {"i": report.import_id})
    hotspot = make_hotspot("10507")
    with pytest.raises(DBAPIError, match="incident_id not in incidents"), conn.begin_nested():
        conn.execute(text("INSERT INTO hotspot_incidents VALUES (:h, -5)"), {"h": hotspot})
    conn.execute(
        text("INSERT INTO hotspot_incidents SELECT :h, id FROM incidents WHERE ref LIKE 'F-%'"), {"h": hotspot}
    )
    conn.execute(text("DELETE FROM incidents WHERE ref = 'F-0'"))
    members = conn.execute(text("SELECT count(*) FROM hotspot_incidents WHERE hotspot_id = :h"), {"h": hotspot})
    assert members.scalar_one() == 2
    assert conn.execute(text("SELECT count(*) FROM incident_refs WHERE ref = 'F-0'")).scalar_one() == 0
    again = import_incidents(conn, write(tmp_path, rows("F-", 1, "2015-01-01"), "again.csv"), imported_by="test")
    assert again.imported == 1  # a deleted incident's ref is free again
    with pytest.raises(DBAPIError, match="hotspot_id not in hotspots"), conn.begin_nested():
        conn.execute(text("INSERT INTO hotspot_incidents SELECT -7, id FROM incidents WHERE ref = 'F-1'"))
    conn.execute(text("DELETE FROM hotspots WHERE id = :h"), {"h": hotspot})
    assert conn.execute(text("SELECT count(*) FROM hotspot_incidents")).scalar_one() == 0  # the list went with it


def test_an_import_in_chunks_stores_and_reports_as_one_in_a_piece(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 7 rows: duplicates across chunks, rejects in several chunks — the same
    rows stored and the same report as read in one piece."""
    body = []
    for i in range(40):
        if i % 9 == 4:
            body.append(f"C{i},not-a-date,106.68,20.86,tip")
        elif i % 11 == 10:
            body.append(f"C{i - 7},2016-03-01T10:00:00,106.68,20.86,tip")  # repeats a ref of an earlier chunk
        else:
            body.append(f"C{i},2016-03-{1 + i % 28:02d}T10:00:00,{106.6 + i / 500:.4f},20.86,tip")
    path = write(tmp_path, body)
    whole = import_incidents(conn, path, imported_by="test")
    stored = pd.DataFrame(conn.execute(text("SELECT ref, commune_code FROM incidents WHERE ref LIKE 'C%'")).all())
    conn.execute(text("DELETE FROM incidents WHERE ref LIKE 'C%'"))
    monkeypatch.setattr(service, "read_table_chunks", functools.partial(read_table_chunks, chunk_rows=7))
    chunked = import_incidents(conn, path, imported_by="test")
    assert chunked.summary() == whole.summary() and whole.duplicates == 3 and whole.rejected == 4
    assert chunked.rejects.frame().values.tolist() == whole.rejects.frame().values.tolist()
    again = pd.DataFrame(conn.execute(text("SELECT ref, commune_code FROM incidents WHERE ref LIKE 'C%'")).all())
    assert sorted(again.values.tolist()) == sorted(stored.values.tolist())


def test_the_application_role_imports_the_same_rows_without_touching_the_schema(engine: Engine, tmp_path: Path) -> None:
    """The application's role owns nothing: a year without a partition goes into the default one, nothing is
    created or attached, and the rows are the same."""
    with engine.connect() as app:
        transaction = app.begin()
        try:
            before = partitions(app)
            report = import_incidents(app, write(tmp_path, rows("APP-", 6, "2009-05-01")), imported_by="test")
            assert report.imported == 6
            assert partitions(app) == before
            stored = app.execute(
                text("SELECT DISTINCT tableoid::regclass::text FROM incidents WHERE ref LIKE 'APP-%'")
            ).scalars()
            assert list(stored) == ["incidents_default"]
            assert app.execute(text("SELECT count(*) FROM incident_refs WHERE ref LIKE 'APP-%'")).scalar_one() == 6
        finally:
            transaction.rollback()


def test_report_rows_of_every_source_read_in_batches_give_the_same_report(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rejects of the file, rows no unit is found for and refused points outside the province, read from
    PostgreSQL two at a time and spilled every three rows: the same report, in line order, as in one piece."""
    body = []
    for i in range(30):
        if i % 5 == 0:
            body.append(f"S{i},not-a-date,106.68,20.86,tip,")
        elif i % 5 == 1:
            body.append(f"S{i},2016-03-01T10:00:00,,,tip,99999")  # no point, a commune code nobody has
        elif i % 5 == 2:
            body.append(f"S{i},2016-03-01T10:00:00,105.0{i},21.5,tip,")  # far outside Hải Phòng
        else:
            body.append(f"S{i},2016-03-{1 + i:02d}T10:00:00,{106.6 + i / 500:.4f},20.86,tip,")
    path = tmp_path / "sources.csv"
    path.write_text("ref,occurred_at,lon,lat,kind,commune_code\n" + "".join(f"{r}\n" for r in body), encoding="utf-8")
    whole = import_incidents(conn, path, imported_by="test", outside="reject")
    conn.execute(text("DELETE FROM incidents WHERE ref LIKE 'S%'"))
    monkeypatch.setattr(report_rows, "SPILL_ROWS", 3)
    monkeypatch.setattr(load, "REPORT_BATCH_ROWS", 2)
    monkeypatch.setattr(service, "read_table_chunks", functools.partial(read_table_chunks, chunk_rows=4))
    chunked = import_incidents(conn, path, imported_by="test", outside="reject")
    listed = chunked.rejects.frame()
    assert listed.values.tolist() == whole.rejects.frame().values.tolist()
    assert (chunked.imported, chunked.rejected, whole.rejected) == (12, 18, 18)
    assert listed["line"].tolist() == sorted(2 + i for i in range(30) if i % 5 < 3)
    assert listed["field"].tolist() == ["occurred_at", "commune_code", "lon/lat"] * 6  # the three sources in turn

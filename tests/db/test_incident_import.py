"""Incident import on real PostGIS: mixed files, idempotency, commune assignment, interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, event, text

from gis.io.readers import FileFormatError, read_table_chunks
from gis.services import incident_import
from gis.services.incident_import import import_incidents
from gis.store.incident_partitions import CELL_LEVEL

HEADER = "ref,occurred_at,lon,lat,kind,substance,quantity_g,arrested,source\n"
# A point in Phường Hồng Bàng's area of central Hải Phòng, and one far out at sea.
CITY = (106.6830, 20.8600)


def write(tmp_path: Path, body: str, name: str = "incidents.csv", bom: bool = False, crlf: bool = False) -> Path:
    text_ = HEADER + body
    if crlf:
        text_ = text_.replace("\n", "\r\n")
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text_.encode("utf-8"))
    return path


MIXED = (
    "A1,2025-03-01T10:00:00,106.6830,20.8600,trafficking,heroin,2.5,1,CAP\n"
    "A2,2025-03-02,106.6840,20.8610,tang_tru,,,,\n"
    "A3,not-a-date,106.68,20.86,tip,,,,\n"
    "A4,2025-03-03T10:00:00+07:00,106.68,20.86,smuggling,,,,\n"
    '"A5","2025-03-04T10:00:00","106.6850","20.8620","drug_use","ma túy đá, ""hàng nóng""","","0","tin báo"\n'
    "A6,2025-03-05,106.68,95,tip,,,,\n"
    "A7,2025-03-06,106.68,20.86,tip,,-1,,\n"
    "A1,2025-03-01T10:00:00,106.6830,20.8600,trafficking,heroin,2.5,1,CAP\n"
    "A8,2025-03-07,106.68\n"
)


def count(conn: Connection, where: str = "true") -> int:
    return conn.execute(text(f"SELECT count(*) FROM incidents WHERE {where}")).scalar_one()


def test_mixed_file_keeps_valid_rows_and_reports_each_bad_one(conn: Connection, tmp_path: Path) -> None:
    path = write(tmp_path, MIXED, bom=True, crlf=True)
    report = import_incidents(conn, path, imported_by="test")
    assert report.summary() == {
        "imported": 3,
        "duplicates": 1,
        "rejected": 5,
        "outside": 0,
        "by_code": 0,
        "by_address": 0,
        "ambiguous": 0,
    }
    assert sorted(report.rejects.frame()["line"]) == [4, 5, 7, 8, 10]
    by_line = report.rejects.frame().set_index("line")
    assert by_line.loc[4, "field"] == "occurred_at" and by_line.loc[4, "ref"] == "A3"
    assert by_line.loc[5, "field"] == "kind"
    assert by_line.loc[7, "field"] == "lat"
    assert by_line.loc[8, "field"] == "quantity_g"
    assert by_line.loc[10, "field"] == "row"
    assert (
        conn.execute(text("SELECT substance FROM incidents WHERE ref = 'A5'")).scalar_one() == 'ma túy đá, "hàng nóng"'
    )
    run = conn.execute(
        text("SELECT imported, duplicates, rejected FROM import_runs WHERE id = :i"), {"i": report.import_id}
    ).one()
    assert tuple(run) == (3, 1, 5)

    again = import_incidents(conn, path, imported_by="test")
    assert again.imported == 0 and again.duplicates == 4 and again.rejected == 5
    assert count(conn) == 3


def test_geojson_and_projected_coordinates(conn: Connection, tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(CITY)},
            "properties": {"ref": "G1", "occurred_at": "2025-01-01T00:00:00", "kind": "tip"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            "properties": {"ref": "G2", "occurred_at": "2025-01-01T00:00:00", "kind": "tip"},
        },
        {
            "type": "Feature",
            "geometry": None,
            "properties": {
                "ref": "G3",
                "occurred_at": "2025-01-01",
                "kind": "tip",
                "x": "676000",
                "y": "2307000",
                "crs": "32648",
            },
        },
    ]
    path = tmp_path / "inc.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    report = import_incidents(conn, path, imported_by="test")
    assert report.imported == 2 and report.rejected == 1
    assert report.rejects.frame().iloc[0]["line"] == 2 and "một điểm" in report.rejects.frame().iloc[0]["reason"]


def test_commune_assignment_agrees_with_geopandas_sjoin(
    conn: Connection, tmp_path: Path, boundaries_path: Path
) -> None:
    communes = gpd.read_file(boundaries_path)
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = communes.total_bounds
    # Mainland extent only (Bạch Long Vĩ is far offshore), plus points at sea.
    lon = rng.uniform(106.1, 107.1, 3000)
    lat = rng.uniform(20.6, 21.2, 3000)
    frame = pd.DataFrame(
        {
            "ref": [f"S{i}" for i in range(3000)],
            "occurred_at": "2025-06-01T12:00:00",
            "lon": lon.round(6),
            "lat": lat.round(6),
            "kind": "tip",
        }
    )
    path = tmp_path / "sample.csv"
    frame.to_csv(path, index=False)
    report = import_incidents(conn, path, imported_by="test", nearest_m=0)
    assert report.imported == 3000
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.lon, frame.lat), crs=4326)
    joined = gpd.sjoin(points, communes[["code", "geometry"]], predicate="intersects", how="left")
    expected = joined.groupby("ref")["code"].min()  # a point on a shared border: the smaller code
    stored = pd.Series(dict(conn.execute(text("SELECT ref, commune_code FROM incidents WHERE ref LIKE 'S%'")).all()))
    both = pd.DataFrame({"expected": expected, "stored": stored})
    assert (both["expected"].fillna("-") == both["stored"].fillna("-")).all()
    assert report.outside == int(expected.isna().sum()) > 0


def test_points_on_borders_and_on_lookup_cell_edges_get_the_commune_the_parts_contain(
    conn: Connection, tmp_path: Path
) -> None:
    """The import finds communes through lookup cells (gis.store.incident_load): a point on a border shared by two
    communes, on a cell's edge or corner, gets what the subdivided parts themselves say (the smallest code)."""
    vertices = conn.execute(
        text("""SELECT ST_X(d.geom), ST_Y(d.geom) FROM (SELECT (ST_DumpPoints(geom)).geom FROM admin_units
                WHERE valid_to IS NULL) d ORDER BY md5(ST_AsText(d.geom)) LIMIT 1500""")
    ).all()
    w, h = 360 / (1 << CELL_LEVEL), 180 / (1 << CELL_LEVEL)
    # The cells of border vertices: cells crossed by a border, whose points are tested against clipped parts.
    cols = np.floor((np.array([x for x, _ in vertices[:500]]) + 180) / w)
    rows = np.floor((np.array([y for _, y in vertices[:500]]) + 90) / h)
    rng = np.random.default_rng(3)
    edges = [(c * w - 180, r * h - 90) for c, r in zip(cols, rows)]  # cell corners
    edges += [(c * w - 180, r * h - 90 + h * f) for c, r, f in zip(cols, rows, rng.uniform(0, 1, 500))]  # edges
    edges += [(c * w - 180 + w * f, r * h - 90) for c, r, f in zip(cols, rows, rng.uniform(0, 1, 500))]
    points = [(float(x), float(y)) for x, y in (*vertices, *edges)]
    body = "".join(f"B{i},2025-06-01T12:00:00,{x!r},{y!r},tip,,,,\n" for i, (x, y) in enumerate(points))
    report = import_incidents(conn, write(tmp_path, body), imported_by="test", nearest_m=0)
    assert report.imported == len(points)
    differing = conn.execute(
        text("""SELECT i.ref, i.commune_code, expected FROM incidents i CROSS JOIN LATERAL (
                    SELECT min(a.code) AS expected FROM admin_unit_parts a WHERE ST_Intersects(a.geom, i.geom)) e
                WHERE i.ref LIKE 'B%' AND (i.commune_code IS DISTINCT FROM e.expected
                      OR i.assignment <> CASE WHEN e.expected IS NULL THEN 'outside' ELSE 'inside' END)""")
    ).all()
    assert differing == []
    on_border = conn.execute(
        text("""SELECT count(*) FROM incidents i WHERE i.ref LIKE 'B%' AND (SELECT count(DISTINCT a.code)
                FROM admin_unit_parts a WHERE ST_Intersects(a.geom, i.geom)) > 1""")
    ).scalar_one()
    assert on_border > 100  # the sample does hold points on shared borders


def test_near_coast_point_goes_to_nearest_and_far_point_is_flagged(
    conn: Connection, tmp_path: Path, boundaries_path: Path
) -> None:
    communes = gpd.read_file(boundaries_path).to_crs(32648)
    commune = communes.iloc[0]
    # A point 100 m outside the boundary of the first commune, in a direction where no commune lies.
    centre = commune.geometry.centroid
    ring = communes.union_all().boundary
    edge = ring.interpolate(ring.project(centre))
    direction = np.array([edge.x - centre.x, edge.y - centre.y])
    direction /= np.linalg.norm(direction)
    candidates = [(edge.x + direction[0] * d, edge.y + direction[1] * d) for d in (100, 5000)]
    points = gpd.GeoSeries(gpd.points_from_xy(*zip(*candidates)), crs=32648)
    assert not points.intersects(communes.union_all()).any()
    (lon, lat), (far_lon, far_lat) = (p.coords[0] for p in points.to_crs(4326))
    path = write(
        tmp_path,
        f"N1,2025-01-01,{lon:.7f},{lat:.7f},tip,,,,\nF1,2025-01-01,{far_lon:.7f},{far_lat:.7f},tip,,,,\n"
        "Q1,2025-01-01,108.5,15.0,tip,,,,\n",  # Quảng Ngãi: not a place in the city, a wrong coordinate
    )
    report = import_incidents(conn, path, imported_by="test", nearest_m=200)
    # Kept as outside (issue 14) and reported with their lines, even 500 km away: the map lists them, never grids.
    assert (report.imported, report.nearest, report.outside, report.rejected) == (3, 1, 2, 0)
    rows = dict(conn.execute(text("SELECT ref, assignment FROM incidents WHERE ref IN ('N1', 'F1', 'Q1')")).all())
    assert rows == {"N1": "nearest", "F1": "outside", "Q1": "outside"}
    assert conn.execute(text("SELECT commune_code FROM incidents WHERE ref = 'F1'")).scalar_one() is None
    assert report.rejects.empty and sorted(report.flagged.frame()["ref"]) == ["F1", "Q1"]


def test_unreadable_files_are_clear_errors(tmp_path: Path, conn: Connection) -> None:
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"PK")
    with pytest.raises(FileFormatError, match="Excel"):
        import_incidents(conn, bad, imported_by="test")
    bad = tmp_path / "x.shp"
    bad.write_bytes(b"\0")
    with pytest.raises(FileFormatError, match="unsupported"):
        import_incidents(conn, bad, imported_by="test")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(FileFormatError, match="empty"):
        import_incidents(conn, empty, imported_by="test")


def test_non_utf8_row_is_rejected_not_the_file(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(
        HEADER.encode()
        + b"L1,2025-01-01,106.68,20.86,tip,h\xe9roin,,,\n"
        + "L2,2025-01-01,106.68,20.86,tip,ma túy đá,,,\n".encode()
        + "L3,2025-01-01,106.68,20.86,tip,hêrôin,,,\n".encode()
    )
    report = import_incidents(conn, path, imported_by="test")
    assert report.imported == 2 and list(report.rejects.frame()["line"]) == [2]


def test_windows_code_page_file_is_decoded_not_rejected(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER.encode() + b"L1,2025-01-01,106.68,20.86,tip,h\xe9roin,,,\n")
    report = import_incidents(conn, path, imported_by="test")
    assert report.imported == 1 and report.rejected == 0
    assert conn.execute(text("SELECT substance FROM incidents WHERE ref = 'L1'")).scalar_one() == "héroin"


def _state(conn: Connection) -> tuple:
    """What an import may change: incidents, runs, refs, hotspot members, partitions and tables."""
    counts = conn.execute(
        text("""SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM import_runs),
                       (SELECT count(*) FROM incident_refs), (SELECT count(*) FROM hotspot_incidents)""")
    ).one()
    tables = conn.execute(text("SELECT relname FROM pg_class WHERE relname LIKE 'incident%' ORDER BY 1")).scalars()
    return tuple(counts), tuple(tables)


#: Where an import is caught (the lock it waits for, held by the test): after staging, before its duplicates are
#: known; during the commune join; with a year's table loaded and indexed, before it is attached; inserting
#: into a year that exists.
KILL_POINTS = {
    "duplicates": ("LOCK TABLE incident_refs IN SHARE ROW EXCLUSIVE MODE", "incident_refs", 2025),
    "commune join": ("LOCK TABLE admin_unit_parts IN ACCESS EXCLUSIVE MODE", "admin_unit_parts", 2025),
    "attach": ("LOCK TABLE ONLY incidents IN SHARE ROW EXCLUSIVE MODE", "incidents", 2025),
    "insert": ("LOCK TABLE ONLY incidents IN SHARE ROW EXCLUSIVE MODE", "incidents", 2001),
}


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_killed_import_leaves_the_database_as_it_was(
    engine: Engine, owner_engine: Engine, db_env: dict, tmp_path: Path, point: str
) -> None:
    """kill -9 of `diaban incidents import` at several points of its work leaves nothing: no incident, run, ref,
    partition or table — the import is one transaction."""
    lock, relation, year = KILL_POINTS[point]
    frame = pd.DataFrame(
        {"ref": [f"K{i}" for i in range(20_000)], "occurred_at": f"{year}-02-01T09:00:00", "lon": 106.68, "lat": 20.86}
    ).assign(kind="tip")
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    if point == "insert":  # a year already holding many more rows than the file brings
        seed = tmp_path / "seed.csv"
        frame.assign(ref=[f"KS{i}" for i in range(20_000)]).to_csv(seed, index=False)
        with owner_engine.begin() as conn:  # as `diaban incidents import`: the year gets its partition
            import_incidents(conn, seed, imported_by="test")
        frame.head(1_000).to_csv(path, index=False)
    try:
        with engine.connect() as blocker:
            with blocker.begin():
                before = _state(blocker)
            with blocker.begin():
                blocker.execute(text(lock))  # the import is caught where it needs this lock, deterministically
                proc = subprocess.Popen(
                    [sys.executable, "-m", "api.cli", "incidents", "import", str(path)],
                    env=db_env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                deadline = time.time() + 120
                waiting = None
                while time.time() < deadline and waiting is None and proc.poll() is None:
                    blocker.execute(text("SELECT pg_stat_clear_snapshot()"))  # activity is cached per transaction
                    waiting = blocker.execute(
                        text("SELECT pid FROM pg_locks WHERE NOT granted AND relation = CAST(:r AS regclass)"),
                        {"r": relation},
                    ).scalar()
                    time.sleep(0.1)
                assert waiting is not None, proc.communicate(timeout=5)
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
            # Lock released; the killed session's backend rolls back when its connection drops.
            deadline = time.time() + 30
            while (
                time.time() < deadline
                and blocker.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": waiting}
                ).scalar_one()
            ):
                blocker.commit()
                time.sleep(0.1)
            blocker.commit()
            assert _state(blocker) == before
    finally:
        if point == "insert":
            with owner_engine.begin() as conn:
                runs = conn.execute(text("DELETE FROM incidents WHERE ref LIKE 'KS%' RETURNING import_id")).scalars()
                conn.execute(text("ALTER TABLE import_runs DISABLE TRIGGER import_runs_append_only"))  # history
                conn.execute(text("DELETE FROM import_runs WHERE id = ANY(:r)"), {"r": list(set(runs))})
                conn.execute(text("ALTER TABLE import_runs ENABLE TRIGGER import_runs_append_only"))
                conn.execute(text("DROP TABLE incidents_y2001"))


def test_incidents_are_stored_in_spatial_order(conn: Connection, tmp_path: Path) -> None:
    """Rows of one neighbourhood are stored together whatever the file order (time order, here), so that a map
    window reads a few pages; the stored metric coordinates agree with PostGIS's own transform."""
    rng = np.random.default_rng(3)
    centres = [(106.30, 20.95), (106.68, 20.86), (106.45, 20.75), (106.75, 20.98)]
    rows = []
    for day in range(200):  # each day one incident near every centre: the file interleaves the four areas
        for k, (lon, lat) in enumerate(centres):
            dx, dy = rng.normal(0, 0.002, 2)
            rows.append(f"Z{day}-{k},2025-01-01T00:00:00,{lon + dx:.6f},{lat + dy:.6f},tip,,,,\n")
    import_incidents(conn, write(tmp_path, "".join(rows)), imported_by="test")
    runs = conn.execute(
        text("""SELECT count(*) FROM (
        SELECT split_part(ref, '-', 2) <> lag(split_part(ref, '-', 2)) OVER (ORDER BY id) AS changed
        FROM incidents WHERE ref LIKE 'Z%') s WHERE changed""")
    ).scalar_one()
    # Ids follow the insertion order: they run through one area after another (a Z-order curve may
    # cross a cluster twice), not 799 times back and forth as in the file.
    assert runs <= 2 * len(centres)
    worst = conn.execute(
        text("""SELECT max(abs(x_m - ST_X(p)) + abs(y_m - ST_Y(p)))
        FROM (SELECT x_m, y_m, ST_Transform(geom, 32648) AS p FROM incidents WHERE ref LIKE 'Z%') s""")
    ).scalar_one()
    assert worst < 1e-6


def test_a_file_whose_every_row_is_rejected_exits_2_and_a_missing_column_names_those_read(
    db_env: dict, tmp_path: Path
) -> None:
    bad = write(tmp_path, "B1,not-a-date,106.68,20.86,tip,,,,\nB2,2025-01-01,106.68,20.86,smuggling,,,,\n")
    run = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "incidents", "import", str(bad), "--json"],
        env=db_env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and json.loads(run.stdout)["rejected"] == 2
    odd = tmp_path / "odd.csv"
    odd.write_text("Số hiệu;Ngày;Loại\nA;01/01/2025;tip\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "incidents", "import", str(odd)],
        env=db_env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "thiếu cột bắt buộc: «Kinh độ» và «Vĩ độ»" in run.stderr
    assert "các cột đọc được: «Loại vụ việc», «Thời gian», «Số hiệu»" in run.stderr


def test_columns_of_names_are_dropped_and_said_never_stored(conn: Connection, tmp_path: Path) -> None:
    """A police file with the names of the people concerned (ho_ten, name): the import keeps its known columns, tells
    the user which columns it ignored, and stores no name anywhere (incidents, their refs, the import's record)."""
    path = tmp_path / "co-ten.csv"
    path.write_text(
        "ref,occurred_at,kind,lon,lat,ho_ten,name\n"
        "TEN-1,2024-05-01T10:00:00+07:00,possession,106.68,20.86,Nguyễn Văn Bímật,Trần Thị Kínđáo\n",
        encoding="utf-8",
    )
    report = import_incidents(conn, path, imported_by="test")
    assert report.summary()["imported"] == 1
    assert any("ho_ten" in w and "name" in w for w in report.warnings), report.warnings
    stored = conn.execute(
        text("""SELECT (SELECT string_agg(i::text, ' ') FROM incidents i WHERE ref = 'TEN-1')
                    || (SELECT string_agg(r::text, ' ') FROM import_runs r WHERE id = :run)"""),
        {"run": report.import_id},
    ).scalar_one()
    assert "TEN-1" in stored and "Bímật" not in stored and "Kínđáo" not in stored


def test_a_nul_in_an_address_rejects_its_row_and_the_others_are_kept(owner_conn: Connection, tmp_path: Path) -> None:
    """A NUL reached PostgreSQL's COPY, which refused the whole file as the COPY ended (and the import then waited
    for its COPY thread forever): now the row is rejected at its line and column."""
    path = tmp_path / "nul.csv"
    path.write_text(
        "ref,occurred_at,kind,commune_code,address\nN-1,2025-03-01,tip,,Lê\x00Chân\nN-2,2025-03-01,tip,10507,\n"
    )
    report = import_incidents(owner_conn, path, imported_by="test")
    assert (report.summary()["imported"], report.summary()["rejected"]) == (1, 1)
    assert [(line, field) for line, _, field, _ in report.rejects.rows()] == [(2, "address")]


def test_a_copy_postgresql_refuses_as_it_ends_is_an_error_not_a_wait(owner_conn: Connection) -> None:
    """Staging rows PostgreSQL refuses only at the end of the COPY: the error reaches the import (its thread used to
    wait forever for a chunk after the last). A 60 s join only detects that hang; the COPY takes milliseconds."""
    import threading

    import psycopg

    from gis.store.incident_load import StagingCopy, staging_batch
    from models.domain.incident_contract import validate_incidents

    raw = pd.DataFrame({"ref": ["N-1"], "occurred_at": ["2025-03-01"], "kind": ["tip"], "address": ["Lê Chân"]})
    valid = validate_incidents(raw.assign(line=[2], _error=[""])).valid
    valid["address"] = "Lê\x00Chân"  # past the contract, which rejects it
    raised: list[BaseException] = []

    def stage() -> None:
        try:
            with owner_conn.begin_nested(), StagingCopy(owner_conn) as staging:
                staging.write(staging_batch(valid))
        except Exception as exc:
            raised.append(exc)

    worker = threading.Thread(target=stage, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive() and len(raised) == 1 and isinstance(raised[0], psycopg.DataError), raised


#: A ref repeated in the file (D1 three times, D2 twice) and a ref whose first row is refused (D3 at line 5), so that
#: its second row is the one kept.
REPEATS = (
    "D1,2025-03-01,106.6830,20.8600,tip,,,,\n"
    "D2,2025-03-01,106.6830,20.8600,tip,,,,\n"
    "D1,2025-03-02,106.6830,20.8600,tip,,,,\n"
    "D3,31/13/2025,106.6830,20.8600,tip,,,,\n"
    "D3,2025-03-03,106.6830,20.8600,tip,,,,\n"
    "D2,2025-03-04,106.6830,20.8600,tip,,,,\n"
    "D1,2025-03-05,106.6830,20.8600,tip,,,,\n"
)


def _listed(rows) -> list[tuple]:  # noqa: ANN001 - ReportRows
    return [(line, ref, field, reason) for line, ref, field, reason in rows.rows()]


def test_each_duplicate_is_listed_with_its_line_and_the_line_kept_or_the_database(
    conn: Connection, tmp_path: Path
) -> None:
    path = write(tmp_path, REPEATS)
    report = import_incidents(conn, path, imported_by="test")
    assert report.imported == 3 and report.rejected == 1 and report.duplicates == 3
    assert _listed(report.duplicated) == [
        (4, "D1", "ref", "trùng mã với dòng 2 (repeats the ref of line 2)"),
        (7, "D2", "ref", "trùng mã với dòng 3 (repeats the ref of line 3)"),
        (8, "D1", "ref", "trùng mã với dòng 2 (repeats the ref of line 2)"),
    ]
    # Imported again: every staged row's ref is stored now, the first one of each ref too.
    again = import_incidents(conn, path, imported_by="test")
    stored = "mã đã có trong cơ sở dữ liệu (ref already stored)"
    assert again.duplicates == 6 and _listed(again.duplicated) == [
        (line, ref, "ref", stored) for line, ref in [(2, "D1"), (3, "D2"), (4, "D1"), (6, "D3"), (7, "D2"), (8, "D1")]
    ]


def test_a_file_without_duplicates_never_runs_their_query(conn: Connection, tmp_path: Path) -> None:
    """The count tells there are none: the two scans of the staged rows are not made."""
    statements: list[str] = []

    def seen(conn_, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(conn, "before_cursor_execute", seen)
    try:
        report = import_incidents(conn, write(tmp_path, "".join(REPEATS.splitlines(True)[:2])), imported_by="test")
    finally:
        event.remove(conn, "before_cursor_execute", seen)
    assert report.imported == 2 and report.duplicates == 0 and report.duplicated.empty
    assert any("FROM incident_placed" in s for s in statements)
    assert not any("CREATE TEMP TABLE incident_skipped" in s for s in statements)


def test_a_ref_typed_with_spaces_around_it_in_excel_is_the_same_ref(conn: Connection, tmp_path: Path) -> None:
    """' HP-001 ' from a workbook cell and 'HP-001' from a text file are one incident (the reader trims a ref)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["ref", "occurred_at", "lon", "lat", "kind"])
    sheet.append([" HP-001 ", "2025-03-01", *CITY, "tip"])
    sheet.append(["HP-001\u00a0", "2025-03-02", *CITY, "tip"])  # a no-break space, as a copy from a web page has
    book.save(workbook := tmp_path / "vu.xlsx")
    first = import_incidents(conn, workbook, imported_by="test")
    assert first.imported == 1 and _listed(first.duplicated) == [
        (3, "HP-001", "ref", "trùng mã với dòng 2 (repeats the ref of line 2)")
    ]
    again = import_incidents(conn, write(tmp_path, "HP-001,2025-03-01,106.683,20.86,tip,,,,\n"), imported_by="test")
    assert again.imported == 0 and again.duplicates == 1
    assert conn.execute(text("SELECT ref FROM incidents WHERE ref LIKE '%HP-001%'")).scalars().all() == ["HP-001"]


def test_a_totals_row_in_a_later_chunk_is_said_not_dropped_silently(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the first chunk's warnings were reported: a register's totals row at the bottom of a large file was passed
    over without a word."""
    monkeypatch.setattr(incident_import, "read_table_chunks", partial(read_table_chunks, chunk_rows=2))
    path = write(tmp_path, "T1,2025-01-01,106.68,20.86,tip,,,,\nT2,2025-01-02,106.68,20.86,tip,,,,\nCộng,,,,,,,,\n")
    report = import_incidents(conn, path, imported_by="test")
    assert (report.imported, report.rejected) == (2, 0)
    assert "bỏ qua 1 dòng tổng cộng: dòng 4" in report.warnings

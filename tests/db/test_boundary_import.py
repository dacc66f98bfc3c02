"""Boundary import: the real 114 communes, idempotency, versioning, any CRS, geometry repair."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from conftest import migrated_database, run_cli
from sqlalchemy import Connection, create_engine, text

from gis.io.readers import FileFormatError
from gis.ops.postgres import ManagedCluster
from gis.services.boundary_import import BoundaryReport, import_boundaries
from models.errors import InvalidRequest
from models.vocabulary import local_today, summary_line

#: One unit of Hồ Chí Minh, cut unchanged from the national file.
ONE_UNIT = Path(__file__).resolve().parents[1] / "data" / "ho-chi-minh-1-unit.geojson"


def current(conn: Connection, where: str = "true") -> int:
    return conn.execute(text(f"SELECT count(*) FROM admin_units WHERE valid_to IS NULL AND {where}")).scalar_one()


def test_real_haiphong_communes_are_loaded(conn: Connection) -> None:
    assert current(conn) == 114
    kinds = dict(conn.execute(text("SELECT kind, count(*) FROM admin_units GROUP BY kind")).all())
    assert kinds == {"xa": 67, "phuong": 45, "dac_khu": 2}
    assert conn.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM admin_units")).scalar_one()
    parts = conn.execute(text("SELECT count(DISTINCT unit_id) FROM admin_unit_parts")).scalar_one()
    assert parts == 114
    # Each unit's pieces (gis.store.unit_parts) are valid polygons of at most 128 vertices, together the unit exactly.
    wrong = conn.execute(
        text("""SELECT u.code FROM admin_units u CROSS JOIN LATERAL (
                    SELECT ST_Union(p.geom) AS whole, bool_and(ST_IsValid(p.geom)) AS valid,
                           max(ST_NPoints(p.geom)) AS vertices, sum(ST_Area(p.geom)) AS area
                    FROM admin_unit_parts p WHERE p.unit_id = u.id) p
                WHERE u.valid_to IS NULL AND NOT (p.valid AND p.vertices <= 128
                      AND ST_Area(ST_SymDifference(p.whole, u.geom)) <= 1e-12 * ST_Area(u.geom)
                      AND abs(p.area - ST_Area(u.geom)) <= 1e-9 * ST_Area(u.geom))""")
    ).all()
    assert wrong == []


def test_reimport_of_the_same_file_changes_nothing(conn: Connection, boundaries_path: Path) -> None:
    before = conn.execute(text("SELECT count(*), max(id) FROM admin_units")).one()
    report = import_boundaries(conn, boundaries_path)
    assert report.summary()["unchanged"] == 114
    assert report.inserted == report.updated == report.closed == 0
    assert conn.execute(text("SELECT count(*), max(id) FROM admin_units")).one() == before


def _subset(boundaries_path: Path, tmp_path: Path, codes: list[str], buffer_m: float = 0) -> Path:
    frame = gpd.read_file(boundaries_path)
    frame = frame[frame["code"].isin(codes)].copy()
    if buffer_m:
        frame["geometry"] = frame.geometry.to_crs(32648).buffer(buffer_m).to_crs(4326)
    path = tmp_path / "subset.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def test_changed_boundary_closes_old_version_and_keeps_history(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    path = _subset(boundaries_path, tmp_path, ["10507"], buffer_m=50)
    report = import_boundaries(conn, path, valid_from=date(2026, 7, 1))
    assert (report.closed, report.inserted) == (1, 1)
    versions = conn.execute(
        text("SELECT valid_from, valid_to FROM admin_units WHERE code = '10507' ORDER BY valid_from")
    ).all()
    assert versions == [(date(2025, 7, 1), date(2026, 7, 1)), (date(2026, 7, 1), None)]
    assert current(conn) == 114
    # The point-in-commune helper follows the current version.
    unit = conn.execute(text("SELECT id FROM admin_units WHERE code = '10507' AND valid_to IS NULL")).scalar_one()
    assert set(conn.execute(text("SELECT unit_id FROM admin_unit_parts WHERE code = '10507'")).scalars()) == {unit}
    # Importing it again is a no-op.
    assert import_boundaries(conn, path, valid_from=date(2026, 7, 1)).unchanged == 1


def test_a_boundary_set_dated_after_today_is_refused(conn: Connection, boundaries_path: Path, tmp_path: Path) -> None:
    # Stored units are today's: a set taking effect next month would move maps, areas and incidents at once.
    path = _subset(boundaries_path, tmp_path, ["10507"], buffer_m=50)
    before = conn.execute(text("SELECT count(*), max(id) FROM admin_units")).one()
    tomorrow = local_today() + timedelta(days=1)
    with pytest.raises(InvalidRequest, match=f"ngày hiệu lực {tomorrow:%d/%m/%Y} chưa đến"):
        import_boundaries(conn, path, valid_from=tomorrow)
    assert conn.execute(text("SELECT count(*), max(id) FROM admin_units")).one() == before
    assert import_boundaries(conn, path, valid_from=local_today()).inserted == 1  # from today on, it takes effect


def test_vn2000_shapefile_is_reprojected(conn: Connection, boundaries_path: Path, tmp_path: Path) -> None:
    frame = gpd.read_file(boundaries_path)
    frame = frame[frame["code"].isin(["10507", "10525"])].to_crs(3405)  # VN-2000 / UTM zone 48N
    shp = tmp_path / "vn2000.shp"
    frame.to_file(shp)
    report = import_boundaries(conn, shp, valid_from=date(2026, 1, 1))
    # Reprojection moves vertices by millimetres: stored as new versions, with the same areas.
    assert report.rejects == [] and report.inserted + report.unchanged + report.closed >= 2
    area = conn.execute(
        text(
            "SELECT ST_Area(ST_Transform(geom, 32648)) / 1e6 FROM admin_units WHERE code = '10507' AND valid_to IS NULL"
        )
    ).scalar_one()
    assert area == pytest.approx(frame.to_crs(32648).area.iloc[0] / 1e6, rel=1e-3)


def test_invalid_geometry_is_repaired_and_bad_features_rejected(conn: Connection, tmp_path: Path) -> None:
    # West of Hải Phòng, on ground no loaded unit holds: a new unit lying inside a current one is refused as one
    # ground under two communes (tests/db/test_reorganisation.py).
    bowtie = shapely.Polygon([(105.60, 20.80), (105.62, 20.82), (105.62, 20.80), (105.60, 20.82)])
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(bowtie),
            "properties": {"code": "99001", "name": "Thử", "full_name": "Phường Thử"},
        },
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(shapely.box(106.7, 20.7, 106.71, 20.71)),
            "properties": {"code": "", "name": "Không mã", "kind": "xa"},
        },
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(shapely.box(106.7, 20.7, 106.71, 20.71)),
            "properties": {"code": "99002", "name": "Sai loại", "kind": "huyen"},
        },
        # No geometry, and a line (nothing polygonal): refused as such — the one without geometry was counted
        # repaired and refused as "outside the metric region" (an empty shape's bounds are NaN).
        {"type": "Feature", "geometry": None, "properties": {"code": "99003", "name": "Trống", "kind": "xa"}},
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(shapely.LineString([(106.7, 20.7), (106.71, 20.71)])),
            "properties": {"code": "99004", "name": "Đường", "kind": "xa"},
        },
    ]
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    report = import_boundaries(conn, path, valid_from=date(2026, 1, 1))
    assert report.inserted == 1 and report.repaired == 1
    assert [r["feature"] for r in report.rejects] == [2, 3, 4, 5]
    assert [r["reason"] for r in report.rejects[2:]] == ["không có hình học vùng (no polygon geometry)"] * 2
    row = conn.execute(
        text("SELECT kind, ST_IsValid(geom), ST_GeometryType(geom) FROM admin_units WHERE code = '99001'")
    ).one()
    assert tuple(row) == ("phuong", True, "ST_MultiPolygon")


def test_file_without_code_is_a_clear_error(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "nocode.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": shapely.geometry.mapping(shapely.box(0, 0, 1, 1)),
                        "properties": {"ten": "x"},
                    }
                ],
            }
        )
    )
    with pytest.raises(FileFormatError, match="code"):
        import_boundaries(conn, path)


def _earlier_units(boundaries_path: Path, tmp_path: Path) -> Path:
    """Two invented earlier units: today's 10507 split along its centroid's meridian (west "90001", east "90002")."""
    frame = gpd.read_file(boundaries_path)
    unit = frame[frame["code"] == "10507"].iloc[0]
    minx, miny, maxx, maxy = unit.geometry.bounds
    cx = unit.geometry.centroid.x
    halves = [
        unit.geometry.intersection(shapely.box(minx - 1, miny - 1, cx, maxy + 1)),
        unit.geometry.intersection(shapely.box(cx, miny - 1, maxx + 1, maxy + 1)),
    ]
    earlier = gpd.GeoDataFrame(
        {"code": ["90001", "90002"], "name": ["Tây", "Đông"], "full_name": ["Phường Tây", "Phường Đông"]},
        geometry=halves,
        crs=4326,
    )
    path = tmp_path / "earlier.geojson"
    earlier.to_file(path, driver="GeoJSON")
    return path


def test_earlier_units_are_kept_beside_current_ones_and_incidents_get_the_unit_of_their_date(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    from gis.services.incident_import import import_incidents

    frame = gpd.read_file(boundaries_path)
    unit = frame[frame["code"] == "10507"].iloc[0].geometry
    west = unit.intersection(shapely.box(unit.bounds[0] - 1, unit.bounds[1] - 1, unit.centroid.x, unit.bounds[3] + 1))
    x, y = west.representative_point().coords[0]
    incidents = tmp_path / "inc.csv"
    incidents.write_text(
        "ref,occurred_at,kind,lon,lat\n"
        f"P1,2024-03-01T10:00:00,tip,{x:.7f},{y:.7f}\n"  # before the current period
        f"P2,2025-08-01T10:00:00,tip,{x:.7f},{y:.7f}\n",  # in it
        encoding="utf-8",
    )
    import_incidents(conn, incidents, imported_by="test")
    periods = "SELECT ref, commune_code, period_code FROM incidents WHERE ref IN ('P1', 'P2') ORDER BY ref"
    assert [tuple(r) for r in conn.execute(text(periods))] == [("P1", "10507", None), ("P2", "10507", "10507")]

    path = _earlier_units(boundaries_path, tmp_path)
    report = import_boundaries(conn, path, valid_from=date(2020, 1, 1), valid_to=date(2025, 7, 1))
    assert (report.inserted, report.reassigned, report.rejects) == (2, 1, [])
    assert current(conn) == 114  # the current units are untouched, and so are their parts
    assert conn.execute(text("SELECT count(*) FROM admin_unit_parts WHERE code LIKE '9000%'")).scalar_one() == 0
    assert [tuple(r) for r in conn.execute(text(periods))] == [("P1", "10507", "90001"), ("P2", "10507", "10507")]
    # Incidents imported later get it at once; the same file again changes nothing.
    incidents.write_text(f"ref,occurred_at,kind,lon,lat\nP3,2023-03-01,tip,{x:.7f},{y:.7f}\n", encoding="utf-8")
    import_incidents(conn, incidents, imported_by="test")
    assert conn.execute(text("SELECT period_code FROM incidents WHERE ref = 'P3'")).scalar_one() == "90001"
    again = import_boundaries(conn, path, valid_from=date(2020, 1, 1), valid_to=date(2025, 7, 1))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


def test_an_earlier_version_overlapping_another_is_rejected(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    path = _subset(boundaries_path, tmp_path, ["10507", "10525"])
    report = import_boundaries(conn, path, valid_from=date(2025, 1, 1), valid_to=date(2025, 9, 1))
    assert report.inserted == 0 and {r["code"] for r in report.rejects} == {"10507", "10525"}
    assert "overlaps the version from 2025-07-01" in report.rejects[0]["reason"]
    with pytest.raises(Exception, match="valid_to must be after"):
        import_boundaries(conn, path, valid_from=date(2025, 1, 1), valid_to=date(2025, 1, 1))


def test_two_imports_of_the_same_file_at_once_store_it_once(cluster: ManagedCluster) -> None:
    """The second of two imports running at once waits for the first and finds its units unchanged: it found them
    missing too, and failed on the unique key once the first committed (an internal error, exit 70)."""
    migrated_database(cluster, "boundary_race")
    engine = create_engine(cluster.url("boundary_race"))
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            with engine.begin() as conn:
                outcome["report"] = import_boundaries(conn, ONE_UNIT)
        except Exception as error:  # noqa: BLE001 - handed to the test's thread
            outcome["error"] = error

    try:
        with engine.connect() as first, engine.connect() as watch:
            with first.begin():
                assert import_boundaries(first, ONE_UNIT).inserted == 1
                thread = threading.Thread(target=second)
                thread.start()
                waiting = (
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'boundary_race'"
                )
                for _ in range(600):  # until the second import waits for the first (at most a minute)
                    if watch.execute(text(waiting)).scalar_one():
                        break
                    watch.rollback()  # pg_stat_activity is read once per transaction
                    time.sleep(0.1)
            thread.join(120)
        assert "error" not in outcome, outcome.get("error")
        report = outcome["report"]
        assert isinstance(report, BoundaryReport) and (report.inserted, report.unchanged) == (0, 1)
    finally:
        engine.dispose()
        cluster.drop_database("boundary_race")


# ------------------------------------------------------------------------------ what is stored per commune follows
#: The two neighbours whose common border the tests move: a strip of 10525 (Hải Dương) within 300 m of 10507
#: (Thành Đông) passes to 10507 from 1 July 2026.
GAINS, LOSES, MOVED_FROM = "10507", "10525", date(2026, 7, 1)


def _moved_border(boundaries_path: Path, tmp_path: Path) -> tuple[Path, tuple[float, float]]:
    """A file of the two units with the strip moved, and a point inside the strip."""
    frame = gpd.read_file(boundaries_path)
    frame = frame[frame["code"].isin([GAINS, LOSES])].copy()
    gains = frame["code"] == GAINS
    metric = frame.geometry.to_crs(32648)
    near = metric[gains].iloc[0].buffer(300)
    strip = metric[~gains].iloc[0].intersection(near)
    frame["geometry"] = gpd.GeoSeries(
        [metric[gains].iloc[0].union(strip), metric[~gains].iloc[0].difference(near)], index=frame.index, crs=32648
    ).to_crs(4326)
    path = tmp_path / "moved.geojson"
    frame.to_file(path, driver="GeoJSON")
    point = gpd.GeoSeries([strip.representative_point()], crs=32648).to_crs(4326).iloc[0]
    return path, (point.x, point.y)


def _stored_in_the_strip(conn: Connection, tmp_path: Path, make_team, point: tuple[float, float]) -> dict[str, int]:
    """Incidents in the strip dated before (S1) and after (S2) the new boundary, a hotspot there with a suppression
    task held by 10525's team and an accepted one; their ids."""
    from gis.services.incident_import import import_incidents

    x, y = point
    incidents = tmp_path / "strip.csv"
    incidents.write_text(
        f"ref,occurred_at,kind,lon,lat\nS1,2025-08-01T10:00:00,tip,{x:.7f},{y:.7f}\n"
        f"S2,2026-08-01T10:00:00,tip,{x:.7f},{y:.7f}\n",
        encoding="utf-8",
    )
    import_incidents(conn, incidents, imported_by="test")
    team = make_team("Tổ Hải Dương", [LOSES])
    hotspot = conn.execute(
        text("""
        INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, commune_code, version, centroid)
        VALUES ('verified', 'spot', 'manual', 0, '{}', 100, :c, 1, ST_SetSRID(ST_MakePoint(:x, :y), 4326))
        RETURNING id"""),
        {"c": LOSES, "x": x, "y": y},
    ).scalar_one()
    task = """INSERT INTO tasks (kind, hotspot_id, commune_code, state, team_id, priority, checklist, version,
                                 created_by) VALUES ('suppression', :h, :c, :s, :t, 'normal', '[]', 1, 'test') RETURNING id"""
    held = conn.execute(text(task), {"h": hotspot, "c": LOSES, "s": "in_progress", "t": team}).scalar_one()
    done = conn.execute(text(task), {"h": hotspot, "c": LOSES, "s": "accepted", "t": team}).scalar_one()
    return {"hotspot": hotspot, "held": held, "done": done}


def _per_commune(conn: Connection, ids: dict[str, int]) -> dict[str, object]:
    """What is stored per commune about the strip, and the history entries of boundary imports."""
    return {
        "incidents": [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT ref, commune_code, assignment, period_code FROM incidents WHERE ref LIKE 'S_' ORDER BY ref"
                )
            )
        ],
        "hotspot": conn.execute(
            text("SELECT commune_code FROM hotspots WHERE id = :h"), {"h": ids["hotspot"]}
        ).scalar_one(),
        "tasks": conn.execute(
            text("SELECT commune_code FROM tasks WHERE id = ANY(:t) ORDER BY id"), {"t": [ids["held"], ids["done"]]}
        )
        .scalars()
        .all(),
        "events": tuple(
            conn.execute(
                text("""SELECT (SELECT count(*) FROM hotspot_events WHERE event = 'commune_changed'),
                           (SELECT count(*) FROM task_events WHERE event = 'commune_changed')""")
            ).one()
        ),
        "units": tuple(
            conn.execute(
                text("SELECT count(*), max(id) FROM admin_units WHERE code IN (:a, :b)"), {"a": GAINS, "b": LOSES}
            ).one()
        ),
    }


def test_a_moved_border_moves_incidents_hotspots_and_open_tasks_and_again_changes_nothing(
    conn: Connection, boundaries_path: Path, tmp_path: Path, make_team
) -> None:
    """From the import on, what lies in the strip is 10507's: incidents, the hotspot (a history entry) and its task
    still held (a history entry; the team of 10525 now holds it outside its area). An incident dated before the new
    boundary keeps 10525 as the unit of its date; the accepted task stays where the work was done. The same file
    again changes nothing."""
    from gis.store.data_versions import data_versions
    from gis.store.selection import held_outside_area

    path, point = _moved_border(boundaries_path, tmp_path)
    ids = _stored_in_the_strip(conn, tmp_path, make_team, point)
    before = _per_commune(conn, ids)
    assert before["incidents"] == [("S1", LOSES, "inside", LOSES), ("S2", LOSES, "inside", LOSES)]

    report = import_boundaries(conn, path, valid_from=MOVED_FROM, imported_by="quan-tri")
    assert (report.closed, report.inserted) == (2, 2)
    assert (report.incidents_moved, report.hotspots_moved, report.tasks_moved) == (2, 1, 1)
    assert summary_line("Ranh giới", report.summary()) == (
        "Ranh giới: thêm mới 2, khép lại (hết hiệu lực) 2, tỉnh lấy từ danh mục 2,"
        " vụ việc gán lại xã/phường theo ranh giới mới 2,"
        " điểm nóng chuyển sang xã/phường khác 1, nhiệm vụ chưa kết thúc theo điểm nóng sang xã/phường khác 1"
    )
    after = _per_commune(conn, ids)
    assert after["incidents"] == [("S1", GAINS, "inside", LOSES), ("S2", GAINS, "inside", GAINS)]
    assert (after["hotspot"], after["tasks"]) == (GAINS, [GAINS, LOSES])
    assert after["events"] == (before["events"][0] + 1, before["events"][1] + 1)
    note, actor, details = conn.execute(
        text("SELECT note, actor, details FROM hotspot_events WHERE hotspot_id = :h AND event = 'commune_changed'"),
        {"h": ids["hotspot"]},
    ).one()
    assert actor == "quan-tri" and details == {"from": LOSES, "to": GAINS, "source": "moved.geojson"}
    assert note == "Ranh giới mới (tệp moved.geojson): từ Phường Hải Dương sang Phường Thành Đông"
    outside = conn.execute(text(f"SELECT {held_outside_area('t')} FROM tasks t WHERE id = :t"), {"t": ids["held"]})
    assert outside.scalar_one() is True
    run = conn.execute(
        text("SELECT dataset, file_name, imported_by, imported FROM import_runs WHERE id = :i"), {"i": report.import_id}
    ).one()
    assert tuple(run) == ("boundaries", "moved.geojson", "quan-tri", 2)

    versions = data_versions(conn)
    again = import_boundaries(conn, path, valid_from=MOVED_FROM, imported_by="quan-tri")
    assert again.unchanged == 2 and again.inserted == again.updated == again.closed == 0
    assert (again.incidents_moved, again.hotspots_moved, again.tasks_moved) == (0, 0, 0)
    assert _per_commune(conn, ids) == after
    assert data_versions(conn) == versions


def test_a_team_note_still_waits_for_command_after_its_task_was_moved(
    conn: Connection, boundaries_path: Path, tmp_path: Path, make_team
) -> None:
    """The history entry of the move is no answer of command's to the team's note on the task (an event by someone
    of no team had cleared it from what waits for command)."""
    from gis.store.tasks import inbox, record_task_event
    from models.domain.access import Principal

    path, point = _moved_border(boundaries_path, tmp_path)
    ids = _stored_in_the_strip(conn, tmp_path, make_team, point)
    team = conn.execute(text("SELECT team_id FROM tasks WHERE id = :t"), {"t": ids["held"]}).scalar_one()
    note = record_task_event(conn, ids["held"], Principal(0, "to-hd", "team", team), team, "comment", note="Đang làm")
    command = Principal(1, "chihuy", "command")

    def waits() -> bool:
        return next(e["awaiting_command"] for e in inbox(conn, command, 500) if e["id"] == note)

    assert waits()
    assert import_boundaries(conn, path, valid_from=MOVED_FROM).tasks_moved == 1
    assert waits()


def test_an_import_interrupted_after_moving_what_is_stored_leaves_nothing(
    conn: Connection, boundaries_path: Path, tmp_path: Path, make_team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error after the incidents and hotspots were moved, before the tasks: nothing of the import is left — no
    unit version, no move, no history entry, no import run."""
    from gis.services import boundary_import

    path, point = _moved_border(boundaries_path, tmp_path)
    ids = _stored_in_the_strip(conn, tmp_path, make_team, point)
    before = _per_commune(conn, ids)
    runs = "SELECT count(*) FROM import_runs"
    count = conn.execute(text(runs)).scalar_one()
    moved: dict[str, object] = {}

    def fail_midway(c: Connection, actor: str, source: str) -> int:
        moved.update(_per_commune(c, ids))
        raise RuntimeError("interrupted")

    monkeypatch.setattr(boundary_import, "follow_hotspots", fail_midway)
    with pytest.raises(RuntimeError, match="interrupted"), conn.begin_nested():
        import_boundaries(conn, path, valid_from=MOVED_FROM)
    assert moved["hotspot"] == GAINS  # the error came after the moves
    assert _per_commune(conn, ids) == before
    assert conn.execute(text(runs)).scalar_one() == count


# ------------------------------------------------------------------------- a file declared the whole current set
def _merged(boundaries_path: Path, tmp_path: Path) -> tuple[Path, tuple[float, float]]:
    """The whole Hải Phòng file after a merger: 10525 gone, its ground 10507's; a point that lay in 10525."""
    frame = gpd.read_file(boundaries_path)
    gone = frame["code"] == LOSES
    gains = frame.index[frame["code"] == GAINS][0]
    frame.loc[gains, "geometry"] = frame.loc[gains, "geometry"].union(frame.loc[gone, "geometry"].iloc[0])
    point = frame.loc[gone, "geometry"].iloc[0].representative_point()
    path = tmp_path / "merged.geojson"
    frame[~gone].to_file(path, driver="GeoJSON")
    return path, (point.x, point.y)


def _quang_ninh(conn: Connection, second_province_path: Path) -> list[tuple]:
    """Load the second province's units; its versions as they stand, to see them untouched."""
    import_boundaries(conn, second_province_path)
    return _versions(conn, "province_code = '22'")


def _versions(conn: Connection, where: str) -> list[tuple]:
    sql = f"SELECT id, code, valid_from, valid_to FROM admin_units WHERE {where} ORDER BY id"
    return [tuple(r) for r in conn.execute(text(sql))]


def test_a_whole_file_closes_the_missing_commune_and_what_lay_there_follows(
    conn: Connection, boundaries_path: Path, second_province_path: Path, tmp_path: Path, make_team
) -> None:
    """Hải Phòng's file after 10525 merged into 10507, declared whole: 10525 is closed (10507 changed), the
    incidents, the hotspot and its task held there are 10507's; Quảng Ninh, absent from the file, keeps its units;
    the team of 10525 keeps its area, counted for the administrator to re-draw. The same file again changes nothing."""
    quang_ninh = _quang_ninh(conn, second_province_path)
    path, point = _merged(boundaries_path, tmp_path)
    ids = _stored_in_the_strip(conn, tmp_path, make_team, point)
    team = conn.execute(text("SELECT team_id FROM tasks WHERE id = :t"), {"t": ids["held"]}).scalar_one()

    report = import_boundaries(conn, path, valid_from=MOVED_FROM, whole=True)
    assert (report.closed_missing, report.closed, report.inserted, report.unchanged) == (1, 1, 1, 112)
    assert (report.incidents_moved, report.hotspots_moved, report.tasks_moved) == (2, 1, 1)
    assert report.team_areas_to_redraw == 1
    closed = [(code, start) for _, code, start, _ in _versions(conn, f"valid_to = '{MOVED_FROM}'")]
    assert sorted(closed) == [(GAINS, date(2025, 7, 1)), (LOSES, date(2025, 7, 1))]
    assert current(conn, f"code = '{LOSES}'") == 0 and current(conn, "province_code = '31'") == 113
    assert conn.execute(text(f"SELECT count(*) FROM admin_unit_parts WHERE code = '{LOSES}'")).scalar_one() == 0
    after = _per_commune(conn, ids)
    assert after["incidents"] == [("S1", GAINS, "inside", LOSES), ("S2", GAINS, "inside", GAINS)]
    assert (after["hotspot"], after["tasks"]) == (GAINS, [GAINS, LOSES])
    assert _versions(conn, "province_code = '22'") == quang_ninh
    area = "SELECT commune_code, valid_to FROM team_areas WHERE team_id = :t"
    assert [tuple(r) for r in conn.execute(text(area), {"t": team})] == [(LOSES, None)]
    line = summary_line("Ranh giới", report.summary())
    assert "khép lại vì không có trong tệp toàn bộ 1" in line
    assert "tổ công tác có địa bàn gồm đơn vị đã khép lại, cần vẽ lại địa bàn 1" in line

    again = import_boundaries(conn, path, valid_from=MOVED_FROM, whole=True)
    assert (again.closed_missing, again.closed, again.inserted, again.unchanged) == (0, 0, 0, 113)
    assert _per_commune(conn, ids) == after


def test_without_whole_a_merger_is_refused(conn: Connection, boundaries_path: Path, tmp_path: Path) -> None:
    """The same file not declared whole would close only the changed version of 10507 and leave 10525 current under
    the grown 10507 (one ground in two communes, counted twice; before, that was stored without a word): refused,
    naming both and the way out (declare it whole), nothing written."""
    from models.errors import Conflict

    path, _ = _merged(boundaries_path, tmp_path)
    units = "SELECT count(*), max(id), max(valid_to) FROM admin_units"
    before = conn.execute(text(units)).one()
    with pytest.raises(Conflict, match=rf"{GAINS} .* và {LOSES} .*chung 100 % diện tích.*--whole"), conn.begin_nested():
        import_boundaries(conn, path, valid_from=MOVED_FROM, whole=False)
    assert conn.execute(text(units)).one() == before
    assert current(conn, f"code = '{LOSES}'") == 1 and current(conn) == 114


def test_a_whole_file_closing_more_than_half_a_province_is_refused_and_writes_nothing(
    conn: Connection, boundaries_path: Path, second_province_path: Path, tmp_path: Path
) -> None:
    """Two of Hải Phòng's 114 communes declared whole: refused, naming the province and the counts, nothing written.
    Quảng Ninh's file of one unit of three is refused too, and allowed to close two with `allow_many_closed`."""
    from models.errors import InvalidRequest

    _quang_ninh(conn, second_province_path)
    state = "SELECT (SELECT count(*) FROM admin_units), (SELECT max(id) FROM admin_units), (SELECT count(*) FROM import_runs)"
    before = conn.execute(text(state)).one()
    path = _subset(boundaries_path, tmp_path, [GAINS, LOSES])
    with pytest.raises(InvalidRequest, match="khép lại 112 trong 114 đơn vị hiện hành của Hải Phòng"):
        import_boundaries(conn, path, valid_from=MOVED_FROM, whole=True)
    assert conn.execute(text(state)).one() == before

    one = tmp_path / "one.geojson"
    gpd.read_file(second_province_path).head(1).to_file(one, driver="GeoJSON")
    with pytest.raises(InvalidRequest, match="khép lại 2 trong 3 đơn vị hiện hành của Quảng Ninh"):
        import_boundaries(conn, one, valid_from=MOVED_FROM, whole=True)
    assert conn.execute(text(state)).one() == before
    report = import_boundaries(conn, one, valid_from=MOVED_FROM, whole=True, allow_many_closed=True)
    assert (report.closed_missing, report.unchanged) == (2, 1)
    assert current(conn, "province_code = '22'") == 1 and current(conn, "province_code = '31'") == 114


def test_a_whole_file_missing_a_unit_current_from_its_date_is_refused(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """10507 current from 1 July 2026, missing from a file declared whole from that day: closing it would leave it an
    empty period; refused (nothing written), and a later date closes it."""
    from models.errors import Conflict

    import_boundaries(conn, _subset(boundaries_path, tmp_path, [GAINS], buffer_m=50), valid_from=MOVED_FROM)
    frame = gpd.read_file(boundaries_path)
    path = tmp_path / "without.geojson"
    frame[frame["code"] != GAINS].to_file(path, driver="GeoJSON")
    units = "SELECT count(*), max(id), max(valid_to) FROM admin_units"
    before = conn.execute(text(units)).one()
    with pytest.raises(Conflict, match=r"từ ngày 01/07/2026 trở về sau: 10507 \(01/07/2026\)"):
        import_boundaries(conn, path, valid_from=MOVED_FROM, whole=True)
    assert conn.execute(text(units)).one() == before
    report = import_boundaries(conn, path, valid_from=date(2026, 8, 1), whole=True)
    assert report.closed_missing == 1 and current(conn, f"code = '{GAINS}'") == 0


def test_whole_is_refused_with_an_end_date(conn: Connection, boundaries_path: Path) -> None:
    from models.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="không dùng cùng ngày hết hiệu lực"):
        import_boundaries(conn, boundaries_path, valid_from=date(2020, 1, 1), valid_to=date(2025, 7, 1), whole=True)


def test_diaban_boundaries_import_whole_prints_what_it_closed(
    cluster: ManagedCluster,
    second_province_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command, into a scratch database (it commits): Quảng Ninh's three units, then files of fewer declared
    whole: one unit of three refused (Vietnamese, nothing written), two of three close the third under its
    Vietnamese label, and `--json` counts `closed_missing`."""
    from gis.store.db import get_engine

    name = "boundary_whole"
    migrated_database(cluster, name)
    monkeypatch.setenv("DIABAN_DATABASE_URL", cluster.url(name))
    monkeypatch.setenv("DIABAN_OWNER_DATABASE_URL", cluster.owner_url(name))
    frame = gpd.read_file(second_province_path)
    files = {}
    for n in (1, 2):
        files[n] = tmp_path / f"qn-{n}.geojson"
        frame.head(n).to_file(files[n], driver="GeoJSON")
    try:
        assert run_cli(capsys, "boundaries", "import", str(second_province_path))[0] == 0
        code, out, err = run_cli(capsys, "boundaries", "import", str(files[1]), "--whole", "--valid-from", "01/07/2026")
        assert code == 2 and "khép lại 2 trong 3 đơn vị hiện hành của Quảng Ninh" in err, err
        code, out, err = run_cli(capsys, "boundaries", "import", str(files[2]), "--whole", "--valid-from", "01/07/2026")
        assert code == 0, err
        assert out.startswith("Ranh giới: thêm mới 0, không đổi 2, khép lại vì không có trong tệp toàn bộ 1\n"), out
        # Its ground is taken by no unit (a file of two units of three): what lay there is in no commune now.
        assert out.count("\n") == 2 and "Cảnh báo: đơn vị " in out and "không đơn vị hiện hành nào nhận" in out, out
        code, out, err = run_cli(
            capsys, "boundaries", "import", str(files[1]), "--whole", "--valid-from", "01/08/2026", "--json"
        )
        assert code == 0 and json.loads(out)["closed_missing"] == 1, err
        with get_engine().connect() as conn:
            assert current(conn) == 1
        get_engine().dispose()
    finally:
        cluster.drop_database(name)

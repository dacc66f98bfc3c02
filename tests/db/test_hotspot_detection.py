"""Hotspot detection on real PostGIS: planted truth, matching without duplicates, recurrence, export."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from conftest import incident_burst, scratch_database
from openpyxl import load_workbook
from sqlalchemy import Connection, text

from gis.io.scenario_files import write_scenario
from gis.ops.postgres import ManagedCluster
from gis.services.boundary_import import import_boundaries
from gis.services.detection import run_detection
from gis.services.hotspots import create_manual_hotspot, export_register
from gis.services.incident_import import import_incidents
from gis.store.hotspots import hotspot_detail
from models.domain.dates import day_start
from models.errors import Conflict
from models.synthetic.scenario import ScenarioConfig, generate_scenario


@pytest.fixture(scope="module")
def scenario(boundaries_path: Path, tmp_path_factory: pytest.TempPathFactory):
    communes = gpd.read_file(boundaries_path)
    scen = generate_scenario(communes, ScenarioConfig(seed=5, years=2, n_incidents=20_000))
    paths = write_scenario(scen, tmp_path_factory.mktemp("scenario"))
    return scen, paths


@pytest.fixture
def loaded(conn: Connection, scenario):
    scen, paths = scenario
    report = import_incidents(conn, paths["incidents"], imported_by="test")
    assert report.imported == len(scen.incidents)
    return scen


def _hotspot_xy(conn: Connection) -> np.ndarray:
    rows = conn.execute(
        text(
            "SELECT ST_X(ST_Transform(centroid, 32648)), ST_Y(ST_Transform(centroid, 32648))"
            " FROM hotspots WHERE origin = 'detection' ORDER BY id"
        )
    ).all()
    return np.array(rows, dtype=float).reshape(-1, 2)


def test_detection_recovers_planted_active_hotspots(conn: Connection, loaded) -> None:
    truth = loaded.truth
    report = run_detection(conn, actor="test")
    assert report.expected_spurious <= 0.05 and report.simulated_spurious is not None
    assert report.summary()["rejected"] == report.rejected >= 0
    found = _hotspot_xy(conn)
    active = truth[truth["active_at_end"]][["x", "y"]].to_numpy()
    quiet = truth[~truth["active_at_end"]][["x", "y"]].to_numpy()
    d_active = np.hypot(*(active[:, None, :] - found[None, :, :]).transpose(2, 0, 1))
    recall = (d_active.min(axis=1) <= 150).mean()
    precision = (d_active.min(axis=0) <= 150).mean()
    assert report.clusters == len(found)
    assert recall >= 0.95, recall
    assert precision >= 0.90, precision
    # Hotspots that went quiet before the window must not come out as active.
    if len(quiet):
        d_quiet = np.hypot(*(quiet[:, None, :] - found[None, :, :]).transpose(2, 0, 1))
        assert (d_quiet.min(axis=1) > 150).all()


def test_a_run_recorded_in_the_past_dates_what_it_writes_then(conn: Connection, loaded) -> None:
    """`recorded_at` (the demo's replay of a past run) dates the run, its hotspots and their events, not only some."""
    then = datetime(2025, 3, 1, 8, tzinfo=UTC)
    report = run_detection(conn, actor="test", recorded_at=then)
    assert report.new > 0
    assert (
        conn.execute(text("SELECT started_at FROM detection_runs WHERE id = :r"), {"r": report.run_id}).scalar() == then
    )
    dates = conn.execute(
        text("""SELECT DISTINCT x FROM (SELECT created_at FROM hotspots UNION ALL SELECT status_changed_at FROM hotspots
                UNION ALL SELECT at FROM hotspot_events) d(x)""")
    ).scalars()
    assert list(dates) == [then]


#: Tables a detection run writes besides its own row in detection_runs.
WRITTEN = ("hotspots", "hotspot_incidents", "hotspot_events", "hotspot_lineage")


def _rows_written(conn: Connection) -> dict[str, int]:
    """Rows inserted, updated or deleted in WRITTEN so far in this transaction (PostgreSQL's own counters)."""
    rows = conn.execute(
        text("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables WHERE relname = ANY(:t)"),
        {"t": list(WRITTEN)},
    ).all()
    return {name: int(n) for name, n in rows}


def test_rerun_matches_instead_of_duplicating_and_writes_nothing(conn: Connection, loaded) -> None:
    first = run_detection(conn, actor="test")
    members = conn.execute(text("SELECT count(*) FROM hotspot_incidents")).scalar_one()
    assert members >= 5 * first.clusters
    before = _rows_written(conn)
    assert before["hotspot_incidents"] >= members  # the counters see the first run's writes
    second = run_detection(conn, actor="test")
    assert (second.new, second.updated, second.unchanged) == (0, 0, first.clusters)
    assert second.hotspot_ids == first.hotspot_ids
    assert _rows_written(conn) == before  # not one hotspot, membership, event or lineage row
    assert conn.execute(text("SELECT count(*) FROM hotspots")).scalar_one() == first.clusters
    events = dict(conn.execute(text("SELECT event, count(*) FROM hotspot_events GROUP BY event")).all())
    assert events == {"created": first.clusters}
    assert conn.execute(text("SELECT count(*) FROM hotspot_incidents")).scalar_one() == members


def test_a_rerun_writes_only_what_changed(conn: Connection, loaded, tmp_path: Path) -> None:
    first = run_detection(conn, actor="test", end=datetime(2026, 10, 31, tzinfo=UTC))
    hotspot = first.hotspot_ids[0]
    lon, lat, at = conn.execute(
        text(
            "SELECT ST_X(i.geom), ST_Y(i.geom), i.occurred_at FROM hotspot_incidents m"
            " JOIN incidents i ON i.id = m.incident_id WHERE m.hotspot_id = :h ORDER BY i.occurred_at DESC LIMIT 1"
        ),
        {"h": hotspot},
    ).one()
    path = tmp_path / "one.csv"  # one more incident on top of the hotspot's newest one, inside the window
    path.write_text(f"ref,occurred_at,lon,lat,kind\nEXTRA1,{at.isoformat()},{lon:.7f},{lat:.7f},drug_use\n")
    import_incidents(conn, path, imported_by="test")
    before = _rows_written(conn)
    second = run_detection(conn, actor="test", end=datetime(2026, 10, 31, tzinfo=UTC))
    after = _rows_written(conn)
    assert (second.new, second.updated, second.unchanged) == (0, 1, first.clusters - 1)
    assert after["hotspot_incidents"] - before["hotspot_incidents"] == 1  # the new incident joins its hotspot
    assert after["hotspot_events"] - before["hotspot_events"] == 1  # one "updated" event
    assert after["hotspots"] - before["hotspots"] == 1
    event = conn.execute(
        text("SELECT hotspot_id, event FROM hotspot_events WHERE run_id = :r"), {"r": second.run_id}
    ).one()
    assert tuple(event) == (hotspot, "updated")


def test_new_cluster_near_an_eradicated_hotspot_is_a_recurrence(conn: Connection, tmp_path: Path) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, start, 10, "OLD"), imported_by="test")
    first = run_detection(conn, actor="test", start=start, end=start + timedelta(days=30))
    assert first.new == 1
    hotspot_id = first.hotspot_ids[0]
    conn.execute(
        text("UPDATE hotspots SET status = 'eradicated', status_changed_at = '2025-03-01Z' WHERE id = :id"),
        {"id": hotspot_id},
    )
    later = datetime(2025, 9, 1, tzinfo=UTC)
    # 150 m away: beyond matching of an active hotspot's footprint, within the 300 m recurrence distance.
    import_incidents(conn, incident_burst(tmp_path, 106.6844, 20.8600, later, 10, "NEW"), imported_by="test")
    again = run_detection(conn, actor="test", start=later, end=later + timedelta(days=30))
    assert (again.new, again.recurred) == (0, 1)
    status, version = conn.execute(
        text("SELECT status, version FROM hotspots WHERE id = :id"), {"id": hotspot_id}
    ).one()
    assert status == "recurred" and version == 2
    event = conn.execute(
        text("SELECT from_status, to_status, run_id FROM hotspot_events WHERE hotspot_id = :id AND event = 'recurred'"),
        {"id": hotspot_id},
    ).one()
    assert tuple(event) == ("eradicated", "recurred", again.run_id)


def test_manual_hotspot_and_export(conn: Connection) -> None:
    hotspot_id = create_manual_hotspot(conn, lon=106.683, lat=20.86, note="tin báo của quần chúng", actor="test")
    collection = json.loads(export_register(conn, "geojson", raw=True, by="test").content)
    feature = next(f for f in collection["features"] if f["id"] == hotspot_id)
    assert feature["geometry"]["type"] == "Point"
    assert set(feature["properties"]) == {
        "id",
        "status",
        "kind",
        "n_incidents",
        "first_seen",
        "last_seen",
        "commune_code",
        "radius_m",
    }
    assert feature["properties"]["status"] == "detected" and feature["properties"]["commune_code"]
    # For a GIS user the register's columns under their Vietnamese headers, labels for codes (was English names,
    # codes, and a status_label beside them).
    labelled = json.loads(export_register(conn, "geojson", by="test").content)
    shown = next(f for f in labelled["features"] if f["id"] == hotspot_id)["properties"]
    assert labelled["name"] == "Sổ theo dõi điểm, tụ điểm phức tạp về ma túy"
    assert list(shown)[:4] == ["Số hiệu", "Trạng thái", "Loại điểm", "Số vụ việc"]
    assert (shown["Số hiệu"], shown["Trạng thái"], shown["Số vụ việc"], shown["Vụ gần nhất"]) == (
        hotspot_id,
        "Phát hiện",
        0,
        None,
    )
    assert shown["Phát hiện lần đầu"] is None and isinstance(shown["Kinh độ"], float)  # no incident yet: empty
    polygons = json.loads(export_register(conn, "geojson", footprints=True, by="test").content)
    assert {f["geometry"]["type"] for f in polygons["features"]} == {"Polygon"}
    raw = export_register(conn, "csv", raw=True, by="test").content.decode("utf-8-sig").splitlines()
    assert raw[0] == "id,status,kind,n_incidents,first_seen,last_seen,commune_code,commune_name,radius_m,lon,lat"
    shown = export_register(conn, "csv", by="test").content.decode("utf-8-sig").splitlines()
    assert shown[0].startswith("STT;Số hiệu;Trạng thái;Loại điểm;Số vụ việc;Phát hiện lần đầu")
    mine = next(line for line in shown[1:] if f";{hotspot_id};Phát hiện;" in line)
    assert mine.startswith(str(shown.index(mine)) + ";")  # STT counts the rows
    sheet = load_workbook(io.BytesIO(export_register(conn, "xlsx", by="test").content)).active
    assert "SỔ THEO DÕI ĐIỂM, TỤ ĐIỂM PHỨC TẠP VỀ MA TÚY" in [c for r in sheet.iter_rows(values_only=True) for c in r]


def test_the_register_says_the_day_its_incident_data_reaches(conn: Connection, tmp_path: Path) -> None:
    """`diaban hotspots export` said «số liệu đến ngày» the export's day while the incidents ended weeks before: its
    subtitle names the newest incident's Hải Phòng day, as the periodic report does."""
    start = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, start, 3, "DEN"), imported_by="test")
    create_manual_hotspot(conn, lon=106.683, lat=20.86, note="tin báo của quần chúng", actor="test")
    sheet = load_workbook(io.BytesIO(export_register(conn, "xlsx", by="test").content)).active
    assert sheet["A6"].value.endswith("; số liệu vụ việc đến ngày 03/03/2025"), sheet["A6"].value
    collection = json.loads(export_register(conn, "geojson", by="test").content)
    assert collection["description"].endswith("; số liệu vụ việc đến ngày 03/03/2025")


def _register_rows(conn: Connection) -> tuple:
    """What a run may write: runs, hotspots with their status and kind, events, memberships."""
    return tuple(
        conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in ("detection_runs", "hotspots", "hotspot_events", "hotspot_incidents")
    ) + (conn.execute(text("SELECT array_agg((id, status, kind)::text ORDER BY id) FROM hotspots")).scalar(),)


def test_a_run_over_the_past_is_refused_and_a_dry_run_looks_at_any_window(conn: Connection, tmp_path: Path) -> None:
    """A run that writes may not end before the latest run's window: over January, after a run to 31/10, it would
    wake and rewrite today's register from January's incidents (dated today, after newer changes). A dry run may."""
    january, october = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 10, 1, tzinfo=UTC)
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, january, 10, "JAN"), imported_by="test")
    import_incidents(conn, incident_burst(tmp_path, 106.7000, 20.8600, october, 10, "OCT"), imported_by="test")
    latest = run_detection(conn, actor="test", start=october, end=datetime(2025, 10, 31, 17, tzinfo=UTC))
    assert latest.new == 1
    before = _register_rows(conn)
    with pytest.raises(Conflict) as refused:
        run_detection(conn, actor="test", start=january, end=datetime(2025, 3, 31, 17, tzinfo=UTC))
    said = refused.value.message
    assert "31/03/2025" in said and "31/10/2025" in said and f"#{latest.run_id}" in said and "--dry-run" in said
    assert _register_rows(conn) == before
    looked = run_detection(conn, actor="test", start=january, end=datetime(2025, 3, 31, 17, tzinfo=UTC), dry_run=True)
    assert (looked.new, looked.dry_run, looked.summary()["dry_run"]) == (1, True, True)
    assert _register_rows(conn) == before  # not the run, its hotspot, its events nor its incident lists
    # Forward (the same end, or later) is a run as before.
    assert run_detection(conn, actor="test", start=october, end=datetime(2025, 10, 31, 17, tzinfo=UTC)).unchanged == 1


def test_a_dry_run_takes_no_number_of_the_register(conn: Connection, tmp_path: Path) -> None:
    """Sequences are not rolled back: each dry run took a run number and a hotspot number per new cluster, and the
    register jumped (#26 → #36 in the demo after a few «Chạy thử»). The dry run numbers apart, from where the register
    stands: the run made afterwards takes the very numbers the dry run named."""
    october = datetime(2025, 10, 1, tzinfo=UTC)
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, october, 10, "DR1"), imported_by="test")
    first = run_detection(conn, actor="test", start=october, end=datetime(2025, 10, 31, 17, tzinfo=UTC))
    november = datetime(2025, 11, 1, tzinfo=UTC)
    import_incidents(conn, incident_burst(tmp_path, 106.7000, 20.8600, november, 10, "DR2"), imported_by="test")
    end = datetime(2025, 11, 30, 17, tzinfo=UTC)
    for _ in range(3):
        looked = run_detection(conn, actor="test", start=october, end=end, dry_run=True)
        assert (looked.new, looked.run_id) == (1, first.run_id + 1)
    made = run_detection(conn, actor="test", start=october, end=end)
    assert made.run_id == first.run_id + 1 and made.new == 1
    assert (
        sorted(made.hotspot_ids)
        == sorted(looked.hotspot_ids)
        == sorted([*first.hotspot_ids, max(first.hotspot_ids) + 1])
    )
    # Nothing of a dry run's stand-in numbering outlives it.
    stand_ins = "SELECT count(*) FROM pg_class WHERE relname LIKE 'dry_run_%' AND relpersistence = 't'"
    assert conn.execute(text(stand_ins)).scalar_one() == 0


def test_a_change_of_kind_is_said_in_the_history(conn: Connection, tmp_path: Path) -> None:
    """The kind feeds the legal classification: a hotspot whose organising incidents reach half becomes an organising
    place, and the run's event says so (codes in its details, the Vietnamese labels in its note), not only its size."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, start, 10, "USE"), imported_by="test")
    first = run_detection(conn, actor="test", start=start, end=start + timedelta(days=30))
    hotspot = first.hotspot_ids[0]
    was = conn.execute(text("SELECT kind FROM hotspots WHERE id = :id"), {"id": hotspot}).scalar_one()
    assert was != "organizing_place"
    later = start + timedelta(days=30)
    organizing = incident_burst(tmp_path, 106.6830, 20.8600, later, 12, "ORG", kind="organizing_use")
    import_incidents(conn, organizing, imported_by="test")
    second = run_detection(conn, actor="test", start=start, end=later + timedelta(days=30))
    assert second.hotspot_ids == [hotspot]
    detail = hotspot_detail(conn, hotspot)
    assert detail is not None and detail["properties"]["kind"] == "organizing_place"
    event = detail["properties"]["events"][-1]
    assert (event["event"], event["run_id"]) == ("updated", second.run_id)
    assert event["details"]["kind"] == {"from": was, "to": "organizing_place"}
    labels = {"spot": "Điểm", "den": "Tụ điểm"}
    assert event["note"] == (
        f"đổi loại: {labels[was]} → Điểm tổ chức, chứa chấp sử dụng (kind {was} → organizing_place)"
    )


def test_a_window_of_n_days_holds_n_days(conn: Connection, tmp_path: Path) -> None:
    """`--days 90` (the default window) is 90 Hải Phòng days ending on the latest incident's day, both counted: to
    31/10/2025, 03/08–31/10 (it was the 90 days before just after the latest incident: 02/08–31/10, 91 days)."""
    import_incidents(
        conn,
        incident_burst(tmp_path, 106.6830, 20.8600, datetime(2025, 10, 22, 3, tzinfo=UTC), 10, "D"),
        imported_by="test",
    )
    report = run_detection(conn, actor="test")  # the latest incident: 31/10/2025 10:00 in Hải Phòng
    assert (report.window_from, report.window_to) == (day_start(date(2025, 8, 3)), day_start(date(2025, 11, 1)))


def test_one_new_incident_beside_those_before_the_eradication_is_no_recurrence(
    conn: Connection, tmp_path: Path
) -> None:
    """A spot recurs when the incidents after its eradication alone would form a cluster (the run's min_samples, 5
    here), however long ago it was eradicated: one new incident beside the ten that made it, still in the window,
    re-formed their cluster and made it «recurred» (20 incidents, 19 of them before the eradication)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, start, 10, "OLD"), imported_by="test")
    hotspot = run_detection(conn, actor="test", start=start, end=start + timedelta(days=20)).hotspot_ids[0]
    conn.execute(
        text("UPDATE hotspots SET status = 'eradicated', status_changed_at = '2025-01-20Z' WHERE id = :id"),
        {"id": hotspot},
    )
    window = {"start": start, "end": datetime(2025, 3, 1, tzinfo=UTC)}
    import_incidents(
        conn, incident_burst(tmp_path, 106.6830, 20.8600, datetime(2025, 2, 1, tzinfo=UTC), 1, "A"), imported_by="test"
    )
    once = run_detection(conn, actor="test", **window)
    assert (once.min_samples, once.recurred, once.new) == (5, 0, 0)
    assert (
        conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot}).scalar_one() == "eradicated"
    )
    import_incidents(
        conn, incident_burst(tmp_path, 106.6830, 20.8600, datetime(2025, 2, 5, tzinfo=UTC), 4, "B"), imported_by="test"
    )
    five = run_detection(conn, actor="test", **window)  # five after the eradication: a cluster of their own
    assert (five.recurred, five.new) == (1, 0)
    assert conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot}).scalar_one() == "recurred"


def test_two_runs_at_once_write_one_register(cluster: ManagedCluster, boundaries_path: Path, tmp_path: Path) -> None:
    """A `diaban hotspots detect` started while another run writes (a scheduled one, an operator's) says it waits,
    waits for it to commit and finds its hotspot unchanged: both read the register empty, and each added the same
    cluster as a new hotspot (two hotspots, two «created» histories, one place)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with scratch_database(cluster, "detection_race") as engine:
        with engine.begin() as setup:
            import_boundaries(setup, boundaries_path)
            import_incidents(setup, incident_burst(tmp_path, 106.6830, 20.8600, start, 10, "R"), imported_by="test")
        env = {**os.environ, "DIABAN_DATABASE_URL": cluster.url("detection_race")}
        command = [sys.executable, "-m", "api.cli", "hotspots", "detect", "--json"]
        with engine.connect() as first, engine.connect() as watch:
            with first.begin():
                assert run_detection(first, actor="first").new == 1
                second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                waiting = (
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = 'detection_race'"
                )
                for _ in range(1200):  # until the second run waits for the first, or has ended (at most 2 minutes)
                    if second.poll() is not None or watch.execute(text(waiting)).scalar_one():
                        break
                    watch.rollback()  # pg_stat_activity is read once per transaction
                    time.sleep(0.1)
            out, err = second.communicate(timeout=120)
            assert second.returncode == 0, err
            assert "Một lần chạy phát hiện khác đang ghi vào sổ theo dõi: chờ lần chạy đó xong" in err
            report = json.loads(out)
            assert (report["new"], report["unchanged"]) == (0, 1)
            created = watch.execute(text("SELECT count(*) FROM hotspot_events WHERE event = 'created'")).scalar_one()
            assert (watch.execute(text("SELECT count(*) FROM hotspots")).scalar_one(), created) == (1, 1)


def test_a_past_year_counts_the_kind_a_hotspot_had_then(conn: Connection, tmp_path: Path) -> None:
    """Reclassifying 2025 counts a hotspot with the kind it had at the end of 2025: a spot that became an organising
    place in 2026 counted as an organising place of 2025 too (today's kind), changing 2025's legal criteria when
    2025 was run again; 2026 counts the organising place. A change found on 03/01/2026 by a run over a window that
    ends with 2025 is a fact of 2025 (its incidents are), and counts there."""
    from gis.store.indicators import hotspot_aggregates

    november, end_2025 = datetime(2025, 11, 1, tzinfo=UTC), day_start(date(2026, 1, 1))
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, november, 10, "A"), imported_by="test")
    import_incidents(conn, incident_burst(tmp_path, 106.7000, 20.8600, november, 10, "B"), imported_by="test")
    first = run_detection(conn, actor="test", start=november, end=datetime(2025, 12, 1, tzinfo=UTC))
    assert first.new == 2
    december = datetime(2025, 12, 5, tzinfo=UTC)
    import_incidents(
        conn,
        incident_burst(tmp_path, 106.7000, 20.8600, december, 12, "BORG", kind="organizing_use"),
        imported_by="test",
    )
    run_detection(conn, actor="test", start=november, end=end_2025, recorded_at=datetime(2026, 1, 3, tzinfo=UTC))
    january = datetime(2026, 1, 5, tzinfo=UTC)
    import_incidents(
        conn,
        incident_burst(tmp_path, 106.6830, 20.8600, january, 12, "AORG", kind="organizing_use"),
        imported_by="test",
    )
    run_detection(conn, actor="test", start=november, end=datetime(2026, 2, 1, tzinfo=UTC))
    rows = conn.execute(
        text("SELECT commune_code, kind FROM hotspots ORDER BY ST_X(centroid)"),  # A (west), then B
    ).all()
    assert [r.kind for r in rows] == ["organizing_place", "organizing_place"]
    a, b = (r.commune_code for r in rows)
    # A: a spot all 2025, an organising place in 2026; B: an organising place from 2025 (seen in 2025 only).
    expected = Counter({(2025, a): 0, (2026, a): 1})
    expected[(2025, b)] += 1
    counts = hotspot_aggregates(conn, 2025, 2026).set_index(["year", "commune_code"])["organizing_places"]
    assert {key: int(counts.get(key, 0)) for key in expected} == dict(expected)


def test_first_seen_is_the_first_incident_of_the_cluster_that_entered_the_register(
    conn: Connection, tmp_path: Path
) -> None:
    """A hotspot is first seen at the first incident of the cluster that put it in the register, and no later run
    moves it: a rerun over a wider window (July-October after October) moved it back to July, so that the hotspot
    became «new» in another period and active in earlier years (the past's KPIs and classification rewritten by the
    window an operator chose), and it then named an incident the hotspot no longer listed once October was run
    again. Its other figures are the latest run's."""
    july, october = datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 10, 1, tzinfo=UTC)
    end = datetime(2025, 11, 1, tzinfo=UTC)
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, july, 10, "JUL"), imported_by="test")
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, october, 10, "OCT"), imported_by="test")
    seen = text("SELECT first_seen, last_seen, n_incidents FROM hotspots")
    last = october + timedelta(days=9)
    assert run_detection(conn, actor="test", start=october, end=end).new == 1
    assert tuple(conn.execute(seen).one()) == (october, last, 10)
    wider = run_detection(conn, actor="test", start=july, end=end)
    assert (wider.new, wider.updated) == (0, 1)  # continued, with the July incidents counted
    assert tuple(conn.execute(seen).one()) == (october, last, 20)
    run_detection(conn, actor="test", start=october, end=end)
    assert tuple(conn.execute(seen).one()) == (october, last, 10)

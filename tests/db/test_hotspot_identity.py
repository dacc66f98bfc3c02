"""The register keeps identities across detection runs: drift, merge, split, pre-empted recurrence, dormancy."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from sqlalchemy import Connection, text

from gis.services.detection import run_detection
from gis.services.incident_import import import_incidents
from gis.store.hotspots import hotspot_detail
from models.vocabulary import LOCAL_TZ

TO_UTM = Transformer.from_crs(4326, 32648, always_xy=True)
TO_LONLAT = Transformer.from_crs(32648, 4326, always_xy=True)
WINDOWS = [
    (datetime(2025, 1, 1, tzinfo=LOCAL_TZ), datetime(2025, 4, 1, tzinfo=LOCAL_TZ)),
    (datetime(2025, 4, 1, tzinfo=LOCAL_TZ), datetime(2025, 7, 1, tzinfo=LOCAL_TZ)),
    (datetime(2025, 10, 1, tzinfo=LOCAL_TZ), datetime(2026, 1, 1, tzinfo=LOCAL_TZ)),
]


@pytest.fixture
def origin(conn: Connection) -> tuple[float, float]:
    """A metric point well inside a commune."""
    lon, lat = conn.execute(
        text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_units WHERE code = '10507') s")
    ).one()
    return TO_UTM.transform(lon, lat)


def add_incidents(conn: Connection, tmp_path: Path, window: int, points: list[tuple[float, float]], tag: str) -> None:
    """Incidents at metric points during one of WINDOWS (a day apart each)."""
    start = WINDOWS[window][0]
    lon, lat = TO_LONLAT.transform(*np.array(points, float).T)
    rows = [
        f"{tag}-{i},{start.replace(day=1 + i % 27).isoformat()},{x:.7f},{y:.7f},trafficking"
        for i, (x, y) in enumerate(zip(lon, lat))
    ]
    path = tmp_path / f"{tag}.csv"
    path.write_text("ref,occurred_at,lon,lat,kind\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_incidents(conn, path, imported_by="test")


def blob(cx: float, cy: float, n: int = 10, spread: float = 20.0, seed: int = 0) -> list[tuple[float, float]]:
    """n incidents scattered within a few tens of metres of a centre."""
    rng = np.random.default_rng(seed)
    return [(cx + dx, cy + dy) for dx, dy in rng.normal(0, spread, (n, 2))]


def line(x0: float, y0: float, x1: float, step: float = 25.0) -> list[tuple[float, float]]:
    """Incidents every `step` metres along an east-west street."""
    return [(x, y0) for x in np.arange(x0, x1 + 1e-9, step)]


def detect(conn: Connection, window: int):
    return run_detection(conn, actor="test", start=WINDOWS[window][0], end=WINDOWS[window][1])


def detected(conn: Connection) -> list[tuple[int, str]]:
    return [tuple(r) for r in conn.execute(text("SELECT id, status FROM hotspots ORDER BY id")).all()]


def lineage(conn: Connection) -> list[tuple[str, int, int]]:
    return [tuple(r) for r in conn.execute(text("SELECT kind, parent_id, child_id FROM hotspot_lineage ORDER BY id"))]


def test_a_hotspot_that_drifts_200_m_keeps_its_identity(conn: Connection, tmp_path: Path, origin) -> None:
    x, y = origin
    add_incidents(conn, tmp_path, 0, blob(x, y, seed=1), "A")
    first = detect(conn, 0)
    assert first.new == 1
    add_incidents(conn, tmp_path, 1, blob(x + 200, y, seed=2), "B")
    second = detect(conn, 1)
    assert (second.new, second.updated) == (0, 1) and second.hotspot_ids == first.hotspot_ids
    assert detected(conn) == [(first.hotspot_ids[0], "detected")]


def test_two_hotspots_absorbed_by_one_cluster_are_merged_with_lineage(conn: Connection, tmp_path: Path, origin) -> None:
    x, y = origin
    add_incidents(conn, tmp_path, 0, blob(x - 100, y, seed=3) + blob(x + 100, y, seed=4), "A")
    first = detect(conn, 0)
    assert first.new == 2
    add_incidents(conn, tmp_path, 1, line(x - 120, y, x + 120), "B")
    second = detect(conn, 1)
    assert (second.new, second.updated, second.merged) == (0, 1, 1)
    survivor = second.hotspot_ids[0]
    absorbed = (set(first.hotspot_ids) - {survivor}).pop()
    assert dict(detected(conn)) == {survivor: "detected", absorbed: "merged"}
    assert lineage(conn) == [("merge", absorbed, survivor)]
    note = conn.execute(
        text("SELECT note FROM hotspot_events WHERE hotspot_id = :h AND event = 'merged'"), {"h": absorbed}
    ).scalar_one()
    assert f"#{survivor}" in note
    family = hotspot_detail(conn, survivor)["properties"]["lineage"]
    assert [(f["kind"], f["parent_id"], f["child_id"]) for f in family] == [("merge", absorbed, survivor)]


def test_a_hotspot_split_in_two_keeps_its_id_and_names_the_parent(conn: Connection, tmp_path: Path, origin) -> None:
    x, y = origin
    add_incidents(conn, tmp_path, 0, line(x - 150, y, x + 150), "A")
    first = detect(conn, 0)
    assert first.new == 1
    parent = first.hotspot_ids[0]
    add_incidents(conn, tmp_path, 1, blob(x - 130, y, seed=5) + blob(x + 130, y, seed=6), "B")
    second = detect(conn, 1)
    assert (second.updated, second.new, second.split) == (1, 1, 1) and parent in second.hotspot_ids
    child = (set(second.hotspot_ids) - {parent}).pop()
    assert lineage(conn) == [("split", parent, child)]


def test_a_recurrence_pre_empted_by_an_active_hotspot_is_still_recorded(
    conn: Connection, tmp_path: Path, origin
) -> None:
    x, y = origin
    ids = {}
    for name, status, dx in (("active", "verified", 140.0), ("cleared", "eradicated", 50.0)):
        lon, lat = TO_LONLAT.transform(x + dx, y)
        ids[name] = conn.execute(
            text(
                "INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, version, centroid,"
                " status_changed_at) VALUES (:s, 'spot', 'manual', 0, '{}', 40, 1,"
                " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :since) RETURNING id"
            ),
            {"s": status, "lon": lon, "lat": lat, "since": WINDOWS[0][0] - timedelta(days=30)},
        ).scalar_one()
    add_incidents(conn, tmp_path, 0, blob(x, y, spread=15, seed=7), "A")
    report = detect(conn, 0)
    assert report.recurred == 1 and report.new == 0
    events = conn.execute(
        text("SELECT hotspot_id, event FROM hotspot_events WHERE run_id = :r ORDER BY id"), {"r": report.run_id}
    ).all()
    assert (ids["cleared"], "recurred") in [tuple(e) for e in events]
    states = dict(detected(conn))
    assert states[ids["cleared"]] == "recurred" and states[ids["active"]] == "merged"
    assert lineage(conn) == [("merge", ids["active"], ids["cleared"])]
    kpi = conn.execute(text("SELECT count(*) FROM hotspot_events WHERE event = 'recurred'")).scalar_one()
    assert kpi == 1


def test_a_hotspot_without_clusters_goes_dormant_and_wakes_up(conn: Connection, tmp_path: Path, origin) -> None:
    x, y = origin
    add_incidents(conn, tmp_path, 0, blob(x, y, seed=8), "A")
    hotspot = detect(conn, 0).hotspot_ids[0]
    add_incidents(conn, tmp_path, 1, blob(x + 5_000, y, seed=9), "B")  # elsewhere
    assert detect(conn, 1).dormant == 0  # one window without a cluster is not enough
    add_incidents(conn, tmp_path, 2, blob(x + 5_000, y, seed=10), "C")
    assert detect(conn, 2).dormant == 1
    assert dict(detected(conn))[hotspot] == "dormant"
    add_incidents(conn, tmp_path, 2, blob(x, y, seed=11), "D")
    again = detect(conn, 2)
    assert hotspot in again.hotspot_ids and dict(detected(conn))[hotspot] == "detected"
    assert (
        conn.execute(
            text("SELECT event FROM hotspot_events WHERE hotspot_id = :h ORDER BY id DESC LIMIT 1"), {"h": hotspot}
        ).scalar_one()
        == "reactivated"
    )

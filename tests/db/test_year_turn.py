"""The turn of the year and other calendar edges, in Hải Phòng's time whatever the database server's time zone.

Every test sets the session's time zone to UTC (a server installed with the default), where 31/12 23:30 in Hải Phòng
is still 31/12 16:30 and 01/01 00:30 is 31/12 17:30: a rule that follows the session's calendar instead of Hải Phòng's
shows here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from sqlalchemy import Connection, Engine, text

from api.cli.main import main
from gis.services.analyses import step_edges
from gis.services.detection import run_detection
from gis.services.incident_import import import_incidents
from gis.services.tasks import assign_task, create_task
from gis.store.indicators import conversion_kpis, hotspot_kpis, incident_aggregates
from models.domain.access import Principal
from models.domain.dates import vn_time
from models.errors import InvalidRequest
from models.vocabulary import LOCAL_TZ, METRIC_SRID, WGS84_SRID, Role


@pytest.fixture
def utc(conn: Connection) -> Connection:
    """The test's connection with the session in UTC (until its transaction is rolled back)."""
    conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
    return conn


def _local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LOCAL_TZ)  # type: ignore[misc]


def _commune(conn: Connection) -> str:
    return conn.execute(text("SELECT min(code) FROM admin_units WHERE valid_to IS NULL")).scalar_one()


def test_the_conversion_watch_counts_months_on_hai_phongs_calendar(utc: Connection) -> None:
    """Accepted on 01/07/2025 at 03:00 in Hải Phòng (30/06 20:00 UTC): the 6-month watch runs to 01/01/2026 03:00
    there, so a new spot on 31/12/2025 at noon is a relapse (counted in UTC months the watch ended on 31/12 03:00)."""
    code = _commune(utc)
    task = utc.execute(
        text(
            "INSERT INTO tasks (kind, commune_code, year, state, priority, checklist, version, created_by)"
            " VALUES ('conversion', :c, 2025, 'accepted', 'normal', '[]', 1, 't') RETURNING id"
        ),
        {"c": code},
    ).scalar_one()
    utc.execute(
        text(
            "INSERT INTO task_events (task_id, at, actor, event, from_state, to_state, details)"
            " VALUES (:t, :at, 't', 'transition', 'completed', 'accepted', '{}')"
        ),
        {"t": task, "at": _local(2025, 7, 1, 3)},
    )
    utc.execute(
        text(
            "INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, first_seen, radius_m, commune_code, version,"
            " centroid) SELECT 'verified', 'spot', 'manual', 0, '{}', :f, 50, code, 1, ST_PointOnSurface(geom)"
            " FROM admin_units WHERE code = :c AND valid_to IS NULL"
        ),
        {"c": code, "f": _local(2025, 12, 31, 12)},
    )
    counts = conversion_kpis(utc, 2025, 6)
    assert (counts["converted"], counts["relapsed"], counts["stable"]) == (1, 1, 0), counts


def _burst(folder: Path, lon: float, lat: float, start: datetime, step: timedelta, prefix: str, n: int = 10) -> Path:
    """A file of ``n`` incidents within about 20 m of a point, one every ``step`` from ``start``."""
    rng = np.random.default_rng(1)
    x, y = Transformer.from_crs(WGS84_SRID, METRIC_SRID, always_xy=True).transform(lon, lat)
    lons, lats = Transformer.from_crs(METRIC_SRID, WGS84_SRID, always_xy=True).transform(
        x + rng.normal(0, 20, n), y + rng.normal(0, 20, n)
    )
    lines = ["ref,occurred_at,lon,lat,kind"] + [
        f"{prefix}{i},{(start + i * step).isoformat()},{lo:.6f},{la:.6f},drug_use"
        for i, (lo, la) in enumerate(zip(lons, lats))
    ]
    path = folder / f"{prefix}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _recurrences(conn: Connection, hotspot_id: int) -> list[datetime]:
    return list(
        conn.execute(
            text("SELECT at FROM hotspot_events WHERE hotspot_id = :id AND event = 'recurred' ORDER BY id"),
            {"id": hotspot_id},
        ).scalars()
    )


def test_a_recurrence_is_dated_by_its_incidents_and_the_incidents_that_made_the_hotspot_are_none(
    utc: Connection, tmp_path: Path
) -> None:
    """A hotspot found in October 2025 and eradicated on 15/11: a run over its own October incidents finds it again,
    which is no recurrence; a burst from 31/12/2025 23:30 in Hải Phòng (16:30 UTC) found by a run made in 2026 is a
    recurrence of 2025, dated by its first incident after the eradication (the KPI of 2025 counts it, not 2026's), in its
    event and in the hotspot's change of status alike."""
    october = _local(2025, 10, 1, 9)
    import_incidents(utc, _burst(tmp_path, 106.6830, 20.8600, october, timedelta(days=1), "OLD"), imported_by="t")
    first = run_detection(utc, actor="t", start=october, end=_local(2025, 11, 1))
    assert first.new == 1
    hotspot_id = first.hotspot_ids[0]
    utc.execute(
        text("UPDATE hotspots SET status = 'eradicated', status_changed_at = :at WHERE id = :id"),
        {"id": hotspot_id, "at": _local(2025, 11, 15)},
    )
    again = run_detection(utc, actor="t", start=october, end=_local(2025, 12, 1))
    status = utc.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar_one()
    assert (again.recurred, again.new, status, _recurrences(utc, hotspot_id)) == (0, 0, "eradicated", [])

    eve = _local(2025, 12, 31, 23, 30)
    # 150 m away: beyond matching of an active hotspot's footprint, within the 300 m recurrence distance.
    import_incidents(utc, _burst(tmp_path, 106.6844, 20.8600, eve, timedelta(minutes=2), "NEW"), imported_by="t")
    later = run_detection(utc, actor="t", start=_local(2025, 12, 1), end=_local(2026, 1, 1))
    assert (later.recurred, later.new) == (1, 0)
    assert _recurrences(utc, hotspot_id) == [eve]
    # The register dates the change of status as the history does, not by the run made in 2026.
    changed = utc.execute(
        text("SELECT status, status_changed_at FROM hotspots WHERE id = :id"), {"id": hotspot_id}
    ).one()
    assert tuple(changed) == ("recurred", eve)
    assert (hotspot_kpis(utc, 2025)["recurred"], hotspot_kpis(utc, 2026)["recurred"]) == (1, 0)


def test_emerging_months_are_hai_phongs_whatever_zone_the_end_comes_in() -> None:
    """The default end of an emerging analysis is the latest incident, as the database session gives it (UTC on a
    default server): 30/03/2026 18:00 UTC is 31/03 01:00 in Hải Phòng, and the month before that is 28/02 01:00 there
    (one month back on the UTC calendar, 28/02 18:00 UTC, is already 01/03 in Hải Phòng)."""
    edges = step_edges(datetime(2026, 3, 30, 18, tzinfo=UTC), 2, "month")
    assert list(edges) == [_local(2026, 1, 31, 1), _local(2026, 2, 28, 1), _local(2026, 3, 31, 1)]
    assert list(step_edges(_local(2027, 1, 1), 2, "week")) == [
        _local(2026, 12, 18),
        _local(2026, 12, 25),
        _local(2027, 1, 1),
    ]


def test_instants_are_shown_in_hai_phong_time_whatever_their_zone() -> None:
    assert vn_time(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == "31/12/2026 23:30"
    assert vn_time(datetime(2026, 12, 31, 17, 30, 5, tzinfo=UTC), seconds=True) == "01/01/2027 00:30:05"


def test_a_refused_recorded_time_is_named_in_hai_phong_time(utc: Connection, make_team) -> None:  # noqa: ANN001
    """A task created at 01/01/2026 01:00 in Hải Phòng; its assignment recorded at 31/12/2025 17:00 UTC (00:00 on
    01/01 there) is refused as before it, and the message names 01/01/2026 00:00, not 31/12/2025 17:00."""
    code = _commune(utc)
    actor = Principal(1, "chihuy", Role.COMMAND)
    task = create_task(
        utc,
        actor,
        kind="conversion",
        hotspot_id=None,
        commune_code=code,
        year=2026,
        team_id=None,
        due_date=None,
        priority="normal",
        checklist=[],
        at=_local(2026, 1, 1, 1),
    )
    with pytest.raises(InvalidRequest, match="01/01/2026 00:00"):
        assign_task(utc, task, make_team("Tổ Tết", [code]), 1, actor, at=datetime(2025, 12, 31, 17, tzinfo=UTC))


def test_a_hotspot_put_to_sleep_names_the_hai_phong_day_of_the_cutoff(utc: Connection, tmp_path: Path) -> None:
    """The default window ends with the latest incident's Hải Phòng day, as the UTC session gives it: 30/12/2025 03:00
    in Hải Phòng (29/12 20:00 UTC) ends it at 31/12 00:00 there; two windows of 90 days earlier is 04/07/2025 00:00
    there (03/07 17:00 UTC), the day the note names."""
    january = _local(2025, 1, 1, 9)
    import_incidents(utc, _burst(tmp_path, 106.6830, 20.8600, january, timedelta(days=1), "JAN"), imported_by="t")
    hotspot_id = run_detection(utc, actor="t", start=january, end=_local(2025, 2, 1)).hotspot_ids[0]
    far = _burst(tmp_path, 106.75, 20.80, _local(2025, 12, 30, 3), timedelta(0), "FAR", n=1)
    import_incidents(utc, far, imported_by="t")
    assert run_detection(utc, actor="t").dormant == 1
    note = utc.execute(
        text("SELECT note FROM hotspot_events WHERE hotspot_id = :id AND event = 'dormant'"), {"id": hotspot_id}
    ).scalar_one()
    assert note == "không còn cụm vụ việc từ 04/07/2025 (no cluster since 2025-07-04)"


def test_the_audit_prints_its_lines_in_hai_phong_time(
    db_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], owner_engine: Engine
) -> None:
    """`diaban audit --from 01/01/2027` finds a read made at 00:30 that day in Hải Phòng and prints it at that time,
    not at 31/12/2026 17:30 (the time of a server kept in UTC, as this machine is)."""
    monkeypatch.setenv("DIABAN_DATABASE_URL", db_env["DIABAN_DATABASE_URL"])
    with owner_engine.begin() as conn:  # the audit command reads committed lines and commits its own
        conn.execute(
            text(
                "INSERT INTO access_log (at, username, role, route, params) VALUES (:at, 'nam.moi', 'command', 'x', '{}')"
            ),
            {"at": _local(2027, 1, 1, 0, 30)},
        )
    try:
        code = main(["audit", "--user", "nam.moi", "--from", "01/01/2027", "--to", "01/01/2027"])
        out = capsys.readouterr().out
        assert code == 0 and "01/01/2027 00:30:00  nam.moi" in out and "1 dòng truy cập" in out, out
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM access_log WHERE username = 'nam.moi' OR params ->> 'user' = 'nam.moi'"))


def test_an_import_across_the_turn_files_each_row_in_its_hai_phong_year(owner_conn: Connection, tmp_path: Path) -> None:
    """31/12/2011 23:30 written as a local time and 31/12/2011 17:30 UTC (01/01/2012 00:30 in Hải Phòng): the owner's
    import stores them in the partitions of 2011 and 2012, and the yearly indicators count them in those years."""
    owner_conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
    path = tmp_path / "turn.csv"
    path.write_text(
        "ref,occurred_at,lon,lat,kind\n"
        "TURN-1,31/12/2011 23:30,106.6830,20.8600,trafficking\n"
        "TURN-2,2011-12-31T17:30:00Z,106.6830,20.8600,trafficking\n"
    )
    assert import_incidents(owner_conn, path, imported_by="t").imported == 2
    stored = owner_conn.execute(
        text("SELECT ref, tableoid::regclass::text FROM incidents WHERE ref LIKE 'TURN-%' ORDER BY ref")
    ).all()
    assert [tuple(r) for r in stored] == [("TURN-1", "incidents_y2011"), ("TURN-2", "incidents_y2012")]
    counts = incident_aggregates(owner_conn, 2011, 2012)
    assert counts.groupby("year")["n"].sum().to_dict() == {2011: 1, 2012: 1}

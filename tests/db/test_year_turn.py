"""The turn of the year and other calendar edges, in Hải Phòng's time whatever the database server's time zone.

Every test sets the session's time zone to UTC (a server installed with the default), where 31/12 23:30 in Hải Phòng
is still 31/12 16:30 and 01/01 00:30 is 31/12 17:30: a rule that follows the session's calendar instead of Hải Phòng's
shows here.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Connection, text

from gis.store.indicators import conversion_kpis
from models.vocabulary import LOCAL_TZ


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

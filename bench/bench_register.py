"""Benchmark: the hotspot register as the command page now loads it (each hotspot with its newest suppression task
and the actions the user may take, one request) against what the page loaded before (the hotspots, plus the
suppression task list joined in the browser: two requests), on a throwaway PostGIS with synthetic hotspots.

Run: ``.venv/bin/python bench/bench_register.py [--quick]``; prints median seconds over repeats and the ratio.
"""

from __future__ import annotations

import argparse
import statistics

from common import prepared_engine, timed
from sqlalchemy import Connection, text

from gis.ops.postgres import temporary_cluster
from gis.services.hotspots import hotspot_register
from gis.store.scoping import UNRESTRICTED
from gis.store.selection import HotspotFilter, TaskFilter
from gis.store.tasks import list_tasks
from models.domain.hotspot_lifecycle import hotspot_lifecycle
from models.vocabulary import HotspotStatus, TaskState

#: The register's properties before the task and the actions were added (the baseline query).
BEFORE = """
SELECT coalesce(json_agg(json_build_object('type', 'Feature', 'id', h.id,
       'geometry', ST_AsGeoJSON(h.centroid, 6)::json, 'properties', json_build_object('id', h.id, 'status', h.status,
       'kind', h.kind, 'origin', h.origin, 'n_incidents', h.n_incidents, 'kinds', h.kinds, 'first_seen', h.first_seen,
       'last_seen', h.last_seen, 'commune_code', h.commune_code, 'radius_m', round(h.radius_m::numeric, 1),
       'version', h.version, 'status_changed_at', h.status_changed_at, 'note', h.note)) ORDER BY h.id), '[]')
FROM hotspots h"""


def seed(conn: Connection, n: int) -> None:
    """n hotspots at random points of random communes in every status; a suppression task for those that need one
    (state consistent with the hotspot), all for one team covering the city."""
    team = conn.execute(text("INSERT INTO teams (name, version) VALUES ('Tổ đo', 1) RETURNING id")).scalar_one()
    conn.execute(
        text(
            "INSERT INTO team_areas (team_id, commune_code, valid_from) SELECT :t, code, '2020-01-01'"
            " FROM admin_units WHERE valid_to IS NULL"
        ),
        {"t": team},
    )
    statuses = list(HotspotStatus.values())
    conn.execute(
        text("""
        INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, commune_code, version, centroid,
                              status_changed_at)
        SELECT (CAST(:statuses AS text[]))[1 + (i % cardinality(CAST(:statuses AS text[])))], 'spot', 'manual', 1 + i % 30, '{}', 100, u.code, 1,
               (ST_Dump(ST_GeneratePoints(u.geom, 1, i))).geom, now() - make_interval(days => i % 400)
        FROM generate_series(1, :n) i
        JOIN LATERAL (SELECT code, geom FROM admin_units WHERE valid_to IS NULL
                      ORDER BY md5(code || i::text) LIMIT 1) u ON true"""),
        {"n": n, "statuses": statuses},
    )
    task_state = {
        HotspotStatus.ASSIGNED: TaskState.ASSIGNED,
        HotspotStatus.SUPPRESSING: TaskState.IN_PROGRESS,
        HotspotStatus.ERADICATED: TaskState.ACCEPTED,
        HotspotStatus.MONITORING: TaskState.ACCEPTED,
        HotspotStatus.CLOSED: TaskState.ACCEPTED,
    }
    for status, state in task_state.items():
        conn.execute(
            text("""
            INSERT INTO tasks (kind, hotspot_id, commune_code, state, team_id, due_date, priority, checklist, version,
                               created_by)
            SELECT 'suppression', id, commune_code, :state, :t, current_date + (id % 60 - 30), 'normal', '[]', 1, 'bench'
            FROM hotspots WHERE status = :status"""),
            {"state": state, "status": status, "t": team},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 hotspots instead of 5,000")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    n = 1_000 if args.quick else 5_000
    machine = hotspot_lifecycle(180)
    with temporary_cluster("diaban-bench-register-") as cluster:
        engine = prepared_engine(cluster)
        with engine.begin() as conn:
            seed(conn, n)
            conn.execute(text("ANALYZE"))
        with engine.connect() as conn:

            def before() -> int:
                hotspots = conn.execute(text(BEFORE)).scalar_one()
                tasks = list_tasks(conn, UNRESTRICTED, TaskFilter(kind="suppression"), 1000, 0, "command")
                return len(hotspots) + len(tasks["tasks"])

            def now() -> int:
                return len(hotspot_register(conn, HotspotFilter(), "command", machine)["features"])

            runs = {name: [timed(fn)[1] for _ in range(args.repeat)] for name, fn in (("before", before), ("now", now))}
    medians = {name: statistics.median(times) for name, times in runs.items()}
    print(f"{n:,} hotspots, median of {args.repeat} runs (first run included):")
    print(f"  before: hotspots + suppression task list (2 requests)  {medians['before'] * 1000:8.1f} ms")
    print(f"  now:    register with newest task and actions (1)      {medians['now'] * 1000:8.1f} ms")
    print(f"  ratio now / before: {medians['now'] / medians['before']:.2f}")


if __name__ == "__main__":
    main()

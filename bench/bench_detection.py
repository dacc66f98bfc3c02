"""Benchmark (not a test): a detection run split into reading, clustering and writing, a rerun that changes nothing,
and the floor of writing the run's membership rows (a binary COPY into an unindexed temporary table).

Run: ``.venv/bin/python bench/bench_detection.py [--incidents 1000000] [--days N]``. Imports a synthetic scenario into
a throwaway PostGIS, then detects over all incidents (as issue 18 measured; ``--days``: the last N days instead),
twice, in separate transactions. Goal: writing < 30 % of a run; the rerun writes no membership or event row.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from common import import_as_owner, incident_csv, prepared_engine, timed
from sqlalchemy import Connection, text

from gis.ops.postgres import temporary_cluster
from gis.services.detection import DetectionReport, run_detection
from models.analytics.detection import DetectionParams

#: Tables a detection run writes, whose row counts per transaction the rerun is judged by.
WRITTEN = ("hotspots", "hotspot_incidents", "hotspot_events", "hotspot_lineage")


def written_rows(conn: Connection) -> dict[str, int]:
    """Rows inserted, updated or deleted so far in this transaction, per table of WRITTEN."""
    rows = conn.execute(
        text("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables WHERE relname = ANY(:t)"),
        {"t": list(WRITTEN)},
    ).all()
    return {name: int(n) for name, n in rows}


def describe(title: str, report: DetectionReport, wall: float, written: dict[str, int]) -> None:
    """One run's figures: the split of its time and what it wrote."""
    s = report.seconds
    total = sum(s.values())
    print(
        f"{title}: {report.incidents:,} incidents, {report.clusters:,} clusters (new {report.new},"
        f" updated {report.updated}, unchanged {report.unchanged}) in {wall:.2f} s:"
        f" reading {s['reading']:.2f} s, clustering {s['clustering']:.2f} s, writing {s['writing']:.2f} s"
        f" = {s['writing'] / total:.0%} of the run (goal < 30 %); writing / clustering"
        f" {s['writing'] / s['clustering']:.2f}x",
        flush=True,
    )
    print("  rows written: " + ", ".join(f"{k} {written.get(k, 0):,}" for k in WRITTEN), flush=True)


def copy_floor(conn: Connection) -> tuple[int, float]:
    """Membership rows, and the seconds of a binary COPY of them into an unindexed temporary table (out first)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        data = bytearray()
        with cur.copy("COPY hotspot_incidents (hotspot_id, incident_id) TO STDOUT (FORMAT binary)") as out:
            for block in out:
                data += block
        cur.execute("CREATE TEMP TABLE membership_floor (hotspot_id int, incident_id bigint)")
        rows = conn.execute(text("SELECT count(*) FROM hotspot_incidents")).scalar_one()

        def load() -> None:
            with cur.copy("COPY membership_floor FROM STDIN (FORMAT binary)") as copy:
                copy.write(bytes(data))

        return rows, timed(load)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, help="detect over the last N days (default: over all incidents)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        engine = prepared_engine(cluster)
        started = time.perf_counter()
        import_as_owner(cluster, incident_csv(args.incidents, Path(tmp)))
        with engine.connect() as conn:
            first, last = conn.execute(text("SELECT min(occurred_at), max(occurred_at) FROM incidents")).one()
        print(f"{args.incidents:,} incidents imported in {time.perf_counter() - started:.0f} s", flush=True)
        window: dict = {"end": last + timedelta(seconds=1)}
        params = DetectionParams()
        if args.days:
            params = DetectionParams(window_days=args.days)
        else:
            window["start"] = first
        for title in ("first run", "rerun, nothing changed"):
            with engine.begin() as conn:
                report, wall = timed(lambda c=conn: run_detection(c, actor="bench", params=params, **window))
                describe(title, report, wall, written_rows(conn))
            if title == "first run":
                with engine.connect() as conn:
                    rows, floor = copy_floor(conn)
                print(
                    f"  floor: binary COPY of the {rows:,} membership rows into an unindexed table {floor:.2f} s;"
                    f" writing / floor {report.seconds['writing'] / floor:.1f}x",
                    flush=True,
                )
        print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} after", flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()

"""Benchmark: importing 1,000,000 generated incidents vs a plain COPY of the same file, same run.

Run: ``.venv/bin/python bench/bench_ingest.py [--rows N]``. Prints rows per second and the ratio
of our full import (validation, staging COPY, commune assignment, indexes) to a plain COPY into an
unindexed table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
from sqlalchemy import create_engine, text

from gis.boundary_import import import_boundaries
from gis.cluster import temporary_cluster
from gis.db import migrate
from gis.incident_import import import_incidents
from gis.settings import DataSettings
from models.synthetic import ScenarioConfig, generate_scenario, write_scenario


def plain_copy_seconds(engine, csv_path: Path) -> float:
    """Time of COPY of the file into an unindexed table with the contract's columns."""
    with engine.begin() as conn:
        conn.execute(text("CREATE UNLOGGED TABLE IF NOT EXISTS plain_copy (ref text, occurred_at timestamptz,"
                          " lon float8, lat float8, kind text, substance text, quantity_g float8, arrested int,"
                          " source text)"))
        raw = conn.connection.driver_connection
        start = time.perf_counter()
        with raw.cursor() as cur, open(csv_path, "rb") as fh, \
                cur.copy("COPY plain_copy FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while block := fh.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - start
        conn.execute(text("DROP TABLE plain_copy"))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    communes = gpd.read_file(DataSettings().boundaries)
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        scenario = generate_scenario(communes, ScenarioConfig(seed=11, years=3, n_incidents=args.rows))
        csv_path = write_scenario(scenario, Path(tmp))["incidents"]
        engine = create_engine(cluster.url())
        migrate(engine)
        with engine.begin() as conn:
            import_boundaries(conn, DataSettings().boundaries)
        copy_s = plain_copy_seconds(engine, csv_path)
        start = time.perf_counter()
        with engine.begin() as conn:
            report = import_incidents(conn, csv_path, imported_by="bench")
        ours_s = time.perf_counter() - start
        assert report.imported == args.rows, report.summary()
        print(f"rows: {args.rows:,}; outside any commune: {report.outside}")
        print(f"plain COPY (unindexed):   {copy_s:7.2f} s  {args.rows / copy_s:>12,.0f} rows/s")
        print(f"diaban incidents import:  {ours_s:7.2f} s  {args.rows / ours_s:>12,.0f} rows/s")
        print(f"ratio import / plain COPY: {ours_s / copy_s:.2f}x")
        engine.dispose()


if __name__ == "__main__":
    main()

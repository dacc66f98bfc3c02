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

from common import incident_csv, plain_copy_seconds, prepared_engine

from gis.ops.postgres import temporary_cluster
from gis.services.incident_import import import_incidents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        csv_path = incident_csv(args.rows, Path(tmp))
        engine = prepared_engine(cluster)
        copy_s = plain_copy_seconds(cluster, csv_path)
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

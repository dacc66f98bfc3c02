"""The map's view extent (not a test): what `view_extent` costs over the national boundary file (3,321 units of 34
provinces) for the nation and for a few provinces, right after the import (no statistics yet: the first page after
a boundary import) and once the tables are analysed, against the plain extent of the subdivided pieces (without
the far-off islands' test), same run.

Run: ``.venv/bin/python bench/bench_view_extent.py [--repeat 20]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from gis.ops.postgres import APP_ROLE, temporary_cluster
from gis.services.boundary_import import import_boundaries
from gis.settings import DataSettings
from gis.store.communes import view_extent
from gis.store.db import migrate


def median_ms(fn, repeat: int) -> float:
    """Median wall-clock milliseconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def parts_extent(conn: Connection, province: str | None) -> tuple:
    """The alternative: the whole extent from every subdivided piece (ST_Extent over admin_unit_parts)."""
    return conn.execute(
        text("""SELECT ST_Extent(p.geom) FROM admin_unit_parts p JOIN admin_units u ON u.id = p.unit_id
                WHERE u.valid_to IS NULL AND (CAST(:p AS text) IS NULL OR u.province_code = :p)"""),
        {"p": province},
    ).one()


def measure(engine: Engine, stage: str, repeat: int) -> None:
    """Print the median of each view's extent against the pieces' plain extent."""
    with engine.connect() as conn:
        provinces = list(conn.execute(text("SELECT DISTINCT province_code FROM admin_units ORDER BY 1")).scalars())
        print(f"{stage}: load average {os.getloadavg()[0]:.2f}; {len(provinces)} provinces; {repeat} runs each")
        for province in [None, "31", "22", "56", "79"]:
            mine = median_ms(lambda p=province: view_extent(conn, p), repeat)
            alt = median_ms(lambda p=province: parts_extent(conn, p), repeat)
            found = view_extent(conn, province)
            assert found is not None
            print(
                f"{province or 'nation':>6}: view_extent {mine:7.2f} ms, pieces' extent {alt:7.2f} ms"
                f" (x{alt / mine:.2f}); mainland {tuple(round(v, 2) for v in found.mainland)}"
                f" whole {tuple(round(v, 2) for v in found.whole)}"
            )
        every = median_ms(lambda: [view_extent(conn, p) for p in provinces], max(1, repeat // 5))
        print(f"all {len(provinces)} provinces one after another: {every:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with temporary_cluster("diaban-bench-extent-") as cluster:
        owner = create_engine(cluster.owner_url(), poolclass=NullPool)
        migrate(owner, app_role=APP_ROLE)
        with owner.begin() as conn:  # no analysis behind the first measurement's back
            for table in ("admin_units", "admin_unit_parts"):
                conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        engine = create_engine(cluster.url())
        with engine.begin() as conn:
            import_boundaries(conn, DataSettings().national_boundaries)
        measure(engine, "before statistics", args.repeat)
        with owner.begin() as conn:
            for table in ("admin_units", "admin_unit_parts"):
                conn.execute(text(f"ANALYZE {table}"))
        measure(engine, "analysed", args.repeat)
        engine.dispose()
        owner.dispose()


if __name__ == "__main__":
    main()

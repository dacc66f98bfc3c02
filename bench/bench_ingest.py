"""Benchmark: loading incidents — diaban's import against PostgreSQL's own COPY and against ogr2ogr, same run,
same file, with the peak memory of each.

Run: ``.venv/bin/python bench/bench_ingest.py [--rows 100000 1000000 3000000] [--repeat 2] [--increment 100000]
[--base 1000000] [--files DIR] [--geojson]`` (ogr2ogr: ``scripts/system-deps.sh bench`` installs gdal-bin).

For each size, on the same generated file (synthetic, 3 years, Hải Phòng communes):

- plain COPY of the CSV into an unindexed logged table;
- COPY + geometry (a generated ST_MakePoint column) + GiST built afterwards — the floor of any geographic load;
- the same, plus the two indexes any import of incidents must also build: the refs' unique key and the time index
  (still no validation, duplicates or communes);
- ogr2ogr (GDAL's CSV driver, PG_USE_COPY, point geometry, GiST) — what a GIS analyst would use;
- ``diaban incidents import`` into an empty table (validation, duplicates, commune assignment, yearly
  partitions, four indexes, refs);
- with ``--geojson``, the same rows as a GeoJSON FeatureCollection (what QGIS exports): ogr2ogr and diaban again;

and, once: ``diaban`` importing ``--increment`` rows (same 3 years, other refs) into a table holding ``--base``
rows, against COPY + geometry + GiST of the same increment into an empty table, and against the floor of any load
that keeps the table's indexes: the same rows with their point only (no validation, duplicates or communes) copied
into a temporary table and inserted into ``incidents``. The increment is rolled back after it is timed, so that
each repetition starts from the same table.

Each load runs in its own process: its peak RSS is the process's VmHWM (``ru_maxrss`` would count the memory of
the benchmark that started it); the database server's peak is its backend's VmHWM. Seconds are the best of ``--repeat`` (the machine is shared), each printed with the 1-minute
load average when it started. Generated files are kept in ``--files`` (the 3M file takes a minute to make).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from gis.ops.postgres import libpq_url, temporary_cluster

#: Columns of the generated file, as COPY reads them.
_COLUMNS = "ref, occurred_at, lon, lat, kind, substance, quantity_g, arrested, source"
_PLAIN = (
    "CREATE TABLE bench_load (ref text, occurred_at timestamptz, lon float8, lat float8, kind text, substance text,"
    " quantity_g float8, arrested int, source text{geom})"
)
_GEOM = ", geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"


def _peak_kb(pid: int | str) -> int | None:
    """Peak resident memory of a process (VmHWM; reset by exec, so not inherited from the process that started
    it as `ru_maxrss` is), when this process may read it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _copy_file(conn: psycopg.Connection, path: Path) -> None:
    """The CSV file into the table ``bench_load`` by COPY, in blocks of 1 MiB."""
    with (
        conn.cursor() as cur,
        open(path, "rb") as fh,
        cur.copy(f"COPY bench_load ({_COLUMNS}) FROM STDIN (FORMAT csv, HEADER true)") as copy,
    ):
        while block := fh.read(1 << 20):
            copy.write(block)


def child(method: str, url: str, path: Path) -> dict[str, float | int | None]:
    """One load in this process: its seconds and the server backend's peak memory."""
    with psycopg.connect(libpq_url(url)) as conn:
        pid = conn.info.backend_pid
        start = time.perf_counter()
        if method in ("copy", "copy_gist", "copy_keys"):
            conn.execute(_PLAIN.format(geom="" if method == "copy" else _GEOM))
            _copy_file(conn, path)
            if method != "copy":
                conn.execute("CREATE INDEX ON bench_load USING gist (geom)")
            if method == "copy_keys":
                # What an import must build beyond the GiST, whatever its method: the refs' unique key (duplicates
                # stay exact across imports) and the time index (windows read their pages, issue 18).
                conn.execute("CREATE UNIQUE INDEX ON bench_load (ref)")
                conn.execute("CREATE INDEX ON bench_load (occurred_at)")
            conn.commit()
        elif method == "insert_increment":
            # The floor of any load into a table that keeps its indexes: the rows and their point, without
            # validation, duplicates or communes, copied into a temporary table and inserted into `incidents`
            # (its partitions' indexes, the refs and the metric point by trigger); rolled back, like the increment.
            conn.execute(_PLAIN.replace("CREATE TABLE", "CREATE TEMP TABLE").format(geom=""))
            _copy_file(conn, path)
            rows = conn.execute(
                "INSERT INTO incidents (ref, occurred_at, kind, substance, quantity_g, arrested, source, geom,"
                " assignment) SELECT ref, occurred_at, kind, substance, quantity_g, arrested, source,"
                " ST_SetSRID(ST_MakePoint(lon, lat), 4326), 'outside' FROM bench_load"
            ).rowcount
            seconds = time.perf_counter() - start
            peak = _peak_kb(pid)
            conn.rollback()
            return {"seconds": seconds, "server_kb": peak, "client_kb": _peak_kb("self"), "rows": rows}
        else:
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool

            from gis.services.incident_import import import_incidents

            engine = create_engine(url, poolclass=NullPool)
            with engine.connect() as sa_conn:
                pid = sa_conn.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
                start = time.perf_counter()
                with sa_conn.begin() as tx:
                    report = import_incidents(sa_conn, path, imported_by="bench")
                    if method == "diaban_increment":  # timed to here; rolled back for the next repetition
                        seconds = time.perf_counter() - start
                        peak = _peak_kb(pid)
                        tx.rollback()
                        return {
                            "seconds": seconds,
                            "server_kb": peak,
                            "client_kb": _peak_kb("self"),
                            "rows": report.imported,
                        }
                seconds = time.perf_counter() - start
                return {
                    "seconds": seconds,
                    "server_kb": _peak_kb(pid),
                    "client_kb": _peak_kb("self"),
                    "rows": report.imported,
                }
        return {"seconds": time.perf_counter() - start, "server_kb": _peak_kb(pid), "client_kb": _peak_kb("self")}


def _run_child(method: str, url: str, path: Path) -> dict[str, float | int | None]:
    """`child` in a fresh interpreter, which reports its own peak memory."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", method, "--url", url, "--file", str(path)],
        stdout=subprocess.PIPE,
        check=True,
    )
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def _ogr2ogr(url: str, path: Path) -> dict[str, float | int | None]:
    """ogr2ogr in its own process: seconds and its peak memory (VmHWM, read until it exits)."""
    cmd = [
        "ogr2ogr",
        "-f",
        "PostgreSQL",
        f"PG:{libpq_url(url).replace('postgresql+psycopg', 'postgresql')}",
        str(path),
        "-nln",
        "bench_ogr",
        *(
            ["-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat", "-oo", "AUTODETECT_TYPE=YES"]
            if path.suffix == ".csv"
            else []
        ),
        "-a_srs",
        "EPSG:4326",
        "-nlt",
        "POINT",
        "-lco",
        "GEOMETRY_NAME=geom",
        "-lco",
        "SPATIAL_INDEX=GIST",
        "-gt",
        "unlimited",
        "--config",
        "PG_USE_COPY",
        "YES",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _peak_kb(proc.pid) or 0)
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"ogr2ogr failed: {proc.stderr.read().decode() if proc.stderr else proc.returncode}")
    return {"seconds": seconds, "server_kb": None, "client_kb": peak}


def geojson_of(csv_path: Path) -> Path:
    """The same rows as a GeoJSON FeatureCollection of points beside the CSV (written once, row by row): what a GIS
    analyst exports from QGIS. Quantities and arrests as JSON numbers, empty fields as null."""
    path = csv_path.with_suffix(".geojson")
    if path.exists():
        return path
    numbers = {"quantity_g": float, "arrested": int}
    with open(csv_path, newline="", encoding="utf-8") as source, open(path, "w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for number, row in enumerate(csv.DictReader(source)):
            lon, lat = float(row.pop("lon")), float(row.pop("lat"))
            properties = {k: (numbers[k](v) if k in numbers else v) if v != "" else None for k, v in row.items()}
            feature = {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": properties,
            }
            out.write(("," if number else "") + json.dumps(feature, ensure_ascii=False) + "\n")
        out.write("]}\n")
    return path


def _reset(engine: Engine, admin: Engine) -> None:
    """An empty database again: no incidents, no partition, no load table (`engine`: the owner's; `admin`: the
    cluster's superuser, which alone may CHECKPOINT)."""
    with engine.begin() as conn:
        for (name,) in conn.execute(
            text("SELECT relname FROM pg_class WHERE relname ~ '^incidents_y[0-9]{4}$' OR relname = 'bench_ogr'")
        ).all():
            conn.execute(text(f"DROP TABLE {name}"))
        conn.execute(text("DROP TABLE IF EXISTS bench_load"))
        conn.execute(text("TRUNCATE incidents"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CHECKPOINT"))  # each load starts without the previous one's dirty pages to write


def measure(method: str, db: tuple[Engine, Engine], url: str, path: Path, repeat: int, keep: bool = False) -> dict:
    """Best of `repeat` runs of one method; the load average when the best run started; the peaks. `db`: the
    owner's and the superuser's engines (see `_reset`)."""
    best: dict | None = None
    for _ in range(repeat):
        _reset(*db) if not keep else None
        load = os.getloadavg()[0]
        result = _ogr2ogr(url, path) if method == "ogr2ogr" else _run_child(method, url, path)
        result["load"] = load
        if "rows" in result and not keep and result["rows"] == 0:
            raise SystemExit(f"{method} stored nothing")
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    return best


def _line(name: str, rows: int, result: dict, reference: float | None) -> str:
    ratio = f"{result['seconds'] / reference:6.2f}x" if reference else "      -"
    server = f"{result['server_kb'] / 1024:7.0f}" if result.get("server_kb") else "      -"
    return (
        f"{name:<34} {rows:>10,} {result['seconds']:8.2f} s {rows / result['seconds']:>11,.0f}/s {ratio}"
        f" {result['client_kb'] / 1024:8.0f} {server}   {result['load']:4.2f}"
    )


_HEAD = f"{'load':<34} {'rows':>10} {'seconds':>10} {'rows/s':>13} {'/ C+G':>7} {'RSS MB':>8} {'srv MB':>7}   load avg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 3_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--increment", type=int, default=100_000, help="0: no incremental run")
    parser.add_argument("--base", type=int, default=1_000_000)
    parser.add_argument("--files", type=Path, help="keep the generated files here (reused when present)")
    parser.add_argument("--no-ogr2ogr", action="store_true")
    parser.add_argument("--geojson", action="store_true", help="also load the same rows from a GeoJSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, args.file)))
        return
    from common import incident_csv, prepared_engine  # geopandas and the generator: not in the measured children

    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        files = args.files or Path(tmp)

        def generated(rows: int, seed: int = 11) -> Path:
            folder = files / f"incidents-{rows}-{seed}"
            path = folder / "incidents.csv"
            return path if path.exists() else incident_csv(rows, folder, seed=seed)

        prepared_engine(cluster).dispose()
        url = cluster.owner_url()  # as `diaban import` connects: the owner may create and attach partitions
        # The owner drops partitions between loads; the superuser alone may CHECKPOINT.
        db = (create_engine(url, poolclass=NullPool), create_engine(cluster.admin_url(), poolclass=NullPool))
        print("(/ C+G: seconds over 'COPY + geometry + GiST' of the same rows; RSS: the loading process's peak;")
        print(" srv: the database backend's peak; load avg: 1-minute load average as the best run started)")
        print(_HEAD)
        for rows in args.rows:
            path = generated(rows)
            results = {m: measure(m, db, url, path, args.repeat) for m in ("copy", "copy_gist", "copy_keys")}
            if not args.no_ogr2ogr:
                results["ogr2ogr"] = measure("ogr2ogr", db, url, path, args.repeat)
            results["diaban"] = measure("diaban", db, url, path, args.repeat)
            floor = results["copy_gist"]["seconds"]
            names = {
                "copy": "plain COPY (unindexed)",
                "copy_gist": "COPY + geometry + GiST",
                "copy_keys": " + ref key + time index",
                "ogr2ogr": "ogr2ogr (PG_USE_COPY, GiST)",
                "diaban": "diaban import, empty table",
                "ogr2ogr_geojson": "ogr2ogr, the rows as GeoJSON",
                "diaban_geojson": "diaban import, GeoJSON",
            }
            if args.geojson:  # the same rows as GeoJSON (ratios still over COPY + geometry + GiST of the CSV)
                features = geojson_of(path)
                if not args.no_ogr2ogr:
                    results["ogr2ogr_geojson"] = measure("ogr2ogr", db, url, features, args.repeat)
                results["diaban_geojson"] = measure("diaban", db, url, features, args.repeat)
            for method, result in results.items():
                print(_line(names[method], rows, result, floor))
            sys.stdout.flush()
        if args.increment:
            increment = generated(args.increment, seed=12)
            floor = measure("copy_gist", db, url, increment, args.repeat)
            _reset(*db)
            _run_child("diaban", url, generated(args.base))  # the table holding --base rows (not timed)
            inserted = measure("insert_increment", db, url, increment, args.repeat, keep=True)
            added = measure("diaban_increment", db, url, increment, args.repeat, keep=True)
            print(_line("COPY + geometry + GiST, increment", args.increment, floor, floor["seconds"]))
            print(_line(f"rows + point only, into {args.base:,}", args.increment, inserted, floor["seconds"]))
            print(_line(f"diaban import into {args.base:,}", args.increment, added, floor["seconds"]))
        for engine in db:
            engine.dispose()


if __name__ == "__main__":
    main()

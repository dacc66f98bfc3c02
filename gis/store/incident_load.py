"""The database side of an incident import: validated rows streamed into a staging table by binary COPY, then
set-based phases inside PostgreSQL — duplicates, commune assignment, storage by year (see incident_partitions).

Everything runs in the caller's transaction on temporary tables dropped at commit: an interrupted import leaves
nothing. Memory on the client is one chunk of rows; duplicates inside the file, the storage order and the point-
in-commune join are PostgreSQL's work, not the client's.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from functools import cache
from types import TracebackType
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pgpq
import pyarrow as pa
from pyproj import Transformer
from sqlalchemy import Connection, text

from gis.settings import DataSettings
from gis.store.bulk import driver_connection
from gis.store.data_versions import bump_data_version
from gis.store.incident_partitions import (
    PARENT,
    attach,
    bounds,
    create_detached,
    partition_name,
    partitions,
    z_order_key,
)
from gis.store.periods import unit_at
from gis.store.sql import current_unit, local_date
from models.vocabulary import LOCAL_TZ_NAME, METRIC_SRID, WGS84_SRID, Assignment

#: The staging table's columns and their Arrow types (encoded by pgpq into PostgreSQL's binary COPY format).
STAGING = pa.schema(
    [
        ("line", pa.int32()),
        ("ref", pa.string()),
        ("occurred_at", pa.timestamp("us", "UTC")),
        #: The local year and month (202403): the partition, and the first key of the storage order.
        ("period", pa.int32()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        #: The point in the metric CRS, projected once by PROJ (as PostGIS does, to the same bits).
        ("x_m", pa.float64()),
        ("y_m", pa.float64()),
        ("zkey", pa.int64()),
        ("kind", pa.string()),
        ("substance", pa.string()),
        ("quantity_g", pa.float64()),
        ("arrested", pa.int32()),
        ("source", pa.string()),
        ("commune_code", pa.string()),
        ("address", pa.string()),
    ]
)
#: Staged columns filled in PostgreSQL for a row without a point: the unit its code or address names (or, when
#: none, the field and the reason of the reject; when ambiguous, the note of the flag).
_PLACED = "unit_code text, assignment text, legacy_code text, candidates text[], unit_field text, unit_reason text"
_SQL_TYPES = {pa.int32(): "int", pa.int64(): "bigint", pa.float64(): "float8", pa.string(): "text"}
#: A year receiving at least this share of its partition's rows is rebuilt (loaded apart, indexed, attached)
#: rather than inserted into. Inserting a row into a year's four indexes cost 30 µs (100,000 rows into a table of
#: 1M), writing and indexing a row loaded apart 10 µs (1M rows into an empty table; measured): a rebuild pays for
#: the year's E rows and the n new ones, an insert for n; they are equal at n = E / 2.
REBUILD_SHARE = 0.5
#: The refs' unique key is rebuilt when an import loading years apart brings at least this share of the stored
#: refs: building it cost 0.6 µs a ref, inserting a ref into it 5 µs (measured likewise).
REFS_REBUILD_SHARE = 0.12
#: Columns written to incidents, in the order of the statements below.
_STORED = (
    "ref, occurred_at, kind, substance, quantity_g, arrested, source, commune_code, assignment, legacy_code,"
    " candidate_codes, period_code, geom, x_m, y_m"
)
_ALL = f"id, import_id, {_STORED}"


def staging_batch(valid: pd.DataFrame) -> pa.Table:
    """Validated rows as a staging batch: the Z-order key of each point; code and address only without a point."""
    lon, lat = valid["lon"].to_numpy(np.float64), valid["lat"].to_numpy(np.float64)
    point = ~np.isnan(lon)
    local = valid["occurred_at"].dt.tz_convert(LOCAL_TZ_NAME)
    x_m, y_m = _to_metric().transform(lon, lat)
    located = {
        name: pa.array(valid[name].where(~point, None), pa.string(), from_pandas=True)
        for name in ("commune_code", "address")
    }
    columns = {
        "line": pa.array(valid["line"].to_numpy(np.int64), pa.int64()).cast(pa.int32()),
        "ref": pa.array(valid["ref"], pa.string(), from_pandas=True),
        "occurred_at": pa.array(valid["occurred_at"], from_pandas=True).cast(
            STAGING.field("occurred_at").type, safe=False
        ),
        "period": pa.array((local.dt.year * 100 + local.dt.month).to_numpy(np.int32)),
        "lon": pa.array(lon, mask=~point),
        "lat": pa.array(lat, mask=~point),
        "x_m": pa.array(x_m, mask=~point),
        "y_m": pa.array(y_m, mask=~point),
        "zkey": pa.array(z_order_key(np.where(point, lon, 0), np.where(point, lat, 0)), mask=~point),
        "kind": pa.array(valid["kind"], pa.string(), from_pandas=True),
        "substance": pa.array(valid["substance"], pa.string(), from_pandas=True),
        "quantity_g": pa.array(valid["quantity_g"].to_numpy(np.float64), from_pandas=True),
        "arrested": pa.array(valid["arrested"], pa.int32(), from_pandas=True),
        "source": pa.array(valid["source"], pa.string(), from_pandas=True),
        **located,
    }
    return pa.Table.from_pydict(columns, schema=STAGING)


@cache
def _to_metric() -> Transformer:
    """WGS84 longitude/latitude to the metric CRS: 0.3 s per million points here, 1.9 s as ST_Transform in the
    INSERT (measured); results equal PostGIS's to the last bit (both are PROJ; checked by a test)."""
    return Transformer.from_crs(WGS84_SRID, METRIC_SRID, always_xy=True)


class StagingCopy:
    """A binary COPY into the staging table, written by a thread: the caller reads and validates the next chunk
    while PostgreSQL takes this one. At most two encoded chunks wait, so memory stays bounded."""

    def __init__(self, conn: Connection) -> None:
        columns = ", ".join(f"{f.name} {_SQL_TYPES.get(f.type, 'timestamptz')}" for f in STAGING)
        conn.execute(text(f"CREATE TEMP TABLE incident_staging ({columns}, {_PLACED}) ON COMMIT DROP"))
        self._cursor = driver_connection(conn).cursor()
        self._encoder = pgpq.ArrowToPostgresBinaryEncoder(STAGING)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, name="incident-copy", daemon=True)

    def __enter__(self) -> StagingCopy:
        self._thread.start()
        self._queue.put(bytes(self._encoder.write_header()))
        return self

    def _write(self) -> None:
        names = ", ".join(STAGING.names)
        try:
            with self._cursor.copy(f"COPY incident_staging ({names}) FROM STDIN (FORMAT binary)") as copy:
                while (data := self._queue.get()) is not None:
                    copy.write(data)
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc
            while self._queue.get() is not None:  # keep draining, or the caller would wait forever
                pass

    def write(self, chunk: pa.Table) -> None:
        """Queue one chunk (waits while two are queued)."""
        if self._error is not None:
            raise self._error
        self._queue.put(b"".join(bytes(self._encoder.write_batch(b)) for b in chunk.to_batches()))

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None:
            self._queue.put(bytes(self._encoder.finish()))
        self._queue.put(None)
        self._thread.join()
        self._cursor.close()
        if self._error is not None and exc is None:
            raise self._error


@contextmanager
def import_settings(conn: Connection) -> Iterator[None]:
    """The session settings of an import, as they were afterwards: no JIT (compiling costs more than it saves on
    these plans) and `import_work_mem_mb` per sort or hash (DataSettings), so that the sorts and hashes of a
    million rows stay in memory (the external sorts cost 2-3x more, measured)."""
    before = conn.execute(text("SELECT current_setting('work_mem'), current_setting('jit')")).one()
    conn.execute(
        text("SELECT set_config('work_mem', :mem, true), set_config('jit', 'off', true)"),
        {"mem": f"{DataSettings().import_work_mem_mb}MB"},
    )
    yield
    conn.execute(
        text("SELECT set_config('work_mem', :mem, true), set_config('jit', :jit, true)"),
        {"mem": before[0], "jit": before[1]},
    )


# ------------------------------------------------------------------------------------------- rows without a point
def unit_keys(conn: Connection, reform: date) -> list[tuple[str, str, bool]]:
    """Distinct (commune code, address, dated before `reform`) of the staged rows without a point."""
    return [
        (code, address, before)
        for code, address, before in conn.execute(
            text(f"""
            SELECT DISTINCT coalesce(commune_code, ''), coalesce(address, ''), {local_date("occurred_at")} < :reform
            FROM incident_staging WHERE lon IS NULL"""),
            {"reform": reform},
        ).all()
    ]


def place_units(conn: Connection, units: list[dict[str, object]], reform: date) -> None:
    """Give each staged row without a point what its key names: unit_code, assignment, legacy_code, candidates
    when found (unit_field and unit_reason: the flag of an ambiguous one), else unit_field and unit_reason."""
    if not units:
        return
    conn.execute(
        text(
            "CREATE TEMP TABLE incident_units (code text, address text, before bool, unit_code text, assignment text,"
            " legacy_code text, candidates text[], field text, reason text) ON COMMIT DROP"
        )
    )
    conn.execute(
        text(
            "INSERT INTO incident_units VALUES (:code, :address, :before, :unit_code, :assignment, :legacy_code,"
            " :candidates, :field, :reason)"
        ),
        units,
    )
    conn.execute(
        text(f"""
        UPDATE incident_staging s SET unit_code = u.unit_code, assignment = u.assignment, legacy_code = u.legacy_code,
               candidates = u.candidates, unit_field = u.field, unit_reason = u.reason
        FROM incident_units u
        WHERE s.lon IS NULL AND u.code = coalesce(s.commune_code, '') AND u.address = coalesce(s.address, '')
          AND u.before = ({local_date("s.occurred_at")} < :reform)"""),
        {"reform": reform},
    )
    conn.execute(text("DROP TABLE incident_units"))


# ------------------------------------------------------------------------------------------- duplicates
def new_rows(conn: Connection) -> int:
    """The rows to store (`incident_points`): the first row of each ref in the file, unless that ref is stored
    already; each with where its staged row lies (`tid`), its point and its place in storage order (`seq`:
    month, then Z-order). Returns the number of rows staged.

    Only these narrow rows are sorted, never the staged ones (sorting a million full rows cost 6.5 s). Written in
    storage order, the points of a commune lie on few pages: the commune join then reads 4x fewer (measured).

    Holds `incident_refs` against other writers until the commit, so that two imports of the same refs run
    one after the other and the second counts them as duplicates.
    """
    conn.execute(text("LOCK TABLE incident_refs IN SHARE ROW EXCLUSIVE MODE"))
    conn.execute(
        text("""
        CREATE TEMP TABLE incident_points ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY s.period, s.zkey, s.line) AS seq, s.tid, s.line, s.period, s.occurred_at,
               s.unit_code, s.assignment, s.legacy_code,
               -- ST_MakePoint is strict: a row without coordinates gets no point, never an invented one.
               ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom
        FROM (SELECT DISTINCT ON (ref) ctid AS tid, ref, line, period, zkey, occurred_at, lon, lat, unit_code,
                     assignment, legacy_code
              FROM incident_staging ORDER BY ref, line) s
        WHERE NOT EXISTS (SELECT 1 FROM incident_refs r WHERE r.ref = s.ref)""")
    )
    # Temporary tables get no statistics from autovacuum: without them the planner expects a few hundred rows
    # and joins a million by sorts and nested loops (4x slower, measured).
    conn.execute(text("ANALYZE incident_points"))
    return conn.execute(text("SELECT count(*) FROM incident_staging")).scalar_one()


def unit_rejects(conn: Connection) -> pd.DataFrame:
    """New rows without a point whose code or address names no loaded unit, taken out: line, ref, field, reason."""
    rows = conn.execute(
        text("""
        WITH unplaced AS (DELETE FROM incident_points WHERE geom IS NULL AND assignment IS NULL RETURNING tid)
        SELECT s.line, s.ref, s.unit_field, s.unit_reason FROM unplaced u JOIN incident_staging s ON s.ctid = u.tid
        ORDER BY s.line""")
    ).all()
    return pd.DataFrame(rows, columns=["line", "ref", "field", "reason"]).astype({"line": "int64"})


# ------------------------------------------------------------------------------------------- assignment
# Polygons drive the point-in-commune join (outer loop over commune parts, GiST on the new points), so that
# PostGIS reuses each prepared part across many points: 10x faster than probing the parts point by point
# (0.32 s vs 2.9 s for 100,000 points, measured), even with the points in Z-order. The points table is narrow
# (line and point): the join reads its pages for every candidate, 3x faster than over all the columns.
#: The current units with the instant their period began (compared with times, not dates: a local date per
#: row cost 0.5 s per million).
_CURRENT = f"""(SELECT code, CAST(valid_from AS timestamp) AT TIME ZONE '{LOCAL_TZ_NAME}' AS since FROM admin_units
    WHERE {current_unit(None)})"""


def _locate(with_history: bool) -> tuple[str, ...]:
    """The statements that place each row to store (`incident_placed`, by `seq`): its commune and how it was
    found, and its unit at its date (see gis.store.periods)."""
    earlier = unit_at("p.geom", "p.occurred_at") if with_history else "NULL"
    return (
        "CREATE INDEX ON incident_points USING gist (geom)",
        # A point's commune is the one whose part contains it (the smallest code on a border). LATERAL with
        # OFFSET 0 (no pull-up) pins the commune parts as the outer loop whatever the planner estimates; each
        # part carries its unit's period (joined per point afterwards, the planner looked a million up one by one).
        f"""CREATE TEMP TABLE incident_placed ON COMMIT DROP AS
        SELECT p.seq, p.tid, p.line, p.period, p.occurred_at, p.geom, coalesce(p.unit_code, i.code) AS code,
               coalesce(p.assignment, CASE WHEN i.code IS NOT NULL THEN '{Assignment.INSIDE}'
                                           ELSE '{Assignment.OUTSIDE}' END) AS assignment,
               CASE WHEN p.geom IS NULL THEN
                        CASE WHEN p.legacy_code IS NOT NULL THEN p.legacy_code
                             WHEN p.occurred_at >= :reform_at THEN p.unit_code END
                    WHEN p.occurred_at >= i.since THEN i.code
                    ELSE {earlier} END AS period_code
        FROM incident_points p
        LEFT JOIN (
            SELECT DISTINCT ON (s.seq) s.seq, a.code, a.since
            FROM (SELECT a.geom, a.code, c.since FROM admin_unit_parts a JOIN {_CURRENT} c USING (code)) a
            CROSS JOIN LATERAL (SELECT i.seq FROM incident_points i WHERE ST_Intersects(a.geom, i.geom) OFFSET 0) s
            ORDER BY s.seq, a.code
        ) i ON i.seq = p.seq""",
        "CREATE UNIQUE INDEX ON incident_placed (seq)",
        # A point in no commune: the nearest one within :metres (a degree is >= 50 km anywhere in Vietnam: a safe
        # bounding-box prefilter for the metric test), if any; else it stays outside.
        f"""UPDATE incident_placed p SET code = n.code, assignment = '{Assignment.NEAREST}',
               period_code = CASE WHEN p.occurred_at >= cur.since THEN cur.code ELSE {earlier} END
        FROM (SELECT o.seq, near.code FROM incident_placed o CROSS JOIN LATERAL (
                  SELECT a.code FROM admin_unit_parts a
                  WHERE a.geom && ST_Expand(o.geom, :deg) AND ST_DWithin(a.geom::geography, o.geom::geography, :metres)
                  ORDER BY ST_Distance(a.geom::geography, o.geom::geography), a.code
                  LIMIT 1
              ) near WHERE o.assignment = '{Assignment.OUTSIDE}') n
        JOIN {_CURRENT} cur ON cur.code = n.code
        WHERE p.seq = n.seq""",
    )


def assign(conn: Connection, nearest_m: float, reform: date, with_history: bool) -> None:
    """The rows to store (`incident_placed`, indexed by `seq`) and the commune of each point: the one whose part
    contains it (the smallest code on a border), else the nearest one within `nearest_m`, else none (outside)."""
    reform_at = datetime.combine(reform, time(), ZoneInfo(LOCAL_TZ_NAME))
    params = {"metres": nearest_m, "deg": nearest_m / 50_000, "reform_at": reform_at}
    for statement in _locate(with_history):
        conn.execute(text(statement), params)
    conn.execute(text("ANALYZE incident_placed"))


def outside(conn: Connection) -> pd.DataFrame:
    """New points outside every commune and beyond the nearest-commune distance: line, ref, metres to the nearest."""
    rows = conn.execute(
        text(f"""
        SELECT p.line, s.ref, (SELECT ST_Distance(a.geom::geography, p.geom::geography) FROM admin_unit_parts a
                               ORDER BY a.geom <-> p.geom LIMIT 1) AS metres
        FROM incident_placed p JOIN incident_staging s ON s.ctid = p.tid
        WHERE p.assignment = '{Assignment.OUTSIDE}' ORDER BY p.line""")
    ).all()
    return pd.DataFrame(rows, columns=["line", "ref", "metres"]).astype({"line": "int64"})


def drop_outside(conn: Connection) -> None:
    """Leave the points outside every commune out of the import (`--outside reject`)."""
    conn.execute(text(f"DELETE FROM incident_placed WHERE assignment = '{Assignment.OUTSIDE}'"))


def ambiguous(conn: Connection) -> pd.DataFrame:
    """New rows kept without a commune because their old unit was split: line, ref, field, note."""
    rows = conn.execute(
        text(f"""SELECT s.line, s.ref, s.unit_field, s.unit_reason FROM incident_placed p
        JOIN incident_staging s ON s.ctid = p.tid WHERE s.assignment = '{Assignment.AMBIGUOUS}' ORDER BY s.line""")
    ).all()
    return pd.DataFrame(rows, columns=["line", "ref", "field", "reason"]).astype({"line": "int64"})


# ------------------------------------------------------------------------------------------- storage
def store(conn: Connection, import_id: int) -> dict[str, int]:
    """Write the new rows into their years' partitions; the number stored per assignment.

    A year without a partition, or receiving at least `REBUILD_SHARE` of its rows, is loaded apart in storage
    order, indexed once and attached (with the year's earlier rows, when it is rebuilt); other years take the
    rows through `incidents`, whose triggers record the refs and check the run. The import run is known valid
    (it was created in this transaction): no per-row check is made of it.

    Creating and attaching partitions takes the owner of `incidents` (`diaban import` connects as the owner when
    one is configured). The application's role owns nothing: through it every row goes in through `incidents`,
    a year without a partition into the default one — the same rows, without the bulk path's speed.
    """
    arriving: dict[int, int] = dict(
        conn.execute(text("SELECT period / 100, count(*) FROM incident_placed GROUP BY 1")).all()
    )
    existing = partitions(conn)
    rebuilt = (
        {y: y in existing for y, n in arriving.items() if y not in existing or n >= REBUILD_SHARE * existing[y].rows}
        if _owns(conn, PARENT)
        else {}
    )
    if rebuilt:
        # One pass routes the rows into every year's plain table: a partitioned table of our own, the tables
        # its partitions until they are filled.
        conn.execute(
            text(
                f"CREATE TABLE {_LOADING} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                " PARTITION BY RANGE (occurred_at)"
            )
        )
        tables = {}
        for y, replaces in sorted(rebuilt.items()):
            tables[y] = create_detached(conn, y)
            if replaces:  # the year's rows so far, ahead of the new ones
                conn.execute(text(f"INSERT INTO {tables[y]} ({_ALL}) SELECT {_ALL} FROM {partition_name(y)}"))
            conn.execute(text(f"ALTER TABLE {_LOADING} ATTACH PARTITION {tables[y]} {bounds(y)}"))
        only = sorted(rebuilt) if len(rebuilt) < len(arriving) else None
        new_refs = sum(arriving[y] for y in rebuilt)
        with _refs_key_rebuilt(conn, new_refs >= REFS_REBUILD_SHARE * _estimated_rows(conn, "incident_refs")):
            _write_rows(conn, _LOADING, import_id, only, refs=True)
        for y, table in sorted(tables.items()):
            conn.execute(text(f"ALTER TABLE {_LOADING} DETACH PARTITION {table}"))
            attach(conn, table, y, replaces=rebuilt[y])
        conn.execute(text(f"DROP TABLE {_LOADING}"))
        # Loads apart fire no statement trigger on incidents: the cached results must still expire.
        bump_data_version(conn, PARENT)
    rest = sorted(set(arriving) - set(rebuilt))
    if rest:
        _write_rows(conn, PARENT, import_id, rest if rebuilt else None, refs=False)
    counts = conn.execute(text("SELECT assignment, count(*) FROM incident_placed GROUP BY 1")).all()
    return {assignment: int(n) for assignment, n in counts}


@contextmanager
def _refs_key_rebuilt(conn: Connection, rebuild: bool) -> Iterator[None]:
    """With `rebuild`, the refs' unique key is dropped for the block and built again after it: for many new refs
    a build costs a fifth of inserting them one by one into the key (0.6 s vs 3 s per million, measured). A
    repeated ref then fails the build, as it would have failed the insert: the import is refused whole."""
    if rebuild:
        conn.execute(text("ALTER TABLE incident_refs DROP CONSTRAINT incident_refs_pkey"))
    yield
    if rebuild:
        conn.execute(text("ALTER TABLE incident_refs ADD CONSTRAINT incident_refs_pkey PRIMARY KEY (ref)"))


def _owns(conn: Connection, table: str) -> bool:
    """Whether the connected role may change ``table``'s structure (owns it, or is a member of its owner)."""
    return conn.execute(
        text("SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = CAST(:t AS regclass)"),
        {"t": table},
    ).scalar_one()


def _estimated_rows(conn: Connection, table: str) -> int:
    """The planner's row count of a table (kept by index builds, vacuum and analyze), 0 when never counted."""
    return conn.execute(
        text("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
    ).scalar_one()


#: The import's own routing table (see `store`), dropped before the end of the import.
_LOADING = "incidents_loading"


def _write_rows(conn: Connection, table: str, import_id: int, years: list[int] | None, refs: bool) -> None:
    """The new rows of `years` (None: all) into `table` in storage order (`seq`), and their refs into
    incident_refs when `refs` (a table without the triggers of `incidents`). Each row is read by the `seq` index,
    its staged row by its place: no join of a million rows, no sort of full rows.

    (Moving the rows out and back in by binary COPY, for COPY's block writes, took longer: 6.5 s out and 3.2 s
    in for a million rows, the client reading one message per row, against 7 s for this statement; measured.)
    """
    where = "" if years is None else f" AND p.period / 100 IN ({', '.join(str(int(y)) for y in years)})"
    record = ", refs AS (INSERT INTO incident_refs (ref) SELECT ref FROM written)" if refs else ""
    conn.execute(
        text(f"""
    WITH written AS (
        INSERT INTO {table} ({_STORED}, import_id)
        SELECT s.ref, s.occurred_at, s.kind, s.substance, s.quantity_g, s.arrested, s.source, p.code, p.assignment,
               s.legacy_code, s.candidates, p.period_code, p.geom, s.x_m, s.y_m, :import_id
        FROM incident_placed p CROSS JOIN LATERAL (SELECT * FROM incident_staging s WHERE s.ctid = p.tid OFFSET 0) s
        WHERE true{where} ORDER BY p.seq
        RETURNING ref
    ){record}
    SELECT count(*) FROM written"""),
        {"import_id": import_id},
    )


def drop_work_tables(conn: Connection) -> None:
    """Drop the import's temporary tables now, so that a second import in the same transaction can start."""
    conn.execute(text(f"DROP TABLE {', '.join(_WORK_TABLES)}"))


#: The temporary tables of an import, in the order they are made.
_WORK_TABLES = (
    "incident_staging",
    "incident_points",
    "incident_placed",
)


def history_exists(conn: Connection) -> bool:
    """Whether earlier (closed) unit versions are stored, so that old dates look one up."""
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM admin_units WHERE valid_to IS NOT NULL)")).scalar())

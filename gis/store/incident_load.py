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
from gis.store.communes import CANDIDATE_SHARE, CLOSED_UNIT_SHARES, SUCCESSOR_SHARE
from gis.store.data_versions import bump_data_version
from gis.store.incident_partitions import (
    CELL_LEVEL,
    CELL_SHIFT,
    PARENT,
    attach,
    bounds,
    cell_columns,
    cell_of,
    create_detached,
    partition_name,
    partitions,
    z_order_key,
)
from gis.store.periods import unit_at
from gis.store.scoping import PROVINCE_COMMUNES
from gis.store.sql import containing_unit, current_unit, local_date, nearest_params, nearest_unit
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
    while PostgreSQL takes this one. At most two encoded chunks wait, so memory stays bounded.

    It counts what it stages (`rows`, `without_point`) and keeps the commune-lookup cells the points fall in
    (`cells`, a few ten thousand at most in a province), so that no phase scans the staged rows to learn them."""

    def __init__(self, conn: Connection) -> None:
        columns = ", ".join(f"{f.name} {_SQL_TYPES.get(f.type, 'timestamptz')}" for f in STAGING)
        conn.execute(text(f"CREATE TEMP TABLE incident_staging ({columns}, {_PLACED}) ON COMMIT DROP"))
        self._cursor = driver_connection(conn).cursor()
        self._encoder = pgpq.ArrowToPostgresBinaryEncoder(STAGING)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, name="incident-copy", daemon=True)
        self.rows = 0
        self.without_point = 0
        self._cells: list[np.ndarray] = []

    def __enter__(self) -> StagingCopy:
        self._thread.start()
        self._queue.put(bytes(self._encoder.write_header()))
        return self

    def _write(self) -> None:
        names = ", ".join(STAGING.names)
        drained = False
        try:
            with self._cursor.copy(f"COPY incident_staging ({names}) FROM STDIN (FORMAT binary)") as copy:
                while (data := self._queue.get()) is not None:
                    copy.write(data)
                drained = True  # PostgreSQL may still refuse the data as the COPY ends, after the last chunk
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc
            while not drained and self._queue.get() is not None:  # keep draining, or the caller would wait forever
                pass

    def write(self, chunk: pa.Table) -> None:
        """Queue one chunk (waits while two are queued)."""
        if self._error is not None:
            raise self._error
        zkey = chunk.column("zkey")
        self.rows += chunk.num_rows
        self.without_point += zkey.null_count
        self._cells.append(np.unique(cell_of(zkey.drop_null().to_numpy())))
        if len(self._cells) >= 32:  # merged now and then: bounded by the number of distinct cells
            self._cells = [self.cells()]
        self._queue.put(b"".join(bytes(self._encoder.write_batch(b)) for b in chunk.to_batches()))

    def cells(self) -> np.ndarray:
        """The distinct cells of the staged points, sorted."""
        return np.unique(np.concatenate(self._cells)) if self._cells else np.zeros(0, np.int64)

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


# ------------------------------------------------------------------------------------------- duplicates, communes
# The commune of a point is found by a hash join on its lookup cell (the first bits of its Z-order key, see
# incident_partitions.CELL_LEVEL): a cell inside one commune part answers without a test; a cell on a border
# holds each part crossing it, clipped to the cell (7-14 vertices), and the point is tested against those only.
# The cells are built for the cells the file's points fall in, from the current parts, in the import's
# transaction (always the boundaries of the moment: nothing to keep in step with the boundary import). Cells
# kept once per boundary version would spare this build (1-3 s of an import at load 5-8) but cover every
# boundary loaded: 40,000-80,000 cells for Hải Phòng, some two million for the national file.
# Measured at 1M points, load 6.5 (seconds): cells 1.5 + join 2.3, against 11.4 + 23.9 for a GiST on the
# staged points joined from the parts (the previous method); same commune for each of the 1M points. Probing the
# parts point by point through their GiST, without a GiST on the points, is the slowest (200,000 points, load 7):
# 22 s with ST_Intersects on the 128-vertex parts, 31 s on 64- or 32-vertex pieces, 35 s with ST_Contains, 40 s
# with _ST_Covers — an index rescan per point, 80-120 µs, whatever the test.
#: The current units with the instant their period began (compared with times, not dates: a local date per
#: row cost 0.5 s per million).
_CURRENT = f"""(SELECT code, CAST(valid_from AS timestamp) AT TIME ZONE '{LOCAL_TZ_NAME}' AS since FROM admin_units
    WHERE {current_unit(None)})"""
#: A cell's width and height in degrees (powers of two of the globe's: exact in float8, as are its corners).
_CELL_W, _CELL_H = 360.0 / (1 << CELL_LEVEL), 180.0 / (1 << CELL_LEVEL)
#: A cell's box, a nanodegree wider on each side: a point on a cell's edge is in the box it is looked up in,
#: whichever way rounding put it.
_CELL_BOX = (
    f"ST_Expand(ST_MakeEnvelope(x.col * {_CELL_W!r}::float8 - 180, x.row * {_CELL_H!r}::float8 - 90,"
    f" (x.col + 1) * {_CELL_W!r}::float8 - 180, (x.row + 1) * {_CELL_H!r}::float8 - 90, 4326), 1e-9)"
)
#: The parts crossing each occupied cell; one row per cell and part; no geometry where one part covers the whole
#: cell. A part's cells are enumerated from its bounding box and matched with the occupied ones by a hash join
#: before any geometry is tested (as a LATERAL join the planner sorted the occupied cells once per part: 2.8 s
#: for the 12,000 cells of 100,000 points, against 1.1 s).
_CELLS = f"""
CREATE TEMP TABLE incident_cells ON COMMIT DROP AS
WITH occupied AS (SELECT * FROM unnest(CAST(:cell AS bigint[]), CAST(:col AS int[]), CAST(:row AS int[])) o(cell, col, row)),
candidates AS MATERIALIZED (
    SELECT a.id, x.col, y.row FROM admin_unit_parts a
    CROSS JOIN LATERAL generate_series(floor((ST_XMin(a.geom) + 180) / {_CELL_W!r}::float8)::int,
                                       floor((ST_XMax(a.geom) + 180) / {_CELL_W!r}::float8)::int) x(col)
    CROSS JOIN LATERAL generate_series(floor((ST_YMin(a.geom) + 90) / {_CELL_H!r}::float8)::int,
                                       floor((ST_YMax(a.geom) + 90) / {_CELL_H!r}::float8)::int) y(row)
),
needed AS MATERIALIZED (SELECT c.id, o.cell, c.col, c.row FROM candidates c JOIN occupied o USING (col, row)),
pairs AS MATERIALIZED (
    SELECT x.cell, a.code, c.since, a.geom, box.box
    FROM needed x JOIN admin_unit_parts a ON a.id = x.id JOIN {_CURRENT} c USING (code)
    CROSS JOIN LATERAL (SELECT {_CELL_BOX} AS box) box
    WHERE ST_Intersects(a.geom, box.box)
), crossing AS (SELECT cell, count(*) AS parts FROM pairs GROUP BY cell)
SELECT p.cell, p.code, p.since,
       CASE WHEN n.parts = 1 AND ST_Covers(p.geom, p.box) THEN NULL ELSE ST_ClipByBox2D(p.geom, p.box) END AS geom
FROM pairs p JOIN crossing n USING (cell)"""


def _placed(with_history: bool, stored_refs: bool) -> str:
    """The statement that makes `incident_placed`: the rows to store, each with its commune and how it was found,
    its unit at its date (gis.store.periods) and its place in storage order (`seq`: month, then Z-order).
    `stored_refs`: whether any ref is stored (else no row is looked up: 1 s of a million rows, measured)."""
    stored = "NOT EXISTS (SELECT 1 FROM incident_refs r WHERE r.ref = s.ref)" if stored_refs else "true"
    earlier = unit_at("p.geom", "p.occurred_at") if with_history else "NULL"
    return f"""
CREATE TEMP TABLE incident_placed ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY p.period, p.zkey, p.line) AS seq, p.tid, p.line, p.period, p.occurred_at, p.geom,
       coalesce(p.unit_code, p.cell_code) AS code,
       CASE WHEN p.geom IS NULL THEN p.assignment
            WHEN p.cell_code IS NOT NULL THEN '{Assignment.INSIDE}' ELSE '{Assignment.OUTSIDE}' END AS assignment,
       CASE WHEN p.geom IS NULL THEN
                CASE WHEN p.legacy_code IS NOT NULL THEN p.legacy_code
                     WHEN p.occurred_at >= :reform_at THEN p.unit_code END
            WHEN p.occurred_at >= p.since THEN p.cell_code
            ELSE {earlier} END AS period_code
FROM (
    -- The first row of each ref in the file (the smallest commune code when a point lies on a border), unless
    -- the ref is stored already. ST_MakePoint is strict: a row without coordinates gets no point.
    SELECT DISTINCT ON (s.ref) s.ctid AS tid, s.line, s.period, s.zkey, s.occurred_at, s.unit_code, s.assignment,
           s.legacy_code, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom, c.code AS cell_code, c.since
    FROM incident_staging s
    LEFT JOIN incident_cells c ON c.cell = s.zkey >> {CELL_SHIFT}
         AND (c.geom IS NULL OR ST_Intersects(c.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)))
    WHERE {stored}
    ORDER BY s.ref, s.line, c.code
) p"""


def place(conn: Connection, cells: np.ndarray, nearest_m: float, reform: date, with_history: bool) -> None:
    """The rows to store (`incident_placed`, indexed by `seq`): the first row of each ref in the file, unless that
    ref is stored already, each with where its staged row lies (`tid`), its point, and its commune: the one whose
    part contains the point (the smallest code on a border), else the nearest one within `nearest_m`, else none
    (outside). A row without a point keeps what its code or address named (`place_units`); one that named no
    unit has no assignment (`unit_rejects` takes it out). `cells`: the lookup cells of the staged points.

    One pass does the duplicates and the commune join; only narrow rows are sorted, never the staged ones (sorting
    a million full rows cost 6.5 s). Written in storage order, the rows are read back in it by `store`.

    Holds `incident_refs` against other writers until the commit, so that two imports of the same refs run
    one after the other and the second counts them as duplicates.
    """
    conn.execute(text("LOCK TABLE incident_refs IN SHARE ROW EXCLUSIVE MODE"))
    col, row = cell_columns(cells)
    conn.execute(text(_CELLS), {"cell": cells.tolist(), "col": col.tolist(), "row": row.tolist()})
    conn.execute(text("ANALYZE incident_cells"))
    reform_at = datetime.combine(reform, time(), ZoneInfo(LOCAL_TZ_NAME))
    stored_refs = conn.execute(text("SELECT EXISTS (SELECT 1 FROM incident_refs)")).scalar_one()
    conn.execute(text(_placed(with_history, stored_refs)), {"reform_at": reform_at})
    conn.execute(text("CREATE UNIQUE INDEX ON incident_placed (seq)"))
    # A point in no commune: the nearest one within :metres, if any; else it stays outside.
    earlier = unit_at("p.geom", "p.occurred_at") if with_history else "NULL"
    conn.execute(
        text(f"""
        UPDATE incident_placed p SET code = n.code, assignment = '{Assignment.NEAREST}',
               period_code = CASE WHEN p.occurred_at >= cur.since THEN cur.code ELSE {earlier} END
        FROM (SELECT o.seq, {nearest_unit("o.geom")} AS code FROM incident_placed o
              WHERE o.assignment = '{Assignment.OUTSIDE}') n
        JOIN {_CURRENT} cur ON cur.code = n.code
        WHERE p.seq = n.seq"""),
        nearest_params(nearest_m),
    )
    # Temporary tables get no statistics from autovacuum: without them the planner expects a few hundred rows
    # and joins a million by sorts and nested loops (4x slower, measured).
    conn.execute(text("ANALYZE incident_placed"))


def replace_incidents(conn: Connection, codes: list[str], nearest_m: float) -> int:
    """Give the stored incidents with a point the commune the current boundaries give them, after the units
    ``codes`` were inserted or changed (a boundary import); the number of incidents whose commune, assignment or
    unit at their date changed.

    Placed as an import places them (`place`): the unit containing the point, else the nearest within
    `nearest_m`, else outside; their unit at their date is the current one from its start, else the earlier
    version containing them (gis.store.periods) — an incident dated before a boundary's new version keeps the unit
    it lay in then. Only incidents that may have moved are looked at, through the indexes: those in one of
    ``codes`` and those the new parts of ``codes`` contain or (assigned nearest or outside) come near. Incidents
    without a point keep the unit their record names. One statement, in the caller's transaction.
    """
    return conn.execute(
        text(f"""
        UPDATE incidents i SET commune_code = n.code, assignment = n.assignment, period_code = n.period_code
        FROM (
            SELECT c.id, c.occurred_at, found.code,
                   CASE WHEN inside.code IS NOT NULL THEN '{Assignment.INSIDE}'
                        WHEN found.code IS NOT NULL THEN '{Assignment.NEAREST}' ELSE '{Assignment.OUTSIDE}' END
                       AS assignment,
                   CASE WHEN c.occurred_at >= cur.since THEN found.code ELSE {unit_at("c.geom", "c.occurred_at")} END
                       AS period_code
            FROM (SELECT x.id, x.occurred_at, x.geom FROM incidents x JOIN (
                      SELECT id, occurred_at FROM incidents WHERE geom IS NOT NULL AND commune_code = ANY(:codes)
                      UNION
                      SELECT y.id, y.occurred_at FROM admin_unit_parts p
                      JOIN incidents y ON y.geom && ST_Expand(p.geom, :deg)
                      WHERE p.code = ANY(:codes) AND (ST_Intersects(p.geom, y.geom)
                            OR (y.assignment <> '{Assignment.INSIDE}'
                                AND ST_DWithin(p.geom::geography, y.geom::geography, :metres)))
                  ) k USING (id, occurred_at)) c
            CROSS JOIN LATERAL (SELECT {containing_unit("c.geom")} AS code) inside
            CROSS JOIN LATERAL (SELECT coalesce(inside.code, {nearest_unit("c.geom")}) AS code) found
            LEFT JOIN {_CURRENT} cur ON cur.code = found.code
        ) n
        WHERE i.id = n.id AND i.occurred_at = n.occurred_at
          AND (i.commune_code, i.assignment, i.period_code) IS DISTINCT FROM (n.code, n.assignment, n.period_code)"""),
        {"codes": list(codes), **nearest_params(nearest_m)},
    ).rowcount


def follow_closed_units(conn: Connection, codes: list[str]) -> tuple[int, int]:
    """Give the incidents without a point whose commune is one of ``codes`` closed (no current version: merged away,
    split, re-coded by a boundary import) the unit that took its ground: (moved, kept ambiguous).

    Such an incident was placed by its record (a code, an address) and has no point to place again: it kept the
    closed code, and no current commune counted it — the classification on today's units, the maps' counts, the
    registers' commune filters — without a word. Now the current unit holding (almost, `SUCCESSOR_SHARE`) the whole
    of the closed unit's last boundary is its commune; a closed unit split across several current ones names none
    of them: the incident is kept in no commune with those as candidates (``ambiguous``, as an old commune split in
    2025 is), for `classify run` to list. Its unit at its date (`period_code`) stays the closed unit. A closed unit
    no current one covers (its ground dropped from the map) leaves its incidents as they were. One statement."""
    rows = (
        conn.execute(
            text(f"""
        WITH {CLOSED_UNIT_SHARES}
        UPDATE incidents i
        SET commune_code = CASE WHEN t.best >= :successor THEN t.top END,
            assignment = CASE WHEN t.best >= :successor THEN i.assignment ELSE '{Assignment.AMBIGUOUS}' END,
            candidate_codes = CASE WHEN t.best >= :successor THEN NULL ELSE t.candidates END,
            period_code = coalesce(i.period_code, i.commune_code)
        FROM taken t
        WHERE i.geom IS NULL AND i.commune_code = t.old AND t.candidates IS NOT NULL
        RETURNING t.best >= :successor"""),
            {"codes": list(codes), "successor": SUCCESSOR_SHARE, "candidate": CANDIDATE_SHARE},
        )
        .scalars()
        .all()
    )
    moved = sum(1 for successor in rows if successor)
    return moved, len(rows) - moved


#: Report rows read per batch from PostgreSQL: a file whose every point lies outside is reported in bounded memory.
REPORT_BATCH_ROWS = 50_000


def _batches(
    conn: Connection, sql: str, columns: list[str], params: dict[str, str] | None = None
) -> Iterator[pd.DataFrame]:
    """A query's rows in DataFrames of `REPORT_BATCH_ROWS`, through a server-side cursor."""
    result = conn.execute(
        text(sql).execution_options(stream_results=True, max_row_buffer=REPORT_BATCH_ROWS), params or {}
    )
    for rows in result.partitions(REPORT_BATCH_ROWS):
        yield pd.DataFrame(rows, columns=columns).astype({"line": "int64"})


def duplicates(conn: Connection, staged: int) -> Iterator[pd.DataFrame]:
    """Staged rows `place` left out as duplicates, in line order and in batches: line, ref, and `kept`, the line of
    the row of that ref this file stores (NULL when the ref is stored already: then each of its rows is left out).

    Called right after `place`, before any row is dropped from `incident_placed`: every staged row (`staged`) is then
    either placed (`seq` numbers them 1…n) or a duplicate, so that a file without any costs one probe of the `seq`
    index. Otherwise the rows with no placed row are kept apart and analysed (as one CTE, estimated at one row, they
    were joined by nested loops: minutes for 100,000), then the staged rows of their refs are scanned once.
    Measured as the owner on a shared 2-core machine, a generated file (bench/common.incident_csv) of 900,000 rows
    plus 100,000 repeating earlier refs: at load 3.3, `place` 4.8 s, this 5.5 s with its 100,000 report rows read
    (0.95 s of it the listing query, by EXPLAIN ANALYZE, which ran it once more), the whole import 31.7 s; at load
    4.2–7.0, `place` 12.4–21.7 s, this 7.5–8.7 s (2.8–3.2 s of it the table of skipped rows), the import 58–66 s.
    Which earlier import stored a ref is not said: `incident_refs` holds only the refs and `incidents` has no index
    on `ref` (a scan of every year per import).
    """
    placed = conn.execute(text("SELECT coalesce(max(seq), 0) FROM incident_placed")).scalar_one()
    if placed == staged:
        return iter(())
    conn.execute(
        text("""CREATE TEMP TABLE incident_skipped ON COMMIT DROP AS
        SELECT s.ctid AS tid, s.line, s.ref FROM incident_staging s
        WHERE NOT EXISTS (SELECT FROM incident_placed p WHERE p.tid = s.ctid);
        ANALYZE incident_skipped""")
    )
    return _batches(
        conn,
        """SELECT k.line, k.ref, f.line FROM incident_skipped k LEFT JOIN (
            SELECT s.ref, s.line FROM incident_staging s JOIN (SELECT DISTINCT ref FROM incident_skipped) d USING (ref)
            WHERE NOT EXISTS (SELECT FROM incident_skipped x WHERE x.tid = s.ctid)
        ) f USING (ref) ORDER BY k.line""",
        ["line", "ref", "kept"],
    )


def unit_rejects(conn: Connection) -> Iterator[pd.DataFrame]:
    """New rows without a point whose code or address names no loaded unit: line, ref, field, reason, in batches.
    `drop_unplaced` then takes them out."""
    return _batches(
        conn,
        """SELECT s.line, s.ref, s.unit_field, s.unit_reason FROM incident_placed p
        JOIN incident_staging s ON s.ctid = p.tid WHERE p.geom IS NULL AND p.assignment IS NULL ORDER BY s.line""",
        ["line", "ref", "field", "reason"],
    )


def drop_unplaced(conn: Connection) -> None:
    """Leave the rows no unit was found for out of the import."""
    conn.execute(text("DELETE FROM incident_placed WHERE geom IS NULL AND assignment IS NULL"))


#: A placed row that is not a province's (`:province`): its commune lies elsewhere, or (kept without a commune: an
#: old unit split) one of its candidates does. Points outside every commune are left to the outside policy.
_BEYOND_PROVINCE = f"""p.assignment <> '{Assignment.OUTSIDE}' AND NOT coalesce(CASE
    WHEN p.code IS NOT NULL THEN p.code IN ({PROVINCE_COMMUNES})
    ELSE s.candidates <@ CAST(ARRAY({PROVINCE_COMMUNES}) AS text[]) END, false)"""


def beyond_province(conn: Connection, province: str, reason: str) -> Iterator[pd.DataFrame]:
    """New rows placed outside province `province`'s communes (line, ref, field, `reason`), in batches;
    `drop_beyond_province` then takes them out."""
    return _batches(
        conn,
        f"""SELECT p.line, s.ref, CASE WHEN p.geom IS NULL THEN s.unit_field ELSE 'lon/lat' END, CAST(:reason AS text)
        FROM incident_placed p JOIN incident_staging s ON s.ctid = p.tid WHERE {_BEYOND_PROVINCE} ORDER BY p.line""",
        ["line", "ref", "field", "reason"],
        {"scope_province": province, "reason": reason},
    )


def drop_beyond_province(conn: Connection, province: str) -> None:
    """Leave the rows placed outside province `province` out of the import."""
    conn.execute(
        text(f"""DELETE FROM incident_placed p USING incident_staging s
        WHERE s.ctid = p.tid AND {_BEYOND_PROVINCE}"""),
        {"scope_province": province},
    )


def outside(conn: Connection) -> Iterator[pd.DataFrame]:
    """New points outside every commune and beyond the nearest-commune distance: line, ref, metres to the nearest,
    in batches.

    The nearest part is found and measured in the metric CRS, from the point's stored metric coordinates: a nearest
    neighbour in degrees picked a part up to 6 % farther than the nearest one (a degree of longitude is 7 % shorter
    than one of latitude here), and finding and measuring it on the spheroid took 64 µs a point. Against the true
    geodesic minimum, over 20,000 points around the city: within 0.6 %, in 0.41 s against 0.97 s (measured); far
    east of the zone, the metric CRS's own scale error (`METRIC_DOMAIN`: 2.5 % at Trường Sa) is the bound."""
    if not conn.execute(
        text(f"SELECT EXISTS (SELECT FROM incident_placed WHERE assignment = '{Assignment.OUTSIDE}')")
    ).scalar():
        return iter(())
    conn.execute(
        text(f"""CREATE TEMP TABLE incident_parts_m ON COMMIT DROP AS
        SELECT ST_Transform(geom, {METRIC_SRID}) AS geom FROM admin_unit_parts;
        CREATE INDEX ON incident_parts_m USING gist (geom); ANALYZE incident_parts_m""")
    )
    return _batches(
        conn,
        f"""SELECT p.line, s.ref, (SELECT ST_Distance(a.geom, m.point) FROM incident_parts_m a
                                   ORDER BY a.geom <-> m.point LIMIT 1) AS metres
        FROM incident_placed p JOIN incident_staging s ON s.ctid = p.tid
        CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(s.x_m, s.y_m), {METRIC_SRID}) AS point) m
        WHERE p.assignment = '{Assignment.OUTSIDE}' ORDER BY p.line""",
        ["line", "ref", "metres"],
    )


def drop_outside(conn: Connection) -> None:
    """Leave the points outside every commune out of the import (`--outside reject`)."""
    conn.execute(text(f"DELETE FROM incident_placed WHERE assignment = '{Assignment.OUTSIDE}'"))


def ambiguous(conn: Connection) -> Iterator[pd.DataFrame]:
    """New rows kept without a commune because their old unit was split: line, ref, field, note, in batches."""
    return _batches(
        conn,
        f"""SELECT s.line, s.ref, s.unit_field, s.unit_reason FROM incident_placed p
        JOIN incident_staging s ON s.ctid = p.tid WHERE s.assignment = '{Assignment.AMBIGUOUS}' ORDER BY s.line""",
        ["line", "ref", "field", "reason"],
    )


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
    in for a million rows, the client reading one message per row, against 7 s for this statement; measured.
    A CREATE TABLE AS per year, whose SELECT may use parallel workers as this INSERT's may not, took 2.6-2.9
    server CPU-seconds without workers and 3.1-3.7 with 2, against 3.7-3.9 for this statement (1M rows, load
    4.5-5.5; ids from `seq`, no RETURNING, constraints added after): what it saves is the routing and the
    RETURNING, not the workers, which ids by nextval (parallel-unsafe) would forbid anyway.)
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
    conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(_WORK_TABLES)}"))


# Temporary tables, although parallel workers cannot read them (every phase after the staging COPY runs on one
# core). Measured with the work tables UNLOGGED instead (issue 16; 1M rows, 2 cores shared with other work):
# the placement then runs with 2 workers (a Gather Merge under the DISTINCT ON; 4.5 s -> 3.4 s at load 2), yet
# the whole import, alternated with temporary tables, was no faster — best of 3: 20.2 s unlogged vs 15.0 s
# temporary at load 3.2-3.5, server CPU 14.9-16.1 s vs 12.5-14.7 s: the workers found no idle core. Nor may the
# application's role create them (no CREATE on schema public). The btree builds of years loaded apart are
# parallel already (ordinary tables); GiST builds cannot be (PostgreSQL 15).
#: The temporary tables of an import, in the order they are made.
_WORK_TABLES = (
    "incident_staging",
    "incident_cells",
    "incident_placed",
    "incident_parts_m",  # only when a point lies outside
    "incident_skipped",  # only when a row is a duplicate
)


def history_exists(conn: Connection) -> bool:
    """Whether earlier (closed) unit versions are stored, so that old dates look one up."""
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM admin_units WHERE valid_to IS NOT NULL)")).scalar())

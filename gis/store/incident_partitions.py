"""The yearly partitions of `incidents` (migration 0006) and the storage order inside them.

A partition holds one Hải Phòng calendar year. A year that has no partition yet, or that receives many rows for
its size, is built apart — rows inserted in storage order into a plain table, indexes built once afterwards,
statistics gathered — and then attached: index maintenance is paid per row arriving only where a year is
already large (a daily file), and then only on that year's indexes. All of it runs in the caller's transaction.

Storage order inside a partition: month by month, and inside a month along a Z-order (Morton) curve over the
whole globe, the order of geohashes (`z_order_key`). Daily imports append in the same order (the newest month
last), so that a map window over a period reads a few pages whether a year was loaded at once or day by day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, text

from models.vocabulary import LOCAL_TZ_NAME

PARENT = "incidents"
DEFAULT_PARTITION = "incidents_default"
_NAME = re.compile(r"^incidents_y(\d{4})$")
#: Bits per axis of the Z-order key: 31 + 31 fit a positive bigint; a cell is 2 cm of longitude.
Z_BITS = 31


def partition_name(year: int) -> str:
    """The partition of a local calendar year: ``incidents_y2024``."""
    return f"incidents_y{year:04d}"


def year_start(year: int) -> datetime:
    """The instant a Hải Phòng calendar year begins (the partition's lower bound)."""
    return datetime(year, 1, 1, tzinfo=ZoneInfo(LOCAL_TZ_NAME))


def _bound(year: int) -> str:
    """A year's start as a SQL literal (DDL takes no parameters; the value is ours, never a user's)."""
    return f"'{year_start(year).isoformat()}'::timestamptz"


def bounds(year: int) -> str:
    """The partition bounds of a year, as ATTACH PARTITION takes them."""
    return f"FOR VALUES FROM ({_bound(year)}) TO ({_bound(year + 1)})"


def _grid_cells(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The column and row of each point's cell on the fixed 2^Z_BITS x 2^Z_BITS grid over the globe."""
    scale = float(1 << Z_BITS)
    return tuple(  # type: ignore[return-value]
        np.clip((np.asarray(value, np.float64) - low) / span * scale, 0, scale - 1).astype(np.uint64)
        for value, low, span in ((lon, -180.0, 360.0), (lat, -90.0, 180.0))
    )


def z_order_key(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """A Z-order (Morton) key of each point on a fixed grid over the globe, bits interleaved longitude first.

    The order of the keys is the order of geohashes (same grid, same interleaving), which the migration uses in
    SQL. A fixed grid rather than the file's extent: keys of every file, chunk and day compare with each other.
    """
    cells = _grid_cells(lon, lat)
    key = np.zeros(len(cells[0]), np.uint64)
    for bit in range(Z_BITS - 1, -1, -1):  # most significant first: longitude bit, then latitude bit
        b = np.uint64(bit)
        key = (
            (key << np.uint64(2))
            | (((cells[0] >> b) & np.uint64(1)) << np.uint64(1))
            | ((cells[1] >> b) & np.uint64(1))
        )
    return key.astype(np.int64)


#: Level of the commune-lookup cells (`cell_of`): 2^16 columns and rows over the globe, 0.0055° x 0.0027°
#: (570 m x 300 m in Hải Phòng). Measured at 1M points (load 6.5, seconds): level 15 builds its cells in 0.5 s and
#: joins in 7.1 (more points in border cells), 16 in 1.5 + 2.3, 17 in 4.9 + 3.9.
CELL_LEVEL = 16
#: Shift from a Z-order key to its cell's key: the cell is the key's first 2 x CELL_LEVEL bits.
CELL_SHIFT = 2 * (Z_BITS - CELL_LEVEL)


def cell_of(zkey: np.ndarray) -> np.ndarray:
    """The commune-lookup cell of each Z-order key (the same key in SQL: ``zkey >> CELL_SHIFT``)."""
    return np.asarray(zkey, np.int64) >> CELL_SHIFT


def cell_columns(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column and row (0 .. 2^CELL_LEVEL - 1, from longitude -180 and latitude -90) of each cell key: its bits
    de-interleaved."""
    cell = np.asarray(cell, np.int64)
    col, row = np.zeros(len(cell), np.int64), np.zeros(len(cell), np.int64)
    for bit in range(CELL_LEVEL):
        col |= ((cell >> (2 * bit + 1)) & 1) << bit
        row |= ((cell >> (2 * bit)) & 1) << bit
    return col, row


@dataclass(frozen=True)
class Partition:
    """A year's partition and its size (planner's estimate; exact counts would scan it)."""

    year: int
    rows: int


def partitions(conn: Connection) -> dict[int, Partition]:
    """The yearly partitions that exist, by year."""
    rows = conn.execute(
        text(
            "SELECT c.relname, greatest(c.reltuples, 0)::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": PARENT},
    ).all()
    found = {}
    for name, estimate in rows:
        if match := _NAME.match(name):
            year = int(match.group(1))
            found[year] = Partition(year, int(estimate))
    return found


def _index_statements(conn: Connection, table: str) -> list[str]:
    """The parent's indexes and key as statements for the plain table `table`, so that ATTACH adopts them."""
    rows = conn.execute(
        text("""
        SELECT pg_get_indexdef(x.indexrelid), c.contype, pg_get_constraintdef(c.oid)
        FROM pg_index x LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
        WHERE x.indrelid = CAST(:parent AS regclass) ORDER BY x.indexrelid"""),
        {"parent": PARENT},
    ).all()
    statements = []
    for definition, contype, constraint in rows:
        if contype in ("p", "u"):
            statements.append(f"ALTER TABLE {table} ADD {constraint}")
        else:
            access = re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ", "", definition)
            statements.append(
                f"CREATE {'UNIQUE ' if definition.startswith('CREATE UNIQUE') else ''}INDEX ON {table} {access}"
            )
    return statements


def create_detached(conn: Connection, year: int) -> str:
    """A plain table shaped like the partition of `year` (defaults, NOT NULL and CHECK constraints, and a CHECK of
    the year's bounds so that ATTACH need not scan it), without indexes; its name."""
    table = f"{partition_name(year)}_load"
    conn.execute(text(f"CREATE TABLE {table} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    lo, hi = _bound(year), _bound(year + 1)
    conn.execute(
        text(f"ALTER TABLE {table} ADD CONSTRAINT {table}_bounds CHECK (occurred_at >= {lo} AND occurred_at < {hi})")
    )
    # Rows of this year written by others before it had a partition move in with the load.
    conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE occurred_at >= :lo AND occurred_at < :hi RETURNING *)"
            f" INSERT INTO {table} SELECT * FROM moved"  # the default partition and `table` are both shaped like the parent
        ),
        {"lo": year_start(year), "hi": year_start(year + 1)},
    )
    return table


def attach(conn: Connection, table: str, year: int, replaces: bool) -> None:
    """Index the loaded table, gather its statistics and attach it as the partition of `year`.

    Statistics now rather than from autovacuum: until it comes, the planner knows the table's size (an index
    build records it) but nothing of its columns, and plans the first queries of the new rows on guesses.
    ANALYZE reads a sample of 30,000 rows whatever the table's size: 0.5-0.75 s a partition of 250,000-360,000 rows
    at load 4.5, half of it for the points' histogram (measured; 2.5 s of a million-row import in four years).

    `replaces`: the year's partition exists (its rows were copied into `table`) and is dropped first. The
    exclusive lock that takes on `incidents` is held only from here to the commit.
    """
    for statement in _index_statements(conn, table):
        conn.execute(text(statement))
    name = partition_name(year)
    if replaces:
        conn.execute(text(f"DROP TABLE {name}"))
    conn.execute(text(f"ALTER TABLE {table} RENAME TO {name}"))
    for (index,) in conn.execute(
        text("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = CAST(:t AS regclass)"), {"t": name}
    ).all():
        if index.startswith(f"{table}_"):  # named after the table at their build: after the year's name now
            conn.execute(text(f"ALTER INDEX {index} RENAME TO {name}_{index.removeprefix(table + '_')}"))
    conn.execute(text(f"ANALYZE {name}"))
    conn.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} {bounds(year)}"))
    conn.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {table}_bounds"))
    _grant_as_parent(conn, name)


def _grant_as_parent(conn: Connection, table: str) -> None:
    """Give every other role the privileges it holds on the parent, as a migration would have
    (gis.store.privileges): a year made by an import would otherwise differ from one made by a migration."""
    quote = conn.dialect.identifier_preparer.quote
    for grantee, privileges in conn.execute(
        text("""SELECT grantee, string_agg(privilege_type, ', ') FROM information_schema.role_table_grants
                WHERE table_schema = 'public' AND table_name = :t AND grantee <> current_user GROUP BY grantee"""),
        {"t": PARENT},
    ).all():
        conn.execute(text(f"GRANT {privileges} ON {table} TO {quote(grantee)}"))

"""Bulk transfer through the driver: the psycopg connection under a SQLAlchemy one, and a binary COPY of an Arrow
table (encoded by pgpq) into a table of the caller's transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pgpq
import psycopg
from sqlalchemy import Connection

from models.lazy import lazy_module

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy_module("pyarrow")


def driver_connection(conn: Connection) -> psycopg.Connection:
    """The psycopg connection under a SQLAlchemy one (for COPY and binary cursors)."""
    raw = conn.connection.driver_connection
    assert raw is not None, "a live connection"
    return raw


def copy_arrow(conn: Connection, table: str, rows: pa.Table) -> None:
    """Append ``rows`` to ``table`` (columns by name) in one binary COPY: no per-row parameters or SQL."""
    encoder = pgpq.ArrowToPostgresBinaryEncoder(rows.schema)
    parts = [encoder.write_header(), *(encoder.write_batch(b) for b in rows.to_batches()), encoder.finish()]
    names = ", ".join(rows.schema.names)
    with driver_connection(conn).cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT binary)") as cp:
        for part in parts:
            cp.write(bytes(part))

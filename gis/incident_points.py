"""Incidents as metric arrays (EPSG:32648, the stored x_m / y_m) for the analytics in models/, read as binary arrays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from models.incident_kinds import KINDS


@dataclass(frozen=True)
class IncidentSelection:
    """Which incidents an analysis uses: time window, kinds, optional lon/lat box, optional communes."""

    start: datetime | None = None
    end: datetime | None = None
    kinds: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    communes: tuple[str, ...] | None = None

    def sql(self) -> str:
        """WHERE clause with literal values quoted by PostgreSQL-safe formatting (validated values only)."""
        clauses = ["true"]
        if self.start is not None:
            clauses.append(f"occurred_at >= {_literal(self.start.isoformat())}::timestamptz")
        if self.end is not None:
            clauses.append(f"occurred_at < {_literal(self.end.isoformat())}::timestamptz")
        if self.kinds:
            clauses.append(f"kind IN ({', '.join(_literal(k) for k in self.kinds)})")
        if self.bbox is not None:
            x0, y0, x1, y1 = (float(v) for v in self.bbox)
            clauses.append(f"geom && ST_MakeEnvelope({x0!r}, {y0!r}, {x1!r}, {y1!r}, 4326)")
        if self.communes is not None:
            codes = ", ".join(_literal(c) for c in self.communes) or "NULL"
            clauses.append(f"commune_code IN ({codes})")
        return " AND ".join(clauses)


def _literal(value: str) -> str:
    """A SQL string literal (single quotes doubled); only used for values already validated."""
    return "'" + str(value).replace("'", "''") + "'"


#: The columns an analysis reads, each aggregated into one array in PostgreSQL's binary send format.
_ARRAYS = (("id", ">i8"), ("x_m", ">f8"), ("y_m", ">f8"), ("occurred_at", ">i8"))
#: timestamptz travels as microseconds since 2000-01-01 UTC.
_PG_EPOCH_US = 946_684_800_000_000


def _elements(blob: bytes | None, dtype: str) -> np.ndarray:
    """The elements of a one-dimensional array without NULLs sent by ``array_send`` (header, then length + value)."""
    if blob is None:  # array_agg of no rows
        return np.empty(0, dtype)
    ndim = int.from_bytes(blob[:4], "big")
    return np.frombuffer(blob, np.dtype([("length", ">i4"), ("value", dtype)]), offset=12 + 8 * ndim)["value"]


def incident_frame(conn: Connection, selection: IncidentSelection) -> pd.DataFrame:
    """Columns id, x, y (metres), occurred_at (UTC), kind for the selected incidents.

    One row of one binary array per column, decoded by numpy without a Python step per incident: the
    data path of every heat map and detection run, so it must cost no more than reading the data.
    """
    kinds = "ARRAY[" + ", ".join(_literal(k) for k in KINDS) + "]::text[]"
    columns = [f"array_send(array_agg({name}))" for name, _ in _ARRAYS]
    columns.append(f"array_send(array_agg((array_position({kinds}, kind::text) - 1)::int2))")
    with conn.connection.driver_connection.cursor(binary=True) as cur:
        cur.execute(f"SELECT {', '.join(columns)} FROM incidents WHERE {selection.sql()}")
        blobs = cur.fetchone()
    ids, x, y, micros = (_elements(blob, dtype) for blob, (_, dtype) in zip(blobs, _ARRAYS))
    kind = _elements(blobs[-1], ">i2")
    order = np.argsort(ids, kind="stable")  # a stable order keeps clustering results reproducible
    return pd.DataFrame({
        "id": ids[order].astype(np.int64),
        "x": x[order].astype(np.float64),
        "y": y[order].astype(np.float64),
        "kind": pd.Categorical.from_codes(kind[order].astype(np.int64), categories=list(KINDS)),
        "occurred_at": pd.to_datetime(micros[order].astype(np.int64) + _PG_EPOCH_US, unit="us", utc=True),
    })


def latest_incident_time(conn: Connection) -> datetime | None:
    """Time of the latest incident, the default end of analysis windows."""
    return conn.exec_driver_sql("SELECT max(occurred_at) FROM incidents").scalar()


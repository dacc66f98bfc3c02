"""Incidents as metric arrays (EPSG:32648) for the analytics in models/, streamed out with COPY."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from gis.tables import METRIC_SRID
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
        """WHERE clause with literal values quoted by PostgreSQL-safe formatting (COPY takes no parameters)."""
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


#: One binary COPY row: field count, then (length, value) for id, x, y, epoch seconds, kind index.
_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("id", ">i8"), ("l2", ">i4"), ("x", ">f8"), ("l3", ">i4"),
                 ("y", ">f8"), ("l4", ">i4"), ("t", ">f8"), ("l5", ">i4"), ("kind", ">i2")])
_HEADER, _TRAILER = 19, 2


def incident_frame(conn: Connection, selection: IncidentSelection) -> pd.DataFrame:
    """Columns id, x, y (metres), occurred_at (UTC), kind for the selected incidents.

    Streamed with a binary COPY of fixed-width fields and decoded by numpy in one step: the data
    path of every heat map and detection run, so it must cost no more than loading the data.
    """
    kinds = "ARRAY[" + ", ".join(_literal(k) for k in KINDS) + "]::text[]"
    query = (f"COPY (SELECT id, ST_X(p), ST_Y(p), extract(epoch FROM occurred_at)::float8,"
             f" (array_position({kinds}, kind::text) - 1)::int2"
             f" FROM (SELECT id, ST_Transform(geom, {METRIC_SRID}) AS p, occurred_at, kind FROM incidents"
             f" WHERE {selection.sql()}) s) TO STDOUT (FORMAT binary)")
    buffer = bytearray()
    with conn.connection.driver_connection.cursor() as cur, cur.copy(query) as copy:
        for block in copy:
            buffer += block
    rows = np.frombuffer(memoryview(buffer)[_HEADER:len(buffer) - _TRAILER], dtype=_ROW)
    order = np.argsort(rows["id"], kind="stable")  # a stable order keeps clustering results reproducible
    rows = rows[order]
    return pd.DataFrame({
        "id": rows["id"].astype(np.int64),
        "x": rows["x"].astype(np.float64),
        "y": rows["y"].astype(np.float64),
        "kind": np.asarray(KINDS, dtype=object)[rows["kind"].astype(np.int64)],
        "occurred_at": pd.to_datetime((rows["t"] * 1e6).astype(np.int64), unit="us", utc=True),
    })


def latest_incident_time(conn: Connection) -> datetime | None:
    """Time of the latest incident, the default end of analysis windows."""
    return conn.exec_driver_sql("SELECT max(occurred_at) FROM incidents").scalar()


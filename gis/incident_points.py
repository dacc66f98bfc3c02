"""Incidents as metric arrays (EPSG:32648) for the analytics in models/, streamed out with COPY."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection

from gis.tables import METRIC_SRID


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


def incident_frame(conn: Connection, selection: IncidentSelection) -> pd.DataFrame:
    """Columns id, x, y (metres), occurred_at (UTC), kind for the selected incidents, via COPY."""
    query = (f"COPY (SELECT id, ST_X(p) AS x, ST_Y(p) AS y, extract(epoch FROM occurred_at) AS t, kind"
             f" FROM (SELECT id, ST_Transform(geom, {METRIC_SRID}) AS p, occurred_at, kind FROM incidents"
             f" WHERE {selection.sql()}) s ORDER BY id) TO STDOUT (FORMAT csv, HEADER true)")
    buffer = io.BytesIO()
    with conn.connection.driver_connection.cursor() as cur, cur.copy(query) as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    types = {"id": pa.int64(), "x": pa.float64(), "y": pa.float64(), "t": pa.float64(), "kind": pa.string()}
    table = pa_csv.read_csv(buffer, convert_options=pa_csv.ConvertOptions(column_types=types))
    frame = table.to_pandas()
    frame["occurred_at"] = pd.to_datetime(frame.pop("t").to_numpy() * 1e9, utc=True) if len(frame) else \
        pd.Series([], dtype="datetime64[ns, UTC]")
    return frame


def latest_incident_time(conn: Connection) -> datetime | None:
    """Time of the latest incident, the default end of analysis windows."""
    return conn.exec_driver_sql("SELECT max(occurred_at) FROM incidents").scalar()


"""Incidents read back: GeoJSON pages for the list, and metric arrays (the stored x_m / y_m, EPSG:32648) for the
analytics in models/, read as binary arrays."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, text

from gis.store.bulk import driver_connection
from gis.store.scoping import UNRESTRICTED, AreaScope
from gis.store.selection import IncidentSelection, Where, pyformat
from gis.store.sql import current_unit, local_year
from models.lazy import lazy_module
from models.synthetic.scenario import SOURCE
from models.vocabulary import WGS84_SRID, Assignment, IncidentKind

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: The columns an analysis reads, each aggregated into one array in PostgreSQL's binary send format.
_ARRAYS = (("id", ">i8"), ("x_m", ">f8"), ("y_m", ">f8"), ("occurred_at", ">i8"))
#: timestamptz travels as microseconds since 2000-01-01 UTC.
_PG_EPOCH_US = 946_684_800_000_000


#: A binary read sends one row per 2**CHUNK_BITS incident ids, not one row in all: libpq keeps its read buffer at the
#: size of the largest message it received, for the life of the pooled connection. One row per heat map (~0.8 MB
#: per column of 40,000 points) left every pooled connection holding ~2 MB: 50 connections that each read a map of
#: 0.8 MB per column grew a process by 104 MB, and by 7.7 MB with 4,096 ids per row (measured at 1M incidents, same
#: read 8.3 vs 8.9 ms). Even the five columns of a detection are at most ~250 KB per message, a few hundred rows over
#: the whole table.
CHUNK_BITS = 12


def _columns(rows: Sequence[Sequence[bytes | None]], dtypes: Sequence[str]) -> list[np.ndarray]:
    """The binary arrays of each column, one per row of a chunked read (:data:`CHUNK_BITS`), as one numpy array."""
    return [
        np.concatenate([_elements(row[i], dtype) for row in rows] or [np.empty(0, dtype)])
        for i, dtype in enumerate(dtypes)
    ]


def _elements(blob: bytes | None, dtype: str) -> np.ndarray:
    """The elements of a one-dimensional array without NULLs sent by ``array_send`` (header, then length + value)."""
    if blob is None:  # array_agg of no rows
        return np.empty(0, dtype)
    ndim = int.from_bytes(blob[:4], "big")
    return np.frombuffer(blob, np.dtype([("length", ">i4"), ("value", dtype)]), offset=12 + 8 * ndim)["value"]


def incident_frame(
    conn: Connection, selection: IncidentSelection, communes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Columns id, x, y (metres), occurred_at (UTC), kind for the selected incidents (and, given the commune
    codes, their ``commune_code``: a category of those codes, NaN for an incident outside them).

    Binary arrays per column (a few rows of them, see :data:`CHUNK_BITS`), decoded by numpy without a Python step
    per incident: the data path of every analysis and detection run, so it must cost no more than reading the data.
    Incidents without a point (placed by commune code or address) are not read: see :func:`incident_points`.
    """
    where, params = selection.where(None).pyformat()
    columns = [f"array_send(array_agg({name}))" for name, _ in _ARRAYS]
    columns.append("array_send(array_agg((array_position(%(kind_codes)s::text[], kind::text) - 1)::int2))")
    if communes is not None:
        columns.append(
            "array_send(array_agg((coalesce(array_position(%(commune_codes)s::text[], commune_code::text), 0) - 1)"
            "::int2))"
        )
    with driver_connection(conn).cursor(binary=True) as cur:
        cur.execute(
            f"SELECT {', '.join(columns)} FROM incidents WHERE geom IS NOT NULL AND {where} GROUP BY id >> {CHUNK_BITS}",
            {**params, "kind_codes": list(IncidentKind.values()), "commune_codes": list(communes or ())},
        )
        rows = cur.fetchall()
    dtypes = [dtype for _, dtype in _ARRAYS] + [">i2"] * (len(columns) - len(_ARRAYS))
    ids, x, y, micros, kind, *commune_column = _columns(rows, dtypes)
    del rows
    order = np.argsort(ids, kind="stable")  # a stable order keeps clustering results reproducible
    frame = pd.DataFrame(
        {
            "id": ids[order].astype(np.int64),
            "x": x[order].astype(np.float64),
            "y": y[order].astype(np.float64),
            "kind": pd.Categorical.from_codes(kind[order].astype(np.int64), categories=list(IncidentKind.values())),
            "occurred_at": pd.to_datetime(micros[order].astype(np.int64) + _PG_EPOCH_US, unit="us", utc=True),
        }
    )
    if communes is not None:
        commune = commune_column[0][order].astype(np.int64)
        frame["commune_code"] = pd.Categorical.from_codes(commune, categories=list(dict.fromkeys(communes)))
    return frame


def _without_point(selection: IncidentSelection, where: Where | None = None) -> Where:
    """The conditions (table alias ``i``) on the selected incidents that have no point: with a map box, those whose
    current commune meets the box (an ambiguous one has no commune)."""
    where = replace(selection, bbox=None).where("i", where)
    where.add("i.geom IS NULL")
    if selection.bbox is not None:
        x0, y0, x1, y1 = (where.bind(float(v)) for v in selection.bbox)
        where.add(
            f"EXISTS (SELECT 1 FROM admin_units u WHERE u.code = i.commune_code AND {current_unit('u')}"
            f" AND ST_Intersects(u.geom, ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, {WGS84_SRID})))"
        )
    return where


@dataclass(frozen=True)
class IncidentPoints:
    """The metric points (x_m, y_m) of the selected incidents that have one, in no particular order, how many of
    the selected have none (placed by commune code or address: with a map box, those whose current commune meets
    the box), and the boundaries' version as read with them."""

    x: np.ndarray
    y: np.ndarray
    n_without_point: int
    boundaries_version: str


def incident_points(conn: Connection, selection: IncidentSelection) -> IncidentPoints:
    """What a heat map reads, in one statement: the points as two binary arrays (no id, time or kind, and no sort:
    a density does not depend on them), the count of the selected incidents without a point, and the boundaries'
    version (the key of the city's extent, which a caller keeps: reading it cost 30–170 ms per map at 1M incidents,
    2 cores at load 5). One round trip instead of three (issue 18)."""
    points = selection.where(None)
    missing = _without_point(selection, Where(params=dict(points.params)))  # fresh names: no clash with ``points``
    sql = pyformat(f"""
        SELECT p.x, p.y, s.missing, s.version
        FROM (SELECT (SELECT count(*) FROM incidents i WHERE {missing.sql}) AS missing,
                     (SELECT (version, changed_at)::text FROM data_versions WHERE name = 'admin_unit_parts') AS version) s
        LEFT JOIN LATERAL (
            SELECT array_send(array_agg(x_m)) AS x, array_send(array_agg(y_m)) AS y FROM incidents
            WHERE geom IS NOT NULL AND {points.sql} GROUP BY id >> {CHUNK_BITS}) p ON true""")
    with driver_connection(conn).cursor(binary=True) as cur:
        cur.execute(sql, missing.params)
        rows = cur.fetchall()  # at least one: the counts' row, with no arrays when no incident has a point
    x, y = (column.astype(np.float64) for column in _columns([row[:2] for row in rows], [">f8", ">f8"]))
    return IncidentPoints(x, y, int(rows[0][2]), str(rows[0][3]))


def ambiguous_incidents(conn: Connection, year: int) -> list[dict[str, Any]]:
    """Incidents of a local calendar year whose old commune was split: counted in no commune, listed instead."""
    rows = conn.execute(
        text(f"""
        SELECT ref, occurred_at, legacy_code, candidate_codes FROM incidents
        WHERE assignment = '{Assignment.AMBIGUOUS}' AND {local_year("occurred_at")} = :year
        ORDER BY occurred_at, ref"""),
        {"year": year},
    ).mappings()
    return [dict(r) for r in rows]


#: Per database: the incidents' data version (and its time) last looked at, and whether synthetic incidents were there.
_SYNTHETIC: dict[str, tuple[Any, bool]] = {}


def has_synthetic_incidents(conn: Connection) -> bool:
    """Whether any incident comes from the synthetic generator (source ``synthetic``, models.synthetic): the pages
    then carry the demo band. Remembered per database until the incidents change (their data version), because
    without synthetic rows the answer scans the whole table: 7 ms over 30,000 incidents (load average 4), so
    seconds at the ten million rows an import is built for, on every page load."""
    version = conn.execute(
        text("SELECT (version, changed_at)::text FROM data_versions WHERE name = 'incidents'")
    ).scalar()
    key = conn.engine.url.render_as_string(hide_password=True)
    known = _SYNTHETIC.get(key)
    if known is not None and known[0] == version:
        return known[1]
    found = bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM incidents WHERE source = :source)"), {"source": SOURCE}
        ).scalar()
    )
    _SYNTHETIC[key] = (version, found)
    return found


def latest_incident_time(conn: Connection, scope: AreaScope = UNRESTRICTED) -> datetime | None:
    """Time of the latest incident in the scope, the default end of analysis windows."""
    if not scope.key:  # the max of the partitions' indexes, without a condition to plan around
        return conn.exec_driver_sql("SELECT max(occurred_at) FROM incidents").scalar()
    return conn.execute(
        text(f"SELECT max(i.occurred_at) FROM incidents i WHERE {scope.incidents('i')}"), scope.params
    ).scalar()


def incidents_page(conn: Connection, selection: IncidentSelection, limit: int, offset: int) -> dict[str, Any]:
    """One page of incidents as GeoJSON with the total number matched (oldest first).

    An incident placed by commune code or address has a null geometry; an ambiguous one lists its
    `candidate_codes` (its old commune was split).
    """
    where = selection.where("i")
    total = conn.execute(text(f"SELECT count(*) FROM incidents i WHERE {where.sql}"), where.params).scalar_one()
    rows = conn.execute(
        text(f"""
        SELECT coalesce(json_agg(json_build_object(
            'type', 'Feature', 'id', p.id,
            'geometry', ST_AsGeoJSON(p.geom, 6)::json,
            'properties', json_build_object('ref', p.ref, 'occurred_at', p.occurred_at, 'kind', p.kind,
                'substance', p.substance, 'quantity_g', p.quantity_g, 'arrested', p.arrested,
                'source', p.source, 'commune_code', p.commune_code, 'assignment', p.assignment,
                'period_code', p.period_code, 'legacy_code', p.legacy_code, 'candidate_codes', p.candidate_codes)
        ) ORDER BY p.occurred_at, p.id), '[]')
        FROM (SELECT * FROM incidents i WHERE {where.sql} ORDER BY i.occurred_at, i.id LIMIT :limit OFFSET :offset) p
    """),
        {**where.params, "limit": limit, "offset": offset},
    ).scalar_one()
    features = rows if isinstance(rows, list) else json.loads(rows)
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": total,
        "numberReturned": len(features),
        "limit": limit,
        "offset": offset,
    }

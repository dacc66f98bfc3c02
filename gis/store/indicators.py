"""Set-based PostGIS aggregates behind the yearly commune indicators (one query per source table)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, text

from gis.reference import load_rules
from gis.store.communes import current_communes
from gis.store.sql import local_year, local_year_start
from models.domain.indicators import (
    HOTSPOT_COLUMNS,
    IMPORT_COLUMNS,
    INCIDENT_COLUMNS,
    derive_indicators,
)
from models.domain.legal_rules import LegalRules
from models.vocabulary import HOTSPOT_OPEN, HotspotStatus, codes

#: Years are local calendar years.
_YEARS = f"""
years AS (
    SELECT y AS year, {local_year_start("y")} AS y_from, {local_year_start("y + 1")} AS y_to
    FROM generate_series(CAST(:y0 AS int), CAST(:y1 AS int)) AS y
)"""


def _frame(conn: Connection, sql: str, params: dict, columns: tuple[str, ...]) -> pd.DataFrame:
    """Query result as a DataFrame with the given columns (also when empty)."""
    return pd.DataFrame(conn.execute(text(sql), params).all(), columns=list(columns))


def imported_indicators(conn: Connection, y0: int, y1: int) -> pd.DataFrame:
    """Rows of commune_indicators for the years y0..y1."""
    return _frame(
        conn,
        f"SELECT {', '.join(IMPORT_COLUMNS)} FROM commune_indicators WHERE year BETWEEN :y0 AND :y1",
        {"y0": y0, "y1": y1},
        IMPORT_COLUMNS,
    )


def incident_aggregates(conn: Connection, y0: int, y1: int) -> pd.DataFrame:
    """Incidents and people arrested per local year, commune and kind (one grouped scan)."""
    return _frame(
        conn,
        f"""
        WITH {_YEARS}
        SELECT {local_year("i.occurred_at")} AS year, i.commune_code, i.kind,
               count(*) AS n, coalesce(sum(i.arrested), 0) AS arrested
        FROM incidents i
        WHERE i.commune_code IS NOT NULL
          AND i.occurred_at >= (SELECT min(y_from) FROM years) AND i.occurred_at < (SELECT max(y_to) FROM years)
        GROUP BY 1, 2, 3""",
        {"y0": y0, "y1": y1},
        INCIDENT_COLUMNS,
    )


def hotspot_aggregates(conn: Connection, y0: int, y1: int) -> pd.DataFrame:
    """Per commune-year: organising places and hotspots active in the year, and recurrences recorded."""
    # Active in a year = seen (first_seen..last_seen, first_seen defaulting to created_at) during it;
    # dismissed hotspots were never real and do not count.
    return _frame(
        conn,
        f"""
        WITH {_YEARS},
        active AS (
            SELECT y.year, h.commune_code,
                   count(*) FILTER (WHERE h.kind = 'organizing_place') AS organizing_places,
                   count(*) AS active_hotspots
            FROM years y JOIN hotspots h
              ON coalesce(h.first_seen, h.created_at) < y.y_to AND coalesce(h.last_seen, 'infinity') >= y.y_from
            WHERE h.status <> '{HotspotStatus.DISMISSED}' AND h.commune_code IS NOT NULL
            GROUP BY 1, 2
        ), recurred AS (
            SELECT y.year, h.commune_code, count(*) AS recurrences
            FROM years y
            JOIN hotspot_events e ON e.event = 'recurred' AND e.at >= y.y_from AND e.at < y.y_to
            JOIN hotspots h ON h.id = e.hotspot_id
            WHERE h.commune_code IS NOT NULL
            GROUP BY 1, 2
        )
        SELECT year, commune_code, coalesce(a.organizing_places, 0), coalesce(a.active_hotspots, 0),
               coalesce(r.recurrences, 0)
        FROM active a FULL JOIN recurred r USING (year, commune_code)""",
        {"y0": y0, "y1": y1},
        HOTSPOT_COLUMNS,
    )


def yearly_indicators(conn: Connection, y0: int, y1: int, rules: LegalRules | None = None) -> pd.DataFrame:
    """Derived indicators of every current commune for the years y0..y1 (see models.domain.indicators), counting
    from incidents what the criteria (``rules``, default the configured file) say each indicator counts."""
    communes = current_communes(conn)["commune_code"]
    return derive_indicators(
        communes,
        range(y0, y1 + 1),
        imported_indicators(conn, y0, y1),
        incident_aggregates(conn, y0, y1),
        hotspot_aggregates(conn, y0, y1),
        (rules or load_rules()).derived(),
    )


def hotspot_kpis(conn: Connection, year: int) -> dict[str, int]:
    """City-wide hotspot counts of a year: new, eradicated, recurred, active at year end, and last year's eradicated."""
    row = conn.execute(
        text(f"""
        WITH {_YEARS}
        SELECT
          (SELECT count(*) FROM hotspots h, years y WHERE y.year = :y1 AND h.status <> '{HotspotStatus.DISMISSED}'
             AND coalesce(h.first_seen, h.created_at) >= y.y_from AND coalesce(h.first_seen, h.created_at) < y.y_to),
          (SELECT count(DISTINCT e.hotspot_id) FROM hotspot_events e, years y WHERE y.year = :y1
             AND e.to_status = '{HotspotStatus.ERADICATED}' AND e.at >= y.y_from AND e.at < y.y_to),
          (SELECT count(DISTINCT e.hotspot_id) FROM hotspot_events e, years y WHERE y.year = :y0
             AND e.to_status = '{HotspotStatus.ERADICATED}' AND e.at >= y.y_from AND e.at < y.y_to),
          (SELECT count(*) FROM hotspot_events e, years y WHERE y.year = :y1
             AND e.event = 'recurred' AND e.at >= y.y_from AND e.at < y.y_to),
          (SELECT count(*) FROM hotspots h WHERE h.status = ANY(:open))
    """),
        {"y0": year - 1, "y1": year, "open": list(codes(HOTSPOT_OPEN))},
    ).one()
    return dict(zip(("new", "eradicated", "eradicated_previous", "recurred", "open_now"), map(int, row)))

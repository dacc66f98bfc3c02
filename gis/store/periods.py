"""The unit valid at an incident's date (`incidents.period_code`), beside its current unit (`commune_code`).

Boundaries are kept with their validity periods (`admin_units.valid_from/valid_to`). An incident with a
point gets the version that contains it on its local date: the current one when the date falls in the
current period (no lookup), else an earlier version imported with `diaban boundaries import --valid-to`.
An incident without a point keeps the unit its record names (its legacy code, or its current code from
the reorganisation on). Without earlier boundaries, a point dated before the current period has none.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from gis.store.sql import local_date
from models.vocabulary import LOCAL_TZ_NAME


def unit_at(geom: str, occurred_at: str) -> str:
    """SQL subquery: the code of the earlier (closed) unit version containing `geom` on the local date of `occurred_at`."""
    day = local_date(occurred_at)
    return (
        f"(SELECT u.code FROM admin_units u WHERE u.valid_to IS NOT NULL AND u.valid_from <= {day}"
        f" AND u.valid_to > {day} AND ST_Intersects(u.geom, {geom}) ORDER BY u.code LIMIT 1)"
    )


def _local_midnight(parameter: str) -> str:
    return f"(CAST({parameter} AS timestamp) AT TIME ZONE '{LOCAL_TZ_NAME}')"


def assign_periods(conn: Connection, start: date, end: date) -> int:
    """Give the incidents with a point dated in [start, end) the earlier unit containing them; their number.

    Run after an earlier set of units is imported, so that incidents loaded before it learn their unit.
    """
    return conn.execute(
        text(f"""
        UPDATE incidents i SET period_code = {unit_at("i.geom", "i.occurred_at")}
        WHERE i.geom IS NOT NULL AND i.occurred_at >= {_local_midnight(":start")}
          AND i.occurred_at < {_local_midnight(":end")}"""),
        {"start": start, "end": end},
    ).rowcount

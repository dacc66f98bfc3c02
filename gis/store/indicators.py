"""Set-based PostGIS aggregates behind the yearly commune indicators (one query per source table)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from gis.reference import load_rules
from gis.store.communes import current_communes
from gis.store.scoping import UNRESTRICTED, AreaScope
from gis.store.sql import current_unit, local_plus_months, local_year, local_year_start, valid_on
from models.domain.indicators import (
    HOTSPOT_COLUMNS,
    IMPORT_COLUMNS,
    INCIDENT_COLUMNS,
    derive_indicators,
)
from models.domain.legal_rules import LegalRules
from models.errors import InvalidRequest
from models.lazy import lazy_module
from models.vocabulary import (
    HOTSPOT_OPEN,
    TODAY_METHODS,
    HotspotKind,
    HotspotStatus,
    IndicatorMethod,
    TaskKind,
    TaskState,
    UnitBasis,
    codes,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: The advisory lock of the imported indicator figures (beside gis.store.db's migration lock, 7_312_025, and the
#: boundary imports', 7_312_028): an indicator import holds it alone from its first write to its commit, what reads a
#: year's figures to decide on them (a draft's run, an approval's check of its digest) holds it shared.
INDICATORS_LOCK = 7_312_027


def hold_indicators(conn: Connection, *, exclusive: bool = False) -> None:
    """Hold :data:`INDICATORS_LOCK` until the transaction ends: ``exclusive`` for an import, which then waits for
    whoever is deciding on the current figures, shared for them, who wait for an import being written and then read its
    figures. An approval checked the figures' digest, an import committed new ones, then the approval committed: a year
    approved on figures the database no longer held, which the digest was there to refuse. Taken before any lock on a
    year's runs, by every holder: one order, no deadlock."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    conn.execute(text(f"SELECT {function}(:k)"), {"k": INDICATORS_LOCK})


#: Years are local calendar years.
_YEARS = f"""
years AS (
    SELECT y AS year, {local_year_start("y")} AS y_from, {local_year_start("y + 1")} AS y_to
    FROM generate_series(CAST(:y0 AS int), CAST(:y1 AS int)) AS y
)"""


def _frame(conn: Connection, sql: str, params: dict, columns: tuple[str, ...]) -> pd.DataFrame:
    """Query result as a DataFrame with the given columns (also when empty)."""
    return pd.DataFrame(conn.execute(text(sql), params).all(), columns=list(columns))


def imported_indicators(conn: Connection, y0: int, y1: int, methods: Iterable[str] = TODAY_METHODS) -> pd.DataFrame:
    """Rows of commune_indicators for the years y0..y1 (by default those describing today's communes)."""
    return _frame(
        conn,
        f"SELECT {', '.join(IMPORT_COLUMNS)}, method FROM commune_indicators"
        " WHERE year BETWEEN :y0 AND :y1 AND method = ANY(:methods)",
        {"y0": y0, "y1": y1, "methods": sorted(methods)},
        (*IMPORT_COLUMNS, "method"),
    )


#: The units valid on a day (`:day`): an earlier set imported with its validity, or today's.
_UNITS_ON = f"""
units AS (
    SELECT u.code, u.geom, {current_unit("u")} AS current FROM admin_units u WHERE {valid_on("u", "CAST(:day AS date)")}
)"""
#: An incident's unit among `units`: the one containing its point (else its current commune when that is one of
#: them, for points assigned to the nearest commune), or for a row without a point the unit its record names.
_INCIDENT_UNIT = """CASE WHEN i.geom IS NOT NULL THEN coalesce(
        (SELECT u.code FROM units u WHERE ST_Intersects(u.geom, i.geom) ORDER BY u.code LIMIT 1),
        (SELECT u.code FROM units u WHERE u.current AND u.code = i.commune_code))
    ELSE coalesce((SELECT u.code FROM units u WHERE NOT u.current AND u.code = i.period_code),
                  (SELECT u.code FROM units u WHERE u.current AND u.code = i.commune_code)) END"""
_HOTSPOT_UNIT = "(SELECT u.code FROM units u WHERE ST_Intersects(u.geom, h.centroid) ORDER BY u.code LIMIT 1)"
#: The kind of each hotspot with a change of kind recorded, at the end of each year (`kind_then`: hotspot_id, year,
#: kind): the newest change before the year's end, else the kind the first change after it left. Changes come from
#: the history (detection's events, `details.kind`: from, to), each dated by the last instant of the window of the run
#: that made it (the incidents it read end there: a run of 03/01 over October-December finds a kind of the old
#: year), or by the event when that is earlier (a run recorded in the past). One scan of the events: a look-up per
#: hotspot and year took 0.5-0.8 s for 7,000 hotspots with 30,000 events over five years, this 0.13 s (today's
#: kind alone, 0.06 s).
_KIND_THEN = """
kind_changes AS (
    SELECT e.id, e.hotspot_id, least(e.at, coalesce(r.window_to - interval '1 microsecond', e.at)) AS at,
           e.details->'kind'->>'from' AS from_kind, e.details->'kind'->>'to' AS to_kind
    FROM hotspot_events e LEFT JOIN detection_runs r ON r.id = e.run_id
    WHERE e.details ? 'kind'
), kind_then AS (
    SELECT DISTINCT ON (c.hotspot_id, y.year) c.hotspot_id, y.year,
           CASE WHEN c.at < y.y_to THEN c.to_kind ELSE c.from_kind END AS kind
    FROM kind_changes c CROSS JOIN years y
    ORDER BY c.hotspot_id, y.year, c.at < y.y_to DESC, abs(extract(epoch FROM c.at - y.y_to)),
             CASE WHEN c.at < y.y_to THEN -c.id ELSE c.id END
)"""


def incident_aggregates(conn: Connection, y0: int, y1: int, on: date | None = None) -> pd.DataFrame:
    """Incidents and people arrested per local year, commune and kind (one grouped scan); the people arrested NULL
    (unknown) where any incident of the group has them unrecorded.

    By default per current commune; `on` a day, per unit valid that day (`yearly_indicators`, basis period).
    """
    unit, ctes = ("i.commune_code", "") if on is None else (_INCIDENT_UNIT, "," + _UNITS_ON)
    return _frame(
        conn,
        f"""
        WITH {_YEARS}{ctes}
        SELECT year, commune_code, kind, count(*) AS n,
               CASE WHEN count(arrested) = count(*) THEN sum(arrested) END AS arrested  -- NULL: some not recorded
        FROM (SELECT {local_year("i.occurred_at")} AS year, {unit} AS commune_code, i.kind, i.arrested
              FROM incidents i
              WHERE i.occurred_at >= (SELECT min(y_from) FROM years)
                AND i.occurred_at < (SELECT max(y_to) FROM years)) s
        WHERE commune_code IS NOT NULL
        GROUP BY 1, 2, 3""",
        {"y0": y0, "y1": y1, "day": on},
        INCIDENT_COLUMNS,
    )


def hotspot_aggregates(conn: Connection, y0: int, y1: int, on: date | None = None) -> pd.DataFrame:
    """Per commune-year: organising places and hotspots active in the year, and recurrences recorded.

    A hotspot counts as an organising place of a year by the kind it had at the year's end (`_KIND_THEN`, from
    its history), not today's: a spot that became an organising place in 2026 changed 2025's criteria when 2025 was
    classified again. By default per current commune; `on` a day, per unit valid that day containing the hotspot's
    centroid.
    """
    # Active in a year = seen (first_seen..last_seen, first_seen defaulting to created_at) during it;
    # dismissed hotspots were never real and do not count.
    unit, ctes = ("h.commune_code", "") if on is None else (_HOTSPOT_UNIT, _UNITS_ON + ",")
    return _frame(
        conn,
        f"""
        WITH {_YEARS}, {ctes}{_KIND_THEN},
        located AS (SELECT h.*, {unit} AS unit_code FROM hotspots h),
        active AS (
            SELECT y.year, h.unit_code AS commune_code,
                   count(*) FILTER (WHERE coalesce(k.kind, h.kind) = '{HotspotKind.ORGANIZING_PLACE}')
                       AS organizing_places,
                   count(*) AS active_hotspots
            FROM years y JOIN located h
              ON coalesce(h.first_seen, h.created_at) < y.y_to AND coalesce(h.last_seen, 'infinity') >= y.y_from
            LEFT JOIN kind_then k ON k.hotspot_id = h.id AND k.year = y.year
            WHERE h.status <> '{HotspotStatus.DISMISSED}' AND h.unit_code IS NOT NULL
            GROUP BY 1, 2
        ), recurred AS (
            SELECT y.year, h.unit_code AS commune_code, count(*) AS recurrences
            FROM years y
            JOIN hotspot_events e ON e.event = 'recurred' AND e.at >= y.y_from AND e.at < y.y_to
            JOIN located h ON h.id = e.hotspot_id
            WHERE h.unit_code IS NOT NULL
            GROUP BY 1, 2
        )
        SELECT year, commune_code, coalesce(a.organizing_places, 0), coalesce(a.active_hotspots, 0),
               coalesce(r.recurrences, 0)
        FROM active a FULL JOIN recurred r USING (year, commune_code)""",
        {"y0": y0, "y1": y1, "day": on},
        HOTSPOT_COLUMNS,
    )


def units_valid_on(conn: Connection, day: date) -> pd.DataFrame:
    """The units valid on a day: commune_code, name, full_name, area_km2 and whether it is a current version."""
    rows = conn.execute(
        text(
            f"SELECT u.code, u.name, u.full_name, u.area_km2, {current_unit('u')} FROM admin_units u"
            f" WHERE {valid_on('u', 'CAST(:day AS date)')} ORDER BY u.code"
        ),
        {"day": day},
    ).all()
    return pd.DataFrame(rows, columns=["commune_code", "name", "full_name", "area_km2", "current"])


def indicators_digest(conn: Connection, year: int) -> str | None:
    """A digest of ``year``'s imported indicator figures (every row's values, by commune), None when the year has none: a
    draft records it when run (`indicators_digest`), and one whose year's figures changed since says so and is not
    approved (gis.store.classifications.indicators_reloaded). Figures, not imports: the same table loaded again
    (`make demo` run again) changes nothing."""
    return conn.execute(
        text(
            "SELECT md5(string_agg(CAST((i.commune_code, i.method, i.population, i.users_with_records,"
            " i.plants_destroyed, i.cultivation_m2, i.on_drug_route, i.organizing_places, i.arrested_offenders,"
            " i.legacy_codes) AS text), '|' ORDER BY i.commune_code, i.method))"
            " FROM commune_indicators i WHERE i.year = :year"
        ),
        {"year": year},
    ).scalar_one()


def newest_indicator_import(conn: Connection, year: int) -> dict[str, Any] | None:
    """The newest import whose rows of ``year``'s indicator table are still in it (id, file name, who, when); None when
    the year has no imported row: what loaded a draft's year's figures again (indicators_digest)."""
    row = (
        conn.execute(
            text(
                "SELECT r.id, r.file_name, r.imported_by, r.started_at FROM import_runs r WHERE r.id ="
                " (SELECT max(import_id) FROM commune_indicators WHERE year = :year)"
            ),
            {"year": year},
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def register_since(conn: Connection) -> date | None:
    """The Hải Phòng day the hotspot register begins (None: it holds nothing): the periodic report's rule
    (gis.store.period_counts.records_since) over every unit, as a year's run classifies them all."""
    from gis.store.period_counts import records_since  # it counts with hotspot_flows, defined here

    return records_since(conn, UNRESTRICTED)["hotspots"]


def year_units_day(year: int) -> date:
    """The day whose units a year is expressed on, under the `period` basis: its last day."""
    return date(year, 12, 31)


def yearly_indicators(
    conn: Connection, y0: int, y1: int, basis: str = UnitBasis.TODAY, rules: LegalRules | None = None
) -> pd.DataFrame:
    """Derived indicators for the years y0..y1 (see models.domain.indicators), per commune of `basis`:

    - `today`: every current commune; earlier years re-expressed on them (incidents by their current commune,
      indicator rows given or summed onto current communes);
    - `period`: every unit valid on the last day of y1 (`year_units_day`), which may be an earlier set imported
      with `diaban boundaries import --valid-to`: incidents by the unit containing them (or named by their record),
      hotspots by their centroid, indicator rows as given per old commune (`legacy_given`).

    The hotspot register's counts of a year it does not cover are unknown (models.domain.indicators.register_gap):
    it begins on the first day of the database's records (`register_since`).
    """
    derived = (rules or load_rules()).derived()  # what the criteria say each derived indicator counts
    since = register_since(conn)
    # Each unit's province: a province-year without any incident has no police data loaded (models.domain.indicators).
    provinces: dict[str, str | None] = dict(
        conn.execute(text("SELECT code, max(province_code) FROM admin_units GROUP BY code")).all()
    )
    if basis == UnitBasis.TODAY:
        return derive_indicators(
            current_communes(conn)["commune_code"],
            range(y0, y1 + 1),
            imported_indicators(conn, y0, y1),
            incident_aggregates(conn, y0, y1),
            hotspot_aggregates(conn, y0, y1),
            derived,
            provinces,
            since,
        )
    day = year_units_day(y1)
    units = units_valid_on(conn, day)
    if units.empty:
        raise InvalidRequest(
            f"không có ranh giới nào có hiệu lực ngày {day:%d/%m/%Y}: hãy nhập ranh giới của năm {y1}"
            " (boundaries import --valid-from/--valid-to) hoặc dùng đơn vị hiện nay",
            f"no boundaries valid on {day}",
        )
    if units["current"].all():  # the year's units are today's
        return yearly_indicators(conn, y0, y1, UnitBasis.TODAY, rules)
    earlier = set(units.loc[~units["current"], "commune_code"])
    imported = imported_indicators(conn, y0, y1, TODAY_METHODS | {IndicatorMethod.LEGACY_GIVEN})
    keep = imported["commune_code"].isin(earlier) == (imported["method"] == IndicatorMethod.LEGACY_GIVEN)
    return derive_indicators(
        units["commune_code"],
        range(y0, y1 + 1),
        imported[keep & imported["commune_code"].isin(set(units["commune_code"]))].drop(columns="method"),
        incident_aggregates(conn, y0, y1, on=day),
        hotspot_aggregates(conn, y0, y1, on=day),
        derived,
        provinces,
        since,
    )


def hotspot_flows(seen: str, start: str, end: str) -> dict[str, str]:
    """SQL scalar subqueries counting, from instant ``start`` (included) to ``end`` (excluded), the hotspots of a scope
    (condition ``seen`` on the alias ``h``) that entered the register (first seen then; a dismissed one never was a
    hotspot), those eradicated (each once, however often), those kept clean to the end of their watch and so taken off
    the list (closed: «giữ sạch», each once) and the recurrences (each one): the yearly KPIs' counts and the periodic
    report's, defined once."""
    entered = "coalesce(h.first_seen, h.created_at)"
    events = "FROM hotspot_events e JOIN hotspots h ON h.id = e.hotspot_id WHERE"
    return {
        "new": f"""(SELECT count(*) FROM hotspots h WHERE h.status <> '{HotspotStatus.DISMISSED}'
                    AND {entered} >= {start} AND {entered} < {end} AND {seen})""",
        "eradicated": f"""(SELECT count(DISTINCT e.hotspot_id) {events} e.to_status = '{HotspotStatus.ERADICATED}'
                           AND e.at >= {start} AND e.at < {end} AND {seen})""",
        "kept_clean": f"""(SELECT count(DISTINCT e.hotspot_id) {events} e.to_status = '{HotspotStatus.CLOSED}'
                           AND e.at >= {start} AND e.at < {end} AND {seen})""",
        "recurred": f"(SELECT count(*) {events} e.event = 'recurred' AND e.at >= {start} AND e.at < {end} AND {seen})",
    }


def hotspot_kpis(conn: Connection, year: int, scope: AreaScope = UNRESTRICTED) -> dict[str, int]:
    """Hotspot counts of a year in the scope (a province, or the country): new, eradicated, recurred, active at year
    end, and last year's eradicated."""
    seen = scope.hotspots("h")
    this_year = hotspot_flows(seen, local_year_start("CAST(:y AS int)"), local_year_start("CAST(:y AS int) + 1"))
    last_year = hotspot_flows(seen, local_year_start("CAST(:y AS int) - 1"), local_year_start("CAST(:y AS int)"))
    row = conn.execute(
        text(f"""
        SELECT {this_year["new"]}, {this_year["eradicated"]}, {last_year["eradicated"]}, {this_year["recurred"]},
          (SELECT count(*) FROM hotspots h WHERE h.status = ANY(:open) AND {seen})
    """),
        {"y": year, "open": list(codes(HOTSPOT_OPEN)), **scope.params},
    ).one()
    return dict(zip(("new", "eradicated", "eradicated_previous", "recurred", "open_now"), map(int, row)))


def conversion_kpis(
    conn: Connection, year: int, watch_months: int | None, scope: AreaScope = UNRESTRICTED
) -> dict[str, int]:
    """The conversion of key areas (chuyển hóa địa bàn) of a year in the scope, for the KPI report.

    ``selected``: communes with a conversion task of the year that was not canceled (a canceled task withdraws the
    selection; a declined one does not); ``converted``: those whose task was accepted (nghiệm thu) by the end of the
    year. Each converted commune is watched for ``watch_months`` from its acceptance, months of Hải Phòng's calendar
    (`local_plus_months`): ``relapsed`` when a hotspot (not dismissed) was first seen in it or recurred in it during
    the watch, ``stable`` when the watch is over without that, ``watching`` while it lasts. Without a watch period
    (None) nothing is decided: 0, 0, 0.
    """
    row = conn.execute(
        text(f"""
        WITH {_YEARS},
        selected AS (
            SELECT DISTINCT t.commune_code FROM tasks t
            WHERE t.kind = '{TaskKind.CONVERSION}' AND t.year = :y1 AND t.state <> '{TaskState.CANCELED}'
              AND {scope.communes("t.commune_code")}
        ), converted AS (
            SELECT t.commune_code, min(e.at) AS at FROM tasks t
            JOIN task_events e ON e.task_id = t.id AND e.to_state = '{TaskState.ACCEPTED}'
            JOIN years y ON y.year = :y1 AND e.at < y.y_to
            WHERE t.kind = '{TaskKind.CONVERSION}' AND t.year = :y1 AND {scope.communes("t.commune_code")}
            GROUP BY t.commune_code
        ), watched AS (
            SELECT w.until,
                   EXISTS (SELECT 1 FROM hotspots h WHERE h.commune_code = c.commune_code
                             AND h.status <> '{HotspotStatus.DISMISSED}'
                             AND coalesce(h.first_seen, h.created_at) >= c.at
                             AND coalesce(h.first_seen, h.created_at) < w.until)
                   OR EXISTS (SELECT 1 FROM hotspot_events e JOIN hotspots h ON h.id = e.hotspot_id
                             WHERE h.commune_code = c.commune_code AND e.event = 'recurred'
                               AND e.at >= c.at AND e.at < w.until)
                   AS relapsed
            FROM converted c CROSS JOIN LATERAL (SELECT {local_plus_months("c.at", "CAST(:months AS int)")} AS until) w
            WHERE CAST(:months AS int) IS NOT NULL
        )
        SELECT (SELECT count(*) FROM selected), (SELECT count(*) FROM converted),
               count(*) FILTER (WHERE NOT relapsed AND until <= now()), count(*) FILTER (WHERE relapsed),
               count(*) FILTER (WHERE NOT relapsed AND until > now())
        FROM watched"""),
        {"y0": year, "y1": year, "months": watch_months, **scope.params},
    ).one()
    return dict(zip(("selected", "converted", "stable", "relapsed", "watching"), map(int, row)))

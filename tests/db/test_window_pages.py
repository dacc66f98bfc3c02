"""A time window reads the pages of its window: yearly partitions, rows stored month by month (issue 18: before the
partitions, a 90-day window at 3M incidents read 92 % of the table's pages for 9 % of its rows).

Three years of incidents are built as the import builds a large year (a plain table filled in storage order,
indexed once, attached; gis.store.incident_partitions), their statistics gathered as autovacuum would; then
PostgreSQL's own account of the pages a 90-day selection touched (EXPLAIN ANALYZE, BUFFERS) is compared with the
pages of the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Connection, Engine, text

from gis.store.incident_partitions import attach, create_detached, year_start
from gis.store.selection import IncidentSelection, Where
from models.vocabulary import LOCAL_TZ, LOCAL_TZ_NAME

YEARS = (2021, 2022, 2023)
ROWS_PER_YEAR = 60_000


@pytest.fixture
def conn(owner_engine: Engine) -> Iterator[Connection]:
    """As `diaban import` connects: the owner's role, which may create and attach partitions (rolled back)."""
    connection = owner_engine.connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture
def three_years(conn: Connection) -> None:
    for year in YEARS:
        table = create_detached(conn, year)
        # Storage order of the import: month by month, along a Z-order curve (geohash order) inside a month.
        conn.execute(
            text(f"""
            INSERT INTO {table} (id, ref, occurred_at, kind, assignment, geom, x_m, y_m)
            SELECT nextval('incidents_id_seq'), 'W{year}-' || n, at, 'tip', 'outside', g,
                   ST_X(ST_Transform(g, 32648)), ST_Y(ST_Transform(g, 32648))
            FROM (SELECT n, :start + (n * 0.999 / :rows) * (:end - :start) AS at,
                         ST_SetSRID(ST_MakePoint(106.5 + random() * 0.4, 20.7 + random() * 0.3), 4326) AS g
                  FROM generate_series(0, :rows - 1) n) r
            ORDER BY date_trunc('month', at AT TIME ZONE '{LOCAL_TZ_NAME}'), ST_GeoHash(g), n"""),
            {"start": year_start(year), "end": year_start(year + 1), "rows": ROWS_PER_YEAR},
        )
        attach(conn, table, year, replaces=False)
        conn.execute(text(f"ANALYZE incidents_y{year}"))


def _explain(conn: Connection, where: Where) -> dict:
    """The executed plan of the window's selection (the columns detection reads), with its buffer counts."""
    return conn.execute(
        text(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT i.id, i.x_m, i.y_m, i.occurred_at, i.kind"
            f" FROM incidents i WHERE i.geom IS NOT NULL AND {where.sql}"
        ),
        where.params,
    ).scalar_one()[0]["Plan"]


def _relations(plan: dict) -> set[str]:
    """The tables a plan reads."""
    found = {plan["Relation Name"]} if "Relation Name" in plan else set()
    for child in plan.get("Plans", ()):
        found |= _relations(child)
    return found


def test_a_90_day_window_touches_under_a_quarter_of_the_pages(conn: Connection, three_years: None) -> None:
    pages = conn.execute(
        text(
            "SELECT (sum(pg_relation_size(i.inhrelid)) / current_setting('block_size')::int)::int FROM pg_inherits i"
            " WHERE i.inhparent = 'incidents'::regclass"
        )
    ).scalar_one()
    total = len(YEARS) * ROWS_PER_YEAR
    for start, end, years in (
        (datetime(2022, 5, 1, tzinfo=LOCAL_TZ), datetime(2022, 7, 30, tzinfo=LOCAL_TZ), {2022}),
        (datetime(2022, 11, 20, tzinfo=LOCAL_TZ), datetime(2023, 2, 18, tzinfo=LOCAL_TZ), {2022, 2023}),
    ):
        where = IncidentSelection(start=start, end=end).where("i")
        plan = _explain(conn, where)
        assert 0.07 < plan["Actual Rows"] / total < 0.10  # 90 days of three years
        assert _relations(plan) == {f"incidents_y{y}" for y in years}  # the other years are never opened
        # The plan PostgreSQL picks walks the time index, which counts a buffer access per row (rows of a month
        # lie along a Z-order curve, not in time order) however few distinct pages they are on. A bitmap scan
        # visits each page once, so its buffer count is the number of pages touched, index pages included.
        conn.execute(text("SET LOCAL enable_indexscan = off"))
        bitmap = _explain(conn, where)
        conn.execute(text("RESET enable_indexscan"))
        assert bitmap["Actual Rows"] == plan["Actual Rows"]
        touched = bitmap["Shared Hit Blocks"] + bitmap["Shared Read Blocks"]
        assert touched < 0.25 * pages, (touched, pages)
        # The pages the index scan visits: those holding the window's rows (it fetches no other row).
        holding = conn.execute(
            text(
                "SELECT count(DISTINCT (i.tableoid, (i.ctid::text::point)[0])) FROM incidents i"
                f" WHERE i.geom IS NOT NULL AND {where.sql}"
            ),
            where.params,
        ).scalar_one()
        assert holding < 0.25 * pages, (holding, pages)

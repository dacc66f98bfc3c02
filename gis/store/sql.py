"""SQL fragments shared by the repositories, each written once: today, local dates, the current units.

Fragments hold no user values (those are always bound parameters); they are built from the
vocabulary, so the database and Python agree on what "today" and "current" mean.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.vocabulary import LOCAL_TZ_NAME, METRIC_SRID, WGS84_SRID

#: Hải Phòng's date now: the SQL twin of ``models.vocabulary.local_today`` (never ``current_date``,
#: which follows the server's time zone).
LOCAL_TODAY = f"((now() AT TIME ZONE '{LOCAL_TZ_NAME}')::date)"


#: Metres in a degree of latitude (and of longitude at the equator): a display tolerance in the geometry's degrees.
METRES_PER_DEGREE = 111_000.0


def display_geojson(geom: str) -> str:
    """The GeoJSON of a boundary for drawing on a map: simplified by ``:tol`` degrees when above 0, never collapsed
    away, with ``:digits`` decimals (both bound by :func:`display_params`).

    Douglas-Peucker (``ST_Simplify``), not ``ST_SimplifyPreserveTopology``: at 20 m, Hải Phòng's 114 units took
    0.02 s against 1.08 s in one run (16,989 vertices kept against 16,993), and the national file's 3,321 units
    (6.9 M vertices) 2.7 s against 48 s in two runs minutes apart, both beside a 10 M-row import (load about 7).
    Neither keeps shared borders shared; the faster one leaves 22 of the 3,321 units invalid (a ring crossing
    itself), which a map draws the same and which no computation reads (analyses use the full geometry).
    """
    return f"ST_AsGeoJSON(CASE WHEN :tol > 0 THEN ST_Simplify({geom}, :tol, true) ELSE {geom} END, :digits)::json"


def display_params(simplify_m: float) -> dict[str, float | int]:
    """The parameters of :func:`display_geojson` for a tolerance in metres: in degrees (converted here: a subnormal
    tolerance underflowed in SQL), and the decimals — 6 (0.1 m) unsimplified, 5 (1.1 m) once simplified by 5 m or
    more: the rounding stays a fraction of the simplification's error, and every coordinate is a digit shorter (Hải
    Phòng's 114 communes at 20 m: 110 → 94 KB compressed; the national file has 5 decimals already)."""
    return {"tol": simplify_m / METRES_PER_DEGREE, "digits": 5 if simplify_m >= 5 else 6}


def local_date(expression: str) -> str:
    """The Hải Phòng date of a ``timestamptz`` expression."""
    return f"(({expression}) AT TIME ZONE '{LOCAL_TZ_NAME}')::date"


def local_year(expression: str) -> str:
    """The Hải Phòng calendar year of a ``timestamptz`` expression."""
    return f"extract(year FROM ({expression}) AT TIME ZONE '{LOCAL_TZ_NAME}')::int"


def local_plus_months(expression: str, months: str) -> str:
    """A ``timestamptz`` expression plus a number of calendar months (an integer expression) on Hải Phòng's calendar:
    accepted on 01/07 at 03:00 there, six months later is 01/01 at 03:00 there, whatever the session's time zone
    (``timestamptz + interval`` counts months on the session's calendar, where that instant is still 30/06)."""
    local = f"({expression}) AT TIME ZONE '{LOCAL_TZ_NAME}'"
    return f"(({local}) + make_interval(months => {months})) AT TIME ZONE '{LOCAL_TZ_NAME}'"


def local_year_start(year: str) -> str:
    """The instant a local calendar year (an integer expression) begins."""
    return f"make_timestamptz({year}, 1, 1, 0, 0, 0, '{LOCAL_TZ_NAME}')"


def current_unit(alias: str | None = "u") -> str:
    """Condition that an ``admin_units`` row is the current version of its unit (``alias`` None: unqualified)."""
    return f"{alias + '.' if alias else ''}valid_to IS NULL"


def containing_unit(geom: str) -> str:
    """SQL subquery: the code of the current unit whose part contains ``geom`` (the smallest code on a border), or
    NULL outside every unit — how an incident's point and a hotspot's centroid are given their commune."""
    return f"(SELECT p.code FROM admin_unit_parts p WHERE ST_Intersects(p.geom, {geom}) ORDER BY p.code LIMIT 1)"


def nearest_unit(geom: str) -> str:
    """SQL subquery: the code of the current unit nearest to ``geom`` within ``:metres`` (the smallest code at equal
    distance), or NULL. ``:deg`` is the bounding-box prefilter in degrees (``:metres / 50_000``: a degree is at least
    50 km anywhere in Vietnam)."""
    return (
        f"(SELECT a.code FROM admin_unit_parts a WHERE a.geom && ST_Expand({geom}, :deg)"
        f" AND ST_DWithin(a.geom::geography, ({geom})::geography, :metres)"
        f" ORDER BY ST_Distance(a.geom::geography, ({geom})::geography), a.code LIMIT 1)"
    )


def nearest_params(metres: float) -> dict[str, float]:
    """The parameters :func:`nearest_unit` binds, for a distance of ``metres``."""
    return {"metres": metres, "deg": metres / 50_000}


def move_note(before: str, after: str) -> str:
    """SQL: the Vietnamese history note of a hotspot or task a boundary import moved from the commune code
    ``before`` to ``after`` (expressions; the file's name bound as ``:source``), the communes by their current full
    names («ngoài các xã/phường» for none)."""
    named = (
        "coalesce((SELECT u.full_name FROM admin_units u WHERE u.code = {c} AND u.valid_to IS NULL), {c},"
        " 'ngoài các xã/phường')"
    )
    return (
        f"format('Ranh giới mới (tệp %s): từ %s sang %s', CAST(:source AS text), {named.format(c=before)},"
        f" {named.format(c=after)})"
    )


def reassigned_from(alias: str | None = "e") -> str:
    """The team a ``reassigned`` task event took its task from (``alias`` None: unqualified, as its index has it)."""
    return f"CAST({alias + '.' if alias else ''}details ->> 'from_team' AS integer)"


def valid_on(alias: str, day: str = LOCAL_TODAY) -> str:
    """Condition that a row with ``valid_from``/``valid_to`` (team areas, units) is valid on ``day``."""
    return f"({alias}.valid_from <= {day} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {day}))"


def to_metric(expression: str) -> str:
    """A WGS84 geometry expression in the metric CRS."""
    return f"ST_Transform({expression}, {METRIC_SRID})"


def to_wgs84(expression: str) -> str:
    """A metric geometry expression back in WGS84."""
    return f"ST_Transform({expression}, {WGS84_SRID})"


def in_values(column: str, values: Iterable[str]) -> str:
    """``column IN ('a', 'b')`` for vocabulary values only (CHECK constraints and partial indexes)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def add_check_valid_when_rows_allow(table: str, name: str, condition: str) -> str:
    """A migration's upgrade statement adding the check ``name`` on ``table``: NOT VALID, then validated when every
    stored row satisfies it. A downgrade that narrows an audit's list keeps the lines of the removed values and gives
    the older check NOT VALID; upgrading again through an intermediate revision, whose list still lacks a later value,
    must not fail on those lines: that revision's check holds for new rows, and the revision whose list has them all
    (the head's) validates it."""
    return f"""DO $$ BEGIN
    ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) NOT VALID;
    IF NOT EXISTS (SELECT 1 FROM {table} WHERE NOT ({condition})) THEN
        ALTER TABLE {table} VALIDATE CONSTRAINT {name};
    END IF;
END $$"""


def keep_audit_trail(table: str) -> str:
    """A migration's downgrade statement that fails while the audit trail ``table`` it would drop holds rows: a
    downgrade never erases who read or changed what; an operator who means to must empty it by hand first."""
    return f"""DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM {table}) THEN
        RAISE EXCEPTION 'bảng % còn dữ liệu nhật ký: không hạ phiên bản CSDL (the audit trail % is not empty)',
            '{table}', '{table}';
    END IF;
END $$"""

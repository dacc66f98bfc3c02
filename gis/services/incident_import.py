"""Bulk incident import: validate, COPY into a staging table, then set-based insert with commune assignment.

A row with a point is assigned by PostGIS (inside a commune, the nearest one within `nearest_m`, or
outside). A row without one is placed by the commune code or the address it gives (current or pre-2025
units, `gis.unit_directory`): no point is invented for it. The whole import runs in the caller's
transaction: an interrupted import leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, TextClause, text
from tqdm import tqdm

from gis.io.readers import read_table
from gis.store.communes import current_commune_codes
from gis.store.import_runs import ImportReport, finish_import_run, start_import_run
from gis.store.periods import unit_at
from gis.store.sql import current_unit, local_date
from gis.unit_directory import legacy_note, unit_directory
from models.domain.incident_contract import split_duplicates_in_file, validate_incidents
from models.domain.row_checks import REJECT_COLUMNS, empty_rejects
from models.domain.unit_mapping import REFORM_DATE, UnitMatch
from models.errors import InvalidRequest
from models.vocabulary import LOCAL_TZ_NAME, Assignment, OutsidePolicy

COPY_CHUNK = 100_000
_STAGED = (
    "seq",
    "line",
    "ref",
    "occurred_at",
    "lon",
    "lat",
    "kind",
    "substance",
    "quantity_g",
    "arrested",
    "source",
    "unit_code",
    "unit_assignment",
    "legacy_code",
    "candidates",
)


def _copy_staging(conn: Connection, valid: pd.DataFrame, progress: bool) -> None:
    """COPY valid rows into a temporary staging table, in spatial order (see `spatial_order`)."""
    conn.execute(
        text(
            "CREATE TEMP TABLE incident_staging (seq int, line int, ref text, occurred_at timestamptz, lon float8,"
            " lat float8, kind text, substance text, quantity_g float8, arrested int, source text, unit_code text,"
            " unit_assignment text, legacy_code text, candidates text[]) ON COMMIT DROP"
        )
    )
    has_point = valid["lon"].notna().to_numpy()
    points = np.flatnonzero(has_point)
    order = points[spatial_order(valid["lon"].to_numpy()[points], valid["lat"].to_numpy()[points])]
    ordered = valid.iloc[np.concatenate([order, np.flatnonzero(~has_point)])]
    ordered = ordered.assign(seq=np.arange(len(ordered)))
    # Columns of rows placed by code or address are left out when no row has one (they stay NULL): the usual
    # file of points does not pay for converting and sending four empty columns.
    staged = [c for c in _STAGED if c not in _UNIT_COLUMNS or ordered[c].notna().any()]
    raw = _driver(conn)
    columns = ", ".join(staged)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY incident_staging ({columns}) FROM STDIN (FORMAT csv)") as copy,
        tqdm(total=len(ordered), desc="Ghi CSDL", unit="dòng", disable=not progress) as bar,
    ):
        for start in range(0, len(ordered), COPY_CHUNK):
            chunk = pa.Table.from_pandas(ordered.iloc[start : start + COPY_CHUNK][staged], preserve_index=False)
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(chunk, sink, pa_csv.WriteOptions(include_header=False))
            copy.write(sink.getvalue().to_pybytes())
            bar.update(chunk.num_rows)


def spatial_order(lon: np.ndarray, lat: np.ndarray, bits: int = 16) -> np.ndarray:
    """Row order along a Z-order (Morton) curve, so that nearby points are stored on nearby pages.

    The commune join then reuses each prepared polygon from row to row, and every later read of a map
    window (tiles, heat, detection) touches a few pages instead of one page per incident.
    """
    key = np.zeros(lon.size, np.uint64)
    for shift, v in ((0, lon), (1, lat)):  # interleave the bits of the column and row numbers
        if v.size == 0:
            break
        span = max(float(v.max() - v.min()), 1e-12)
        cell = np.minimum((v - v.min()) / span * (1 << bits), (1 << bits) - 1).astype(np.uint64)
        for bit in range(bits):
            key |= ((cell >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + shift)
    return np.argsort(key, kind="stable")


# Polygons drive the point-in-commune join (outer loop over commune parts, GiST on the points), so that
# PostGIS reuses each prepared part across many points: ~3x faster than probing parts point by point.
_LOCATE = (
    # ST_MakePoint is strict: a row without coordinates gets no point (NULL), never an invented one.
    text(
        "CREATE TEMP TABLE incident_points ON COMMIT DROP AS"
        " SELECT s.*, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom FROM incident_staging s"
        " WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.ref = s.ref)"
    ),
    text("CREATE INDEX ON incident_points USING gist (geom)"),
    text("ANALYZE incident_points"),
    # LATERAL with OFFSET 0 (no pull-up) pins the commune parts as the outer loop whatever the planner estimates.
    text(
        "CREATE TEMP TABLE incident_inside ON COMMIT DROP AS"
        " SELECT DISTINCT ON (s.line) s.line, p.code FROM admin_unit_parts p"
        " CROSS JOIN LATERAL (SELECT i.line FROM incident_points i WHERE ST_Intersects(p.geom, i.geom) OFFSET 0) s"
        " ORDER BY s.line, p.code"
    ),
    text("CREATE INDEX ON incident_inside (line)"),
    text("""
    CREATE TEMP TABLE incident_near ON COMMIT DROP AS
    SELECT s.line, near.code FROM incident_points s
    CROSS JOIN LATERAL (
        SELECT p.code FROM admin_unit_parts p
        WHERE p.geom && ST_Expand(s.geom, :deg) AND ST_DWithin(p.geom::geography, s.geom::geography, :metres)
        ORDER BY ST_Distance(p.geom::geography, s.geom::geography), p.code
        LIMIT 1
    ) near
    WHERE s.geom IS NOT NULL AND NOT EXISTS (SELECT 1 FROM incident_inside i WHERE i.line = s.line)"""),
)
#: Staged columns of a row placed without a point (by code or address); NULL for a row with one.
_UNIT_COLUMNS = ("unit_code", "unit_assignment", "legacy_code", "candidates")
#: Points outside every commune and beyond the nearest-commune distance, with how far the nearest one is.
_OUTSIDE = text("""
SELECT s.line, s.ref,
       (SELECT ST_Distance(p.geom::geography, s.geom::geography) FROM admin_unit_parts p
        ORDER BY p.geom <-> s.geom LIMIT 1) AS metres
FROM incident_points s
WHERE s.geom IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM incident_inside i WHERE i.line = s.line)
  AND NOT EXISTS (SELECT 1 FROM incident_near n WHERE n.line = s.line)
ORDER BY s.line""")
_DROP_OUTSIDE = text("DELETE FROM incident_points WHERE line = ANY(:lines)")
_AMBIGUOUS = text(f"SELECT line FROM incident_points WHERE unit_assignment = '{Assignment.AMBIGUOUS}'")


def _insert(with_history: bool) -> TextClause:
    """The final INSERT; `with_history` when earlier unit versions exist, so that old dates look one up."""
    earlier = unit_at("s.geom", "s.occurred_at") if with_history else "NULL"
    return text(f"""
WITH inserted AS (
    INSERT INTO incidents (ref, occurred_at, kind, substance, quantity_g, arrested, source,
                           commune_code, assignment, legacy_code, candidate_codes, period_code, import_id, geom)
    SELECT s.ref, s.occurred_at, s.kind, s.substance, s.quantity_g, s.arrested, s.source,
           coalesce(s.unit_code, inside.code, near.code),
           CASE WHEN s.unit_assignment IS NOT NULL THEN s.unit_assignment
                WHEN inside.code IS NOT NULL THEN '{Assignment.INSIDE}'
                WHEN near.code IS NOT NULL THEN '{Assignment.NEAREST}'
                ELSE '{Assignment.OUTSIDE}' END,
           s.legacy_code, s.candidates,
           -- The unit valid at the incident's date: see gis.store.periods.
           CASE WHEN s.geom IS NULL THEN
                    CASE WHEN s.legacy_code IS NOT NULL THEN s.legacy_code
                         WHEN {local_date("s.occurred_at")} >= :reform THEN s.unit_code END
                WHEN {local_date("s.occurred_at")} >= cur.valid_from THEN cur.code
                ELSE {earlier} END,
           :import_id, s.geom
    FROM incident_points s
    LEFT JOIN incident_inside inside USING (line)
    LEFT JOIN incident_near near USING (line)
    LEFT JOIN admin_units cur ON cur.code = coalesce(inside.code, near.code) AND {current_unit("cur")}
    ORDER BY s.seq
    ON CONFLICT (ref) DO NOTHING
    RETURNING assignment
)
SELECT assignment, count(*) FROM inserted GROUP BY assignment
""")


_DROP = text("DROP TABLE incident_near, incident_inside, incident_points, incident_staging")


def locate_by_unit(valid: pd.DataFrame, known: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Place rows without a point by their commune code (else their address): (rows kept, rejects, flagged, notes).

    Codes of rows dated before 1 July 2025 are read as legacy (pre-reorganisation) codes when the file
    names a code that only the old units have (see `UnitDirectory.legacy_only`; the report says which),
    else as current codes; later rows' codes are current. An old unit split across several current ones
    is kept as `ambiguous` with its candidates, and flagged. Each distinct code and address is resolved once.
    """
    without = np.flatnonzero(valid["lon"].isna().to_numpy())
    if not len(without):  # every row has a point: nothing to look up
        return valid.assign(**dict.fromkeys(_UNIT_COLUMNS)), empty_rejects(), empty_rejects(), []
    directory = unit_directory()
    columns: dict[str, list[object]] = {name: [None] * len(valid) for name in _UNIT_COLUMNS}
    before = (valid["occurred_at"] < pd.Timestamp(REFORM_DATE, tz=LOCAL_TZ_NAME)).to_numpy().copy()
    old_code = directory.legacy_only(valid["commune_code"].to_numpy()[without[before[without]]].astype(str))
    before &= old_code is not None
    notes = [legacy_note(old_code, "trước 1/7/2025")] if old_code else []
    codes = valid["commune_code"].fillna("").astype(str).to_numpy()
    addresses = valid["address"].fillna("").astype(str).to_numpy()
    lines, refs = valid["line"].to_numpy(), valid["ref"].to_numpy()
    matches: dict[tuple[str, str, bool], tuple[UnitMatch, str]] = {}
    rejected, flagged = [], []
    bad = np.zeros(len(valid), dtype=bool)
    for i in without.tolist():
        key = (codes[i], addresses[i], bool(before[i]))
        if key not in matches:
            matches[key] = directory.locate(*key, known)
        match, field_name = matches[key]
        if not match.found:
            rejected.append((lines[i], refs[i], field_name, match.reason))
            bad[i] = True
            continue
        columns["unit_code"][i] = match.commune_code
        columns["unit_assignment"][i] = match.assignment.value
        columns["legacy_code"][i] = match.legacy_code
        if match.assignment == Assignment.AMBIGUOUS:
            columns["candidates"][i] = "{" + ",".join(match.candidates) + "}"
            flagged.append((lines[i], refs[i], field_name, match.describe() + " (ambiguous: kept without a commune)"))
    out = valid.assign(**columns)[~bad].reset_index(drop=True)
    return out, _problems(rejected), _problems(flagged), notes


def _problems(rows: list[tuple]) -> pd.DataFrame:
    if not rows:
        return empty_rejects()
    return pd.DataFrame(rows, columns=list(REJECT_COLUMNS)).astype({"line": "int64"})


def import_incidents(
    conn: Connection,
    path: Path,
    *,
    imported_by: str,
    nearest_m: float = 200.0,
    now: datetime | None = None,
    progress: bool = False,
    sheet: str | None = None,
    encoding: str | None = None,
    outside: str = OutsidePolicy.KEEP,
) -> ImportReport:
    """Import an incident table (CSV/text, Excel, GeoJSON) inside the caller's transaction; valid rows in, every
    bad row reported. `sheet` picks a worksheet, `encoding` overrides the detected text encoding.

    A point outside every commune and farther than `nearest_m` from all of them is reported with its line
    and ref: kept as `outside` (`outside="keep"`) or refused like a reject (`outside="reject"`).
    """
    if outside not in OutsidePolicy.values():
        raise InvalidRequest(
            f"--outside phải là một trong {', '.join(OutsidePolicy.values())}", "unknown outside policy"
        )
    refuse_outside = outside == OutsidePolicy.REJECT
    raw = read_table(path, sheet=sheet, encoding=encoding)
    checked = validate_incidents(raw, now=now)
    valid, repeats = split_duplicates_in_file(checked.valid)
    valid, unit_rejects, flagged, notes = locate_by_unit(valid, current_commune_codes(conn))
    rejects = _ordered(checked.rejects, unit_rejects)
    report = ImportReport(rejects=rejects, warnings=checked.warnings + notes, duplicates=repeats)
    report.import_id = start_import_run(conn, "incidents", path, imported_by)
    if len(valid):
        conn.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves on these plans
        _copy_staging(conn, valid, progress)
        # A degree is >= 50 km anywhere in Vietnam: a safe bounding-box prefilter for the metric test.
        for statement in _LOCATE:
            conn.execute(statement, {"metres": nearest_m, "deg": nearest_m / 50_000})
        far = pd.DataFrame(conn.execute(_OUTSIDE).all(), columns=["line", "ref", "metres"])
        far_rows = _outside_rows(far, nearest_m, refused=refuse_outside)
        if refuse_outside and len(far):
            conn.execute(_DROP_OUTSIDE, {"lines": far["line"].tolist()})
            report.rejects = _ordered(report.rejects, far_rows)
        else:
            flagged = _ordered(flagged, far_rows)
        kept_ambiguous = set(conn.execute(_AMBIGUOUS).scalars())
        flagged = flagged[(flagged["field"] == "lon/lat") | flagged["line"].isin(kept_ambiguous)]
        with_history = conn.execute(text("SELECT EXISTS (SELECT 1 FROM admin_units WHERE valid_to IS NOT NULL)"))
        counts: dict[str, int] = dict(
            conn.execute(
                _insert(bool(with_history.scalar_one())), {"import_id": report.import_id, "reform": REFORM_DATE}
            ).all()
        )
        report.imported = sum(counts.values())
        report.duplicates += len(valid) - report.imported - (len(far) if refuse_outside else 0)
        report.outside = counts.get(Assignment.OUTSIDE, 0)
        report.nearest = counts.get(Assignment.NEAREST, 0)
        report.by_code = counts.get(Assignment.CODE, 0) + counts.get(Assignment.LEGACY_CODE, 0)
        report.by_address = counts.get(Assignment.ADDRESS, 0)
        report.ambiguous = counts.get(Assignment.AMBIGUOUS, 0)
        conn.execute(_DROP)
    report.flagged = flagged.reset_index(drop=True)
    report.rejected = int(report.rejects["line"].nunique()) if len(report.rejects) else 0
    finish_import_run(conn, report)
    return report


def _outside_rows(far: pd.DataFrame, nearest_m: float, refused: bool) -> pd.DataFrame:
    """Points beyond every commune as report rows: where the nearest commune is, and what happened to the row."""
    outcome = "không nhập (refused)" if refused else "vẫn lưu, không thuộc xã nào (kept as outside)"
    reasons = [
        f"điểm nằm ngoài mọi xã/phường, cách xã gần nhất {m / 1000:.1f} km (> {nearest_m:g} m): {outcome}"
        if pd.notna(m)
        else f"điểm nằm ngoài mọi xã/phường: {outcome}"
        for m in far["metres"]
    ]
    return pd.DataFrame({"line": far["line"].astype("int64"), "ref": far["ref"], "field": "lon/lat", "reason": reasons})


def _ordered(*parts: pd.DataFrame) -> pd.DataFrame:
    """Report rows of several checks as one table ordered by line."""
    present = [p for p in parts if len(p)]
    if not present:
        return empty_rejects()
    return pd.concat(present, ignore_index=True).sort_values(["line", "field"], kind="stable", ignore_index=True)


def _driver(conn: Connection) -> psycopg.Connection:
    """The psycopg connection under a SQLAlchemy one (for COPY and binary cursors)."""
    raw = conn.connection.driver_connection
    assert raw is not None, "a live connection"
    return raw

"""Bulk incident import: validate, COPY into a staging table, then set-based insert with commune assignment.

The whole import runs in the caller's transaction: an interrupted import leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, text
from tqdm import tqdm

from gis.readers import read_table
from models.incident_validation import split_duplicates_in_file, validate_incidents

COPY_CHUNK = 100_000
_STAGED = ("line", "ref", "occurred_at", "lon", "lat", "kind", "substance", "quantity_g", "arrested", "source")


@dataclass
class ImportReport:
    """Counts of one import plus its rejects (line, ref, field, reason) and warnings."""

    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    outside: int = 0
    nearest: int = 0
    import_id: int | None = None
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """The stable JSON summary printed by `--json`."""
        return {"imported": self.imported, "duplicates": self.duplicates,
                "rejected": self.rejected, "outside": self.outside}


def file_sha256(path: Path) -> str:
    """Content hash recorded with each import run."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def start_import_run(conn: Connection, dataset: str, path: Path, imported_by: str) -> int:
    """Record who imports which file; the row commits or rolls back with the import."""
    return conn.execute(
        text("INSERT INTO import_runs (dataset, file_name, file_sha256, imported_by, imported, duplicates,"
             " rejected, outside) VALUES (:d, :f, :h, :u, 0, 0, 0, 0) RETURNING id"),
        {"d": dataset, "f": path.name, "h": file_sha256(path), "u": imported_by},
    ).scalar_one()


def finish_import_run(conn: Connection, report: ImportReport) -> None:
    """Store the final counts of an import run."""
    conn.execute(
        text("UPDATE import_runs SET imported = :imported, duplicates = :duplicates, rejected = :rejected,"
             " outside = :outside WHERE id = :id"),
        {**report.summary(), "id": report.import_id},
    )


def _copy_staging(conn: Connection, valid: pd.DataFrame, progress: bool) -> None:
    conn.execute(text(
        "CREATE TEMP TABLE incident_staging (line int, ref text, occurred_at timestamptz, lon float8,"
        " lat float8, kind text, substance text, quantity_g float8, arrested int, source text)"
        " ON COMMIT DROP"))
    raw = conn.connection.driver_connection
    columns = ", ".join(_STAGED)
    with raw.cursor() as cur, cur.copy(f"COPY incident_staging ({columns}) FROM STDIN (FORMAT csv)") as copy, \
            tqdm(total=len(valid), desc="Ghi CSDL", unit="dòng", disable=not progress) as bar:
        for start in range(0, len(valid), COPY_CHUNK):
            chunk = valid.iloc[start:start + COPY_CHUNK]
            buffer = io.StringIO()
            chunk.loc[:, list(_STAGED)].to_csv(buffer, header=False, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
            copy.write(buffer.getvalue())
            bar.update(len(chunk))


_INSERT = text("""
WITH fresh AS (
    SELECT s.*, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom
    FROM incident_staging s
    WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.ref = s.ref)
), located AS (
    SELECT f.*, inside.code AS inside_code
    FROM fresh f
    LEFT JOIN LATERAL (
        SELECT p.code FROM admin_unit_parts p WHERE ST_Intersects(p.geom, f.geom) ORDER BY p.code LIMIT 1
    ) inside ON true
)
, inserted AS (
INSERT INTO incidents (ref, occurred_at, kind, substance, quantity_g, arrested, source,
                       commune_code, assignment, import_id, geom)
SELECT l.ref, l.occurred_at, l.kind, l.substance, l.quantity_g, l.arrested, l.source,
       COALESCE(l.inside_code, near.code),
       CASE WHEN l.inside_code IS NOT NULL THEN 'inside' WHEN near.code IS NOT NULL THEN 'nearest' ELSE 'outside' END,
       :import_id, l.geom
FROM located l
LEFT JOIN LATERAL (
    SELECT p.code FROM admin_unit_parts p
    WHERE l.inside_code IS NULL
      AND p.geom && ST_Expand(l.geom, :deg)
      AND ST_DWithin(p.geom::geography, l.geom::geography, :metres)
    ORDER BY ST_Distance(p.geom::geography, l.geom::geography), p.code
    LIMIT 1
) near ON true
ON CONFLICT (ref) DO NOTHING
RETURNING assignment
)
SELECT assignment, count(*) FROM inserted GROUP BY assignment
""")


def import_incidents(conn: Connection, path: Path, *, imported_by: str, nearest_m: float = 200.0,
                     now: datetime | None = None, progress: bool = False) -> ImportReport:
    """Import an incident CSV/GeoJSON inside the caller's transaction; valid rows in, every bad row reported."""
    raw = read_table(path)
    checked = validate_incidents(raw, now=now)
    valid, repeats = split_duplicates_in_file(checked.valid)
    report = ImportReport(rejects=checked.rejects, warnings=checked.warnings,
                          rejected=checked.rejected_rows, duplicates=repeats)
    report.import_id = start_import_run(conn, "incidents", path, imported_by)
    if len(valid):
        _copy_staging(conn, valid, progress)
        # A degree is >= 50 km anywhere in Vietnam: a safe bounding-box prefilter for the metric test.
        counts = dict(conn.execute(_INSERT, {"import_id": report.import_id, "metres": nearest_m,
                                             "deg": nearest_m / 50_000}).all())
        report.imported = sum(counts.values())
        report.duplicates += len(valid) - report.imported
        report.outside = counts.get("outside", 0)
        report.nearest = counts.get("nearest", 0)
        conn.execute(text("DROP TABLE incident_staging"))
    finish_import_run(conn, report)
    return report

"""Import the yearly commune indicators table; a re-import of a year replaces that year's values."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text

from gis.io.readers import read_table
from gis.store.communes import current_commune_codes
from gis.store.import_runs import ImportReport, finish_import_run, start_import_run
from models.domain.indicator_contract import validate_indicators

_COLUMNS = (
    "year",
    "commune_code",
    "population",
    "users_with_records",
    "plants_destroyed",
    "cultivation_m2",
    "on_drug_route",
    "organizing_places",
    "arrested_offenders",
    "source",
)


def import_indicators(
    conn: Connection, path: Path, *, imported_by: str, sheet: str | None = None, encoding: str | None = None
) -> ImportReport:
    """Import indicators in the caller's transaction: valid rows replace their years, bad rows are reported."""
    checked = validate_indicators(read_table(path, sheet=sheet, encoding=encoding), current_commune_codes(conn))
    report = ImportReport(rejects=checked.rejects, warnings=checked.warnings, rejected=checked.rejected_rows)
    report.import_id = start_import_run(conn, "indicators", path, imported_by)
    valid = checked.valid
    if len(valid):
        years = sorted(int(y) for y in valid["year"].unique())
        conn.execute(text("DELETE FROM commune_indicators WHERE year = ANY(:years)"), {"years": years})
        rows = valid.loc[:, list(_COLUMNS)].astype(object).where(valid.loc[:, list(_COLUMNS)].notna(), None)
        records = [dict(r, import_id=report.import_id) for r in rows.to_dict("records")]
        conn.execute(
            text(
                f"INSERT INTO commune_indicators ({', '.join(_COLUMNS)}, import_id)"
                f" VALUES ({', '.join(':' + c for c in _COLUMNS)}, :import_id)"
            ),
            records,
        )
        report.imported = len(records)
    finish_import_run(conn, report)
    return report

"""Import the yearly commune indicators table; a re-import replaces the values of the communes and years it gives.

A row names its commune by a current code, a legacy (pre-1 July 2025) code or its names. A year before
2025 is read in the legacy units first, so a 2024 table keyed by the old communes is summed onto today's
communes (`models.domain.unit_mapping.aggregate_legacy_indicators`, method `legacy_sum` recorded with the
old codes); a split old commune is reported, never apportioned.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from gis.io.readers import naming_the_sheet, read_table
from gis.io.report_rows import ReportRows
from gis.store.communes import current_commune_codes, place_names
from gis.store.data_versions import bump_data_version
from gis.store.import_runs import NO_ROWS, ImportReport, dry_run_savepoint, finish_import_run, start_import_run
from gis.store.indicators import hold_indicators
from gis.store.provinces import outside_province_reason, province_unit_codes
from gis.unit_directory import legacy_note, unit_directory
from models.domain.indicator_contract import REPEATED_UNIT, validate_indicators
from models.domain.row_checks import REJECT_COLUMNS, empty_rejects
from models.domain.unit_mapping import REFORM_DATE, UnitMatch, aggregate_legacy_indicators
from models.vocabulary import IndicatorMethod, local_today

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
    "method",
    "legacy_codes",
)


def _text(value: object) -> str:
    """A table cell as text, "" when missing."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def resolve_units(
    valid: pd.DataFrame, known: set[str], home: set[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Split validated rows into (rows per current commune, rows per old commune, rejects, notes); ``home``: the
    current units of a provincial uploader's province, where an address is read first (`UnitDirectory.locate`).

    Codes of years before 2025 are legacy codes when the file names a code only the old units have
    (`UnitDirectory.legacy_only`), else current ones (a table already re-expressed on today's units).
    """
    directory = unit_directory()
    early = (valid["year"] < REFORM_DATE.year).to_numpy()
    old_code = directory.legacy_only(valid["commune_code"].to_numpy()[early].astype(str))
    notes = [legacy_note(old_code, f"các năm trước {REFORM_DATE.year}")] if old_code else []
    cache: dict[tuple[str, str, bool, bool], tuple[UnitMatch, str]] = {}
    matches = []
    for code, address, before in zip(valid["commune_code"], valid["address"], early):
        key = (_text(code), _text(address), bool(before and old_code), bool(before))
        if key not in cache:
            cache[key] = directory.locate(*key[:3], known, home, before=key[3])
        matches.append(cache[key])
    found = np.array([m.found for m, _ in matches], dtype=bool)
    rejects = pd.DataFrame(
        [
            (line, code or address, field_name, match.reason)
            for (match, field_name), line, code, address in zip(
                matches, valid["line"], valid["commune_code"], valid["address"]
            )
            if not match.found
        ],
        columns=list(REJECT_COLUMNS),
    )
    legacy = np.array([m.system == "legacy" for m, _ in matches], dtype=bool) & found
    direct = valid[found & ~legacy].assign(
        commune_code=[m.candidates[0] for (m, _), keep in zip(matches, found & ~legacy) if keep],
        method=IndicatorMethod.DIRECT.value,
        legacy_codes=None,
    )
    old = valid[legacy].assign(
        legacy_code=[m.legacy_code for (m, _), keep in zip(matches, legacy) if keep],
        candidates=[m.candidates for (m, _), keep in zip(matches, legacy) if keep],
    )
    return direct, old, rejects if len(rejects) else empty_rejects(), notes


def repeated_units(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, rejects): a row naming the year and unit (`column`) of an earlier row in other words (by its code in
    one row, by its names in another) is refused with the line kept, as a repeat written alike is by the contract
    (the two rows reached the table's key together: the import stopped on a unique violation)."""
    repeated = frame.duplicated(["year", column], keep="first").to_numpy()
    if not repeated.any():
        return frame, empty_rejects()
    kept = frame.groupby(["year", column], sort=False)["line"].transform("first")[repeated]
    rejects = pd.DataFrame(
        {
            "line": frame["line"][repeated],
            "ref": frame[column][repeated],
            "field": "commune_code",
            "reason": [REPEATED_UNIT.format(line) for line in kept],
        }
    )
    return frame[~repeated], rejects


def in_province(
    direct: pd.DataFrame, old: pd.DataFrame, ours: set[str], reason: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(direct rows, old-commune rows, rejects) keeping only the rows of the units in `ours` (a province's codes): a
    current commune of another province, or an old commune any part of which lies outside, is refused."""
    inside_direct = direct["commune_code"].isin(ours).to_numpy(dtype=bool)
    inside_old = np.array([set(c) <= ours for c in old["candidates"]], dtype=bool)
    refused = [
        (line, code, "commune_code", reason)
        for frame, inside, column in ((direct, inside_direct, "commune_code"), (old, inside_old, "legacy_code"))
        for line, code in zip(frame["line"][~inside], frame[column][~inside])
    ]
    rejects = pd.DataFrame(refused, columns=list(REJECT_COLUMNS)) if refused else empty_rejects()
    return direct[inside_direct], old[inside_old], rejects


def import_indicators(
    conn: Connection,
    path: Path,
    *,
    imported_by: str,
    sheet: str | None = None,
    encoding: str | None = None,
    province: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import indicators in the caller's transaction: each valid row replaces its commune's values of its year, bad
    rows are reported.

    A commune the file does not give, or whose row is rejected, keeps the values it had: a corrected file of three
    communes, or a typo in one row, had deleted the whole year's other figures (the communes then read «thiếu dữ
    liệu»). An old commune's row also drops the stored sum of the current communes it lies in (its parts are new;
    the sum is stored again when the file gives every part).

    `province` (a provincial user's): only rows of that province's communes are kept, the others refused with
    their line. `dry_run`: the same import, rolled back at its end (:func:`dry_run_savepoint`); its report says what
    it would do.
    """
    with dry_run_savepoint(conn, dry_run):
        report = _import(conn, path, imported_by, sheet, encoding, province)
    return report.rolled_back() if dry_run else report


def _import(
    conn: Connection, path: Path, imported_by: str, sheet: str | None, encoding: str | None, province: str | None
) -> ImportReport:
    """The import itself (:func:`import_indicators`)."""
    table = read_table(path, sheet=sheet, encoding=encoding)
    with naming_the_sheet(path, sheet):
        checked = validate_indicators(table, places=place_names(conn), this_year=local_today().year)
    known = current_commune_codes(conn)
    ours = None if province is None else province_unit_codes(conn, province)
    direct, old, unit_rejects, notes = resolve_units(checked.valid, known, None if ours is None else ours & known)
    direct, repeated_direct = repeated_units(direct, "commune_code")
    old, repeated_old = repeated_units(old, "legacy_code")
    foreign = empty_rejects()
    if province is not None and ours is not None:
        direct, old, foreign = in_province(direct, old, ours, outside_province_reason(conn, province))
    summed, flagged = aggregate_legacy_indicators(old, unit_directory().legacy_parts)
    if len(summed) and len(direct):  # a commune given by its current code wins over the sum of its old parts
        given = set(zip(direct["year"], direct["commune_code"]))
        twice = [(y, c) in given for y, c in zip(summed["year"], summed["commune_code"])]
        summed = summed[~np.array(twice)]
    given = old.assign(commune_code=old["legacy_code"], method=IndicatorMethod.LEGACY_GIVEN.value, legacy_codes=None)
    parts = [f for f in (direct, summed, given) if len(f)]
    rows = pd.concat(parts, ignore_index=True) if parts else None
    report = ImportReport(
        rejects=ReportRows.of(checked.rejects, unit_rejects, repeated_direct, repeated_old, foreign),
        warnings=checked.warnings + notes + ([] if len(table) else [NO_ROWS]),
        flagged=ReportRows.of(flagged),
    )
    report.rejected = report.rejects.lines
    # Two planners loading the same year at once each deleted the year, and the second failed on the table's key when
    # the first committed (an internal error, HTTP 500): the second now waits, then replaces the first's rows.
    # Alone on the figures (hold_indicators) once the rows are checked: a draft being run or approved is waited for.
    hold_indicators(conn, exclusive=True)
    report.import_id = start_import_run(conn, "indicators", path, imported_by)
    if rows is not None:
        replaced = set(zip(rows["year"].astype(int), rows["commune_code"]))
        replaced |= {(int(y), c) for y, cs in zip(old["year"], old["candidates"]) for c in cs}
        years, codes = zip(*sorted(replaced))
        conn.execute(
            text(
                "DELETE FROM commune_indicators i USING unnest(CAST(:years AS int[]), CAST(:codes AS text[])) AS r(y, c)"
                " WHERE i.year = r.y AND i.commune_code = r.c"
            ),
            {"years": list(years), "codes": list(codes)},
        )
        table = rows.loc[:, list(_COLUMNS)].astype(object)
        table = table.where(table.notna(), None)
        records = [dict(r, import_id=report.import_id) for r in table.to_dict("records")]
        conn.execute(
            text(
                f"INSERT INTO commune_indicators ({', '.join(_COLUMNS)}, import_id)"
                f" VALUES ({', '.join(':' + c for c in _COLUMNS)}, :import_id)"
            ),
            records,
        )
        report.imported = len(records) - len(given)
        # Kept as given though counted in no current commune: a typo in another row must not refuse the file for them.
        report.kept_old = len(given)
        # A draft of a year loaded again says so (gis.store.classifications.find_run): its cached reads are renewed.
        bump_data_version(conn, "classification_runs")
    finish_import_run(conn, report)
    return report

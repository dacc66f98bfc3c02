"""Incident import at the speed of PostgreSQL, in bounded memory: the file is read, validated and streamed into
a staging table chunk by chunk (binary COPY); duplicates, commune assignment and storage are set-based phases
in PostgreSQL (gis.store.incident_load), each year stored in its partition (gis.store.incident_partitions).

A row with a point is assigned by PostGIS (inside a commune, the nearest one within `nearest_m`, or outside).
A row without one is placed by the commune code or the address it gives (current or pre-2025 units,
`gis.unit_directory`): no point is invented for it. The whole import runs in the caller's transaction: an
interrupted import leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection
from tqdm import tqdm

from gis.io.readers import naming_the_sheet, read_table_chunks
from gis.store import incident_load as load
from gis.store.communes import closed_unit_successors, current_commune_codes, place_names
from gis.store.import_runs import NO_ROWS, ImportReport, dry_run_savepoint, finish_import_run, start_import_run
from gis.store.provinces import outside_province_reason, province_unit_codes
from gis.unit_directory import legacy_note, normalise_code, unit_directory
from models.domain.dates import vn_day
from models.domain.incident_contract import validate_incidents
from models.domain.row_checks import ValidationResult
from models.domain.unit_mapping import REFORM_DATE, UnitMatch
from models.errors import InvalidRequest
from models.numbers import vn_number
from models.vocabulary import Assignment, OutsidePolicy


class _VietnameseBar(tqdm):
    """tqdm with its counts in Vietnamese numbers: «30.000 dòng, 25.312 dòng/s» (its own scaled «30.0k» put a decimal
    point where a Vietnamese reader sees a thousands dot)."""

    @property
    def format_dict(self) -> dict:
        """tqdm's fields, plus the rows read and the rows per second as ``vn_number`` writes them."""
        fields = super().format_dict
        rate = fields["rate"] or (fields["n"] / fields["elapsed"] if fields["elapsed"] else None)
        shown_rate = "?" if rate is None else vn_number(round(rate))
        return {**fields, "vn_rows": vn_number(fields["n"]), "vn_rate": shown_rate}


#: The bar's line: «Đọc và kiểm tra: 30.000 dòng [00:01, 25.312 dòng/s, Nạp: 0,4 s]».
BAR_FORMAT = "{desc}: {vn_rows} dòng [{elapsed}, {vn_rate} dòng/s{postfix}]"


class Progress:
    """The import's progress on stderr: the phase, rows read and rows per second (a no-op when disabled)."""

    def __init__(self, enabled: bool) -> None:
        self._bar = _VietnameseBar(desc="Đọc và kiểm tra", disable=not enabled, bar_format=BAR_FORMAT)
        self._rows = 0

    def advance(self, rows: int) -> None:
        self._rows += rows
        self._bar.update(rows)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """A set-based phase in PostgreSQL: its name while it runs, then rows per second over the whole import."""
        self._bar.set_description_str(name)
        self._bar.refresh()
        start = time.perf_counter()
        yield
        self._bar.set_postfix_str(f"{name}: {vn_number(time.perf_counter() - start, 1, fixed=True)} s", refresh=True)

    def close(self) -> None:
        self._bar.set_description_str("Xong")
        self._bar.close()


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
    province: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import an incident table (CSV/text, Excel, GeoJSON) inside the caller's transaction; valid rows in, every
    bad row reported. `sheet` picks a worksheet, `encoding` overrides the detected text encoding.

    A point outside every commune and farther than `nearest_m` from all of them is reported with its line
    and ref: kept as `outside` (`outside="keep"`) or refused like a reject (`outside="reject"`).

    `province` (a provincial user's): only rows placed in that province's communes are kept; a row placed in
    another province's, an old commune split beyond it, or a point outside every commune is refused.

    `dry_run`: the same import, rolled back at its end (:func:`dry_run_savepoint`); its report says what it would do.
    """
    if outside not in OutsidePolicy.values():
        raise InvalidRequest(
            f"--outside phải là một trong {', '.join(OutsidePolicy.values())}", "unknown outside policy"
        )
    bar = Progress(progress)
    try:
        refuse_outside = outside == OutsidePolicy.REJECT or province is not None
        with dry_run_savepoint(conn, dry_run):
            report = _import(conn, path, imported_by, nearest_m, now, bar, sheet, encoding, refuse_outside, province)
        return report.rolled_back() if dry_run else report
    finally:
        bar.close()


def _import(
    conn: Connection,
    path: Path,
    imported_by: str,
    nearest_m: float,
    now: datetime | None,
    bar: Progress,
    sheet: str | None,
    encoding: str | None,
    refuse_outside: bool,
    province: str | None,
) -> ImportReport:
    # The first chunk is read and checked before anything is written: a file that cannot be read, or lacks a
    # required column, is refused without an import run.
    chunks = read_table_chunks(path, sheet=sheet, encoding=encoding)
    first = next(chunks)
    check = partial(validate_incidents, now=now, places=place_names(conn))
    with naming_the_sheet(path, sheet):
        checked = check(first)
    # A savepoint: an import that fails midway leaves nothing, even inside a caller's longer transaction.
    with conn.begin_nested(), load.import_settings(conn):
        return _stage_and_store(
            conn, path, imported_by, nearest_m, check, bar, refuse_outside, province, checked, first, chunks
        )


def _stage_and_store(
    conn: Connection,
    path: Path,
    imported_by: str,
    nearest_m: float,
    check: Callable[[pd.DataFrame], ValidationResult],
    bar: Progress,
    refuse_outside: bool,
    province: str | None,
    checked: ValidationResult,
    first: pd.DataFrame,
    chunks: Iterator[pd.DataFrame],
) -> ImportReport:
    import_id = start_import_run(conn, "incidents", path, imported_by)
    report = ImportReport(import_id=import_id)
    read = 0
    with load.StagingCopy(conn) as staging:
        for rows, valid in _validated(first, checked, chunks, check):
            # A warning every chunk gives (unknown columns) is said once; one of later rows (a totals row at the
            # bottom, names in a column) too: it was lost, and the totals row left out without a word.
            report.warnings += [w for w in valid.warnings if w not in report.warnings]
            report.rejects.add(valid.rejects)
            if len(valid.valid):
                staging.write(load.staging_batch(valid.valid))
            bar.advance(rows)
            read += rows
            pa.default_memory_pool().release_unused()  # Arrow's allocator keeps freed chunks otherwise (+20 MB)
    if not read:
        report.warnings.append(NO_ROWS)
    if staging.without_point:  # rows placed by their code or address: none in a file where every row has a point
        with bar.phase("Xác định xã theo mã, địa chỉ"):
            report.warnings += _place_without_point(conn, province)
    with bar.phase("Loại trùng, gán xã/phường"):
        load.place(conn, staging.cells(), nearest_m, REFORM_DATE, load.history_exists(conn))
    for part in load.duplicates(conn, staging.rows):  # before any placed row is dropped (see there)
        report.duplicated.add(_duplicate_rows(part))
    unplaced = far = 0
    if staging.without_point:
        for part in load.unit_rejects(conn):
            report.rejects.add(part)
            unplaced += len(part)
        load.drop_unplaced(conn)
    if province is not None:
        for part in load.beyond_province(conn, province, outside_province_reason(conn, province)):
            report.rejects.add(part)
            unplaced += len(part)
        load.drop_beyond_province(conn, province)
    if staging.without_point:
        for part in load.ambiguous(conn):  # only rows without a point
            report.flagged.add(part)
    for part in load.outside(conn):
        (report.rejects if refuse_outside else report.flagged).add(_outside_rows(part, nearest_m, refuse_outside))
        far += len(part)
    if refuse_outside and far:
        load.drop_outside(conn)
    with bar.phase("Ghi vào CSDL"):
        counts = load.store(conn, import_id)
    load.drop_work_tables(conn)
    report.imported = sum(counts.values())
    # Every staged row is stored, a repeat of a ref in the file or in the database (a duplicate), unplaced (or
    # beyond the user's province) or refused outside.
    report.duplicates = staging.rows - report.imported - unplaced - (far if refuse_outside else 0)
    report.outside = counts.get(Assignment.OUTSIDE, 0)
    report.nearest = counts.get(Assignment.NEAREST, 0)
    report.by_code = counts.get(Assignment.CODE, 0) + counts.get(Assignment.LEGACY_CODE, 0)
    report.by_address = counts.get(Assignment.ADDRESS, 0)
    report.ambiguous = counts.get(Assignment.AMBIGUOUS, 0)
    report.rejected = report.rejects.lines
    finish_import_run(conn, report)
    return report


def _validated(
    first: pd.DataFrame,
    checked: ValidationResult,
    rest: Iterator[pd.DataFrame],
    check: Callable[[pd.DataFrame], ValidationResult],
) -> Iterator[tuple[int, ValidationResult]]:
    """(rows read, their validation) of each chunk: the first one checked already, then the others."""
    yield len(first), checked
    for chunk in rest:
        yield len(chunk), check(chunk)


def _closed_unit_match(code: str, name: str, closed_on: date, successors: tuple[str, ...]) -> UnitMatch:
    """A code of a loaded unit a boundary import has closed since (merged away, split, re-coded): placed like a
    2025 legacy code — in the one current unit that took (almost) all of its ground, else ambiguous among those
    that share it — with the closed unit as its unit at its date. Before, such a row was refused «nằm ngoài các
    xã/phường đã nạp», a register keyed by the communes as they stood until the merger could not go in."""
    return UnitMatch("legacy", successors, code, f"{name} (mã {code}, đã khép lại từ {vn_day(closed_on)})")


def _place_without_point(conn: Connection, province: str | None) -> list[str]:
    """Resolve each distinct (code, address, before the reform) of the staged rows without a point, once; the
    report's notes. Codes of rows dated before 1 July 2025 are read as legacy codes when the file names a code
    that only the old units have (`UnitDirectory.legacy_only`), else as current codes. A provincial uploader's
    (``province``) address is read in their province first (`UnitDirectory.locate`)."""
    keys = load.unit_keys(conn, REFORM_DATE)
    if not keys:  # every row has a point: nothing to look up, no directory to load
        return []
    directory = unit_directory()
    known = current_commune_codes(conn)
    home = None if province is None else province_unit_codes(conn, province) & known
    old_code = directory.legacy_only(code for code, _, before in keys if before and code)
    closed = closed_unit_successors(conn) if any(code for code, _, _ in keys) else {}
    units = []
    for code, address, before in keys:
        match, field_name = directory.locate(code, address, before and old_code is not None, known, home, before=before)
        if not match.found and code and normalise_code(code) in closed:
            match, field_name = _closed_unit_match(normalise_code(code), *closed[normalise_code(code)]), "commune_code"
        found = match.found
        units.append(
            {
                "code": code,
                "address": address,
                "before": before,
                "unit_code": match.commune_code if found else None,
                "assignment": match.assignment.value if found else None,
                "legacy_code": match.legacy_code if found else None,
                "candidates": list(match.candidates) if match.assignment == Assignment.AMBIGUOUS else None,
                "field": field_name,
                "reason": (
                    match.describe() + " (ambiguous: kept without a commune)"
                    if found and match.assignment == Assignment.AMBIGUOUS
                    else None
                    if found
                    else match.reason
                ),
            }
        )
    load.place_units(conn, units, REFORM_DATE)
    return [legacy_note(old_code, "trước 1/7/2025")] if old_code else []


#: Why a row was left out as a duplicate: its ref is stored already, or repeats the ref of a row of the file kept.
STORED_REF = "mã đã có trong cơ sở dữ liệu (ref already stored)"
REPEATED_REF = "trùng mã với dòng {0} (repeats the ref of line {0})"


def _duplicate_rows(part: pd.DataFrame) -> pd.DataFrame:
    """Rows left out as duplicates (line, ref, the line kept of their ref) as report rows."""
    reasons = [STORED_REF if pd.isna(kept) else REPEATED_REF.format(int(kept)) for kept in part["kept"]]
    return pd.DataFrame({"line": part["line"], "ref": part["ref"], "field": "ref", "reason": reasons})


def _outside_rows(far: pd.DataFrame, nearest_m: float, refused: bool) -> pd.DataFrame:
    """Points beyond every commune as report rows: where the nearest commune is, and what happened to the row."""
    outcome = "không nhập (refused)" if refused else "vẫn lưu, không thuộc xã nào (kept as outside)"
    reasons = [
        f"điểm nằm ngoài mọi xã/phường, cách xã gần nhất {vn_number(m / 1000, 1, fixed=True)} km"
        f" (> {vn_number(nearest_m, trim=True)} m): {outcome}"
        if pd.notna(m)
        else f"điểm nằm ngoài mọi xã/phường: {outcome}"
        for m in far["metres"]
    ]
    return pd.DataFrame({"line": far["line"].astype("int64"), "ref": far["ref"], "field": "lon/lat", "reason": reasons})

"""Imports from the pages: a planner uploads the yearly commune indicators, command an incident file, an
administrator a boundary file.

The same services as `diaban indicators import`, `diaban incidents import` and `diaban boundaries import`, in the
request's transaction: a file
none of whose rows can be kept, or one that cannot be read, is refused (422) and leaves nothing, not even its import
run. The upload is written to a temporary file under its own name (the readers choose the format by its suffix; the
import run records the name) and removed afterwards. A provincial user loads only the rows of their province's
communes; the others are refused with their line, like any bad row.

`dry_run=true` («Kiểm tra tệp»): the same import with the same rights, rolled back at its end
(gis.store.import_runs.dry_run_savepoint); the same answer, refusals included, says what the import would do now
(``dry_run: true``, no import run). It writes nothing, so it forgets no data version and sets no write cookie.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile

from api.deps import Admin, ConnDep, OneOfEachPart, require_roles
from api.errors import ImportRefused
from api.limits import upload_body_size
from api.params import SaneDate
from api.replicas import wrote_nothing
from api.schemas import ImportOut, ImportRefusedOut
from api.slots import heavy
from gis.io.exports import vn_megabytes
from gis.settings import DataSettings
from models.domain.access import Principal
from models.errors import InvalidInput, InvalidRequest
from models.vocabulary import (
    INCIDENT_FIELD_LABELS,
    INDICATOR_FIELD_LABELS,
    OutsidePolicy,
    Role,
    column_label,
    summary_line,
    vietnamese_reason,
)

if TYPE_CHECKING:
    from gis.io.report_rows import ReportRows
    from gis.services.boundary_import import BoundaryReport
    from gis.store.import_runs import ImportReport

router = APIRouter(prefix="/api/imports", tags=["imports"])

IndicatorLoader = Annotated[Principal, Depends(require_roles(Role.PLANNER, Role.ADMIN))]
IncidentLoader = Annotated[Principal, Depends(require_roles(Role.COMMAND, Role.ADMIN))]
Upload = Annotated[
    UploadFile, File(description="the file: CSV/text (.csv, .txt), Excel (.xlsx) or, for incidents, GeoJSON")
]
Sheet = Annotated[
    str | None, Form(max_length=200, description="the worksheet of an Excel file (default: the first visible one)")
]
DryRun = Annotated[
    bool,
    Query(
        description="only check the file: the import runs and is rolled back, nothing is written; the answer (or the"
        " refusal) is the one the import would give now, with `dry_run: true`"
    ),
]


def note_dry_run(request: Request, dry_run: bool) -> None:
    """A dry run's request noted as writing nothing (api.replicas.wrote_nothing), whatever its answer."""
    if dry_run:
        wrote_nothing(request.state)


#: Refused, duplicate and flagged rows an answer lists (the first ones in line order; `total` counts them all).
IMPORT_ROWS_SHOWN = 1_000
#: Characters of an uploaded file's name kept before its suffix (a file system takes 255 bytes, 3 per letter).
NAME_CHARS = 80
#: A workbook (a zip of XML parts) unpacks to at most this many times the upload limit in all, and no part to more
#: than `PACKED_RATIO` times its packed size (real workbooks: about 9; Apache POI refuses past 100): a "zip bomb" of a
#: few hundred kilobytes holding one cell of gigabytes would otherwise be unpacked into memory.
UNPACKED_TIMES_LIMIT = 10
PACKED_RATIO = 100
#: Characters of a reader's refusal kept in the answer and the log: it may quote the file's header, which can be the
#: whole upload (one line of 20 MB echoed twice in the answer and once in the log).
REFUSAL_CHARS = 1_000
REFUSED_RESPONSE: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ImportRefusedOut,
        "description": "tệp không đọc được, hoặc không dòng nào hợp lệ (kèm báo cáo từng dòng bị loại); không nhập gì",
    }
}


class UnreadableUpload(InvalidRequest):
    """An uploaded file that cannot be read as a table (422: the request's content is what is wrong)."""

    code = "unreadable_file"


def upload_name(filename: str | None, suffixes: set[str]) -> str:
    """The uploaded file's own name, without any folder a client sent with it (``C:\\fakepath\\chi-so.csv``,
    ``../chi-so.csv``) nor control or format characters (a terminal's escape sequences, the right-to-left override
    U+202E that shows the end of a name backwards: the name is stored, logged and listed), and shortened to fit a file
    system; refused unless its suffix is one of ``suffixes`` (an old workbook, .xls, told to be saved as .xlsx, as the
    command line tells it)."""
    sent = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in sent if not unicodedata.category(char).startswith("C")).strip()
    path = Path(name)
    if path.suffix.lower() not in suffixes or not path.stem.strip(". "):
        from gis.io.readers import EXCEL_SUFFIXES, save_as_hint

        allowed = ", ".join(sorted(suffixes))
        hint = save_as_hint(path.suffix) if EXCEL_SUFFIXES & suffixes else ""
        raise UnreadableUpload(
            f"tệp «{name[:NAME_CHARS]}» không đúng loại: chỉ nhận tệp {allowed}{hint}",
            f"unsupported file name or type; accepted: {allowed}",
        )
    return path.stem[:NAME_CHARS] + path.suffix.lower()


def clipped(text: str) -> str:
    """``text`` cut to `REFUSAL_CHARS` characters, an ellipsis saying it was."""
    return text if len(text) <= REFUSAL_CHARS else text[: REFUSAL_CHARS - 1] + "…"


@contextmanager
def uploaded(upload: UploadFile, suffixes: set[str]) -> Iterator[Path]:
    """The upload as a file of its own name in a temporary folder, removed with the folder afterwards; an empty or
    unreadable file, or a zip bomb of a workbook, is an :class:`UnreadableUpload`."""
    from gis.io.readers import EXCEL_SUFFIXES  # loads pandas, as the readers the upload is for do

    name = upload_name(upload.filename, suffixes)
    with tempfile.TemporaryDirectory(prefix="diaban-upload-") as folder:
        path = Path(folder) / name
        with open(path, "wb") as out:
            shutil.copyfileobj(upload.file, out, 1 << 20)
        if path.stat().st_size == 0:
            raise UnreadableUpload(f"tệp «{name}» trống", "empty file")
        if path.suffix in EXCEL_SUFFIXES:
            refuse_zip_bomb(path)
        try:
            yield path
        except InvalidInput as exc:  # the readers' refusal of the file itself (format, encoding, columns)
            raise UnreadableUpload(f"tệp «{name}»: {clipped(exc.message)}", exc.reason and clipped(exc.reason)) from exc


def refuse_zip_bomb(path: Path) -> None:
    """:class:`UnreadableUpload` for a workbook that unpacks to more than `UNPACKED_TIMES_LIMIT` times the upload
    limit, or holds a part packed more than `PACKED_RATIO` times (the sizes its zip directory declares: Python's
    zipfile stops a part at its declared size). A file that is no zip is left to the reader, which says so."""
    try:
        with zipfile.ZipFile(path) as packed:
            parts = packed.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    unpacked = sum(part.file_size for part in parts)
    bomb = any(part.file_size > 2**20 and part.file_size > PACKED_RATIO * part.compress_size for part in parts)
    if bomb or unpacked > UNPACKED_TIMES_LIMIT * upload_body_size():
        raise UnreadableUpload(
            f"tệp «{path.name}» giải nén ra quá lớn ({vn_megabytes(unpacked)}), không giống một bảng tính thật",
            f"the workbook unpacks to {unpacked} bytes (a zip bomb?)",
        )


def report_rows(rows: ReportRows, labels: dict[str, str]) -> dict[str, Any]:
    """The first `IMPORT_ROWS_SHOWN` report rows, each column by its Vietnamese name too, and how many there are."""
    shown = [
        {
            "line": line,
            "ref": ref,
            "field": field,
            "field_label": column_label(field, labels) if field else None,
            "reason": reason,
            "message": vietnamese_reason(reason) if reason else reason,
        }
        for line, ref, field, reason in itertools.islice(rows.rows(), IMPORT_ROWS_SHOWN)
    ]
    return {"total": len(rows), "rows": shown}


def report_body(
    title: str,
    file_name: str,
    counts: dict[str, int],
    labels: dict[str, str],
    rejects: ReportRows,
    *,
    warnings: list[str] | None = None,
    duplicated: ReportRows | None = None,
    flagged: ReportRows | None = None,
    import_id: int | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """An import's report as the pages show it (ImportOut): the summary line, warnings and the rows refused,
    duplicated or flagged (none: an empty list); a dry run's says what would be imported."""
    none = {"total": 0, "rows": []}
    return {
        "import_id": import_id,
        "dry_run": dry_run,
        "file_name": file_name,
        "counts": counts,
        "summary": summary_line(title, counts, dry_run=dry_run),
        "warnings": warnings or [],
        "rejected": report_rows(rejects, labels),
        "duplicates": report_rows(duplicated, labels) if duplicated is not None else none,
        "flagged": report_rows(flagged, labels) if flagged is not None else none,
    }


def answer(
    title: str, report: ImportReport, counts: dict[str, int], labels: dict[str, str], file_name: str
) -> dict[str, Any]:
    """An import's answer; :class:`ImportRefused` (422, the import rolled back) when every row was rejected."""
    body = report_body(
        title,
        file_name,
        counts,
        labels,
        report.rejects,
        warnings=report.warnings,
        duplicated=report.duplicated,
        flagged=report.flagged,
        import_id=report.import_id,
        dry_run=report.dry_run,
    )
    if report.nothing_usable:
        raise ImportRefused({**body, "import_id": None})
    return body


@router.post("/indicators", response_model=ImportOut, max_body_size=upload_body_size(), responses=REFUSED_RESPONSE)
def post_indicators(
    request: Request,
    conn: ConnDep,
    user: IndicatorLoader,
    parts: OneOfEachPart,
    file: Upload,
    sheet: Sheet = None,
    dry_run: DryRun = False,
) -> dict[str, Any]:
    """Load a yearly indicators table (as `diaban indicators import`): valid rows replace their years' values, each
    bad row is reported with its line. A provincial planner loads, and replaces, only their province's communes.
    `dry_run`: only check the file (the same import, rolled back)."""
    # Imported here, as the command does: the readers and the import services load pandas and pyarrow, which a
    # server process starts without (tests/unit/test_lean_imports.py).
    from gis.io.readers import EXCEL_SUFFIXES, TEXT_SUFFIXES
    from gis.services.indicator_import import import_indicators

    note_dry_run(request, dry_run)
    with uploaded(file, TEXT_SUFFIXES | EXCEL_SUFFIXES) as path:
        report = heavy(
            request,
            lambda: import_indicators(
                conn,
                path,
                imported_by=user.username,
                sheet=sheet or None,
                province=user.province_code,
                dry_run=dry_run,
            ),
        )
        return answer("Chỉ số", report, report.indicator_summary(), INDICATOR_FIELD_LABELS, path.name)


@router.post("/incidents", response_model=ImportOut, max_body_size=upload_body_size(), responses=REFUSED_RESPONSE)
def post_incidents(
    request: Request,
    conn: ConnDep,
    user: IncidentLoader,
    parts: OneOfEachPart,
    file: Upload,
    sheet: Sheet = None,
    outside: Annotated[
        OutsidePolicy, Form(description="a point beyond every commune: kept as outside, or refused")
    ] = OutsidePolicy.KEEP,
    dry_run: DryRun = False,
) -> dict[str, Any]:
    """Load an incident file (as `diaban incidents import`): new refs stored, repeated ones counted as duplicates,
    each bad row reported with its line. A provincial user loads only rows placed in their province's communes (a
    point outside every commune is refused for them). `dry_run`: only check the file (the same import, rolled
    back)."""
    from gis.io.readers import EXCEL_SUFFIXES, GEOJSON_SUFFIXES, TEXT_SUFFIXES
    from gis.services.incident_import import import_incidents

    note_dry_run(request, dry_run)
    with uploaded(file, TEXT_SUFFIXES | EXCEL_SUFFIXES | GEOJSON_SUFFIXES) as path:
        report = heavy(
            request,
            lambda: import_incidents(
                conn,
                path,
                imported_by=user.username,
                nearest_m=DataSettings().nearest_commune_m,
                sheet=sheet or None,
                outside=outside,
                province=user.province_code,
                dry_run=dry_run,
            ),
        )
        return answer("Vụ việc", report, report.summary(), INCIDENT_FIELD_LABELS, path.name)


@router.post("/boundaries", response_model=ImportOut, max_body_size=upload_body_size(), responses=REFUSED_RESPONSE)
def post_boundaries(
    request: Request,
    conn: ConnDep,
    user: Admin,
    parts: OneOfEachPart,
    file: Annotated[UploadFile, File(description="the boundary file: GeoJSON (.geojson, .json), any CRS")],
    valid_from: Annotated[
        SaneDate | None,
        Form(description="the day the file's units take effect (default: the 1 July 2025 reorganisation)"),
    ] = None,
    valid_to: Annotated[
        SaneDate | None,
        Form(description="an earlier set of units: the day (excluded) they ended; stored closed, beside the current"),
    ] = None,
    whole: Annotated[
        bool,
        Form(
            description="the file is the whole current set of the provinces it covers: their current units missing"
            " from it are closed at `valid_from`"
        ),
    ] = False,
    allow_many_closed: Annotated[
        bool, Form(description="with `whole`: allow closing more than half of a province's current units")
    ] = False,
    dry_run: DryRun = False,
) -> dict[str, Any]:
    """Load a boundary file (as `diaban boundaries import`): new or changed units open a version from `valid_from`,
    the same file again changes nothing; incidents, hotspots and unfinished tasks follow the new boundaries. Each
    feature refused is reported with its number in the file and its code; a file none of whose features can be kept
    is refused (422). Administrators only, and an administrator's reach is the whole country (no administrator is
    limited to a province: `check_user_scope`, and the users table's check), as a boundary file's is. The import
    run records who loaded which file. `dry_run`: only check the file (the same import, rolled back)."""
    from gis.io.readers import GEOJSON_SUFFIXES
    from gis.services.boundary_import import DEFAULT_VALID_FROM, import_boundaries

    note_dry_run(request, dry_run)
    with uploaded(file, GEOJSON_SUFFIXES) as path:
        report = heavy(
            request,
            lambda: import_boundaries(
                conn,
                path,
                valid_from=valid_from or DEFAULT_VALID_FROM,
                valid_to=valid_to,
                imported_by=user.username,
                whole=whole,
                allow_many_closed=allow_many_closed,
                dry_run=dry_run,
            ),
        )
        return boundary_answer(report, path.name)


def boundary_answer(report: BoundaryReport, file_name: str) -> dict[str, Any]:
    """A boundary import's answer: its counts as the command prints them, each refused feature a report row (its
    number in the file as the line, its code as the ref); :class:`ImportRefused` when every feature was refused."""
    import pandas as pd

    from gis.io.report_rows import ReportRows

    refused = pd.DataFrame(
        {
            "line": [reject["feature"] for reject in report.rejects],
            "ref": [reject["code"] or None for reject in report.rejects],
            "field": [None] * len(report.rejects),
            "reason": [reject["reason"] for reject in report.rejects],
        }
    )
    body = report_body(
        "Ranh giới",
        file_name,
        report.summary(),
        {},
        ReportRows.of(refused),
        warnings=report.warnings,
        import_id=report.import_id,
        dry_run=report.dry_run,
    )
    if report.nothing_usable:
        raise ImportRefused({**body, "import_id": None}, "không có đối tượng nào hợp lệ trong tệp: không nhập gì")
    return body

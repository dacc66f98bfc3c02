"""File formats of the outputs a commander hands upward: the year's classification, the hotspot register, the KPI report.

Pure: rows in, bytes out. Every table has an STT column, Vietnamese headers and values shown as people read
them (labels, not codes; integers as integers; "thiếu dữ liệu" for what is missing). A CSV writes its figures as
text with a decimal comma; an Excel file holds them as numbers and days as dates, each in the number format that
shows it so (``gis.io.figures``), for the reader to sum, sort and filter. ``raw=True`` gives the same rows under the
stable machine names and codes, as they are (for scripts, not for opening in Excel). A CSV's cells that a spreadsheet
would run as a formula are neutralised; an Excel file's texts are string cells, never run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from gis.io.figures import Figure, day_cell, number_cell, number_text, time_cell
from gis.io.heading import Heading
from models.domain.dates import DayWindow, vn_day, vn_time
from models.domain.kpi import BOUND_WORDS, drug_free_count
from models.domain.legal_rules import faithful_decimals, requirement
from models.domain.period_report import FROM_ZERO, NO_DATA
from models.errors import InvalidRequest
from models.frames import frame_records
from models.lazy import lazy_module
from models.numbers import vn_number
from models.vocabulary import (
    FORECAST_HEADER,
    FORECAST_SHOWN_BOUNDS,
    KPI_BLANK_MEANINGS,
    KPI_NO_DATA,
    KPI_NOT_APPLICABLE,
    LEAVING_DRUG_FREE_LABEL,
    MISSING_DATA_LABEL,
    NO_FORECAST,
    AreaLevel,
    HotspotKind,
    HotspotStatus,
    RunStatus,
    class_label,
    forecast_bound_text,
    without_accents,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

FORMATS = ("csv", "geojson", "xlsx")
MISSING = MISSING_DATA_LABEL
METHOD_LABELS = {"legal": "Theo tiêu chí", "override": "Điều chỉnh thủ công"}
#: A CSV cell starting with one of these is run as a formula by spreadsheets (CSV injection): it is prefixed with '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportFile:
    """An export ready to write or send, and how many rows (communes, KPIs, hotspots) it holds: the access log
    records every export with its size; ``name``: what the API offers it for download as (:func:`download_name`)."""

    content: bytes
    rows: int
    name: str | None = None


#: What a province's code may not bring into a file name: anything but letters, digits, '_' and '.'.
_NOT_IN_NAME = re.compile(r"[^\w.]+")


def download_name(stem: str, year: int, run: dict[str, Any], province_code: str | None, fmt: str) -> str:
    """The Vietnamese name a file built on a classification run is downloaded as: what it is, the year, the run's
    version and whether it is approved (a draft sent upward must not pass for the approved list), and the province it
    covers (none: every unit), e.g. ``phân-loại-2025-v2-bản-nháp-tỉnh-31.xlsx``,
    ``báo-cáo-chỉ-tiêu-2025-v1-đã-phê-duyệt.xlsx`` (:func:`ascii_name` gives its plain-letter fallback)."""
    status = "đã-phê-duyệt" if run["status"] == RunStatus.APPROVED else "bản-nháp"
    return f"{stem}-{year}-v{run['version']}-{status}{_area_in_name(province_code)}.{fmt}"


def _area_in_name(province_code: str | None) -> str:
    """The province a file covers, as its name ends: ``-tỉnh-31``; nothing for every unit."""
    return "" if province_code is None else f"-tỉnh-{_NOT_IN_NAME.sub('-', province_code)}"


def day_in_name(day: date) -> str:
    """A day as every download name writes it: ``dd-mm-yyyy`` as Vietnamese readers write a day (``31-03-2026``; an
    audit export had been named with the ISO ``2026-12-07`` beside the periodic report's ``01-01-2026``)."""
    return f"{day:%d-%m-%Y}"


def period_file_name(period: DayWindow, province_code: str | None) -> str:
    """The name a periodic report is downloaded as: its first and last days and its province (none: every unit),
    ``báo-cáo-định-kỳ-01-01-2026-đến-31-03-2026-tỉnh-31.xlsx``."""
    days = f"{day_in_name(period.first)}-đến-{day_in_name(period.last)}"
    return f"báo-cáo-định-kỳ-{days}{_area_in_name(province_code)}.xlsx"


def ascii_name(name: str) -> str:
    """A file name in plain ASCII letters (``phân-loại-2025-v1-bản-nháp.csv`` → ``phan-loai-2025-v1-ban-nhap.csv``):
    what a client that cannot read a UTF-8 name (RFC 6266's ``filename``) saves the file as; any other character
    becomes '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", without_accents(name))


def safe_cell(value: Any) -> Any:
    """A CSV value a spreadsheet shows as text, never runs: formula-like text gets a leading apostrophe (an Excel file
    needs none: its texts are string cells)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def vn_megabytes(size: int, over: int | None = None) -> str:
    """A size in bytes as MB to one decimal, written the Vietnamese way: '9,4 MB', '8 MB'. ``over``: a limit in bytes the
    size exceeds — rounded up where it would read as the limit («ảnh quá lớn: 8 MB, tối đa 8 MB» for 8.02 MB)."""
    megabytes = round(size / 2**20, 1)
    if over is not None and megabytes <= round(over / 2**20, 1):
        megabytes = math.ceil(size * 10 / 2**20) / 10
    return f"{vn_number(megabytes, 1)} MB"


def _when(value: Any) -> str:
    return "" if value is None or value is pd.NaT else vn_day(value)


@dataclass(frozen=True)
class Column:
    """One output column: its machine name, its Vietnamese header, how a value is shown (in a CSV) and, when it is
    a figure or a day, the Excel cell that holds it (a :class:`~gis.io.figures.Figure`; None: the shown text)."""

    name: str
    header: str
    show: Callable[[Any], Any] = lambda v: "" if v is None else v
    cell: Callable[[Any], Any] | None = None

    def excel(self, value: Any) -> Any:
        """What an Excel cell holds of ``value``: its figure, else the shown value (a string cell, never run:
        :func:`gis.io.excel.administrative_workbook`)."""
        return self.cell(value) if self.cell else self.show(value)


def feature_properties(columns: Sequence[Column], row: dict[str, Any]) -> dict[str, Any]:
    """A row as the properties of a GeoJSON feature a GIS user opens (QGIS): each column under its Vietnamese header,
    as the CSV shows it, except that a figure is a JSON number (:attr:`~gis.io.figures.Figure.plain`) so that the field
    is numeric, and a value missing is null (an empty attribute) — «thiếu dữ liệu» in a number field would have made the
    whole field text. A verdict's «thiếu dữ liệu» stays: that field is text."""
    properties: dict[str, Any] = {}
    for column in columns:
        value = row.get(column.name)
        shown = column.cell(value) if column.cell else column.show(value)
        if isinstance(shown, Figure):
            properties[column.header] = shown.plain
        elif shown in ("", None) or (column.cell and shown == MISSING):
            properties[column.header] = None
        else:
            properties[column.header] = shown
    return properties


def feature_collection(name: str, description: str, features: list[dict[str, Any]]) -> bytes:
    """A GeoJSON FeatureCollection named ``name`` (the layer's name in QGIS: GDAL reads the ``name`` member) and
    described by ``description`` (what it holds, when, by whom, on which basis), UTF-8 without escapes."""
    collection = {"type": "FeatureCollection", "name": name, "description": description, "features": features}
    return json.dumps(collection, ensure_ascii=False, default=str).encode("utf-8")


def write_csv(columns: Sequence[Column], rows: Sequence[dict[str, Any]], *, raw: bool = False) -> bytes:
    """CSV for Excel (UTF-8 with BOM): Vietnamese headers and shown values separated by ';', formula-like text
    neutralised; or, if ``raw``, for scripts: machine names and values as they are (:func:`raw_value`) separated by
    ',', UTF-8 without BOM (a BOM glued to the first column's name).

    The shown values write decimals with a comma, as Excel does under Vietnamese regional settings, whose list
    separator is then ';': a comma-separated file opened there put every row in the first column, and "87,5" in
    a comma-separated file is a quoted text, never a number."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="," if raw else ";", lineterminator="\n")
    if raw:
        writer.writerow([c.name for c in columns])
        writer.writerows([[raw_value(row.get(c.name)) for c in columns] for row in rows])
        return buffer.getvalue().encode("utf-8")
    writer.writerow(["STT", *(c.header for c in columns)])
    writer.writerows([[i, *(safe_cell(c.show(row.get(c.name))) for c in columns)] for i, row in enumerate(rows, 1)])
    return buffer.getvalue().encode("utf-8-sig")


def raw_value(value: Any) -> Any:
    """A value as a raw CSV writes it for a script: a yes/no as ``true``/``false`` (as JSON writes it), a value
    missing as an empty cell, a day or time in ISO 8601 (``2026-10-31``, ``2026-10-31T02:30:00+00:00``), a number
    with a decimal point, a text verbatim."""
    if isinstance(value, np.generic):  # pandas' rows hold numpy's booleans and numbers
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value is pd.NaT:
        return ""
    return value.isoformat() if isinstance(value, date) else value


def check_raw(fmt: str, raw: bool) -> None:
    """Refuse ``raw`` for an Excel file: an Excel file is a report for people (Vietnamese headers and labels); a
    script reads the raw CSV or GeoJSON."""
    if raw and fmt == "xlsx":
        raise InvalidRequest(
            "dạng thô chỉ có cho CSV và GeoJSON (cho chương trình); tệp Excel là báo cáo cho người đọc",
            "raw is for csv and geojson",
        )


def workbook(
    title: str,
    subtitle: str,
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    *,
    heading: Heading,
    issued: str,
    sheet: str,
    widths: Sequence[int] | None = None,
    frozen: int = 2,
) -> bytes:
    """An administrative Excel table of these rows, issued under ``heading`` on a sheet named ``sheet``, the header and
    the first ``frozen`` columns (STT counted) kept in view: Vietnamese headers only, a report to print and send on (a
    script reads ``raw=True`` or the JSON API; a grey row of machine names had puzzled readers). ``issued``: who
    exported it when, what it covers and its basis (:meth:`~gis.io.heading.Heading.issued_line`)."""
    from gis.io.excel import administrative_workbook  # here: openpyxl is ~20 MB in every server process otherwise

    return administrative_workbook(
        title,
        subtitle,
        ["STT", *(c.header for c in columns)],
        [[i, *(c.excel(row.get(c.name)) for c in columns)] for i, row in enumerate(rows, 1)],
        heading=heading,
        issued=issued,
        sheet=sheet,
        widths=widths,
        frozen=frozen,
    )


def with_province(columns: Sequence[Column], rows: Sequence[dict[str, Any]], after: str) -> list[Column]:
    """``columns`` with the rows' province («Tỉnh, thành phố») after the column named ``after`` when the rows lie in
    several provinces: nation-wide, 572 of the 3,321 units share their name with a unit of another province."""
    if len({row.get("province") for row in rows}) < 2:
        return list(columns)
    at = next(i for i, c in enumerate(columns) if c.name == after) + 1
    return [*columns[:at], Column("province", "Tỉnh, thành phố"), *columns[at:]]


def _widths(columns: Sequence[Column], widths: Sequence[int], province: int = 16) -> list[int]:
    """Column widths of a workbook (STT first) for ``columns``, ``widths`` given for them without the province."""
    at = next((i for i, c in enumerate(columns) if c.name == "province"), None)
    return list(widths) if at is None else [*widths[: at + 1], province, *widths[at + 1 :]]


# ----------------------------------------------------------------------------------------- classification
def _class(row: dict[str, Any], prefix: str = "") -> str:
    category = row.get(f"{prefix}category")
    level = row.get(f"{prefix}level")
    return class_label(category, level if isinstance(level, str) else None) if category else MISSING


def classification_columns(criteria: Sequence[dict[str, Any]], *, raw: bool = False) -> list[Column]:
    """Commune, final class, legal class, method, override, missing data and the level it could reach, then each
    criterion's figures (as the legal rules word them, units included, in a CSV; a number cell in an Excel file, what
    the criterion asks of it in the header; the bare value when ``raw``) and verdict. ``raw``: each class as its
    category and level codes (the JSON API's ``category``, ``level``, ``legal_category``, ``legal_level``)."""
    classes = (
        [Column(name, name) for name in ("category", "level", "legal_category", "legal_level")]
        if raw
        else [Column("final_class", "Phân loại"), Column("legal_class", "Theo tiêu chí")]
    )
    columns = [
        Column("commune_code", "Mã đơn vị"),
        Column("name", "Tên đơn vị"),
        *classes,
        Column("method", "Cách xác định", lambda v: METHOD_LABELS.get(v, v or "")),
        Column("override_reason", "Lý do điều chỉnh"),
        Column("override_by", "Người điều chỉnh"),
        Column("incomplete", "Thiếu dữ liệu", lambda v: "Có" if v else "Không"),
        Column("possible_level", "Có thể đạt loại (nếu đủ dữ liệu)", lambda v: f"Loại {v}" if v else ""),
        *forecast_columns(raw=raw),
    ]
    for c in criteria:
        cid = c["criterion_id"]
        title = c.get("title") or cid  # "loại I (đ)", "không ma túy (1)": the words of the decision, not "I.dd"
        header = f"Tiêu chí {title}: số liệu"
        if raw:
            columns.append(Column(f"{cid}.value", header, _stated))
        else:
            if c.get("unit") is not None:  # one figure, compared with one threshold: said once, above the numbers
                header += f" (cần {requirement(c['op'], c['threshold'], c['unit'])})"
            columns.append(Column(cid, header, _criterion_text, _criterion_cell))
        columns.append(Column(f"{cid}.met", f"Tiêu chí {title}: đánh giá", _verdict))
    return columns


#: The forecast's headers say it is one, and not a class under the decision (the page's note says more:
#: models.forecast.learned.FORECAST_NOTE).
_FORECAST_BASIS = "tham khảo, không phải loại theo QĐ 28/2025"


def forecast_columns(*, raw: bool = False) -> list[Column]:
    """The next-year forecast beside the legal class (the review's ``risk_next_year``, ``leaving_drug_free``): the
    probability of drug activity next year as a percentage, and whether a commune without activity this year is likely
    to lose that status; a commune without a forecast reads «chưa có dự báo» (NO_FORECAST, as on the planner page) in
    both (an empty cell when ``raw``, a null in GeoJSON), never 0 % nor «Không». ``raw``: the API's names and
    values."""
    if raw:
        return [Column("risk_next_year", "risk_next_year"), Column("leaving_drug_free", "leaving_drug_free")]
    return [
        Column(
            "risk_next_year",
            f"{FORECAST_HEADER}: xác suất có hoạt động ma túy ({_FORECAST_BASIS})",
            _forecast_text,
            _forecast_cell,
        ),
        Column(
            "leaving_drug_free",
            f"{FORECAST_HEADER}: {LEAVING_DRUG_FREE_LABEL} ({_FORECAST_BASIS})",
            lambda v: {True: "Có", False: "Không"}.get(v, NO_FORECAST),
        ),
    ]


def _forecast_text(value: Any) -> str:
    """A forecast in whole percents, or «< 1%», «> 99%» (forecast_bound_text): never 0 % nor 100 %; «chưa có dự báo»
    without one."""
    if not isinstance(number_cell(value, 0, "%"), Figure):
        return NO_FORECAST
    return forecast_bound_text(float(value)) or number_text(value, 0, "%")


def _forecast_cell(value: Any) -> Figure | str:
    """A forecast's Excel cell: the probability itself (sorted, summed), shown as :func:`_forecast_text` writes it by
    a number format with two conditions (Excel and LibreOffice: ``[<0.01]"< 1%";[>0.99]"> 99%";#,##0%``)."""
    cell = number_cell(value, 0, "%")
    if not isinstance(cell, Figure):
        return NO_FORECAST
    (low, below), (high, above) = FORECAST_SHOWN_BOUNDS
    return Figure(cell.value, f'[<{low}]"{below}";[>{high}]"{above}";{cell.number_format}')


def _stated(value: Any) -> Any:
    return MISSING if value in (None, "") else value


def _criterion_cell(criterion: dict[str, Any] | None) -> Any:
    """A criterion's figure as an Excel cell: the number, shown with the decimals and unit its explanation uses (a
    percentage as one: the share), "thiếu dữ liệu" when it is missing; the explanation's text when the criterion has
    no single figure (any of, all of, a yes/no) or its run was computed before criteria recorded their unit."""
    if not criterion or criterion.get("unit") is None:
        return _stated(criterion and criterion.get("detail"))
    value, unit = criterion.get("value"), criterion["unit"]
    if value is None:
        return MISSING
    decimals = faithful_decimals(value, criterion["op"], criterion["threshold"])
    return number_cell(value / 100 if unit == "%" else value, decimals, unit, trim=True)


def _criterion_text(criterion: dict[str, Any] | None) -> Any:
    """A criterion's figure as a CSV writes it: its explanation, or the Excel cell's «thiếu dữ liệu» when the figure
    is missing (the explanation's «không rõ (cần ≥ 0,5 %)» had said it otherwise than the Excel file)."""
    cell = _criterion_cell(criterion)
    return criterion["detail"] if isinstance(cell, Figure) and criterion else cell


def _verdict(met: Any) -> str:
    return {True: "Đạt", False: "Không đạt"}.get(met, MISSING)


def classification_rows(results: pd.DataFrame, *, raw: bool = False) -> tuple[list[Column], list[dict[str, Any]]]:
    """The columns and one row per commune of a run's results (criteria unpacked into columns)."""
    records = frame_records(results)
    criteria_order: dict[str, dict[str, Any]] = {}
    rows = []
    for record in records:
        row = {
            k: record.get(k)
            for k in (
                "commune_code",
                "name",
                "province",
                "method",
                "override_reason",
                "override_by",
                "incomplete",
                "possible_level",
                "category",
                "level",
                "legal_category",
                "legal_level",
            )
        }
        row["final_class"], row["legal_class"] = _class(record), _class(record, "legal_")
        # Without a forecast (no earlier year to learn from) the flag is not «Không»: it is unknown too.
        row["risk_next_year"] = record.get("risk_next_year")
        row["leaving_drug_free"] = None if row["risk_next_year"] is None else bool(record.get("leaving_drug_free"))
        for c in record.get("criteria") or []:
            criteria_order.setdefault(c["criterion_id"], c)
            row[c["criterion_id"]] = c
            row[f"{c['criterion_id']}.value"] = c.get("value")
            row[f"{c['criterion_id']}.met"] = None if c.get("missing") else c.get("met")
        rows.append(row)
    return with_province(classification_columns(list(criteria_order.values()), raw=raw), rows, "name"), rows


def run_meta(run: dict[str, Any]) -> dict[str, Any]:
    """The run fields shown beside exported features."""
    keys = (
        "id",
        "year",
        "version",
        "status",
        "rules_version",
        "method",
        "created_by",
        "created_at",
        "approved_by",
        "approved_at",
        "supersedes_id",
    )
    return {k: run[k] for k in keys}


def run_status(run: dict[str, Any]) -> str:
    """Approved by whom and on which Hải Phòng day, or that the run is a draft: the words of every file built on it."""
    if run["status"] == RunStatus.APPROVED:
        return f"đã phê duyệt: {run['approved_by']}, {_when(run['approved_at'])}"
    return "BẢN NHÁP, CHƯA PHÊ DUYỆT"


def run_subtitle(run: dict[str, Any]) -> str:
    """Which version, approved by whom and when (or that it is a draft), under which criteria."""
    return f"Phiên bản {run['version']} ({run_status(run)}); lập: {run['created_by']}; tiêu chí {run['rules_version']}"


def classification_file(
    results: pd.DataFrame,
    run: dict[str, Any],
    fmt: str,
    *,
    heading: Heading,
    scope: str,
    basis: str,
    raw: bool = False,
) -> bytes:
    """A run's classification as CSV or Excel issued under ``heading``, covering ``scope`` (the units' province, or the
    whole country) on the ``basis`` of the criteria's decision (GeoJSON: :func:`classification_features`)."""
    columns, rows = classification_rows(results, raw=raw)
    if fmt == "csv":
        return write_csv(columns, rows, raw=raw)
    return workbook(
        f"KẾT QUẢ PHÂN LOẠI ĐỊA BÀN XÃ, PHƯỜNG, ĐẶC KHU VỀ MA TÚY NĂM {run['year']}",
        run_subtitle(run),
        columns,
        rows,
        heading=heading,
        issued=heading.issued_line(scope, basis),
        sheet=f"Phân loại {run['year']}",
        widths=_widths(columns, [6, 10, 22, 30, 30, 14, 30, 14, 12] + [14] * len(columns))[: len(columns) + 1],
        frozen=3,  # STT, code and name: the commune stays in view beside its criteria
    )


def classification_features(results: pd.DataFrame, run: dict[str, Any], shapes: list[dict[str, Any]]) -> bytes:
    """A run's classification as GeoJSON for a GIS user: each commune's shape (``shapes``: features with the commune's
    code as ``id``) with the columns of the CSV as its properties (:func:`feature_properties`), in a collection named
    after the year and described by the run's version and approval."""
    columns, rows = classification_rows(results)
    by_code = {row["commune_code"]: row for row in rows}
    features = [{**shape, "properties": feature_properties(columns, by_code[shape["id"]])} for shape in shapes]
    return feature_collection(f"Phân loại địa bàn năm {run['year']}", run_subtitle(run), features)


# ------------------------------------------------------------------------------------------ hotspot register
HOTSPOT_COLUMNS = (
    Column("id", "Số hiệu"),
    Column("status", "Trạng thái", lambda v: HotspotStatus(v).label if v else ""),
    Column("kind", "Loại điểm", lambda v: HotspotKind(v).label if v else ""),
    Column("n_incidents", "Số vụ việc", vn_number, number_cell),
    Column("first_seen", "Phát hiện lần đầu", _when, day_cell),
    Column("last_seen", "Vụ gần nhất", _when, day_cell),
    Column("commune_code", "Mã xã, phường"),
    Column("commune_name", "Xã, phường"),
    Column("radius_m", "Bán kính (m)", lambda v: vn_number(v, 1), lambda v: number_cell(v, 1)),
    # Degrees with a decimal comma like every other figure: "106.701235" read under Vietnamese settings as a
    # number with a thousands dot (or as text), never the longitude.
    Column("lon", "Kinh độ", lambda v: vn_number(v, 6), lambda v: number_cell(v, 6)),
    Column("lat", "Vĩ độ", lambda v: vn_number(v, 6), lambda v: number_cell(v, 6)),
)


def register_subtitle(rows: Sequence[dict[str, Any]], data_until: date | None) -> str:
    """How many hotspots the register holds and the day its incident data reaches (``data_until``, the newest
    incident's day as the periodic report says it; None: no incident held) — not the day of the export."""
    until = f"số liệu vụ việc đến ngày {vn_day(data_until)}" if data_until else "chưa có số liệu vụ việc"
    return f"Tổng số: {len(rows)} điểm; {until}"


def hotspot_features(rows: Sequence[dict[str, Any]], shapes: list[dict[str, Any]], data_until: date | None) -> bytes:
    """The hotspot register as GeoJSON for a GIS user: each hotspot's point or footprint (``shapes``, features with
    the hotspot's id) with the register's columns as its properties (:func:`feature_properties`), described with the
    day its incident data reaches (:func:`register_subtitle`)."""
    columns = with_province(HOTSPOT_COLUMNS, rows, "commune_name")
    by_id = {row["id"]: row for row in rows}
    features = [{**shape, "properties": feature_properties(columns, by_id[shape["id"]])} for shape in shapes]
    return feature_collection(
        "Sổ theo dõi điểm, tụ điểm phức tạp về ma túy",
        register_subtitle(rows, data_until),
        features,
    )


def hotspot_register_file(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    *,
    heading: Heading,
    scope: str,
    data_until: date | None,
    raw: bool = False,
) -> bytes:
    """The hotspot register as CSV or Excel issued under ``heading``, covering ``scope`` (each commune's province
    beside it when the hotspots lie in several), its figures reaching the day ``data_until`` (:func:`register_subtitle`)."""
    columns = with_province(HOTSPOT_COLUMNS, rows, "commune_name")
    if fmt == "csv":
        return write_csv(columns, rows, raw=raw)
    return workbook(
        "SỔ THEO DÕI ĐIỂM, TỤ ĐIỂM PHỨC TẠP VỀ MA TÚY",
        register_subtitle(rows, data_until),
        columns,
        rows,
        heading=heading,
        issued=heading.issued_line(scope),
        sheet="Sổ theo dõi",
        widths=_widths(columns, (6, 9, 22, 24, 10, 14, 14, 10, 24, 10, 12, 12)),
    )


# ------------------------------------------------------------------------------------------------ KPI report
def _kpi_cell(value: Any, unit: str, blank: str, *, text: bool = False, bound: str | None = None) -> Any:
    """A KPI's result or target as a number cell with its unit (a share as a percentage to two decimals), or with
    ``text`` as that cell shows (the command line's lines: «32,46%», as the Excel file); ``blank`` (KPI_NO_DATA or
    KPI_NOT_APPLICABLE) when there is none. A target says how it binds (``bound``: «tối đa 1%», «tối thiểu 60%»)."""
    if value is None:
        return blank
    prefix = BOUND_WORDS[bound] if bound else ""
    return (number_text if text else number_cell)(value, 2, "%" if unit == "tỷ lệ" else unit, prefix=prefix)


def _assessment(kpi: dict[str, Any]) -> str:
    """Whether a KPI is met, in words: a target missing does not apply, nor does the assessment then (with a target
    but no result, the assessment waits for the data)."""
    assessed = {True: "Đạt", False: "Không đạt"}.get(kpi["met"])
    return assessed or (KPI_NOT_APPLICABLE if kpi["target"] is None else KPI_NO_DATA)


def _kpi_row(kpi: dict[str, Any]) -> dict[str, Any]:
    """A KPI line as the report shows it: a result missing has no data yet, a target missing does not apply."""
    return {
        **kpi,
        "value_shown": _kpi_cell(kpi["value"], kpi["unit"], KPI_NO_DATA),
        "target_shown": _kpi_cell(kpi["target"], kpi["unit"], KPI_NOT_APPLICABLE, bound=kpi.get("bound")),
        "met_shown": _assessment(kpi),
    }


def kpi_lines(report: dict[str, Any]) -> list[str]:
    """The KPI report as the command line prints it, in the Excel file's words: a heading, then per KPI its result,
    the target and the assessment, and its note (a national report's provinces after)."""

    share = next((k["label_vi"] for k in report["kpis"] if k["key"] == "drug_free_share"), "")
    run = report["classification"]
    area = report.get("province") or AreaLevel.NATION.label
    lines = [
        f"Chỉ tiêu năm {report['year']} — {area}: kết quả phân loại phiên bản {run['version']} ({run_status(run)}); "
        f"chỉ tiêu {report['targets_version']}"
    ]
    for kpi in [*report["kpis"], *(_province_kpi(line, share) for line in report.get("provinces", []))]:
        lines.append(
            f"- {kpi['label_vi']}: {_kpi_cell(kpi['value'], kpi['unit'], KPI_NO_DATA, text=True)}; chỉ tiêu đề ra: "
            f"{_kpi_cell(kpi['target'], kpi['unit'], KPI_NOT_APPLICABLE, text=True, bound=kpi.get('bound'))}; "
            f"{_assessment(kpi).lower()}" + (f" ({kpi['note']})" if kpi.get("note") else "")
        )
    return lines


KPI_COLUMNS = (
    Column("label_vi", "Chỉ tiêu"),
    Column("value_shown", "Kết quả"),
    Column("target_shown", "Chỉ tiêu đề ra"),
    Column("met_shown", "Đánh giá"),
    Column("note", "Ghi chú"),
)
#: Under the report's title: what its two kinds of empty cells mean.
KPI_LEGEND = "; ".join(f"«{words}»: {meaning}" for words, meaning in KPI_BLANK_MEANINGS.items())


def _province_kpi(line: dict[str, Any], label: str) -> dict[str, Any]:
    """A province's line of a national report (gis.services.reports) as a KPI line: its drug-free share against the
    target that applies to it, counted as the country's is."""
    return {
        "label_vi": f"{label} — {line['province'] or line['province_code'] or MISSING}",
        "value": line["drug_free_share"],
        "target": line["target"],
        "met": line["met"],
        "bound": "at_least",
        "unit": "tỷ lệ",
        "note": drug_free_count(line["drug_free"], line["units"], line["incomplete"]),
    }


def kpi_workbook(report: dict[str, Any], heading: Heading) -> bytes:
    """The KPI report as an administrative Excel file issued under ``heading``, on the basis of the targets' and the
    criteria's texts (``report["basis"]``); a national report's KPIs followed by each province's drug-free share (the
    lines of ``report["provinces"]``)."""
    share = next((k["label_vi"] for k in report["kpis"] if k["key"] == "drug_free_share"), "")
    lines = [*report["kpis"], *(_province_kpi(line, share) for line in report.get("provinces", []))]
    rows = [_kpi_row(k) for k in lines]
    run = report["classification"]
    area = report.get("province") or AreaLevel.NATION.label
    subtitle = (
        f"{area}. Kết quả phân loại năm {report['year']}, phiên bản {run['version']} ({run_status(run)}); "
        f"chỉ tiêu {report['targets_version']}. Ô trống: {KPI_LEGEND}"
    )
    return workbook(
        f"BÁO CÁO KẾT QUẢ THỰC HIỆN CHỈ TIÊU PHÒNG, CHỐNG MA TÚY NĂM {report['year']}",
        subtitle,
        KPI_COLUMNS,
        rows,
        heading=heading,
        issued=heading.issued_line(area, report["basis"]),
        sheet=f"Chỉ tiêu {report['year']}",
        widths=(6, 48, 18, 18, 12, 48),
    )


# ------------------------------------------------------------------------------------------- periodic report
PERIOD_HEADERS = ("STT", "Nội dung", "Kỳ báo cáo", "Cùng kỳ năm trước", "Tăng (+), giảm (−)", "Tỷ lệ tăng, giảm")
#: A change shown with its sign, as a report writes it: +12, −3, 0 (and +8,5 %).
CHANGE_FORMAT = '+#,##0;"−"#,##0;0'
CHANGE_PCT_FORMAT = '+0.0%;"−"0.0%;0.0%'
_ROMAN = ("I", "II", "III", "IV", "V", "VI")


def _period_cells(line: dict[str, Any]) -> list[Any]:
    """A report line's four figures as cells: counts and change as numbers (the change signed), the relative change
    as a percentage; an unknown figure says so in words (never 0), and so does a relative change from 0."""
    counts = [NO_DATA if line[k] is None else number_cell(line[k], 0) for k in ("current", "previous")]
    change = NO_DATA if line["change"] is None else Figure(line["change"], CHANGE_FORMAT)
    if line["change_pct"] is not None:
        relative: Any = Figure(line["change_pct"], CHANGE_PCT_FORMAT)
    else:
        relative = FROM_ZERO if line["previous"] == 0 and line["current"] is not None else NO_DATA
    return [*counts, change, relative]


def period_workbook(report: dict[str, Any], heading: Heading) -> bytes:
    """The periodic report (gis.services.reports.period_report) as an administrative Excel file issued under
    ``heading``: one table whose sections are numbered I, II, … and their lines 1, 2, …, each figure of the period
    beside the same period of the previous year, the change and the relative change."""
    from gis.io.excel import administrative_workbook  # here: openpyxl is ~20 MB in every server process otherwise

    period, previous = report["period"], report["previous"]
    area = report.get("province") or AreaLevel.NATION.label
    rows: list[list[Any]] = []
    for number, section in zip(_ROMAN, report["sections"], strict=False):
        rows.append([number, section["title"].upper(), "", "", "", ""])
        rows += [[i, line["label"], *_period_cells(line)] for i, line in enumerate(section["lines"], 1)]
        if not section["lines"]:
            rows.append(["", section["empty"], "", "", "", ""])
    subtitle = (
        f"{area}. Kỳ báo cáo: từ ngày {vn_day(period['from'])} đến ngày {vn_day(period['to'])} ({period['days']} ngày);"
        f" so với cùng kỳ năm trước: từ ngày {vn_day(previous['from'])} đến ngày {vn_day(previous['to'])}."
    )
    return administrative_workbook(
        f"BÁO CÁO ĐỊNH KỲ TỪ NGÀY {vn_day(period['from'])} ĐẾN NGÀY {vn_day(period['to'])}",
        " ".join(
            [subtitle, *filter(None, (report["data_until_line"], report["data_gap"], report["compared_line"]))]
            + report["notes"]
        ),
        PERIOD_HEADERS,
        rows,
        heading=heading,
        issued=heading.issued_line(area),
        sheet="Báo cáo định kỳ",
        widths=(6, 56, 14, 16, 16, 18),
    )


# -------------------------------------------------------------------------------------------------- audit trails
ACCESS_LOG_COLUMNS = (
    Column("at", "Thời gian", lambda v: vn_time(v, seconds=True), time_cell),
    Column("username", "Người dùng"),
    Column("role_label", "Vai trò"),
    Column("what_label", "Dữ liệu đã xem"),
    Column("params_text", "Tham số"),
    Column("rows", "Số dòng trả về", vn_number, number_cell),
    Column("address", "Địa chỉ máy"),
)
ADMIN_AUDIT_COLUMNS = (
    Column("at", "Thời gian", lambda v: vn_time(v, seconds=True), time_cell),
    Column("actor_shown", "Người thực hiện"),
    Column("action_label", "Thao tác"),
    Column("target_user", "Người dùng liên quan"),
    Column("target_team", "Tổ công tác liên quan"),
    Column("details_text", "Nội dung thay đổi"),
)


def audit_trail_workbook(
    trail: Literal["access", "admin"],
    rows: Sequence[dict[str, Any]],
    *,
    heading: Heading,
    filters: str,
    capped: bool,
) -> bytes:
    """The access log's lines (``trail="access"``: who read which detailed data when, from where) or the admin audit's
    entries (``"admin"``), newest first, as an administrative Excel file issued under ``heading``; ``filters``: what
    the reader chose (its provenance line says it, after who exported it when); ``capped``: the file holds only the
    newest lines the export allows (its subtitle says so, for the reader to narrow the dates)."""
    columns, title, sheet, widths = (
        (ACCESS_LOG_COLUMNS, "NHẬT KÝ TRUY CẬP DỮ LIỆU CHI TIẾT", "Nhật ký truy cập", (6, 20, 16, 18, 28, 40, 10, 16))
        if trail == "access"
        else (ADMIN_AUDIT_COLUMNS, "NHẬT KÝ THAO TÁC QUẢN TRỊ", "Nhật ký quản trị", (6, 20, 16, 34, 18, 24, 40))
    )
    subtitle = f"Tổng số: {len(rows)} dòng, mới nhất trước" + (
        " (chỉ các dòng mới nhất: hãy thu hẹp khoảng ngày để xuất đủ)" if capped else ""
    )
    return workbook(
        title,
        subtitle,
        columns,
        rows,
        heading=heading,
        issued=heading.issued_line(filters),
        sheet=sheet,
        widths=widths,
    )

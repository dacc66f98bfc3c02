"""Read tabular import files (CSV/text, Excel, GeoJSON points) into raw string tables with their source lines.

The reading layer is three steps, each replaceable on its own:

1. bytes → UTF-8 bytes (`to_utf8`): UTF-8 with or without BOM passes through untouched; UTF-16
   ("Unicode text" from Excel) and the Windows code pages of Vietnamese offices (1258, 1252) are
   decoded, normalised to NFC and re-encoded. The decision is made once per file, never per row.
2. UTF-8 bytes → table of strings with the physical line of each record (`sniff_delimiter`, then
   Arrow's reader, or the line-tracking reader for odd files). Excel sheets go straight to step 2's
   output, with the worksheet row number as the line.
3. The contract modules (models/domain/*_contract.py) validate the strings.

Every record keeps the line (CSV, Excel row) or feature number (GeoJSON) it came from, so that each
reject can be reported where the user will find it. Malformed records are marked in `_error`, never dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
from datetime import date, datetime, time
from pathlib import Path

import charset_normalizer
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from models.errors import InvalidInput

_NOT_UTF8 = "\ufffd"
#: Single-byte code pages tried, in order of preference, when a file is not UTF-8 or UTF-16.
LEGACY_ENCODINGS = ("cp1258", "cp1252")
#: Every encoding the reader recognises, as named in messages.
ENCODINGS_TRIED = ("UTF-8", "UTF-16", "Windows-1258", "Windows-1252")
#: Field separators recognised in text files: Excel writes ';' in a Vietnamese locale and tabs in "Unicode text".
DELIMITERS = (",", ";", "\t")
#: Two candidate code pages whose "chaos" (charset-normalizer's mess ratio) differs by less than this, while
#: decoding to different text, are too close to choose between.
AMBIGUOUS_CHAOS = 0.01
_SNIFF_LINES = 50
TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
GEOJSON_SUFFIXES = {".geojson", ".json"}
#: The csv module refuses fields over 128 KiB and stops reading there; every field is read whole instead, and a row
#: with an over-long value is rejected by the contract (models.domain.row_checks).
csv.field_size_limit(2**31 - 1)
#: A JSON string or a bare non-standard constant, to find where a NaN or Infinity stands.
_JSON_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|NaN|-?Infinity')


class FileFormatError(InvalidInput):
    """The file cannot be read at all (unknown format, undecidable encoding, not a table, invalid JSON ...)."""


def read_table(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read a text table, an Excel sheet or GeoJSON points into strings plus `line` (and `_error`)."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_csv_lines(path, encoding=encoding)
    if suffix in EXCEL_SUFFIXES:
        return read_excel_rows(path, sheet=sheet)
    if suffix in GEOJSON_SUFFIXES:
        return read_geojson_points(path)
    hint = " (hãy lưu lại dưới dạng .xlsx)" if suffix == ".xls" else ""
    raise FileFormatError(
        f"định dạng tệp không hỗ trợ{hint}",
        f"unsupported file type {suffix!r}: use .csv, .txt, .xlsx or .geojson",
    )


# ------------------------------------------------------------------------------------------------ encoding
def to_utf8(data: bytes, encoding: str | None = None) -> tuple[bytes, str]:
    """The file's text as UTF-8 bytes without BOM, and the name of the encoding it was read in.

    A plain UTF-8 file is returned as is (no decode, no copy when it is ASCII). A file that is mostly
    valid UTF-8 with a few broken bytes stays UTF-8, so that only its broken rows are rejected.
    """
    if encoding:
        return _recode(data, encoding, encoding)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _recode(data, "utf-16", "UTF-16")
    elif (utf16 := _utf16_without_bom(data)) is not None:
        return _recode(data, utf16, "UTF-16")
    if data.isascii():
        return data, "UTF-8"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        loose = data.decode("utf-8", errors="replace")
        broken = loose.count(_NOT_UTF8)
        decoded = len(loose) - len(loose.encode("ascii", errors="ignore")) - broken  # non-ASCII characters read
        if decoded > broken:  # mostly UTF-8: only some rows are broken
            return data, "UTF-8"
        return _legacy(data)
    if unicodedata.is_normalized("NFC", text):
        return data, "UTF-8"
    return unicodedata.normalize("NFC", text).encode("utf-8"), "UTF-8"


def _recode(data: bytes, codec: str, name: str) -> tuple[bytes, str]:
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileFormatError(
            f"không đọc được tệp bằng bảng mã {name}", f"cannot decode the file as {name}: {exc}"
        ) from exc
    return unicodedata.normalize("NFC", text.removeprefix("\ufeff")).encode("utf-8"), name


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when NUL bytes fill every other byte of the start (ASCII text in UTF-16)."""
    head = data[:4096]
    if len(head) < 4 or head.count(0) < len(head) // 4:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd > 0.9 * (len(head) // 2):
        return "utf-16-le"
    if even > 0.9 * (len(head) // 2):
        return "utf-16-be"
    return None


def _legacy(data: bytes) -> tuple[bytes, str]:
    """Decode with the Windows code page charset-normalizer finds least chaotic, or refuse when two are as likely."""
    matches = sorted(charset_normalizer.from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)), key=lambda m: m.chaos)
    tried = ", ".join(ENCODINGS_TRIED)
    if not matches:
        raise FileFormatError(
            f"không xác định được bảng mã của tệp (đã thử {tried}); hãy lưu tệp dưới dạng CSV UTF-8"
            " hoặc chỉ rõ --encoding",
            f"unknown encoding; tried {tried}",
        )
    best = matches[0]
    texts = {m.encoding: unicodedata.normalize("NFC", str(m)) for m in matches}
    rivals = [
        m.encoding
        for m in matches[1:]
        if m.chaos - best.chaos < AMBIGUOUS_CHAOS and texts[m.encoding] != texts[best.encoding]
    ]
    if rivals:
        names = ", ".join(_display(e) for e in [best.encoding, *rivals])
        raise FileFormatError(
            f"bảng mã của tệp không rõ ràng: đọc được bằng {names} nhưng cho chữ khác nhau (đã thử {tried});"
            " hãy chỉ rõ --encoding hoặc lưu tệp dưới dạng CSV UTF-8",
            f"ambiguous encoding between {names}",
        )
    return texts[best.encoding].encode("utf-8"), _display(best.encoding)


def _display(codec: str) -> str:
    return {"cp1258": "Windows-1258", "cp1252": "Windows-1252"}.get(codec, codec)


# ------------------------------------------------------------------------------------------------ text tables
def sniff_delimiter(data: bytes) -> str:
    """The separator among `DELIMITERS` that splits the header into most fields and keeps the next lines as wide."""
    lines = data[: 1 << 16].decode("utf-8", errors="replace").splitlines()[:_SNIFF_LINES]
    best, best_score = ",", (0, 0, 0)
    for delimiter in DELIMITERS:
        rows = [r for r in csv.reader(lines, delimiter=delimiter) if r]
        if not rows:
            continue
        width = len(rows[0])
        score = (int(width > 1), sum(len(r) == width for r in rows[1:]), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv_lines(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """A delimited text file in any recognised encoding, separator sniffed; header row required.

    A well-formed file (one record per physical line, every field valid UTF-8, the header's number
    of fields) is parsed by Arrow's multi-threaded reader; anything else goes through the
    line-tracking reader below, which reports each malformed record where it stands.
    """
    data, _ = to_utf8(path.read_bytes(), encoding)
    delimiter = sniff_delimiter(data)
    fast = _read_csv_fast(data, delimiter)
    return fast if fast is not None else _read_csv_tracking_lines(data, delimiter)


def _header_names(header: list[str]) -> list[str]:
    return [unicodedata.normalize("NFC", h).strip().lower() for h in header]


def _read_csv_fast(data: bytes, delimiter: str = ",") -> pd.DataFrame | None:
    """Arrow's reader when line numbers are simply row + 2, else None."""
    first = data.split(b"\n", 1)[0]
    try:
        header = next(csv.reader([first.decode("utf-8")], delimiter=delimiter))
    except (UnicodeDecodeError, StopIteration):
        return None
    names = _header_names(header)
    if not names or len(set(names)) != len(names) or "line" in names:
        return None
    options = pa_csv.ConvertOptions(
        column_types={h: pa.string() for h in header}, strings_can_be_null=False, quoted_strings_can_be_null=False
    )
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            convert_options=options,
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    physical = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if physical != table.num_rows + 1:  # blank lines or line breaks inside quotes: numbering would drift
        return None
    frame = table.to_pandas()
    frame.columns = names
    frame["line"] = np.arange(2, table.num_rows + 2, dtype=np.int64)
    frame["_error"] = ""
    return frame


def _read_csv_tracking_lines(data: bytes, delimiter: str = ",") -> pd.DataFrame:
    """The csv module, tracking the physical line where each record starts."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = _header_names(next(reader))
    except StopIteration:
        raise FileFormatError("tệp rỗng", "empty file") from None
    return _frame_from_records(header, _tracked_records(reader, len(header)))


def _tracked_records(reader, width: int):  # noqa: ANN001, ANN202 - a csv reader; yields (line, record, error)
    last = reader.line_num
    for record in reader:
        start, last = last + 1, reader.line_num
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        error = ""
        if len(record) != width:
            error = f"sai số cột: cần {width}, có {len(record)} (expected {width} fields, got {len(record)})"
            record = (record + [""] * width)[:width]
        if any(_NOT_UTF8 in value for value in record):
            error = "dòng có ký tự không phải UTF-8 (row is not valid UTF-8)"
        yield start, record, error


def _frame_from_records(header: list[str], records) -> pd.DataFrame:  # noqa: ANN001 - iterable of (line, row, error)
    """A string table with `line` and `_error` from (line, values, error) records."""
    if not header or not any(header):
        raise FileFormatError("tệp không có dòng tiêu đề", "no header row")
    if len(set(header)) != len(header):
        raise FileFormatError(f"tiêu đề có cột trùng: {header}", "duplicate header columns")
    lines: list[int] = []
    rows: list[list[str]] = []
    errors: list[str] = []
    for line, record, error in records:
        lines.append(line)
        rows.append(record)
        errors.append(error)
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    frame["line"] = pd.Series(lines, dtype="int64")
    frame["_error"] = errors
    return frame


# ------------------------------------------------------------------------------------------------ Excel
def excel_cell_text(value: object) -> str:
    """A cell as the text a CSV export of it would hold: dates in ISO 8601, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.isoformat(sep="T")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def read_excel_rows(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """The first worksheet (or `sheet`) of a workbook; `line` is the worksheet row number.

    The header is the first row with at least two filled cells, so that a title block above the table
    (a heading in one merged cell, blank rows) is passed over as people lay sheets out.
    """
    from openpyxl import load_workbook  # imported on use: a second or more for every CLI start otherwise

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML errors … for a damaged or foreign file
        raise FileFormatError("không đọc được tệp Excel (.xlsx)", f"cannot read the workbook: {exc}") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise FileFormatError(
                f"không có trang tính {sheet!r}; các trang: {', '.join(book.sheetnames)}", "no such sheet"
            )
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        rows = worksheet.iter_rows(values_only=True)
        number, header = 0, []
        for values in rows:
            number += 1
            # A title block above the table (one merged cell per row) is skipped: the header has two or more cells.
            if sum(v is not None and str(v).strip() != "" for v in values) >= 2:
                header = _header_names([excel_cell_text(v) for v in values])
                break
        while header and not header[-1]:  # trailing empty header cells: formatting, not columns
            header.pop()
        if not header:
            raise FileFormatError("trang tính rỗng", "empty worksheet")
        width = len(header)

        def records():  # noqa: ANN202
            for line, values in enumerate(rows, start=number + 1):
                cells = [excel_cell_text(v) for v in values]
                if not any(cells):
                    continue
                extra = [c for c in cells[width:] if c]
                error = f"có giá trị ngoài các cột tiêu đề (values beyond the header: {extra})" if extra else ""
                yield line, (cells + [""] * width)[:width], error

        return _frame_from_records(header, records())
    finally:
        book.close()


# ------------------------------------------------------------------------------------------------ GeoJSON
def read_geojson_points(path: Path) -> pd.DataFrame:
    """GeoJSON FeatureCollection of Points; `line` is the feature number (1-based).

    A file that is not JSON (or holds NaN / Infinity) is refused in one line saying where and what was
    expected; a feature that is not an object, or whose properties or geometry are malformed, is marked in
    `_error` and reported as a reject.
    """
    data = _load_json(path)
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise FileFormatError(
            "GeoJSON phải là FeatureCollection có danh sách features (expected a FeatureCollection with a features list)"
        )
    records = [_point_record(number, feature) for number, feature in enumerate(features, start=1)]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        frame = pd.DataFrame({"line": pd.Series(dtype="int64"), "_error": pd.Series(dtype=str)})
    return frame


def _load_json(path: Path) -> object:
    """The file's JSON value, or FileFormatError naming the line, column and byte where it stops being JSON."""
    data = path.read_bytes()
    skipped = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = exc.start + skipped
        line = data[:byte].count(b"\n") + 1
        raise FileFormatError(
            f"GeoJSON không phải UTF-8 ở dòng {line}, byte {byte} (not UTF-8 at byte {byte}: expected UTF-8 text)"
        ) from None

    def constant(name: str) -> None:
        token = next(m for m in _JSON_TOKEN.finditer(text) if m.group() == name)
        raise json.JSONDecodeError(f"{name} is not a JSON number: expected a number", text, token.start())

    try:
        return json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        byte = len(text[: exc.pos].encode("utf-8")) + skipped
        raise FileFormatError(
            f"GeoJSON không đọc được ở dòng {exc.lineno}, cột {exc.colno} (byte {byte}): {exc.msg}"
            f" (invalid JSON at line {exc.lineno}, column {exc.colno}, byte {byte})"
        ) from None


def _point_record(number: int, feature: object) -> dict[str, object]:
    """One feature as strings plus `line`, `lon`, `lat`, with `_error` when it is not a usable Point feature."""
    if not isinstance(feature, dict):
        return {"line": number, "_error": "đối tượng không phải Feature (feature is not a JSON object)"}
    props = feature.get("properties")
    if props is not None and not isinstance(props, dict):
        return {"line": number, "_error": "properties phải là một đối tượng (properties must be an object)"}
    nested = [key for key, value in (props or {}).items() if isinstance(value, dict | list)]
    if nested:
        return {
            "line": number,
            "_error": f"thuộc tính {nested[0]!r} phải là chữ hoặc số (property {nested[0]!r} must be text or a number)",
        }
    record: dict[str, object] = {
        unicodedata.normalize("NFC", str(k)).lower(): "" if v is None else str(v) for k, v in (props or {}).items()
    }
    record["line"], record["_error"] = number, ""
    geometry = feature.get("geometry") or {}
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if (
        isinstance(geometry, dict)
        and geometry.get("type") == "Point"
        and isinstance(coords, list)
        and len(coords) >= 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2])
    ):
        record["lon"], record["lat"] = str(coords[0]), str(coords[1])
    elif geometry and not ({"x", "y"} <= record.keys()):
        # No geometry at all is allowed: the row is placed by its commune code or address.
        record["_error"] = "hình học phải là Point với hai số (geometry must be a Point of two numbers)"
    return record

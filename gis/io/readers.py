"""Read tabular import files (CSV, GeoJSON points) into raw string tables with their source lines.

Every record keeps the line (CSV) or feature number (GeoJSON) it came from, so that each reject can
be reported where the user will find it. Malformed records are marked in `_error`, never dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from models.errors import InvalidInput

_NOT_UTF8 = "\ufffd"
#: The csv module refuses fields over 128 KiB and stops reading there; every field is read whole instead, and a row
#: with an over-long value is rejected by the contract (models.domain.row_checks).
csv.field_size_limit(2**31 - 1)
#: A JSON string or a bare non-standard constant, to find where a NaN or Infinity stands.
_JSON_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|NaN|-?Infinity')


class FileFormatError(InvalidInput):
    """The file cannot be read at all (unknown format, not a table, invalid JSON ...)."""


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or GeoJSON file into strings plus `line` (and `_error` for malformed records)."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return read_csv_lines(path)
    if suffix in {".geojson", ".json"}:
        return read_geojson_points(path)
    raise FileFormatError(f"định dạng tệp không hỗ trợ (unsupported file type {suffix!r}: use .csv or .geojson)")


def read_csv_lines(path: Path) -> pd.DataFrame:
    """CSV in UTF-8 (BOM optional), LF or CRLF, quoted fields; header row required.

    A well-formed file (one record per physical line, every field valid UTF-8, the header's number
    of fields) is parsed by Arrow's multi-threaded reader; anything else goes through the
    line-tracking reader below, which reports each malformed record where it stands.
    """
    fast = _read_csv_fast(path)
    return fast if fast is not None else _read_csv_tracking_lines(path)


def _read_csv_fast(path: Path) -> pd.DataFrame | None:
    """Arrow's reader when line numbers are simply row + 2, else None."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    first = data.split(b"\n", 1)[0]
    try:
        header = next(csv.reader([first.decode("utf-8")]))
    except (UnicodeDecodeError, StopIteration):
        return None
    names = [h.strip().lower() for h in header]
    if not names or len(set(names)) != len(names) or "line" in names:
        return None
    options = pa_csv.ConvertOptions(
        column_types={h: pa.string() for h in header}, strings_can_be_null=False, quoted_strings_can_be_null=False
    )
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data), convert_options=options, parse_options=pa_csv.ParseOptions(newlines_in_values=False)
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


def _read_csv_tracking_lines(path: Path) -> pd.DataFrame:
    """The csv module, tracking the physical line where each record starts."""
    with open(path, "rb") as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise FileFormatError("tệp rỗng (empty file)") from None
        if len(set(header)) != len(header):
            raise FileFormatError(f"tiêu đề có cột trùng (duplicate header columns): {header}")
        rows: list[list[str]] = []
        lines: list[int] = []
        errors: list[str] = []
        width = len(header)
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
            rows.append(record)
            lines.append(start)
            errors.append(error)
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    frame["line"] = pd.Series(lines, dtype="int64")
    frame["_error"] = errors
    return frame


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
    record: dict[str, object] = {str(k).lower(): "" if v is None else str(v) for k, v in (props or {}).items()}
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
    elif not ({"x", "y"} <= record.keys()):
        record["_error"] = "hình học phải là Point với hai số (geometry must be a Point of two numbers)"
    return record

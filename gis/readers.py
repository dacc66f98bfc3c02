"""Read tabular import files (CSV, GeoJSON points) into raw string tables with their source lines.

Every record keeps the line (CSV) or feature number (GeoJSON) it came from, so that each reject can
be reported where the user will find it. Malformed records are marked in `_error`, never dropped.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

_NOT_UTF8 = "\ufffd"


class FileFormatError(ValueError):
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
    """CSV in UTF-8 (BOM optional), LF or CRLF, quoted fields; header row required."""
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
    """GeoJSON FeatureCollection of Points; `line` is the feature number (1-based)."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(f"GeoJSON không hợp lệ (invalid GeoJSON): {exc}") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise FileFormatError("GeoJSON phải là FeatureCollection (expected a FeatureCollection)")
    records = []
    for number, feature in enumerate(features, start=1):
        props = dict((feature or {}).get("properties") or {})
        geometry = (feature or {}).get("geometry") or {}
        record = {str(k).lower(): "" if v is None else str(v) for k, v in props.items()}
        record["line"] = number
        record["_error"] = ""
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if geometry.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2:
            record["lon"], record["lat"] = str(coords[0]), str(coords[1])
        elif not ({"x", "y"} <= record.keys()):
            record["_error"] = "hình học phải là Point (geometry must be a Point)"
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        frame = pd.DataFrame({"line": pd.Series(dtype="int64"), "_error": pd.Series(dtype=str)})
    return frame

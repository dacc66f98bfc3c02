"""Export files as a planner opens them (gis/io/exports.py): pure rows in, bytes out."""

import csv
import io

from gis.io.exports import HOTSPOT_COLUMNS, write_csv

HOTSPOT = {
    "id": 7,
    "status": "verified",
    "kind": "spot",
    "n_incidents": 1234,
    "commune_code": "11411",
    "commune_name": "Đông Hải",
    "radius_m": 87.5,
    "lon": 106.701235,
    "lat": 20.845679,
}


def _rows(content: bytes, delimiter: str) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM: Excel reads the Vietnamese letters"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


def test_csv_for_people_is_separated_as_excel_reads_it_under_vietnamese_settings() -> None:
    """Decimal commas and ';' between cells (Excel's list separator where the decimal mark is ','); raw: ','."""
    shown = write_csv(HOTSPOT_COLUMNS, [HOTSPOT])
    header, row = _rows(shown, ";")
    assert header == ["STT", *(c.header for c in HOTSPOT_COLUMNS)]
    assert row[:6] == ["1", "7", "Đã xác minh", "Điểm", "1.234", ""] and "87,5" in row
    assert shown.decode("utf-8-sig").splitlines()[1].count(";") == len(header) - 1, "no cell quoted for a comma"
    assert row[-2:] == ["106,701235", "20,845679"], "coordinates with a decimal comma like every figure"
    raw_header, raw_row = _rows(write_csv(HOTSPOT_COLUMNS, [HOTSPOT], raw=True), ",")
    assert raw_header == [c.name for c in HOTSPOT_COLUMNS] and raw_row[:3] == ["7", "verified", "spot"]

"""Export files as a planner opens them (gis/io/exports.py): pure rows in, bytes out."""

import csv
import io
from datetime import UTC, date, datetime

import pandas as pd
from openpyxl import load_workbook

from gis.io.exports import HOTSPOT_COLUMNS, classification_file, hotspot_register_file, kpi_workbook, write_csv
from gis.io.heading import Heading

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


def _texts(content: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]


def _kpi_report(status: str, approved_at: datetime | None) -> dict:
    run = {"id": 1, "version": 2, "status": status, "approved_by": "lanh.dao", "approved_at": approved_at}
    kpi = {"key": "new_hotspots", "label_vi": "Điểm, tụ điểm mới phát sinh", "value": 3, "target": 0}
    return {
        "year": 2025,
        "classification": run,
        "approved": status == "approved",
        "province": "Thành phố Hải Phòng",
        "targets_version": "hp-kpi-2025.2",
        "kpis": [{**kpi, "met": False, "unit": "điểm", "note": ""}],
    }


def test_a_draft_and_an_approved_run_read_the_same_in_every_report() -> None:
    """The KPI report says a draft is a draft as the classification does (it read "(CHƯA PHÊ DUYỆT (bản nháp))"),
    and an approval by its Hải Phòng day (18:00 UTC on 31/12 is 01/01 there)."""
    heading = Heading("CÔNG AN THÀNH PHỐ HẢI PHÒNG", "Hải Phòng")
    draft = _texts(kpi_workbook(_kpi_report("draft", None), date(2026, 1, 5), heading))
    assert any("năm 2025, phiên bản 2 (BẢN NHÁP, CHƯA PHÊ DUYỆT); chỉ tiêu" in t for t in draft), draft
    evening = datetime(2025, 12, 31, 18, 0, tzinfo=UTC)
    approved = _texts(kpi_workbook(_kpi_report("approved", evening), date(2026, 1, 5), heading))
    assert any("phiên bản 2 (đã phê duyệt: lanh.dao, 01/01/2026); chỉ tiêu" in t for t in approved), approved
    assert "3 điểm" in approved and "0 điểm" in approved and "Không đạt" in approved


def test_each_workbook_names_its_sheet_and_keeps_the_rows_names_in_view() -> None:
    """Sheets copied into one workbook stay apart (each was "Báo cáo"); scrolling right through the criteria keeps the
    commune's name in view (only STT and code were frozen) and the header row above."""
    heading = Heading("CÔNG AN THÀNH PHỐ HẢI PHÒNG", "Hải Phòng")
    result = {"commune_code": "11411", "name": "Đông Hải", "category": "at_risk", "level": None, "method": "legal"}
    criterion = {"criterion_id": "I.a", "title": "loại I (a)", "value": None, "detail": "không rõ", "missing": True}
    results = pd.DataFrame([{**result, "legal_category": "at_risk", "incomplete": True, "criteria": [criterion]}])
    run = {"year": 2025, "version": 1, "status": "draft", "created_by": "tham.muu", "rules_version": "qd28-2025.2"}
    classes = load_workbook(io.BytesIO(classification_file(results, run, "xlsx", date(2026, 1, 5), heading=heading)))
    assert classes.sheetnames == ["Phân loại 2025"] and classes.active.freeze_panes == "D9"
    assert classes.active["C8"].value == "Tên đơn vị" and classes.active["C9"].value == "Đông Hải"
    kpis = load_workbook(io.BytesIO(kpi_workbook(_kpi_report("draft", None), date(2026, 1, 5), heading)))
    assert kpis.sheetnames == ["Chỉ tiêu 2025"] and kpis.active.freeze_panes == "C9"
    register = load_workbook(io.BytesIO(hotspot_register_file([HOTSPOT], "xlsx", date(2026, 1, 5), heading=heading)))
    assert register.sheetnames == ["Sổ theo dõi"] and register.active.freeze_panes == "C9"

"""Export files as a planner opens them (gis/io/exports.py): pure rows in, bytes out."""

import csv
import io
import json
from datetime import UTC, date, datetime

import pandas as pd
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from gis.io.exports import (
    HOTSPOT_COLUMNS,
    Column,
    classification_file,
    feature_properties,
    hotspot_features,
    hotspot_register_file,
    kpi_lines,
    kpi_workbook,
    write_csv,
)
from gis.io.figures import number_cell
from gis.io.heading import Heading
from gis.reference import load_rules
from models.domain.classification import _criteria_by_commune
from models.domain.legal_rules import evaluate_criteria
from models.vocabulary import KPI_BLANK_MEANINGS, KPI_NO_DATA, KPI_NOT_APPLICABLE

HEADING = Heading("CÔNG AN THÀNH PHỐ HẢI PHÒNG", "Hải Phòng", "tham.muu", datetime(2026, 1, 5, 2, 30, tzinfo=UTC))

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
    raw = write_csv(HOTSPOT_COLUMNS, [HOTSPOT], raw=True)  # for scripts: no BOM
    raw_header, raw_row = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert raw_header == [c.name for c in HOTSPOT_COLUMNS] and raw_row[:3] == ["7", "verified", "spot"]


def _texts(content: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]


def _kpi_report(status: str, approved_at: datetime | None) -> dict:
    run = {"id": 1, "version": 2, "status": status, "approved_by": "lanh.dao", "approved_at": approved_at}
    kpi = {
        "key": "new_hotspots",
        "label_vi": "Điểm, tụ điểm mới phát sinh",
        "value": 3,
        "target": 0,
        "bound": "at_most",
    }
    return {
        "year": 2025,
        "classification": run,
        "approved": status == "approved",
        "province": "Thành phố Hải Phòng",
        "targets_version": "hp-kpi-2025.2",
        "basis": "Kế hoạch 246/KH-UBND; phân loại: Quyết định 28/2025/QĐ-TTg",
        "kpis": [{**kpi, "met": False, "unit": "điểm", "note": ""}],
    }


def test_a_draft_and_an_approved_run_read_the_same_in_every_report() -> None:
    """The KPI report says a draft is a draft as the classification does (it read "(CHƯA PHÊ DUYỆT (bản nháp))"),
    and an approval by its Hải Phòng day (18:00 UTC on 31/12 is 01/01 there)."""
    heading = HEADING
    draft = _texts(kpi_workbook(_kpi_report("draft", None), heading))
    assert any("năm 2025, phiên bản 2 (BẢN NHÁP, CHƯA PHÊ DUYỆT); chỉ tiêu" in t for t in draft), draft
    evening = datetime(2025, 12, 31, 18, 0, tzinfo=UTC)
    approved = _texts(kpi_workbook(_kpi_report("approved", evening), heading))
    assert any("phiên bản 2 (đã phê duyệt: lanh.dao, 01/01/2026); chỉ tiêu" in t for t in approved), approved
    assert "Không đạt" in approved


def test_each_workbook_names_its_sheet_and_keeps_the_rows_names_in_view() -> None:
    """Sheets copied into one workbook stay apart (each was "Báo cáo"); scrolling right through the criteria keeps the
    commune's name in view (only STT and code were frozen) and the header row above."""
    heading = HEADING
    result = {"commune_code": "11411", "name": "Đông Hải", "category": "at_risk", "level": None, "method": "legal"}
    criterion = {"criterion_id": "I.a", "title": "loại I (a)", "value": None, "detail": "không rõ", "missing": True}
    results = pd.DataFrame([{**result, "legal_category": "at_risk", "incomplete": True, "criteria": [criterion]}])
    run = {"year": 2025, "version": 1, "status": "draft", "created_by": "tham.muu", "rules_version": "qd28-2025.2"}
    classes = load_workbook(
        io.BytesIO(
            classification_file(results, run, "xlsx", heading=heading, scope="Thành phố Hải Phòng", basis="QĐ 28")
        )
    )
    assert classes.sheetnames == ["Phân loại 2025"] and classes.active.freeze_panes == "D9"
    assert classes.active["C8"].value == "Tên đơn vị" and classes.active["C9"].value == "Đông Hải"
    kpis = load_workbook(io.BytesIO(kpi_workbook(_kpi_report("draft", None), heading)))
    assert kpis.sheetnames == ["Chỉ tiêu 2025"] and kpis.active.freeze_panes == "C9"
    register = load_workbook(
        io.BytesIO(
            hotspot_register_file([HOTSPOT], "xlsx", heading=heading, scope="Thành phố Hải Phòng", data_until=None)
        )
    )
    assert register.sheetnames == ["Sổ theo dõi"] and register.active.freeze_panes == "C9"


def _table(content: bytes) -> tuple[Worksheet, dict[str, int]]:
    """The sheet and each header's column (headers on row 8, the rows from row 9)."""
    sheet = load_workbook(io.BytesIO(content)).active
    return sheet, {c.value: c.column for c in sheet[8] if c.value}


def test_the_hotspot_register_holds_numbers_and_days_excel_sums_and_filters() -> None:
    """Figures were text ("1.234", "87,5"): Excel could not sum, sort or filter them. They are number cells now, in
    formats showing the decimals the CSV shows (Excel writes the separators of the reader's settings); a day is a
    date cell of its Hải Phòng day; what is missing stays the text "thiếu dữ liệu", which SUM skips."""
    evening = datetime(2025, 12, 31, 18, 0, tzinfo=UTC)
    unknown = {**HOTSPOT, "id": 8, "n_incidents": None, "first_seen": evening, "commune_name": "=HYPERLINK(1)"}
    sheet, col = _table(
        hotspot_register_file([HOTSPOT, unknown], "xlsx", heading=HEADING, scope="Thành phố Hải Phòng", data_until=None)
    )
    incidents = sheet.cell(9, col["Số vụ việc"])
    assert (incidents.value, incidents.data_type, incidents.number_format) == (1234, "n", "#,##0")
    assert sheet.cell(10, col["Số vụ việc"]).value == "thiếu dữ liệu"
    radius = sheet.cell(9, col["Bán kính (m)"])
    assert (radius.value, radius.data_type, radius.number_format) == (87.5, "n", "#,##0.0")
    lon, lat = sheet.cell(9, col["Kinh độ"]), sheet.cell(9, col["Vĩ độ"])
    assert (lon.value, lat.value, lon.number_format) == (106.701235, 20.845679, "#,##0.000000")
    seen = sheet.cell(10, col["Phát hiện lần đầu"])
    assert seen.is_date and seen.value == datetime(2026, 1, 1) and seen.number_format == "dd/mm/yyyy"
    assert sheet.cell(9, col["Phát hiện lần đầu"]).value is None, "no first day: an empty cell, not a date"
    name = sheet.cell(10, col["Xã, phường"])
    assert (name.value, name.data_type) == ("=HYPERLINK(1)", "s"), "text that looks like a formula: a string, as it is"


def test_the_kpi_report_holds_its_results_and_targets_as_numbers() -> None:
    """A share is a percentage cell (the share, shown to two decimals), a count a number cell shown with its unit;
    a line without a target reads «không áp dụng», target and assessment, and a result not computable «chưa có số
    liệu» (both read "—"), as the title's legend explains."""
    report = _kpi_report("approved", datetime(2025, 12, 31, 18, 0, tzinfo=UTC))
    share = {"key": "drug_free_share", "label_vi": "Tỷ lệ", "value": 0.307, "target": 0.3, "unit": "tỷ lệ"}
    share |= {"bound": "at_least"}
    report["kpis"].append({**share, "met": True, "note": ""})
    report["kpis"].append({**share, "value": 12, "target": None, "unit": "địa bàn", "met": None})
    report["kpis"].append({**share, "value": None, "met": None})  # a growth with no previous year
    content = kpi_workbook(report, HEADING)
    sheet, col = _table(content)
    result, target = col["Kết quả"], col["Chỉ tiêu đề ra"]
    count = sheet.cell(9, result)
    assert (count.value, count.data_type, count.number_format) == (3, "n", '#,##0" điểm"')
    # A target says how it binds, the cell still a number: «tối đa 0 điểm», «tối thiểu 30%» (the file had «0 điểm»,
    # «1%» where the page says «tối đa»).
    assert (sheet.cell(9, target).value, sheet.cell(9, target).number_format) == (0, '"tối đa "#,##0" điểm"')
    rate = sheet.cell(10, result)
    assert (rate.value, rate.data_type, rate.number_format) == (0.307, "n", "#,##0.00%")
    assert (sheet.cell(10, target).value, sheet.cell(10, target).number_format) == (0.3, '"tối thiểu "#,##0%')
    assert "chỉ tiêu đề ra: tối đa 0 điểm; không đạt" in kpi_lines(report)[1], kpi_lines(report)
    verdict = col["Đánh giá"]
    assert sheet.cell(11, result).value == 12
    assert sheet.cell(11, target).value == sheet.cell(11, verdict).value == KPI_NOT_APPLICABLE == "không áp dụng"
    assert sheet.cell(12, result).value == sheet.cell(12, verdict).value == KPI_NO_DATA == "chưa có số liệu"
    assert sheet.cell(12, target).value == 0.3
    assert any(f"«{KPI_NO_DATA}»: {KPI_BLANK_MEANINGS[KPI_NO_DATA]}" in t for t in _texts(content))


def test_the_classification_holds_each_criterions_figure_as_a_number_the_reader_can_sum() -> None:
    """Criteria figures were text ("3 điểm (cần ≥ 2 điểm)"): the organising places of the communes could not be
    summed. Each figure is a number cell now, in its unit and with the decimals its explanation uses (a rate as a
    percentage; enough decimals that 0,4995 % does not read as the 0,5 % it falls short of); what the criterion asks
    is said once, in the header; a missing figure is "thiếu dữ liệu", which SUM skips; a criterion with no single
    figure (any of, all of) keeps its explanation."""
    base = {"population": 10_000, "users_with_records": 0, "arrested_offenders": 0, "plants_destroyed": 0}
    base |= {"cultivation_m2": 0, "on_drug_route": False, "drug_incidents": 0}
    indicators = pd.DataFrame(
        [
            {**base, "commune_code": "1", "organizing_places": 3, "users_with_records": 62},
            {
                **base,
                "commune_code": "2",
                "organizing_places": 1234,
                "population": 2_000_000,
                "users_with_records": 9991,
            },
            {**base, "commune_code": "3", "organizing_places": None, "population": None},
        ]
    )
    criteria = _criteria_by_commune(evaluate_criteria(indicators, load_rules()))
    results = pd.DataFrame(
        [
            {
                "commune_code": code,
                "name": f"Xã {code}",
                "category": "at_risk",
                "level": None,
                "method": "legal",
                "legal_category": "at_risk",
                "incomplete": code == "3",
                "criteria": criteria[code],
            }
            for code in ("1", "2", "3")
        ]
    )
    run = {"year": 2025, "version": 1, "status": "draft", "created_by": "tham.muu", "rules_version": "qd28-2025.2"}
    sheet, col = _table(
        classification_file(results, run, "xlsx", heading=HEADING, scope="Thành phố Hải Phòng", basis="QĐ 28")
    )
    places = [sheet.cell(r, col["Tiêu chí loại I (b): số liệu (cần ≥ 2 điểm)"]) for r in (9, 10, 11)]
    assert [(c.value, c.data_type, c.number_format) for c in places[:2]] == [
        (3, "n", '#,##0" điểm"'),
        (1234, "n", '#,##0" điểm"'),
    ]
    assert places[2].value == "thiếu dữ liệu" and places[2].data_type == "s", "missing: text, never 0"
    assert sum(c.value for c in places if isinstance(c.value, (int, float))) == 1237, "what SUM adds up"
    rates = [sheet.cell(r, col["Tiêu chí loại I (a): số liệu (cần ≥ 0,5 %)"]) for r in (9, 10)]
    assert (rates[0].value, rates[0].number_format) == (0.0062, "#,##0.00%")
    assert (round(rates[1].value, 8), rates[1].number_format) == (0.0049955, "#,##0.0000%"), (
        "four decimals: not the 0,5 % it falls short of"
    )
    plants = sheet.cell(9, col["Tiêu chí loại I (d): số liệu"])
    assert plants.data_type == "s" and "cây" in plants.value and "m²" in plants.value, "any of: its explanation"


def test_a_gis_user_reads_the_registers_columns_in_vietnamese_with_typed_values() -> None:
    """A GeoJSON feature's properties are the CSV's columns under their headers (was English names and codes): a figure
    a number, a day its Hải Phòng day in ISO (QGIS types the field as a date), a missing figure null, never 0."""
    evening = datetime(2025, 12, 31, 18, 0, tzinfo=UTC)
    row = {**HOTSPOT, "first_seen": evening, "last_seen": None, "n_incidents": None}
    shape = {"type": "Feature", "id": 7, "geometry": {"type": "Point", "coordinates": [106.7, 20.8]}, "properties": {}}
    collection = json.loads(hotspot_features([row], [shape], date(2026, 1, 5)))
    assert collection["name"] == "Sổ theo dõi điểm, tụ điểm phức tạp về ma túy"
    props = collection["features"][0]["properties"]
    assert list(props) == [c.header for c in HOTSPOT_COLUMNS]
    assert (props["Trạng thái"], props["Loại điểm"], props["Phát hiện lần đầu"], props["Vụ gần nhất"]) == (
        "Đã xác minh",
        "Điểm",
        "2026-01-01",
        None,
    )
    assert props["Số vụ việc"] is None and props["Bán kính (m)"] == 87.5 and props["Kinh độ"] == 106.701235
    share = Column("share", "Tỷ lệ (%)", cell=lambda v: number_cell(v, 2, "%"))
    assert feature_properties([share], {"share": 0.0057}) == {"Tỷ lệ (%)": 0.57}


def test_every_workbook_says_who_exported_it_when_what_it_covers_and_on_which_basis() -> None:
    """A file attached to a report upward said neither who exported it, nor when, nor the texts it rests on: a line
    under the title does, the time in Hải Phòng's zone (02:30 UTC is 09:30 there)."""
    said = "Người xuất: tham.muu, lúc 05/01/2026 09:30 (giờ Việt Nam); phạm vi: Thành phố Hải Phòng"
    kpi = _texts(kpi_workbook(_kpi_report("draft", None), HEADING))
    assert f"{said}; căn cứ: Kế hoạch 246/KH-UBND; phân loại: Quyết định 28/2025/QĐ-TTg" in kpi, kpi
    register = _texts(
        hotspot_register_file([HOTSPOT], "xlsx", heading=HEADING, scope="Thành phố Hải Phòng", data_until=None)
    )
    assert said in register and "Hải Phòng, ngày 05 tháng 01 năm 2026" in register
    results = pd.DataFrame([{"commune_code": "1", "name": "A", "category": "drug_free", "criteria": []}])
    run = {"year": 2025, "version": 1, "status": "draft", "created_by": "tham.muu", "rules_version": "qd28-2025.2"}
    classes = classification_file(results, run, "xlsx", heading=HEADING, scope="Thành phố Hải Phòng", basis="QĐ 28")
    assert f"{said}; căn cứ: QĐ 28" in _texts(classes)


def test_the_classification_carries_the_next_year_forecast_beside_the_class_never_a_missing_one_as_0() -> None:
    """The next-year forecast (risk_next_year, leaving_drug_free) was served by the API only: no file showed it. The
    files carry it after the classes, headed as a forecast and not a class under the decision: a percentage cell in
    Excel, the same text in the CSV, the API's values in a raw CSV; a commune without a forecast is «chưa có dự báo»
    in both columns, as on the planner page (it read «thiếu dữ liệu», the page's words for a missing figure) (an empty cell raw, null in GeoJSON), never 0 % nor «Không». Nor is an estimate ever shown as a
    certainty: 0.996 read «100%», now «> 99%», and 0.004 «< 1%» (the Excel cell keeps the number, its format says so)."""
    base = {"category": "at_risk", "level": None, "method": "legal", "legal_category": "at_risk", "incomplete": False}
    forecasts = [(0.724, False), (0.61, True), (0.996, False), (0.004, True), (None, False)]
    results = pd.DataFrame(
        [
            {**base, "commune_code": str(i), "name": f"Xã {i}", "risk_next_year": risk, "leaving_drug_free": leaving}
            for i, (risk, leaving) in enumerate(forecasts, 1)
        ]
    )
    run = {"year": 2025, "version": 1, "status": "draft", "created_by": "tham.muu", "rules_version": "qd28-2025.2"}
    file = classification_file(results, run, "xlsx", heading=HEADING, scope="Thành phố Hải Phòng", basis="QĐ 28")
    sheet, col = _table(file)
    risk = next(h for h in col if h.startswith("Dự báo năm sau: xác suất"))
    leaving = next(h for h in col if h.startswith("Dự báo năm sau: có nguy cơ mất trạng thái không ma túy"))
    assert "không phải loại theo QĐ 28/2025" in risk and "không phải loại theo QĐ 28/2025" in leaving
    assert col["Theo tiêu chí"] < col[risk] < col[leaving], "after the classes: the legal class comes first"
    cells = [sheet.cell(r, col[risk]) for r in range(9, 14)]
    shown = '[<0.01]"< 1%";[>0.99]"> 99%";#,##0%'  # whole percents, but «< 1%» and «> 99%» at the ends
    assert [(c.value, c.number_format) for c in cells[:4]] == [(v, shown) for v in (0.724, 0.61, 0.996, 0.004)]
    assert cells[4].value == "chưa có dự báo" and cells[4].data_type == "s", "no forecast: text, never 0 %"
    assert [sheet.cell(r, col[leaving]).value for r in range(9, 14)] == ["Không", "Có", "Không", "Có", "chưa có dự báo"]

    header, *rows = _rows(
        classification_file(results, run, "csv", heading=HEADING, scope="Thành phố Hải Phòng", basis="QĐ 28"), ";"
    )
    at = header.index(risk)
    assert [(r[at], r[at + 1]) for r in rows] == [
        ("72%", "Không"),
        ("61%", "Có"),
        ("> 99%", "Không"),  # was «100%»
        ("< 1%", "Có"),  # was «0%»
        ("chưa có dự báo", "chưa có dự báo"),
    ]
    raw = classification_file(
        results, run, "csv", heading=HEADING, scope="Thành phố Hải Phòng", basis="QĐ 28", raw=True
    )
    raw_rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert [(r["risk_next_year"], r["leaving_drug_free"]) for r in raw_rows] == [
        ("0.724", "false"),
        ("0.61", "true"),
        ("0.996", "false"),
        ("0.004", "true"),
        ("", ""),
    ]

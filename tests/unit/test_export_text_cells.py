"""What the exports write of a text: verbatim in an Excel string cell, neutralised in a CSV for people, as it is in a
raw CSV for scripts (gis/io/exports.py), and one wording of a figure missing in every format."""

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime

import pandas as pd
from openpyxl import load_workbook

from gis.io.exports import (
    HOTSPOT_COLUMNS,
    audit_trail_workbook,
    classification_file,
    hotspot_register_file,
    period_workbook,
    write_csv,
)
from gis.io.heading import Heading
from gis.reference import load_rules
from models.domain.classification import _criteria_by_commune
from models.domain.legal_rules import evaluate_criteria

HEADING = Heading("CÔNG AN THÀNH PHỐ HẢI PHÒNG", "Hải Phòng", "tham.muu", datetime(2026, 12, 7, 2, 30, tzinfo=UTC))
RUN = {"year": 2026, "version": 1, "status": "draft", "created_by": "tham.muu", "rules_version": "qd28-2025.2"}
REASON = "-2+3 lý do"
TEAM = "- Tổ 2 -"
TASK = f"{TEAM} — nhiệm vụ =SUM(A1)"


def _results() -> pd.DataFrame:
    """Two communes: the first overridden with a formula-like reason, the second with its organising places and
    population unknown (its figures missing)."""
    base = {"population": 10_000, "users_with_records": 0, "arrested_offenders": 0, "plants_destroyed": 0}
    base |= {"cultivation_m2": 0, "on_drug_route": False, "drug_incidents": 0, "organizing_places": 3}
    indicators = pd.DataFrame(
        [{**base, "commune_code": "1"}, {**base, "commune_code": "2", "organizing_places": None, "population": None}]
    )
    criteria = _criteria_by_commune(evaluate_criteria(indicators, load_rules()))
    return pd.DataFrame(
        [
            {
                "commune_code": "1",
                "name": "Xã 1",
                "category": "trong_diem",
                "level": "II",
                "legal_category": "at_risk",
                "legal_level": None,
                "method": "override",
                "override_reason": REASON,
                "override_by": "tham.muu",
                "incomplete": False,
                "criteria": criteria["1"],
            },
            {
                "commune_code": "2",
                "name": "Xã 2",
                "category": "at_risk",
                "level": None,
                "legal_category": "at_risk",
                "legal_level": None,
                "method": "legal",
                "incomplete": True,
                "possible_level": "III",
                "criteria": criteria["2"],
            },
        ]
    )


def _period_report() -> dict:
    window = {"from": date(2026, 10, 1), "to": date(2026, 10, 31), "days": 31}
    line = {"label": TASK, "current": 2, "previous": 1, "change": 1, "change_pct": 1.0}
    return {
        "period": window,
        "previous": {"from": date(2025, 10, 1), "to": date(2025, 10, 31)},
        "province": "Thành phố Hải Phòng",
        "sections": [{"title": "Nhiệm vụ", "lines": [line], "empty": ""}],
        "data_until_line": None,
        "data_gap": None,
        "compared_line": None,
        "notes": [],
    }


def _assert_verbatim_strings(content: bytes, texts: list[str]) -> None:
    """Each text is in the workbook as it is, in a string cell (never a formula, no apostrophe), and the sheet's XML
    holds no formula at all."""
    sheet = load_workbook(io.BytesIO(content)).active
    cells = {c.value: c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    for text in texts:
        assert text in cells, (text, [v for v in cells if text.strip("-= ") in v])
        assert cells[text].data_type == "s"
        assert f"'{text}" not in cells
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert not re.search(r"<f[ >]", xml), "no formula in the sheet"


def test_every_workbook_keeps_a_formula_like_text_verbatim_as_a_string_cell() -> None:
    """«'-2+3 lý do» and «'- Tổ 2 - — nhiệm vụ…» had shown with a stray apostrophe: in an Excel file a string cell is
    never run, so the text is written as it is."""
    classes = classification_file(_results(), RUN, "xlsx", heading=HEADING, scope="Hải Phòng", basis="QĐ 28")
    _assert_verbatim_strings(classes, [REASON])
    _assert_verbatim_strings(period_workbook(_period_report(), HEADING), [TASK])
    audit = {"at": datetime(2026, 12, 7, 2, 0, tzinfo=UTC), "actor": "admin", "action_label": "Đổi tên tổ"}
    audit |= {"target_user": '=HYPERLINK("http://x")', "target_team": TEAM, "details_text": "+tên mới"}
    trail = audit_trail_workbook("admin", [audit], heading=HEADING, filters="toàn hệ thống", capped=False)
    _assert_verbatim_strings(trail, [TEAM, '=HYPERLINK("http://x")', "+tên mới"])
    register = hotspot_register_file(
        [{"id": 1, "commune_name": "@Xã"}], "xlsx", heading=HEADING, scope="Hải Phòng", data_until=None
    )
    _assert_verbatim_strings(register, ["@Xã"])


def test_a_csv_for_people_still_neutralises_a_formula_like_text() -> None:
    rows = list(
        csv.reader(
            io.StringIO(write_csv(HOTSPOT_COLUMNS, [{"id": 1, "commune_name": "=1+2"}]).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert rows[1][HOTSPOT_COLUMNS.index(next(c for c in HOTSPOT_COLUMNS if c.name == "commune_name")) + 1] == "'=1+2"


def test_a_raw_csv_is_for_scripts_codes_booleans_and_text_as_they_are() -> None:
    """``raw=true`` gave Vietnamese class labels, «False», an apostrophe before the reason and a BOM: it gives the
    machine's codes, ``true``/``false``, an empty cell for what is missing and the text verbatim, without BOM."""
    content = classification_file(_results(), RUN, "csv", heading=HEADING, scope="Hải Phòng", basis="QĐ 28", raw=True)
    assert not content.startswith(b"\xef\xbb\xbf"), "no BOM"
    header, first, second = csv.reader(io.StringIO(content.decode("utf-8")))
    one, two = dict(zip(header, first)), dict(zip(header, second))
    assert header[:6] == ["commune_code", "name", "category", "level", "legal_category", "legal_level"]
    assert (one["category"], one["level"], one["legal_category"], one["legal_level"]) == (
        "trong_diem",
        "II",
        "at_risk",
        "",
    )
    assert (one["method"], one["override_reason"], one["incomplete"]) == ("override", REASON, "false")
    assert (two["incomplete"], two["possible_level"], two["I.b.value"], two["I.b.met"]) == ("true", "III", "", "")
    assert one["I.b.value"] == "3.0" and one["I.b.met"] in ("true", "false")
    assert not any("thiếu dữ liệu" in v or "Loại" in v for v in (*first, *second))
    shown = hotspot_register_file(
        [{"id": 1, "status": "verified", "first_seen": datetime(2026, 10, 31, 2, 0, tzinfo=UTC), "commune_name": "=1"}],
        "csv",
        heading=HEADING,
        scope="Hải Phòng",
        data_until=None,
        raw=True,
    ).decode("utf-8")
    row = dict(zip(*csv.reader(io.StringIO(shown))))
    assert (row["status"], row["first_seen"], row["commune_name"], row["n_incidents"]) == (
        "verified",
        "2026-10-31T02:00:00+00:00",
        "=1",
        "",
    )


def test_a_missing_figure_reads_the_same_in_the_csv_as_in_the_excel_file() -> None:
    """The CSV wrote «không rõ (cần ≥ 2 điểm)» where the Excel file says «thiếu dữ liệu»."""
    content = classification_file(_results(), RUN, "csv", heading=HEADING, scope="Hải Phòng", basis="QĐ 28")
    header, first, second = csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";")
    places = header.index("Tiêu chí loại I (b): số liệu (cần ≥ 2 điểm)")
    assert second[places] == "thiếu dữ liệu"
    assert first[places] == "3 điểm ≥ 2 điểm", "a figure keeps its explanation"
    sheet = load_workbook(
        io.BytesIO(classification_file(_results(), RUN, "xlsx", heading=HEADING, scope="Hải Phòng", basis="QĐ 28"))
    ).active
    assert "thiếu dữ liệu" in [c.value for c in sheet[10]]
    assert not any("không rõ" in str(c.value) for row in sheet.iter_rows() for c in row)


def test_the_register_says_the_day_its_incident_data_reaches_or_that_it_holds_none() -> None:
    """The day the incidents end, not the export's (tests/db/test_hotspot_detection.py reads it from the database)."""
    for until, said in ((date(2026, 10, 31), "số liệu vụ việc đến ngày 31/10/2026"), (None, "chưa có số liệu vụ việc")):
        register = hotspot_register_file([], "xlsx", heading=HEADING, scope="Hải Phòng", data_until=until)
        assert load_workbook(io.BytesIO(register)).active["A6"].value == f"Tổng số: 0 điểm; {said}"

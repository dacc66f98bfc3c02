"""What users read names their own province, not Hải Phòng's: every Excel report carries its reader's heading (a
provincial user's province police and place, the Ministry's for a nation-wide user) and the pages' title names the
province the user's view lies in ("toàn quốc" nation-wide). A one-province database (Hải Phòng's) reads exactly as
before provinces existed."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Connection, text

from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year, export_classification
from gis.services.hotspots import create_manual_hotspot, export_register
from gis.services.reports import kpi_report_xlsx
from gis.store.scoping import AreaScope
from models.vocabulary import local_today
from tests.conftest import SECOND_PROVINCE, TEST_PASSWORD

HAI_PHONG = "31"
YEAR = 2020  # a past year: one to come is refused


def dated() -> str:
    """The date line of today's reports, as the demo has always printed it: Hải Phòng's today when the test runs (read
    when the module was imported, it failed on reports made after Hải Phòng's midnight, 17:00 UTC)."""
    today = local_today()
    return f"ngày {today.day:02d} tháng {today.month:02d} năm {today.year}"


def heading(content: bytes) -> tuple[str, str]:
    """The agency (top left) and the date line (third row, beside it) of an administrative workbook."""
    sheet = load_workbook(io.BytesIO(content)).active
    dates = [c.value for c in sheet[3] if c.value]
    assert len(dates) == 1, dates
    return sheet["A1"].value, dates[0]


def draft(conn: Connection) -> int:
    """A fresh draft classification of YEAR over the units loaded so far."""
    conn.execute(text("DELETE FROM classification_runs WHERE year = :y"), {"y": YEAR})
    draft_year(conn, YEAR, actor="tham-muu")
    return YEAR


def test_a_one_province_database_issues_every_report_as_hai_phong_police(conn: Connection) -> None:
    year = draft(conn)
    hai_phong = ("CÔNG AN THÀNH PHỐ HẢI PHÒNG", f"Hải Phòng, {dated()}")
    # The Ministry's reader too: every unit is Hải Phòng's, its reports are what they were.
    assert heading(kpi_report_xlsx(conn, year, issuer=None, by="test").content) == hai_phong
    assert heading(kpi_report_xlsx(conn, year, HAI_PHONG, issuer=HAI_PHONG, by="test").content) == hai_phong
    assert heading(export_classification(conn, year, "xlsx", issuer=None, by="test").content) == hai_phong
    assert heading(export_register(conn, "xlsx", by="test").content) == hai_phong


def test_reports_carry_the_readers_heading_when_several_provinces_are_loaded(
    conn: Connection,
    second_province_path: Path,
    client: TestClient,
    make_user: Callable[..., int],
    bearer: Callable[..., dict[str, str]],
) -> None:
    import_boundaries(conn, second_province_path)
    draft(conn)
    ministry = bearer(make_user("bo-tham-muu", "planner"))
    second = bearer(make_user("qn-tham-muu", "planner", province_code=SECOND_PROVINCE))
    hai_phong = bearer(make_user("hp-chi-huy", "command", province_code=HAI_PHONG))

    def report(user: dict[str, str], path: str, **params: str | int) -> tuple[str, str]:
        answer = client.get(path, params=params, headers=user)
        assert answer.status_code == 200, answer.text
        return heading(answer.content)

    for path, params in (
        ("/api/reports/kpi.xlsx", {"year": YEAR}),
        (f"/api/classifications/{YEAR}/export", {"format": "xlsx"}),
    ):
        # The Ministry's, dated at its seat, whether it reports on the nation or on one province.
        assert report(ministry, path, **params) == ("BỘ CÔNG AN", f"Hà Nội, {dated()}")
        assert report(ministry, path, **params, province=SECOND_PROVINCE) == ("BỘ CÔNG AN", f"Hà Nội, {dated()}")
        assert report(second, path, **params) == ("CÔNG AN TỈNH QUẢNG NINH", f"Quảng Ninh, {dated()}")
        assert report(hai_phong, path, **params) == ("CÔNG AN THÀNH PHỐ HẢI PHÒNG", f"Hải Phòng, {dated()}")
    # The register holds every province's hotspots: the Ministry's.
    assert heading(export_register(conn, "xlsx", by="test").content) == ("BỘ CÔNG AN", f"Hà Nội, {dated()}")


def page_of(client: TestClient, username: str) -> tuple[str, str, dict]:
    """The long and short titles of a user's working page, and its script's configuration."""
    client.headers.pop("Authorization", None)
    answer = client.post("/login", data={"username": username, "password": TEST_PASSWORD})
    assert answer.status_code == 200, answer.text  # followed to the page
    page = answer.text
    config = json.loads(re.search(r"diabanStart\(Object\.assign\((\{.*?\}), \{map:", page, re.S).group(1))
    long = re.search(r'<span class="title-long">(.*?)</span>', page, re.S).group(1)
    short = re.search(r'<span class="title-short">(.*?)</span>', page, re.S).group(1)
    return long, short.strip(), config


def test_a_one_province_database_titles_every_page_hai_phong(client: TestClient, make_user: Callable[..., int]) -> None:
    make_user("bo-chi-huy", "command")
    long, short, config = page_of(client, "bo-chi-huy")
    assert (long, short) == ("Giám sát địa bàn, điểm nóng ma túy — Hải Phòng", "Giám sát ma túy HP")
    assert (config["title"], config["area"]) == (long, "Hải Phòng")
    assert f"<h1>{long}</h1>" in client.get("/login").text


def test_the_page_title_names_the_users_province_when_several_are_loaded(
    conn: Connection,
    second_province_path: Path,
    client: TestClient,
    make_user: Callable[..., int],
    make_team: Callable[[str, list[str]], int],
) -> None:
    import_boundaries(conn, second_province_path)
    make_user("qn-chi-huy", "command", province_code=SECOND_PROVINCE)
    make_user("bo-chi-huy", "command")
    make_user("hp-to", "team", make_team("Tổ Hồng Bàng", ["10507"]))
    long, short, config = page_of(client, "qn-chi-huy")
    assert (long, short) == ("Giám sát địa bàn, điểm nóng ma túy — Quảng Ninh", "Giám sát ma túy QN")
    assert (config["title"], config["area"]) == (long, "Quảng Ninh")
    long, short, config = page_of(client, "bo-chi-huy")
    assert (long, short, config["area"]) == ("Giám sát địa bàn, điểm nóng ma túy — toàn quốc", "Giám sát ma túy", None)
    long, _, config = page_of(client, "hp-to")  # a team: the province of its area
    assert (long, config["area"]) == ("Giám sát địa bàn, điểm nóng ma túy — Hải Phòng", "Hải Phòng")
    client.cookies.clear()
    assert "<h1>Giám sát địa bàn, điểm nóng ma túy — toàn quốc</h1>" in client.get("/login").text


def table(content: bytes) -> list[dict[str, object]]:
    """The rows of an administrative workbook's table, by header (the row that starts with STT)."""
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == "STT")
    return [dict(zip(rows[start], row, strict=True)) for row in rows[start + 1 :] if isinstance(row[0], int)]


def test_the_ministrys_files_say_each_units_province(conn: Connection, second_province_path: Path) -> None:
    """Nation-wide, the KPI report in Excel held the country's lines only (each province's drug-free share was in the
    JSON alone), and the classification and the hotspot register named their units without their province, 572 of
    the 3,321 sharing their name with a unit of another province. A one-province file stays as it was."""
    import_boundaries(conn, second_province_path)
    year = draft(conn)
    lines = {row["Chỉ tiêu"]: row for row in table(kpi_report_xlsx(conn, year, issuer=None, by="test").content)}
    quang_ninh = lines["Tỷ lệ xã, phường, đặc khu không ma túy — Quảng Ninh"]
    assert quang_ninh["Ghi chú"] == "0/3 đơn vị; 3 đơn vị thiếu dữ liệu, không tính là không ma túy"
    assert "Tỷ lệ xã, phường, đặc khu không ma túy — Hải Phòng" in lines
    one_province = table(kpi_report_xlsx(conn, year, SECOND_PROVINCE, issuer=None, by="test").content)
    assert not any(" — " in row["Chỉ tiêu"] for row in one_province)

    rows = table(export_classification(conn, year, "xlsx", issuer=None, by="test").content)
    assert {row["Tỉnh, thành phố"] for row in rows} == {"Hải Phòng", "Quảng Ninh"} and len(rows) == 117
    csv_header = (
        export_classification(conn, year, "csv", issuer=None, by="test").content.decode("utf-8-sig").splitlines()[0]
    )
    assert csv_header.split(";")[:4] == ["STT", "Mã đơn vị", "Tên đơn vị", "Tỉnh, thành phố"]
    one = table(
        export_classification(conn, year, "xlsx", scope=AreaScope(province_code="22"), issuer=None, by="test").content
    )
    assert len(one) == 3 and "Tỉnh, thành phố" not in one[0]

    create_manual_hotspot(conn, lon=106.68, lat=20.86, note="tin báo", actor="bo-chi-huy")  # Hải Phòng
    assert (
        "Tỉnh, thành phố" not in table(export_register(conn, "xlsx", by="test").content)[0]
    )  # one province: as before
    create_manual_hotspot(conn, lon=107.15443, lat=20.9622, note="tin báo", actor="bo-chi-huy")  # Hà Tu, Quảng Ninh
    register = table(export_register(conn, "xlsx", by="test").content)
    assert [(row["Xã, phường"], row["Tỉnh, thành phố"]) for row in register][-1] == ("Hà Tu", "Quảng Ninh")
    csv_header = export_register(conn, "csv", by="test").content.decode("utf-8-sig").splitlines()[0].split(";")
    assert csv_header[csv_header.index("Xã, phường") + 1] == "Tỉnh, thành phố"

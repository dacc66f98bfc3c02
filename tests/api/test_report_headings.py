"""Every Excel report carries its reader's heading: a provincial user's province police and place, the Ministry's
for a nation-wide user, and Hải Phòng's, exactly as before provinces existed, in a one-province database."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Connection, text

from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year, export_classification
from gis.services.hotspots import export_register
from gis.services.reports import kpi_report_xlsx
from models.vocabulary import local_today
from tests.conftest import SECOND_PROVINCE

HAI_PHONG = "31"
YEAR = 2030
#: The date line of today's reports, as the demo has always printed it.
TODAY = local_today()
DATED = f"ngày {TODAY.day:02d} tháng {TODAY.month:02d} năm {TODAY.year}"


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
    hai_phong = ("CÔNG AN THÀNH PHỐ HẢI PHÒNG", f"Hải Phòng, {DATED}")
    # The Ministry's reader too: every unit is Hải Phòng's, its reports are what they were.
    assert heading(kpi_report_xlsx(conn, year, issuer=None).content) == hai_phong
    assert heading(kpi_report_xlsx(conn, year, HAI_PHONG, issuer=HAI_PHONG).content) == hai_phong
    assert heading(export_classification(conn, year, "xlsx", issuer=None).content) == hai_phong
    assert heading(export_register(conn, "xlsx").content) == hai_phong


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
        assert report(ministry, path, **params) == ("BỘ CÔNG AN", f"Hà Nội, {DATED}")
        assert report(ministry, path, **params, province=SECOND_PROVINCE) == ("BỘ CÔNG AN", f"Hà Nội, {DATED}")
        assert report(second, path, **params) == ("CÔNG AN TỈNH QUẢNG NINH", f"Quảng Ninh, {DATED}")
        assert report(hai_phong, path, **params) == ("CÔNG AN THÀNH PHỐ HẢI PHÒNG", f"Hải Phòng, {DATED}")
    # The register holds every province's hotspots: the Ministry's.
    assert heading(export_register(conn, "xlsx").content) == ("BỘ CÔNG AN", f"Hà Nội, {DATED}")

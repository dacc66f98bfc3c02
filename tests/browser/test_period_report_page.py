"""«Báo cáo định kỳ» on the command page: a quick pick («Tháng này») shows the month's figures beside the same period
of last year, as the API counts them, and offers the same report in Excel; the day the incident data reaches is said
beside the figures, with a warning when the period goes on past it and the days of last year its incidents are then
compared with; on a phone the table fits the screen.

The city and Chromium are those of test_browser.py (a database of this module's own)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import test_browser as shared
from sqlalchemy import Engine, text
from test_browser import PHONE, open_as, shot

from models.domain.dates import year_back
from models.vocabulary import KPI_NO_DATA, local_today

city, chromium = shared.city, shared.chromium


@pytest.fixture(scope="module")
def server(city: Engine) -> Iterator[str]:
    with shared.served(city, 0) as base:
        yield base


def test_this_months_report_is_shown_and_offered_in_excel(chromium, server: str) -> None:
    page, errors = open_as(chromium, server, "chihuy")
    page.click("#period-report summary")
    # The half year is named as reports name it: «6 tháng» read as the last six months.
    half = "6 tháng đầu năm" if local_today().month <= 6 else "6 tháng cuối năm"
    page.locator("#period-report button[data-period=half]", has_text=half).wait_for()
    page.click("#period-report button[data-period=month]")
    table = page.locator("#period-table")
    table.locator("tr[data-key=total]").wait_for()
    today = local_today()
    first = today.replace(day=1)
    assert page.input_value("#period-form input[name=from]") == f"{first:%d/%m/%Y}"
    assert page.input_value("#period-form input[name=to]") == f"{today:%d/%m/%Y}"
    summary = page.locator("#period-summary").inner_text()
    assert f"từ {first:%d/%m/%Y} đến {today:%d/%m/%Y}" in summary and "so với cùng kỳ" in summary
    # The figures are the API's, written the Vietnamese way.
    report = page.evaluate(f"api('/api/reports/period?from={first}&to={today}')")
    total = next(s for s in report["sections"] if s["key"] == "incidents")["lines"][0]
    cells = table.locator("tr[data-key=total] td").all_inner_texts()
    assert cells[0] == "Tổng số vụ việc"
    # (a month after the city's incidents — they end on 31/10/2026 — has no figure: «chưa có số liệu», not 0)
    assert cells[1] == (KPI_NO_DATA if total["current"] is None else f"{total['current']:,}".replace(",", "."))
    for title in ("Vụ việc về ma túy theo loại", "Điểm, tụ điểm phức tạp về ma túy", "Nhiệm vụ của các tổ công tác"):
        assert table.locator("th", has_text=title).count() == 1
    assert table.locator("td", has_text="Mua bán trái phép chất ma túy").count() == 1
    link = page.locator("#period-xlsx")
    assert link.is_visible() and link.get_attribute("href") == f"/api/reports/period.xlsx?from={first}&to={today}"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == (f"báo-cáo-định-kỳ-{first:%d-%m-%Y}-đến-{today:%d-%m-%Y}.xlsx")
    page.locator("#period-report").scroll_into_view_if_needed()
    shot(page, "command-period-report")
    # A wrong day: the error alone, not the month's report left under the new dates with its Excel link.
    page.fill("#period-form input[name=from]", "15/13/2026")
    page.locator("#period-form button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=không phải ngày hợp lệ")
    assert not table.is_visible() and not link.is_visible()
    assert page.locator("#period-summary").inner_text() == ""
    # A period chosen next: its report, and the wrong day's message gone (it stayed, red, over the new figures).
    page.click("#period-report button[data-period=month]")
    page.wait_for_selector("#period-table", state="visible")
    page.wait_for_function("() => !document.getElementById('message').textContent.includes('không phải ngày hợp lệ')")
    assert errors == []


def test_a_period_past_the_incident_data_is_said_to_be_incomplete(chromium, server: str, city: Engine) -> None:
    """The incident register is imported now and then: a period going on past its newest incident (the city's ends
    on 31/10/2026) is told as incomplete beside its figures, not read as a drop; a period wholly after it has no
    incident figures, not zeros."""
    with city.connect() as conn:
        until = conn.execute(
            text("SELECT max((occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date) FROM incidents")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy")
    page.click("#period-report summary")
    total = page.locator("#period-table tr[data-key=total] td").nth(1)
    gap = page.locator("#period-data-gap")
    for first, counts in ((until - timedelta(days=9), "số vụ của kỳ này chưa đủ"), (until + timedelta(days=1), None)):
        page.fill("#period-form input[name=from]", f"{first:%d/%m/%Y}")
        page.fill("#period-form input[name=to]", f"{until + timedelta(days=10):%d/%m/%Y}")
        page.click("#period-form button[type=submit]")
        gap.filter(has_text=counts or "kỳ này chưa có số vụ").wait_for()
        assert page.locator("#period-data-until").inner_text() == f"Dữ liệu vụ việc đến hết ngày {until:%d/%m/%Y}."
        assert gap.inner_text().startswith(f"Từ ngày {until + timedelta(days=1):%d/%m/%Y} chưa có dữ liệu:")
        # The days not loaded are never counted as none: before them the figure is the API's, after them it is blank.
        assert (total.inner_text() != KPI_NO_DATA) == bool(counts)
        # A part of the period is compared with the same days last year; wholly after the data, the communes with the
        # most incidents are not known yet — not none.
        compared = page.locator("#period-compared")
        if counts:
            assert compared.inner_text().startswith(
                f"Số vụ việc so với cùng kỳ năm trước đến ngày {year_back(until):%d/%m/%Y}"
            )
        else:
            assert compared.is_hidden()
            assert page.locator("#period-table td.none").inner_text() == "Chưa có số liệu trong kỳ."
        if counts:
            shot(page, "command-period-report-data-until")
    # A period the data covers: its day is said, without a warning.
    page.fill("#period-form input[name=from]", f"{until - timedelta(days=9):%d/%m/%Y}")
    page.fill("#period-form input[name=to]", f"{until:%d/%m/%Y}")
    page.click("#period-form button[type=submit]")
    gap.wait_for(state="hidden")
    assert page.locator("#period-data-until").is_visible() and page.locator("#period-compared").is_hidden()
    assert errors == []


def test_the_years_report_fits_a_phone(chromium, server: str) -> None:
    """The planner's year on a phone: the table within the panel, what is counted a few words a line. Its headings kept
    on one line had squeezed «Tổng số vụ việc» to a word a line and pushed «Tăng, giảm» past the screen's edge."""
    page, errors = open_as(chromium, server, "thammuu", PHONE)
    page.click("#period-report summary")
    page.click("#period-report button[data-period=year]")
    page.locator("#period-table tr[data-key=total]").wait_for()
    report = page.locator("#period-report").bounding_box()
    table = page.locator("#period-table").bounding_box()
    assert report and table and table["x"] + table["width"] <= report["x"] + report["width"]
    # The lines a cell's text takes: one rectangle per line of its text.
    lines = page.evaluate("""() => { const range = document.createRange();
        range.selectNodeContents(document.querySelector('#period-table tr[data-key=total] td'));
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; }""")
    assert lines == 1
    page.locator("#period-table").scroll_into_view_if_needed()
    shot(page, "planner-period-report-phone")
    assert errors == []


def test_dates_are_hai_phongs_on_a_browser_set_to_another_zone(chromium, server: str) -> None:
    """A browser set to Los Angeles: the command page shows an instant by Hải Phòng's calendar. A script asking for a
    date before the page had started (the half-year pick's name, at DOMContentLoaded) made the shared formatter in
    the browser's zone, and every date after it — «phức tạp trở lại 05/12» on the 6th past midnight in Hải Phòng."""
    page, errors = open_as(chromium, server, "chihuy", timezone_id="America/Los_Angeles")
    # 20:00 UTC on 1 January: 2 January 03:00 in Hải Phòng, still 1 January in Los Angeles.
    assert page.evaluate("viDate('2026-01-01T20:00:00Z')") == "02/01/2026"
    page.click("#period-report summary")
    assert page.evaluate("viDate('2026-01-01T20:00:00Z')") == "02/01/2026"
    assert errors == []
    page.close()


def test_last_month_is_one_pick_away(chromium, server: str) -> None:
    """The monthly report is last month's, whole: it was typed by hand (the picks all ended today)."""
    page, errors = open_as(chromium, server, "chihuy")
    page.click("#period-report summary")
    page.click("#period-report button[data-period=last_month]")
    page.locator("#period-table tr[data-key=total]").wait_for()
    last = local_today().replace(day=1) - timedelta(days=1)
    assert page.input_value("#period-form input[name=from]") == f"{last.replace(day=1):%d/%m/%Y}"
    assert page.input_value("#period-form input[name=to]") == f"{last:%d/%m/%Y}"
    # A change from 0 says why it has no rate, in the Excel file's words (a bare «(—)» read as a figure missing).
    said = page.evaluate("() => periodChange({ change: 3, change_pct: null, previous: 0 })")
    assert said == '+3 <span class="kpi-blank">(cùng kỳ bằng 0, không tính tỷ lệ)</span>', said
    assert errors == []
    page.close()

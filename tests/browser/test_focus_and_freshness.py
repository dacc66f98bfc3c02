"""What a probe in Chromium found on the pages: keyboard focus lost after almost every action (rows and cards are drawn
afresh, the focus fell to the page's body and the next Tab started at the top of the register, or on the map); a team
phone that never loaded its tasks again by itself (a task command cancelled stayed with its buttons); a hotspot's popup
on a phone whose buttons were below the fold of a 120 px scroll box.

The city and Chromium are those of test_browser.py (a database of this module's own).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import test_browser as shared
from sqlalchemy import Engine, text
from test_browser import (
    PHONE,
    POPUP_OVERLAPS,
    SMALL_PHONE,
    confirming,
    conversion_task,
    first_team_user,
    open_as,
    shot,
    wait_message,
)

from gis.services.tasks import transition_task
from gis.store.accounts import principal_by_username
from gis.store.scoping import UNRESTRICTED

city, chromium = shared.city, shared.chromium
#: The command user's screen of the probe: a laptop, keyboard only.
LAPTOP = {"width": 1366, "height": 800}

#: Where the focus is: the element's tag, id and classes, and the nearest card, row or tab panel holding it.
FOCUS = """() => { const e = document.activeElement;
  const holder = e.closest('.card, tr, article.task, section.tab');
  return { tag: e.tagName, id: e.id, classes: e.className,
           holder: holder ? (holder.dataset.hotspotId || holder.dataset.taskId || holder.id) : null,
           holderKind: holder ? holder.tagName + '.' + holder.className : null }; }"""


@pytest.fixture(scope="module")
def server(city: Engine) -> Iterator[str]:
    """The app served as test_browser.py serves it."""
    with shared.served(city, 0) as base:
        yield base


def focused(page) -> dict:  # noqa: ANN001 - a Playwright page
    """Where the keyboard focus is (FOCUS)."""
    return page.evaluate(FOCUS)


def test_command_keeps_the_keyboard_focus_where_it_works(chromium, server: str, city: Engine) -> None:
    """Keyboard only, at 1366×800: Enter on a register row opens its card with the focus on the card's heading, and
    Tab goes on inside the card; after «Xác minh» and «Giao nhiệm vụ» the focus is in that hotspot's card drawn again;
    the KPI link «Nhiệm vụ quá hạn» shows the task register with the focus in its panel, Tab goes on in it (it fell to
    the page's body, the next Tab went to the map)."""
    with city.connect() as conn:
        hotspot = conn.execute(
            text("SELECT id FROM hotspots WHERE status = 'detected' ORDER BY id LIMIT 1")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", LAPTOP)
    lost: list[str] = []  # each step whose focus is not where the user works, all told at the end

    def check(step: str, holder: str, kind: str, tag: str | None = None) -> None:
        where = focused(page)
        if (
            where["holder"] != holder
            or not (where["holderKind"] or "").startswith(kind)
            or tag not in (None, where["tag"])
        ):
            lost.append(f"{step}: {where}")

    page.locator("nav.tabs button[data-tab=hotspots]").focus()
    page.keyboard.press("Enter")
    page.locator(f"#hotspot-table tr[data-hotspot-id='{hotspot}']").focus()
    page.keyboard.press("Enter")
    card = f"#hotspot-table .card[data-hotspot-id='{hotspot}']"
    page.wait_for_selector(card)
    check("card opened", str(hotspot), "DIV.card", "H3")
    page.keyboard.press("Tab")
    check("Tab in the card opened", str(hotspot), "DIV.card")
    # «Xác minh»: the card is drawn again with the hotspot's new state, the focus stays in it
    page.locator(f"{card} button[data-action=verified]").focus()
    page.keyboard.press("Enter")
    wait_message(page, f"Điểm nóng #{hotspot}: Đã xác minh")
    check("after «Xác minh»", str(hotspot), "DIV.card")
    # «Giao nhiệm vụ…»: opened and sent by keyboard; the focus stays in the card drawn again
    page.locator(f"{card} details.assign summary").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{card} form.assign select[name=team]:enabled")
    if page.locator(f"{card} form.assign input[name=due]").get_attribute("inputmode") != "numeric":
        lost.append("the due date field has no numeric keyboard (inputmode)")
    page.locator(f"{card} form.assign button[type=submit]").focus()
    page.keyboard.press("Enter")
    wait_message(page, "Đã giao nhiệm vụ #")
    check("after «Giao nhiệm vụ»", str(hotspot), "DIV.card")
    shot(page, "focus-command-after-assign")
    # The KPI link: the task register shown, the focus in its panel, Tab goes on in it
    page.locator("nav.tabs button[data-tab=overview]").focus()
    page.keyboard.press("Enter")
    page.locator("#kpi-overdue").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#tab-tasks:not([hidden])")
    check("the KPI link followed", "tab-tasks", "SECTION")
    page.keyboard.press("Tab")
    if not page.evaluate("() => document.getElementById('tab-tasks').contains(document.activeElement)"):
        lost.append(f"Tab after the KPI link: {focused(page)}")
    assert lost == []
    assert errors == []
    page.close()


def test_a_team_member_reporting_work_done_keeps_the_focus_in_the_task(chromium, server: str, city: Engine) -> None:
    """On the team's page, keyboard only: after «Báo cáo hoàn thành» the list is drawn again and the focus is in the
    same task (it fell to the page's body)."""
    with city.begin() as conn:
        team_user, team_id, commune = first_team_user(conn)
        command = principal_by_username(conn, "chihuy")
        task = conversion_task(conn, command, commune, 2033, team_id)
        transition_task(conn, task, "in_progress", "", 2, principal_by_username(conn, team_user), UNRESTRICTED)
    page, errors = open_as(chromium, server, team_user, PHONE)
    item = f"article.task[data-task-id='{task}']"
    page.locator(f"{item} button[data-to=completed]").focus()
    page.keyboard.press("Enter")
    wait_message(page, f"Nhiệm vụ #{task}: ")
    where = focused(page)
    assert where["holder"] == str(task) and where["holderKind"].startswith("ARTICLE"), where
    assert errors == []
    page.close()


def test_the_team_phone_drops_a_task_command_cancelled_when_it_is_shown_again(
    chromium, server: str, city: Engine
) -> None:
    """Command cancels a task while the team's page lies open: when the page is shown again (visibilitychange) it
    loads its tasks and notices again by itself — the task leaves the list with its buttons, the notice says why. So
    it does while the area's outline has not come yet (a slow signal): it was kept fresh only once the outline had."""
    with city.begin() as conn:
        team_user, team_id, commune = first_team_user(conn)
        task = conversion_task(conn, principal_by_username(conn, "chihuy"), commune, 2034, team_id)
    page, errors = open_as(chromium, server, team_user, PHONE)
    page.route("**/api/communes*", lambda route: None)  # the outline never comes
    page.reload()
    page.wait_for_selector(f"article.task[data-task-id='{task}'] button[data-to]")
    with city.begin() as conn:
        transition_task(
            conn, task, "canceled", "Trùng kế hoạch", 2, principal_by_username(conn, "chihuy"), UNRESTRICTED
        )
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_selector(f"article.task[data-task-id='{task}']", state="detached", timeout=10_000)
    page.locator("#inbox li", has_text=f"Nhiệm vụ #{task} đã bị hủy").wait_for(timeout=10_000)
    assert errors == []
    page.close()


def test_a_hotspot_popup_on_a_small_phone_shows_its_buttons(chromium, server: str, city: Engine) -> None:
    """Command at 360×740 taps a hotspot with actions: the popup's buttons (the verification, the dismissal, the
    history) are on the screen and inside the popup's scroll box — they were below a 120 px box's fold."""
    with city.connect() as conn:
        hotspot = conn.execute(
            text("SELECT id FROM hotspots WHERE status = 'detected' ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", SMALL_PHONE)
    page.evaluate(
        """id => { window.diaban.map.eachLayer(l => { if (l.feature?.properties?.id === id && l.getLatLng) {
            window.diaban.map.setView(l.getLatLng(), 15, { animate: false }); l.fire('click', { latlng: l.getLatLng() });
        } }); }""",
        hotspot,
    )
    page.wait_for_selector(f".leaflet-popup .card[data-hotspot-id='{hotspot}']")
    page.wait_for_timeout(1000)  # the pan that makes room for the popup
    shot(page, "focus-popup-360")
    hidden = page.evaluate(
        """() => { const popup = document.querySelector('.leaflet-popup');
        const box = popup.querySelector('.leaflet-popup-content').getBoundingClientRect();
        const map = document.querySelector('.folium-map').getBoundingClientRect();
        const controls = [...popup.querySelectorAll('.card button, .card summary')].filter(b => b.offsetParent);
        return { n: controls.length, hidden: controls.filter(b => { const r = b.getBoundingClientRect();
          return r.top < Math.max(0, box.top, map.top) || r.bottom > Math.min(innerHeight, box.bottom, map.bottom)
            || r.left < 0 || r.right > innerWidth; }).map(b => b.textContent.trim()) }; }"""
    )
    assert hidden["n"] >= 3 and hidden["hidden"] == [], hidden
    assert errors == []
    page.close()


def test_a_planner_approving_a_year_by_keyboard_is_told_what_follows_and_keeps_the_focus(chromium, server: str) -> None:
    """«Phê duyệt kết quả năm» by keyboard: the question says a correction is still possible after (a run of
    correction approved again: the README's workflow; it said the result could never be changed), and once approved
    — the button disabled — the focus is on the year's line saying so, not on the page's body."""
    page, errors = open_as(chromium, server, "thammuu2", LAPTOP)
    page.select_option("#year", "2026")
    page.wait_for_selector("#run-status >> text=Bản nháp phiên bản 1")
    asked = confirming(page, True)
    page.locator("#approve").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#run-status >> text=Đã phê duyệt phiên bản 1", timeout=15_000)
    wait_message(page, "Đã phê duyệt kết quả phân loại năm 2026")
    # What is approved: the version, its classes counted, its overrides; and that a correction is still possible.
    assert len(asked) == 1 and asked[0].startswith("Phê duyệt kết quả phân loại năm 2026, phiên bản 1?\n"), asked
    assert re.search(r"\n(Không có xã nào điều chỉnh thủ công|\d+ xã điều chỉnh thủ công:\n• .+)", asked[0]), asked
    assert asked[0].endswith("\nSau khi phê duyệt, muốn sửa phải chạy một lần hiệu chỉnh và phê duyệt lại.")
    assert focused(page)["id"] == "run-status", focused(page)
    shot(page, "focus-planner-approved")
    assert errors == []
    page.close()


def test_a_hotspot_card_near_the_citys_edge_opens_whole_on_a_phone(chromium, server: str, city: Engine) -> None:
    """Command taps the northernmost hotspot on a phone with the whole city in view: its card opened with the heading,
    status and commune above the screen — Leaflet's pan that brings a popup into view stopped at the map's bounds. The
    bounds are lifted while the card is open and set again once it is closed."""
    with city.connect() as conn:
        hotspot = conn.execute(
            text("SELECT id FROM hotspots WHERE status = 'detected' ORDER BY ST_Y(centroid) DESC LIMIT 1")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    page.evaluate(
        """id => { window.diaban.map.eachLayer(l => { if (l.feature?.properties?.id === id && l.getLatLng) {
            l.fire('click', { latlng: l.getLatLng() }); } }); }""",
        hotspot,
    )
    page.wait_for_selector(f".leaflet-popup .card[data-hotspot-id='{hotspot}']")
    page.wait_for_function(  # the pan settled
        """() => { const t = document.querySelector('.leaflet-popup').getBoundingClientRect().top;
        const same = window.lastTop === t; window.lastTop = t; return same; }""",
        polling=300,
    )
    shot(page, "focus-popup-north-390")
    placed = page.evaluate(
        """() => { const map = document.querySelector('.folium-map').getBoundingClientRect();
        const heading = document.querySelector('.leaflet-popup .card h3').getBoundingClientRect();
        const search = document.querySelector('.map-search').getBoundingClientRect();
        return { heading: heading.top, map: map.top, search: search.bottom }; }"""
    )
    assert placed["heading"] >= max(placed["map"], placed["search"]), placed  # below the search box, on the screen
    page.locator(".leaflet-popup-close-button").click()
    assert page.evaluate("() => window.diaban.map.options.maxBounds !== null")
    assert errors == []
    page.close()


@pytest.mark.parametrize("fold", ["details[data-keep=history]", "details.assign"], ids=["history", "assign"])
def test_a_hotspot_card_on_the_map_stays_whole_when_a_fold_is_opened(
    chromium, server: str, city: Engine, fold: str
) -> None:
    """Command opened «Lịch sử» or «Giao …» in a hotspot's card on the map: the card grew upwards from its hotspot,
    its heading, status and «×» under the search box and the map's buttons, and the map did not move. The card is
    laid out again and brought into view."""
    with city.connect() as conn:
        hotspot = conn.execute(
            text("""SELECT h.id FROM hotspots h WHERE (SELECT count(*) FROM hotspot_events e WHERE e.hotspot_id = h.id)
                    >= 2 AND h.status IN ('verified', 'assigned') ORDER BY ST_Y(h.centroid) DESC LIMIT 1""")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", {"width": 1366, "height": 768})
    page.evaluate(
        """id => { window.diaban.map.eachLayer(l => { if (l.feature?.properties?.id === id && l.getLatLng) {
            l.fire('click', { latlng: l.getLatLng() }); } }); }""",
        hotspot,
    )
    card = page.locator(f".leaflet-popup .card[data-hotspot-id='{hotspot}']")
    card.locator(f"{fold} summary").first.click()
    if "history" in fold:
        page.wait_for_function("() => document.querySelectorAll('.leaflet-popup ol.history li').length >= 2")
    else:
        page.wait_for_function("() => !document.querySelector('.leaflet-popup details.assign select').disabled")
    page.wait_for_function(  # the pan settled
        """() => { const t = document.querySelector('.leaflet-popup').getBoundingClientRect().top;
        const same = window.lastTop === t; window.lastTop = t; return same; }""",
        polling=300,
    )
    shot(page, f"focus-popup-{'history' if 'history' in fold else 'assign'}-1366")
    assert page.evaluate(POPUP_OVERLAPS) == {"covered": [], "outside": False}
    assert errors == []
    page.close()

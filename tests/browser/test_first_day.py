"""A new user's first day: every page says what it shows in Vietnamese and opens a «Hướng dẫn» of its own.

Here: the check that tells English from Vietnamese, a draft year named as the vocabulary names it on both pages that
show one, the admin page naming the button it asks for, the team map's legend, folded sections marked on a phone.
Each role's help (folded, opened from the keyboard, naming the page's statuses, classes or roles) and the sweep of
every tab for English words are checked on the page walk (test_page_walk.py).

The city, the server and Chromium are those of test_browser.py (a database of this module's own).
"""

from __future__ import annotations

import pytest
import test_browser as shared
from test_browser import DESKTOP, PHONE, open_as
from vietnamese_text import foreign_words

from models.vocabulary import Role, RunStatus

city, server, chromium = shared.city, shared.server, shared.chromium
USERS = {Role.COMMAND: "chihuy", Role.TEAM: "to05", Role.PLANNER: "thammuu", Role.ADMIN: "quantri"}


def test_the_check_tells_english_from_vietnamese() -> None:
    assert foreign_words("Đã hoàn thành, chờ nghiệm thu — Trọng điểm loại III; Quảng Ninh; thể, nốt", set()) == set()
    assert foreign_words("No file chosen · Close popup · network error · Dữ liệu (demo)", set()) == {
        "file", "chosen", "Close", "popup", "network", "error", "demo"
    }  # fmt: skip
    assert foreign_words("Thực hiệnTừ chối nhận, dd/mm/yyyy, 3 km², «diaban incidents import»", set()) == set()
    # English spelled like a syllable, and internal codes (of syllables too), are found as well.
    assert foreign_words("Show the team: true, not nan", set()) == {"Show", "the", "team", "true", "not", "nan"}
    assert foreign_words("Loại trong_diem, in_progress", set()) == {"trong_diem", "in_progress", "progress"}
    assert foreign_words("Người giao: chihuy", {"chihuy"}) == set() and foreign_words("chihuy") == {"chihuy"}
    assert foreign_words("Tỉnh Đắk Lắk", {"Đắk", "Lắk"}) == set() and foreign_words("Tỉnh Đắk Lắk") == {"Đắk", "Lắk"}


def test_a_draft_year_has_one_name_on_the_planner_and_the_command_page(chromium, server: str) -> None:
    draft = RunStatus.DRAFT.label
    planner, errors = open_as(chromium, server, "thammuu", DESKTOP)
    planner.wait_for_selector(f"#run-status >> text={draft} phiên bản 1")  # it read «Bản dự thảo phiên bản 1»
    planner.close()
    command, more = open_as(chromium, server, "chihuy", DESKTOP)
    assert f"({draft.lower()})" in command.locator("#kpi-drug-free-label").inner_text()  # it read «(dự thảo)»
    command.close()
    assert errors == [] and more == []


def test_the_admin_page_names_the_button_it_asks_for(chromium, server: str) -> None:
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    page.click("nav.tabs button[data-tab=teams]")
    button = page.locator("#team-save").inner_text()
    assert f"rồi bấm «{button}»" in page.locator("#team-summary").inner_text()  # it said «rồi bấm Tạo»
    assert errors == []
    page.close()


def test_the_team_map_has_a_legend(chromium, server: str) -> None:
    page, errors = open_as(chromium, server, "to05", PHONE)
    legend = page.locator("main.panel details.legend")
    assert legend.count() == 1
    legend.locator("summary").click()
    rows = legend.locator(".legend-row").all_inner_texts()
    assert [row.split(" (")[0] for row in rows] == [
        "Địa bàn phụ trách của tổ",
        "Ngoài địa bàn của tổ",
        "Nơi làm nhiệm vụ của tổ",
        "Nhiệm vụ quá hạn",
        "Báo điểm mới chờ gửi trên máy",
    ]
    assert errors == []
    page.close()


#: The visible summaries of the panel that show no fold marker: neither the browser's (a list item) nor one drawn before
#: them.
UNMARKED_SUMMARIES = """() => [...document.querySelectorAll('main.panel summary')].filter((s) => s.offsetParent)
  .filter((s) => getComputedStyle(s).display !== 'list-item'
    && ['none', 'normal'].includes(getComputedStyle(s, '::before').content)).map((s) => s.innerText.trim())"""


@pytest.mark.parametrize("role", list(USERS), ids=str)
def test_every_folded_section_shows_it_unfolds_on_a_phone(chromium, server: str, role: Role) -> None:
    """On a phone the summaries are flex boxes (a thumb high), which drops the browser's fold marker: «Hướng dẫn» and
    «Báo điểm mới» read as titles, not as sections to open."""
    page, errors = open_as(chromium, server, USERS[role], PHONE)
    assert page.evaluate(UNMARKED_SUMMARIES) == []
    page.locator("main.panel details#help > summary").click()
    assert (
        page.evaluate(
            "() => getComputedStyle(document.querySelector('main.panel details#help > summary'), '::before').content"
        )
        == '"▾"'
    )
    assert errors == []
    page.close()

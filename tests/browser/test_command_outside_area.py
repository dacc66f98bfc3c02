"""An administrator moved a commune from one team's area to another's: the old team keeps its open tasks there (command
gives them over), but the command page never said so, and the commune's new team does not see them. The task and
hotspot registers mark them «ngoài địa bàn hiện tại của tổ» and filter them, the overview counts them
and opens them, and the task's card offers the commune's team now first.

The city and Chromium are those of test_browser.py (a database of this module's own).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import test_browser as shared
from sqlalchemy import Engine, text
from test_browser import PHONE, open_as, shot

from gis.services.admin import change_team_area
from gis.store.scoping import TEAM_COMMUNES
from gis.store.selection import held_outside_area
from gis.store.tasks import open_tasks_held
from models.vocabulary import local_today

city, chromium = shared.city, shared.chromium
MARK = "ngoài địa bàn hiện tại của tổ"


@pytest.fixture(scope="module")
def server(city: Engine) -> Iterator[str]:
    """The app served as test_browser.py serves it."""
    with shared.served(city, 0) as base:
        yield base


@pytest.fixture(scope="module")
def moved(city: Engine) -> dict[str, int | str]:
    """The commune of an assigned suppression task leaves its team's area (a team answering for other communes too)
    for another team's, from today, as the administrator's page does it (a commune no other team shares: the
    suggestion is then the new team alone). Before, no team holds a task outside its area."""
    with city.begin() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM tasks t WHERE {held_outside_area('t')}")).scalar_one() == 0
        task, hotspot, holder, commune = conn.execute(
            text("""SELECT t.id, t.hotspot_id, t.team_id, t.commune_code FROM tasks t
                    WHERE t.state = 'assigned' AND t.kind = 'suppression'
                      AND (SELECT count(*) FROM team_areas a WHERE a.team_id = t.team_id AND a.valid_to IS NULL) > 1
                      AND (SELECT count(*) FROM team_areas s WHERE s.commune_code = t.commune_code
                             AND s.valid_to IS NULL) = 1
                    ORDER BY t.id LIMIT 1""")
        ).one()
        new_team = conn.execute(
            text("SELECT id FROM teams WHERE id <> :t AND dissolved_on IS NULL ORDER BY id LIMIT 1"), {"t": holder}
        ).scalar_one()

        def area(team: int) -> list[str]:
            return list(conn.execute(text(TEAM_COMMUNES), {"scope_team": team}).scalars())

        today = local_today()
        change_team_area(conn, "quantri", holder, [c for c in area(holder) if c != commune], today)
        change_team_area(conn, "quantri", new_team, [*area(new_team), commune], today)
        held = sum(c["tasks"] for c in open_tasks_held(conn, holder, [commune]))
        new_name = conn.execute(text("SELECT name FROM teams WHERE id = :t"), {"t": new_team}).scalar_one()
    return {"task": task, "hotspot": hotspot, "held": held, "new_team": new_team, "new_name": new_name}


def test_command_sees_the_tasks_left_outside_their_teams_area_and_gives_one_over(
    chromium, server: str, moved: dict
) -> None:
    page, errors = open_as(chromium, server, "chihuy")
    figure = page.locator("#kpi-outside")
    figure.filter(has_text=re.compile(f"^{moved['held']}$")).wait_for()
    assert figure.locator("xpath=../..").locator("span").inner_text() == f"Nhiệm vụ nằm {MARK}"
    shot(page, "command-outside-area-overview")
    page.click("[role=tab][data-tab=tasks]")
    row = page.locator(f"#task-table tr[data-task-id='{moved['task']}']")
    assert MARK in row.locator("td").nth(3).inner_text()
    rows = page.locator("#task-table tbody tr:not(.detail)")
    assert rows.count() > moved["held"]  # tasks inside their team's area are listed unmarked
    assert page.locator("#task-table small.outside-area").count() == moved["held"]

    page.check("#task-filters input[name=outside_area]")
    page.locator("#task-count").filter(has_text=f"{moved['held']} nhiệm vụ").wait_for()
    assert rows.count() == moved["held"] and all(MARK in r for r in rows.all_inner_texts())
    row.click()
    card = page.locator(f"#task-table .card[data-task-id='{moved['task']}']")
    assert MARK in card.locator("p.outside-area").inner_text()
    card.locator("summary.assign-open", has_text="Giao lại cho tổ đang phụ trách địa bàn").click()
    card.locator("form.assign select[name=team]:enabled").wait_for()
    first = card.locator("form.assign select[name=team] option").first
    assert int(first.get_attribute("value")) == moved["new_team"], first.inner_text()
    shot(page, "command-outside-area")

    page.click("[role=tab][data-tab=hotspots]")
    hotspot_row = page.locator(f"#hotspot-table tr[data-hotspot-id='{moved['hotspot']}']")
    assert MARK in hotspot_row.locator("td").nth(3).inner_text()
    hotspot_rows = page.locator("#hotspot-table tbody tr:not(.detail)")
    outside = page.locator("#hotspot-table small.outside-area").count()
    assert 1 <= outside < hotspot_rows.count()
    page.check("#hotspot-filters input[name=outside_area]")  # of each hotspot, its newest task
    page.locator("#hotspot-count").filter(has_text=re.compile(f"^{outside} điểm nóng$")).wait_for()
    assert hotspot_row.is_visible() and all(MARK in r for r in hotspot_rows.all_inner_texts())
    shot(page, "command-outside-area-hotspots")
    assert errors == []
    page.close()


def test_the_overview_figure_opens_them_on_a_phone(chromium, server: str, moved: dict) -> None:
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    page.locator("#kpi-outside").filter(has_text=re.compile(f"^{moved['held']}$")).click()
    assert page.locator("#task-filters input[name=outside_area]").is_checked()
    page.locator("#task-count").filter(has_text=f"{moved['held']} nhiệm vụ").wait_for()
    row = page.locator(f"#task-table tr[data-task-id='{moved['task']}']")
    assert MARK in row.inner_text()
    shot(page, "command-outside-area-phone")
    assert errors == []
    page.close()

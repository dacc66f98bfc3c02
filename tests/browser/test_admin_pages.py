"""The administration page as an administrator meets it (its other checks: test_browser.py, test_first_day.py)."""

from __future__ import annotations

import test_browser as shared
from sqlalchemy import Engine, text
from test_browser import PHONE, open_as, shot, wait_message

from models.vocabulary import TASK_OPEN, codes

city, server, chromium = shared.city, shared.server, shared.chromium


def test_taking_a_commune_with_open_tasks_from_a_team_says_the_team_keeps_them(
    chromium,
    server: str,
    city: Engine,
) -> None:
    """The team keeps its open tasks in a commune taken from its area (command reassigns them): the page says so."""
    with city.connect() as conn:
        team_id, team, code, tasks = conn.execute(
            text("""SELECT t.team_id, tm.name, t.commune_code, count(*) FROM tasks t JOIN teams tm ON tm.id = t.team_id
                    JOIN team_areas ta ON ta.team_id = t.team_id AND ta.commune_code = t.commune_code
                         AND ta.valid_to IS NULL
                    WHERE t.state = ANY(:open) GROUP BY 1, 2, 3 ORDER BY 1, 3 LIMIT 1"""),
            {"open": list(codes(TASK_OPEN))},
        ).one()
    page, errors = open_as(chromium, server, "quantri", PHONE)
    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(team_id))
    page.wait_for_selector("#area-history tbody tr")
    page.uncheck(f"#commune-list label[data-code='{code}'] input")
    page.click("#team-save")
    wait_message(page, f"tổ vẫn giữ {tasks} nhiệm vụ đang mở ở xã/phường bớt đi")
    shot(page, "admin-open-tasks-kept-phone")
    assert "chỉ huy giao lại" in page.locator("#message").inner_text(), team
    assert errors == []
    page.close()


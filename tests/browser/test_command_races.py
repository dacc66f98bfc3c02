"""Command's and planner's pages while requests are on their way: what the user opened and chose in a card outlives the
list drawn again, a change on its way cannot be sent a second time from a card drawn afresh, and an older year's
answer coming last is not drawn under the year picked after it. Each race is made by holding a request back
(Playwright's page.route), never by waiting a while.
"""

from __future__ import annotations

import test_browser as shared
from sqlalchemy import Engine, text
from test_browser import DESKTOP, open_as, reassigned, task_card, wait_message

city, server, chromium = shared.city, shared.server, shared.chromium


def held_back(page, pattern: str) -> list:
    """The requests to `pattern` from now on, held on their way (each until the test lets it go)."""
    held: list = []
    page.route(pattern, lambda route: held.append(route))
    return held


def until_held(page, held: list) -> None:
    """Wait until a held request has reached the test's thread."""
    while not held:
        page.wait_for_timeout(50)


def test_an_open_assignment_form_outlives_the_list_drawn_again(chromium, server: str, city: Engine) -> None:
    """Command opens «Giao lại cho tổ khác…» in a task's card, picks a team other than the suggested one and types the
    reason; the list drawn again (sorted here; loaded again after any change on the page) keeps the form open with the
    team and the reason — it went back to a plain button, both lost. Once the task is given, the form is emptied."""
    with city.connect() as conn:
        task_id, holder = conn.execute(
            text("SELECT id, team_id FROM tasks WHERE state = 'assigned' ORDER BY id DESC LIMIT 1")
        ).one()
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    card = task_card(page, task_id)
    card.locator("summary.assign-open").click()
    team = card.locator("form.assign select[name=team]:enabled")  # the teams came
    team.wait_for()
    choices = team.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert len(choices) >= 2 and str(holder) not in choices
    team.select_option(choices[-1])  # not the suggestion, which a form drawn afresh would show
    reason = "Tổ đang giữ được điều sang chuyên án khác"
    card.locator("form.assign input[name=note]").fill(reason)

    page.click("#task-table th[data-sort=team]")  # the list drawn again
    assert card.locator("details.assign").evaluate("d => d.open")
    team.wait_for()  # the teams asked for again by the card drawn afresh
    assert team.input_value() == choices[-1]
    assert card.locator("form.assign input[name=note]").input_value() == reason

    card.locator("form.assign button[type=submit]").click()
    wait_message(page, f"Đã giao nhiệm vụ #{task_id}")
    assert not card.locator("details.assign").evaluate("d => d.open")
    assert card.locator("form.assign input[name=note]").input_value() == ""
    now_with, note = reassigned(city, task_id)
    assert (str(now_with), note) == (choices[-1], reason)
    assert errors == []
    page.close()


def test_a_card_drawn_again_while_its_change_is_on_its_way_cannot_send_it_again(
    chromium, server: str, city: Engine
) -> None:
    """Command returns a task's work to its team; while the change is on its way the list is drawn again: the card
    drawn afresh keeps its buttons disabled (they were enabled: a second click sent the change again, refused as
    «đã thay đổi»), and enables them once the change is stored."""
    returned = "SELECT count(*) FROM task_events WHERE task_id = :t AND to_state = 'returned'"
    with city.connect() as conn:
        task_id = conn.execute(text("SELECT min(id) FROM tasks WHERE state = 'completed'")).scalar_one()
        before = conn.execute(text(returned), {"t": task_id}).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    held = held_back(page, f"**/api/tasks/{task_id}/transitions")
    card = task_card(page, task_id)
    card.locator(".actions textarea").fill("Thiếu biên bản làm việc với xã")
    card.locator("button[data-action=returned]").click()
    until_held(page, held)

    page.click("#task-table th[data-sort=team]")  # the list drawn again while the change is on its way
    assert card.locator("button").evaluate_all("bs => bs.length > 0 && bs.every(b => b.disabled)")

    held[0].continue_()
    wait_message(page, f"Nhiệm vụ #{task_id}: ")
    assert card.locator("button[data-action=canceled]").is_enabled()  # what command may do with the returned work
    with city.connect() as conn:
        assert conn.execute(text(returned), {"t": task_id}).scalar_one() == before + 1
    assert errors == []
    page.close()


def test_the_planner_sees_the_year_picked_last_whatever_answer_comes_last(chromium, server: str) -> None:
    """The planner picks 2025, then 2026 before 2025's classification came: the page shows 2026 (2025's answer,
    come last, was drawn under 2026's title)."""
    page, errors = open_as(chromium, server, "thammuu", DESKTOP)
    held = held_back(page, "**/api/classifications/2025/review?*")
    page.select_option("#year", "2025")
    page.select_option("#year", "2026")
    page.wait_for_selector("#run-status >> text=Bản nháp phiên bản 1")
    drawn = page.locator("#run-status").inner_text()
    until_held(page, held)
    with page.expect_response("**/api/classifications/2025/review?*") as late:
        held[0].continue_()
    late.value.finished()
    page.evaluate("() => api('/api/auth/me')")  # a round trip after it: the page has read the late answer
    assert page.locator("#run-status").inner_text() == drawn
    assert errors == []
    page.close()

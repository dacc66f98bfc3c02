"""A commander's week on the command page: a hotspot's history reads in Vietnamese, in Hải Phòng's time, detection's
entries included; a hotspot kept clean says until when it must stay clean before it may be closed; the inbox counts
only what still waits for command and names the team that wrote; the KPI of overdue tasks opens them.

The city and Chromium are those of test_browser.py (a database of this module's own); the server keeps the default
monitoring period (180 days, not test_browser.py's 0), as a commander meets it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import test_browser as shared
from conftest import suppression_task
from sqlalchemy import Engine, text
from test_browser import DESKTOP, PHONE, open_as, shot
from vietnamese_text import foreign_words, names_shown

from gis.services.hotspots import transition_hotspot
from gis.services.tasks import comment_task, transition_task
from gis.store.accounts import principal_by_username
from gis.store.scoping import UNRESTRICTED
from models.domain.hotspot_lifecycle import DEFAULT_MONITORING_DAYS, hotspot_lifecycle
from models.vocabulary import DRY_RUN_NOTICE, local_today

city, chromium = shared.city, shared.chromium


@pytest.fixture(scope="module")
def server(city: Engine) -> Iterator[str]:
    """The app served with the default monitoring period."""
    with shared.served(city, DEFAULT_MONITORING_DAYS) as base:
        yield base


def open_card(page, hotspot_id: int):
    """The hotspot's card opened in the register, its history opened and loaded."""
    page.click("[role=tab][data-tab=hotspots]")
    page.click(f"#hotspot-table tr[data-hotspot-id='{hotspot_id}']")
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot_id}']")
    card.locator("details[data-keep=history] summary").click()
    card.locator("ol.history li time").first.wait_for()
    return card


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_detections_entries_in_a_history_read_in_vietnamese(chromium, server: str, city: Engine, viewport) -> None:
    """A hotspot that detection created and later put to sleep: its history named the run «detection run 3», showed the
    event's code «dormant» and the English the notes keep for the logs («(no cluster since 2026-05-04)»)."""
    with city.connect() as conn:
        hotspot = conn.execute(
            text("SELECT min(hotspot_id) FROM hotspot_events WHERE event = 'dormant' AND run_id IS NOT NULL")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", viewport)
    history = open_card(page, hotspot).locator("ol.history")
    told = history.inner_text()
    shot(page, f"command-week-history-{viewport['width']}")
    assert "Không còn cụm vụ việc" in told and "Hệ thống (tự động, khi chạy phát hiện), lần chạy #" in told
    assert "«không còn cụm vụ việc từ " in told and "phát hiện qua phân cụm»" in told  # the notes, without the English
    assert foreign_words(told, names_shown(city)) == set(), told
    assert errors == []
    page.close()


def test_a_hotspot_given_again_keeps_its_first_tasks_work_in_its_history(chromium, server: str, city: Engine) -> None:
    """The demo's hotspot that recurred after closure has a second task: its history showed only that one, the first
    task's work and its acceptance (nghiệm thu) gone from the story."""
    with city.connect() as conn:
        hotspot, first, second = conn.execute(
            text("""SELECT hotspot_id, min(id), max(id) FROM tasks WHERE kind = 'suppression'
                    GROUP BY hotspot_id HAVING count(*) > 1 ORDER BY hotspot_id LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, "chihuy")
    lines = open_card(page, hotspot).locator("ol.history li").all_inner_texts()
    assert any(line.startswith(f"Nhiệm vụ #{first}: ") and "→ Đã nghiệm thu" in line for line in lines), lines
    assert any(line.startswith(f"Nhiệm vụ #{second}: ") for line in lines), lines
    assert errors == []
    page.close()


def test_a_hotspot_kept_clean_says_until_when_before_it_may_be_closed(chromium, server: str, city: Engine) -> None:
    """After the team's work is accepted and the eradication recorded, monitoring starts: the card offered no button to
    close it and said nothing of the 180 days, nor of when they end."""
    machine = hotspot_lifecycle(DEFAULT_MONITORING_DAYS)
    with city.begin() as conn:
        hotspot, task, version, team = conn.execute(
            text("""SELECT t.hotspot_id, t.id, t.version, u.username FROM tasks t JOIN users u ON u.team_id = t.team_id
                    WHERE t.kind = 'suppression' AND t.state = 'assigned' ORDER BY t.due_date DESC, t.id LIMIT 1""")
        ).one()
        command, worker = principal_by_username(conn, "chihuy"), principal_by_username(conn, team)
        for to, who in (("in_progress", worker), ("completed", worker), ("accepted", command)):
            version = transition_task(conn, task, to, "", version, who, UNRESTRICTED)["version"]
        for to, note in (("eradicated", "bắt giữ đối tượng, niêm phong địa điểm"), ("monitoring", "")):
            current = conn.execute(text("SELECT version FROM hotspots WHERE id = :id"), {"id": hotspot}).scalar_one()
            transition_hotspot(conn, machine, hotspot, to, note, current, command, UNRESTRICTED)
    page, errors = open_as(chromium, server, "chihuy")
    card = open_card(page, hotspot)
    ends = local_today() + timedelta(days=DEFAULT_MONITORING_DAYS)
    assert card.locator("p.next").inner_text() == (
        f"Chưa loại khỏi danh sách được: thời gian theo dõi {DEFAULT_MONITORING_DAYS} ngày kéo dài đến {ends:%d/%m/%Y}"
    )
    assert card.locator("button[data-action=closed]").count() == 0
    shot(page, "command-week-monitoring")
    assert errors == []
    page.close()


def test_the_inbox_stops_counting_a_decline_once_the_hotspot_has_a_new_task(
    chromium, server: str, city: Engine
) -> None:
    """A team declines its task, command gives the hotspot to another team: the decline is handled, yet the inbox kept
    it bold and in its count for ever (the page took any declined task for one waiting)."""
    with city.begin() as conn:
        hotspot, task, version, team = conn.execute(
            text("""SELECT t.hotspot_id, t.id, t.version, u.username FROM tasks t JOIN users u ON u.team_id = t.team_id
                    WHERE t.kind = 'suppression' AND t.state = 'assigned' ORDER BY t.id DESC LIMIT 1""")
        ).one()
        transition_task(
            conn, task, "declined", "Thiếu lực lượng", version, principal_by_username(conn, team), UNRESTRICTED
        )
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    count = page.locator("#inbox-count")
    before = int(count.inner_text() or 0)
    page.click("[role=tab][data-tab=inbox]")
    declined = page.locator("#inbox li", has_text=f"Nhiệm vụ #{task} ").first
    assert "handled" not in (declined.get_attribute("class") or "")  # waits for command: the hotspot has no task
    with city.begin() as conn:
        command = principal_by_username(conn, "chihuy")
        other = conn.execute(
            text("SELECT id FROM teams WHERE id <> (SELECT team_id FROM tasks WHERE id = :t) ORDER BY id LIMIT 1"),
            {"t": task},
        ).scalar_one()
        suppression_task(conn, command, hotspot, other, "high")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.click("[role=tab][data-tab=inbox]")
    assert "handled" in (page.locator("#inbox li", has_text=f"Nhiệm vụ #{task} ").first.get_attribute("class") or "")
    assert int(page.locator("#inbox-count").inner_text() or 0) == before - 1
    shot(page, "command-week-inbox-phone")
    assert errors == []
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_count_of_overdue_tasks_opens_them(chromium, server: str, viewport) -> None:
    """«Nhiệm vụ quá hạn» was a bare number beside the link of «Chờ nghiệm thu»: a click now lists those tasks."""
    page, errors = open_as(chromium, server, "chihuy", viewport)
    overdue = page.locator("#kpi-overdue")
    told = int(overdue.inner_text())
    assert told >= 1  # the demo's first task is five days late
    overdue.click()
    rows = page.locator("#task-table tbody tr[data-task-id]")
    page.wait_for_function(
        "n => document.querySelectorAll('#task-table tbody tr[data-task-id]').length === n", arg=told
    )
    assert page.locator("#task-filters input[name=overdue]").is_checked()
    assert all("overdue" in (rows.nth(i).get_attribute("class") or "") for i in range(told))
    assert errors == []
    page.close()


def test_work_waiting_for_acceptance_comes_first_by_due_date(chromium, server: str, city: Engine) -> None:
    """The task register, by due date: a task sent back as done («chờ nghiệm thu») has no due date that applies, and
    came last, after the closed tasks — the one row asking for command's action. It comes first; the rest by due date,
    the undated after them."""
    with city.connect() as conn:
        waiting = set(conn.execute(text("SELECT id FROM tasks WHERE state = 'completed'")).scalars())
        dated = dict(
            conn.execute(
                text("""SELECT id, due_date FROM tasks WHERE due_date IS NOT NULL
                        AND state IN ('assigned', 'in_progress', 'paused', 'returned')""")
            ).all()
        )
    assert waiting and dated
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.click("[role=tab][data-tab=tasks]")
    page.wait_for_selector("#task-table tbody tr[data-task-id]")
    shown = page.locator("#task-table tbody tr[data-task-id]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.taskId))"
    )
    assert set(shown[: len(waiting)]) == waiting, shown
    # said in the column sorted by, with the date it was due (a «—» there read as a row out of order)
    cell = page.locator(f"#task-table tr[data-task-id='{shown[0]}'] td").nth(4).inner_text()
    assert cell.startswith("chờ nghiệm thu (hạn "), cell
    after = [i for i in shown[len(waiting) :] if i in dated]
    assert after == sorted(dated, key=lambda i: (dated[i], shown.index(i))) and len(after) == len(dated), shown
    assert errors == []
    page.close()


def test_the_inbox_names_the_team_of_the_user_who_wrote(chromium, server: str, city: Engine) -> None:
    """A team's member writes a note on its task: command's inbox named the user («to01») and not the team, which
    command had to work out. The line names both, «to01, Tổ …» (not in brackets: a team's name may hold its own), under
    what was done, after the time and apart from it («… 00:57 to01, Tổ …» ran them together)."""
    with city.begin() as conn:
        task, username, team = conn.execute(
            text("""SELECT t.id, u.username, tm.name FROM tasks t JOIN users u ON u.team_id = t.team_id
                    JOIN teams tm ON tm.id = t.team_id
                    WHERE t.state IN ('assigned', 'in_progress') AND u.username ~ '^to[0-9]+$'
                    ORDER BY t.id DESC LIMIT 1""")
        ).one()
        comment_task(conn, task, "Cần thêm người hỗ trợ", principal_by_username(conn, username), UNRESTRICTED)
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.click("[role=tab][data-tab=inbox]")
    line = page.locator("#inbox li", has_text="Cần thêm người hỗ trợ").first
    what, by = line.inner_text().split("\n")[:2]
    assert what.startswith(f"Nhiệm vụ #{task} (") and what.endswith("): Ghi chú — «Cần thêm người hỗ trợ»"), what
    assert re.fullmatch(
        rf"\d\d/\d\d/\d{{4}} \d\d:\d\d · {re.escape(username)}, {re.escape(team)} · hiện tại: .+", by
    ), by
    shot(page, "command-inbox-names-the-team")
    assert errors == []
    page.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_command_runs_detection_from_the_page(chromium, server: str, city: Engine, viewport) -> None:
    """Detection was run from the shell alone: a commander who imported the week's incidents on the page could not
    bring them into the register. «Kiểm tra» says what a run would change and records nothing; a run (desktop) updates
    the register under the commander's name, and a window ending before the latest run is refused in Vietnamese,
    nothing recorded."""
    count = "SELECT count(*), max(id) FROM detection_runs"
    with city.connect() as conn:
        before = tuple(conn.execute(text(count)).one())
    page, errors = open_as(chromium, server, "chihuy", viewport)
    page.click("#detection-box summary")
    page.click("#detection-form button[name=check]")
    page.wait_for_selector("#message >> text=Đã kiểm tra — chưa ghi gì vào sổ điểm nóng")
    report = page.locator("#detection-report").inner_text()
    assert report.startswith(DRY_RUN_NOTICE) and "Phát hiện điểm nóng (kiểm tra, " in report, report
    page.locator("#detection-report").scroll_into_view_if_needed()
    shot(page, f"command-detection-check-{viewport['width']}")
    with city.connect() as conn:
        assert tuple(conn.execute(text(count)).one()) == before
    if viewport is DESKTOP:
        page.click("#detection-form button[type=submit]")
        page.wait_for_selector("#message >> text=Đã cập nhật sổ điểm nóng (lần chạy #")
        with city.connect() as conn:
            run, actor = conn.execute(text("SELECT id, actor FROM detection_runs ORDER BY id DESC LIMIT 1")).one()
        assert actor == "chihuy" and run not in (before[1], None)
        assert page.locator("#detection-report").inner_text().startswith(f"Phát hiện điểm nóng (lần chạy #{run}, ")
        shot(page, "command-detection-run")
        page.fill("#detection-form input[name=end]", "01/01/2020")
        page.click("#detection-form button[type=submit]")
        page.wait_for_selector("#message.error >> text=không được lùi về trước lần chạy gần nhất")
        told = page.locator("#message").inner_text()
        assert "hãy bấm «Kiểm tra (chưa ghi)»" in told and "--dry-run" not in told, told
        # The report of the run before is not left under the refusal, as if it were this one's.
        assert page.locator("#detection-report").is_hidden()
        page.fill("#detection-form input[name=end]", "")
        page.fill("#detection-form input[name=days]", "99999")  # past the longest window: said with the field's name
        page.click("#detection-form button[name=check]")
        page.wait_for_selector("#message.error >> text=Số ngày gần nhất: hãy ghi một số nguyên từ 1 đến 3.650")
        with city.connect() as conn:
            assert conn.execute(text(count)).one()[1] == run
        errors = [e for e in errors if "409" not in e]  # the refusal's answer, which the page tells
    assert not foreign_words(page.locator("#detection-box").inner_text())
    assert errors == []
    page.close()

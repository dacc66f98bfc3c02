"""What a commander noticed on the command page's cards and overview: recording an eradication said nothing of what
follows (monitoring, then closing); a finished task's card still said «hạn …» where the register says «—»; the
overview's «Nhiệm vụ đang mở» left out the tasks no team holds yet (it counts TASK_OPEN, the tasks teams hold).

The city and Chromium are those of test_browser.py (a database of this module's own); the server's monitoring period
is neither the default 180 days nor test_browser.py's 0, so that a page retyping the setting would be seen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import test_browser as shared
from conftest import conversion_task
from sqlalchemy import Connection, Engine, text
from test_browser import PHONE, confirming, conversion_form, open_as, shot, wait_message

from gis.services.tasks import create_task, transition_task
from gis.store.accounts import principal_by_username
from gis.store.scoping import UNRESTRICTED
from maps.styles import HOTSPOT_ACTION_LABELS
from models.vocabulary import HotspotKind, HotspotStatus, local_today

city, chromium = shared.city, shared.chromium
#: The server's monitoring period (days).
MONITORING_DAYS = 45


@pytest.fixture(scope="module")
def server(city: Engine) -> Iterator[str]:
    """The app served with a monitoring period of its own."""
    with shared.served(city, MONITORING_DAYS) as base:
        yield base


def _version(conn: Connection, task: int) -> int:
    """A task's current version."""
    return conn.execute(text("SELECT version FROM tasks WHERE id = :id"), {"id": task}).scalar_one()


def _walk(conn: Connection, task: int, steps: tuple[tuple[str, str], ...]) -> None:
    """Move a task through ``steps`` (state, who: «team» — one of the task's team's users — or «command»), each with
    a note."""
    team = conn.execute(
        text("SELECT min(u.username) FROM tasks t JOIN users u ON u.team_id = t.team_id WHERE t.id = :id"), {"id": task}
    ).scalar_one()
    for to, who in steps:
        actor = principal_by_username(conn, "chihuy" if who == "command" else team)
        transition_task(conn, task, to, "ghi chú", _version(conn, task), actor, UNRESTRICTED)


@pytest.fixture(scope="module")
def finished(city: Engine) -> dict[str, int]:
    """Conversion tasks of one team's commune, due in ten days, one per state: accepted, declined, cancelled, and one
    in progress (its due date still matters); and one no team holds yet."""
    due = local_today() + timedelta(days=10)
    walks = {
        "accepted": (("in_progress", "team"), ("completed", "team"), ("accepted", "command")),
        "declined": (("declined", "team"),),
        "canceled": (("canceled", "command"),),
        "in_progress": (("in_progress", "team"),),
    }
    with city.begin() as conn:
        team, commune = conn.execute(
            text("SELECT team_id, commune_code FROM tasks WHERE team_id IS NOT NULL ORDER BY id LIMIT 1")
        ).one()
        command = principal_by_username(conn, "chihuy")
        tasks = {}
        for year, (state, steps) in enumerate([*walks.items(), ("unassigned", ())], start=2010):
            tasks[state] = create_task(
                conn,
                command,
                kind="conversion",
                hotspot_id=None,
                commune_code=commune,
                year=year,
                team_id=None if state == "unassigned" else team,
                due_date=due,
                priority="normal",
                checklist=[],
            )
            _walk(conn, tasks[state], steps)
    return tasks


def test_recording_an_eradication_says_what_follows(chromium, server: str, city: Engine) -> None:
    """Command has accepted the team's work: the card offered «Ghi nhận đã triệt xóa» and said nothing of the
    monitoring that follows nor of when the hotspot may leave the list; its task line still said «hạn …» of the
    accepted task. The period told is the server's (its lifecycle's), through both steps before monitoring."""
    with city.begin() as conn:
        hotspot, task = conn.execute(
            text("""SELECT hotspot_id, id FROM tasks WHERE kind = 'suppression' AND state = 'assigned'
                    AND due_date IS NOT NULL ORDER BY id LIMIT 1""")
        ).one()
        _walk(conn, task, (("in_progress", "team"), ("completed", "team"), ("accepted", "command")))
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    page.click("[role=tab][data-tab=hotspots]")
    page.click(f"#hotspot-table tr[data-hotspot-id='{hotspot}']")
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot}']")
    told = (
        f"Tiếp theo: giữ sạch, theo dõi {MONITORING_DAYS} ngày từ khi bấm «{HOTSPOT_ACTION_LABELS['monitoring']}»; "
        "không có vụ việc mới trong phạm vi thì được loại khỏi danh sách"
    )
    card.locator("button[data-action=eradicated]").wait_for()
    # Both steps named while the first is to take (the button it spoke of is offered only after it).
    first = f"Tiếp theo: «{HOTSPOT_ACTION_LABELS['eradicated']}», rồi giữ sạch"
    assert card.locator("p.keep-clean").inner_text() == told.replace("Tiếp theo: giữ sạch", first)
    # The kind after its own word, not «Điểm nóng #1 — Điểm» (the same word twice for a spot).
    with city.connect() as conn:
        kind = conn.execute(text("SELECT kind FROM hotspots WHERE id = :h"), {"h": hotspot}).scalar_one()
    assert card.locator("h3").inner_text() == f"Điểm nóng #{hotspot} (loại: {HotspotKind(kind).label})"
    task_line = card.locator("p", has_text=f"Nhiệm vụ #{task}:").inner_text()
    assert "hạn" not in task_line, task_line
    shot(page, "command-cards-eradication")
    card.locator("textarea[data-keep=hotspot-note]").fill("bắt giữ đối tượng, niêm phong địa điểm")
    card.locator("button[data-action=eradicated]").click()
    wait_message(page, f"Điểm nóng #{hotspot}: {HotspotStatus.ERADICATED.label}")
    card.locator("button[data-action=monitoring]").wait_for()
    assert card.locator("p.keep-clean").inner_text() == told
    card.locator("button[data-action=monitoring]").click()
    wait_message(page, f"Điểm nóng #{hotspot}: {HotspotStatus.MONITORING.label}")
    card.locator("p.next", has_text="Chưa loại khỏi danh sách được").wait_for()
    assert card.locator("p.keep-clean").count() == 0  # under way: the card says until when instead
    assert errors == []
    page.close()


def test_a_finished_tasks_card_shows_no_due_date_as_its_row(chromium, server: str, finished: dict[str, int]) -> None:
    """Accepted, declined and cancelled tasks: the register's due column says «—», and their cards said «hạn …» with
    the date; a task in progress keeps its due date in both."""
    page, errors = open_as(chromium, server, "chihuy")
    page.click("[role=tab][data-tab=tasks]")
    due = f"{local_today() + timedelta(days=10):%d/%m/%Y}"
    for state, task in finished.items():
        row = page.locator(f"#task-table tr[data-task-id='{task}']")
        row.click()
        line = page.locator(f"#task-table .card[data-task-id='{task}'] p").first.inner_text()
        cell = row.locator("td").nth(4).inner_text()
        if state in ("in_progress", "unassigned"):  # the team owes the work, or a team will
            assert (cell, f"hạn {due}" in line) == (due, True), (state, line)
        else:
            assert (cell, "hạn" in line) == ("—", False), (state, line)
    assert errors == []
    page.close()


def test_the_teams_list_shows_no_due_date_of_finished_work(
    chromium, server: str, city: Engine, finished: dict[str, int]
) -> None:
    """The team's phone said «Hạn: …» of its accepted task, where command's register says «—»: the same rule now."""
    with city.connect() as conn:
        member = conn.execute(
            text("""SELECT min(u.username) FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.id = :id AND u.role = 'team' AND u.active"""),
            {"id": finished["accepted"]},
        ).scalar_one()
    page, errors = open_as(chromium, server, member, PHONE)
    page.check("#show-finished")
    due = f"Hạn: {local_today() + timedelta(days=10):%d/%m/%Y}"
    for state in ("accepted", "declined", "canceled", "in_progress"):
        item = page.locator(f"article.task[data-task-id='{finished[state]}']")
        assert (due in item.inner_text()) == (state == "in_progress"), (state, item.inner_text())
    assert errors == []
    page.close()


def test_command_moves_a_due_date_and_is_asked_before_a_past_one(
    chromium, server: str, city: Engine, finished: dict[str, int]
) -> None:
    """No page could change a due date, and a past one was taken unsaid (the task overdue at once): the card's «Đổi
    hạn…» saves a new one; a day already past is asked about first, and nothing is sent when command says no."""
    task = finished["in_progress"]
    page, errors = open_as(chromium, server, "chihuy")
    asked = confirming(page, False)  # the first question, when it comes: «Quay lại»
    page.click("[role=tab][data-tab=tasks]")
    page.locator(f"#task-table tr[data-task-id='{task}']").click()
    card = page.locator(f"#task-table .card[data-task-id='{task}']")

    def stored() -> object:
        with city.connect() as conn:
            return conn.execute(text("SELECT due_date FROM tasks WHERE id = :id"), {"id": task}).scalar_one()

    later, past = local_today() + timedelta(days=20), local_today() - timedelta(days=2)
    card.locator("details.due-change summary").click()
    card.locator("details.due-change input[name=due]").fill(f"{later:%d/%m/%Y}")
    card.locator("details.due-change button[type=submit]").click()
    wait_message(page, f"Nhiệm vụ #{task}: hạn mới {later:%d/%m/%Y}")
    assert stored() == later and asked == []
    card = page.locator(f"#task-table .card[data-task-id='{task}']")
    card.locator("details.due-change summary").click()
    card.locator("details.due-change input[name=due]").fill(f"{past:%d/%m/%Y}")
    card.locator("details.due-change button[type=submit]").click()
    page.wait_for_timeout(300)
    assert asked == [f"Hạn {past:%d/%m/%Y} đã qua: nhiệm vụ sẽ quá hạn ngay. Vẫn lưu hạn này?"] and stored() == later
    again = confirming(page, True)
    card.locator("details.due-change button[type=submit]").click()
    wait_message(page, f"Nhiệm vụ #{task}: hạn mới {past:%d/%m/%Y}")
    assert stored() == past and len(asked) == len(again) == 1
    shot(page, "command-cards-due-change")
    assert errors == []
    page.close()
    with city.begin() as conn:  # the module's other tests read the fixture's due date
        conn.execute(
            text("UPDATE tasks SET due_date = :d WHERE id = :id"), {"d": local_today() + timedelta(days=10), "id": task}
        )


def test_the_overview_says_its_open_tasks_are_those_teams_hold(
    chromium, server: str, city: Engine, finished: dict[str, int]
) -> None:
    """«Nhiệm vụ đang mở» counted TASK_OPEN (assigned, in progress, paused, returned: the tasks weighing on a team),
    which a commander read as every unfinished task, the unassigned ones too: the figure is named for what it counts.
    Counted here by hand from the tasks' states, with one task no team holds yet (not counted)."""
    with city.connect() as conn:
        states = list(conn.execute(text("SELECT state FROM tasks")).scalars())
    held = sum(1 for state in states if state in {"assigned", "in_progress", "paused", "returned"})
    assert "unassigned" in states and finished["unassigned"]
    page, errors = open_as(chromium, server, "chihuy")
    figure = page.locator("#kpi-open")
    assert figure.locator("xpath=..").locator("span").inner_text() == "Nhiệm vụ các tổ đang giữ"
    assert figure.inner_text() == f"{held:,}".replace(",", ".")  # Vietnamese thousands: 1.234
    assert errors == []
    page.close()


def test_a_hotspots_card_moves_its_tasks_due_date(chromium, server: str, city: Engine) -> None:
    """The hotspot's card said «quá hạn 5 ngày» of its task and offered no change: only the task's own card, in the
    other tab, had «Đổi hạn…». The hotspot's card has it too, for the task it names."""
    with city.connect() as conn:
        hotspot, task, due = conn.execute(
            text("""SELECT t.hotspot_id, t.id, t.due_date FROM tasks t WHERE t.kind = 'suppression'
                    AND t.state = 'assigned' AND t.due_date IS NOT NULL ORDER BY t.id DESC LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, "chihuy")
    page.click("[role=tab][data-tab=hotspots]")
    page.click(f"#hotspot-table tr[data-hotspot-id='{hotspot}']")
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot}']")
    later = local_today() + timedelta(days=45)
    card.locator("details.due-change summary").click()
    card.locator("details.due-change input[name=due]").fill(f"{later:%d/%m/%Y}")
    card.locator("details.due-change button[type=submit]").click()
    wait_message(page, f"Nhiệm vụ #{task}: hạn mới {later:%d/%m/%Y}")
    with city.begin() as conn:
        assert conn.execute(text("SELECT due_date FROM tasks WHERE id = :t"), {"t": task}).scalar_one() == later
        conn.execute(text("UPDATE tasks SET due_date = :d WHERE id = :t"), {"d": due, "t": task})  # as it was
    assert errors == []
    page.close()


def test_accepting_work_with_steps_not_ticked_off_is_asked_first(chromium, server: str, city: Engine) -> None:
    """Command accepted a task whose card read «Danh sách việc (0/2 đã xong)» in one click, unwarned (the team's phone
    asks before reporting such work done). It asks first; «Quay lại» accepts nothing, «Vẫn nghiệm thu» accepts."""
    with city.begin() as conn:
        team, commune = conn.execute(
            text("SELECT team_id, commune_code FROM tasks WHERE team_id IS NOT NULL ORDER BY id LIMIT 1")
        ).one()
        steps = [{"item": "Xác minh địa điểm"}, {"item": "Lập biên bản"}]
        task = conversion_task(conn, principal_by_username(conn, "chihuy"), commune, 2020, team, steps)
        _walk(conn, task, (("in_progress", "team"), ("completed", "team")))

    page, errors = open_as(chromium, server, "chihuy")
    page.click("[role=tab][data-tab=tasks]")
    page.locator(f"#task-table tr[data-task-id='{task}']").click()
    _accepted_once_asked(page, page.locator(f"#task-table .card[data-task-id='{task}']"), city, task, "2/2")
    assert errors == []
    page.close()


def _accepted_once_asked(page, card, city: Engine, task: int, steps: str) -> None:
    """«Nghiệm thu» on ``card`` is asked about the steps still open (``steps``, «2/3»): «Quay lại» accepts nothing,
    «Vẫn nghiệm thu» accepts."""

    def state() -> str:
        with city.connect() as conn:
            return conn.execute(text("SELECT state FROM tasks WHERE id = :id"), {"id": task}).scalar_one()

    declined = confirming(page, False)
    card.locator("button[data-action=accepted]").click()
    assert declined == [f"Tổ còn {steps} việc trong danh sách chưa đánh dấu xong. Vẫn nghiệm thu nhiệm vụ #{task}?"]
    page.wait_for_timeout(300)
    assert state() == "completed"
    confirming(page, True)
    card.locator("button[data-action=accepted]").click()
    wait_message(page, f"Nhiệm vụ #{task}: Đã nghiệm thu")
    assert state() == "accepted"


def test_the_hotspots_card_asks_too_before_accepting_work_with_steps_open(chromium, server: str, city: Engine) -> None:
    """The hotspot's card on the map and in the register offered «Nghiệm thu» for its task without the question the
    task's own card asks, and did not say how much of the checklist was ticked off. It says «danh sách việc: 1/3 đã
    xong» and asks the same question."""
    with city.begin() as conn:
        hotspot, task = conn.execute(
            text("""SELECT t.hotspot_id, t.id FROM tasks t WHERE t.kind = 'suppression' AND t.state = 'assigned'
                    AND t.id = (SELECT max(o.id) FROM tasks o WHERE o.hotspot_id = t.hotspot_id
                                AND o.kind = 'suppression') ORDER BY t.id LIMIT 1""")
        ).one()
        steps = [
            {"item": "Xác minh", "done": True},
            {"item": "Lập biên bản", "done": False},
            {"item": "Tuần tra", "done": False},
        ]
        conn.execute(
            text("UPDATE tasks SET checklist = CAST(:steps AS jsonb) WHERE id = :id"),
            {"steps": json.dumps(steps), "id": task},
        )
        _walk(conn, task, (("in_progress", "team"), ("completed", "team")))

    page, errors = open_as(chromium, server, "chihuy")
    page.click("[role=tab][data-tab=hotspots]")
    page.click(f"#hotspot-table tr[data-hotspot-id='{hotspot}']")
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot}']")
    assert "danh sách việc: 1/3 đã xong" in card.inner_text()
    _accepted_once_asked(page, card, city, task, "2/3")
    assert errors == []
    page.close()


def test_work_held_by_a_team_with_nobody_active_is_said_and_given_to_another_team(
    chromium, server: str, city: Engine
) -> None:
    """The administrator deactivated a team's only member and was told command would give its tasks to another team;
    command's card for its task under way offered only «Hủy nhiệm vụ». It says nobody can work it and offers
    «Giao lại cho tổ khác…», the task keeping its state."""
    with city.begin() as conn:
        team, commune = conn.execute(
            text("""SELECT t.team_id, t.commune_code FROM tasks t WHERE t.team_id IS NOT NULL
                    AND (SELECT count(*) FROM users u WHERE u.team_id = t.team_id) = 1 ORDER BY t.id LIMIT 1""")
        ).one()
        other = conn.execute(  # a team with someone active, outside the commune's area or not
            text("SELECT team_id FROM users WHERE active AND team_id <> :t ORDER BY team_id LIMIT 1"), {"t": team}
        ).scalar_one()
        task = conversion_task(conn, principal_by_username(conn, "chihuy"), commune, 2019, team)
        _walk(conn, task, (("in_progress", "team"),))
        conn.execute(text("UPDATE users SET active = false WHERE team_id = :t"), {"t": team})
    page, errors = open_as(chromium, server, "chihuy")
    try:
        page.click("[role=tab][data-tab=tasks]")
        page.locator(f"#task-table tr[data-task-id='{task}']").click()
        card = page.locator(f"#task-table .card[data-task-id='{task}']")
        assert "tổ không còn ai hoạt động, không ai làm được nhiệm vụ này" in card.inner_text()
        card.locator("details.assign summary").click()
        page.wait_for_function(
            "(id) => !document.querySelector(`#task-table .card[data-task-id='${id}'] select[name=team]`).disabled",
            arg=task,
        )
        card.locator("details.assign select[name=team]").select_option(str(other))
        card.locator("details.assign input[name=note]").fill("Tổ cũ không còn người")
        card.locator("details.assign button[type=submit]").click()
        wait_message(page, f"Đã giao nhiệm vụ #{task} cho")
        with city.connect() as conn:
            assert conn.execute(text("SELECT team_id, state FROM tasks WHERE id = :id"), {"id": task}).one() == (
                other,
                "in_progress",
            )
        assert errors == []
    finally:
        page.close()
        with city.begin() as conn:
            conn.execute(text("UPDATE users SET active = true WHERE team_id = :t"), {"t": team})


def test_a_change_made_in_a_hotspots_card_on_the_map_opens_the_card_again(chromium, server: str, city: Engine) -> None:
    """Every step taken in a hotspot's card on the map closed the card: taking a hotspot from «Phát hiện» to
    monitoring meant finding it on the map four times. The card opens again, as the hotspot now stands."""
    with city.connect() as conn:
        hotspot = conn.execute(
            text("SELECT id FROM hotspots WHERE status = 'detected' ORDER BY n_incidents DESC, id LIMIT 1")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", {"width": 1366, "height": 900})
    page.wait_for_selector(".leaflet-hotspots-pane path.leaflet-interactive")
    page.evaluate(
        """id => { window.diaban.map.eachLayer(l => { if (l.feature?.properties?.id === id && l.getLatLng) {
            window.diaban.map.setView(l.getLatLng(), 15, { animate: false }); l.openPopup(); } }); }""",
        hotspot,
    )
    card = page.locator(f".leaflet-popup .card[data-hotspot-id='{hotspot}']")
    card.locator("button[data-action=verified]").click()
    wait_message(page, f"Điểm nóng #{hotspot}: {HotspotStatus.VERIFIED.label}")
    card.locator("b.status", has_text=HotspotStatus.VERIFIED.label).wait_for()
    # one card on the map: the one closed fades out first (Leaflet removes it 200 ms after closing)
    page.wait_for_function("() => document.querySelectorAll('.leaflet-popup .card').length === 1")
    assert errors == []
    page.close()


def test_work_reported_done_shows_the_teams_report_where_command_decides(chromium, server: str, city: Engine) -> None:
    """Command accepted or returned work without seeing the team's report: its note and photos were in «Lịch sử»
    only. The card of work reported done shows the report — when, who, the note — and the photos sent with it."""
    from conftest import evidence_photo

    from gis.services.tasks import comment_task

    with city.begin() as conn:
        hotspot, task = conn.execute(
            text("""SELECT t.hotspot_id, t.id FROM tasks t WHERE t.kind = 'suppression' AND t.state = 'assigned'
                    AND t.id = (SELECT max(o.id) FROM tasks o WHERE o.hotspot_id = t.hotspot_id
                                AND o.kind = 'suppression') ORDER BY t.id DESC LIMIT 1""")
        ).one()
        _walk(conn, task, (("in_progress", "team"),))
        member = conn.execute(
            text("SELECT min(u.username) FROM tasks t JOIN users u ON u.team_id = t.team_id WHERE t.id = :id"),
            {"id": task},
        ).scalar_one()
        comment_task(
            conn,
            task,
            "Ảnh hiện trường sau khi niêm phong",
            principal_by_username(conn, member),
            UNRESTRICTED,
            photo=evidence_photo(),
        )
        transition_task(
            conn,
            task,
            "completed",
            "Đã triệt xóa, niêm phong địa điểm",
            _version(conn, task),
            principal_by_username(conn, member),
            UNRESTRICTED,
        )
    page, errors = open_as(chromium, server, "chihuy")
    page.click("[role=tab][data-tab=hotspots]")
    page.click(f"#hotspot-table tr[data-hotspot-id='{hotspot}']")
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot}']")
    report = card.locator(".work-report")
    report.locator("p.note").filter(has_text="Tổ báo hoàn thành").wait_for()
    assert report.locator("p.note").inner_text().endswith(f"({member}): «Đã triệt xóa, niêm phong địa điểm»")
    assert report.locator("img.evidence").count() == 1
    shot(page, "command-cards-work-report")
    assert errors == []
    page.close()


def test_a_new_task_for_a_team_with_nobody_active_is_said_and_asked_first(chromium, server: str, city: Engine) -> None:
    """The conversion form offered a team whose only member had been deactivated as «— 0 việc», chosen, and gave it
    the task unasked. The team is said to have nobody active, and giving it work is asked first: «Quay lại» gives
    nothing."""
    with city.begin() as conn:
        team, commune, name = conn.execute(
            text("""SELECT ta.team_id, ta.commune_code, u.full_name FROM team_areas ta
                    JOIN admin_units u ON u.code = ta.commune_code AND u.valid_to IS NULL
                    WHERE ta.valid_to IS NULL AND (SELECT count(*) FROM team_areas o WHERE o.commune_code =
                    ta.commune_code AND o.valid_to IS NULL) = 1 ORDER BY ta.commune_code LIMIT 1""")
        ).one()
        conn.execute(text("UPDATE users SET active = false WHERE team_id = :t"), {"t": team})

    def tasks() -> int:
        with city.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM tasks WHERE commune_code = :c AND year = 2029"), {"c": commune}
            ).scalar_one()

    page, errors = open_as(chromium, server, "chihuy")
    try:
        form = conversion_form(page, name, 2029)
        form.locator("input[name=commune]").dispatch_event("change")  # its teams asked
        page.wait_for_function("() => !document.querySelector('#conversion-form select[name=team]').disabled")
        assert form.locator("select[name=team] option").all_inner_texts()[-1].endswith("— tổ không còn ai hoạt động")
        declined = confirming(page, False)
        form.locator("button[type=submit]").click()
        assert len(declined) == 1 and "không ai làm được nhiệm vụ" in declined[0], declined
        page.wait_for_timeout(300)
        assert tasks() == 0
        assert errors == []
    finally:
        page.close()
        with city.begin() as conn:
            conn.execute(text("UPDATE users SET active = true WHERE team_id = :t"), {"t": team})

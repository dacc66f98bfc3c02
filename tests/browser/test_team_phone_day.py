"""An area team's working day on a small phone (360 × 740): what it had chosen and typed survives the list drawn
again, a notice opens its task where the team can read it, a notice tells that command accepted the team's work, a
task created and given in one step is one line of its history, and a notice list that cannot load hides nothing else.

The city, the server and Chromium are those of test_browser.py (a database of this module's own).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import test_browser as shared
from PIL import Image
from sqlalchemy import Engine, text
from test_browser import SMALL_PHONE, gps_photo, open_as, shot, unexpected, wait_message

from gis.services.tasks import assign_task, create_task, transition_task
from gis.store.accounts import principal_by_username
from gis.store.scoping import UNRESTRICTED

city, server, chromium = shared.city, shared.server, shared.chromium


def test_a_photo_chosen_before_the_task_is_started_goes_with_its_note(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """The team writes its note, chooses the photo and ticks «keep GPS», then remembers to tap «Thực hiện»: the start
    draws the list again, and the photo and the tick were dropped while the note stayed — sent, the note went without
    its evidence. They stay chosen, and the note goes with its photo and its place."""
    with city.connect() as conn:
        team_user, task_id = conn.execute(
            text("""SELECT u.username, t.id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state = 'assigned' AND u.username ~ '^to[0-9]+$' ORDER BY t.id LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    form = task.locator("form.progress")
    form.locator("summary").click()
    form.locator("textarea[name=note]").fill("Ảnh cổng vào trước khi khám xét")
    form.locator("input[name=photo]").set_input_files(str(gps_photo(tmp_path / "cong-vao.jpg")))
    form.locator("input[name=keep_location]").check()
    task.locator("button[data-to=in_progress]").click()
    wait_message(page, f"Nhiệm vụ #{task_id}: Đang thực hiện")
    task.locator("button[data-to=paused]").wait_for()  # the task drawn again, as it is now
    assert form.locator("input[name=photo]").evaluate("i => i.files.length") == 1
    assert form.locator(".file-chosen").inner_text() == "cong-vao.jpg"
    assert form.locator("input[name=keep_location]").is_checked()
    shot(page, "team-phone-photo-kept-through-start")
    form.locator("button[type=submit]").click()
    wait_message(page, f"Đã gửi ghi chú kèm ảnh cho nhiệm vụ #{task_id} (giữ vị trí GPS)")
    with city.connect() as conn:
        photos = conn.execute(
            text("""SELECT count(p.id), bool_and(p.location_kept) FROM task_events e LEFT JOIN task_photos p ON p.event_id = e.id
                    WHERE e.task_id = :t AND e.note = 'Ảnh cổng vào trước khi khám xét'"""),
            {"t": task_id},
        ).one()
    assert tuple(photos) == (1, True)
    assert errors == []
    page.close()


def test_a_notice_opens_its_task_under_the_header_not_behind_it(chromium, server: str, city: Engine) -> None:
    """A tap on a notice scrolls to its task: the task's title, state and due date stopped behind the phone's fixed
    header (and the demo band), and the team read a history without knowing whose."""
    team_user, task_id = shared.team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    page.locator(f"#inbox li[data-task-id='{task_id}']").first.click()
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    task.locator("details.history[open] ol.history time").first.wait_for()
    page.wait_for_function(  # the smooth scroll has ended
        """id => new Promise((done) => { let last = null; const step = () => { const top = document.querySelector(
        `article.task[data-task-id="${id}"]`).getBoundingClientRect().top; if (top === last) done(true);
        else { last = top; setTimeout(step, 100); } }; step(); })""",
        arg=task_id,
    )
    covered = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('header.bar, .demo-band')].map(e => e.getBoundingClientRect().bottom))"
    )
    heading = task.locator("h3").bounding_box()
    assert covered > 0 and heading["y"] >= covered, (heading, covered)
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('h3') !== null",
                         [heading["x"] + 5, heading["y"] + heading["height"] / 2])  # fmt: skip
    shot(page, "team-phone-notice-opens-task")
    assert errors == []
    page.close()


def test_notices_that_cannot_load_leave_the_task_list_shown(chromium, server: str, city: Engine) -> None:
    """The notices' request lost on a weak network, the tasks that came were not drawn («Chưa tải được danh sách nhiệm
    vụ») and the notices said «Đang tải…» for ever: the tasks are shown, the notices say they could not load, and
    «Tải lại danh sách» loads them; lost again, the notices loaded before stay under the failure."""
    team_user, task_id = shared.team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    page.route("**/api/inbox*", lambda route: route.abort("internetdisconnected"))
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator(f"article.task[data-task-id='{task_id}']").is_visible()
    told = page.locator("#inbox").inner_text()
    assert "Chưa tải được thông báo (mạng yếu hoặc mất sóng)" in told and "Đang tải" not in told, told
    shot(page, "team-phone-notices-not-loaded")
    page.unroute("**/api/inbox*")
    page.click("#reload-tasks")
    page.locator(f"#inbox li[data-task-id='{task_id}']").first.wait_for()
    assert "Chưa tải được" not in page.locator("#inbox").inner_text()
    page.route("**/api/inbox*", lambda route: route.abort("internetdisconnected"))
    page.click("#reload-tasks")  # lost again: the notices loaded before stay, under the failure
    page.locator("#inbox li.none", has_text="Chưa tải được thông báo").wait_for()
    assert page.locator(f"#inbox li[data-task-id='{task_id}']").count() >= 1
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
    page.close()


def hidden(page) -> None:
    """The page hidden as when the phone's camera (or a call) takes the screen, then shown again."""
    page.evaluate("""() => {
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
      Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true }); }""")


def closed_and_reopened(page) -> None:
    """The hidden tab closed by a phone short of memory (nothing of the page runs any more) and loaded again when the
    team comes back to it."""
    page.evaluate("() => document.addEventListener('visibilitychange', (e) => e.stopImmediatePropagation(), true)")
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)


def test_notes_typed_survive_the_tab_the_phone_closed_while_hidden(chromium, server: str, city: Engine) -> None:
    """The team types its note, then opens the camera for the photo; a cheap phone closes the hidden tab to free memory
    and loads it again when the team comes back: the note, and a spot's description half written, were gone. They are
    put back (said so); a note sent meanwhile is not."""
    team_user, task_id = shared.team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    form = page.locator(f"article.task[data-task-id='{task_id}'] form.progress")
    form.locator("summary").click()
    note = "Đã nắm tình hình quán nước đầu ngõ 12, chụp ảnh cổng"
    form.locator("textarea[name=note]").fill(note)
    page.locator("#tip-box summary").click()
    spot = "Tụ tập ban đêm sau chợ cá"
    page.locator("#tip-form textarea[name=note]").fill(spot)
    hidden(page)
    closed_and_reopened(page)
    typed = form.locator("textarea[name=note]")
    assert typed.is_visible() and typed.input_value() == note
    assert page.locator("#tip-form textarea[name=note]").input_value() == spot
    assert "ghi chú chưa gửi đã được giữ lại" in page.locator("#message").inner_text()
    shot(page, "team-phone-drafts-after-tab-closed")

    hidden(page)  # the camera again: both kept …
    form.locator("button[type=submit]").click()  # … then the note sent and the description given up
    wait_message(page, f"Đã gửi ghi chú cho nhiệm vụ #{task_id}")
    page.locator("#tip-form textarea[name=note]").fill("")
    hidden(page)
    closed_and_reopened(page)
    assert typed.input_value() == ""
    assert page.locator("#tip-form textarea[name=note]").input_value() == ""
    assert "giữ lại" not in page.locator("#message").inner_text()
    assert errors == []
    page.close()


def test_a_photo_sent_on_a_weak_network_is_not_fetched_back_whole_for_its_thumbnail(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """Sent, a note's photo shows at once as a thumbnail in the task's history: the phone fetched the whole photo back
    (MB on a weak network, crowding out its next requests) to draw it 160 px wide. It fetches a small preview; a tap
    on the thumbnail still opens the photo itself."""
    team_user, task_id = shared.team_with_open_task(city)
    camera = tmp_path / "camera.jpg"
    Image.frombytes("RGB", (2000, 1500), random.Random(5).randbytes(2000 * 1500 * 3)).save(camera, "JPEG", quality=90)
    assert camera.stat().st_size > 2**21
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    fetched: list = []
    page.on("requestfinished", lambda r: fetched.append(r) if "/photos/" in r.url and r.method == "GET" else None)
    form = page.locator(f"article.task[data-task-id='{task_id}'] form.progress")
    form.locator("summary").click()
    form.locator("textarea[name=note]").fill("Ảnh toàn cảnh khu lán trại")
    form.locator("input[name=photo]").set_input_files(str(camera))
    form.locator("button[type=submit]").click()
    wait_message(page, f"Đã gửi ghi chú kèm ảnh cho nhiệm vụ #{task_id}")
    history = page.locator(f"article.task[data-task-id='{task_id}'] details.history[open]")
    note = history.locator("li", has_text="Ảnh toàn cảnh khu lán trại")
    thumbnail = note.locator("img.evidence")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    shot(page, "team-phone-photo-preview")
    sizes = {r.url: r.sizes()["responseBodySize"] for r in fetched}
    assert sizes and all(size < 100_000 for size in sizes.values()), sizes
    opened = page.request.get(server + note.locator("a.evidence").get_attribute("href"))
    assert opened.ok and len(opened.body()) > 2**21  # the photo as sent (its place removed)
    assert errors == []
    page.close()


def test_a_photo_just_over_the_limit_is_told_by_how_much(chromium, server: str, city: Engine, tmp_path: Path) -> None:
    """A camera photo a little over DIABAN_PHOTO_MAX_MB (8) read «Ảnh quá lớn: 8 MB, tối đa 8 MB»: its size is rounded
    up, and nothing is sent."""
    team_user, task_id = shared.team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    form = page.locator(f"article.task[data-task-id='{task_id}'] form.progress")
    form.locator("summary").click()
    camera = tmp_path / "camera.jpg"
    camera.write_bytes(b"\xff\xd8\xff" + bytes(8 * 2**20 + 20_000))
    form.locator("input[name=photo]").set_input_files(str(camera))
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=Ảnh quá lớn: 8,1 MB, tối đa 8 MB")
    assert errors == []
    page.close()


def test_a_note_on_a_task_taken_away_meanwhile_shows_the_list_as_it_is_now(chromium, server: str, city: Engine) -> None:
    """Command gives a task to another team while a member writes its note: sent, the note was refused «không tìm thấy
    nhiệm vụ» and the task stayed in the list with its form, refused again at every try. The list is loaded again: the
    task is gone and its notice says why (as a start or a pause on it already did)."""
    with city.connect() as conn:
        team_user, task_id, team_id = conn.execute(
            text("""SELECT u.username, t.id, t.team_id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state = 'assigned' AND u.username ~ '^to[0-9]+$' ORDER BY t.id DESC LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    form = page.locator(f"article.task[data-task-id='{task_id}'] form.progress")
    form.locator("summary").click()
    form.locator("textarea[name=note]").fill("Đã đến hiện trường, chưa gặp ai")
    with city.begin() as conn:
        other = conn.execute(text("SELECT min(id) FROM teams WHERE id <> :t"), {"t": team_id}).scalar_one()
        version = conn.execute(text("SELECT version FROM tasks WHERE id = :t"), {"t": task_id}).scalar_one()
        assign_task(conn, task_id, other, version, principal_by_username(conn, "chihuy"), note="Tổ khác gần hơn")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(f"#message.error >> text=không tìm thấy nhiệm vụ #{task_id} — danh sách đã được tải lại")
    assert page.locator(f"article.task[data-task-id='{task_id}']").count() == 0
    assert page.locator("#notices li", has_text=f"Nhiệm vụ #{task_id} đã được giao cho tổ khác").is_visible()
    shot(page, "team-phone-note-on-a-task-taken-away")
    assert unexpected(errors, 404) == []
    page.close()


def test_the_team_is_told_that_command_accepted_its_work(chromium, server: str, city: Engine) -> None:
    """The team reports its work done and command accepts it: the team's notices said nothing of it (work given, sent
    back or cancelled only), and the team never learnt its work was accepted. A notice says so, with command's note,
    and opens the finished task."""
    with city.begin() as conn:
        team_user, task_id = conn.execute(
            text("""SELECT u.username, t.id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state = 'assigned' AND u.username ~ '^to[0-9]+$' ORDER BY t.id LIMIT 1""")
        ).one()
        team, command = principal_by_username(conn, team_user), principal_by_username(conn, "chihuy")
        for to, note, actor in (
            ("in_progress", "", team),
            ("completed", "Đã xong", team),
            ("accepted", "Đạt", command),
        ):
            version = conn.execute(text("SELECT version FROM tasks WHERE id = :t"), {"t": task_id}).scalar_one()
            transition_task(conn, task_id, to, note, version, actor, UNRESTRICTED)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    notice = page.locator("#inbox li", has_text=f"Nhiệm vụ #{task_id} đã được nghiệm thu")
    assert notice.inner_text().startswith(f"Nhiệm vụ #{task_id} đã được nghiệm thu — «Đạt»")
    notice.click()
    page.locator(f"article.task[data-task-id='{task_id}'] details.history[open]").wait_for()
    shot(page, "team-phone-work-accepted")
    assert errors == []
    page.close()


def test_a_task_created_and_given_at_once_reads_as_one_line_of_its_history(chromium, server: str, city: Engine) -> None:
    """Command creates a task for the team in one step: its history read «Tạo mới: Chưa giao» then «Chưa giao → Đã
    giao», two lines of one action. It reads as one line, «Tạo mới: Đã giao», with command's note; the stored events
    stay two."""
    with city.begin() as conn:
        team_user, team_id, commune = conn.execute(
            text("""SELECT u.username, u.team_id, a.commune_code FROM users u JOIN team_areas a ON a.team_id = u.team_id
                    WHERE u.username ~ '^to[0-9]+$' AND a.valid_to IS NULL ORDER BY u.username LIMIT 1""")
        ).one()
        task_id = create_task(
            conn,
            principal_by_username(conn, "chihuy"),
            kind="conversion",
            hotspot_id=None,
            commune_code=commune,
            year=2009,
            team_id=team_id,
            due_date=None,
            priority="normal",
            checklist=[],
            note="Rà soát lại xã",
        )
        stored = conn.execute(text("SELECT count(*) FROM task_events WHERE task_id = :t"), {"t": task_id}).scalar()
    assert stored == 2
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    history = page.locator(f"article.task[data-task-id='{task_id}'] details.history")
    history.locator("summary").click()
    history.locator("ol.history time").first.wait_for()
    lines = history.locator("ol.history li").all_inner_texts()
    assert len(lines) == 1 and lines[0].endswith("chihuy: Tạo mới: Đã giao — «Rà soát lại xã»"), lines
    shot(page, "team-phone-created-and-given")
    assert errors == []
    page.close()


def test_the_team_ticks_off_commands_steps_on_its_phone(chromium, server: str, city: Engine) -> None:
    """A task's checklist (command's steps) was shown on no page, and only command could change it. The team's card
    lists the steps with a box each; a tick is stored at once, counted in the heading, and the task's buttons that
    follow act at the version it moved to."""
    steps = ["Xác minh địa điểm, người ra vào", "Lập biên bản, niêm phong"]
    with city.begin() as conn:
        team_user, task_id = conn.execute(
            text("""SELECT u.username, t.id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state = 'assigned' AND u.username ~ '^to[0-9]+$' ORDER BY t.id DESC LIMIT 1""")
        ).one()
        conn.execute(
            text("UPDATE tasks SET checklist = CAST(:c AS jsonb) WHERE id = :t"),
            {"c": json.dumps([{"item": step, "done": False} for step in steps]), "t": task_id},
        )
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    box = task.locator("fieldset.checklist")
    assert box.locator("legend").inner_text() == "Danh sách việc (0/2 đã xong)"
    assert [label.inner_text().strip() for label in box.locator("label").all()] == steps
    box.locator("input[data-item='1']").check()
    box.locator("legend", has_text="(1/2 đã xong)").wait_for()
    with city.connect() as conn:
        stored = conn.execute(text("SELECT checklist FROM tasks WHERE id = :t"), {"t": task_id}).scalar_one()
    assert [line["done"] for line in stored] == [False, True]
    shot(page, "team-phone-checklist")
    # The buttons' note says it goes with them, beside the progress note's own box («Ghi chú, kết quả» did not).
    assert task.locator(".actions label.note").inner_text().startswith("Ghi chú gửi kèm nút bấm dưới đây")
    task.locator("button[data-to=in_progress]").click()  # at the version the tick moved to: no «changed meanwhile»
    wait_message(page, f"Nhiệm vụ #{task_id}: Đang thực hiện")
    task.locator("button[data-to=paused]").wait_for()  # the list drawn again, from the server
    assert task.locator("fieldset.checklist input[data-item='1']").is_checked()
    assert not task.locator("fieldset.checklist input[data-item='0']").is_checked()
    # The history says which step was ticked, by whom.
    task.locator("details.history summary").click()
    task.locator("ol.history li", has_text=f"{team_user}: Cập nhật — «đã xong: {steps[1]}»").wait_for()
    assert unexpected(errors) == []
    page.close()

"""An area team's phone without signal (a rural commune): what the member does is kept on the phone («Chờ gửi»,
counted in a bar) and sent by itself, once, when the signal is back; a change the server refuses meanwhile is told
and leaves the queue (one refused as out of date, kept or sent at once, in words that fit a page that has reloaded);
the queue outlives the tab and belongs to one user. And the phone on its side keeps 44 px targets on the team page.

The city, the server and Chromium are those of test_browser.py (a database of this module's own).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import test_browser as shared
from PIL import Image
from sqlalchemy import Engine, text
from test_accessibility import EXCLUDE, OPEN_DETAILS, SMALL_TARGETS
from test_browser import (
    SMALL_PHONE,
    confirming,
    conversion_task,
    first_team_user,
    open_as,
    shot,
    unexpected,
    wait_message,
)
from test_command_field import DISC_BESIDE, LANDSCAPE, popup_on_disc
from test_tip_report_pages import clear_of_spots, inside, reported, reports_loaded

from gis.services.tasks import transition_task, update_task
from gis.store.accounts import principal_by_username
from gis.store.scoping import UNRESTRICTED
from models.vocabulary import HOTSPOT_OPEN, HotspotStatus, codes

city, server, chromium = shared.city, shared.server, shared.chromium

WAITING = "#queue-bar:not([hidden])"


def assigned_task(city: Engine, skip: int = 0) -> tuple[str, int]:
    """A demo team user whose team holds at least two tasks not yet started, and the one after `skip` of them."""
    with city.connect() as conn:
        return conn.execute(
            text("""SELECT u.username, t.id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state = 'assigned' AND u.username ~ '^to[0-9]+$' ORDER BY u.username, t.id
                    OFFSET :skip LIMIT 1"""),
            {"skip": skip},
        ).one()


def events(city: Engine, task_id: int, note: str) -> tuple[int, int]:
    """How many times the task was started, and how many of its events carry `note`."""
    with city.connect() as conn:
        return tuple(
            conn.execute(
                text("""SELECT count(*) FILTER (WHERE to_state = 'in_progress'), count(*) FILTER (WHERE note = :n)
                        FROM task_events WHERE task_id = :t"""),
                {"t": task_id, "n": note},
            ).one()
        )


def test_a_note_and_a_start_made_without_signal_are_sent_once_when_it_returns(
    chromium, server: str, city: Engine
) -> None:
    """No signal at all: the member tapped «Thực hiện» and sent a note, was told «Không kết nối được» and had to stay
    on the page to tap «Thử lại» later. Both are kept on the phone, shown «Chờ gửi» on the card and counted in the
    bar; when the signal is back they are sent by themselves, in order, and stored once."""
    team_user, task_id = assigned_task(city)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    with city.connect() as conn:
        tapped = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    page.context.set_offline(True)
    task.locator("button[data-to=in_progress]").click()
    page.wait_for_selector(WAITING)
    # Drawn as it will be: started, «Thực hiện» not offered again, the next moves are.
    assert task.locator("b.state").inner_text() == "Đang thực hiện"
    assert (
        task.locator("button[data-to=in_progress]").count() == 0 and task.locator("button[data-to=completed]").count()
    )
    form = task.locator("form.progress")
    form.locator("summary").click()
    note = "Đã đến thôn Đông, không có sóng điện thoại"
    form.locator("textarea[name=note]").fill(note)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#queue-bar .queue-count >> text=2 thay đổi chờ gửi")
    assert form.locator("textarea[name=note]").input_value() == ""  # kept in the queue, not in the field
    waiting = task.locator("ul.waiting li").all_inner_texts()
    assert waiting == ["Chờ gửi: Thực hiện", f"Chờ gửi: Ghi chú tiến độ — «{note}»"], waiting
    assert "sẽ tự gửi khi có sóng" in page.locator("#queue-bar").inner_text()
    assert "đã được lưu trên máy" in page.locator("#message.warning").inner_text()
    close = page.locator("#message .close").bounding_box()  # a thumb's «×» on a phone (it was 36 px)
    assert close is not None and close["width"] >= 44 and close["height"] >= 44, close
    # The map scrolled under the bar at the screen's bottom: its zoom buttons were drawn over «2 thay đổi chờ gửi».
    page.evaluate("() => document.querySelector('.leaflet-control-zoom').scrollIntoView({ block: 'end' })")
    covered = page.evaluate("""() => { const bar = document.getElementById('queue-bar').getBoundingClientRect();
        return [0.05, 0.1, 0.2, 0.5].map((x) => document.elementFromPoint(bar.left + bar.width * x, bar.top + bar.height / 2))
          .filter((e) => !e.closest('#queue-bar')).map((e) => e.className); }""")
    assert covered == [], covered
    task.locator("ul.waiting").scroll_into_view_if_needed()
    shot(page, "team-phone-offline-waiting")
    assert events(city, task_id, note) == (0, 0)

    keys: list[str | None] = []
    page.on("request", lambda r: keys.append(r.headers.get("idempotency-key")) if r.method == "POST" else None)
    page.context.set_offline(False)  # the `online` event
    wait_message(page, "Đã gửi 2 thay đổi chờ gửi")
    page.wait_for_selector("#queue-bar", state="hidden")
    assert task.locator("b.state").inner_text() == "Đang thực hiện" and task.locator("ul.waiting").count() == 0
    assert events(city, task_id, note) == (1, 1)
    assert len(keys) == 2 and all(keys) and len(set(keys)) == 2
    # Each recorded with when it was made on the phone (task_events.made_at), before the signal came back.
    with city.connect() as conn:
        times = conn.execute(
            text("""SELECT made_at, at FROM task_events WHERE task_id = :t AND (to_state = 'in_progress' OR note = :n)
                    ORDER BY id"""),
            {"t": task_id, "n": note},
        ).all()
    assert len(times) == 2 and all(made is not None and tapped <= made <= at for made, at in times), times
    assert times[0].made_at <= times[1].made_at
    # A history tells such a change at the time it was made, and when it reached the server.
    line = page.evaluate("""() => eventText({ at: '2026-12-07T08:02:00Z', made_at: '2026-12-07T01:30:00Z',
        actor: 'to01', event: 'transition', from_state: 'assigned', to_state: 'in_progress', note: null },
        window.diaban.eventLabels, window.diaban.taskLabels, 'assigned', 'in_progress')""")
    assert (
        line.startswith("<time>07/12/2026 08:30</time> to01:")
        and "(làm khi mất sóng, gửi lúc 07/12/2026 15:02)" in line
    )
    shot(page, "team-phone-offline-sent")
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
    page.close()


def test_a_task_is_started_ticked_off_and_reported_done_in_one_stretch_without_signal(
    chromium, server: str, city: Engine
) -> None:
    """A rural commune without signal all day: the member starts the task, ticks off command's two steps and reports
    the work done, all kept on the phone; the card follows as the task will be (no question about unticked steps).
    When the signal is back the five changes go in order and the server has the task completed, both steps done,
    each change dated when it was made. Before, ticks sprang back («Không kết nối được») and, the start waiting,
    «Báo cáo hoàn thành» was not offered until it had gone."""
    team_user, task_id = assigned_task(city, skip=2)
    with city.begin() as conn:
        chief = principal_by_username(conn, "chihuy")
        version = conn.execute(text("SELECT version FROM tasks WHERE id = :t"), {"t": task_id}).scalar_one()
        steps = [{"item": "Xác minh địa điểm", "done": False}, {"item": "Lập biên bản", "done": False}]
        update_task(conn, task_id, version, {"checklist": steps}, chief)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    card = f"article.task[data-task-id='{task_id}']"
    with city.connect() as conn:
        tapped = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    page.context.set_offline(True)
    page.click(f"{card} button[data-to=in_progress]")
    page.wait_for_selector(f"{card} b.state >> text=Đang thực hiện")
    for line in (0, 1):
        page.check(f"{card} fieldset.checklist input[data-item='{line}']")
        page.wait_for_selector(f"#queue-bar .queue-count >> text={line + 2} thay đổi chờ gửi")
    assert page.locator(f"{card} fieldset.checklist legend").inner_text() == "Danh sách việc (2/2 đã xong)"
    asked = confirming(page, False)
    page.fill(f"{card} .actions textarea", "Đã niêm phong, lập biên bản")
    page.click(f"{card} button[data-to=completed]")
    page.wait_for_selector("#queue-bar .queue-count >> text=4 thay đổi chờ gửi")
    assert asked == []  # every step ticked off: nothing to ask
    assert page.locator(f"{card} .actions").inner_text().startswith("Báo cáo hoàn thành đang chờ gửi trên máy")
    waiting = page.locator(f"{card} ul.waiting li").all_inner_texts()
    assert waiting == [
        "Chờ gửi: Thực hiện",
        "Chờ gửi: Xong: Xác minh địa điểm",
        "Chờ gửi: Xong: Lập biên bản",
        "Chờ gửi: Báo cáo hoàn thành — «Đã niêm phong, lập biên bản»",
    ], waiting
    shot(page, "team-phone-offline-whole-task")
    with city.connect() as conn:
        assert conn.execute(text("SELECT state FROM tasks WHERE id = :t"), {"t": task_id}).scalar_one() == "assigned"
    page.context.set_offline(False)
    wait_message(page, "Đã gửi 4 thay đổi chờ gửi")
    with city.connect() as conn:
        state, checklist = conn.execute(text("SELECT state, checklist FROM tasks WHERE id = :t"), {"t": task_id}).one()
        made = conn.execute(
            text("""SELECT made_at, at FROM task_events WHERE task_id = :t AND at >= :since ORDER BY id"""),
            {"t": task_id, "since": tapped},
        ).all()
    assert state == "completed" and [line["done"] for line in checklist] == [True, True]
    assert len(made) == 4 and all(m is not None and tapped <= m <= at for m, at in made), made
    assert [m for m, _ in made] == sorted(m for m, _ in made)
    assert page.locator(f"{card} b.state").inner_text() == "Đã hoàn thành, chờ nghiệm thu"
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
    page.close()


def test_kept_changes_go_through_when_command_moved_the_due_date_meanwhile(chromium, server: str, city: Engine) -> None:
    """While the member works without signal (start, tick a step, report done), command moves the task's due date,
    which moves its version on. The start was refused as stale and dropped, the tick with it, and the completion,
    counted on from them, went through: the task reported done with its step unticked, the start lost. Each kept move
    and tick is sent again at the task's version now when the task still stands as the phone left it."""
    with city.begin() as conn:  # a task of its own: the module's other tests share the demo's assigned ones
        team_user, team, commune = first_team_user(conn)
        chief = principal_by_username(conn, "chihuy")
        steps = [{"item": "Xác minh địa điểm", "done": False}, {"item": "Lập biên bản", "done": False}]
        task_id = conversion_task(conn, chief, commune, 2016, team, steps)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    card = f"article.task[data-task-id='{task_id}']"
    page.context.set_offline(True)
    page.click(f"{card} button[data-to=in_progress]")
    page.wait_for_selector(f"{card} b.state >> text=Đang thực hiện")
    page.check(f"{card} fieldset.checklist input[data-item='0']")
    page.wait_for_selector("#queue-bar .queue-count >> text=2 thay đổi chờ gửi")
    confirming(page, True)
    page.click(f"{card} button[data-to=completed]")
    page.wait_for_selector("#queue-bar .queue-count >> text=3 thay đổi chờ gửi")
    with city.begin() as conn:  # command, meanwhile: a new due date
        version = conn.execute(text("SELECT version FROM tasks WHERE id = :t"), {"t": task_id}).scalar_one()
        update_task(conn, task_id, version, {"due_date": date.today() + timedelta(days=40)}, chief)
    page.context.set_offline(False)
    wait_message(page, "Đã gửi 3 thay đổi chờ gửi")
    with city.connect() as conn:
        state, checklist = conn.execute(text("SELECT state, checklist FROM tasks WHERE id = :t"), {"t": task_id}).one()
    assert state == "completed" and [line["done"] for line in checklist] == [True, False], (state, checklist)
    assert events(city, task_id, "")[0] == 1  # started once
    assert unexpected([e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e], 412) == []
    page.close()


def leave_offline(page) -> None:
    """Leave the page while the phone has no signal, as a reload or a closed tab does: what it kept must wait for
    the page opened again. Not by reloading: at a reload that fails for want of network the server's log showed the
    changes waiting on the phone stored, before the test gave the signal back and unseen by Playwright's events and
    routes — most likely the page being left, no longer under the emulated offline once Chromium's error page (in
    another process) took its place, sent its queue (these tests' rare failures on a loaded machine). A page left for
    about:blank sent nothing in the same runs."""
    page.goto("about:blank")


def test_a_photo_kept_without_signal_outlives_the_tab_and_arrives_intact(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """The photo is kept on the phone (a Blob in IndexedDB) with its note; the page left, the tab closed and
    opened again, it still waits; when it goes, the server stores it once and byte for byte."""
    team_user, task_id = assigned_task(city)
    photo = tmp_path / "hien-truong.png"
    Image.new("RGB", (320, 240), (30, 120, 60)).save(photo, "PNG")
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    address = page.url
    form = page.locator(f"article.task[data-task-id='{task_id}'] form.progress")
    form.locator("summary").click()
    note = "Ảnh lán trại bỏ hoang ven đê"
    form.locator("textarea[name=note]").fill(note)
    form.locator("input[name=photo]").set_input_files(str(photo))
    page.context.set_offline(True)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#queue-bar .queue-count >> text=1 thay đổi chờ gửi")
    leave_offline(page)
    # The signal back for the page, not yet for what it sends: the queue is tried and stays
    sent: list[str | None] = []
    page.route(f"**/api/tasks/{task_id}/photos", lambda route: sent.append(None) or route.abort("internetdisconnected"))
    page.context.set_offline(False)
    page.goto(address)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    task.locator("ul.waiting li", has_text=f"Chờ gửi: Ghi chú kèm ảnh — «{note}»").wait_for()
    page.wait_for_selector("#queue-bar .queue-state >> text=chưa gửi được")
    assert sent  # tried at once, on opening
    shot(page, "team-phone-offline-photo-after-reload")
    page.unroute(f"**/api/tasks/{task_id}/photos")
    page.click("#queue-bar button")  # «Gửi ngay»
    wait_message(page, "Đã gửi 1 thay đổi chờ gửi")
    with city.connect() as conn:
        stored = conn.execute(
            text("""SELECT p.sha256 FROM task_photos p JOIN task_events e ON e.id = p.event_id
                    WHERE p.task_id = :t AND e.note = :n"""),
            {"t": task_id, "n": note},
        ).scalars()
        assert list(stored) == [hashlib.sha256(photo.read_bytes()).hexdigest()]
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
    page.close()


def test_a_kept_change_the_server_refuses_is_told_and_leaves_the_queue(chromium, server: str, city: Engine) -> None:
    """Command cancels the task while the member's start waits on the phone: sent when the signal is back, it is
    refused as out of date (412) — told that the task was changed first and the list shows it as it is now (not with
    the server's «hãy tải lại rồi thử lại», which ordinary pages keep), and removed from the queue, not tried again for
    ever; the other change waiting (a note on another task) still goes."""
    team_user, task_id = assigned_task(city)
    with city.connect() as conn:
        other = conn.execute(
            text("""SELECT t.id FROM tasks t JOIN users u ON u.team_id = t.team_id WHERE u.username = :u
                    AND t.state IN ('assigned', 'in_progress') AND t.id <> :t ORDER BY t.id LIMIT 1"""),
            {"u": team_user, "t": task_id},
        ).scalar_one()
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    page.context.set_offline(True)
    page.locator(f"article.task[data-task-id='{task_id}'] button[data-to=in_progress]").click()
    form = page.locator(f"article.task[data-task-id='{other}'] form.progress")
    form.locator("summary").click()
    note = "Đã nắm tình hình bến đò"
    form.locator("textarea[name=note]").fill(note)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#queue-bar .queue-count >> text=2 thay đổi chờ gửi")
    with city.begin() as conn:
        version = conn.execute(text("SELECT version FROM tasks WHERE id = :t"), {"t": task_id}).scalar_one()
        chief = principal_by_username(conn, "chihuy")
        transition_task(conn, task_id, "canceled", "Điểm đã được xử lý", version, chief, UNRESTRICTED)
    page.context.set_offline(False)
    page.wait_for_selector("#message.error >> text=Máy chủ không nhận 1 thay đổi (đã bỏ khỏi hàng chờ)")
    told = page.locator("#message").inner_text()
    assert told.startswith("Đã gửi 1 thay đổi chờ gửi.") and f"nhiệm vụ #{task_id}, thực hiện" in told, told
    # Refused as out of date (412): said so, not with the server's «hãy tải lại rồi thử lại» — the page has dropped the
    # change and loaded the list again, there is nothing to reload nor to retry.
    assert "đã được người khác thay đổi trước" in told and "thử lại" not in told and "phiên bản" not in told, told
    assert told.endswith("Danh sách đã được tải lại theo trạng thái hiện tại"), told
    page.wait_for_selector("#queue-bar", state="hidden")
    assert events(city, task_id, "")[0] == 0 and events(city, other, note)[1] == 1
    assert page.locator("#notices li", has_text=f"Nhiệm vụ #{task_id} đã bị hủy").is_visible()
    shot(page, "team-phone-offline-refused")
    page.reload()  # not tried again
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#queue-bar").is_hidden()
    assert unexpected([e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e], 409, 412) == []
    page.close()


def test_a_move_sent_at_once_on_an_out_of_date_list_says_the_task_changed_first(
    chromium, server: str, city: Engine
) -> None:
    """With signal, the same words as a kept change: command changed the task's priority after the list was drawn, so
    «Thực hiện» is refused as out of date (412) and the list loaded again. The page said the server's «hãy tải lại rồi
    thử lại» (with version numbers a member cannot use) followed by «danh sách đã được tải lại»."""
    team_user, task_id = assigned_task(city, skip=1)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    with city.begin() as conn:
        version, priority = conn.execute(
            text("SELECT version, priority FROM tasks WHERE id = :t"), {"t": task_id}
        ).one()
        chief = principal_by_username(conn, "chihuy")
        update_task(conn, task_id, version, {"priority": "urgent" if priority != "urgent" else "low"}, chief)
    page.locator(f"article.task[data-task-id='{task_id}'] button[data-to=in_progress]").click()
    page.wait_for_selector("#message.error >> text=danh sách đã được tải lại")
    told = page.locator("#message").inner_text()
    assert told == (
        "Không gửi được vì nhiệm vụ đã được người khác thay đổi trước — danh sách đã được tải lại, hãy xem trạng thái"
        " hiện tại"
    ), told
    assert events(city, task_id, "")[0] == 0
    assert unexpected(errors, 412) == []
    page.close()


def log_in_again(page, username: str) -> None:
    """The phone gets its signal back after the session ended: the page goes to the login form, once (every call in
    flight meets the ended session; each sending the page there again aborted the navigation under way, and the
    wait below with it), and `username` logs in."""
    logins: list[str] = []

    def seen(request) -> None:
        if request.is_navigation_request() and "/login" in request.url:
            logins.append(request.url)

    page.on("request", seen)
    page.context.set_offline(False)
    page.wait_for_url("**/login?het-han=1")
    page.wait_for_load_state("load")
    page.remove_listener("request", seen)
    assert logins == [page.url], logins
    assert "Phiên đăng nhập đã hết hạn" in page.locator("main.login").inner_text()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", shared.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)


def test_changes_kept_on_the_phone_belong_to_one_user(chromium, server: str, city: Engine) -> None:
    """The session ends while changes wait: when the signal is back the login form asks for the member, and once
    logged in their changes go. Another user logging in on the phone never sends them: dropped, with a warning.
    Logging out with changes waiting asks first and deletes them (what a member wrote stays on no phone)."""
    team_user, task_id = assigned_task(city)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    page.context.set_offline(True)
    page.locator(f"article.task[data-task-id='{task_id}'] button[data-to=in_progress]").click()
    page.wait_for_selector(WAITING)
    asked = confirming(page, False)
    page.click("header.bar button[type=submit]")  # «Đăng xuất», answered «no»
    page.wait_for_timeout(200)
    assert asked == ["Còn 1 thay đổi chưa gửi — đăng xuất sẽ xóa chúng khỏi máy này. Vẫn đăng xuất?"]
    assert page.locator(WAITING).is_visible()
    page.context.clear_cookies()  # the session ended while the member was out of reach
    log_in_again(page, team_user)
    wait_message(page, "Đã gửi 1 thay đổi chờ gửi")
    assert events(city, task_id, "")[0] == 1

    note = "Ghi chú của tổ viên trước"
    form = page.locator(f"article.task[data-task-id='{task_id}'] form.progress")
    page.context.set_offline(True)
    form.locator("summary").click()
    form.locator("textarea[name=note]").fill(note)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(WAITING)
    page.context.clear_cookies()
    with city.connect() as conn:
        stranger, own = conn.execute(
            text("""SELECT u.username, t.id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state = 'assigned' AND u.username ~ '^to[0-9]+$' AND u.username <> :u
                    ORDER BY u.username, t.id LIMIT 1"""),
            {"u": team_user},
        ).one()
    log_in_again(page, stranger)  # another user on the phone: the first one's note is not theirs to send
    page.wait_for_selector("#message.warning >> text=Đã xóa 1 thay đổi chưa gửi của người dùng khác trên máy này")
    assert page.locator("#queue-bar").is_hidden()
    assert events(city, task_id, note)[1] == 0

    page.context.set_offline(True)
    page.locator(f"article.task[data-task-id='{own}'] button[data-to=in_progress]").click()
    page.wait_for_selector(WAITING)
    asked = confirming(page, True)
    page.route(f"**/api/tasks/{own}/transitions", lambda route: route.abort("internetdisconnected"))
    page.context.set_offline(False)  # the page back, the start still not through
    page.wait_for_selector("#queue-bar .queue-state >> text=chưa gửi được")
    with page.expect_navigation():
        page.click("header.bar button[type=submit]")  # «Đăng xuất», answered «yes»
    assert asked and asked[0].startswith("Còn 1 thay đổi chưa gửi")
    left = page.evaluate("""() => new Promise((done) => { const o = indexedDB.open('diaban-changes');
      o.onsuccess = () => { const r = o.result.transaction('changes').objectStore('changes').count();
      r.onsuccess = () => done(r.result); }; })""")
    assert left == 0 and events(city, own, "")[0] == 0
    assert unexpected([e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e], 401) == []
    page.close()


def test_changes_kept_on_the_phone_are_deleted_when_another_role_logs_in(chromium, server: str, city: Engine) -> None:
    """A member's note waits on the phone; the session ends and a commander logs in on it: the command page never
    opens the team's queue, so the note (and a photo) stayed on the phone for whoever used it next. Now any page
    but the team's deletes them."""
    team_user, task_id = assigned_task(city, skip=1)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    page.context.set_offline(True)
    form = page.locator(f"article.task[data-task-id='{task_id}'] form.progress")
    form.locator("summary").click()
    form.locator("textarea[name=note]").fill("Ghi chú chờ gửi của tổ viên")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(WAITING)
    assert page.evaluate(KEPT) == 1
    page.context.clear_cookies()  # the member's session ended
    log_in_again(page, "chihuy")  # a commander logs in on the phone
    assert page.evaluate(GONE)
    assert events(city, task_id, "Ghi chú chờ gửi của tổ viên")[1] == 0
    assert unexpected([e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e], 401) == []
    page.close()


#: Every text the page's status line showed since the document opened, in window.messagesShown (an init script).
MESSAGES_SHOWN = """window.messagesShown = []; document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("message");
  if (box) new MutationObserver(() => window.messagesShown.push(box.textContent)).observe(box, { childList: true,
    characterData: true, subtree: true }); });"""
#: Whether the team page's IndexedDB is gone (asked again for up to 5 s: its deletion is asynchronous).
GONE = """async () => { for (let i = 0; i < 50; i += 1) {
  if (!(await indexedDB.databases()).some((d) => d.name === 'diaban-changes')) return true;
  await new Promise((wait) => setTimeout(wait, 100)); } return false; }"""
#: How many changes wait on the phone (any user's), read from the team page's IndexedDB.
KEPT = """() => new Promise((done) => { const o = indexedDB.open('diaban-changes');
  o.onsuccess = () => { const r = o.result.transaction('changes').objectStore('changes').count();
  r.onsuccess = () => { o.result.close(); done(r.result); }; }; })"""


def team_places(city: Engine, username: str, seed: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """A point of the user's team's area 300 m or more from every hotspot, and one in a commune outside the area."""
    with city.connect() as conn:
        team_id, commune = conn.execute(
            text("""SELECT u.team_id, min(ta.commune_code) FROM users u JOIN team_areas ta ON ta.team_id = u.team_id
                    AND ta.valid_to IS NULL WHERE u.username = :u GROUP BY u.team_id"""),
            {"u": username},
        ).one()
        elsewhere = conn.execute(
            text("""SELECT min(code) FROM admin_units WHERE valid_to IS NULL AND code NOT IN
                    (SELECT commune_code FROM team_areas WHERE team_id = :t AND valid_to IS NULL)"""),
            {"t": team_id},
        ).scalar_one()
        return clear_of_spots(conn, commune, seed), inside(conn, elsewhere)


def task_hotspot(city: Engine, username: str) -> tuple[int, int, str, float, float]:
    """A task of the user's team at a hotspot still open: the task, its hotspot, the hotspot's status and place."""
    with city.connect() as conn:
        task, hotspot, status, lat, lon = conn.execute(
            text("""SELECT t.id, h.id, h.status, ST_Y(h.centroid), ST_X(h.centroid) FROM users u
                    JOIN tasks t ON t.team_id = u.team_id JOIN hotspots h ON h.id = t.hotspot_id
                    WHERE u.username = :u AND h.status = ANY(:open) ORDER BY t.id LIMIT 1"""),
            {"u": username, "open": list(codes(HOTSPOT_OPEN))},
        ).one()
        return task, hotspot, status, float(lat), float(lon)


def report_spot(page, lat: float, lon: float, note: str) -> None:
    """Fill «Báo điểm mới» with typed coordinates and a description, and send it."""
    box = page.locator("#tip-box")
    if not box.evaluate("(details) => details.open"):
        box.locator("summary").click()
    form = page.locator("#tip-form")
    form.locator("input[name=where]").fill(f"{lat:.6f}, {lon:.6f}")
    form.locator("textarea[name=note]").fill(note)
    form.locator("button[type=submit]").click()


#: How many markers of spots waiting on the phone (dashed rings) the team's map shows within 1 m of [lat, lon].
PENDING_AT = """([lat, lon]) => { let found = 0; window.diaban.map.eachLayer((l) => {
  if (l instanceof L.CircleMarker && l.options.dashArray && l.getLatLng().distanceTo([lat, lon]) < 1) found += 1; });
  return found; }"""


#: The options of the dashed rings (spots waiting on the phone) on the team's map, as [[colour, fill, dashes, weight,
#: radius], …].
PENDING_STYLES = """() => { const found = []; window.diaban.map.eachLayer((l) => {
  if (l instanceof L.CircleMarker && l.options.dashArray) { const o = l.options;
    found.push([o.color, o.fillColor, o.dashArray, String(o.weight), String(o.radius)]); } });
  return found; }"""


def legend_ring(page) -> list[str]:
    """The ring of the team map legend's row for a spot waiting on the phone: colour, fill, dashes, weight, radius."""
    row = page.locator("details.legend[data-layer=tasks] .legend-row", has_text="Báo điểm mới chờ gửi")
    assert row.text_content() == "Báo điểm mới chờ gửi trên máy (vòng nét đứt; tự gửi khi có sóng)"
    circle = row.locator("svg circle")
    return [circle.get_attribute(a) or "" for a in ("stroke", "fill", "stroke-dasharray", "stroke-width", "r")]


#: Resolves once the page's smooth scroll has ended (its position the same ten frames running).
SCROLLED = """() => new Promise((done) => { let last = -1, still = 0;
  const tick = () => { still = window.scrollY === last ? still + 1 : 0; last = window.scrollY;
    if (still >= 10) done(true); else requestAnimationFrame(tick); };
  tick(); })"""


def test_a_spot_reported_without_signal_waits_on_the_phone_and_is_stored_once(
    chromium, server: str, city: Engine
) -> None:
    """A spot found on patrol where the phone has no signal: «Báo điểm mới» used to say only «Thử lại». The report
    joins the changes kept on the phone behind a start made before it — «Chờ gửi» in «Điểm tổ đã báo» and a dashed
    ring on the map —, is asked about when a second one is made at the same place, outlives a reload, and goes in
    order with its first key when the signal is back: stored once. The map's legend shows the ring."""
    team_user, task_id = assigned_task(city)
    (lat, lon), _ = team_places(city, team_user, 11)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    address = page.url
    reports_loaded(page)
    page.context.set_offline(True)
    page.locator(f"article.task[data-task-id='{task_id}'] button[data-to=in_progress]").click()
    page.wait_for_selector(WAITING)
    note = "Tổ tuần tra phát hiện: lán tạm ven bãi sông, có bơm kim tiêm vứt quanh"
    report_spot(page, lat, lon, note)
    page.wait_for_selector("#queue-bar .queue-count >> text=2 thay đổi chờ gửi")
    pending = page.locator("#report-list li.waiting")
    assert pending.count() == 1 and pending.inner_text().startswith(f"Chờ gửi: báo điểm mới — «{note}»")
    assert page.locator("#report-waiting").inner_text() == "1 chờ gửi" and pending.is_visible()  # its list opened
    assert page.evaluate(PENDING_AT, [lat, lon]) == 1
    assert page.evaluate(PENDING_STYLES) == [legend_ring(page)]  # the map's legend says what the dashed ring is
    assert page.locator("#tip-form textarea[name=note]").input_value() == ""  # kept in the queue, not in the form
    assert "báo điểm mới «" in page.locator("#message.warning").inner_text()
    shot(page, "tip-team-phone-offline-waiting")
    pending.click()  # on the map: a dashed ring, its popup says it waits
    page.wait_for_selector(".leaflet-popup >> text=Chờ gửi")
    page.evaluate(SCROLLED)
    shot(page, "tip-team-phone-offline-on-map")
    # The same place again, still without signal: the report waiting on the phone is named and asked about; declined.
    asked = confirming(page, False)
    again = "Lại thấy người lạ ra vào lán tạm"
    report_spot(page, lat + 20 / 111_320, lon, again)
    assert len(asked) == 1 and "Tổ đã báo một điểm đang chờ gửi trên máy này cách vị trí này khoảng 20 m" in asked[0]
    assert note in asked[0] and page.locator("#report-list li.waiting").count() == 1
    # At the hotspot of one of the team's own tasks, still without signal (the task list the page holds): the task is
    # named and asked about (a member at the task's place reported it again as a new spot); declined.
    task, hotspot, status, task_lat, task_lon = task_hotspot(city, team_user)
    asked = confirming(page, False)
    report_spot(page, task_lat + 10 / 111_320, task_lon, "Người lạ ra vào điểm nóng của nhiệm vụ")
    assert len(asked) == 1 and (
        f"Nhiệm vụ #{task} của tổ (điểm nóng #{hotspot}, trạng thái {HotspotStatus(status).label.lower()}) ở cách vị "
        "trí này khoảng 10 m" in asked[0]
    ), asked
    assert "Có thể là cùng một điểm" in asked[0] and page.locator("#report-list li.waiting").count() == 1
    page.locator("#tip-form textarea[name=note]").fill("")
    assert reported(city, note) == []

    leave_offline(page)
    # The page back with the signal, the report not yet through: the start goes first, the report stays.
    keys: list[str | None] = []
    page.on(
        "request", lambda r: keys.append(r.headers.get("idempotency-key")) if r.url.endswith("/api/hotspots") else None
    )
    page.route("**/api/hotspots", lambda route: route.abort("internetdisconnected"))
    page.add_init_script(MESSAGES_SHOWN)
    page.context.set_offline(False)
    page.goto(address)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    # Sent as the page opens: on a loaded machine the message may have come and gone before the page said it was ready.
    page.wait_for_function(
        "(text) => window.messagesShown.some((m) => m.includes(text))", arg="Đã gửi 1 thay đổi chờ gửi"
    )
    # The bar still says the report could not go (the list drawn again after the start went used to blank it).
    assert "chưa gửi được" in page.locator("#queue-bar .queue-state").inner_text()
    assert page.locator("#queue-bar .queue-count").inner_text() == "1 thay đổi chờ gửi"
    assert events(city, task_id, "")[0] == 1
    page.click("#reports summary")
    page.locator("#report-list li.waiting", has_text=note).wait_for()
    assert page.evaluate(PENDING_AT, [lat, lon]) == 1
    shot(page, "tip-team-phone-offline-after-reload")
    page.unroute("**/api/hotspots")
    page.click("#queue-bar button")  # «Gửi ngay»
    page.wait_for_selector("#queue-bar", state="hidden")
    wait_message(page, "Đã gửi 1 thay đổi chờ gửi")
    [(hotspot_id, origin, status)] = reported(city, note)
    assert (origin, status) == ("manual", "detected")
    assert len(keys) >= 2 and len(set(keys)) == 1 and keys[0], keys  # every try of the report with its one key
    page.locator(f"#report-list li[data-hotspot-id='{hotspot_id}']").wait_for()
    assert page.locator("#report-list li.waiting").count() == 0 and page.evaluate(PENDING_AT, [lat, lon]) == 0
    assert page.locator("#report-waiting").inner_text() == ""
    shot(page, "tip-team-phone-offline-sent")
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
    page.close()


def test_a_spot_reported_without_signal_outside_the_area_is_refused_when_sent(
    chromium, server: str, city: Engine
) -> None:
    """Without signal the page cannot tell the team's area from the city (the server does): a report outside it is kept,
    and when the signal is back it is refused with the server's reason and leaves the queue — not tried for ever."""
    team_user, _ = assigned_task(city)
    _, (out_lat, out_lon) = team_places(city, team_user, 13)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    reports_loaded(page)
    page.context.set_offline(True)
    note = "Điểm ở xã bên cạnh, ngoài địa bàn của tổ"
    report_spot(page, out_lat, out_lon, note)
    page.wait_for_selector("#queue-bar .queue-count >> text=1 thay đổi chờ gửi")
    page.locator("#report-list li.waiting", has_text=note).wait_for()
    page.context.set_offline(False)
    page.wait_for_selector("#message.error >> text=Máy chủ không nhận 1 thay đổi (đã bỏ khỏi hàng chờ)")
    told = page.locator("#message").inner_text()
    assert f"báo điểm mới «{note}»: điểm này nằm ngoài địa bàn của tổ" in told, told
    page.wait_for_selector("#queue-bar", state="hidden")
    assert page.locator("#report-list li.waiting").count() == 0 and page.evaluate(PENDING_AT, [out_lat, out_lon]) == 0
    assert reported(city, note) == []
    shot(page, "tip-team-phone-offline-refused")
    page.reload()  # not tried again
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#queue-bar").is_hidden()
    assert unexpected([e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e], 403) == []
    page.close()


def test_a_phone_on_its_side_keeps_thumb_sized_targets_on_the_team_page(chromium, server: str, city: Engine) -> None:
    """Turned on its side (844 × 390), the phone gets the desktop layout, and with it the desktop's small buttons,
    links and fields (28 px): on the team page, worked with a thumb in the field, they stay 44 px."""
    team_user, _ = assigned_task(city)
    page, errors = open_as(chromium, server, team_user, LANDSCAPE, has_touch=True, is_mobile=True)
    page.evaluate(OPEN_DETAILS)
    small = page.evaluate(SMALL_TARGETS, EXCLUDE)
    assert small == [], small
    shot(page, "team-phone-landscape")
    assert errors == []
    page.close()


def test_a_folds_count_stands_apart_from_its_title_on_a_phone(chromium, server: str, city: Engine) -> None:
    """On a phone a fold's title is laid out as a row (its marker drawn again): the space between «Thông báo» and its
    count of unread notices was dropped, «Thông báo3 mới»."""
    team_user, _ = assigned_task(city)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    badge = page.locator("#notices summary #inbox-count")
    badge.wait_for()
    gap = page.evaluate("""() => { const summary = document.querySelector('#notices summary');
        const range = document.createRange(); range.selectNodeContents(summary.firstChild);
        return summary.querySelector('#inbox-count').getBoundingClientRect().left - range.getBoundingClientRect().right; }""")
    assert gap >= 3, gap
    assert errors == []
    page.close()


def test_a_tap_beside_a_tasks_mark_opens_it(chromium, server: str, city: Engine) -> None:
    """A task's mark on the team's map is 18 px across, under a gloved or hurried fingertip: a tap a little beside it
    opened nothing. Now a tap within 16 px of its edge opens it, as a tap on it does."""
    team_user, _ = assigned_task(city)
    page, errors = open_as(chromium, server, team_user, shared.PHONE, has_touch=True, is_mobile=True)
    page.wait_for_selector(".leaflet-hotspots-pane path.leaflet-interactive")
    page.locator(".leaflet-container").scroll_into_view_if_needed()  # below the task list on a phone
    disc = page.evaluate(DISC_BESIDE, 10)
    assert disc is not None, "no mark with room beside it on the team's map"
    index, _, tap_x, tap_y = disc
    page.touchscreen.tap(tap_x, tap_y)
    page.wait_for_selector(".leaflet-popup")
    popup_on_disc(page, index)
    assert errors == [], errors
    page.close()

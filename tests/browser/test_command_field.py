"""A commander away from the desk: the command page on a small Android phone over a network that drops.

Every change command makes from a card — a hotspot verified, a task given, a note to the team, the task given to
another team, finished work accepted — had its answer lost as a phone loses signal after the server stored it. The page
sent the change without an Idempotency-Key: its «Thử lại» was refused («điểm nóng này «Đã giao xử lý»», «đã được thay
đổi») and the commander read the assignment as not given, or the note was stored twice.

The city and Chromium are those of test_browser.py (a database of this module's own).
"""

from __future__ import annotations

from collections import Counter

import test_browser as shared
from sqlalchemy import Engine, text
from test_browser import answers_lost, open_as, open_hotspot_row, shot, wait_message

from gis.services.tasks import transition_task
from gis.store.accounts import principal_by_username
from gis.store.scoping import UNRESTRICTED
from models.vocabulary import HotspotStatus, TaskState

city, server, chromium = shared.city, shared.server, shared.chromium
#: The small Android phone of a commander in the field.
ANDROID = {"width": 360, "height": 640}


def lost_then_retried(page, done: str) -> None:
    """The network dropped twice: the page says so and offers «Thử lại»; pressed, the page says ``done``."""
    page.wait_for_selector("#message.error >> text=Không kết nối được máy chủ (mạng yếu hoặc mất sóng)")
    page.click("#message button.retry")
    wait_message(page, done)


def test_command_changes_on_a_dropping_network_are_stored_once(chromium, server: str, city: Engine) -> None:
    with city.connect() as conn:
        hotspot = conn.execute(
            text("SELECT id FROM hotspots WHERE status = 'detected' ORDER BY n_incidents DESC, id LIMIT 1")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", ANDROID, has_touch=True, is_mobile=True)
    keys: dict[str, list[str | None]] = {}
    page.route("**/api/**", answers_lost(keys, lost=2))
    open_hotspot_row(page, hotspot)
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot}']")

    card.locator("button[data-action=verified]").click()
    lost_then_retried(page, f"Điểm nóng #{hotspot}: {HotspotStatus.VERIFIED.label}")

    card.locator("summary.assign-open", has_text="Giao nhiệm vụ").click()
    card.locator("form.assign select[name=team]:enabled").wait_for()
    card.locator("form.assign button[type=submit]").click()
    page.wait_for_selector("#message.error")
    shot(page, "command-field-assignment-lost")
    lost_then_retried(page, "Đã giao nhiệm vụ #")
    with city.connect() as conn:
        task = conn.execute(text("SELECT id FROM tasks WHERE hotspot_id = :h"), {"h": hotspot}).scalar_one()

    card.locator("textarea[data-keep=task-note]").fill("Tổ kiểm tra lại lối vào phía sau")
    card.locator("button.comment").click()
    lost_then_retried(page, f"(nhiệm vụ #{task})")

    card.locator("summary.assign-open", has_text="Giao lại cho tổ khác").click()
    card.locator("form.assign select[name=team]:enabled").wait_for()
    card.locator("form.assign input[name=note]").fill("Tổ đang giữ bận chuyên án khác")
    card.locator("form.assign button[type=submit]").click()
    lost_then_retried(page, f"Đã giao nhiệm vụ #{task}")
    shot(page, "command-field-reassigned")

    with city.begin() as conn:
        holder = conn.execute(
            text("SELECT min(u.username) FROM tasks t JOIN users u ON u.team_id = t.team_id WHERE t.id = :t"),
            {"t": task},
        ).scalar_one()
        team = principal_by_username(conn, holder)
        for to in (TaskState.IN_PROGRESS, TaskState.COMPLETED):
            version = conn.execute(text("SELECT version FROM tasks WHERE id = :t"), {"t": task}).scalar_one()
            transition_task(conn, task, to, "đã xong", version, team, UNRESTRICTED)
    page.reload()  # the team's work shown
    page.wait_for_selector("body[data-ready=true]")
    open_hotspot_row(page, hotspot)
    card.locator("button[data-action=accepted]").click()
    lost_then_retried(page, f"Nhiệm vụ #{task}: {TaskState.ACCEPTED.label}")

    with city.connect() as conn:
        moves = Counter(
            conn.execute(
                text("""SELECT event || ':' || coalesce(to_state, '') FROM task_events WHERE task_id = :t
                        UNION ALL SELECT 'hotspot:' || to_status FROM hotspot_events WHERE hotspot_id = :h
                        AND event = 'transition' AND to_status = 'verified'"""),
                {"t": task, "h": hotspot},
            ).scalars()
        )
        tasks = conn.execute(text("SELECT count(*) FROM tasks WHERE hotspot_id = :h"), {"h": hotspot}).scalar_one()
    assert tasks == 1 and moves == {
        "hotspot:verified": 1,
        "created:unassigned": 1,
        "transition:assigned": 1,
        "comment:": 1,
        "reassigned:": 1,
        "transition:in_progress": 1,
        "transition:completed": 1,
        "transition:accepted": 1,
    }, moves
    assert all(len(sent) == 3 and sent[0] and len(set(sent)) == 1 for sent in keys.values()), keys
    assert len({sent[0] for sent in keys.values()}) == len(keys)  # a key of its own for each change
    assert [e for e in errors if "ERR_CONNECTION_RESET" not in e] == []
    page.close()


#: The phone of ANDROID's size on its side.
LANDSCAPE = {"width": 844, "height": 390}


def test_a_phone_on_its_side_shows_the_whole_title_and_the_map_under_a_folded_layer_list(chromium, server: str) -> None:
    """Turned on its side, the phone got the desktop layout: the long title wrapped to two lines crammed in the bar,
    «Ban chỉ huy» broken after «chỉ»; the layer list stood unfolded over the zoom buttons, the search box and most of
    the 390 px map."""
    page, errors = open_as(chromium, server, "chihuy", LANDSCAPE, has_touch=True, is_mobile=True)
    title = page.locator("header.bar h1")
    bar = page.locator("header.bar").bounding_box()
    box = title.bounding_box()
    assert bar and box and box["y"] >= bar["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"], (bar, box)
    assert title.evaluate("h => h.scrollWidth <= h.clientWidth"), title.inner_text()  # nothing cut off
    lines = "h => { const r = document.createRange(); r.selectNodeContents(h); return [...r.getClientRects()]; }"
    assert len({round(rect["bottom"]) for rect in title.evaluate(lines) if rect["width"]}) == 1  # one line
    assert title.inner_text().strip().endswith("— Ban chỉ huy"), title.inner_text()
    assert page.locator(".leaflet-control-layers-expanded").count() == 0
    assert page.locator(".leaflet-control-zoom-in").is_visible() and page.locator(".map-search input").is_visible()
    shot(page, "command-field-landscape")
    assert errors == []
    page.close()


def test_the_overviews_task_counts_are_named_for_a_screen_reader(chromium, server: str) -> None:
    """«Nhiệm vụ quá hạn» and «Chờ nghiệm thu» are links that open those tasks; a screen reader going by the
    keyboard read them as «1, liên kết»: the count alone. Named now by their line and their count."""
    page, errors = open_as(chromium, server, "chihuy", shared.DESKTOP)
    for name, link in (("Nhiệm vụ quá hạn", "#kpi-overdue"), ("Chờ nghiệm thu", "#kpi-awaiting")):
        count = page.locator(link).inner_text()
        assert page.get_by_role("link", name=f"{name} {count}", exact=True).count() == 1, (name, count)
    assert errors == []
    page.close()

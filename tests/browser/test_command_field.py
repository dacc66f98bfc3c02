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


#: A disc of the hotspots pane and the point ``beside`` px past its edge (right, left, below or above) that is in no
#: disc, 4 px nearer its edge than any other disc's, inside the map's part in view and clear of its controls: [its
#: index among the discs, radius, tap x, tap y], or null.
DISC_BESIDE = """beside => {
    const box = document.querySelector('.leaflet-container').getBoundingClientRect();
    const controls = [...document.querySelectorAll('.leaflet-container .leaflet-control')]
        .map((c) => c.getBoundingClientRect());
    const discs = [...document.querySelectorAll('.leaflet-hotspots-pane path.leaflet-interactive')].map((p) => {
        const r = p.getBoundingClientRect();
        return [r.x + r.width / 2, r.y + r.height / 2, r.width / 2]; });
    const gap = ([x, y, r], [u, v]) => Math.hypot(u - x, v - y) - r;
    for (const [index, disc] of discs.entries()) {
        const [x, y, r] = disc;
        for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
            const tap = [x + dx * (r + beside), y + dy * (r + beside)];
            const others = discs.filter((d) => d !== disc).map((d) => gap(d, tap));
            const apart = others.every((g) => g > beside + 4);
            const inside = tap[0] > box.left + 10 && tap[0] < box.right - 10 && tap[1] > Math.max(box.top, 0) + 10
                && tap[1] < Math.min(box.bottom, innerHeight) - 10;
            const clear = controls.every((c) => tap[0] < c.left - 4 || tap[0] > c.right + 4 || tap[1] < c.top - 4
                || tap[1] > c.bottom + 4);
            if (apart && inside && clear) return [index, r, ...tap];
        }
    }
    return null; }"""


def popup_on_disc(page, index: int) -> None:
    """Wait until the open popup is anchored on disc ``index`` of the hotspots pane (DISC_BESIDE): the tip's centre
    over the disc's, once the map has panned to show the popup."""
    page.wait_for_function(
        """index => {
            const centre = (r) => r.x + r.width / 2;
            const tip = document.querySelector('.leaflet-popup-tip')?.getBoundingClientRect();
            const disc = document.querySelectorAll('.leaflet-hotspots-pane path.leaflet-interactive')[index];
            return tip !== undefined && Math.abs(centre(tip) - centre(disc.getBoundingClientRect())) < 2; }""",
        arg=index,
        timeout=5_000,
    )


def test_a_tap_beside_a_small_hotspot_disc_opens_it_on_a_phone(chromium, server: str) -> None:
    """A hotspot's disc of the whole city is 6–15 px across, far under a fingertip: a tap a little beside it opened
    nothing, and the commander tapped again and again. On a touch screen a tap within 16 px of a disc's edge opens
    that hotspot's card, anchored on it; a mouse, which aims, still opens nothing beside it."""
    page, errors = open_as(chromium, server, "chihuy", ANDROID, has_touch=True, is_mobile=True)
    page.wait_for_selector(".leaflet-hotspots-pane path.leaflet-interactive")
    disc = page.evaluate(DISC_BESIDE, 10)
    assert disc is not None, "no disc with room beside it on the phone's map"
    index, radius, tap_x, tap_y = disc
    assert radius <= 8  # the whole city's zoom: a small disc
    page.touchscreen.tap(tap_x, tap_y)
    card = page.locator(".leaflet-popup .card[data-hotspot-id]")
    card.wait_for()
    popup_on_disc(page, index)
    shot(page, "command-phone-tap-beside-a-hotspot")
    assert errors == [], errors
    page.close()

    desk, errors = open_as(chromium, server, "chihuy", {"width": 1366, "height": 900})
    desk.wait_for_selector(".leaflet-hotspots-pane path.leaflet-interactive")
    _, _, tap_x, tap_y = desk.evaluate(DISC_BESIDE, 10)
    desk.mouse.click(tap_x, tap_y)
    desk.wait_for_timeout(300)  # what a click would open, given the time to open
    assert desk.locator(".leaflet-popup").count() == 0
    assert errors == [], errors
    desk.close()

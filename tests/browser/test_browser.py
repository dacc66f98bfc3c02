"""The pages in a real browser (Debian's Chromium driven by Playwright), one role after another.

A scratch database on the session cluster holds a small synthetic city (incidents, hotspots, the
demo accounts and story, an approved and a draft year); the app runs in uvicorn on a loopback port.
Screenshots are kept under artifacts/ for people to look at.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import conversion_task, scratch_database, serve
from PIL import Image
from sqlalchemy import Connection, Engine, create_engine, text

from api.app import create_app
from gis.demo.accounts import DEMO_PASSWORD
from gis.ops.postgres import ManagedCluster
from gis.services.admin import create_user
from gis.services.tasks import assign_task, comment_task, transition_task
from gis.store.accounts import create_team, principal_by_username
from gis.store.classifications import approve, override
from gis.store.scoping import UNRESTRICTED
from maps.styles import CLASS_COLOURS, STATUS_COLOURS, class_key
from models.domain.hotspot_lifecycle import hotspot_lifecycle
from models.vocabulary import IncidentKind, local_today

#: Debian's Chromium as its headless shell (package chromium-headless-shell: the same Chromium, without the desktop
#: browser's windowing; what Playwright itself runs for headless pages). test_browser.py's 44 tests took 58 s of
#: Chromium's CPU instead of 114 s with the desktop `chromium --headless`, and 94 s instead of 119 s in all (one
#: process, load 1).
CHROMIUM = "/usr/bin/chromium-headless-shell"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def city(cluster: ManagedCluster, city_template: str) -> Iterator[Engine]:
    """A scratch database of this module's own holding the small synthetic city and the demo accounts (a copy of the
    session's conftest.city_template), dropped afterwards."""
    with scratch_database(cluster, "browser_city", template=city_template) as engine:
        yield engine


@contextmanager
def served(city: Engine, monitoring_days: int) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, an eradicated hotspot monitored ``monitoring_days``."""
    app = create_app(city)
    app.state.hotspot_machine = hotspot_lifecycle(monitoring_days)
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def server(city: Engine) -> Iterator[str]:
    """The app served with a monitoring period of 0 days: the story closes today."""
    with served(city, 0) as base:
        yield base


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium headless shell (Playwright's own browser download does not work here)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium-headless-shell)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


#: Before any script of a page: keep each Content-Security-Policy violation in window.cspViolations (test_csp.py).
CSP_WATCH = """window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(
  `${e.effectiveDirective} refused ${e.blockedURI || "inline"} on ${e.target.nodeName}.${e.target.className}`));"""


#: The session cookies of each (server, user) once logged in through the form. A page opened again for the same
#: user starts with them, as a second tab of one browser does, instead of logging in again: the form, its redirect
#: and an argon2 check cost about 1 s of a page's 2.6 s (the suite opens some 250 pages). Only cookies: what a page
#: keeps in localStorage (lists kept for offline use) is not carried to the next page.
_SIGNED_IN: dict[tuple[str, str], list] = {}


def open_as(chromium, server: str, username: str, viewport: dict | None = None, **options):
    """A logged-in page of `username` once its panel has loaded, and the errors the console reported (a refusal by
    the Content-Security-Policy among them); its CSP violations are kept in window.cspViolations. `options` go to
    the browser's new page (e.g. another device's user_agent). The user's session of an earlier page is used when
    the server still takes it (_SIGNED_IN), else the login form is filled."""
    cookies = _SIGNED_IN.get((server, username))
    page = chromium.new_page(
        viewport=viewport or {"width": 1400, "height": 900},
        storage_state={"cookies": cookies, "origins": []} if cookies else None,
        **options,
    )
    page.add_init_script(CSP_WATCH)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/" if cookies else f"{server}/login")
    if page.url.endswith("/login"):  # no session yet, or it ended (a logout, a deactivation): log in
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    _SIGNED_IN[(server, username)] = page.context.cookies()
    return page, errors


def log_in_with_a_given_password(page, server: str, username: str, given: str) -> None:
    """Log in with the password an administrator gave: the page asks for the user's own first
    (maps.pages.password_page)."""
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", given)
    page.click("button[type=submit]")
    page.wait_for_selector(f"h2 >> text=Đổi mật khẩu của {username}")


def change_password(page, given: str, new: str, repeated: str | None = None) -> None:
    """Fill and send the password form (``repeated``: what is typed the second time, by default ``new``)."""
    page.fill("input[name=current_password]", given)
    page.fill("input[name=new_password]", new)
    page.fill("input[name=repeated]", new if repeated is None else repeated)
    page.click("form[action='/password'] button[type=submit]")


def unexpected(errors: list[str], *statuses: int) -> list[str]:
    """Console errors other than the browser's note of an expected refusal (e.g. 409 for a draft that exists)."""
    expected = tuple(f"status of {status} " for status in statuses)
    return [e for e in errors if not (e.startswith("Failed to load resource") and any(x in e for x in expected))]


#: Resolves once the page's map (if any) has kept its centre and zoom for ten frames with its images loaded, or after
#: 5 s: a screenshot taken during a flight (`flyTo`, 0.6-0.8 s) shows the layers CSS-scaled, blurred and cut by seams.
_MAP_SETTLED = """() => new Promise(done => {
  const map = window.diaban && window.diaban.map;
  if (!map) { done(true); return; }
  const until = Date.now() + 5000;
  let last = null, still = 0;
  const tick = () => {
    const now = `${map.getCenter()} ${map.getZoom()}`;
    still = now === last ? still + 1 : 0;
    last = now;
    const loaded = [...document.querySelectorAll("img.leaflet-image-layer, img.leaflet-tile")].every(i => i.complete);
    if ((still >= 10 && loaded && !map._animatingZoom) || Date.now() > until) done(true);
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""


def reassigned(city: Engine, task_id: int) -> tuple[int, str | None]:
    """The team a task is with now, and the note of its newest reassignment."""
    with city.connect() as conn:
        return conn.execute(
            text("""SELECT t.team_id, e.note FROM tasks t JOIN task_events e ON e.task_id = t.id
                    AND e.event = 'reassigned' WHERE t.id = :t ORDER BY e.id DESC LIMIT 1"""),
            {"t": task_id},
        ).one()


#: Answers the page's questions (common.js ask: a <dialog class="ask">) as they open, by a tap on the button a user
#: would tap, and keeps their words in the tab's sessionStorage (a «yes» may leave the page: a logout): ``[id, yes,
#: every]``.
_ANSWERING = """([id, yes, every]) => {
  const observer = new MutationObserver(() => {
    for (const dialog of document.querySelectorAll("dialog.ask[open]:not([data-answered])")) {
      dialog.dataset.answered = "";
      const asked = JSON.parse(sessionStorage.getItem(id) || "[]");
      asked.push(dialog.querySelector(".question").textContent);
      sessionStorage.setItem(id, JSON.stringify(asked));
      dialog.querySelector(`button[value=${yes ? "yes" : "no"}]`).click();
      if (!every) { observer.disconnect(); return; }
    }
  });
  observer.observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ["open"] });
}"""


class Asked(Sequence[str]):
    """What the page asked of those :func:`confirming` answered, read from the page when looked at. Compared with a
    list, it waits up to 5 s for as many questions as the list holds (a question follows its tap by a moment)."""

    def __init__(self, page, key: str) -> None:  # noqa: ANN001 - Playwright's Page
        self.page, self.key = page, key

    def _read(self) -> list[str]:
        return self.page.evaluate("id => JSON.parse(sessionStorage.getItem(id) || '[]')", self.key)

    def __getitem__(self, index):  # noqa: ANN001, ANN204 - as a list's
        return self._read()[index]

    def __len__(self) -> int:
        return len(self._read())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list) and other:
            self.page.wait_for_function(
                "([id, n]) => JSON.parse(sessionStorage.getItem(id) || '[]').length >= n",
                arg=[self.key, len(other)],
                timeout=5_000,
            )
        return self._read() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._read())


def confirming(page, answer: bool, every: bool = False) -> Asked:
    """Answer the page's next question (common.js ask) with ``answer``, or with ``every`` each one from now on (pages
    opened next included); what it asked is read from the answer. Only where a question is due: the answer waits for
    the next one."""
    key = f"diaban-test-asked-{next(_QUESTIONS)}"
    args = [key, answer, every]
    page.evaluate(_ANSWERING, args)
    if every:
        page.add_init_script(f"document.addEventListener('DOMContentLoaded', () => ({_ANSWERING})({json.dumps(args)}))")
    return Asked(page, key)


_QUESTIONS = itertools.count()


def shot(page, name: str) -> None:
    """Keep a screenshot under artifacts/, once the map has come to rest."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate(_MAP_SETTLED)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_command_sees_the_map_with_its_layers(chromium, server: str) -> None:
    page, errors = open_as(chromium, server, "chihuy")
    assert page.locator(".leaflet-control-layers").count() == 1
    assert page.locator("text=Mật độ vụ việc").count() >= 1
    page.wait_for_selector(".leaflet-overlay-pane canvas")  # communes and hotspots drawn (canvas renderer)
    assert page.locator("img.leaflet-image-layer").count() == 1  # the heat overlay
    assert "%" in page.locator("#kpi-drug-free").inner_text()
    assert (
        page.locator("#kpi-final").inner_text() == "tối thiểu 60%"
    )  # the 2030 target (this year's: test_map_reading.py)
    shot(page, "command-heat")
    with page.expect_response(lambda r: "/tiles/incidents/" in r.url) as tile:
        page.locator(".leaflet-control-layers >> text=Vụ việc (số vụ theo ô").click()
    assert tile.value.status == 200 and tile.value.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    whole_city = hotspot_radii(page)
    with page.expect_response(lambda r: "/api/heat" in r.url) as heat:
        page.evaluate("() => { window.diaban.map.setView([20.86, 106.68], 14); }")
    assert "cell_m=25&" in heat.value.url and heat.value.status == 200  # ~9 m per pixel at zoom 14: 25 m cells
    street = hotspot_radii(page)  # circles smaller over the whole city, their full size from zoom 11 on
    assert whole_city and len(whole_city) == len(street) and max(c / s for c, s in zip(whole_city, street)) < 0.9
    page.wait_for_timeout(800)
    shot(page, "command-incidents-street")
    page.evaluate("() => { window.diaban.map.fitBounds(window.diaban.mainland); }")
    page.locator(".leaflet-control-layers >> text=Ô nóng, ô lạnh (so với xung quanh)").click()
    page.locator(".leaflet-control-layers >> text=Phân loại xã (năm đã duyệt gần nhất)").click()
    page.locator(".leaflet-control-layers >> text=Xu hướng ô nóng, ô lạnh theo thời gian").click()
    page.fill("#month", "24")
    page.dispatch_event("#month", "change")
    page.wait_for_function("() => document.getElementById('month-label').textContent.startsWith('Tháng')")
    page.wait_for_timeout(1500)
    shot(page, "command")
    # A day not in the calendar is refused in words before any map is asked for (the API would answer yyyy-mm-dd).
    heat_asked: list[str] = []
    page.on("request", lambda request: heat_asked.append(request.url) if "/api/heat" in request.url else None)
    page.fill("#filters input[name=from]", "31/02/2026")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#message.error >> text=Từ ngày: «31/02/2026» không phải ngày hợp lệ")
    page.wait_for_timeout(500)
    assert heat_asked == [] and page.locator("#month-label").inner_text().startswith("Tháng")
    # Not a day's shape at all: told in the same words, not by the browser's own bubble («Please match the requested
    # format.», in the browser's language) that kept the form from being sent.
    page.fill("#filters input[name=from]", "1/2026")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#message.error >> text=Từ ngày: «1/2026» không phải ngày hợp lệ")
    assert errors == []
    page.close()


DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}


def marker_colour(page, hotspot_id: int) -> str | None:
    """The fill colour of a hotspot's marker on the map (None when it is not drawn)."""
    return page.evaluate(
        """id => { let colour = null; window.diaban.map.eachLayer(l => {
        if (l.feature && l.feature.properties.id === id && l.options.fillColor) { colour = l.options.fillColor; } });
        return colour; }""",
        hotspot_id,
    )


def hotspot_radii(page) -> list[float]:
    """The radii in pixels of the hotspot circles on the map, smallest first."""
    return page.evaluate(
        """() => { const radii = []; window.diaban.map.eachLayer(l => {
        if (l.feature && 'n_incidents' in l.feature.properties && l.getRadius) { radii.push(l.getRadius()); } });
        return radii.sort((a, b) => a - b); }"""
    )


def answers_lost(keys: list[str | None] | dict[str, list[str | None]], lost: int = 1) -> Callable[[Any], None]:
    """A route handler for a phone whose connection drops after the server stored a change: the first `lost` POSTs
    reach the server, their answers never reach the page; later ones go through, as do other methods. The
    Idempotency-Key of each POST is appended to `keys` — with a dict, under its address (after /api/), and the first
    `lost` POSTs to each address are lost."""

    def handle(route) -> None:  # noqa: ANN001 - Playwright's Route
        if route.request.method != "POST":
            route.continue_()
            return
        sent = keys.setdefault(route.request.url.split("/api/", 1)[1], []) if isinstance(keys, dict) else keys
        sent.append(route.request.headers.get("idempotency-key"))
        if len(sent) <= lost:
            route.fetch()  # the server stores it …
            route.abort("connectionreset")  # … and the answer never reaches the phone
        else:
            route.continue_()

    return handle


def wait_message(page, text: str) -> None:
    """Wait until the page's status line says `text` (not an error), once the map and lists are up to date."""
    try:
        page.wait_for_function(
            """text => { const m = document.getElementById('message');
            return !m.classList.contains('error') && m.textContent.includes(text)
                   && !m.textContent.includes('đang cập nhật'); }""",
            arg=text,
            timeout=30_000,
        )
    except Exception as error:
        raise AssertionError(f"waited for «{text}», the page says «{page.locator('#message').inner_text()}»") from error


def open_hotspot_row(page, hotspot_id: int) -> None:
    """Show the hotspot register and open the hotspot's row (its card with the allowed actions)."""
    page.click("nav.tabs button[data-tab=hotspots]")
    if page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot_id}']").count() == 0:
        page.click(f"#hotspot-table tr[data-hotspot-id='{hotspot_id}']")
    page.wait_for_selector(f"#hotspot-table .card[data-hotspot-id='{hotspot_id}']")


def hotspot_action(page, hotspot_id: int, action: str, note: str = "") -> None:
    """Press an action button of the hotspot's card in the register (with a note if given)."""
    open_hotspot_row(page, hotspot_id)
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot_id}']")
    if note:
        card.locator("textarea").first.fill(note)
    card.locator(f"button[data-action={action}]").click()


def test_command_and_team_take_a_hotspot_from_detection_to_closure(chromium, server: str, city: Engine) -> None:
    """verified → assigned → (team) in progress → completed → (command) returned → … accepted → eradicated →
    monitoring → closed, the map colour following each step."""
    with city.connect() as conn:
        hotspot, team, team_user = conn.execute(
            text("""
            SELECT h.id, tm.name, u.username FROM hotspots h
            JOIN team_areas ta ON ta.commune_code = h.commune_code AND ta.valid_to IS NULL
            JOIN teams tm ON tm.id = ta.team_id JOIN users u ON u.team_id = tm.id
            WHERE h.status = 'detected' AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.hotspot_id = h.id)
            ORDER BY h.n_incidents DESC LIMIT 1""")
        ).one()
    colours = STATUS_COLOURS
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    assert marker_colour(page, hotspot) == colours["detected"]
    open_hotspot_row(page, hotspot)
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot}']")
    assert card.locator("button[data-action]").all_inner_texts() == ["Xác minh", "Loại bỏ (không xác thực)"]
    page.wait_for_timeout(800)  # the map flew to the hotspot and opened its popup
    shot(page, "command-register-detected")
    hotspot_action(page, hotspot, "verified")
    wait_message(page, f"Điểm nóng #{hotspot}: Đã xác minh")
    assert marker_colour(page, hotspot) == colours["verified"]

    open_hotspot_row(page, hotspot)
    card.locator("summary.assign-open").click()
    card.locator("select[name=team]:enabled").wait_for()  # the teams came
    assert team in card.locator("select[name=team]").inner_text()
    # The area's teams first (the suggestion chosen), then the others: a busy area's task may go to a neighbour.
    groups = card.locator("form.assign optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert groups == ["Tổ phụ trách địa bàn", "Tổ ngoài địa bàn"], groups
    assert card.locator("form.assign optgroup").first.locator("option:checked").count() == 1  # an area's team chosen
    shot(page, "command-assign")
    due = card.locator("form.assign input[name=due]").input_value()
    card.locator("form.assign input[name=due]").fill("15.01.2027")  # not dd/mm/yyyy: refused, not a task without a date
    card.locator("form.assign button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=Hạn: «15.01.2027» không phải ngày hợp lệ")
    with city.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tasks WHERE hotspot_id = :h"), {"h": hotspot}).scalar_one() == 0
    card.locator("form.assign input[name=due]").fill(due)
    card.locator("form.assign textarea[name=steps]").fill("Xác minh địa điểm\n\n  Lập kế hoạch đấu tranh  \n")
    # Its priority chosen (every task was sent «cao»): high unless command says otherwise.
    assert card.locator("form.assign select[name=priority]").input_value() == "high"
    card.locator("form.assign select[name=priority]").select_option("urgent")
    shot(page, "command-assign-steps")
    card.locator("form.assign button[type=submit]").click()
    wait_message(page, "Đã giao nhiệm vụ")
    assert "Đã giao xử lý" in page.locator("#message").inner_text()
    assert marker_colour(page, hotspot) == colours["assigned"]
    with city.connect() as conn:
        task_id, steps = conn.execute(
            text("SELECT id, checklist FROM tasks WHERE hotspot_id = :h"), {"h": hotspot}
        ).one()
    # The steps typed, a line each (blank lines left out), for the team to tick off.
    assert steps == [{"item": "Xác minh địa điểm", "done": False}, {"item": "Lập kế hoạch đấu tranh", "done": False}]

    field, field_errors = open_as(chromium, server, team_user, PHONE)
    team_task = field.locator(f"article.task[data-task-id='{task_id}']")
    assert "· ưu tiên khẩn" in team_task.locator("p").first.inner_text()  # a word mid-sentence, not «ưu tiên Khẩn»
    team_task.locator("button[data-to=in_progress]").click()
    field.wait_for_selector(f"article.task[data-task-id='{task_id}'] b.state:has-text('Đang thực hiện')")
    team_task.locator(".actions textarea").fill("Đã bắt 2 đối tượng, thu giữ tang vật")
    # The steps not ticked off, the report asks first: dismissed, nothing is sent; accepted, the work goes.
    asked = confirming(field, False)
    team_task.locator("button[data-to=completed]").click()
    assert asked == ["Còn 2/2 việc trong danh sách chưa đánh dấu xong. Vẫn báo hoàn thành?"]
    assert team_task.locator("b.state").inner_text() == "Đang thực hiện"
    confirming(field, True)
    team_task.locator("button[data-to=completed]").click()
    field.wait_for_selector(f"article.task[data-task-id='{task_id}'] b.state:has-text('chờ nghiệm thu')")
    shot(field, "team-phone-completed")

    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert marker_colour(page, hotspot) == colours["suppressing"]
    assert int(page.locator("#kpi-awaiting").inner_text()) >= 1
    page.click("nav.tabs button[data-tab=inbox]")
    assert f"Nhiệm vụ #{task_id}" in page.locator("#inbox").inner_text()
    shot(page, "command-inbox")
    page.click("nav.tabs button[data-tab=overview]")
    awaiting = page.locator("#kpi-awaiting").inner_text()
    page.click("#kpi-awaiting")  # the overview's count opens the tasks waiting for acceptance
    page.wait_for_selector(f'#task-count >> text="{awaiting} nhiệm vụ"')
    assert page.locator("#task-table tbody tr").count() == int(awaiting)
    page.click(f"#task-table tr[data-task-id='{task_id}']")
    task_card = page.locator(f"#task-table .card[data-task-id='{task_id}']")
    assert "; ưu tiên khẩn" in task_card.locator("p").first.inner_text()
    task_card.locator("button[data-action=returned]").click()
    page.wait_for_selector("#message.error >> text=cần ghi chú")  # returning needs a comment
    task_card.locator("textarea").fill("Thiếu biên bản hiện trường")
    task_card.locator("button[data-action=returned]").click()
    wait_message(page, f"Nhiệm vụ #{task_id}: Trả lại để làm tiếp")
    assert marker_colour(page, hotspot) == colours["suppressing"]  # a returned task keeps the hotspot suppressing

    field.reload()
    field.wait_for_selector("body[data-ready=true]")
    # Why it came back, on the card itself (it was only in the notices and the folded history).
    why = team_task.locator("p.returned-why").inner_text()
    assert why.startswith("Ban chỉ huy trả lại (") and why.endswith("): «Thiếu biên bản hiện trường»"), why
    team_task.locator("button[data-to=in_progress]").click()
    field.wait_for_selector(f"article.task[data-task-id='{task_id}'] b.state:has-text('Đang thực hiện')")
    for line in team_task.locator(".checklist input[type=checkbox]").all():  # every step ticked: no question
        line.check()
        field.wait_for_function("box => !box.disabled", arg=line.element_handle())
    team_task.locator("button[data-to=completed]").click()
    field.wait_for_selector(f"article.task[data-task-id='{task_id}'] b.state:has-text('chờ nghiệm thu')")

    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    open_hotspot_row(page, hotspot)
    assert card.locator("button[data-action]").all_inner_texts() == [
        "Nghiệm thu",
        "Trả lại để làm tiếp",
        "Hủy nhiệm vụ",
    ]
    card.locator("button[data-action=accepted]").click()
    wait_message(page, f"Nhiệm vụ #{task_id}: Đã nghiệm thu")
    assert marker_colour(page, hotspot) == colours["suppressing"]
    hotspot_action(page, hotspot, "eradicated", "Đã triệt xóa: bắt 2 đối tượng, niêm phong địa điểm")
    wait_message(page, f"Điểm nóng #{hotspot}: Đã triệt xóa")
    assert marker_colour(page, hotspot) == colours["eradicated"]
    hotspot_action(page, hotspot, "monitoring")
    wait_message(page, f"Điểm nóng #{hotspot}: Đang giữ sạch")
    assert marker_colour(page, hotspot) == colours["monitoring"]
    open_hotspot_row(page, hotspot)
    card.scroll_into_view_if_needed()
    shot(page, "command-monitoring")
    hotspot_action(page, hotspot, "closed")
    wait_message(page, f"Điểm nóng #{hotspot}: Đã loại khỏi danh sách")
    assert marker_colour(page, hotspot) == colours["closed"]
    open_hotspot_row(page, hotspot)
    card.locator("details summary").click()
    page.wait_for_selector(f"#hotspot-table .card[data-hotspot-id='{hotspot}'] ol.history >> text=Nghiệm thu")
    card.scroll_into_view_if_needed()
    shot(page, "command-closed-history")
    with city.connect() as conn:
        assert conn.execute(text("SELECT status FROM hotspots WHERE id = :h"), {"h": hotspot}).scalar_one() == "closed"
        assert conn.execute(text("SELECT state FROM tasks WHERE id = :t"), {"t": task_id}).scalar_one() == "accepted"
    assert errors == [] and field_errors == []
    page.close()
    field.close()


POPUP_OVERLAPS = """() => {
    const popup = document.querySelector('.leaflet-popup').getBoundingClientRect();
    const map = window.diaban.map.getContainer().getBoundingClientRect();
    const over = (b) => b.bottom > popup.top && b.top < popup.bottom && b.right > popup.left && b.left < popup.right;
    const covered = [...document.querySelectorAll('.leaflet-control')].filter(c => over(c.getBoundingClientRect()))
        .map(c => c.className);
    return { covered, outside: popup.left < map.left || popup.right > map.right || popup.top < map.top };
}"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_hotspot_popup_is_clear_of_the_map_controls(chromium, server: str, viewport: dict) -> None:
    """Opened from the register (desktop) or by a tap on its marker (phone), a hotspot's card on the map is whole:
    no control (search box, layers, map buttons) over its title, figures or buttons, none of it off the map."""
    page, errors = open_as(chromium, server, "chihuy", viewport)
    page.click("nav.tabs button[data-tab=hotspots]")
    row = page.locator("#hotspot-table tbody tr[data-hotspot-id]").first
    hotspot = int(row.get_attribute("data-hotspot-id"))
    if viewport is DESKTOP:
        row.click()
    else:
        page.evaluate(
            """id => { window.diaban.map.eachLayer(l => { if (l.feature?.properties?.id === id && l.getLatLng) {
                window.diaban.map.setView(l.getLatLng(), 15, { animate: false }); l.openPopup(); } }); }""",
            hotspot,
        )
    page.wait_for_selector(f".leaflet-popup .card[data-hotspot-id='{hotspot}']")
    page.wait_for_timeout(1000)  # the flight and the pan that makes room for the popup
    shot(page, f"command-popup-{viewport['width']}")
    assert page.evaluate(POPUP_OVERLAPS) == {"covered": [], "outside": False}
    assert errors == []
    page.close()


def conversion_form(page, commune: str, year: int):
    """Command's «Giao nhiệm vụ chuyển hóa địa bàn» form opened on the tasks tab, the commune typed (its teams asked
    when the commune is left or the form sent) and the year given; the form."""
    page.click("nav.tabs button[data-tab=tasks]")
    page.click("details.new-task summary")
    form = page.locator("#conversion-form")
    form.locator("input[name=commune]").fill(commune)
    form.locator("input[name=year]").fill(str(year))
    form.locator("input[name=year]").dispatch_event("change")
    return form


def test_command_gives_a_commune_conversion_task_to_its_team_on_a_phone(chromium, server: str, city: Engine) -> None:
    """Chuyển hóa địa bàn: command picks a commune and a year, one of the teams covering it (least loaded first), and
    the team finds the task on its phone (the API took conversion tasks, no page offered them)."""
    with city.connect() as conn:
        commune, name = conn.execute(
            text("""SELECT ta.commune_code, a.full_name FROM team_areas ta
                    JOIN admin_units a ON a.code = ta.commune_code AND a.valid_to IS NULL
                    WHERE ta.valid_to IS NULL AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.kind = 'conversion'
                      AND t.commune_code = ta.commune_code) ORDER BY ta.commune_code LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    form = conversion_form(page, name, 2027)
    assert form.locator("input[name=due]").input_value() == "31/12/2027"
    form.locator("button[type=submit]").click()  # straight from typing: the teams are asked on the way
    wait_message(page, f"chuyển hóa {name} năm 2027 cho ")
    with city.connect() as conn:
        task_id, year, due, member = conn.execute(
            text("""SELECT t.id, t.year, t.due_date, min(u.username) FROM tasks t JOIN users u ON u.team_id = t.team_id
                    WHERE t.kind = 'conversion' AND t.commune_code = :c GROUP BY t.id"""),
            {"c": commune},
        ).one()
    assert (year, due.isoformat()) == (2027, "2027-12-31")
    card = page.locator(f"#task-table .card[data-task-id='{task_id}']")
    assert "Chuyển hóa địa bàn" in card.inner_text() and "năm 2027" in card.inner_text()
    shot(page, "command-phone-conversion")
    assert errors == []
    page.close()

    field, field_errors = open_as(chromium, server, member, PHONE)
    assert "Chuyển hóa địa bàn năm 2027" in field.locator(f"article.task[data-task-id='{task_id}'] h3").inner_text()
    assert field_errors == []
    field.close()


# The chosen option of a <select> as wide as its text is, and the width the select gives it (its padding and arrow
# left out): what the screen shows of the choice.
_CHOICE_FITS = """(select) => { const style = getComputedStyle(select); const text = document.createElement('span');
    text.style.font = style.font; text.style.whiteSpace = 'pre'; text.textContent = select.selectedOptions[0].textContent;
    document.body.appendChild(text); const needed = text.getBoundingClientRect().width; text.remove();
    return [select.selectedOptions[0].textContent, needed, select.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight) - 16]; }"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_conversion_form_shows_the_whole_team_it_suggests(chromium, server: str, city: Engine, viewport) -> None:
    """The conversion form's team choice sat in half the panel's width: the suggestion read «Tổ công tác khu vực 05
    (Th», its open tasks — why it is suggested — cut off, on a desktop as on a phone. The whole choice shows."""
    with city.connect() as conn:
        name = conn.execute(
            text("""SELECT a.full_name FROM team_areas ta JOIN admin_units a ON a.code = ta.commune_code
                    AND a.valid_to IS NULL WHERE ta.valid_to IS NULL ORDER BY ta.commune_code LIMIT 1""")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", viewport)
    page.click("nav.tabs button[data-tab=tasks]")
    page.click("details.new-task summary")
    form = page.locator("#conversion-form")
    team = form.locator("select[name=team]")
    shown, needed, room = team.evaluate(_CHOICE_FITS)
    assert shown == "— chọn xã/phường trước —" and needed <= room, (shown, needed, room)
    form.locator("input[name=commune]").fill(name)
    form.locator("input[name=commune]").dispatch_event("change")  # as when the field is left
    page.wait_for_function("() => !document.querySelector('#conversion-form select[name=team]').disabled")
    shown, needed, room = team.evaluate(_CHOICE_FITS)
    assert shown.startswith("Tổ công tác") and shown.endswith(" việc") and needed <= room, (shown, needed, room)
    form.scroll_into_view_if_needed()
    shot(page, f"command-conversion-team-{'phone' if viewport == PHONE else 'desktop'}")
    # Typed as the registers' filters and the map's search take it (no accents, no «xã»): the commune's teams are
    # offered too (only a name picked from the list was).
    form.locator("input[name=commune]").fill("")
    form.locator("input[name=commune]").dispatch_event("change")
    page.wait_for_function("() => document.querySelector('#conversion-form select[name=team]').disabled")
    form.locator("input[name=commune]").fill(page.evaluate("(name) => withoutKind(name)", name))
    form.locator("input[name=commune]").dispatch_event("change")
    page.wait_for_function("() => !document.querySelector('#conversion-form select[name=team]').disabled")
    assert errors == []
    page.close()


def gps_photo(path: Path) -> Path:
    """A JPEG like a phone's: a camera model and the GPS position where it was taken."""
    exif = Image.Exif()
    exif[0x0110] = "Phone camera"
    exif[0x8825] = {1: "N", 2: (20.0, 51.0, 30.0), 3: "E", 4: (106.0, 41.0, 12.0)}
    Image.new("RGB", (640, 480), (90, 120, 160)).save(path, "JPEG", exif=exif.tobytes())
    return path


def test_team_works_a_task_on_a_phone_and_its_photo_stays_with_it(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    with city.connect() as conn:
        team_user, task_id, team_id = conn.execute(
            text("""SELECT u.username, t.id, t.team_id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state = 'assigned' AND t.kind = 'suppression' ORDER BY t.id LIMIT 1""")
        ).one()
        other = conn.execute(
            text("SELECT username FROM users WHERE role = 'team' AND team_id <> :t ORDER BY username LIMIT 1"),
            {"t": team_id},
        ).scalar_one()
    page, errors = open_as(chromium, server, team_user, viewport=PHONE)
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    place = task.locator(".place").inner_text()
    assert "Vị trí:" in place and "," in task.locator(".coords").inner_text()
    assert task.locator("a.geo").get_attribute("href").startswith("geo:")
    shot(page, "team-phone")
    task.locator("button[data-to=in_progress]").click()
    page.wait_for_selector(f"article.task[data-task-id='{task_id}'] b.state:has-text('Đang thực hiện')")
    task.locator("form.progress summary").click()
    page.click("#reload-tasks")  # the list drawn again (as after any change) keeps the form the team opened
    page.wait_for_selector("#reload-tasks:not([disabled])")
    task.locator("form.progress textarea[name=note]").fill("Đã khám xét, niêm phong lán trại")
    fake = tmp_path / "khong-phai-anh.jpg"
    fake.write_text("<html>not a photo</html>")
    task.locator("form.progress input[name=photo]").set_input_files(str(fake))
    task.locator("form.progress button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=chỉ nhận ảnh JPEG, PNG hoặc WebP")
    assert page.locator("#message").inner_text() == "Chỉ nhận ảnh JPEG, PNG hoặc WebP"  # the English reason not shown
    errors.remove("Failed to load resource: the server responded with a status of 400 (Bad Request)")
    task.locator("form.progress input[name=photo]").set_input_files(str(gps_photo(tmp_path / "hien-truong.jpg")))
    task.locator("form.progress button[type=submit]").click()
    wait_message(page, "đã xóa vị trí GPS trong ảnh")
    page.wait_for_selector(f"article.task[data-task-id='{task_id}'] img.evidence")
    image = task.locator("img.evidence").first
    page.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=image.element_handle())  # preview
    image.scroll_into_view_if_needed()
    note_bottom = image.evaluate(
        "img => { const r = document.createRange(); r.setStartBefore(img.closest('li').firstChild);"
        " r.setEndBefore(img.closest('a')); return Math.max(...[...r.getClientRects()].map((b) => b.bottom)); }"
    )
    assert image.bounding_box()["y"] >= note_bottom - 1  # the photo under its note, not beside its last line
    shot(page, "team-phone-photo")
    photo_url = server + task.locator("a.evidence").first.get_attribute("href")  # the photo the thumbnail opens
    assert server + image.get_attribute("src") == f"{photo_url}/preview"
    stored = page.request.get(photo_url)
    assert stored.ok and stored.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(stored.body())) as picture:
        assert dict(picture.getexif().get_ifd(0x8825)) == {}  # the place it was taken is gone
    assert errors == []
    page.close()

    stranger, errors = open_as(chromium, server, other, viewport=PHONE)
    assert stranger.request.get(photo_url).status == 404  # another team cannot fetch it
    assert stranger.locator(f"article.task[data-task-id='{task_id}']").count() == 0
    stranger.close()

    # Command, deciding whether to accept the work, sees the photo with the team's note in the task's history.
    command, errors = open_as(chromium, server, "chihuy", DESKTOP)
    card = task_card(command, task_id)
    card.locator("details[data-keep=history] summary").click()
    note = card.locator("ol.history li", has_text="Đã khám xét, niêm phong lán trại")
    note.locator("img.evidence").wait_for()
    assert server + note.locator("a.evidence").get_attribute("href") == photo_url
    assert errors == []
    command.close()


def task_card(page, task_id: int):
    """Command's task register opened at task ``task_id``: its card."""
    page.click("nav.tabs button[data-tab=tasks]")
    page.click(f"#task-table tr[data-task-id='{task_id}']")
    return page.locator(f"#task-table .card[data-task-id='{task_id}']")


IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"


def test_an_iphone_opens_a_tasks_place_in_its_maps_app(chromium, server: str, city: Engine) -> None:
    """An iPhone does nothing with the geo: link Android phones open: it is given an Apple Maps link instead (iOS hands
    it to the Maps app without loading a web page, so it works on the closed network too); the coordinates beside it
    are selected whole by one tap, to copy into any other app."""
    with city.connect() as conn:
        team_user, task_id = conn.execute(
            text("""SELECT u.username, t.id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state IN ('assigned', 'in_progress') AND t.hotspot_id IS NOT NULL AND u.role = 'team'
                    ORDER BY t.id LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, team_user, PHONE, user_agent=IPHONE)
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    lat, lon = (part.strip() for part in task.locator(".coords").inner_text().split(","))
    href = task.locator("a.geo").get_attribute("href")
    assert href.startswith("https://maps.apple.com/?ll=") and href.endswith(
        f"&q=Nhi%E1%BB%87m%20v%E1%BB%A5%20%23{task_id}"
    )
    assert [round(float(x), 5) for x in href.split("ll=")[1].split("&")[0].split(",")] == [float(lat), float(lon)]
    task.locator(".coords").click()
    assert page.evaluate("String(window.getSelection())") == f"{lat}, {lon}"
    assert errors == []
    page.close()


def team_with_open_task(city: Engine) -> tuple[str, int]:
    """A demo team user and the first task their team holds open (assigned or in progress)."""
    with city.connect() as conn:
        username, task_id = conn.execute(
            text("""SELECT u.username, t.id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state IN ('assigned', 'in_progress') AND u.username ~ '^to[0-9]+$' ORDER BY t.id LIMIT 1""")
        ).one()
    return username, task_id


def test_a_note_typed_when_the_session_ends_is_kept_through_the_login(chromium, server: str, city: Engine) -> None:
    """A team in the field past the session's lifetime (DIABAN_TOKEN_MINUTES) sends its note: the login form says why
    it is back, and after the login the note is in its task again, ready to send (it used to be lost)."""
    team_user, task_id = team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, PHONE)
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    task.locator("form.progress summary").click()
    note = "Đã kiểm tra hiện trường lúc 14 giờ, không phát hiện đối tượng"
    task.locator("form.progress textarea[name=note]").fill(note)
    page.context.clear_cookies()  # the session ended while the team was out
    task.locator("form.progress button[type=submit]").click()
    page.wait_for_url(f"{server}/login*")
    assert "Phiên đăng nhập đã hết hạn" in page.locator("main.login").inner_text()
    page.fill("input[name=username]", team_user)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    kept = page.locator(f"article.task[data-task-id='{task_id}'] form.progress textarea[name=note]")
    assert kept.is_visible() and kept.input_value() == note
    assert "ghi chú chưa gửi đã được giữ lại" in page.locator("#message").inner_text()
    page.reload()  # still not sent: still kept (a page is hidden before it reloads; test_team_phone_day.py)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    assert kept.input_value() == note
    assert unexpected(errors, 401) == []
    page.close()


def test_command_gives_a_hotspots_task_to_another_team_with_a_reason(chromium, server: str, city: Engine) -> None:
    """A task not yet started can go to another team from the hotspot's card (the API allowed it, no page did): the
    teams of the area first, any other after; the team it is taken from is told command's reason."""
    with city.connect() as conn:
        hotspot, task_id, holder = conn.execute(
            text("""SELECT t.hotspot_id, t.id, t.team_id FROM tasks t
                    WHERE t.state = 'assigned' AND t.hotspot_id IS NOT NULL ORDER BY t.id LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    open_hotspot_row(page, hotspot)
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot}']")
    card.locator("summary.assign-open", has_text="Giao lại cho tổ khác").click()
    team = card.locator("form.assign select[name=team]")
    card.locator("form.assign select[name=team]:enabled").wait_for()  # the teams came
    choices = [int(v) for v in team.locator("option").evaluate_all("os => os.map(o => o.value)")]
    assert choices and holder not in choices  # another team, the one holding it is not offered
    card.locator("form.assign input[name=note]").fill("Tổ đang giữ bận chuyên án khác")
    shot(page, "command-reassign")
    card.locator("form.assign button[type=submit]").click()
    wait_message(page, f"Đã giao nhiệm vụ #{task_id}")
    now_with, note = reassigned(city, task_id)
    assert now_with == choices[0] and now_with != holder and note == "Tổ đang giữ bận chuyên án khác"
    assert errors == []


def first_team_user(conn: Connection) -> tuple[str, int, str]:
    """The first demo team user by name (to01…, whose password the tests know: not one an admin test made), their team
    and the first commune of its area today."""
    username, team_id, commune = conn.execute(
        text("""SELECT u.username, u.team_id, min(ta.commune_code) FROM users u JOIN team_areas ta
                ON ta.team_id = u.team_id AND ta.valid_to IS NULL WHERE u.role = 'team' AND u.username ~ '^to[0-9]+$'
                GROUP BY u.username, u.team_id ORDER BY u.username LIMIT 1""")
    ).one()
    return username, team_id, commune


def test_a_team_reads_on_its_phone_that_command_took_its_tasks_away(chromium, server: str, city: Engine) -> None:
    """Command gives one of a team's tasks to another team and cancels another: the team's page says so in its notices,
    with command's reasons, without naming the other team (the tasks used to vanish from its list unexplained)."""
    with city.begin() as conn:
        team_user, team_id, commune = first_team_user(conn)
        other, other_name = conn.execute(
            text("SELECT id, name FROM teams WHERE id <> :t ORDER BY id LIMIT 1"), {"t": team_id}
        ).one()
        command = principal_by_username(conn, "chihuy")
        given, canceled = (conversion_task(conn, command, commune, year, team_id) for year in (2031, 2032))
        assign_task(conn, given, other, 2, command, note="Tổ đang quá tải")
        transition_task(conn, canceled, "canceled", "Trùng kế hoạch của xã", 2, command, UNRESTRICTED)
    page, errors = open_as(chromium, server, team_user, PHONE)
    notices = page.locator("#notices")
    assert notices.is_visible() and "mới" in notices.locator("#inbox-count").inner_text()
    gone = notices.locator("li", has_text=f"Nhiệm vụ #{given} đã được giao cho tổ khác")
    assert "lý do: «Tổ đang quá tải»" in gone.inner_text() and gone.is_visible()
    assert (
        "lý do: «Trùng kế hoạch của xã»"
        in notices.locator("li", has_text=f"Nhiệm vụ #{canceled} đã bị hủy").inner_text()
    )
    assert other_name not in notices.inner_text()
    shot(page, "team-phone-notices")
    assert page.locator(f"article.task[data-task-id='{canceled}']").count() == 0  # finished: not in the list …
    notices.locator("li", has_text=f"Nhiệm vụ #{canceled} đã bị hủy").click()
    page.locator(f"article.task[data-task-id='{canceled}'] ol.history li", has_text="Trùng kế hoạch").wait_for()
    assert page.locator(f"article.task[data-task-id='{given}']").count() == 0  # … until its notice opens it
    assert errors == []
    page.close()


def test_command_writes_to_the_team_holding_a_task_and_the_team_reads_it(chromium, server: str, city: Engine) -> None:
    """Command sends a note to the team without changing the task (no page offered it: a note went only with accept,
    return or cancel); the team finds it in its notices on its phone and opens the task from it."""
    with city.connect() as conn:
        task_id, team, team_user = conn.execute(
            text("""SELECT t.id, tm.name, min(u.username) FROM tasks t JOIN teams tm ON tm.id = t.team_id
                    JOIN users u ON u.team_id = t.team_id AND u.role = 'team'
                    WHERE t.state IN ('assigned', 'in_progress') GROUP BY t.id, tm.name ORDER BY t.id LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    card = task_card(page, task_id)
    card.locator("button.comment").click()
    page.wait_for_selector("#message.error >> text=Hãy viết ghi chú gửi tổ")
    note = "Báo cáo kết quả trước 17 giờ hôm nay"
    card.locator(".actions textarea").fill(note)
    card.locator("button.comment").click()
    wait_message(page, f"Đã gửi ghi chú cho {team} (nhiệm vụ #{task_id})")
    with city.connect() as conn:
        state, events = conn.execute(
            text("""SELECT t.state, count(e.id) FILTER (WHERE e.event = 'comment' AND e.note = :n) FROM tasks t
                    JOIN task_events e ON e.task_id = t.id WHERE t.id = :t GROUP BY t.state"""),
            {"t": task_id, "n": note},
        ).one()
    assert state in ("assigned", "in_progress") and events == 1
    assert errors == []
    page.close()

    field, field_errors = open_as(chromium, server, team_user, PHONE)
    notice = field.locator("#notices li", has_text=f"Nhiệm vụ #{task_id}")
    assert f"ghi chú mới — «{note}»" in notice.first.inner_text()
    notice.first.click()
    field.locator(f"article.task[data-task-id='{task_id}'] ol.history li", has_text=note).wait_for()
    shot(field, "team-phone-command-note")
    assert field_errors == []
    field.close()


def test_a_card_command_works_in_stays_as_it_was_when_the_list_is_drawn_again(
    chromium, server: str, city: Engine
) -> None:
    """Command starts a note in a task's card and opens its history; the list drawn again (sorted here; loaded again
    after any change on the page) keeps both — they were drawn afresh: the history folded shut and the note lost under
    the commander's finger. Once the note is sent, the history still open shows it and the note field is empty."""
    with city.connect() as conn:
        task_id = conn.execute(
            text("SELECT max(id) FROM tasks WHERE state IN ('assigned', 'in_progress') AND team_id IS NOT NULL")
        ).scalar_one()
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    card = task_card(page, task_id)
    note = "Đề nghị tổ bổ sung biên bản, ảnh hiện trường"
    card.locator(".actions textarea").fill(note)
    card.locator("details[data-keep=history] summary").click()
    card.locator("ol.history li", has_text=f"Nhiệm vụ #{task_id}").first.wait_for()
    page.click("#task-table th[data-sort=team]")  # the list drawn again
    assert card.locator(".actions textarea").input_value() == note
    assert card.locator("details[data-keep=history]").evaluate("d => d.open")
    card.locator("button.comment").click()
    wait_message(page, f"(nhiệm vụ #{task_id})")
    card.locator("ol.history li", has_text=note).wait_for()
    assert card.locator(".actions textarea").input_value() == ""
    assert errors == []
    page.close()


def test_command_reads_each_figure_on_the_line_of_its_name_on_a_phone(chromium, server: str) -> None:
    """The overview's figures on a 390 px phone: each on the first line of its name (the count waiting for acceptance,
    a link made 44 px tall for a thumb, sat a line below «Chờ nghiệm thu»)."""
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    first_lines = page.evaluate("""() => [...document.querySelectorAll('.kpi')].map(row => {
        const bottom = (node) => { const range = document.createRange();
            range.selectNodeContents(document.createTreeWalker(node, NodeFilter.SHOW_TEXT).nextNode());
            return Math.round(range.getClientRects()[0].bottom); };
        return [row.children[0].textContent, bottom(row.children[0]), bottom(row.children[1])]; })""")
    assert len(first_lines) == 9  # with «Nhiệm vụ nằm ngoài địa bàn hiện tại của tổ»
    assert [name for name, label, value in first_lines if abs(label - value) > 2] == []
    assert errors == []
    page.close()


def reload_asking(page, fragment: str, answered: str) -> tuple[list[str], Any]:
    """Load ``page`` again, keeping the URL of each request it makes that holds ``fragment``, and the JSON of the first
    answer whose URL holds ``answered``; once the panel is ready."""
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if fragment in request.url else None)
    with page.expect_response(lambda r: answered in r.url) as answer:
        page.reload()
    page.wait_for_selector("body[data-ready=true]")
    return asked, answer.value.json()


def test_command_page_asks_once_for_its_task_figures(chromium, server: str) -> None:
    """The overview's task figures come from one request for the counts: it read them from six lists of one task
    each, queued on the browser's six connections per host behind the page's other requests."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    asked, counts = reload_asking(page, "/api/tasks", "/api/tasks/counts")
    figures = [page.locator(f"#kpi-{name}").inner_text() for name in ("open", "overdue", "awaiting")]
    wanted = (counts["open"], counts["overdue"], counts["by_state"]["completed"])
    assert figures == [f"{n:,}".replace(",", ".") for n in wanted]  # Vietnamese thousands: 1.234
    assert [url for url in asked if "/counts" in url or "limit=1&" in url + "&"] == [f"{server}/api/tasks/counts"]
    assert errors == []
    page.close()


def test_command_page_asks_once_for_its_hotspots(chromium, server: str) -> None:
    """At its load the map and the hotspot register, both with no filter chosen, asked GET /api/hotspots? each: the
    same list twice. One request answers both (the map's circles and the register's rows are its hotspots)."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    asked, hotspots = reload_asking(page, "/api/hotspots", "/api/hotspots")
    ids = sorted(f["id"] for f in hotspots["features"])
    assert asked == [f"{server}/api/hotspots?"]
    on_map = page.evaluate(
        "() => Object.values(window.diaban.map._layers).filter(l => l.feature && l.options.pane === 'hotspots')"
        ".map(l => l.feature.properties.id).sort((a, b) => a - b)"
    )
    page.click("nav.tabs button[data-tab=hotspots]")
    rows = page.locator("#hotspot-table tbody tr[data-hotspot-id]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.hotspotId)).sort((a, b) => a - b)"
    )
    assert ids and on_map == ids and rows == ids
    shot(page, "command-hotspots-asked-once")
    assert errors == []
    page.close()


def test_the_incident_kind_boxes_are_a_thumb_wide_on_a_phone(chromium, server: str) -> None:
    """On a 390 px phone each incident kind's label was a 44 px target but its box 13–16 px, squeezed by the label's
    words beside it: a box missed, or the kind next to it taken. Every box is at least 24 px each way."""
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    kinds = page.locator("#filters .kinds")
    kinds.scroll_into_view_if_needed()
    sizes = kinds.locator("input[type=checkbox]").evaluate_all(
        "boxes => boxes.map(b => { const r = b.getBoundingClientRect(); return [b.value, r.width, r.height]; })"
    )
    assert len(sizes) == len(IncidentKind) and all(w >= 24 and h >= 24 for _, w, h in sizes), sizes
    heights = kinds.locator("label").evaluate_all("labels => labels.map(l => l.getBoundingClientRect().height)")
    assert min(heights) >= 44, heights
    shot(page, "command-incident-kinds-phone")
    assert errors == []
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_task_registers_team_filter_shows_the_longest_team_name(chromium, server: str, viewport) -> None:
    """The task register's «Tổ công tác» filter sat in half the panel's width and cut a long team's name (the commune
    that names the team lost); on a desktop and a 390 px phone the longest choice shows whole."""
    page, errors = open_as(chromium, server, "chihuy", viewport)
    page.click("nav.tabs button[data-tab=tasks]")
    team = page.locator("#task-filters select[name=team]")
    team.evaluate(
        """select => { const texts = [...select.options].map(o => o.textContent);
        select.selectedIndex = texts.indexOf(texts.reduce((a, b) => (b.length > a.length ? b : a))); }"""
    )
    shown, needed, room = team.evaluate(_CHOICE_FITS)
    assert shown.startswith("Tổ công tác") and needed <= room, (shown, needed, room)
    team.scroll_into_view_if_needed()
    shot(page, f"command-task-team-filter-{'phone' if viewport == PHONE else 'desktop'}")
    assert errors == []
    page.close()


def test_command_imports_incidents_on_a_phone_and_reads_the_refused_rows(chromium, server: str, tmp_path: Path) -> None:
    """«Nhập vụ việc từ tệp…»: a file with bad rows is stored without them; the report names each refused row's line,
    reference, column and reason, and the repeated ref with the line kept, the column's name whole on a narrow phone (it broke inside its words); the map's
    incidents are asked for again."""
    upload = tmp_path / "vu-viec-moi.csv"
    upload.write_text(
        "ref,occurred_at,kind,lon,lat\n"
        "NHAP-1,2026-11-01T08:00:00,possession,106.68,20.86\n"
        "NHAP-2,2026-31-01,possession,106.68,20.86\n"
        "NHAP-3,2026-11-02T09:00:00,khong-biet,106.68,20.86\n"
        "NHAP-1,2026-11-03T08:00:00,possession,106.68,20.86\n",
        encoding="utf-8",
    )
    page, errors = open_as(chromium, server, "chihuy", SMALL_PHONE)
    page.click("#incident-import-box summary")
    page.set_input_files("#incident-import input[name=file]", str(upload))
    # «Kiểm tra tệp» first: what the import would do, nothing written; the file stays chosen for the import.
    page.click("#incident-import button[name=check]")
    checked = "Kiểm tra tệp — chưa ghi gì: 1 dòng sẽ được nhập, 2 dòng bị từ chối"
    page.locator("#incident-import-report h3.import-check").filter(has_text=checked).wait_for()
    assert (
        page.locator("#incident-import-report .import-summary").inner_text()
        == "Vụ việc: sẽ nhập 1, trùng (bỏ qua) 1, bị loại 2"
    )
    with page.expect_response(lambda r: "/api/heat" in r.url):  # the map follows the import
        page.click("#incident-import button[type=submit]")
    wait_message(page, "Vụ việc: đã nhập 1")
    rows = page.locator("#incident-import-report tbody tr")
    assert [rows.nth(i).locator("td").all_inner_texts()[:3] for i in range(2)] == [
        ["3", "NHAP-2", "Thời gian"],
        ["4", "NHAP-3", "Loại vụ việc"],
    ]
    # The repeated ref is listed apart, with the line of the row kept.
    assert page.locator("#incident-import-report h3").all_inner_texts() == ["Bị loại: 2 dòng", "Trùng, bỏ qua: 1 dòng"]
    assert rows.nth(2).locator("td").all_inner_texts() == ["5", "NHAP-1", "Số hiệu", "trùng mã với dòng 2"]
    split = """td => { const range = document.createRange(); range.selectNodeContents(td);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""
    for i in range(2):  # at most a line per word
        column = rows.nth(i).locator("td").nth(2)
        assert column.evaluate(split) <= len(column.inner_text().split()), column.inner_text()
    rows.first.scroll_into_view_if_needed()
    shot(page, "command-incident-import-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert errors == []
    page.close()


def test_a_note_whose_answer_is_lost_is_sent_again_and_stored_once(chromium, server: str, city: Engine) -> None:
    """The phone's connection drops after the server stored a note, before its answer arrived, twice (the page's own
    retry too): the page says so in Vietnamese (it said «Failed to fetch») and keeps the note on the phone to send
    (test_team_offline.py); sent again («Gửi ngay»), with the same key, the server answers with the first note, and
    the history holds it once."""
    team_user, task_id = team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, PHONE)
    sent: list[str | None] = []
    page.route(f"**/api/tasks/{task_id}/comments", answers_lost(sent, lost=2))
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    task.locator("form.progress summary").click()
    note = "Đã tuần tra khu vực bến xe, lần mất sóng"
    task.locator("form.progress textarea[name=note]").fill(note)
    task.locator("form.progress button[type=submit]").click()
    page.wait_for_selector(f"#message.warning >> text=Không kết nối được máy chủ: nhiệm vụ #{task_id}, ghi chú tiến độ")
    assert len(sent) == 2  # the page's own retry
    page.click("#queue-bar button")
    wait_message(page, "Đã gửi 1 thay đổi chờ gửi")
    assert len(sent) == 3 and sent[0] and sent.count(sent[0]) == 3
    with city.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM task_events WHERE task_id = :t AND note = :n"), {"t": task_id, "n": note}
        ).scalar_one()
    assert stored == 1
    assert [e for e in errors if "ERR_CONNECTION_RESET" not in e] == []
    page.close()


def test_a_progress_note_naming_a_person_is_refused_and_kept_to_rephrase(chromium, server: str, city: Engine) -> None:
    """A team's progress note naming an officer is refused: the page says why in Vietnamese (write the role or the
    team), the text stays in the field to rephrase, nothing is stored; the rephrased note is sent."""
    team_user, task_id = team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, PHONE)
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    task.locator("form.progress summary").click()
    field = task.locator("form.progress textarea[name=note]")
    named = "Đồng chí Nguyễn Văn An đã xác minh quán nước đầu phố Trần Phú"
    field.fill(named)
    task.locator("form.progress button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=Ghi chú có vẻ chứa tên người")
    assert "«tổ 05», «trưởng công an xã»" in page.locator("#message").inner_text()
    assert field.input_value() == named
    shot(page, "team-note-with-a-name")
    rephrased = named.replace("Đồng chí Nguyễn Văn An", "Tổ 05")
    field.fill(rephrased)
    task.locator("form.progress button[type=submit]").click()
    wait_message(page, f"Đã gửi ghi chú cho nhiệm vụ #{task_id}")
    with city.connect() as conn:
        stored = conn.execute(
            text("SELECT note FROM task_events WHERE task_id = :t AND note IN (:a, :b)"),
            {"t": task_id, "a": named, "b": rephrased},
        ).scalars()
        assert list(stored) == [rephrased]
    assert unexpected(errors, 422) == []
    page.close()


def test_a_team_whose_list_is_out_of_date_sees_its_tasks_as_they_are_now(chromium, server: str, city: Engine) -> None:
    """The answer to «Thực hiện» is lost (the task did start): the page's own retry carries the first try's
    Idempotency-Key and is answered with the first move (it got 412 and a red «hãy tải lại», and the team, told
    «Không kết nối được», tapped again). Command gives a task to another team meanwhile: the page used to keep the old
    buttons with «không tìm thấy»; it draws the tasks as they are now, and keeps a note typed in another task."""
    with city.connect() as conn:
        team_user, first, second = conn.execute(
            text("""SELECT u.username, min(t.id), max(t.id) FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state = 'assigned' AND u.role = 'team' GROUP BY u.username HAVING count(*) >= 2
                    ORDER BY u.username LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, team_user, PHONE)
    keys: list[str | None] = []
    page.route(f"**/api/tasks/{first}/transitions", answers_lost(keys))
    typed = "Đang ghi dở: đối tượng đã bỏ đi"
    page.locator(f"article.task[data-task-id='{second}'] .actions textarea").fill(typed)
    started = page.locator(f"article.task[data-task-id='{first}'] button[data-to=in_progress]")
    started.click()
    wait_message(page, f"Nhiệm vụ #{first}: Đang thực hiện")
    page.wait_for_selector(f"article.task[data-task-id='{first}'] button[data-to=paused]")  # the list drawn again
    assert len(keys) == 2 and keys[0] and keys[1] == keys[0]
    assert page.locator(f"article.task[data-task-id='{first}'] b.state").inner_text() == "Đang thực hiện"
    assert page.locator(f"article.task[data-task-id='{second}'] .actions textarea").input_value() == typed
    with city.connect() as conn:
        started_once = conn.execute(
            text("SELECT count(*) FROM task_events WHERE task_id = :t AND to_state = 'in_progress'"), {"t": first}
        ).scalar_one()
    assert started_once == 1
    with city.begin() as conn:
        team_id = conn.execute(text("SELECT team_id FROM tasks WHERE id = :t"), {"t": second}).scalar_one()
        other = conn.execute(text("SELECT min(id) FROM teams WHERE id <> :t"), {"t": team_id}).scalar_one()
        assign_task(conn, second, other, 2, principal_by_username(conn, "chihuy"))
    page.locator(f"article.task[data-task-id='{second}'] button[data-to=in_progress]").click()
    page.wait_for_selector(f"#message.error >> text=không tìm thấy nhiệm vụ #{second}")
    assert page.locator(f"article.task[data-task-id='{second}']").count() == 0
    assert page.locator("#notices li", has_text=f"Nhiệm vụ #{second} đã được giao cho tổ khác").is_visible()
    shot(page, "team-phone-out-of-date")
    assert unexpected([e for e in errors if "ERR_CONNECTION_RESET" not in e], 404) == []
    page.close()


def test_a_photo_on_a_weak_network_is_sent_once_with_its_progress_shown(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """A phone camera's photo over DIABAN_PHOTO_MAX_MB is refused at once, in Vietnamese, before minutes of upload (it
    was sent whole, then refused). While a photo goes up, «Gửi ghi chú» is disabled and says so (the file picker was
    disabled instead: a second tap sent it again); another task's change meanwhile leaves the form as it is; once
    sent, it is drawn again ready for the next note."""
    team_user, task_id = team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    form = page.locator(f"article.task[data-task-id='{task_id}'] form.progress")
    form.locator("summary").click()
    huge = tmp_path / "camera.jpg"
    huge.write_bytes(b"\xff\xd8\xff" + bytes(9 * 2**20))
    form.locator("input[name=photo]").set_input_files(str(huge))
    uploads: list = []
    page.on("request", lambda r: uploads.append(r) if r.url.endswith("/photos") else None)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=Ảnh quá lớn: 9 MB, tối đa 8 MB")
    assert uploads == []

    held: list = []
    page.route(f"**/api/tasks/{task_id}/photos", lambda route: held.append(route))  # on its way until let go
    form.locator("textarea[name=note]").fill("Ảnh lán trại")
    form.locator("input[name=photo]").set_input_files(str(gps_photo(tmp_path / "lan-trai.jpg")))
    send = form.locator("button[type=submit]")
    send.click()
    page.wait_for_function("() => document.querySelector('form.progress button[type=submit]')?.disabled")
    assert send.inner_text().startswith("Đang gửi")
    form.locator("textarea[name=note]").scroll_into_view_if_needed()
    shot(page, "team-phone-photo-sending")
    page.evaluate("() => document.getElementById('reload-tasks').click()")  # the list drawn again meanwhile
    page.wait_for_function("() => !document.getElementById('reload-tasks').disabled")
    assert send.is_disabled() and form.locator("input[name=photo]").evaluate("i => i.files.length") == 1
    while not held:  # the held request reaches the test's thread
        page.wait_for_timeout(50)
    held[0].continue_()
    wait_message(page, f"Đã gửi ghi chú kèm ảnh cho nhiệm vụ #{task_id}")
    assert not send.is_disabled() and send.text_content() == "Gửi ghi chú"
    with city.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM task_events WHERE task_id = :t AND note = 'Ảnh lán trại'"), {"t": task_id}
        ).scalar_one()
    assert stored == 1 and errors == []
    page.close()


def test_a_list_the_network_cannot_load_says_so_and_loads_again(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """Out of reach when the page opens, the list said «Đang tải…» for ever (a reload offline shows only the browser's
    error page): it says it could not load, and «Tải lại danh sách» loads it. A photo stored whose list cannot be
    loaded after is told as stored and its form emptied (it was told «Không kết nối được … hãy thử lại» with the photo
    still chosen: sent again, it was stored twice)."""
    team_user, task_id = team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    page.route("**/api/tasks/mine*", lambda route: route.abort("internetdisconnected"))
    page.reload()
    page.wait_for_selector("#tasks >> text=Chưa tải được danh sách nhiệm vụ")
    assert "mạng yếu hoặc mất sóng" in page.locator("#message.error").inner_text()
    shot(page, "team-phone-list-not-loaded")
    page.unroute("**/api/tasks/mine*")
    page.click("#reload-tasks")
    page.wait_for_selector("body[data-ready=true]")
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    task.locator("form.progress summary").click()
    task.locator("form.progress textarea[name=note]").fill("Đã nắm tình hình, mất sóng sau khi gửi")
    task.locator("form.progress input[name=photo]").set_input_files(str(gps_photo(tmp_path / "tinh-hinh.jpg")))
    page.route("**/api/tasks/mine*", lambda route: route.abort("internetdisconnected"))
    task.locator("form.progress button[type=submit]").click()
    # A success with a warning, in amber (it was red, like a failure: the team sent it again)
    page.wait_for_selector(f"#message.warning >> text=Đã gửi ghi chú kèm ảnh cho nhiệm vụ #{task_id}")
    told = page.locator("#message").inner_text()
    assert "đã lưu, không cần gửi lại" in told and "bấm «Tải lại danh sách» để xem" in told, told
    assert page.locator("#message").evaluate("m => getComputedStyle(m).borderLeftColor") == "rgb(217, 119, 6)"
    assert task.locator("form.progress input[name=photo]").evaluate("i => i.files.length") == 0
    assert task.locator("form.progress textarea[name=note]").input_value() == ""
    shot(page, "team-phone-stored-list-not-loaded")
    page.unroute("**/api/tasks/mine*")
    page.click("#message button.retry")  # the list, as it is now
    wait_message(page, f"Đã gửi ghi chú kèm ảnh cho nhiệm vụ #{task_id}")
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
    page.close()


def test_planner_overrides_and_a_second_planner_approves(chromium, server: str, city: Engine) -> None:
    page, errors = open_as(chromium, server, "thammuu", DESKTOP)
    confirming(page, True, every=True)
    page.select_option("#year", "2026")
    page.wait_for_selector("#run-status >> text=Bản nháp phiên bản 1")
    assert page.locator("#communes > tr:not(.detail)").count() == 114, (page.locator("#message").inner_text(), errors)
    # No indicator table was imported for the city: every commune's figures are unknown, and the page says so.
    assert page.locator("#communes tr .missing-data").count() == 114
    assert page.locator("#communes tr .missing-data").first.inner_text().startswith("thiếu dữ liệu: loại I (a)")
    # The next-year forecast beside the class (the API's alone before): each row's figure as the review gives it, a
    # commune without one said so (never 0 %), the flagged ones marked, most likely first once sorted, and what the
    # forecast is said above the table — a forecast, not a class.
    review = page.evaluate("() => fetch('/api/classifications/2026/review?draft=true').then((r) => r.json())")
    risk = {i["commune_code"]: i["risk_next_year"] for i in review["items"]}
    leaving = {i["commune_code"] for i in review["items"] if i["leaving_drug_free"]}
    assert [v for v in risk.values() if v is not None], "the city's draft has a forecast to show"
    cells = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#communes > tr[data-code]')]
        .map((tr) => [tr.dataset.code, tr.querySelector('td.forecast').innerText]))""")
    for code, shown in cells.items():
        if risk[code] is None:
            assert shown == "chưa có dự báo", (code, shown)
        elif risk[code] > 0.99:  # an estimate, never «100%»
            assert shown.startswith("> 99%"), (code, shown, risk[code])
        elif risk[code] < 0.01:
            assert shown.startswith("< 1%"), (code, shown, risk[code])
        else:
            assert abs(int(shown.split("%")[0]) - risk[code] * 100) <= 0.5 + 1e-9, (code, shown, risk[code])
            assert ("nguy cơ mất trạng thái không ma túy" in shown) == (code in leaving), (code, shown)
    summary = page.locator("#forecast summary").inner_text()
    assert "không phải kết quả phân loại" in summary and "năm 2027: " in summary, summary
    assert f"{len(leaving)} xã có nguy cơ mất trạng thái không ma túy" in summary, summary
    page.click("#forecast summary")
    assert "không phải loại theo QĐ 28/2025" in page.locator("#forecast p").inner_text()
    page.click("#review-table th[data-sort=forecast]")
    # Most likely first, and the heading says so: ▼, «descending» (it said ▲ «ascending» over 99 % down to 1 %).
    heading = page.locator("#review-table th[data-sort=forecast]")
    assert heading.get_attribute("aria-sort") == "descending"
    assert heading.evaluate("th => getComputedStyle(th, '::after').content") == '" ▼"'
    order = page.evaluate(
        "() => [...document.querySelectorAll('#communes > tr[data-code]')].map((tr) => tr.dataset.code)"
    )
    shown_risks = [risk[code] for code in order]
    known = [r for r in shown_risks if r is not None]
    assert shown_risks[: len(known)] == known and known == sorted(known, reverse=True), "most likely first, none last"
    page.check("#only-leaving")  # the communes the forecast flags, alone
    assert {tr.get_attribute("data-code") for tr in page.locator("#communes > tr[data-code]").all()} == leaving
    page.uncheck("#only-leaving")
    page.set_viewport_size({"width": 1366, "height": 900})
    shot(page, "planner-forecast")
    page.set_viewport_size(PHONE)
    page.locator("#communes > tr[data-code]").first.scroll_into_view_if_needed()
    shot(page, "planner-forecast-phone")
    page.set_viewport_size(DESKTOP)
    page.click("#forecast summary")
    draft_id = "SELECT id FROM classification_runs WHERE year = 2026 AND status = 'draft'"
    with city.connect() as conn:
        before = conn.execute(text(draft_id)).scalar_one()
    page.fill("#run-year", "2026")
    page.click("#run-form button[type=submit]")  # re-run: the existing draft is replaced once confirmed
    wait_message(page, "Năm 2026: bản nháp phiên bản 2 đã tạo")  # version 1, replaced, keeps its number in the history
    with city.connect() as conn:
        assert conn.execute(text(draft_id)).scalar_one() != before

    in_order = """order => { const names = [...document.querySelectorAll('#communes > tr:not(.detail) td:first-child')]
        .map(td => td.textContent); return names.every((n, i) => i === 0 || order * names[i - 1].localeCompare(n, 'vi') <= 0); }"""
    page.click("#review-table th[data-sort=name]")
    assert page.evaluate(in_order, 1)  # Vietnamese alphabetical order (Đ after D)
    page.click("#review-table th[data-sort=name]")
    assert page.evaluate(in_order, -1)
    page.fill("#commune-filter", "Hải Dương")
    assert page.locator("#communes > tr:not(.detail)").count() == 1
    page.click("#communes tr[data-code]")
    card = page.locator("#communes .card")
    choice = card.locator("select[name=choice]")
    assert choice.input_value() == ""  # no class chosen in advance
    # Each criterion's line starts with its own mark (✓ met, · not): no list bullet beside it.
    assert card.locator("ul.criteria").evaluate("u => getComputedStyle(u).listStyleType") == "none"
    # Each says what it asks before the commune's figure: «Loại I (a): 0,718 % ≥ 0,5 %» did not say of what.
    first = card.locator("ul.criteria li").first.text_content() or ""  # folded: text, not rendered text
    assert first.startswith("· Loại I (a) Tỷ lệ người nghiện") or first.startswith("✓ Loại I (a) Tỷ lệ người nghiện"), (
        first
    )
    # A yes/no criterion says what it asks once: «(đ) Nằm trên tuyến …: nằm trên tuyến …: có» repeated it.
    line = card.locator("ul.criteria li", has_text="Loại II (đ)")
    route, asks = line.text_content() or "", line.locator(".asks").text_content() or ""
    assert asks == "Nằm trên tuyến trọng điểm phức tạp về ma túy" and route.lower().count(asks.lower()) == 1, route
    assert route.endswith((": có", ": không", ": không rõ", "(cần có)")), route
    card.locator("button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=Hãy chọn loại mới")
    # The commune's class now is listed, marked, and not offered: an override to it would change nothing.
    current = choice.locator("option[disabled]")
    assert current.count() == 1 and current.inner_text().endswith("(hiện tại)")
    choice.select_option(index=3)  # trọng điểm III: the demo's Hải Dương is «có tệ nạn ma túy» in the 2026 draft
    card.locator("button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=Phải nêu lý do")
    card.locator("input[name=reason]").fill("Tin báo mới của công an xã chưa có trong số liệu")
    page.click("#review-table th[data-sort=final]")  # the table drawn again keeps what was chosen and typed
    card.locator("button[type=submit]").click()
    wait_message(page, "Đã điều chỉnh")
    assert "(điều chỉnh)" in page.locator("#communes tr.open").inner_text()
    # Overridden, its class is offered to correct the reason; a reason of one word is refused, saying why.
    offered = choice.locator("option", has_text="(hiện tại — sửa lý do)")
    assert offered.count() == 1 and offered.get_attribute("disabled") is None
    choice.select_option(offered.get_attribute("value"))
    card.locator("input[name=reason]").fill("ok")
    card.locator("button[type=submit]").click()
    page.locator("#message.error").filter(has_text="chưa nêu căn cứ").wait_for()
    card.locator("input[name=reason]").fill("Tin báo của công an xã ngày 02/11, chưa có trong số liệu")
    card.locator("button[type=submit]").click()
    wait_message(page, "Đã sửa lý do điều chỉnh của")
    assert "Tin báo của công an xã ngày 02/11" in card.inner_text()
    assert "điều chỉnh lần cuối: thammuu" in page.locator("#run-status").inner_text()
    assert "mật khẩu người điều chỉnh" not in page.locator("#run-status").inner_text()  # nobody gave thammuu theirs
    # A third planner overrides another commune after thammuu: thammuu's own override still stands in the draft, and
    # thammuu is still not offered the approval (the last overrider alone was barred: thammuu could then approve).
    # Their account an administrator has just made, with a password to change: whoever held it could have overridden
    # as them, and the year's line says so beside their name.
    with city.begin() as conn:
        create_user(conn, "quantri", "thammuu3", "-", "planner", None)
        other = conn.execute(
            text("""SELECT commune_code FROM classification_results r JOIN classification_runs c ON c.id = r.run_id
                    WHERE c.year = 2026 AND c.status = 'draft' AND r.method <> 'override'
                    ORDER BY commune_code LIMIT 1""")
        ).scalar_one()
        override(conn, 2026, other, "trong_diem", "III", "Báo cáo của công an xã", actor="thammuu3")
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    page.select_option("#year", "2026")
    page.wait_for_selector("#run-status >> text=Bản nháp phiên bản 2")
    page.wait_for_selector("#run-status >> text=điều chỉnh lần cuối: thammuu3")
    assert (
        "nguyên tắc bốn mắt: người chạy và người đã điều chỉnh — thammuu, thammuu3 — không được tự phê duyệt"
        in page.inner_text("#run-status")
    )
    day = local_today().strftime("%d/%m/%Y")
    assert f"(mật khẩu người điều chỉnh do quản trị viên quantri cấp ngày {day})" in page.inner_text("#run-status")

    page.fill("#commune-filter", "")
    page.dispatch_event("#commune-filter", "input")
    code = page.evaluate("""() => { const rows = document.querySelectorAll('#communes tr[data-code]');
        return rows[rows.length - 1].dataset.code; }""")
    click_commune(page, code)  # the map opens the commune's row in the table
    page.wait_for_selector(f"#communes tr.open[data-code='{code}']")
    shot(page, "planner-table-map")

    # Four eyes: the planner who ran the draft and overrode in it is not offered the approval (the server refuses it too).
    assert page.locator("#approve").is_disabled()
    assert page.get_attribute("#approve", "title") == (
        "Bạn đã chạy phân loại tạo bản nháp này và đã điều chỉnh kết quả trong bản nháp: cần một cán bộ tham mưu khác"
        " phê duyệt"
    )
    status, message = page.evaluate("""async () => {
        const csrf = document.cookie.match(/(?:^|; )diaban_csrf=([^;]+)/)[1];
        const r = await fetch('/api/classifications/2026/approve', { method: 'POST', headers: { 'X-CSRF-Token': csrf } });
        return [r.status, (await r.json()).message]; }""")
    assert status == 403 and message.startswith("Nguyên tắc bốn mắt"), message
    page.locator("#approve").scroll_into_view_if_needed()
    shot(page, "planner-four-eyes-refused")
    kpi = page.get_attribute("#download-kpi", "href")
    assert kpi == "/api/reports/kpi.xlsx?year=2026&version=2"  # the version the page shows
    workbook = page.request.get(f"{server}{kpi}")
    assert workbook.ok and workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert page.locator("#diff-table tr").count() == 5
    # the draft existed (409), the same planner was refused (403), a reason of one word (422)
    assert unexpected(errors, 403, 409, 422) == []
    page.close()

    second, errors = open_as(chromium, server, "thammuu2", DESKTOP)
    confirming(second, True, every=True)
    second.select_option("#year", "2026")
    second.wait_for_selector("#run-status >> text=Bản nháp phiên bản 2")
    second.click("#approve")
    second.wait_for_selector("#run-status >> text=Đã phê duyệt phiên bản 2", timeout=15_000)
    text_shown = second.locator("#run-status").inner_text()
    assert "người duyệt thammuu2" in text_shown and "điều chỉnh lần cuối: thammuu3," in text_shown
    assert "người chạy thammuu," in text_shown  # the two pairs of eyes, both named on the year's line
    assert second.locator("#communes form.override").count() == 0
    shot(second, "planner-approved")
    with city.connect() as conn:
        run = conn.execute(
            text(
                "SELECT status, approved_by, last_override_by, last_override_at < approved_at FROM classification_runs"
                " WHERE year = 2026 AND version = 2"
            )
        ).one()
    assert tuple(run) == ("approved", "thammuu2", "thammuu3", True)
    assert errors == []
    second.close()


def test_planner_discards_a_correction_started_by_mistake(
    chromium, server: str, city: Engine, cluster: ManagedCluster
) -> None:
    """The planner runs an approved year again by mistake: «Bỏ bản nháp» (offered on a draft alone) asks first, naming
    the version and what follows, then removes the correction, and the page shows the approved version 1 again,
    nothing left to discard — before, the correction could only be replaced or approved. The year's «Lịch sử phiên
    bản» still shows the discarded correction (it was deleted without a trace)."""
    page, errors = open_as(chromium, server, "thammuu")
    questions = confirming(page, True, every=True)
    page.select_option("#year", "2025")
    page.wait_for_selector("#run-status >> text=Đã phê duyệt phiên bản 1")
    assert page.locator("#discard").is_hidden()
    page.fill("#run-year", "2025")
    page.click("#run-form button[type=submit]")
    try:
        wait_message(page, "Năm 2025: bản hiệu chỉnh phiên bản 2 đã tạo")
        # Run again while that draft stands: asked first, the server's reason as a sentence (it began in lower case);
        # the new draft is version 3, version 2 keeping its number in the history.
        page.click("#run-form button[type=submit]")
        wait_message(page, "Năm 2025: bản hiệu chỉnh phiên bản 3 đã tạo")
        assert questions[-1].startswith("Năm 2025 đã có bản nháp phiên bản 2; duyệt hoặc thay thế nó"), questions
        shot(page, "planner-correction-to-discard")
        page.click("#discard")
        wait_message(page, "Đã bỏ bản nháp phiên bản 3 năm 2025")
        assert questions[-1] == "Bỏ bản nháp phiên bản 3 năm 2025? Kết quả của năm trở lại bản đã phê duyệt."
        page.wait_for_selector("#run-status >> text=Đã phê duyệt phiên bản 1")
        assert page.locator("#discard").is_hidden() and page.locator("#approve").is_disabled()
        shot(page, "planner-discarded-correction")
        with city.connect() as conn:
            runs = conn.execute(text("SELECT version, status FROM classification_runs WHERE year = 2025")).all()
        assert [tuple(r) for r in runs] == [(1, "approved")]
        # The discarded correction is not gone: «Lịch sử phiên bản» names it, who ran and discarded it, in Vietnamese.
        page.click("#history summary")
        discarded = page.locator("#history-list > li[data-status=discarded]").first
        discarded.wait_for()
        line = discarded.inner_text()
        assert re.match(
            r"Phiên bản 3 \(lần chạy #\d+, hiệu chỉnh kết quả đã phê duyệt\) — Đã bỏ: chạy bởi thammuu,", line
        ), line
        assert "bỏ bởi thammuu," in line and "discarded" not in line, line
        replaced = page.locator("#history-list > li[data-status=replaced]").inner_text()
        assert re.match(r"Phiên bản 2 \(lần chạy #\d+, hiệu chỉnh kết quả đã phê duyệt\) — ", replaced), replaced
        approved = page.locator("#history-list > li[data-status=approved]").inner_text()
        assert re.match(r"Phiên bản 1 \(lần chạy #\d+\) — Đã phê duyệt, đang áp dụng: chạy bởi", approved), approved
        shot(page, "planner-history-of-versions")
        assert unexpected(errors, 409) == []  # the refused run while the draft stood
    finally:  # the other tests read 2025 as approved version 1 alone, its next draft version 2: the owner lifts the
        # trail's append-only trigger to remove the ended drafts (a draft is not frozen)
        owner = create_engine(cluster.owner_url("browser_city"))
        with owner.begin() as conn:
            conn.execute(text("DELETE FROM classification_runs WHERE year = 2025 AND status = 'draft'"))
            conn.execute(text("ALTER TABLE classification_trail DISABLE TRIGGER classification_trail_append_only"))
            conn.execute(text("DELETE FROM classification_trail WHERE year = 2025"))
            conn.execute(text("ALTER TABLE classification_trail ENABLE TRIGGER classification_trail_append_only"))
        owner.dispose()


def test_planner_is_told_a_draft_predates_the_years_indicators_and_is_offered_no_approval(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """thammuu runs a correction of 2025, then loads a corrected 2025 indicator table; thammuu2, who could approve it
    (four eyes), reads in the status line that the year's figures were loaded again after the run (file, who) and is
    offered no approval, the button saying why. Before, nothing told the stale draft apart and it was approved."""
    from gis.services.classification import draft_year
    from gis.services.indicator_import import import_indicators

    table = tmp_path / "chi-so-2025-sua.csv"
    table.write_text(
        "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route\n"
        "2025,10507,30000,200,0,0,1\n",
        encoding="utf-8",
    )
    try:
        with city.begin() as conn:
            draft_year(conn, 2025, actor="thammuu")
            import_indicators(conn, table, imported_by="thammuu")
        page, errors = open_as(chromium, server, "thammuu2")
        page.select_option("#year", "2025")
        status = page.locator("#run-status")
        status.locator("text=cần chạy lại phân loại trước khi phê duyệt").wait_for()
        assert "Bản nháp phiên bản 2" in status.inner_text()
        assert (
            "chỉ số năm 2025 đã được nhập lại sau khi chạy (tệp «chi-so-2025-sua.csv», thammuu," in status.inner_text()
        )
        assert page.locator("#approve").is_disabled()
        assert page.locator("#approve").get_attribute("title") == (
            "Chỉ số năm 2025 đã được nhập lại sau khi chạy: cần chạy lại phân loại trước khi phê duyệt"
        )
        shot(page, "planner-draft-older-than-its-indicators")
        assert errors == [], errors
        page.close()
    finally:  # the other tests read 2025 as approved version 1 alone, and the city without indicators
        with city.begin() as conn:
            conn.execute(text("DELETE FROM classification_runs WHERE year = 2025 AND status = 'draft'"))
            conn.execute(text("DELETE FROM commune_indicators WHERE year = 2025 AND commune_code = '10507'"))


def test_planner_works_on_a_correction_of_an_approved_year(
    chromium, server: str, city: Engine, cluster: ManagedCluster
) -> None:
    """On a phone, the planner runs an approved year again: the page shows the correction draft (version 2) that the
    run made, with its override forms, and its downloads hold that version — it showed the approved version 1 with no
    way to review, override or approve the correction. Four eyes: the approval is not offered to who ran it, and the
    page says who approves; a second planner's page offers it. A third planner overrides a commune meanwhile: the
    second planner's approval of the draft as shown is refused, and the page shows the draft as it is now. A fourth
    approves it: an override from the card still open is refused, and the page shows the approved year (it kept the
    draft, its forms and its approval button)."""
    page, errors = open_as(chromium, server, "thammuu", PHONE)
    confirming(page, True, every=True)
    page.select_option("#year", "2025")
    page.wait_for_selector("#run-status >> text=Đã phê duyệt phiên bản 1")
    # No approved 2024 to compare with: no change is drawn red as a worsening (the "—" of key and problem rows were).
    assert page.locator("#diff-summary").inner_text() == "Năm 2024 chưa có kết quả phân loại đã phê duyệt để so sánh."
    assert page.locator("#diff-table td.late").count() == 0
    page.fill("#run-year", "2025")
    page.click("#run-form button[type=submit]")
    try:
        wait_message(page, "Năm 2025: bản hiệu chỉnh phiên bản 2 đã tạo")
        status = page.locator("#run-status").inner_text()
        assert status.startswith("Bản nháp phiên bản 2") and "hiệu chỉnh kết quả đã phê duyệt" in status, status
        assert "nguyên tắc bốn mắt: người chạy — thammuu — không được tự phê duyệt" in status, status
        assert page.locator("#approve").is_disabled()
        assert page.get_attribute("#approve", "title") == (
            "Bạn đã chạy phân loại tạo bản nháp này: cần một cán bộ tham mưu khác phê duyệt"
        )
        page.locator("#communes tr[data-code]").first.click()
        assert page.locator("#communes .card form.override").count() == 1
        csv_href = page.get_attribute("#download-csv", "href")
        assert csv_href == "/api/classifications/2025/export?format=csv&version=2"
        assert "phan-loai-2025-v2-ban-nhap" in page.request.get(f"{server}{csv_href}").headers["content-disposition"]
        page.locator("#run-status").scroll_into_view_if_needed()
        shot(page, "planner-phone-correction")
        assert unexpected(errors) == []
        page.close()

        page, errors = open_as(chromium, server, "thammuu2", PHONE)
        confirming(page, True, every=True)
        page.select_option("#year", "2025")
        page.wait_for_selector("#run-status >> text=Bản nháp phiên bản 2")
        assert page.locator("#approve").is_enabled() and not page.get_attribute("#approve", "title")
        with city.begin() as conn:
            code = conn.execute(text("SELECT min(code) FROM admin_units WHERE valid_to IS NULL")).scalar_one()
            override(conn, 2025, code, "trong_diem", "III", "Tin báo mới của công an xã", actor="thammuu3")
        page.click("#approve")
        page.wait_for_selector("#message.error >> text=đã có điều chỉnh khác")
        page.wait_for_selector("#run-status >> text=điều chỉnh lần cuối: thammuu3")
        assert page.locator("#message").inner_text().startswith("Bản nháp phân loại năm 2025 đã có điều chỉnh khác")
        shot(page, "planner-phone-approval-of-a-changed-draft")
        with city.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM classification_runs WHERE year = 2025")).scalar_one() == 2

        page.locator("#communes tr[data-code]").nth(1).click()
        card = page.locator("#communes .card")
        card.locator("select[name=choice]").select_option(index=3)
        card.locator("input[name=reason]").fill("Tin báo mới của công an xã chưa có trong số liệu")
        with city.begin() as conn:
            approve(conn, 2025, actor="thammuu4")  # thammuu ran it, thammuu3 overrode, thammuu2's page still shows it
        card.locator("button[type=submit]").click()
        page.wait_for_selector("#message.error >> text=đã được phê duyệt, không thể thay đổi")
        page.wait_for_selector("#run-status >> text=Đã phê duyệt phiên bản 2")
        assert page.locator("#communes form.override").count() == 0 and page.locator("#approve").is_disabled()
        shot(page, "planner-phone-override-of-an-approved-year")
        assert unexpected(errors, 409, 412) == []
    finally:  # the other tests read 2025 as approved version 1 alone: the owner lifts the freeze to remove the rest
        owner = create_engine(cluster.owner_url("browser_city"))
        with owner.begin() as conn:
            conn.execute(text("ALTER TABLE classification_runs DISABLE TRIGGER classification_runs_frozen"))
            conn.execute(text("ALTER TABLE classification_results DISABLE TRIGGER classification_results_frozen"))
            conn.execute(text("DELETE FROM classification_runs WHERE year = 2025 AND version > 1"))
            conn.execute(text("ALTER TABLE classification_runs ENABLE TRIGGER classification_runs_frozen"))
            conn.execute(text("ALTER TABLE classification_results ENABLE TRIGGER classification_results_frozen"))
        owner.dispose()
    page.close()


def test_planner_compares_with_the_previous_year_like_with_like(chromium, server: str) -> None:
    """Three communes have no result the year before (new units): the table of classes counts, both years, only the
    communes classified in both, so that each change is the difference of its row — this year counted all 114 against
    111 the year before, a rise that was none."""
    page, errors = open_as(chromium, server, "thammuu", DESKTOP)

    def three_new(route) -> None:
        review = route.fetch().json()
        for item in review["items"][:3]:
            item["previous_category"] = item["previous_level"] = None
        route.fulfill(json=review)

    page.route("**/api/classifications/2026/review?*", three_new)
    page.select_option("#year", "2025")  # 2026, shown first, is read again
    page.wait_for_selector("#diff-summary >> text=Năm 2024 chưa có")
    page.select_option("#year", "2026")
    page.wait_for_selector("#diff-summary >> text=So với năm 2025")
    rows = page.locator("#diff-table tr").evaluate_all(
        "trs => trs.map(tr => [...tr.cells].slice(1).map(td => Number(td.textContent.replace(/[.+]/g, ''))))"
    )
    assert sum(was for was, _, _ in rows) == sum(now for _, now, _ in rows) == 111, rows
    assert all(delta == now - was for was, now, delta in rows), rows
    assert page.locator("#diff-summary").inner_text().endswith("3 xã chưa có kết quả năm trước, không tính trong bảng.")
    page.locator("#diff").scroll_into_view_if_needed()
    shot(page, "planner-compare-like-with-like")
    assert errors == []
    page.close()


def test_planner_reads_fewer_drug_free_communes_as_a_worsening(chromium, server: str) -> None:
    """Red marks a worsening in the table of classes against the previous year: a rise of a class with drug problems
    was red, while a fall of the drug-free communes (37 → 35) stayed plain beside it. Two communes drug-free the year
    before and not now: their class's fall is red, as their new class's rise is."""
    page, errors = open_as(chromium, server, "thammuu", DESKTOP)

    def two_fall(route) -> None:  # every commune as the year before, but two that were drug-free
        review = route.fetch().json()
        for item in review["items"]:
            item["previous_category"], item["previous_level"] = item["category"], item["level"]
        for item in [i for i in review["items"] if i["category"] != "drug_free"][:2]:
            item["previous_category"], item["previous_level"] = "drug_free", None
        route.fulfill(json=review)

    page.route("**/api/classifications/2026/review?*", two_fall)
    page.select_option("#year", "2025")  # 2026, shown first, is read again
    page.wait_for_selector("#diff-summary >> text=Năm 2024 chưa có")
    page.select_option("#year", "2026")
    page.wait_for_selector("#diff-summary >> text=So với năm 2025")
    rows = page.locator("#diff-table tr").evaluate_all(
        "trs => trs.map(tr => [tr.cells[0].textContent.trim(), tr.cells[3].textContent, tr.cells[3].className])"
    )
    drug_free = [row for row in rows if row[0] == "Không ma túy"]
    assert drug_free == [["Không ma túy", "-2", "late"]], rows
    assert all(cls == "late" for _, delta, cls in rows if delta.startswith("+")), rows
    page.locator("#diff").scroll_into_view_if_needed()
    shot(page, "planner-compare-drug-free-fall")
    assert errors == []
    page.close()


def test_planner_downloads_the_communes_shapes_once_and_paints_their_classes(chromium, server: str) -> None:
    """The planner page drew the communes' lines from /api/communes and the classes from the whole classification with
    the same shapes again (nation-wide: the 3,321 units' shapes twice, megabytes on the Ministry's link): the
    classification comes without them, and each of the 114 communes is painted in its class's colour on the shapes
    the communes layer has."""
    page, errors = open_as(chromium, server, "thammuu", DESKTOP)
    with page.expect_response(lambda r: "/api/classifications/2025?" in r.url) as answer:
        page.select_option("#year", "2025")
    page.wait_for_selector("#run-status >> text=Đã phê duyệt")
    features = answer.value.json()["features"]
    assert len(features) == 114 and not [f for f in features if f["geometry"]]
    painted = page.evaluate(PAINTED, "classes")
    classes = {class_key(f["properties"]["category"], f["properties"]["level"]) for f in features}
    assert len(painted) == 114 and set(painted) == {CLASS_COLOURS[key] for key in classes}, painted
    page.mouse.move(*commune_point(page, features[0]["properties"]["code"]))  # the commune's name and class, as before
    assert page.locator(".leaflet-tooltip").inner_text().count(":") == 1
    assert errors == []
    page.close()


def test_planner_sorts_the_model_column_from_the_most_serious_class(chromium, server: str) -> None:
    """The model names a class without a level ("trọng điểm"): sorted by the model's column, it comes before "có tệ
    nạn ma túy" and "không ma túy", the communes the model left out last."""
    page, errors = open_as(chromium, server, "thammuu", DESKTOP)
    learned = ["drug_free", "trong_diem", "at_risk"]

    def three_learned(route) -> None:
        review = route.fetch().json()
        for i, item in enumerate(review["items"]):
            item["learned_category"] = learned[i] if i < len(learned) else None
        route.fulfill(json=review)

    page.route("**/api/classifications/*/review?*", three_learned)
    page.select_option("#year", "2025")
    page.wait_for_selector("#run-status >> text=Đã phê duyệt")
    page.click("#review-table th[data-sort=model]")
    shown = page.locator("#communes > tr:not(.detail) td:nth-child(3)").all_inner_texts()
    assert shown[:4] == ["Trọng điểm", "Có tệ nạn ma túy", "Không ma túy", "—"], shown[:4]
    assert errors == []
    page.close()


def test_admin_reads_the_chosen_communes_in_vietnamese_order(chromium, server: str, city: Engine) -> None:
    """The names of the communes chosen for an area are listed as a Vietnamese reader orders them (Đ after D)."""
    with city.connect() as conn:
        names = conn.execute(
            text(
                "SELECT code, full_name FROM admin_units WHERE valid_to IS NULL AND full_name LIKE 'Xã %' ORDER BY code"
            )
        ).all()
    first = next((code, n) for code, n in names if n.startswith("Xã Đ"))
    then = next((code, n) for code, n in names if n[3] in "TV")  # after Đ for a reader, before it in code points
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    page.click("nav.tabs button[data-tab=teams]")
    for code, _ in (then, first):
        page.check(f"#commune-list label[data-code='{code}'] input")
    assert page.locator("#area-names").inner_text() == f"{first[1]}, {then[1]}"
    assert errors == []
    page.close()


def test_admin_is_told_when_a_saved_area_cancels_a_planned_change(chromium, server: str) -> None:
    """A team's area changes from a later day; the administrator then saves its area from today: the page says that
    the planned change is cancelled (the server replaces it)."""
    later = local_today() + timedelta(days=30)
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    team_id = page.evaluate(
        """async later => { const team = await api('/api/teams', { method: 'POST',
            body: JSON.stringify({ name: 'Tổ có thay đổi đã định', communes: ['10507'] }) });
        await api(`/api/teams/${team.id}/area`, { method: 'PUT',
            body: JSON.stringify({ communes: ['10525'], valid_from: later }) });
        return team.id; }""",
        later.isoformat(),
    )
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(team_id))
    page.wait_for_selector(f"#team-summary >> text=địa bàn thay đổi từ {later:%d/%m/%Y}")
    page.click("#team-save")
    wait_message(page, f"thay cho thay đổi đã định từ {later:%d/%m/%Y}")
    page.wait_for_function("() => !document.getElementById('team-summary').textContent.includes('địa bàn thay đổi từ')")
    assert errors == []
    page.close()


def test_admin_reads_the_area_history_of_the_team_picked_last(chromium, server: str, city: Engine) -> None:
    """The administrator picks a team, then another before the first one's area history came: the page shows the
    history of the team picked last (the first answer, come last, was drawn under the other team's name)."""
    with city.connect() as conn:
        first, then = conn.execute(text("SELECT DISTINCT team_id FROM team_areas ORDER BY team_id LIMIT 2")).scalars()
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    names = "id => api(`/api/teams/${id}/areas`).then((ps) => ps.map((p) => p.commune_name || p.commune_code))"
    wanted = page.evaluate(names, then)
    assert wanted != page.evaluate(names, first)
    held: list = []
    page.route(f"**/api/teams/{first}/areas", lambda route: held.append(route))  # its answer comes late
    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(first))
    page.select_option("#team-pick", str(then))
    shown = page.locator("#area-history tbody tr td:first-child")
    shown.first.wait_for()
    assert shown.all_inner_texts() == wanted
    while not held:  # the held request reaches the test's thread
        page.wait_for_timeout(50)
    with page.expect_response(f"**/api/teams/{first}/areas") as late:
        held[0].continue_()
    late.value.finished()
    page.evaluate("() => api('/api/teams')")  # a round trip after it: the page has read the late answer
    assert shown.all_inner_texts() == wanted
    assert errors == []
    page.close()


def commune_point(page, code: str) -> tuple[float, float]:
    """The map fitted to a commune; the pixel of the page at a point inside it (its label point, ST_PointOnSurface):
    where the pointer finds it on a canvas, which has no element per commune."""
    return page.evaluate(
        """code => { const map = window.diaban.map;
        const unit = window.diaban.communes.find(f => f.properties.code === code);
        map.fitBounds(L.geoJSON(unit).getBounds(), { animate: false, maxZoom: 13 });
        const p = map.latLngToContainerPoint([unit.properties.label[1], unit.properties.label[0]]);
        const box = map.getContainer().getBoundingClientRect();
        return [box.left + p.x, box.top + p.y]; }""",
        code,
    )


def click_commune(page, code: str) -> None:
    """Click a commune on the map (at the pixel of a point inside it)."""
    page.mouse.click(*commune_point(page, code))


#: The fill colour of each unit drawn in a pane (a canvas holds no element per unit to read it from).
PAINTED = """pane => Object.values(window.diaban.map._layers).filter(l => l.feature && l.options.pane === pane)
  .map(l => l.options.fillColor)"""


def test_admin_creates_a_team_with_an_area_and_its_user_sees_only_that_area(
    chromium, server: str, city: Engine
) -> None:
    with city.connect() as conn:
        communes = dict(
            conn.execute(
                text("""SELECT code, full_name FROM admin_units WHERE valid_to IS NULL
                        AND ST_Contains(geom, ST_Centroid(ST_Envelope(geom))) ORDER BY code LIMIT 2""")
            ).all()
        )
    by_map, by_list = sorted(communes)
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    shot(page, "admin-users")
    page.click("nav.tabs button[data-tab=teams]")
    # All 114 communes are in the list, reached by scrolling down: none pushed into columns off to the side.
    assert page.locator("#commune-list label").count() == 114
    sideways = """l => { const edge = l.getBoundingClientRect().right;
        return [...l.querySelectorAll('label')].filter(x => x.getBoundingClientRect().left >= edge).length; }"""
    assert page.locator("#commune-list").evaluate(sideways) == 0
    assert page.locator("#commune-list").evaluate("l => l.scrollWidth <= l.clientWidth")
    page.fill("#team-form input[name=name]", "Tổ thử nghiệm trình duyệt")
    click_commune(page, by_map)
    page.wait_for_function("() => document.getElementById('area-count').textContent === '1'")
    page.fill("#commune-search", communes[by_list].split(" ", 1)[1])
    page.check(f"#commune-list label[data-code='{by_list}'] input")
    assert page.locator("#area-count").inner_text() == "2"
    shot(page, "admin-team-area")
    page.click("#team-save")
    wait_message(page, "Đã tạo tổ «Tổ thử nghiệm trình duyệt» phụ trách 2 xã/phường")
    page.wait_for_selector("#area-history tbody tr >> nth=1")
    # Both communes are also a demo team's: allowed, and said where the administrator keeps reading.
    for said in (page.locator("#message"), page.locator("#team-summary")):
        assert "Lưu ý: 2 xã/phường cũng thuộc địa bàn tổ khác: " in said.inner_text()
    shot(page, "admin-team-shared")
    assert not page.locator("#team-form input[name=name]").is_visible()  # an existing team: no new name to give

    page.click("nav.tabs button[data-tab=users]")
    page.fill("#new-user input[name=username]", "to-thu-nghiem")
    page.select_option("#new-user select[name=role]", "team")
    page.click("#new-user button[type=submit]")  # no team chosen: said with what to do, nothing sent
    page.locator("#message.error").filter(
        has_text="Người dùng vai trò Tổ công tác phải thuộc một tổ: hãy chọn tổ"
    ).wait_for()
    page.select_option("#new-user select[name=team]", label="Tổ thử nghiệm trình duyệt")
    page.click("#new-user button[type=submit]")
    page.wait_for_selector("#secret code.password")
    first = page.locator("#secret code.password").inner_text()
    assert len(first) == 14
    shot(page, "admin-password-once")
    page.click("#secret button")  # noted: the password disappears from the page
    assert page.locator("#secret code.password").count() == 0
    confirming(page, True, every=True)
    page.click("#user-table tr[data-username=to-thu-nghiem]")
    page.click("#user-table .card[data-username=to-thu-nghiem] button[data-action=password]")
    page.wait_for_selector("#secret code.password")
    password = page.locator("#secret code.password").inner_text()
    assert password != first
    wait_message(page, "Đã cấp lại mật khẩu cho to-thu-nghiem")  # shown before the audit is loaded again
    page.click("nav.tabs button[data-tab=audit]")
    assert "Cấp lại mật khẩu — to-thu-nghiem" in page.locator("#audit").inner_text()
    assert "Tạo người dùng — to-thu-nghiem" in page.locator("#audit").inner_text()
    assert "Tạo tổ công tác — Tổ thử nghiệm trình duyệt" in page.locator("#audit").inner_text()
    shot(page, "admin-audit")
    assert errors == []
    page.close()

    member = chromium.new_page(viewport=PHONE)
    log_in_with_a_given_password(member, server, "to-thu-nghiem", password)  # the given password is changed first
    change_password(member, password, "mat-khau-cua-to")
    member.wait_for_selector("body[data-ready=true]", timeout=30_000)
    assert sorted(member.evaluate("window.diaban.teamCommunes")) == sorted(communes)
    seen = member.evaluate("api('/api/hotspots').then(c => c.features.map(f => f.properties.commune_code))")
    incidents = member.evaluate(
        "api('/api/incidents?limit=1000').then(c => c.features.map(f => f.properties.commune_code))"
    )
    assert set(seen) <= set(communes) and set(incidents) <= set(communes) and incidents
    shot(member, "team-new-member-phone")
    member.close()


@pytest.mark.parametrize("username", ["chihuy", "to01", "thammuu", "quantri"])
def test_each_page_on_a_phone_and_a_desktop(chromium, server: str, username: str) -> None:
    """Every role's page loads without a console error at both sizes; the screenshots are for people to judge."""
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page, errors = open_as(chromium, server, username, viewport)
        page.wait_for_timeout(500)  # tiles and the heat image settle
        shot(page, f"{username}-{name}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{username} on a {name}: the page is {width} px wide"
        # The title whole inside the bar: a 44 px line for the user's name (a link) had pushed it out at the top.
        title, bar = page.evaluate(
            "() => [document.querySelector('header.bar h1'), document.querySelector('header.bar')]"
            ".map((e) => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; })"
        )
        assert bar[0] <= title[0] and title[1] <= bar[1], f"{username} on a {name}: the title at {title}, the bar {bar}"
        assert errors == [], errors
        page.close()


def test_planner_uploads_an_indicator_table_and_sees_its_report(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """The planner loads a yearly indicator table from the page: the summary line, then the refused row with its
    line, column and reason; a second upload of the same file (the desktop one) replaces the year's values."""
    table = tmp_path / "chi-so-2023.csv"
    table.write_text(
        "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route\n"
        "2023,10507,30000,120,0,0,1\n2023,10525,20000,0,0,0,0\n2023,10532,-5,0,0,0,0\n",
        encoding="utf-8",
    )
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page, errors = open_as(chromium, server, "thammuu", viewport)
        page.click("#indicator-import-box summary")
        # The file is picked with a Vietnamese button, not the browser's own «Choose File» / «No file chosen».
        picker = page.locator("#indicator-import button.file-pick")
        assert picker.inner_text() == "Chọn tệp…" and page.locator("#indicator-import .file-chosen").inner_text() == (
            "Chưa chọn tệp"
        )
        assert page.locator("#indicator-import input[name=file]").bounding_box()["width"] <= 1
        with page.expect_file_chooser() as chooser:
            picker.click()
        chooser.value.set_files(str(table))
        assert page.locator("#indicator-import .file-chosen").inner_text() == table.name
        page.click("#indicator-import button[type=submit]")
        wait_message(page, "Chỉ số: đã nhập 2")
        report = page.locator("#indicator-import-report")
        assert report.locator(".import-summary").inner_text() == "Chỉ số: đã nhập 2, bị loại 1"
        cells = report.locator("tbody tr td").all_inner_texts()
        assert cells[:3] == ["4", "10532", "Dân số"] and cells[3], cells
        report.scroll_into_view_if_needed()
        shot(page, f"planner-indicator-import-{name}")
        assert errors == [], errors
        page.close()
    with city.connect() as conn:
        stored = conn.execute(text("SELECT commune_code FROM commune_indicators WHERE year = 2023 ORDER BY 1"))
        assert list(stored.scalars()) == ["10507", "10525"]


#: Markup that would run if a page put it into innerHTML unescaped.
HOSTILE = "<img src=x onerror=window.pwned=1>"


def test_markup_in_names_notes_and_uploads_is_shown_as_text(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """A team's name, command's note to a team and a reassignment's reason (the team's notices, command's task card),
    an uploaded file's name and a refused row's value quoted in its reason (the import report), a sheet's name (the
    refusal): each holding markup, each shown as the text it is and never run. (Runs last: it adds a team.)"""
    with city.begin() as conn:
        team_user, team_id, commune = first_team_user(conn)
        command = principal_by_username(conn, "chihuy")
        hostile_team = create_team(conn, f"Tổ {HOSTILE}", [commune])
        kept, given = (conversion_task(conn, command, commune, year, team_id) for year in (2035, 2036))
        comment_task(conn, kept, f"Ghi chú {HOSTILE}", command, UNRESTRICTED)
        assign_task(conn, given, hostile_team, 2, command, note=f"Lý do {HOSTILE}")

    def shown_as_text(page, selector: str) -> str:
        assert page.evaluate("window.pwned") is None and page.locator(f"{selector} img").count() == 0
        return page.locator(selector).inner_text()

    team_page, errors = open_as(chromium, server, team_user, PHONE)
    notices = shown_as_text(team_page, "#notices")
    assert f"ghi chú mới — «Ghi chú {HOSTILE}»" in notices and f"lý do: «Lý do {HOSTILE}»" in notices
    assert errors == []
    team_page.close()

    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.click("nav.tabs button[data-tab=tasks]")
    page.click(f"#task-table tr[data-task-id='{given}']")
    page.locator(f"#task-table .card[data-task-id='{given}']").wait_for()
    assert f"Tổ {HOSTILE}" in shown_as_text(page, f"#task-table .card[data-task-id='{given}']")
    assert f"Tổ {HOSTILE}" in shown_as_text(page, f"#task-table tr[data-task-id='{given}']")
    upload = tmp_path / f"{HOSTILE}.csv"
    upload.write_text(f"ref,occurred_at,kind,lon,lat\n{HOSTILE},{HOSTILE},possession,106.68,20.86\n", encoding="utf-8")
    page.click("nav.tabs button[data-tab=overview]")
    page.click("#incident-import-box summary")
    page.set_input_files("#incident-import input[name=file]", str(upload))
    page.click("#incident-import button[type=submit]")
    page.wait_for_selector("#incident-import-report tbody tr")
    report = shown_as_text(page, "#incident-import-report")
    assert HOSTILE in report and f"«{HOSTILE}»" in report  # the ref, and the refused time quoted in its reason
    workbook = tmp_path / "bang.xlsx"
    workbook.write_bytes((Path(__file__).resolve().parents[2] / "data/samples/synthetic-incidents.xlsx").read_bytes())
    page.set_input_files("#incident-import input[name=file]", str(workbook))
    page.fill("#incident-import input[name=sheet]", HOSTILE)
    page.click("#incident-import button[type=submit]")
    page.wait_for_selector(f"#incident-import-report .import-failure >> text={HOSTILE}")
    assert (
        HOSTILE in shown_as_text(page, "#incident-import-report") and HOSTILE in page.locator("#message").inner_text()
    )
    assert unexpected(errors, 422) == []
    page.close()


#: The page's request timeouts (common.js TIMEOUTS) shortened, so that a request that never answers is given up within
#: the test (its defaults wait for a weak network).
SHORT_TIMEOUTS = "() => Object.assign(TIMEOUTS, { read: 1500, change: 1500, uploadStalled: 1500, uploadAnswer: 1500 })"
STALLED = "#message.error >> text=Máy chủ chưa trả lời (mạng yếu hoặc mất sóng)"


def test_a_request_that_never_answers_ends_with_a_retry_and_is_stored_once(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """A phone losing signal: the server took the request and never answered. «Tải lại danh sách» said «Đang tải…»,
    a task's buttons stayed disabled and «Đang gửi ảnh…» stayed, for ever. Each is given up after its time, says so
    in Vietnamese, is enabled again and offers «Thử lại», which sends the same Idempotency-Key: the move the server
    stored before its answer was lost, and the note with its photo, are stored once."""
    with city.connect() as conn:
        team_user, task_id = conn.execute(
            text("""SELECT u.username, t.id FROM users u JOIN tasks t ON t.team_id = u.team_id
                    WHERE t.state = 'assigned' AND u.username ~ '^to[0-9]+$' ORDER BY t.id DESC LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, team_user, SMALL_PHONE)
    page.evaluate(SHORT_TIMEOUTS)
    held: list = []  # requests on their way for ever

    page.route("**/api/tasks/mine*", lambda route: held.append(route))
    again = page.locator("#reload-tasks")
    again.click()
    page.wait_for_selector("#message.error >> text=Chưa tải được danh sách nhiệm vụ (máy chủ chưa trả lời")
    assert not again.is_disabled() and again.inner_text() == "Tải lại danh sách"
    shot(page, "team-phone-stalled-list")
    page.unroute("**/api/tasks/mine*")
    page.click("#message button.retry")
    page.wait_for_function("() => !document.getElementById('reload-tasks').disabled")

    keys: list[str | None] = []

    def store_then_stall(route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server stores the move, and its answer never comes
            held.append(route)
        else:
            route.continue_()

    page.route(f"**/api/tasks/{task_id}/transitions", store_then_stall)
    task = page.locator(f"article.task[data-task-id='{task_id}']")
    start = task.locator("button[data-to=in_progress]")
    start.click()
    page.wait_for_selector(STALLED)
    assert "gửi lại không bị lưu hai lần" in page.locator("#message").inner_text()
    assert not start.is_disabled()
    page.click("#message button.retry")
    wait_message(page, f"Nhiệm vụ #{task_id}: Đang thực hiện")
    assert len(keys) == 2 and keys[0] and keys[1] == keys[0]

    photo_keys: list[str | None] = []

    def stall_first(route) -> None:
        photo_keys.append(route.request.headers.get("idempotency-key"))
        if len(photo_keys) == 1:
            held.append(route)
        else:
            route.continue_()

    page.route(f"**/api/tasks/{task_id}/photos", stall_first)
    form = task.locator("form.progress")
    form.locator("summary").click()
    form.locator("textarea[name=note]").fill("Ảnh khu vực, sóng chập chờn")
    form.locator("input[name=photo]").set_input_files(str(gps_photo(tmp_path / "chap-chon.jpg")))
    send = form.locator("button[type=submit]")
    send.click()
    page.wait_for_selector(STALLED)
    assert not send.is_disabled() and send.inner_text() == "Gửi ghi chú"
    assert form.locator("input[name=photo]").evaluate("i => i.files.length") == 1  # nothing lost: ready to send again
    shot(page, "team-phone-stalled-photo")
    page.click("#message button.retry")
    wait_message(page, f"Đã gửi ghi chú kèm ảnh cho nhiệm vụ #{task_id}")
    assert len(photo_keys) == 2 and photo_keys[0] and photo_keys[1] == photo_keys[0]
    with city.connect() as conn:
        started, noted = conn.execute(
            text("""SELECT count(*) FILTER (WHERE to_state = 'in_progress'),
                           count(*) FILTER (WHERE note = 'Ảnh khu vực, sóng chập chờn')
                    FROM task_events WHERE task_id = :t"""),
            {"t": task_id},
        ).one()
    assert (started, noted) == (1, 1)
    assert [e for e in errors if "ERR_" not in e] == []
    page.close()

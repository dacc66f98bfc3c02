"""Each role's page walked once per screen, and everything such a walk must find.

A walk opens the page of a role and shows what it offers: the help, every tab with its folded sections open and the
card of its list's first row (the team's finished tasks shown too, the administrator's first team picked), the lists
outside tabs; then every map layer with a tooltip and a popup of every kind, the incident popup at street zoom, the
search suggestions and the printable sheet. The screens: a desktop and a 360 px phone (many Android phones; the
narrowest the pages are made for). At each step it keeps what the checks below look at, so the page is walked once
for all of them (they walked it one check at a time: 32 walks; then 12, with a 390 px phone apart; now 8):

- **Content-Security-Policy** (desktop, phone): the pages allow no inline style (api/headers.py); a style attribute
  left in a legend, a row or a popup would be refused and its colour lost. No ``securitypolicyviolation`` event
  (recorded by test_browser.open_as) and no console «Refused to …» line at any step.
- **Accessibility** (desktop, phone): axe-core's WCAG 2.x A/AA rules and best practices at each tab
  (test_accessibility.py's audit), on the phone every thumb target 44 px, and a thick focus ring for the keyboard.
- **A new user's first day** (desktop, phone): the help is folded at the top, opens from the keyboard and names the
  page's statuses, classes or roles; no English word and no internal code shows on any tab (its text, placeholders,
  tooltips and accessible names), proper names and units aside; a field the browser refuses explains itself in
  Vietnamese; the console reports no error.
- **Nothing slides sideways on a 360 px phone** (many Android phones): no tab wider than the screen, no heading broken
  inside a word, no figure broken across lines, no hint cut.

The city, the server and Chromium are those of test_browser.py (a database of this module's own). Each step of a walk
in the panel leaves a screenshot in artifacts/walk-<role>-<screen>-<step>.png (a step on the map only when something
was refused), and axe's findings artifacts/axe-<role>-<screen>.json.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
import test_accessibility as a11y
import test_browser as shared
from sqlalchemy import Engine
from test_accessibility import FOCUS_RING, OPEN_DETAILS, audit, report
from test_browser import DESKTOP, SMALL_PHONE, open_as, shot
from vietnamese_text import foreign_words, names_shown, shown_text

from models.vocabulary import ROLE_MEANINGS, HotspotStatus, Role, RunStatus, TaskState

city, server, chromium = shared.city, shared.server, shared.chromium
axe_source = a11y.axe_source
USERS = {Role.COMMAND: "chihuy", Role.TEAM: "to05", Role.PLANNER: "thammuu", Role.ADMIN: "quantri"}
SCREENS = {"desktop": DESKTOP, "phone": SMALL_PHONE}
#: What each page's help must name (labels from the vocabulary): its own statuses, classes or roles.
HELP_NAMES = {
    Role.COMMAND: [*HotspotStatus.labels().values(), *TaskState.labels().values()],
    Role.TEAM: [*TaskState.labels().values(), *HotspotStatus.labels().values()],
    Role.PLANNER: ["Trọng điểm loại I", "Không ma túy", *RunStatus.labels().values()],
    Role.ADMIN: [*Role.labels().values(), *ROLE_MEANINGS.values()],
}

#: Show every overlay of the layer control (clicked through the DOM: on a phone the control is folded).
ALL_LAYERS = """() => { const boxes = [...document.querySelectorAll('.leaflet-control-layers-overlays input')];
    boxes.filter((b) => !b.checked).forEach((b) => b.click()); }"""
#: Open the tooltip of one layer of each group, and return how many groups have popups.
TOOLTIPS = """() => { const seen = new Set(); const popups = new Set();
    window.diaban.map.eachLayer((l) => {
      const group = Object.keys(l._eventParents || {}).join() || String(L.stamp(l));
      if (l.getPopup?.()) popups.add(group);
      if (l.getTooltip?.() && !seen.has(group)) { seen.add(group); l.openTooltip(); }
    });
    return popups.size; }"""
#: Open the popup of the first layer of the n-th group with popups, alone on the map (moving the map first: a list
#: row opened before waits for the map's next move to open its hotspot's popup).
POPUP = """(n) => { const map = window.diaban.map; const groups = new Map();
    map.eachLayer((l) => {
      const group = Object.keys(l._eventParents || {}).join() || String(L.stamp(l));
      if (l.getPopup?.() && !groups.has(group)) groups.set(group, l);
    });
    const layer = [...groups.values()][n];
    map.setView(layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter(), 15, { animate: false });
    map.eachLayer((l) => l.closePopup?.());
    layer.openPopup();
    return layer.isPopupOpen(); }"""
#: A click on the map at an incident at street zoom (the command page's incident popup).
INCIDENT_CLICK = """async () => { const map = window.diaban.map;
    const found = (await api('/api/incidents?limit=20')).features.filter((f) => f.geometry);
    const [lon, lat] = found[0].geometry.coordinates;
    map.setView([lat, lon], 17, { animate: false });
    const latlng = L.latLng(lat, lon);
    map.fire('click', { latlng, containerPoint: map.latLngToContainerPoint(latlng) }); }"""

#: How much wider than the screen the document and the panel are.
WIDTHS = """() => [document.documentElement.scrollWidth,
    ...[...document.querySelectorAll('main.panel')].map((p) => p.scrollWidth - p.clientWidth + window.innerWidth)]"""
#: The words of the visible table headings that the browser drew on more than one line.
BROKEN_HEADINGS = """() => [...document.querySelectorAll('table th')].filter((th) => th.offsetParent).flatMap((th) => {
    const node = th.firstChild;
    if (!node || node.nodeType !== Node.TEXT_NODE) return [];
    return [...node.textContent.matchAll(/\\S+/g)].filter((word) => {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
    }).map((word) => word[0]);
})"""
#: The figures (words holding a digit: a day, a number) of the visible table cells that the browser drew on more than
#: one line.
BROKEN_FIGURES = """() => [...document.querySelectorAll('table td')].filter((td) => td.offsetParent).flatMap((td) => {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    const broken = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const word of node.textContent.matchAll(/\\S*\\d\\S*/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            if (new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1) broken.push(word[0]);
        }
    }
    return broken;
})"""
#: The visible inputs whose hint (placeholder) is wider than the room inside them.
CUT_HINTS = """() => [...document.querySelectorAll('input[placeholder]')].filter((input) => input.offsetParent
    && input.placeholder).filter((input) => {
    const style = getComputedStyle(input);
    const ruler = document.createElement('canvas').getContext('2d');
    ruler.font = style.font;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return ruler.measureText(input.placeholder).width > room;
}).map((input) => input.placeholder)"""


@dataclass
class Walk:
    """What one walk of a role's page on one screen found."""

    help_folded: bool = False
    help_opens: bool = False
    help_text: str = ""
    refused: dict[str, list[str]] = field(default_factory=dict)
    axe: dict = field(default_factory=dict)
    foreign: dict[str, list[str]] = field(default_factory=dict)
    refusal_message: str | None = None
    wide: dict[str, list[int]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    split: set[str] = field(default_factory=set)
    cut: set[str] = field(default_factory=set)
    ring: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def refusals(page, errors: list[str]) -> list[str]:
    """What the browser refused so far: the page's CSP violation events and the console's refusals."""
    return page.evaluate("window.cspViolations") + [e for e in errors if "Content Security Policy" in e]


@dataclass
class Requests:
    """The page's requests not yet answered and when one last began or ended, kept up to date (Playwright's events,
    delivered while a call waits on the page)."""

    pending: set = field(default_factory=set)
    last: float = field(default_factory=time.monotonic)

    def began(self, request) -> None:
        self.pending.add(request)
        self.last = time.monotonic()

    def ended(self, request) -> None:
        self.pending.discard(request)
        self.last = time.monotonic()


def watch_requests(page) -> Requests:
    """The page's requests, watched."""
    requests = Requests()
    page.on("request", requests.began)
    page.on("requestfinished", requests.ended)
    page.on("requestfailed", requests.ended)
    return requests


#: How long the page must have had no request under way, none begun nor ended, to be taken as drawn: longer than a
#: click takes to send its requests and an answer to be drawn.
QUIET_S = 0.15
#: Keep in window.mapRest whether the map moves and since when it rests: the command map asks for its layers 250 ms
#: after a move ends (command.js), a list row's click flies the map to its hotspot.
WATCH_MAP = """() => { window.mapRest = { moving: false, since: performance.now() };
    const map = window.diaban && window.diaban.map;
    if (!map) return;
    map.on('movestart zoomstart', () => { window.mapRest.moving = true; });
    map.on('moveend zoomend', () => { window.mapRest.moving = false; window.mapRest.since = performance.now(); }); }"""
#: Whether the map has rested for longer than its wait after a move.
MAP_AT_REST = "() => !window.mapRest.moving && performance.now() - window.mapRest.since > 300"
#: Resolves after the next two frames: what the page changed last is laid out and painted.
TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def settle(page, requests: Requests) -> None:
    """Let the page's requests answer (10 s at most) and their lists, cards and layers be drawn: once the map rests
    and no request has been under way for QUIET_S. (It waited 0.3 s, then for the requests, then 0.2 s: half of a
    walk's time went in these waits, 10.6 of 22 s for two walks.)"""
    deadline = time.monotonic() + 10
    page.wait_for_timeout(50)
    while time.monotonic() < deadline and (
        requests.pending or time.monotonic() - requests.last < QUIET_S or not page.evaluate(MAP_AT_REST)
    ):
        page.wait_for_timeout(50)
    page.evaluate(TWO_FRAMES)


def walk(chromium, server: str, axe: str, names: set[str], role: Role, screen: str) -> Walk:
    """Walk the page of ``role`` on ``screen`` (see the module's docstring), keeping what each check looks at."""
    page, errors = open_as(chromium, server, USERS[role], SCREENS[screen])
    requests = watch_requests(page)
    page.evaluate(WATCH_MAP)
    found = Walk()
    page.evaluate(axe)

    help_box = page.locator("main.panel details#help")
    found.help_folded = help_box.count() == 1 and help_box.get_attribute("open") is None  # the work comes first
    help_box.locator("summary").focus()
    page.keyboard.press("Enter")  # opens from the keyboard
    found.help_opens = help_box.get_attribute("open") is not None and help_box.locator(".help-body").is_visible()
    found.help_text = help_box.inner_text()

    def observe(step: str, panel: bool = True) -> None:
        """What the page shows now, for each check of this screen (of the panel's steps: a tab, its card and lists;
        the map's layers, popups and print are for the policy alone), and its screenshot."""
        settle(page, requests)
        if refused := refusals(page, errors):
            found.refused[step] = refused
            page.evaluate("window.cspViolations = []")
            errors[:] = [e for e in errors if "Content Security Policy" not in e]
        if not panel:  # its screenshot only when something was refused (one of each step took a fifth of the walk)
            if step in found.refused:
                shot(page, f"walk-{role}-{screen}-{step}")
            return
        audit(page, step, found.axe, screen != "desktop")
        if bad := foreign_words(shown_text(page), names):
            found.foreign[step] = sorted(bad)
        if screen == "phone":
            if max(sizes := page.evaluate(WIDTHS)) > SMALL_PHONE["width"]:
                found.wide[step] = sizes
            found.broken.update(page.evaluate(BROKEN_HEADINGS))
            found.split.update(page.evaluate(BROKEN_FIGURES))
            found.cut.update(page.evaluate(CUT_HINTS))
        shot(page, f"walk-{role}-{screen}-{step}")

    if role == Role.PLANNER:
        page.select_option("#year", "2026")
        page.wait_for_selector("#communes > tr")
    if page.locator("#show-finished").count():
        page.check("#show-finished")  # the team's finished tasks too
    page.evaluate(OPEN_DETAILS)
    observe("page")
    for tab in page.locator("nav.tabs button[data-tab]").all()[1:]:  # the first tab is shown at first
        tab.click()
        settle(page, requests)
        rows = page.locator("section.tab:not([hidden]) table.register tbody tr")
        if rows.count():
            rows.first.click()  # its card: state, actions, history
        if page.locator("#team-pick option").count() > 1 and tab.get_attribute("data-tab") == "teams":
            page.select_option("#team-pick", index=1)  # a team's area and its history
        settle(page, requests)
        page.evaluate(OPEN_DETAILS)
        observe(tab.get_attribute("data-tab") or "tab")
    outside = page.locator("table.register:not(section.tab table):visible tbody")
    if outside.count():  # the lists outside tabs (planner)
        for table in outside.all():
            if table.locator("tr").count():
                table.locator("tr").first.click()
        page.evaluate(OPEN_DETAILS)
        observe("lists")

    page.keyboard.press("Tab")  # from where the last click left the focus to the next control, by the keyboard
    found.ring = page.evaluate(FOCUS_RING)
    required = page.locator("input[required]:visible").first
    if required.count():
        required.fill("")
        found.refusal_message = required.evaluate("(f) => { f.reportValidity(); return f.validationMessage; }")
    found.errors = [e for e in errors if "Content Security Policy" not in e]

    page.evaluate(ALL_LAYERS)
    page.wait_for_timeout(300)  # the layers' requests start once the map's wait after a move (250 ms) is over
    settle(page, requests)
    groups = page.evaluate(TOOLTIPS)
    observe("layers", panel=False)
    for n in range(groups):
        assert page.evaluate(POPUP, n)
        observe(f"popup-{n}", panel=False)
    if role == Role.COMMAND:
        assert groups, "the command page has hotspot popups"
        page.evaluate("() => { window.diaban.map.closePopup(); }")
        page.evaluate(INCIDENT_CLICK)
        page.locator(".leaflet-popup .incident-popup").wait_for()
        observe("incident", panel=False)
    if page.locator(".map-search").count():  # command and planner
        page.fill(".map-search input[name=q]", "1")
        observe("search", panel=False)
    page.evaluate("document.querySelector('.print-open').click()")
    page.locator(".print-sheet .print-legend").wait_for()
    observe("print", panel=False)
    page.click(".print-close")
    page.close()
    return found


@pytest.fixture(scope="module")
def walked(chromium, server: str, city: Engine, axe_source: str):
    """The walk of a role's page on a screen, made once for all the checks that read it."""
    walks: dict[tuple[Role, str], Walk] = {}
    names = names_shown(city)

    def of(role: Role, screen: str) -> Walk:
        if (role, screen) not in walks:
            walks[role, screen] = walk(chromium, server, axe_source, names, role, screen)
        return walks[role, screen]

    return of


def test_the_pages_allow_no_inline_style(chromium, server: str) -> None:
    page, _ = open_as(chromium, server, USERS[Role.ADMIN], DESKTOP)
    policy = page.evaluate("fetch('/').then((r) => r.headers.get('content-security-policy'))")
    page.close()
    styles = policy.split("style-src")[1].split(";")[0]
    assert "'nonce-" in styles and "unsafe-inline" not in styles, policy


@pytest.mark.parametrize("screen", ["desktop", "phone"])
@pytest.mark.parametrize("role", list(USERS), ids=str)
def test_no_inline_style_is_refused_on_any_page(walked, role: Role, screen: str) -> None:
    assert walked(role, screen).refused == {}


@pytest.mark.parametrize("screen", ["desktop", "phone"])
@pytest.mark.parametrize("role", list(USERS), ids=str)
def test_role_page_is_accessible_with_every_tab(walked, role: Role, screen: str) -> None:
    found = walked(role, screen)
    assert report(f"{role}-{screen}", found.axe) == []
    assert found.ring["width"] >= 3 and found.ring["style"] == "solid", found.ring  # not the browser's 1 px


@pytest.mark.parametrize("screen", ["desktop", "phone"])
@pytest.mark.parametrize("role", list(USERS), ids=str)
def test_each_page_has_its_help_and_speaks_vietnamese(walked, role: Role, screen: str) -> None:
    found = walked(role, screen)
    assert found.help_folded and found.help_opens
    missing = [name for name in HELP_NAMES[role] if name not in found.help_text]
    assert not missing, f"the help of {role} does not name {missing}"
    assert found.foreign == {}
    assert found.refusal_message is None or (found.refusal_message and not foreign_words(found.refusal_message))
    assert found.errors == []


@pytest.mark.parametrize("role", list(USERS), ids=str)
def test_nothing_slides_sideways_on_a_360_px_phone(walked, role: Role) -> None:
    """A long choice (the density kernel) or a table's headers had let the whole panel slide sideways under the
    thumb."""
    found = walked(role, "phone")
    assert found.wide == {}
    assert found.broken == set()  # «Xã/phườn g»: a heading broke inside a word
    assert found.split == set()  # «30/11/20 26»: a day broke across two lines of its cell
    assert found.cut == set()  # «Tìm xã/phường, mã xã,»: the map search's hint was cut

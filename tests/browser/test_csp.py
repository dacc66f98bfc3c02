"""The Content-Security-Policy in a real browser: no inline style or script of ours is refused.

The pages allow no inline style (api/headers.py): a style attribute left in a legend, a list row or a popup would be
refused, and its colour lost. Each role's page is opened on a desktop and a phone with everything it offers shown:
every tab and legend, the first card of every list (with its history), every map layer, a popup and a tooltip of
every kind, the incident popup at street zoom, the search suggestions and the printable sheet; the browser must
report no violation (``securitypolicyviolation`` events, recorded by test_browser.open_as, and the console's
"Refused to …" lines). The city, the server and Chromium are those of test_browser.py (a database of this module's
own). A step where something was refused leaves its screenshot in artifacts/csp-<role>-<size>-<step>.png.
"""

from __future__ import annotations

import pytest
import test_browser as shared
from test_browser import DESKTOP, PHONE, open_as, shot

city, server, chromium = shared.city, shared.server, shared.chromium
USERS = {"command": "chihuy", "team": "to01", "planner": "thammuu", "admin": "quantri"}

#: Open every <details> (legends, forms, histories: a history loads when opened).
OPEN_DETAILS = "() => document.querySelectorAll('details:not([open])').forEach((d) => { d.open = true; })"
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


def refusals(page, errors: list[str]) -> list[str]:
    """What the browser refused so far: the page's CSP violation events and the console's refusals."""
    return page.evaluate("window.cspViolations") + [e for e in errors if "Content Security Policy" in e]


def watch_requests(page) -> set:
    """The page's requests not yet answered, kept up to date."""
    pending: set = set()
    page.on("request", lambda request: pending.add(request))
    page.on("requestfinished", lambda request: pending.discard(request))
    page.on("requestfailed", lambda request: pending.discard(request))
    return pending


def settle(page, pending: set) -> None:
    """Let the page's requests answer (10 s at most) and their lists, cards and layers be drawn."""
    page.wait_for_timeout(300)
    for _ in range(100):
        if not pending:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(200)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("role", list(USERS))
def test_no_inline_style_is_refused_on_any_page(chromium, server: str, role: str, viewport: dict) -> None:
    page, errors = open_as(chromium, server, USERS[role], viewport)
    size = "desktop" if viewport is DESKTOP else "phone"
    policy = page.evaluate("fetch('/').then((r) => r.headers.get('content-security-policy'))")
    pending = watch_requests(page)
    styles = policy.split("style-src")[1].split(";")[0]
    assert "'nonce-" in styles and "unsafe-inline" not in styles, policy
    found: dict[str, list[str]] = {}

    def check(step: str) -> None:
        """Keep what was refused during a step, with a screenshot of the page then (a screenshot of every step took
        a fifth of the walk)."""
        settle(page, pending)
        if refused := refusals(page, errors):
            shot(page, f"csp-{role}-{size}-{step}")
            found[step] = refused
            page.evaluate("window.cspViolations = []")
            errors.clear()

    if page.locator("#show-finished").count():
        page.check("#show-finished")  # the team's finished tasks too
    page.evaluate(OPEN_DETAILS)
    check("page")
    for tab in page.locator("nav.tabs button").all():
        tab.click()
        settle(page, pending)
        rows = page.locator("section.tab:not([hidden]) table.register tbody tr")
        if rows.count():
            rows.first.click()  # its card: state, actions, history
        if page.locator("#team-pick option").count() > 1 and tab.get_attribute("data-tab") == "teams":
            page.select_option("#team-pick", index=1)  # a team's area and its history
        settle(page, pending)
        page.evaluate(OPEN_DETAILS)
        check(f"tab-{tab.get_attribute('data-tab')}")
    for table in page.locator("table.register:visible tbody").all():  # the lists outside tabs (planner)
        if table.locator("tr").count():
            table.locator("tr").first.click()
    page.evaluate(OPEN_DETAILS)
    check("lists")

    page.evaluate(ALL_LAYERS)
    page.wait_for_timeout(1500)  # the layers' requests start after the map moved
    groups = page.evaluate(TOOLTIPS)
    check("layers")
    for n in range(groups):
        assert page.evaluate(POPUP, n)
        check(f"popup-{n}")
    if role == "command":
        assert groups, "the command page has hotspot popups"
        page.evaluate("() => { window.diaban.map.closePopup(); }")
        page.evaluate(INCIDENT_CLICK)
        page.locator(".leaflet-popup .incident-popup").wait_for()
        check("incident")

    if page.locator(".map-search").count():  # command and planner
        page.fill(".map-search input[name=q]", "1")
        check("search")
    page.evaluate("document.querySelector('.print-open').click()")
    page.locator(".print-sheet .print-legend").wait_for()
    check("print")
    page.click(".print-close")
    assert found == {}, found
    page.close()

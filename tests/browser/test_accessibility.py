"""Accessibility checked by axe-core in a real browser: the login page here, each role's page with every tab in
test_page_walk.py (which uses this module's audit); the keyboard's way through a register and the panel's tabs.

Officers of every age read these pages, many on a phone outdoors, some with weak sight, some with the keyboard only:
the login page and each role's page (every tab of its panel opened, with its legends and folded forms and the card
of its list's first row) must show no *moderate*, *serious* or *critical* violation of axe's WCAG 2.x A/AA rules and best
practices; on a phone, everything a thumb can press must also be 44 px tall and wide (axe asks 24 px); and the
keyboard's focus must show as a thick ring. axe-core is a test-only npm package (tests/browser/package.json,
installed by `make test` into tests/browser/node_modules: never served nor packed). The pages are audited as served,
their Content-Security-Policy on: it refuses axe as a script tag (an inline script: Playwright's ``add_script_tag``),
so axe's source is evaluated through the browser's DevTools protocol, which the page's policy does not govern.
Every violation found, minor ones too, is written to artifacts/axe-<page>-<size>.json for people to read.

The city, the server and Chromium are those of test_browser.py (a database of this module's own).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_browser as shared
from test_browser import ARTIFACTS, SMALL_PHONE, open_as

city, server, chromium = shared.city, shared.server, shared.chromium
USERS = {"command": "chihuy", "team": "to05", "planner": "thammuu", "admin": "quantri"}
DESKTOP = {"width": 1400, "height": 900}
SIZES = {"desktop": DESKTOP, "phone": SMALL_PHONE}  # the narrowest phone of test_browser.py
AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"

#: What axe leaves out, and why: Leaflet's drawing of the map (the tile pane, and the overlay pane with the canvas,
#: SVG paths, heat image and commune names over them) is a picture whose meaning the legends, lists and search in the
#: panel give in words; axe cannot tell the colour behind a name drawn over it. The map's controls, popups and
#: tooltips are checked.
EXCLUDE = [".leaflet-tile-pane", ".leaflet-overlay-pane"]
#: Only these impacts fail the test (axe's own scale: minor, moderate, serious, critical).
FAILING = ("moderate", "serious", "critical")

#: Open every <details> (legends, folded forms), so that what they hold is checked too.
OPEN_DETAILS = "() => document.querySelectorAll('details:not([open])').forEach((d) => { d.open = true; })"
#: axe on the whole document but the map's drawing: the violations, each with its impact, help and where it is.
RUN_AXE = """async (exclude) => {
  const result = await axe.run({ include: [document], exclude: exclude.map((s) => [s]) },
    { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      resultTypes: ["violations"] });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })) }));
}"""


#: On a phone: what a thumb can press and is smaller than 44 px (a checkbox counts by its label, which takes the tap;
#: the file input hidden behind its Vietnamese button is left out; a sort heading counts too, however narrow its
#: column's data), outside the map's drawing.
SMALL_TARGETS = """(exclude) => {
  const small = [];
  const targets = "a[href], button, input:not([type=hidden]):not(.file-native), select, textarea, summary, [tabindex='0']";
  for (const element of document.querySelectorAll(targets)) {
    if (exclude.some((s) => element.closest(s))) continue;
    const target = element.matches("input[type=checkbox], input[type=radio]") ? element.closest("label") : element;
    const box = target?.getBoundingClientRect();
    if (!box || !box.width || getComputedStyle(target).visibility === "hidden") continue;
    if (box.height < 43.5 || box.width < 43.5) {
      small.push(`${target.outerHTML.slice(0, 90)} (${Math.round(box.width)}×${Math.round(box.height)} px)`);
    }
  }
  return small;
}"""


#: The ring around the control the keyboard is on.
FOCUS_RING = """() => { const style = getComputedStyle(document.activeElement);
  return { element: document.activeElement.outerHTML.slice(0, 80), style: style.outlineStyle,
           width: parseFloat(style.outlineWidth) }; }"""


def audit(page, step: str, found: dict, phone: bool) -> None:
    """Run axe on the page as it is now (and on a phone, look for small targets), keeping each violation once (by
    rule and element) with the step it was first seen at."""
    for violation in page.evaluate(RUN_AXE, EXCLUDE):
        for node in violation["nodes"]:
            found.setdefault((violation["id"], node["target"]), {**violation, "nodes": None, "step": step, **node})
    for target in page.evaluate(SMALL_TARGETS, EXCLUDE) if phone else []:
        found.setdefault(
            ("tap-target-44px", target),
            {
                "id": "tap-target-44px",
                "impact": "serious",
                "step": step,
                "help": "A thumb's target on a phone",
                "target": target,
                "summary": "smaller than 44 px",
            },
        )


def report(name: str, found: dict) -> list[str]:
    """Write every violation to artifacts/axe-<name>.json; the serious and critical ones, one line each."""
    ARTIFACTS.mkdir(exist_ok=True)
    rows = sorted(found.values(), key=lambda v: (v["impact"] not in FAILING, v["id"], v["target"]))
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    return [
        f"{v['impact']} {v['id']} at {v['target']} ({v['step']}): {v['summary']}"
        for v in rows
        if v["impact"] in FAILING
    ]


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script, from the test-only npm package."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test` (it installs tests/browser/package.json)")
    return AXE.read_text()


@pytest.mark.parametrize("size", list(SIZES))
def test_login_page_is_accessible(chromium, server: str, axe_source: str, size: str) -> None:
    page = chromium.new_page(viewport=SIZES[size])
    page.goto(f"{server}/login")
    page.evaluate(axe_source)
    found: dict = {}
    audit(page, "login", found, size == "phone")
    page.close()
    assert report(f"login-{size}", found) == []


def test_a_row_and_a_sort_heading_act_on_space_as_a_button_does(chromium, server: str) -> None:
    """A register's row opens its card, and a column heading sorts, on Space as on Enter and a click (Space did
    nothing: a keyboard user presses it on what acts as a button), without scrolling the panel."""
    page, errors = open_as(chromium, server, USERS["admin"], DESKTOP)
    row = page.locator("#user-table tbody tr").first
    name = row.get_attribute("data-username")
    row.focus()
    page.keyboard.press(" ")
    page.wait_for_selector(f"#user-table .card[data-username='{name}']")
    heading = page.locator("#user-table th[data-sort=username]")
    assert heading.get_attribute("aria-sort") == "ascending"
    heading.focus()
    scrolled = "() => document.querySelector('main.panel').scrollTop"
    before = page.evaluate(scrolled)
    page.keyboard.press(" ")
    assert heading.get_attribute("aria-sort") == "descending"
    assert page.evaluate(scrolled) == before
    page.close()
    assert errors == []


#: The tab the keyboard is on, the tab shown, the panel shown and where the focus is.
TAB_STATE = """() => ({ focused: document.activeElement.dataset.tab ?? null,
  selected: document.querySelector("nav.tabs [aria-selected=true]").dataset.tab,
  shown: [...document.querySelectorAll("[role=tabpanel]")].filter((p) => !p.hidden).map((p) => p.id),
  inOrder: [...document.querySelectorAll("nav.tabs [role=tab]")].filter((t) => t.tabIndex === 0).map((t) => t.dataset.tab),
  panel: document.activeElement.closest("[role=tabpanel]")?.id ?? null })"""


@pytest.mark.parametrize("role", ["command", "admin"])
def test_the_panel_tabs_follow_the_aria_tabs_pattern(chromium, server: str, role: str) -> None:
    """The arrow keys (and Home, End) move between the tabs and show each; only the shown tab is in the Tab order, and
    Tab goes from it into its panel (every tab had to be tabbed through, the arrows did nothing)."""
    page, errors = open_as(chromium, server, USERS[role], DESKTOP)
    tabs = page.locator("nav.tabs [role=tab]").evaluate_all("ts => ts.map((t) => t.dataset.tab)")
    page.locator("nav.tabs [role=tab]").first.focus()

    def state_after(key: str) -> dict:
        page.keyboard.press(key)
        return page.evaluate(TAB_STATE)

    second = state_after("ArrowRight")
    assert second == {
        "focused": tabs[1],
        "selected": tabs[1],
        "shown": [f"tab-{tabs[1]}"],
        "inOrder": [tabs[1]],
        "panel": None,
    }
    assert state_after("End")["selected"] == tabs[-1]
    assert state_after("ArrowRight")["selected"] == tabs[0]  # round from the last to the first
    assert state_after("ArrowLeft")["focused"] == tabs[-1]
    assert state_after("Home")["focused"] == tabs[0]
    into = state_after("Tab")
    assert into["panel"] == f"tab-{tabs[0]}" and into["selected"] == tabs[0], into
    labelled = page.get_attribute(f"#tab-{tabs[0]}", "aria-labelledby")
    assert page.get_attribute(f"#{labelled}", "data-tab") == tabs[0]
    page.close()
    assert errors == []

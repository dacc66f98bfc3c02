"""The Ministry's pages over several provinces in a real browser: a nation-wide command user's map opens without
refusals (Gi* and emerging hot spots, computed per province, are asked for with the view once their layer is shown),
and units of the same name in two provinces are told apart by their province — in the search box's choices and the
registers' commune filter on the command page, in the planner's table. A scratch database of its own: Hải Phòng's 114
units and Hồ Chí Minh's Phường Tân Hưng (Hải Phòng has one too), no incidents. Screenshots: artifacts/national-*."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import scratch_database, serve
from sqlalchemy import Engine
from test_browser import DESKTOP, PAINTED, PHONE, chromium, commune_point, open_as, shot

from api.app import create_app
from api.security import hash_password
from gis.demo.accounts import DEMO_PASSWORD
from gis.ops.postgres import ManagedCluster
from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year
from gis.store.accounts import create_user
from gis.store.classifications import approve
from models.text import vietnamese_key
from models.vocabulary import local_today

__all__ = ["chromium"]  # the shared browser fixture

#: Hồ Chí Minh's Phường Tân Hưng (27475), cut unchanged from the national file: Hải Phòng has a Phường Tân Hưng too.
TAN_HUNG_FILE = Path(__file__).resolve().parents[1] / "data" / "ho-chi-minh-tan-hung.geojson"
TAN_HUNG = {"Phường Tân Hưng (Hải Phòng)", "Phường Tân Hưng (Hồ Chí Minh)"}
#: The old commune of that name now lying in another current unit, offered after the current ones (common.js
#: formerNames: an officer meaning the old place is not flown to a namesake).
OLD_TAN_HUNG = "Tân Hưng (cũ, Huyện Vĩnh Bảo) → Xã Vĩnh Bảo (Hải Phòng)"


@pytest.fixture(scope="module")
def nation(cluster: ManagedCluster, boundaries_path: Path) -> Iterator[Engine]:
    """Hải Phòng and a unit of Hồ Chí Minh, the Ministry's command and planner, last year approved, this year's draft."""
    with scratch_database(cluster, "browser_nation") as engine:
        with engine.begin() as conn:
            import_boundaries(conn, boundaries_path)
            import_boundaries(conn, TAN_HUNG_FILE)
            create_user(conn, "bo-chihuy", hash_password(DEMO_PASSWORD), "command", None)
            create_user(conn, "bo-thammuu", hash_password(DEMO_PASSWORD), "planner", None)
            create_user(conn, "hp-thammuu", hash_password(DEMO_PASSWORD), "planner", None, "31")
            draft_year(conn, local_today().year - 1, actor="bo-thammuu")
            approve(conn, local_today().year - 1, actor="bo-thammuu-2")  # four eyes: not who ran it
            draft_year(conn, local_today().year, actor="bo-thammuu")
        yield engine


@pytest.fixture(scope="module")
def nation_server(nation: Engine) -> Iterator[str]:
    with serve(create_app(nation)) as base:
        yield base


def test_the_ministrys_command_map_opens_without_refusals_and_asks_for_hidden_layers_when_shown(
    chromium, nation_server: str
) -> None:
    """The page asked for Gi* and emerging hot spots at every opening, layers hidden, without the view: refused
    (422 «hãy gửi vùng đang xem») over several provinces, in red on the Ministry's every page. It downloaded the map
    of the classes too, layer hidden: 4.5 MB compressed over the country's 3,321 units, shapes the page already had."""
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page, errors = open_as(chromium, nation_server, "bo-chihuy", viewport)
        page.wait_for_load_state("networkidle")
        asked = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        assert errors == [] and not [url for url in asked if "/api/gistar" in url or "/api/emerging" in url]
        assert not [url for url in asked if "/api/classifications/" in url]
        assert page.locator("#message.error").count() == 0
        assert page.locator("#classes-year").inner_text() == f"Năm {local_today().year - 1}"
        assert page.locator("#detection-box").is_visible()  # the Ministry's command runs detection
        if name == "desktop":
            with page.expect_response(lambda r: "/api/classifications/" in r.url) as answer:
                page.locator(".leaflet-control-layers >> text=Phân loại xã").click()
            assert answer.value.status == 200
            # Painted on the communes layer's shapes: the answer brings none of them (it brought them all again).
            assert "current_geometry=false" in answer.value.url
            assert all(f["geometry"] is None for f in answer.value.json()["features"])
            page.wait_for_function("() => document.getElementById('classes-year').textContent.includes('phiên bản 1')")
            assert page.evaluate(PAINTED, "classes")
            page.evaluate("() => { window.diaban.map.setView([20.86, 106.68], 11); }")
            with page.expect_response(lambda r: "/api/gistar" in r.url) as answer:
                page.locator(".leaflet-control-layers >> text=Ô nóng, ô lạnh (so với xung quanh)").click()
            assert answer.value.status == 200 and "bbox=" in answer.value.url
        shot(page, f"national-command-{name}")
        assert errors == []
        page.close()


def test_units_of_the_same_name_are_told_apart_by_their_province(chromium, nation_server: str) -> None:
    page, errors = open_as(chromium, nation_server, "bo-chihuy", DESKTOP)
    # The server slow to name the former units (held here): the two current units are offered at once, the former
    # one added when it comes. A list shown anyway had waited 3 s for it, then dropped it.
    held: list = []
    former = re.compile(r"/api/communes/former\?")
    page.route(former, lambda route: held.append(route))
    page.fill(".map-search input[name=q]", "Tân Hưng")
    page.click(".map-search button[type=submit]")
    choices = page.locator(".search-choices button")
    choices.nth(1).wait_for()
    page.wait_for_timeout(3500)
    assert choices.count() == 2 and len(held) == 1
    held[0].continue_()
    page.unroute(former)
    choices.nth(2).wait_for()
    shown = choices.all_inner_texts()
    assert set(shown[:2]) == TAN_HUNG and shown[2:] == [OLD_TAN_HUNG]  # the current units first
    shot(page, "national-search-same-name")
    options = page.eval_on_selector_all("#commune-names option", "options => options.map(o => o.value)")
    assert TAN_HUNG <= set(options) and len(options) == len(set(options)) == 115  # each a commune of its own
    # In Vietnamese order, as every list of names (code points put «Xã Đ…» after «Xã Z…»).
    assert options == sorted(options, key=vietnamese_key) and options != sorted(options)
    assert errors == []
    page.close()

    page, errors = open_as(chromium, nation_server, "bo-thammuu", DESKTOP)
    page.fill("#commune-filter", "Tân Hưng")
    rows = page.locator("#communes tr:visible td:first-child")
    page.wait_for_function("() => document.getElementById('table-count').textContent.startsWith('2 /')")
    assert set(rows.all_inner_texts()) == TAN_HUNG
    page.fill("#commune-filter", "Hồ Chí Minh")  # the province's name finds its units
    page.wait_for_function("() => document.getElementById('table-count').textContent.startsWith('1 /')")
    shot(page, "national-planner-same-name")
    assert errors == []
    page.close()


def test_a_provincial_planner_of_a_database_of_several_provinces_is_offered_no_run_nor_approval(
    chromium, nation_server: str
) -> None:
    """A year's run classifies every unit: Hải Phòng's planner, here beside a unit of Hồ Chí Minh, may neither run one
    nor approve it (the server refuses both with a 403). The page offered both, each click refused in red; it says who
    does it instead, and the Ministry's planner still has both."""
    page, errors = open_as(chromium, nation_server, "hp-thammuu", PHONE)
    page.wait_for_selector("#run-status >> text=Bản nháp phiên bản 1")
    assert page.locator("#run-form").is_hidden() and page.locator("#approve").is_hidden()
    assert page.locator("#no-run").inner_text().startswith("Chỉ cán bộ tham mưu cấp toàn quốc được chạy hoặc phê duyệt")
    shot(page, "national-provincial-planner-phone")
    assert errors == []
    page.close()
    ministry, errors = open_as(chromium, nation_server, "bo-thammuu", DESKTOP)
    ministry.wait_for_selector("#run-status >> text=Bản nháp phiên bản 1")
    assert ministry.locator("#run-form").is_visible() and ministry.locator("#approve").is_visible()
    assert ministry.locator("#no-run").count() == 0 and errors == []
    ministry.close()


#: The vertices of the units drawn in a pane (the lines of every page, the planner's classes).
VERTICES = """pane => Object.values(window.diaban.map._layers).filter(l => l.feature && l.options.pane === pane)
  .reduce((n, l) => n + l.getLatLngs().flat(Infinity).length, 0)"""


def test_the_ministrys_map_opens_on_coarse_shapes_and_gets_the_fine_ones_once_zoomed_in(
    chromium, nation_server: str
) -> None:
    """Nation-wide a page downloaded every unit simplified by 20 m before it drew anything (the country's 3,321 units:
    4.7 MB compressed, on a view where a pixel is kilometres): it opens on units simplified by 500 m and asks for the
    20 m ones once, when zoomed in, put in place in every layer drawn from them — the planner's classes too."""
    for user, pane in (("bo-chihuy", "lines"), ("bo-thammuu", "classes")):
        page, errors = open_as(chromium, nation_server, user, DESKTOP)
        page.wait_for_function(f"pane => ({VERTICES})(pane) > 0", arg=pane)
        asked = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        assert [url.split("/api/")[1] for url in asked if "/api/communes" in url] == ["communes?simplify_m=500"]
        coarse = page.evaluate(VERTICES, pane)
        with page.expect_response(lambda r: "/api/communes?simplify_m=20" in r.url) as answer:
            page.evaluate("() => { window.diaban.map.setView([20.86, 106.68], 11); }")
        assert answer.value.status == 200
        page.wait_for_function(f"([pane, coarse]) => ({VERTICES})(pane) > 1.5 * coarse", arg=[pane, coarse])
        page.evaluate("() => { window.diaban.map.setView([20.9, 106.6], 12); }")  # once: the fine shapes are kept
        page.wait_for_load_state("networkidle")
        asked = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        assert len([url for url in asked if "/api/communes" in url]) == 2
        shot(page, f"national-fine-shapes-{pane}")
        assert errors == []
        page.close()


def test_the_ministrys_planner_draws_the_units_on_canvases_and_the_pointer_still_finds_them(
    chromium, nation_server: str
) -> None:
    """The units' classes and lines were SVG, a DOM path each: nation-wide the planner's page took seconds to draw
    them (README, Provinces). They are drawn on a canvas per pane, and a commune is still found under the pointer —
    through the lines' canvas over the classes: its tooltip on hover, its row opened by a click."""
    page, errors = open_as(chromium, nation_server, "bo-thammuu", DESKTOP)
    page.wait_for_selector("#run-status >> text=Bản nháp phiên bản 1")
    for pane in ("land", "classes", "lines"):
        assert page.locator(f".leaflet-{pane}-pane canvas").count() == 1
        assert page.locator(f".leaflet-{pane}-pane path").count() == 0
    code = "27475"  # Hồ Chí Minh's Phường Tân Hưng
    page.mouse.move(*commune_point(page, code))
    assert page.locator(".leaflet-tooltip").inner_text().startswith("Phường Tân Hưng: ")
    page.mouse.click(*commune_point(page, code))
    page.wait_for_selector(f"#communes tr.open[data-code='{code}']")
    shot(page, "national-planner-canvas")
    assert errors == []
    page.close()


def test_the_ministrys_command_page_says_which_province_its_hot_and_cold_cells_are_of(
    chromium, nation_server: str
) -> None:
    """Gi* is computed for the province nearest the view's centre: at the country's zoom an empty map said nothing.
    The page names the province from the answer's header, and again once the view moves to another province."""
    page, errors = open_as(chromium, nation_server, "bo-chihuy", DESKTOP)
    page.evaluate("() => { window.diaban.map.setView([20.86, 106.68], 11); }")
    page.locator(".leaflet-control-layers >> text=Ô nóng, ô lạnh (so với xung quanh)").click()
    told = "#message >> text=Ô nóng, ô lạnh tính cho {} — phóng to vào một tỉnh để xem tỉnh khác"
    page.wait_for_selector(told.format("Thành phố Hải Phòng"))
    commune_point(page, "27475")  # Hồ Chí Minh's Phường Tân Hưng
    page.wait_for_selector(told.format("Thành phố Hồ Chí Minh"))
    shot(page, "national-command-study-province")
    assert errors == []
    page.close()


def test_a_provincial_command_whose_province_the_run_does_not_hold_is_told_so_on_the_map(
    chromium, nation: Engine, nation_server: str
) -> None:
    """Quảng Ninh's command, no unit of it loaded: the page was refused whole (its KPI panel read the KPI report, which
    refuses the province), and the map of the classes came empty, as if no commune had a class. The page opens, its
    KPI panel and the layer's line say why, in the server's words, not in red."""
    with nation.begin() as conn:
        create_user(conn, "qn-chihuy", hash_password(DEMO_PASSWORD), "command", None, "22")
    page, errors = open_as(chromium, nation_server, "qn-chihuy", DESKTOP)
    page.wait_for_selector("body[data-ready='true']")
    assert "Tỉnh Quảng Ninh (mã 22) chưa có đơn vị hành chính nào" in page.locator("#kpi-note").inner_text()
    with page.expect_response(lambda r: "/api/classifications/" in r.url) as answer:
        page.locator(".leaflet-control-layers >> text=Phân loại xã").click()
    assert answer.value.status == 404
    said = f"Phiên bản 1 của năm {local_today().year - 1} không gồm đơn vị nào của Tỉnh Quảng Ninh"
    page.wait_for_function(f"() => document.getElementById('classes-year').textContent.startsWith({said!r})")
    assert page.locator("#message.error").count() == 0
    # A detection run covers every unit: the Ministry's command is offered it, a province's is not (403 if sent).
    assert page.locator("#detection-box").is_hidden()
    shot(page, "national-command-run-without-the-province")
    assert [e for e in errors if "404" not in e] == [], errors
    page.close()


def test_a_provincial_planner_whose_province_the_run_does_not_hold_is_told_so_once_and_shown_its_units(
    chromium, nation: Engine, nation_server: str, second_province_path: Path
) -> None:
    """The year's run holds no unit of Quảng Ninh: its planner's page showed the run with every class 0, then a table of
    «0 / 0 xã» and an empty comparison; then the server's sentence three times on one screen (status line, comparison,
    table count) beside a map of the whole country (~200 km across its scale bar) with nothing said of it. Now the
    sentence is said once, on the status line under the year, the comparison, filters and table are hidden, and the map
    says why it is empty (no unit of the province in the system); once the province's units are loaded (after the run:
    the run still holds none) the map opens on them, unclassified, and the status line says so. Last in this module:
    the province's units stay loaded."""
    with nation.begin() as conn:
        create_user(conn, "qn-thammuu", hash_password(DEMO_PASSWORD), "planner", None, "22")
    page, errors = open_as(chromium, nation_server, "qn-thammuu", DESKTOP)
    said = (
        f"Phiên bản 1 của năm {local_today().year} không gồm đơn vị nào của Tỉnh Quảng Ninh: chưa có kết quả phân loại"
    )
    page.wait_for_selector(f"#run-status >> text={said}")
    assert page.locator("main.panel").inner_text().count(said) == 1, "said once"
    assert "bản đồ không có gì để vẽ" in page.locator("#run-status").inner_text()
    assert page.locator("#review-table tbody tr").count() == 0
    for hidden in ("#diff", "#review-part", "#review-table", "#table-count", "#forecast"):
        assert not page.locator(hidden).is_visible(), hidden
    assert page.locator("#message.error").count() == 0
    shot(page, "national-planner-run-without-the-province")
    assert [e for e in errors if "404" not in e] == [], errors
    page.close()

    with nation.begin() as conn:
        import_boundaries(conn, second_province_path)
    for name, viewport in (("desktop", {"width": 1366, "height": 900}), ("phone", PHONE)):
        page, errors = open_as(chromium, nation_server, "qn-thammuu", viewport)
        page.wait_for_selector(f"#run-status >> text={said}")
        assert page.locator("main.panel").inner_text().count(said) == 1, "said once"
        assert "Bản đồ chỉ vẽ ranh giới các xã, phường của tỉnh" in page.locator("#run-status").inner_text()
        assert not page.locator("#diff").is_visible() and not page.locator("#review-part").is_visible()
        # The map is on the province's units: every one of them in view, and the view not the country's.
        view = page.evaluate("""() => { const map = window.diaban.map, bounds = map.getBounds();
            let all = null; map.eachLayer((l) => { if (l.feature && l.feature.properties.code && l.getBounds) {
              all = all ? all.extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(), l.getBounds().getNorthEast()); } });
            return { inView: all !== null && bounds.contains(all), width: bounds.getEast() - bounds.getWest() }; }""")
        assert view["inView"] and view["width"] < 2, view
        shot(page, f"national-planner-run-without-the-province-units-{name}")
        assert [e for e in errors if "404" not in e] == [], errors
        page.close()

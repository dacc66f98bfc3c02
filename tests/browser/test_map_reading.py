"""Reading the maps in a real browser: names and incidents at street zoom, the search box, zoom bounds, the legends
and the printable sheet, the KPI panel, the demo band, the phone layout, and the login page's words (every role's page is
swept for text that is not Vietnamese in test_page_walk.py).

The city, the server and Chromium are those of test_browser.py (same fixtures, a database of their own here); a
second server over the same city serves an offline basemap file made in the test.
Screenshots go to artifacts/ (desktop 1440×900, phone 390×844) for people to judge.
"""

from __future__ import annotations

import io
import math
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import test_browser as shared
import uvicorn
from basemap_files import make_mbtiles, png
from PIL import Image
from sqlalchemy import Engine, text
from test_browser import _MAP_SETTLED, DESKTOP, PHONE, open_as, shot
from vietnamese_text import foreign_words, shown_text

from api.app import configured_basemap, create_app
from gis.io.mbtiles import MBTiles
from models.analytics.emerging import PATTERNS
from models.vocabulary import (
    KPI_BLANK_MEANINGS,
    KPI_NO_DATA,
    KPI_NOT_APPLICABLE,
    IncidentKind,
    Role,
)

# The fixtures of test_browser.py, used here as they are (module-scoped: a city of this module's own).
city, server, chromium = shared.city, shared.server, shared.chromium
USERS = {"command": "chihuy", "team": "to01", "planner": "thammuu", "admin": "quantri"}


def view_hotspot(page, zoom: int) -> dict:
    """Centre the map on the hotspot with most incidents at `zoom`; its id, place, commune name and screen point."""
    hotspot = page.evaluate(
        """async (zoom) => {
        const found = await api('/api/hotspots');
        const f = found.features.sort((a, b) => b.properties.n_incidents - a.properties.n_incidents)[0];
        const [lon, lat] = f.geometry.coordinates;
        const map = window.diaban.map;
        map.setView([lat, lon], zoom, { animate: false });
        const commune = window.diaban.communes.find((c) => c.properties.code === f.properties.commune_code);
        return { id: f.properties.id, lat, lon, commune: commune.properties.full_name };
    }""",
        zoom,
    )
    page.wait_for_timeout(300)
    return hotspot


def test_street_zoom_names_the_place_and_opens_an_incident(chromium, server: str) -> None:
    """Acceptance: at zoom 17 a commune name is written over the map around a hotspot, and a click on a single
    incident opens its record's reference, day and kind."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    hotspot = view_hotspot(page, 17)
    labels = page.locator(".commune-label span")
    labels.first.wait_for()
    assert hotspot["commune"] in labels.all_inner_texts()
    box = page.locator(".folium-map").bounding_box()
    label = page.locator(".commune-label span", has_text=hotspot["commune"]).first.bounding_box()
    assert box["x"] <= label["x"] and label["x"] + label["width"] <= box["x"] + box["width"]
    assert box["y"] <= label["y"] and label["y"] + label["height"] <= box["y"] + box["height"]

    with page.expect_response(lambda r: "/tiles/incidents/17/" in r.url):
        page.locator(".leaflet-control-layers >> text=Vụ việc (số vụ theo ô").click()
    page.wait_for_timeout(600)  # the tiles are drawn
    # An incident away from the hotspot's circle (drawn above the incidents) and from other incidents.
    target = page.evaluate(
        """async (h) => {
        const map = window.diaban.map;
        const v = map.getBounds();
        const bbox = [v.getWest(), v.getSouth(), v.getEast(), v.getNorth()].join(',');
        const found = await api(`/api/incidents?bbox=${bbox}&limit=2000`);
        const centre = map.latLngToContainerPoint([h.lat, h.lon]);
        const points = found.features.filter((f) => f.geometry).map((f) => ({
            ref: f.properties.ref, p: map.latLngToContainerPoint([f.geometry.coordinates[1], f.geometry.coordinates[0]]) }));
        const size = map.getSize();
        const alone = points.filter((a) => a.p.distanceTo(centre) > 30 && a.p.x > 60 && a.p.y > 200
            && a.p.x < size.x - 60 && a.p.y < size.y - 60
            && points.every((b) => b === a || b.p.distanceTo(a.p) > 8));
        const rect = map.getContainer().getBoundingClientRect();
        return alone.length ? { ref: alone[0].ref, x: rect.left + alone[0].p.x, y: rect.top + alone[0].p.y } : null;
    }""",
        hotspot,
    )
    assert target, "no lone incident to click around the hotspot"
    page.mouse.click(target["x"], target["y"])
    popup = page.locator(".leaflet-popup .incident-popup")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert f"Vụ việc {target['ref']}" in text
    assert re.search(r"Ngày \d{2}/\d{2}/\d{4}", text)
    assert any(label in text for label in IncidentKind.labels().values())
    shot(page, "map-street-zoom-17-incident")
    assert errors == []
    page.close()


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point (Web Mercator)."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture(scope="module")
def offline_server(city: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """The app over the same city with an offline basemap (DIABAN_BASEMAP_PATH): an MBTiles file whose zoom-17 tiles
    around the busiest hotspot are a recognisable green, as a unit's own map would be there."""
    with city.connect() as conn:
        lat, lon = conn.execute(
            text("SELECT ST_Y(centroid), ST_X(centroid) FROM hotspots ORDER BY n_incidents DESC LIMIT 1")
        ).one()
    x, y = tile_of(lat, lon, 17)
    green = png((34, 139, 34))
    tiles = {(17, x + dx, y + dy): green for dx in (-2, -1, 0, 1, 2) for dy in (-2, -1, 0, 1, 2)}
    path = make_mbtiles(Path(tmp_path_factory.mktemp("basemap")) / "nen.mbtiles", tiles)
    app = create_app(city)
    app.state.offline_basemap = MBTiles(path)
    app.state.basemap = configured_basemap(app.state.offline_basemap)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not running.started and time.time() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", {"lat": lat, "lon": lon, "tile": (17, x, y)}
    running.should_exit = True
    thread.join(timeout=10)


def test_an_offline_basemap_shows_under_a_hotspot_at_street_zoom(chromium, offline_server) -> None:
    """Acceptance (basemap): at zoom 17 the tile under the busiest hotspot comes from the app's own MBTiles file,
    with the session cookie, and is drawn (the pixel beside the hotspot is the file's green)."""
    base, hotspot = offline_server
    page, errors = open_as(chromium, base, "chihuy", DESKTOP)
    assert page.evaluate("window.diaban.basemap") is True
    z, x, y = hotspot["tile"]
    # Answers are collected rather than awaited one by one: Leaflet may abandon a first request of the same tile
    # while the page settles and ask again, and only the answer the drawn tile came from counts.
    answers = []
    page.on("response", lambda r: answers.append(r) if r.url.endswith(f"/tiles/base/{z}/{x}/{y}.png") else None)
    # The heat surface is drawn over the basemap (half opaque at street zoom) and comes back for each new view: off.
    page.get_by_label("Mật độ vụ việc").uncheck()
    # In braces: setView returns the map, which Playwright would serialise whole (about 11 s).
    page.evaluate(
        "([lat, lon]) => { window.diaban.map.setView([lat, lon], 17, { animate: false }); }",
        [hotspot["lat"], hotspot["lon"]],
    )
    tile = f"img.leaflet-tile-loaded[src$='/tiles/base/{z}/{x}/{y}.png']"
    page.locator(tile).wait_for()
    assert answers and all(a.status == 200 and a.headers["content-type"] == "image/png" for a in answers)
    # The tile has faded in, and no image overlay lies over it.
    page.wait_for_function(
        """(tile) => [...document.querySelectorAll(tile)].some((i) => getComputedStyle(i).opacity === "1")
        && document.querySelectorAll(".leaflet-image-layer").length === 0""",
        arg=tile,
    )
    point = page.evaluate(
        """([lat, lon]) => { const map = window.diaban.map; const p = map.latLngToContainerPoint([lat, lon]);
        const r = map.getContainer().getBoundingClientRect(); return { x: r.left + p.x + 60, y: r.top + p.y + 60 }; }""",
        [hotspot["lat"], hotspot["lon"]],
    )
    pixel = Image.open(io.BytesIO(page.screenshot())).convert("RGB").getpixel((round(point["x"]), round(point["y"])))
    assert abs(pixel[0] - 34) < 25 and abs(pixel[1] - 139) < 25 and abs(pixel[2] - 34) < 25, pixel
    shot(page, "map-offline-basemap-zoom-17")
    assert errors == []
    page.close()


def test_search_box_flies_to_names_codes_coordinates_hotspots_and_tasks(chromium, server: str) -> None:
    """On a device asking for less motion (the system's «reduce motion»): the map is at each place found as soon as
    the page names it, without the 0.8 s flight (which test_search_box_suggests_the_unit_… keeps)."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP, reduced_motion="reduce")
    commune = page.evaluate(
        """() => window.diaban.communes.map((c) => c.properties)
        .find((p) => /[^\\x00-\\x7f]/.test(p.name) && window.diaban.communes.filter((o) =>
            o.properties.name === p.name).length === 1)"""
    )
    plain = page.evaluate("(text) => plain(text)", commune["name"])
    assert plain != commune["name"].lower()  # the test types it without accents

    def search(text: str) -> str:
        """What the page says of a search; the map already at the place found (if any) when it says it."""
        page.evaluate("""() => { document.getElementById('message').textContent = ''; window.flown = false;
            window.diaban.map.once('moveend', () => { window.flown = true; }); }""")
        page.fill(".map-search input", text)
        page.press(".map-search input", "Enter")
        page.wait_for_function("() => document.getElementById('message').textContent")  # after the search's request
        if page.locator("#message.error").count() == 0:
            assert page.evaluate("window.flown"), text  # no flight under way
        return page.locator("#message").inner_text()

    def click_choice(button) -> str:
        """What the page says once a choice of the search's list is picked (the map there already)."""
        page.evaluate("""() => { document.getElementById('message').textContent = ''; window.flown = false;
            window.diaban.map.once('moveend', () => { window.flown = true; }); }""")
        button.click()
        page.wait_for_function("() => document.getElementById('message').textContent")
        assert page.evaluate("window.flown")
        return page.locator("#message").inner_text()

    assert commune["full_name"] in search(plain)
    # Its kind written short, as officers write it: with or without the dot, the space or the accents.
    kind = commune["full_name"][: -len(commune["name"])].strip()
    short = {"Phường": "P", "Xã": "X", "Đặc khu": "ĐK"}[kind]
    for typed in (f"{short}. {commune['name']}", f"{short}.{plain}", f"{short.lower()} {plain}"):
        assert commune["full_name"] in search(typed), typed
    centre = page.evaluate("window.diaban.map.getCenter()")
    assert page.evaluate(
        "([c, lat, lng]) => window.diaban.communes.find((f) => f.properties.code === c).geometry && true",
        [commune["code"], centre["lat"], centre["lng"]],
    )
    assert commune["full_name"] in search(commune["code"])
    # A current name that was also an old unit's, the old unit now lying in another current unit: Phường Ngô Quyền,
    # and the old Xã Ngô Quyền of Huyện Thanh Miện (Hải Dương), now in Xã Hải Hưng, offered after it.
    page.fill(".map-search input", "Ngô Quyền")
    page.press(".map-search input", "Enter")
    choice = page.locator(".search-choices button")
    choice.first.wait_for(timeout=5000)
    assert choice.all_inner_texts() == ["Phường Ngô Quyền", "Ngô Quyền (cũ, Huyện Thanh Miện) → Xã Hải Hưng"]
    assert (
        choice.nth(1).get_attribute("title") == "Xã Ngô Quyền, Huyện Thanh Miện, Tỉnh Hải Dương: nay thuộc Xã Hải Hưng"
    )
    assert "Phường Ngô Quyền (mã 11329)" in click_choice(choice.first)
    # A server slow to name the former units does not hold the flight to the exact match: it flies while the request
    # is still unanswered (not given up after a read's time, which would fail it).
    held: list = []
    given_up: list[str] = []
    former = re.compile(r"/api/communes/former\?")
    page.route(former, lambda route: held.append(route))
    page.on("requestfailed", lambda r: given_up.append(r.url) if former.search(r.url) else None)
    assert "Phường Ngô Quyền (mã 11329)" in search("Ngô Quyền")
    assert len(held) == 1 and given_up == []
    held[0].continue_()
    page.unroute(former)
    # The old unit of a current name lying in that unit only (Phường Lê Thanh Nghị): it flies there at once.
    assert "Phường Lê Thanh Nghị (mã 10532)" in search("Lê Thanh Nghị")
    assert page.locator(".search-choices").is_hidden()
    assert "20.86" in search("20°51'36\"N 106°40'48\"E")
    centre = page.evaluate("window.diaban.map.getCenter()")
    assert abs(centre["lat"] - 20.86) < 1e-3 and abs(centre["lng"] - 106.68) < 1e-3
    assert "20.85000" in search("20,85; 106,7")
    assert page.evaluate("window.diaban.map.getZoom()") == 17
    hotspot = page.evaluate("api('/api/hotspots').then((c) => c.features[0].properties.id)")
    assert f"Điểm nóng #{hotspot}" in search(f"#{hotspot}")
    page.locator(f".leaflet-popup .card[data-hotspot-id='{hotspot}']").wait_for(timeout=5000)
    task = page.evaluate("api('/api/tasks?limit=1').then((t) => t.tasks[0].id)")
    search(f"nv {task}")
    page.locator(f"#task-table .card[data-task-id='{task}']").wait_for(timeout=5000)
    # A row of the hotspot register: the map there at once, the hotspot's popup open on it.
    page.click("nav.tabs button[data-tab=hotspots]")
    row = page.locator("#hotspot-table tr[data-hotspot-id]").nth(1)
    second = row.get_attribute("data-hotspot-id")
    row.click()
    page.locator(f".leaflet-popup .card[data-hotspot-id='{second}']").wait_for(timeout=5000)
    page.click("nav.tabs button[data-tab=overview]")
    message = search("không có nơi này")
    assert "Không tìm thấy" in message and page.locator("#message.error").count() == 1
    assert "ngoài Hải Phòng" in search("10.78, 106.70")  # Hồ Chí Minh City
    shot(page, "map-search")
    # The messages name the province of the page's configuration (the server's, tests/api/test_province_names.py).
    assert page.get_attribute(".map-buttons button:nth-child(2)", "title") == "Xem toàn bộ đất liền Hải Phòng"
    page.evaluate("() => { window.diaban.area = 'Quảng Ninh'; }")
    assert "nằm ngoài Quảng Ninh" in search("10.78, 106.70")
    page.evaluate("() => { window.diaban.area = null; }")  # nation-wide
    assert "nằm ngoài vùng bản đồ" in search("10.78, 106.70")
    assert errors == []
    page.close()


def test_search_box_suggests_the_unit_a_former_name_became_part_of(chromium, server: str) -> None:
    """«Hạ Lý», a ward of the former Hồng Bàng district (merged into Thượng Lý on 1/1/2025), is offered as the current
    Phường Hồng Bàng it became part of, said so; picking it flies there as a current name does. On a 390 px phone."""
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    page.evaluate(
        """() => { window.flown = false; window.diaban.map.once('moveend', () => { window.flown = true; }); }"""
    )
    page.fill(".map-search input", "Hạ Lý")
    page.press(".map-search input", "Enter")
    choice = page.locator(".search-choices button")
    choice.first.wait_for(timeout=5000)
    assert choice.all_inner_texts() == ["Hạ Lý (cũ, Quận Hồng Bàng) → Phường Hồng Bàng"]
    assert choice.first.get_attribute("title") == (
        "Hạ Lý đã nhập vào Phường Thượng Lý, Quận Hồng Bàng, Thành phố Hải Phòng; nay thuộc Phường Hồng Bàng"
    )
    box = choice.first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 44
    shot(page, "map-search-former-phone")
    choice.first.click()
    page.wait_for_function("() => window.flown")
    assert "Phường Hồng Bàng (mã 11311)" in page.locator("#message").inner_text()
    assert page.locator(".search-choices").is_hidden()
    centre = page.evaluate("window.diaban.map.getCenter()")
    assert page.evaluate(
        """([lat, lng]) => insideGeometry([lng, lat],
            window.diaban.communes.find((f) => f.properties.code === '11311').geometry)""",
        [centre["lat"], centre["lng"]],
    )
    assert errors == []
    page.close()


def test_zoom_is_bounded_around_the_city_and_bach_long_vi(chromium, server: str) -> None:
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    state = page.evaluate(
        """() => { const map = window.diaban.map;
        map.setZoom(3, { animate: false }); const zoom = map.getZoom();
        map.setView([0, 0], 9, { animate: false }); const centre = map.getCenter();
        const bounds = L.latLngBounds(window.diaban.maxBounds);
        return { zoom, inside: bounds.contains(centre), island: bounds.contains(window.diaban.bachLongVi) }; }"""
    )
    assert state == {"zoom": 8, "inside": True, "island": True}
    assert errors == []
    page.close()


def test_legends_kpis_and_the_printable_sheet(chromium, server: str) -> None:
    """The KPI panel compares this year's value with this year's target; each layer has its legend (17 emerging
    outcomes, the heat ramp with values and σ, circle sizes); the print sheet carries title, legend, scale, north
    arrow, date and the markings, and prints on one landscape page."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    year = page.evaluate("window.diaban.kpi.year")
    report = page.evaluate(f"api('/api/reports/kpi?year={year}')")
    share = next(k for k in report["kpis"] if k["key"] == "drug_free_share")
    recurrences = next(k for k in report["kpis"] if k["key"] == "recurrences")
    assert page.locator("#kpi-drug-free-label").inner_text().startswith(f"Tỷ lệ xã không ma túy năm {year}")
    target = page.locator("#kpi-target").inner_text()
    assert page.locator("#kpi-target-label").inner_text() == f"Mục tiêu năm {year}"
    assert ("không đạt" in target) == (share["met"] is False) and ("đạt" in target)
    assert f"{share['target'] * 100:.1f}".rstrip("0").rstrip(".").replace(".", ",") in target
    # How each target binds, as the KPI file says it: a share at least, the recurrences at most.
    assert target.startswith("tối thiểu ") and share["bound"] == "at_least"
    limit = page.locator("#kpi-recurred small").inner_text()
    assert limit == f"(tối đa {recurrences['target']})" and recurrences["bound"] == "at_most"
    assert page.locator("#kpi-final-label").inner_text() == "Mục tiêu năm 2030"
    assert page.locator("#kpi-recurred-label").inner_text() == f"Điểm phức tạp trở lại năm {year}"
    # Unknown while the hotspot records do not cover the year whole (the city's lifecycle begins 180 days back).
    recurred = KPI_NO_DATA if recurrences["value"] is None else str(recurrences["value"])
    assert page.locator("#kpi-recurred").inner_text().startswith(recurred)

    assert page.locator("details.legend[data-layer=emerging] .legend-row").count() == len(PATTERNS) == 17
    page.wait_for_function("() => document.getElementById('heat-high').textContent.includes('vụ/km²')")
    # In plain words under the ramp (how far each incident spreads); the kernel, σ and the cell in its tooltip and the help.
    spread = page.locator("#heat-legend")
    assert "mỗi vụ tính lan ra khoảng" in spread.inner_text() and "σ" not in spread.inner_text(), spread.inner_text()
    assert spread.inner_text().endswith("; thang màu và độ lan tính lại khi kéo hay phóng bản đồ")  # follow the view
    assert "σ =" in spread.get_attribute("title") and "2,83σ" in spread.get_attribute("title")
    shown = page.locator("main.panel").inner_text()
    assert not any(word in shown for word in ("Gi*", "Gauss", "17 dạng")), shown  # the help folded: plain words only
    # A window after the newest incident: the legend says the data stop there (it said only «Không có vụ việc nào»).
    last = date.fromisoformat(page.evaluate("window.diaban.lastIncident"))
    page.fill("#filters input[name=from]", f"{last + timedelta(days=1):%d/%m/%Y}")
    page.fill("#filters input[name=to]", f"{last + timedelta(days=30):%d/%m/%Y}")
    page.click("#filters button[type=submit]")
    page.locator("#heat-legend", has_text=f"dữ liệu vụ việc chỉ đến hết ngày {last:%d/%m/%Y}").wait_for()
    page.fill("#filters input[name=from]", "")
    page.fill("#filters input[name=to]", "")
    page.click("#filters button[type=submit]")
    page.wait_for_function("() => document.getElementById('heat-legend').textContent.includes('mỗi vụ tính lan ra')")
    help_text = page.locator("main.panel details.help").text_content()
    assert all(word in help_text for word in ("Getis-Ord Gi*", "nhân Gauss", "2,83σ", "17 dạng")), help_text
    assert page.locator("details.legend[data-layer=hotspots] svg.size").count() == 3
    for layer in (
        "Phân loại xã (năm đã duyệt gần nhất)",
        "Ô nóng, ô lạnh (so với xung quanh)",
        "Xu hướng ô nóng, ô lạnh theo thời gian",
    ):
        page.locator(f".leaflet-control-layers >> text={layer}").click()
    page.wait_for_timeout(1500)
    shot(page, "map-all-layers")

    screen = page.evaluate("() => window.diaban.map.getBounds().toBBoxString()")
    page.click(".print-open")
    sheet = page.locator(".print-sheet")
    sheet.wait_for()
    page.wait_for_timeout(800)
    # The screen's view whole on the A4 sheet, smaller than the screen (the page's least zoom had held it closer,
    # the eastern island cut at the frame's edge).
    assert page.evaluate(
        """box => { const [w, s, e, n] = box.split(',').map(Number);
        window.diaban.map.invalidateSize({ animate: false, pan: false });  // the map's size as laid out now
        return window.diaban.map.getBounds().contains(L.latLngBounds([s, w], [n, e])); }""",
        screen,
    )
    text = sheet.inner_text()
    assert (
        "MẬT" in text
        and "Dữ liệu giả lập" in text
        and "demo" not in text
        and re.search(r"Ngày in: \d{2}/\d{2}/\d{4}", text)
    )
    assert sheet.locator(".print-map .leaflet-control-scale").count() == 1
    assert sheet.locator(".north-arrow").is_visible()
    assert sheet.locator(".print-legend .legend-row").count() > 20  # the legends of the five layers shown
    # The hotspots' legend on paper names only the statuses of hotspots on the map (it listed all of them).
    statuses = page.evaluate(
        "() => [...new Set(Object.values(window.diaban.map._layers).map((l) => l.feature?.properties?.status)"
        ".filter((s) => s && !s.startsWith?.('__')))]"
    )
    printed = sheet.locator(".print-legend details[data-layer=hotspots] .legend-row[data-key]").evaluate_all(
        "(rows) => rows.filter((r) => getComputedStyle(r).display !== 'none').map((r) => r.dataset.key)"
    )
    assert statuses and sorted(printed) == sorted(statuses), (printed, statuses)
    # The density's method on paper, under its legend (on screen it is in a tooltip, which paper has not): the select's
    # label and choice, the spread and the cell, the period and the kinds — inside the legend's box, not cut off.
    method = sheet.locator(".print-legend details[data-layer=heat] .print-note")
    assert "kéo hay phóng" not in sheet.locator(".print-legend details[data-layer=heat]").inner_text()  # on paper
    period = page.locator("#month-label").inner_text().lower()
    words = method.inner_text()
    assert words.startswith("Cách tính mật độ: lan mềm, xa dần (mặc định) — nhân Gauss, σ = "), words
    assert re.search(rf"; ô \d[\d.]* m; vụ việc {re.escape(period)}; loại vụ việc: tất cả$", words), words
    assert page.evaluate(
        """() => { const legend = document.querySelector('.print-legend').getBoundingClientRect();
        const line = document.querySelector('.print-legend .print-note').getBoundingClientRect();
        return line.height > 0 && line.bottom <= legend.bottom + 0.5 && line.right <= legend.right + 0.5; }"""
    )
    # Nothing of the legend split between its two columns, the circle sizes' rows included (on A4 with every layer
    # shown «1 vụ việc» ended one column, «25» and «100+» began the next).
    assert "columns-2" in (page.locator(".print-legend").get_attribute("class") or "")
    split = [text for text, columns in page.evaluate(_LEGEND_SENTENCE_COLUMNS) if columns > 1]
    shot(page, "map-print-a4")
    assert split == [], split
    # Nor any of it cut off: in two columns what did not fit went to a third, off the sheet (the trends' last rows).
    assert page.evaluate(
        """() => { const l = document.querySelector('.print-legend');
        return l.scrollWidth <= l.clientWidth + 1 && l.scrollHeight <= l.clientHeight + 1; }"""
    )
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    page.click(".print-close")
    assert page.locator(".print-sheet").count() == 0
    assert errors == []
    page.close()


# Each canvas of the map (keyed by its pane: land, classes, lines): its width in pixels and in CSS pixels.
_CANVASES = """() => Object.fromEntries([...document.querySelectorAll('.print-map canvas')].map((c) =>
    [c.parentElement.className.match(/leaflet-(\\w+)-pane/)[1], [c.width, c.clientWidth]]))"""


def test_a_printed_map_draws_its_canvases_sharp(chromium, server: str, tmp_path: Path) -> None:
    """The units' land, classes and lines are drawn on canvases, which the browser printed as pictures of the screen's
    pixels, ~96 dpi, soft on paper where SVG had printed as vectors. While the sheet prints (a PDF) each canvas holds 3
    pixels per CSS pixel and the PDF carries no picture of a canvas at the screen's pixels (Chromium prints them as
    vectors); the printed map still shows the water and the land under the lines; after it the screen's ratio."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    with page.expect_response(lambda r: "/api/classifications/" in r.url):
        page.locator(".leaflet-control-layers >> text=Phân loại xã (năm đã duyệt gần nhất)").click()
    page.wait_for_selector(".leaflet-classes-pane canvas")
    page.click(".print-open")
    page.locator(".print-sheet").wait_for()
    page.evaluate(_MAP_SETTLED)
    screen = page.evaluate(_CANVASES)
    # Run after the page's own beforeprint listener (added first): what the printer receives.
    page.evaluate(f"() => addEventListener('beforeprint', () => {{ window.printed = ({_CANVASES})(); }})")
    # The map's box on the printed page (the sheet's page printed from its top left corner).
    box = page.evaluate("""() => {
        const map = document.querySelector('.print-map').getBoundingClientRect();
        const sheet = document.querySelector('.print-page').getBoundingClientRect();
        return [map.left - sheet.left, map.top - sheet.top, map.right - sheet.left, map.bottom - sheet.top]; }""")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    printed = page.evaluate("window.printed")
    assert set(screen) == {"land", "classes", "lines"}
    assert {pane: width / css for pane, (width, css) in screen.items()} == {pane: 1 for pane in screen}
    assert {pane: width / css for pane, (width, css) in printed.items()} == {pane: 3 for pane in screen}
    assert page.evaluate(_CANVASES) == screen
    pictures = {int(w) for w in re.findall(rb"/Subtype\s*/Image\b[^>]*?/Width\s+(\d+)", pdf)}
    assert not pictures & {width for width, _ in screen.values()}, pictures
    # The printed page at 96 dpi, one pixel a CSS pixel: the map's water (the ground around the city) and its land.
    (shared.ARTIFACTS / "map-print-a4.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "96", "-png", "-singlefile", shared.ARTIFACTS / "map-print-a4.pdf", tmp_path / "map"],
        check=True,
    )
    printed_map = Image.open(tmp_path / "map.png").convert("RGB")
    printed_map = printed_map.crop(tuple(round(v) for v in box))
    colours = printed_map.getcolors(maxcolors=printed_map.width * printed_map.height)
    share = {
        name: sum(n for n, rgb in colours if max(abs(a - b) for a, b in zip(rgb, want)) <= 6)
        / (printed_map.width * printed_map.height)
        for name, want in (("water", (0xCA, 0xDF, 0xEC)), ("white", (255, 255, 255)))
    }
    assert share["water"] > 0.2 and share["white"] < 0.01, share
    assert errors == []
    page.close()


def test_the_printed_density_legend_is_that_of_the_printed_map(chromium, server: str) -> None:
    """The sheet's map is another size than the screen's, at another zoom, and its density is drawn again for it: the
    sheet's legend had kept the screen's scale and spread («≥ 165,1 vụ/km²», σ = 400 m) under a map drawn at another
    («≥ 102 vụ/km²»), and so after a zoom on the sheet. The sheet's legend and note say what the page's legend says of
    the map drawn."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.wait_for_function("() => document.getElementById('heat-high').textContent.includes('vụ/km²')")
    on_screen = page.locator("#heat-high").inner_text()
    page.click(".print-open")
    page.locator(".print-sheet").wait_for()
    page.evaluate(_MAP_SETTLED)
    # The sheet's map at another zoom (the sheet's own size gave one on a 1366 × 900 screen; here, a wheel's turn).
    page.evaluate("() => window.diaban.map.zoomIn(2, { animate: false }) && null")
    page.evaluate(_MAP_SETTLED)
    page.wait_for_function(f"() => document.getElementById('heat-high').textContent !== {on_screen!r}")
    page.wait_for_function(
        """() => { const page = document.querySelector('main.panel details.legend[data-layer=heat]');
        const sheet = document.querySelector('.print-legend details[data-layer=heat]');
        return sheet && sheet.querySelector('.print-note') && page.textContent.trim()
          === sheet.textContent.replace(sheet.querySelector('.print-note').textContent, '').trim(); }"""
    )
    note = page.locator(".print-legend details[data-layer=heat] .print-note").inner_text()
    spread = page.evaluate("() => document.getElementById('heat-legend').title.split('; ').slice(1).join('; ')")
    assert spread and spread in note, (spread, note)
    assert errors == []
    page.close()


def test_a_printed_legend_keeps_its_colours_without_background_graphics(chromium, server: str, tmp_path: Path) -> None:
    """Printed as a browser's print dialog prints by default, «background graphics» off: every swatch of the legend and
    the density bar are backgrounds and came out blank, the hotspots' statuses not told apart on paper. The sheet keeps
    its colours (print-color-adjust: exact)."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.click(".print-open")
    page.locator(".print-sheet").wait_for()
    page.evaluate(_MAP_SETTLED)
    boxes = page.evaluate("""() => {
        const sheet = document.querySelector('.print-page').getBoundingClientRect();
        return [...document.querySelectorAll('.print-legend .swatch:not(.veil), .print-legend .heat-scale')]
          .filter((e) => e.getClientRects().length)
          .map((e) => { const r = e.getBoundingClientRect();
            return [r.left - sheet.left + 3, r.top - sheet.top + 3, r.right - sheet.left - 3, r.bottom - sheet.top - 3]; });
    }""")
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(page.pdf(prefer_css_page_size=True, print_background=False))
    subprocess.run(["pdftoppm", "-r", "96", "-png", "-singlefile", pdf, tmp_path / "sheet"], check=True)
    printed = Image.open(tmp_path / "sheet.png").convert("RGB")
    blank = [box for box in boxes if printed.crop(tuple(round(v) for v in box)).getextrema() == ((255, 255),) * 3]
    assert len(boxes) >= 5 and blank == [], (len(boxes), blank)
    assert errors == []
    page.close()


def test_a_map_printed_from_a_phone_fills_its_frame_without_the_screen_buttons(
    chromium, server: str, city: Engine
) -> None:
    """The team prints its area from the phone: the sheet's map stopped at the height the phone's page had given it
    (a blank band under it on paper), and the buttons a phone keeps at the map's bottom left («Bạch Long Vĩ», «Đất
    liền», «In bản đồ») were printed on the map. The map fills the sheet's frame; no screen button is on the sheet.
    The phone showed only the sheet's top left corner («MẬT», the date and the legend off screen): it shows the whole
    sheet, smaller, and the paper is still one landscape page."""
    team_user, _ = shared.team_with_open_task(city)
    page, errors = open_as(chromium, server, team_user, PHONE)
    page.click(".print-open")
    page.locator(".print-sheet").wait_for()
    page.evaluate(_MAP_SETTLED)
    frame, drawn = page.evaluate("""() => [document.querySelector('.print-map'),
        document.querySelector('.print-map .folium-map')].map((e) => e.getBoundingClientRect().height)""")
    assert drawn >= frame - 2, (drawn, frame)
    buttons = page.locator(".print-sheet .map-buttons button")
    assert buttons.evaluate_all("all => all.filter((b) => b.getClientRects().length).map((b) => b.textContent)") == []
    sheet = page.evaluate("() => document.querySelector('.print-page').getBoundingClientRect().toJSON()")
    assert 0 <= sheet["left"] and sheet["right"] <= PHONE["width"], sheet
    mark = page.locator(".print-sheet .secret-mark").evaluate("(e) => e.getBoundingClientRect().right")
    assert mark <= sheet["right"]
    shot(page, "map-print-from-phone")
    page.emulate_media(media="print")  # on paper the sheet has its own size: A4 landscape at 96 dpi
    assert page.evaluate("() => document.querySelector('.print-page').getBoundingClientRect().width") == 1122
    page.emulate_media(media="screen")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    page.click(".print-close")
    page.evaluate(_MAP_SETTLED)
    assert page.locator(".map-buttons .print-open").is_visible()  # back on the page, as it was
    assert errors == []
    page.close()


#: Each sentence of the printed legend (a paragraph under a layer's rows) and, per sentence, the distinct left edges of
#: its lines, to the pixel: two edges, its lines lie in two columns.
_LEGEND_SENTENCE_COLUMNS = """() => {
  const legend = document.querySelector('.print-legend');
  const box = legend.getBoundingClientRect();
  const width = box.width / (Number(getComputedStyle(legend).columnCount) || 1);  // a column and its share of the gap
  return [...legend.querySelectorAll('p, .sizes')].map((p) => {
    const range = document.createRange();
    range.selectNodeContents(p);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    return [p.textContent.trim(), new Set(rects.map((r) => Math.floor((r.left - box.left) / width))).size];
  });
}"""


def test_a_sentence_of_the_printed_legend_is_not_split_between_its_columns(chromium, server: str) -> None:
    """Command prints its map from a phone: hotspots, density and classes shown, the legend goes to two columns (common.js
    printSheet), and «Cỡ vòng tròn: … khi xem cả thành» ended the first column, «phố).» began the second. A sentence of
    the legend stays whole in one column, as a layer's rows do; so do the circle sizes' three rows («1 vụ việc» had
    ended one column, «25» and «100+» begun the next)."""
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    # The communes' classes shown too: the hotspots' legend names only the statuses on the map, and hotspots and
    # density alone now fit one column.
    page.evaluate(  # the layers' control is folded on a phone: its box ticked as a tap on it would
        """() => [...document.querySelectorAll('.leaflet-control-layers label')]
            .find((l) => l.textContent.includes('Phân loại xã')).querySelector('input').click()"""
    )
    page.evaluate(_MAP_SETTLED)
    page.click(".print-open")
    page.locator(".print-sheet").wait_for()
    page.evaluate(_MAP_SETTLED)
    assert "columns-2" in (page.locator(".print-legend").get_attribute("class") or "")  # the case under test
    sentences = page.evaluate(_LEGEND_SENTENCE_COLUMNS)
    assert any(text.startswith("1 vụ việc") for text, _ in sentences), sentences  # the sizes measured as one block
    assert sentences and [text for text, columns in sentences if columns > 1] == [], sentences
    shot(page, "map-print-legend-sentences-whole")
    page.click(".print-close")
    assert errors == []
    page.close()


def test_a_teams_printed_map_names_the_team(chromium, server: str, city: Engine) -> None:
    """The team prints its map: the line under the sheet's title was empty, and nothing on the paper said whose area
    and tasks it shows. It names the team."""
    team_user, _ = shared.team_with_open_task(city)
    with city.connect() as conn:
        team = conn.execute(
            text("SELECT t.name FROM teams t JOIN users u ON u.team_id = t.id WHERE u.username = :u"), {"u": team_user}
        ).scalar_one()
    page, errors = open_as(chromium, server, team_user, PHONE)
    page.click(".print-open")
    assert page.locator(".print-head p").inner_text() == f"{team} — địa bàn và nhiệm vụ của tổ"
    shot(page, "map-print-team-named")
    page.click(".print-close")
    assert errors == []
    page.close()


def test_a_printed_map_names_the_days_of_its_incidents(chromium, server: str) -> None:
    """The printed sheet said «Theo khoảng ngày đã chọn» under its title, whether days were typed or not: the paper
    did not say which incidents the density shows. It names the days typed, or says that no day was chosen; the line
    under the month slider says the same."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    assert page.locator("#month-label").inner_text() == "Mọi ngày (chưa chọn khoảng ngày)"
    page.click(".print-open")
    subtitle = page.locator(".print-head p")
    assert subtitle.inner_text() == "Ban chỉ huy — vụ việc mọi ngày (chưa chọn khoảng ngày); loại vụ việc: tất cả"
    page.click(".print-close")
    page.fill("#filters input[name=from]", "01/03/2026")
    page.fill("#filters input[name=to]", "31/05/2026")
    page.click("#filters button[type=submit]")
    page.wait_for_function("() => document.getElementById('month-label').textContent.startsWith('Từ')")
    assert page.locator("#month-label").inner_text() == "Từ 01/03/2026 đến 31/05/2026"
    page.click(".print-open")
    assert subtitle.inner_text() == "Ban chỉ huy — vụ việc từ 01/03/2026 đến 31/05/2026; loại vụ việc: tất cả"
    shot(page, "map-print-days-named")
    page.click(".print-close")
    assert errors == []
    page.close()


def test_a_printed_map_names_the_year_of_the_communes_classes(chromium, server: str) -> None:
    """Command prints its map with the communes' classes: the sheet's legend said «Phân loại xã» and nothing on the
    paper said of which year. The line under the title names the approved year the classes are of."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    with page.expect_response(lambda r: "/api/classifications/" in r.url):
        page.locator(".leaflet-control-layers >> text=Phân loại xã (năm đã duyệt gần nhất)").click()
    page.click(".print-open")
    assert page.locator(".print-head p").inner_text().endswith("; phân loại xã năm 2025 (đã phê duyệt)")
    shot(page, "map-print-classes-year")
    page.click(".print-close")
    assert errors == []
    page.close()


def test_a_printed_classification_says_whether_it_is_approved(chromium, server: str) -> None:
    """The planner's printed sheet said «Phân loại xã, phường, đặc khu năm 2026» of the year's draft as of an approved
    year: a draft's map could be handed round as the result. It names the version and whether it is approved."""
    page, errors = open_as(chromium, server, "thammuu", DESKTOP)
    page.wait_for_selector("#run-status >> text=Bản nháp phiên bản 1")
    page.click(".print-open")
    subtitle = page.locator(".print-head p")
    assert subtitle.inner_text() == "Phân loại xã, phường, đặc khu năm 2026 — bản nháp phiên bản 1, chưa phê duyệt"
    shot(page, "map-print-classification-draft")
    page.click(".print-close")
    page.select_option("#year", "2025")
    page.wait_for_selector("#run-status >> text=Đã phê duyệt phiên bản 1")
    page.click(".print-open")
    assert subtitle.inner_text() == "Phân loại xã, phường, đặc khu năm 2025 — đã phê duyệt, phiên bản 1"
    page.click(".print-close")
    assert errors == []
    page.close()


def test_a_kpi_without_data_and_one_without_a_target_say_which(chromium, server: str) -> None:
    """A dash meant both «no data yet» and «no target here»: the KPI panel says «chưa có số liệu» or «không áp dụng»
    (the words of the KPI report in Excel, models.vocabulary), each explained by its tooltip. The page is served with
    a panel of such figures (a year classified with no unit counted, targets without this year's line)."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)

    def blank_kpis(route) -> None:
        served = route.fetch()
        html = re.sub(
            r'"drugFree": \{[^}]*\}',
            '"drugFree": {"year": 2026, "approved": true, "value": null, "target": null, "met": null, "note": "", "bound": null}',
            served.text(),
        )
        html = re.sub(
            r'"recurrences": \{[^}]*\}',
            '"recurrences": {"year": 2026, "value": 2, "target": null, "met": null, "bound": null}',
            html,
        )
        route.fulfill(response=served, body=html)

    page.route(lambda url: url.rstrip("/") == server.rstrip("/"), blank_kpis)
    page.goto(f"{server}/")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#kpi-drug-free").inner_text() == KPI_NO_DATA
    assert page.locator("#kpi-target").inner_text() == KPI_NOT_APPLICABLE
    assert page.locator("#kpi-recurred").inner_text() == f"2 (chỉ tiêu: {KPI_NOT_APPLICABLE})"
    assert page.locator("#kpi-target .kpi-blank").get_attribute("title") == KPI_BLANK_MEANINGS[KPI_NOT_APPLICABLE]
    assert page.locator("#kpi-drug-free .kpi-blank").get_attribute("title") == KPI_BLANK_MEANINGS[KPI_NO_DATA]
    shot(page, "command-kpi-blanks")
    assert errors == []
    page.close()


def test_demo_band_on_every_page(chromium, server: str) -> None:
    """The synthetic city says so on every page, the login form included."""
    login = chromium.new_page(viewport=DESKTOP)
    login.goto(f"{server}/login")
    assert login.locator(".demo-band").inner_text().startswith("Dữ liệu giả lập —")
    login.close()
    for username in USERS.values():
        page, errors = open_as(chromium, server, username, DESKTOP)
        band = page.locator(".demo-band")
        assert band.is_visible() and "Dữ liệu giả lập —" in band.inner_text()
        assert band.bounding_box()["y"] < page.locator("main.panel").bounding_box()["y"]  # over the panel, not under
        assert errors == []
        page.close()


def test_a_read_cut_off_on_the_way_is_asked_again_and_a_change_is_not(chromium, server: str) -> None:
    """The pages' api(): a GET that fails on the network (a server going down while it answered, which nginx cannot
    retry once it has passed the header on) is sent once more; a POST is sent once, as it may have been done."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    sent: dict[str, int] = {"GET": 0, "POST": 0}

    def cut_the_first(route) -> None:
        sent[route.request.method] += 1
        if sent[route.request.method] == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/auth/me", cut_the_first)
    assert page.evaluate("async () => (await api('/api/auth/me')).username") == "chihuy"
    assert sent["GET"] == 2
    page.route("**/api/tasks/*/comments", cut_the_first)
    refused = page.evaluate(
        """async () => {
        try {
            await api('/api/tasks/1/comments', { method: 'POST', body: JSON.stringify({ note: 'thử' }) });
            return null;
        } catch (error) { return error.name; }
    }"""
    )
    assert (refused, sent["POST"]) == ("TypeError", 1)
    assert [e for e in errors if "ERR_CONNECTION_RESET" not in e] == []
    page.close()


@pytest.mark.parametrize("role", list(USERS))
def test_phone_header_map_and_touch_targets(chromium, server: str, role: str) -> None:
    """On a 390×844 phone: the title fits, the role is shown, the page can be zoomed, the map fills its part of the
    screen without a blank band, what a finger presses is at least 44 px high, and the search box keeps to the map's
    top strip beside the zoom and layers buttons (under the zoom buttons it covered the middle of the small map)."""
    page, errors = open_as(chromium, server, USERS[role], PHONE)
    assert "user-scalable=no" not in page.content()
    title = page.locator("header.bar h1")
    assert title.evaluate("(h) => h.scrollWidth <= h.clientWidth"), "the title is cut off"
    who = page.locator("header.bar #who .role")
    assert who.is_visible() and who.inner_text() == Role(role).label
    map_box = page.locator(".folium-map").bounding_box()
    assert map_box["height"] > 300 and map_box["width"] >= PHONE["width"] - 1
    if role != "team":  # the team's list is the page (it scrolls), the others split the screen
        panel = page.locator("main.panel").bounding_box()
        assert abs(map_box["y"] + map_box["height"] - panel["y"]) <= 1
        assert abs(panel["y"] + panel["height"] - PHONE["height"]) <= 1
    small = page.evaluate(
        """() => [...document.querySelectorAll(
            'button, select, input[type=text], input[type=search], input:not([type]), a[href], summary, .leaflet-bar a')]
        .filter((e) => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden')
        .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height < 43.5; })
        .map((e) => `${e.tagName.toLowerCase()} «${(e.textContent || e.placeholder || e.name || '').trim().slice(0, 30)}» `
            + `${Math.round(e.getBoundingClientRect().height)} px`)"""
    )
    assert small == [], small
    if page.locator(".map-search").count():  # the command and planner maps: the search box in the top strip
        search = page.locator(".map-search").bounding_box()
        assert search["y"] - map_box["y"] <= 12, "the search box lies across the map"
        for control in (".leaflet-control-zoom", ".leaflet-control-layers"):
            if not page.locator(control).count():
                continue  # the planner's map has no layers button
            other = page.locator(control).bounding_box()
            apart = search["x"] >= other["x"] + other["width"] or search["x"] + search["width"] <= other["x"]
            assert apart, f"the search box covers {control}"
    shot(page, f"phone-{role}")
    assert errors == []
    page.close()


NARROW_PHONE = {"width": 360, "height": 740}


def test_login_page_speaks_vietnamese(chromium, server: str) -> None:
    page = chromium.new_page(viewport=PHONE)
    page.goto(f"{server}/login")
    assert not foreign_words(shown_text(page))
    message = page.locator("input[name=username]").evaluate(
        "(f) => { f.reportValidity(); return f.validationMessage; }"
    )
    assert message == "Hãy điền ô này"
    shot(page, "login-phone")
    page.set_viewport_size(NARROW_PHONE)  # the box keeps a margin from the screen's edges (it touched them at 360 px)
    left, right = page.locator(".login").evaluate(
        "b => [b.getBoundingClientRect().left, b.getBoundingClientRect().right]"
    )
    assert left >= 10 and NARROW_PHONE["width"] - right >= 10, (left, right)
    page.close()


#: Turn one overlay on by its title (clicked through the DOM: on a phone the layer control is folded).
_LAYER_ON = """(title) => { const row = [...document.querySelectorAll('.leaflet-control-layers-overlays label')]
    .find((l) => l.textContent.trim() === title); const box = row.querySelector('input'); if (!box.checked) box.click(); }"""
#: The first cell (Gi* or trend) of the map, centred at zoom 15 with its words open — as a popup on a phone, a tooltip
#: on a desk — and the box and text of what opened (null before the layer's cells are drawn).
_OPEN_CELL = """(words) => { const map = window.diaban.map; let cell = null;
    map.eachLayer((l) => { const tip = l.getTooltip?.() || l.getPopup?.();
      if (!cell && l.getBounds && tip && String(tip.getContent()).includes(words)) cell = l; });
    if (!cell) return null;
    map.setView(cell.getBounds().getCenter(), 15, { animate: false });
    if (cell.getPopup()) cell.openPopup(); else cell.openTooltip();
    const shown = document.querySelector('.leaflet-popup-content-wrapper, .leaflet-tooltip.cell-tip');
    const box = shown.getBoundingClientRect();
    return { text: shown.innerText, left: box.left, right: box.right, popup: !!cell.getPopup() }; }"""


def test_a_hot_or_trend_cell_says_in_words_what_it_is_on_the_desk_and_on_the_phone(chromium, server: str) -> None:
    """A trend cell's words name its pattern and say what the pattern means (they gave its name only: a commander
    could not tell «dao động» from «rải rác»); on a 390 px phone a tapped Gi* cell's words open as a popup inside the
    screen (a tooltip opened beside the finger and ran off its left edge, «…tin cậy 99 % (thống kê Gi*, z» cut)."""
    from models.analytics.emerging import PATTERN_LABELS_VI, PATTERN_MEANINGS_VI

    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.evaluate(_LAYER_ON, page.evaluate("window.diaban.layerTitles.emerging"))
    page.wait_for_function(f"() => ({_OPEN_CELL})('Ô ') !== null", timeout=60_000)
    cell = page.evaluate(_OPEN_CELL, "Ô ")
    pattern = next(p for p, label in PATTERN_LABELS_VI.items() if cell["text"].startswith(label + ":"))
    assert PATTERN_MEANINGS_VI[pattern] in cell["text"] and not cell["popup"], cell
    assert errors == []
    page.close()

    page, errors = open_as(chromium, server, "chihuy", PHONE)
    page.evaluate(_LAYER_ON, page.evaluate("window.diaban.layerTitles.gistar"))
    page.wait_for_function(f"() => ({_OPEN_CELL})('tin cậy') !== null", timeout=60_000)
    page.wait_for_timeout(500)  # the popup's pan into view
    cell = page.evaluate(_OPEN_CELL, "tin cậy")
    assert cell["popup"] and "z = " in cell["text"], cell
    box = page.locator(".leaflet-popup-content-wrapper").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    shot(page, "phone-gistar-cell")
    assert errors == []
    page.close()


def test_the_hot_cell_legend_tells_missing_data_from_no_hot_cell(chromium, server: str) -> None:
    """A window after the newest incident left the Gi* layer blank, its legend unchanged: a commander read «no hot
    cell», where there is no data yet. The legend now says which: no incident to compute from (with the day the data
    stop), or how many cells are coloured in the view."""
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.evaluate(_LAYER_ON, page.evaluate("window.diaban.layerTitles.gistar"))
    status = page.locator("#gistar-status")
    # The city's cells, not the view's (it said «trong vùng đang xem» of the whole city's); too small to see at the
    # whole city's zoom, it says to zoom in, and no longer once they are.
    status.filter(has_text="ô tô màu trên toàn địa bàn Hải Phòng").wait_for(timeout=60_000)
    assert status.inner_text().endswith("phóng to để thấy rõ từng ô"), status.inner_text()
    page.click(".print-open")  # on paper nobody zooms: the advice is the screen's
    printed = page.locator(".print-legend details[data-layer=gistar]")
    assert "ô tô màu trên toàn địa bàn" in printed.inner_text() and "phóng to" not in printed.inner_text()
    page.click(".print-close")
    page.evaluate("() => { window.diaban.map.setZoom(15, { animate: false }); }")
    page.wait_for_function("() => !document.getElementById('gistar-status').textContent.includes('phóng to')")
    last = date.fromisoformat(page.evaluate("window.diaban.lastIncident"))
    page.fill("#filters input[name=from]", f"{last + timedelta(days=1):%d/%m/%Y}")
    page.fill("#filters input[name=to]", f"{last + timedelta(days=30):%d/%m/%Y}")
    page.click("#filters button[type=submit]")
    told = f"Không tính được: không có vụ việc nào trong vùng và bộ lọc đã chọn: dữ liệu vụ việc chỉ đến hết ngày {last:%d/%m/%Y}"
    status.filter(has_text=told).wait_for(timeout=60_000)
    assert errors == []
    page.close()

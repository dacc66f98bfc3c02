"""A hotspot reported from a tip, in a real browser: command clicks the map in its register's form, a team on its
phone uses the phone's position (or, refused it, a tap on the map) and sends once however the network behaves, and
a point outside the team's area is refused in Vietnamese.

The city, the server and Chromium are those of test_browser.py (same fixtures, a database of their own here).
Screenshots go to artifacts/ (command on a desktop, the team on a phone).
"""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import Connection, Engine, text
from test_browser import (
    DESKTOP,
    PHONE,
    answers_lost,
    chromium,
    city,
    first_team_user,
    open_as,
    server,
    shot,
    unexpected,
    wait_message,
)

from maps.styles import STATUS_COLOURS
from models.vocabulary import HotspotStatus

__all__ = ["chromium", "city", "server"]  # the shared fixtures, used by name


def inside(conn: Connection, code: str) -> tuple[float, float]:
    """A point inside commune ``code`` (lat, lon)."""
    lat, lon = conn.execute(
        text("""SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_units
                WHERE code = :c AND valid_to IS NULL) x"""),
        {"c": code},
    ).one()
    return float(lat), float(lon)


def reported(city: Engine, note: str) -> list[tuple[int, str, str]]:
    """The hotspots stored with ``note``: id, origin, status."""
    with city.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT id, origin, status FROM hotspots WHERE note = :n ORDER BY id"), {"n": note}
            )
        ]


def tap_map_at(page, lat: float, lon: float) -> None:
    """Centre the map on the point at street zoom, then click (tap) the map's centre."""
    page.evaluate("([lat, lon]) => { window.diaban.map.setView([lat, lon], 16, { animate: false }); }", [lat, lon])
    page.locator(".folium-map").click()


#: The land's colour where no basemap is configured (common.js communesLayer), and the new spot's ring in pixels
#: (common.js tipForm's mark, the team's marker): the ground is read beyond it.
LAND = (244, 241, 232)
SPOT_RING_PX = 11


def ground_around(page, lat: float, lon: float) -> list[tuple[int, int, int]]:
    """The map's colours at eight points 30 px around (lat, lon), on screen: the ground a team sees around a spot."""
    x, y = page.evaluate(
        """([lat, lon]) => { const map = window.diaban.map; const p = map.latLngToContainerPoint([lat, lon]);
        const r = map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""",
        [lat, lon],
    )
    picture = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    reach = SPOT_RING_PX + 19
    around = [(dx * reach, dy * reach) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if (dx, dy) != (0, 0)]
    return [picture.getpixel((round(x + dx), round(y + dy))) for dx, dy in around]


def is_land(pixel: tuple[int, int, int]) -> bool:
    """The land's cream, give or take the screenshot's rounding."""
    return max(abs(a - b) for a, b in zip(pixel, LAND, strict=True)) <= 3


def test_command_adds_a_spot_from_a_tip_by_clicking_the_map(chromium, server: str, city: Engine) -> None:
    with city.connect() as conn:
        code = conn.execute(text("SELECT min(code) FROM admin_units WHERE valid_to IS NULL")).scalar_one()
        lat, lon = inside(conn, code)
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.click("nav.tabs button[data-tab=hotspots]")
    page.click("#tip-box summary")
    form = page.locator("#tip-form")
    # Typed coordinates outside the province are told at once.
    form.locator("input[name=where]").fill("21.9, 104.2")
    form.locator("input[name=where]").press("Tab")
    page.wait_for_selector("#message.error >> text=nằm ngoài")
    form.locator("button[name=pick]").click()
    tap_map_at(page, lat, lon)
    assert "(chọn trên bản đồ)" in form.locator(".tip-place").inner_text()
    # No description: refused before anything is sent.
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=Hãy viết mô tả ngắn")
    note = "Tin báo qua đường dây nóng: tụ tập ban đêm sau chợ cá"
    form.locator("textarea[name=note]").fill(note)
    form.locator("button[type=submit]").click()
    wait_message(page, "Đã thêm điểm nóng #")
    [(hotspot_id, origin, status)] = reported(city, note)
    assert (origin, status) == ("manual", "detected")
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot_id}']")
    card.wait_for()
    assert note in card.inner_text() and HotspotStatus.DETECTED.label in card.inner_text()
    page.wait_for_selector(f".leaflet-popup .card[data-hotspot-id='{hotspot_id}']")
    shot(page, "tip-command-desktop")
    assert unexpected(errors) == []
    page.close()


def test_a_team_reports_a_spot_from_its_phone_once_and_only_in_its_area(chromium, server: str, city: Engine) -> None:
    with city.connect() as conn:
        username, team_id, commune = first_team_user(conn)
        lat, lon = inside(conn, commune)
        elsewhere = conn.execute(
            text("""SELECT min(code) FROM admin_units WHERE valid_to IS NULL AND code NOT IN
                    (SELECT commune_code FROM team_areas WHERE team_id = :t AND valid_to IS NULL)"""),
            {"t": team_id},
        ).scalar_one()
        out_lat, out_lon = inside(conn, elsewhere)
    page, errors = open_as(
        chromium,
        server,
        username,
        PHONE,
        geolocation={"latitude": lat, "longitude": lon, "accuracy": 12},
        permissions=["geolocation"],
    )
    new_spots = page.locator(f".leaflet-hotspots-pane path[fill='{STATUS_COLOURS['detected']}']")
    page.click("#tip-box summary")
    form = page.locator("#tip-form")
    form.locator("button[name=locate]").click()
    page.wait_for_function("() => document.querySelector('#tip-form .tip-place').textContent.includes('GPS')")
    # The answer is lost once after the server stored the report (the page asks again by itself, with the same key),
    # and the button is pressed twice: one hotspot.
    keys: list[str | None] = []
    page.route("**/api/hotspots", answers_lost(keys))
    note = "Tổ tuần tra phát hiện: kim tiêm vứt dưới gầm cầu, người lạ ra vào ban đêm"
    form.locator("textarea[name=note]").fill(note)
    form.locator("button[type=submit]").dblclick()
    wait_message(page, "Đã báo điểm mới #")
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    assert len(reported(city, note)) == 1
    assert new_spots.count() == 1
    page.unroute("**/api/hotspots")
    shot(page, "tip-team-phone")
    # The map went to the spot at street zoom, inside the team's area: around it the ground is the land's cream, not
    # a grey that reads as a map not loaded (the area was tinted, 6 % blue over the cream). Most of the points: a
    # commune's name may lie over one or two.
    ground = ground_around(page, lat, lon)
    assert sum(map(is_land, ground)) >= 6, ground

    # The phone's position refused: a tap on the map gives the place.
    page.context.clear_permissions()
    form.locator("button[name=locate]").click()
    page.wait_for_selector("#message.warning >> text=hãy chạm vào bản đồ")
    tap_map_at(page, lat, lon)
    second = "Tin báo của người dân: mua bán lẻ ở quán nước cuối ngõ"
    form.locator("textarea[name=note]").fill(second)
    form.locator("button[type=submit]").click()
    wait_message(page, "Đã báo điểm mới #")
    assert len(reported(city, second)) == 1 and new_spots.count() == 2

    # Outside the team's area: refused in Vietnamese, nothing stored.
    form.locator("input[name=where]").fill(f"{out_lat:.6f}, {out_lon:.6f}")
    outside = "Điểm ngoài địa bàn của tổ"
    form.locator("textarea[name=note]").fill(outside)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=điểm này nằm ngoài địa bàn của tổ")
    assert reported(city, outside) == []
    shot(page, "tip-team-phone-refused")
    assert [e for e in unexpected(errors, 403) if "ERR_CONNECTION_RESET" not in e] == []
    page.close()

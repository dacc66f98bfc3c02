"""A hotspot reported from a tip, in a real browser: command clicks the map in its register's form, a team on its
phone uses the phone's position (or, refused it, a tap on the map) and sends once however the network behaves, and
a point outside the team's area is refused in Vietnamese; the team's reports stay on its map and in its list after a
reload, and a place it already reported is asked about before it is sent again; a spot command dismissed is told in
the team's notices with command's reason.

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
    confirming,
    first_team_user,
    open_as,
    server,
    shot,
    unexpected,
    wait_message,
)

from gis.services.hotspots import create_manual_hotspot, transition_hotspot
from gis.store.accounts import principal_by_username
from gis.store.scoping import UNRESTRICTED
from maps.styles import STATUS_COLOURS
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE
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


def clear_of_spots(conn: Connection, code: str, seed: int) -> tuple[float, float]:
    """A point of commune ``code`` (lat, lon) 300 m or more from every hotspot (the tests before reported some)."""
    lat, lon = conn.execute(
        text("""SELECT ST_Y(p), ST_X(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 50, :seed))).geom AS p
                FROM admin_units WHERE code = :c AND valid_to IS NULL) g
                WHERE NOT EXISTS (SELECT 1 FROM hotspots h WHERE ST_DWithin(h.centroid::geography, g.p::geography,
                                  300)) LIMIT 1"""),
        {"c": code, "seed": seed},
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


def reports_loaded(page) -> None:
    """Wait until the team page has loaded the spots its team reported (common.js loads them beside the task list)."""
    page.wait_for_function("() => /^\\(\\d/.test(document.getElementById('report-count').textContent)")


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
    assert "chưa có vụ việc nào gắn với điểm" in card.inner_text()  # not «0 vụ việc; lần đầu —, gần nhất —»
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
    reports_loaded(page)
    before = new_spots.count()
    page.click("#tip-box summary")
    form = page.locator("#tip-form")
    form.locator("button[name=locate]").click()
    page.wait_for_function("() => document.querySelector('#tip-form .tip-place').textContent.includes('GPS')")
    assert "ngoài địa bàn" not in form.locator(".tip-place").inner_text()
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
    assert new_spots.count() == before + 1
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
    asked = confirming(page, True)  # the same place as the first report: asked, confirmed
    form.locator("button[type=submit]").click()
    wait_message(page, "Đã báo điểm mới #")
    assert len(asked) == 1 and "Vẫn gửi báo điểm mới?" in asked[0]
    assert len(reported(city, second)) == 1 and new_spots.count() == before + 2

    # Outside the team's area: said as soon as the place is known (it was said once the note was written and sent),
    # and refused in Vietnamese if sent all the same, nothing stored.
    form.locator("input[name=where]").fill(f"{out_lat:.6f}, {out_lon:.6f}")
    form.locator("input[name=where]").press("Tab")
    place = form.locator(".tip-place.late")
    place.wait_for()
    assert "ngoài địa bàn của tổ — tổ chỉ báo điểm mới trong địa bàn được giao" in place.inner_text()
    outside = "Điểm ngoài địa bàn của tổ"
    form.locator("textarea[name=note]").fill(outside)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#message.error >> text=điểm này nằm ngoài địa bàn của tổ")
    assert reported(city, outside) == []
    shot(page, "tip-team-phone-refused")
    assert [e for e in unexpected(errors, 403) if "ERR_CONNECTION_RESET" not in e] == []
    page.close()


def test_a_team_sees_its_reported_spots_after_a_reload_and_is_asked_before_reporting_one_again(
    chromium, server: str, city: Engine
) -> None:
    with city.connect() as conn:
        username, _, commune = first_team_user(conn)
        # A place of the team's area clear of every spot reported so far (the test above reported some).
        lat, lon = clear_of_spots(conn, commune, 7)
    page, errors = open_as(chromium, server, username, PHONE)
    reports_loaded(page)
    page.click("#tip-box summary")
    form = page.locator("#tip-form")
    form.locator("input[name=where]").fill(f"{lat:.6f}, {lon:.6f}")
    note = "Tổ tuần tra: nhà hoang cạnh bãi xe, người lạ tụ tập ban đêm"
    form.locator("textarea[name=note]").fill(note)
    form.locator("button[type=submit]").click()  # a question now would be dismissed (Playwright's default): not sent
    wait_message(page, "Đã báo điểm mới #")
    [(hotspot_id, _, _)] = reported(city, note)

    # Reloaded, the page shows it again: on the map in its status's colour at its place, and in the list with when,
    # who, the note and where it stands; the list's line opens it on the map.
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    reports_loaded(page)
    on_map = page.evaluate(
        """([lat, lon, colour]) => { let found = 0; window.diaban.map.eachLayer((l) => {
            if (l instanceof L.CircleMarker && l.options.fillColor === colour
                && l.getLatLng().distanceTo([lat, lon]) < 1) found += 1; }); return found; }""",
        [lat, lon, STATUS_COLOURS["detected"]],
    )
    assert on_map == 1
    page.click("#reports summary")
    item = page.locator(f"#report-list li[data-hotspot-id='{hotspot_id}']")
    words = item.inner_text()
    assert note in words and "chờ chỉ huy xem xét" in words and username in words
    item.click()
    page.wait_for_selector(f".leaflet-popup >> text=Điểm #{hotspot_id} tổ đã báo")
    shot(page, "tip-team-phone-reported")

    # About 30 m away: the page names the report already there and asks; declined, nothing is sent.
    near = f"{lat + 30 / 111_320:.6f}, {lon:.6f}"
    again = "Tin báo: lại thấy tụ tập ở nhà hoang cạnh bãi xe"
    page.click("#tip-box summary")  # folded again by the reload
    form.locator("input[name=where]").fill(near)
    form.locator("textarea[name=note]").fill(again)
    asked = confirming(page, False)
    form.locator("button[type=submit]").click()
    assert len(asked) == 1, asked
    assert f"Tổ đã báo điểm #{hotspot_id} cách vị trí này khoảng 30 m" in asked[0] and note in asked[0]
    assert "Vẫn gửi báo điểm mới?" in asked[0]
    assert reported(city, again) == [] and form.locator("textarea[name=note]").input_value() == again
    # Confirmed, it is sent (two dens may be neighbours): the list holds both.
    asked = confirming(page, True)
    form.locator("button[type=submit]").click()
    wait_message(page, "Đã báo điểm mới #")
    assert len(asked) == 1 and len(reported(city, again)) == 1
    assert page.locator("#report-list li[data-hotspot-id]").count() >= 2
    # The message says so away from the map's buttons, which the report brought to the bottom of the phone's screen
    # (on screen, where the messages stood over them).
    apart = page.evaluate(
        """() => { const [m, b] = ['#message', '.map-buttons'].map((s) => document.querySelector(s).getBoundingClientRect());
        return b.top < window.innerHeight && (m.bottom <= b.top || b.bottom <= m.top); }"""
    )
    assert apart
    shot(page, "tip-team-phone-message")
    assert unexpected(errors) == []
    page.close()


def test_command_finds_a_spot_a_team_reported_in_its_inbox_and_verifies_it_from_there(
    chromium, server: str, city: Engine
) -> None:
    """The team was told «chờ chỉ huy xem xét» and command's inbox said nothing of the spot: it was one more row of the
    register. The inbox lists it first, counted, with the team and the report's words; a tap opens its card, and once
    verified it leaves the inbox."""
    note = "Tổ tuần tra: người lạ tụ tập sau bãi xe bỏ hoang"
    with city.begin() as conn:
        username, _, commune = first_team_user(conn)
        lat, lon = clear_of_spots(conn, commune, 13)
        spot = create_manual_hotspot(conn, lon=lon, lat=lat, note=note, actor=username)
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    counted = int(page.locator("#inbox-count").inner_text() or 0)
    page.click("[role=tab][data-tab=inbox]")
    item = page.locator("#inbox li.team-report", has_text=f"Điểm nóng #{spot}")
    assert (
        f"{username}, Tổ" in item.inner_text()
        and "báo điểm mới, loại: " in item.inner_text()
        and note in item.inner_text()
    )
    assert page.locator("#inbox li").first.inner_text() == item.inner_text()  # waiting for command: first
    shot(page, "tip-command-inbox-report")
    item.click()
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{spot}']")
    # The map goes to the spot, its popup open, as a row opened by a click does.
    page.wait_for_selector(f".leaflet-popup >> text=Điểm nóng #{spot}")
    card.locator("button[data-action=verified]").click()
    wait_message(page, f"Điểm nóng #{spot}: {HotspotStatus.VERIFIED.label}")
    page.wait_for_function(
        "n => (Number(document.getElementById('inbox-count').textContent) || 0) === n", arg=counted - 1
    )
    page.click("[role=tab][data-tab=inbox]")
    assert page.locator("#inbox li.team-report", has_text=f"Điểm nóng #{spot}").count() == 0
    assert unexpected(errors) == []
    page.close()


def test_a_team_reads_on_its_phone_why_command_dismissed_a_spot_it_reported(
    chromium, server: str, city: Engine
) -> None:
    """A member reports a spot, command dismisses it with a reason: the team's notices say so with the reason, marked new
    (the report used to drop out of its list unexplained); the notice opens it on the map, where it stays with the
    reason in the list of reports, and the page asks before the same place is reported again."""
    note = "Tổ tuần tra: người lạ ra vào kho bỏ hoang sau trạm điện"
    reason = "Đã kiểm tra: kho của hợp tác xã, không có dấu hiệu ma túy"
    with city.begin() as conn:
        username, _, commune = first_team_user(conn)
        lat, lon = clear_of_spots(conn, commune, 11)
        spot = create_manual_hotspot(conn, lon=lon, lat=lat, note=note, actor=username)
        command = principal_by_username(conn, "chihuy")
        transition_hotspot(conn, HOTSPOT_LIFECYCLE, spot, "dismissed", reason, 1, command, UNRESTRICTED)
    page, errors = open_as(chromium, server, username, PHONE)
    notices = page.locator("#notices")
    assert notices.is_visible() and "mới" in notices.locator("#inbox-count").inner_text()
    notice = notices.locator("li", has_text=f"Điểm #{spot} tổ báo không xác minh được")
    assert f"lý do: «{reason}»" in notice.inner_text() and "chihuy" in notice.inner_text()
    assert notice.is_visible() and "handled" not in (notice.get_attribute("class") or "")
    shot(page, "tip-team-phone-dismissed-notice")
    reports_loaded(page)
    notice.click()
    page.wait_for_selector(f".leaflet-popup >> text=Điểm #{spot} tổ đã báo: chỉ huy không xác minh được")
    assert reason in page.locator(".leaflet-popup").inner_text()
    page.click("#reports summary")
    item = page.locator(f"#report-list li[data-hotspot-id='{spot}']")
    assert "chỉ huy không xác minh được" in item.inner_text() and reason in item.inner_text()
    # The same place again: the page names the dismissed report and command's reason, and asks.
    page.click("#tip-box summary")
    form = page.locator("#tip-form")
    form.locator("input[name=where]").fill(f"{lat + 20 / 111_320:.6f}, {lon:.6f}")
    form.locator("textarea[name=note]").fill("Tin báo: lại thấy người lạ ở kho bỏ hoang")
    asked = confirming(page, False)
    form.locator("button[type=submit]").click()
    assert len(asked) == 1 and f"Tổ đã báo điểm #{spot}" in asked[0] and f"lý do: «{reason}»" in asked[0], asked
    # Seen once, the notice is no longer new.
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    assert "handled" in (notices.locator("li", has_text=f"Điểm #{spot} tổ báo").get_attribute("class") or "")
    assert unexpected(errors) == []
    page.close()


def test_a_team_reads_how_a_spot_it_reported_ended(chromium, server: str, city: Engine) -> None:
    """Eradicated, then recurred: the team's notices say so in words (the inbox did not hear of them, and a status it
    did not know would have read «đã được xác minh»)."""
    with city.begin() as conn:
        username, _, commune = first_team_user(conn)
        lat, lon = clear_of_spots(conn, commune, 12)
        spot = create_manual_hotspot(conn, lon=lon, lat=lat, note="Tin báo: bán lẻ ở quán nước", actor=username)
        run = conn.execute(text("SELECT max(id) FROM detection_runs")).scalar_one()
        for actor, event, target, note, run_id in (  # the steps' events, as those steps record them
            ("chihuy", "transition", "eradicated", "đã triệt xóa điểm bán lẻ", None),
            (f"detection run {run}", "recurred", "recurred", "phức tạp trở lại (recurred at a cleared hotspot)", run),
        ):
            conn.execute(
                text("""INSERT INTO hotspot_events (hotspot_id, actor, event, to_status, note, run_id, details)
                        VALUES (:h, :actor, :event, :to, :note, :run, '{}')"""),
                {"h": spot, "actor": actor, "event": event, "to": target, "note": note, "run": run_id},
            )
    page, errors = open_as(chromium, server, username, PHONE)
    notices = page.locator("#notices")
    ended = notices.locator("li", has_text=f"Điểm #{spot} tổ báo đã được triệt xóa")
    assert "«đã triệt xóa điểm bán lẻ»" in ended.inner_text()
    recurred = notices.locator("li", has_text=f"Điểm #{spot} tổ báo phức tạp trở lại").inner_text()
    # by the system and its run, in Vietnamese (it read «detection run 9»), without the note's English
    assert f"Hệ thống (tự động, khi chạy phát hiện), lần chạy #{run}" in recurred and "recurred" not in recurred
    assert notices.locator("li", has_text=f"Điểm #{spot} tổ báo đã được xác minh").count() == 0
    shot(page, "tip-team-phone-ended-notices")
    assert unexpected(errors) == []
    page.close()

"""A commander asks the command page what is new since yesterday and what is near a place: the hotspot register's «Mới /
phức tạp trở lại» (entered the register, or recurred, today, in 7 or 30 days) and «Gần đây» (within 500 m, 1 km, 2 km of the place searched on the map,
of the phone, or of the map's centre), counted, nearest first with their distance, the rest dimmed on the map — on a
desktop and on a phone. The phone's position is asked of the browser, which gives it only over https or on the machine
itself: refused or unavailable, the page says so and what to do instead, never as a fault.

The city and Chromium are those of test_browser.py (a database of this module's own).
"""

from __future__ import annotations

import pytest
import test_browser as shared
from sqlalchemy import Engine, text
from test_browser import DESKTOP, PHONE, open_as, shot

from gis.store.sql import LOCAL_TODAY
from models.vocabulary import RECURRED_WORDS

city, server, chromium = shared.city, shared.server, shared.chromium
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(scope="module")
def place(city: Engine) -> dict:
    """A hotspot, its place, and which hotspots entered the register today: it, its nearest neighbour and the hotspot
    farthest from it (every other one 40 days ago). Its three nearest neighbours are moved 250 m, 600 m and 900 m from
    it, the next one 1,500 m (the synthetic city's hotspots lie kilometres apart)."""
    with city.begin() as conn:
        centre, lon, lat = conn.execute(
            text("SELECT h.id, ST_X(h.centroid), ST_Y(h.centroid) FROM hotspots h ORDER BY h.id LIMIT 1")
        ).one()
        nearest = conn.execute(
            text("""SELECT o.id FROM hotspots o, hotspots h WHERE h.id = :h AND o.id <> h.id
                    ORDER BY ST_Distance(o.centroid::geography, h.centroid::geography), o.id LIMIT 4"""),
            {"h": centre},
        ).scalars()
        for hotspot, metres, bearing in zip(nearest, (250, 600, 900, 1500), (10, 100, 200, 300), strict=True):
            conn.execute(
                text("""UPDATE hotspots SET centroid = ST_Project(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography,
                        :m, radians(:b))::geometry WHERE id = :id"""),
                {"lon": lon, "lat": lat, "m": metres, "b": bearing, "id": hotspot},
            )
        by_distance = list(
            conn.execute(
                text("""SELECT o.id FROM hotspots o, hotspots h WHERE h.id = :h
                        ORDER BY ST_Distance(o.centroid::geography, h.centroid::geography), o.id"""),
                {"h": centre},
            ).scalars()
        )
        today = [centre, by_distance[1], by_distance[-1]]
        conn.execute(text("UPDATE hotspots SET created_at = now() - interval '40 days'"))
        conn.execute(text("UPDATE hotspots SET created_at = now() WHERE id = ANY(:ids)"), {"ids": today})
        # What detection found before (the demo's recurrence too) was found 40 days ago; a hotspot far from the place
        # recurs today, recorded as detection records it (a run of today, its 'recurred' event).
        conn.execute(text("UPDATE detection_runs SET started_at = now() - interval '40 days'"))
        recurring = by_distance[-2]
        run = conn.execute(
            text("""INSERT INTO detection_runs (started_at, actor, window_from, window_to, params, n_clusters, n_new,
                                                n_updated, n_recurred)
                    VALUES (now(), 'test', now() - interval '90 days', now(), '{}', 1, 0, 0, 1) RETURNING id""")
        ).scalar_one()
        conn.execute(
            text("""INSERT INTO hotspot_events (hotspot_id, actor, event, note, run_id, details, at)
                    VALUES (:h, 'detection run ' || :run, 'recurred', 'phức tạp trở lại', :run, '{}', now())"""),
            {"h": recurring, "run": run},
        )
        day = conn.execute(text(f"SELECT to_char({LOCAL_TODAY}, 'DD/MM/YYYY')")).scalar_one()
    return {"id": centre, "lon": lon, "lat": lat, "today": today, "recurring": recurring, "day": day}


def within(city: Engine, lon: float, lat: float, metres: int, today_only: bool = False) -> list[int]:
    """The hotspots within ``metres`` of a place, nearest first (those that entered the register today only)."""
    with city.connect() as conn:
        return list(
            conn.execute(
                text(f"""SELECT id FROM hotspots h, (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography p) q
                        WHERE ST_DWithin(h.centroid::geography, q.p, :m)
                        {"AND h.created_at >= now() - interval '1 day'" if today_only else ""}
                        ORDER BY ST_Distance(h.centroid::geography, q.p), h.id"""),
                {"lon": lon, "lat": lat, "m": metres},
            ).scalars()
        )


def rows(page) -> list[int]:
    """The hotspot register's rows, as shown."""
    return [
        int(i)
        for i in page.eval_on_selector_all(
            "#hotspot-table tbody tr[data-hotspot-id]", "trs => trs.map((tr) => tr.dataset.hotspotId)"
        )
    ]


def counted(page, words: str) -> str:
    """Wait until the register's count says ``words``; what it says."""
    page.wait_for_function("w => document.getElementById('hotspot-count').textContent.includes(w)", arg=words)
    return page.inner_text("#hotspot-count")


DIMMED = """() => { const dimmed = [], kept = []; window.diaban.map.eachLayer((l) => {
  const id = l.feature?.properties?.id;
  if (id !== undefined && l.setRadius) (l.options.fillOpacity < 0.5 ? dimmed : kept).push(id); });
  return { dimmed, kept: kept.sort((a, b) => a - b) }; }"""


@pytest.mark.parametrize("size", list(SIZES))
def test_command_lists_what_is_new_today_and_what_is_near_a_searched_place(
    chromium, server: str, city: Engine, place: dict, size: str
) -> None:
    page, errors = open_as(chromium, server, "chihuy", SIZES[size])
    page.click("nav.tabs button[data-tab=hotspots]")
    page.select_option("#hotspot-filters select[name=new_days]", "1")
    new = sorted([*place["today"], place["recurring"]])  # entered the register today, or recurred today
    assert counted(page, f"mới / {RECURRED_WORDS} hôm nay") == f"{len(new)} điểm nóng mới / {RECURRED_WORDS} hôm nay"
    assert sorted(rows(page)) == new
    recurred = f"#hotspot-table tr[data-hotspot-id='{place['recurring']}'] small.recurred"
    assert page.inner_text(recurred) == f"{RECURRED_WORDS} {place['day']}"
    page.locator("#hotspot-count").scroll_into_view_if_needed()
    on_map = page.evaluate(DIMMED)
    assert on_map["kept"] == new and on_map["dimmed"]  # the others dimmed on the map
    shot(page, f"nearby-{size}-new-today")

    # The place typed in the map's search box (as copied from a map application), then «Gần đây: 1 km».
    page.fill(".map-search input[name=q]", f"{place['lat']:.6f}, {place['lon']:.6f}")
    page.press(".map-search input[name=q]", "Enter")
    page.wait_for_function("() => document.getElementById('near-place').textContent.includes('nơi vừa tìm')")
    page.select_option("#hotspot-filters select[name=within_m]", "1000")
    words = counted(page, "trong vòng 1 km")
    expected = within(city, place["lon"], place["lat"], 1000, today_only=True)
    assert words == f"{len(expected)} điểm nóng mới / {RECURRED_WORDS} hôm nay, trong vòng 1 km, gần nhất trước"
    assert page.inner_text("#near-place").startswith(f"Quanh Tọa độ {place['lat']:.5f}, {place['lon']:.5f}")
    assert rows(page) == expected == place["today"][:2]  # nearest first
    assert page.inner_text(f"#hotspot-table tr[data-hotspot-id='{place['id']}'] small.distance") == "cách 0 m"
    assert page.evaluate(DIMMED)["kept"] == sorted(expected)

    # Every hotspot within 1 km, whenever it was found.
    page.select_option("#hotspot-filters select[name=new_days]", "")
    expected = within(city, place["lon"], place["lat"], 1000)
    counted(page, f"{len(expected)} điểm nóng trong vòng 1 km")
    assert rows(page) == expected and len(expected) == 4
    distances = page.eval_on_selector_all("#hotspot-table small.distance", "s => s.map((e) => e.textContent)")
    assert distances == ["cách 0 m", "cách 250 m", "cách 600 m", "cách 900 m"]
    page.locator("#hotspot-count").scroll_into_view_if_needed()
    shot(page, f"nearby-{size}-within-1-km")
    # No filter of these: every hotspot kept on the map, the register sorted as before (by due date).
    page.select_option("#hotspot-filters select[name=within_m]", "")
    page.wait_for_function("() => /^\\d+ điểm nóng$/.test(document.getElementById('hotspot-count').textContent)")
    assert page.evaluate(DIMMED)["dimmed"] == []
    assert page.get_attribute("#hotspot-table th[data-sort=due]", "aria-sort") == "ascending"
    page.close()
    assert errors == []


def test_a_phone_lists_the_hotspots_near_where_it_is(chromium, server: str, city: Engine, place: dict) -> None:
    """«Vị trí của tôi» over a secure connection (the machine itself): the phone's position, within 1 km."""
    here = {"latitude": place["lat"] + 0.001, "longitude": place["lon"]}
    page, errors = open_as(chromium, server, "chihuy", PHONE, geolocation=here, permissions=["geolocation"])
    page.click("nav.tabs button[data-tab=hotspots]")
    page.click("#hotspot-filters button[name=locate]")
    words = counted(page, "trong vòng 1 km")
    expected = within(city, here["longitude"], here["latitude"], 1000)
    assert words == f"{len(expected)} điểm nóng trong vòng 1 km, gần nhất trước" and len(expected) >= 3
    assert page.inner_text("#near-place").startswith("Quanh vị trí của bạn (sai số khoảng")
    assert rows(page) == expected
    page.locator("#hotspot-count").scroll_into_view_if_needed()
    shot(page, "nearby-phone-my-position")
    page.close()
    assert errors == []


@pytest.mark.parametrize(
    ("why", "options", "said"),
    [
        ("refused", {}, "Máy chưa cho phép trang lấy vị trí"),
        ("plain http", {"insecure": True}, "chỉ cho lấy vị trí GPS qua kết nối bảo mật (https)"),
    ],
)
def test_without_the_phones_position_the_page_says_what_to_do_instead(
    chromium, server: str, why: str, options: dict, said: str
) -> None:
    """Refused by the user, or over the closed network's plain http (told here by the page's secure-context flag): the
    line under the filter says so and points to the search box, in the page's normal words; nothing fails."""
    page, errors = open_as(chromium, server, "chihuy", PHONE)
    if options.get("insecure"):
        page.evaluate("() => Object.defineProperty(window, 'isSecureContext', { value: false })")
    page.click("nav.tabs button[data-tab=hotspots]")
    page.click("#hotspot-filters button[name=locate]")
    page.wait_for_function("s => document.getElementById('near-place').textContent.includes(s)", arg=said)
    assert "ô Tìm trên bản đồ" in page.inner_text("#near-place")
    assert page.inner_text("#message") == ""  # not told as an error
    shot(page, f"nearby-phone-no-position-{why.replace(' ', '-')}")
    page.close()
    assert errors == []

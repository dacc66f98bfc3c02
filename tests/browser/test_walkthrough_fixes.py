"""What a browser walk-through of the pages found, each as it reads in Chromium: a reassignment's outside-area note
that claimed an administrator had moved the commune, the suggestion's promise of counts not shown, and the others
named in each test.

The city and Chromium are those of test_browser.py (a database of this module's own).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import test_browser as shared
from sqlalchemy import Engine, text
from test_browser import _MAP_SETTLED, DESKTOP, PHONE, open_as, shot, wait_message

from models.vocabulary import local_today

city, chromium = shared.city, shared.chromium


@pytest.fixture(scope="module")
def server(city: Engine) -> Iterator[str]:
    """The app served as test_browser.py serves it."""
    with shared.served(city, 0) as base:
        yield base


def test_a_task_given_to_a_team_outside_its_area_is_not_said_moved_by_an_administrator(
    chromium, server: str, city: Engine
) -> None:
    """Command gives a task to a team whose area does not hold its commune (the commune's only team holds it now):
    the list offers only the teams outside the area, with no counts, so no «least open tasks» suggestion is promised;
    once saved the card says the task is outside the team's area without claiming the commune was moved, and that the
    team still sees it (scoping.py: a team sees the tasks given to it)."""
    with city.connect() as conn:
        task, holder, commune = conn.execute(
            text("""SELECT t.id, t.team_id, t.commune_code FROM tasks t
                    WHERE t.state = 'assigned' AND t.kind = 'suppression'
                      AND (SELECT count(*) FROM team_areas s WHERE s.commune_code = t.commune_code
                             AND s.valid_to IS NULL) = 1
                    ORDER BY t.id LIMIT 1""")
        ).one()
    for viewport in (PHONE, DESKTOP):
        page, errors = open_as(chromium, server, "chihuy", viewport)
        page.click("[role=tab][data-tab=tasks]")
        page.click(f"#task-table tr[data-task-id='{task}']")
        card = page.locator(f"#task-table .card[data-task-id='{task}']")
        card.locator("summary.assign-open", has_text="Giao lại cho tổ khác").click()
        card.locator("form.assign select[name=team]:enabled").wait_for()
        label = card.locator("form.assign label").first.inner_text()
        groups = card.locator("form.assign optgroup").evaluate_all("gs => gs.map(g => g.label)")
        assert groups == ["Tổ ngoài địa bàn"], groups
        assert "gợi ý" not in label, label  # nothing is counted, nothing suggested
        shot(page, f"walk-reassign-outside-form-{viewport['width']}")
        if viewport is PHONE:
            page.close()
            continue
        chosen = int(card.locator("form.assign select[name=team]").input_value())
        assert chosen != holder
        card.locator("form.assign input[name=note]").fill("Tổ 05 đang quá tải, chuyển tổ khác hỗ trợ")
        card.locator("form.assign button[type=submit]").click()
        wait_message(page, f"Đã giao nhiệm vụ #{task}")
        card = page.locator(f"#task-table .card[data-task-id='{task}']")
        note = card.locator("p.outside-area").inner_text()
        assert "ngoài địa bàn hiện tại của tổ" in note
        assert "tổ đó không thấy nhiệm vụ này" not in note and "tổ vẫn thấy và làm được nhiệm vụ" in note, note
        assert "được giao cho tổ ngoài địa bàn" in note, note
        shot(page, "walk-reassign-outside-saved")
        assert errors == []
        page.close()
    with city.connect() as conn:
        assert conn.execute(text("SELECT team_id FROM tasks WHERE id = :t"), {"t": task}).scalar_one() == chosen
        area = text("SELECT commune_code FROM team_areas WHERE team_id = :t AND valid_to IS NULL")
        assert commune not in conn.execute(area, {"t": chosen}).scalars().all()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_filters_error_goes_once_the_filter_is_applied_right_and_has_a_close_button(
    chromium, server: str, viewport: dict
) -> None:
    """«Lọc vụ việc» with its days reversed is refused in red; applied again with the days right, the maps follow and
    the red message goes (it stayed, over «Theo tháng», until tapped, and nothing said a tap would): the band has a
    «×» button, «Đóng thông báo», reached by the keyboard."""
    page, errors = open_as(chromium, server, "chihuy", viewport)
    form = page.locator("#filters")
    form.locator("input[name=from]").fill("01/10/2026")
    form.locator("input[name=to]").fill("01/09/2026")
    form.locator("button[type=submit]").click()
    band = page.locator("#message.error")
    band.filter(has_text="Từ ngày 01/10/2026 sau đến ngày 01/09/2026").wait_for()
    close = band.get_by_role("button", name="Đóng thông báo")
    assert close.is_visible() and close.inner_text() == "" and band.inner_text().startswith("Từ ngày")
    shot(page, f"walk-filter-error-{viewport['width']}")
    close.focus()
    page.keyboard.press("Enter")
    assert page.locator("#message").inner_text() == ""
    form.locator("button[type=submit]").click()
    band.filter(has_text="sau đến ngày").wait_for()
    form.locator("input[name=from]").fill("01/08/2026")
    form.locator("button[type=submit]").click()
    assert page.locator("#message").inner_text() == ""
    assert errors == []
    page.close()


#: Where the hotspot `id` is drawn on the map (container pixels), and the commune names written over the map: their
#: boxes (container pixels) and whether each is drawn under the hotspots' markers.
_NAMES_AND_SPOT = """async (id) => {
    const map = window.diaban.map;
    const spot = (await api(`/api/hotspots/${id}`)).geometry.coordinates;
    const at = map.latLngToContainerPoint([spot[1], spot[0]]);
    const origin = map.getContainer().getBoundingClientRect();
    const z = (el) => Number(getComputedStyle(el.closest('.leaflet-pane')).zIndex);
    const marker = z(document.querySelector('.leaflet-hotspots-pane') || document.querySelector('.leaflet-labels-pane'));
    return { x: at.x, y: at.y, names: [...document.querySelectorAll('.commune-label span')].map((s) => {
        const r = s.getBoundingClientRect();
        return { text: s.textContent, left: r.left - origin.left, right: r.right - origin.left,
                 top: r.top - origin.top, bottom: r.bottom - origin.top, under: z(s) < marker };
    }) };
}"""


@pytest.mark.parametrize(
    ("user", "viewport", "how"),
    [("chihuy", DESKTOP, "search"), ("chihuy", PHONE, "row"), ("thammuu", DESKTOP, "search")],
    ids=["command-search", "command-phone-row", "planner-search"],
)
def test_a_communes_name_is_not_written_over_the_hotspot_brought_to_the_centre(
    chromium, server: str, city: Engine, user: str, viewport: dict, how: str
) -> None:
    """A hotspot a search («#id») or a register row brings to the centre of the map: the commune's name, written at
    the nearest point of the commune to the centre when its own label point is off screen, went right over the
    hotspot's marker (and drawn above it). Now no name's box covers the marker (its 14 px ring), and the names are
    drawn under the markers."""
    with city.connect() as conn:
        hotspot = conn.execute(
            text("SELECT id FROM hotspots WHERE status NOT IN ('closed', 'dismissed') ORDER BY id LIMIT 1")
        ).scalar_one()
    page, errors = open_as(chromium, server, user, viewport)
    if how == "search":
        page.fill("input[name=q]", f"#{hotspot}")
        page.keyboard.press("Enter")
    else:
        page.click("[role=tab][data-tab=hotspots]")
        page.click(f"#hotspot-table tr[data-hotspot-id='{hotspot}']")
    page.wait_for_timeout(300)  # the flight starts
    page.evaluate(_MAP_SETTLED)
    page.locator(".commune-label span").first.wait_for()
    seen = page.evaluate(_NAMES_AND_SPOT, hotspot)
    ring = 16
    over = [
        n["text"]
        for n in seen["names"]
        if n["left"] < seen["x"] + ring
        and n["right"] > seen["x"] - ring
        and n["top"] < seen["y"] + ring
        and n["bottom"] > seen["y"] - ring
    ]
    assert over == [], seen
    assert all(n["under"] for n in seen["names"]), seen["names"]
    shot(page, f"walk-name-clear-{user}-{viewport['width']}-{how}")
    assert errors == []
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_area_change_planned_for_a_later_day_is_not_read_as_until_now(chromium, server: str, viewport) -> None:
    """The administrator adds a commune to a team from a later day: «Lịch sử địa bàn» read «01/01/2027 | nay» for a
    period that has not started. It says the period is not in force yet; those in force still run «đến nay»."""
    later = local_today() + timedelta(days=30)
    page, errors = open_as(chromium, server, "quantri", viewport)
    team_id = page.evaluate(
        """async ([later, name]) => { const team = await api('/api/teams', { method: 'POST',
            body: JSON.stringify({ name, communes: ['10507'] }) });
        await api(`/api/teams/${team.id}/area`, { method: 'PUT',
            body: JSON.stringify({ communes: ['10507', '10525'], valid_from: later }) });
        return team.id; }""",
        [later.isoformat(), f"Tổ thêm xã từ ngày sau {viewport['width']}"],
    )
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(team_id))
    rows = page.locator("#area-history tbody tr")
    rows.nth(1).wait_for()
    cells = {r[0]: r[1:] for r in (row.split("\t") for row in rows.all_inner_texts())}
    planned = [c for c in cells.values() if later.strftime("%d/%m/%Y") in c[0]]
    assert len(planned) == 1, cells
    assert "chưa có hiệu lực" in planned[0][0] and "nay" not in planned[0][1], cells
    assert [c[1] for c in cells.values() if c not in planned] == ["nay"], cells
    rows.first.scroll_into_view_if_needed()
    shot(page, f"walk-area-planned-{viewport['width']}")
    assert errors == []
    page.close()


def test_the_registers_commune_filter_reads_a_name_as_the_map_search_does(chromium, server: str, city: Engine) -> None:
    """The task register's «Xã/phường» refused «ha dong» and «Hà Đông» («Không có xã/phường tên …»): only «Xã Hà
    Đông» was taken. Now accents, case and «xã/phường» are optional (the map search's matching), and a name several
    communes hold is refused saying how many, never one picked silently."""
    with city.connect() as conn:
        tasks = conn.execute(
            text("""SELECT count(*) FROM tasks t JOIN admin_units u ON u.code = t.commune_code
                    WHERE u.full_name = 'Xã Hà Đông'""")
        ).scalar_one()
    assert tasks > 0
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.click("[role=tab][data-tab=tasks]")
    commune = page.locator("#task-filters input[name=commune]")
    count = page.locator("#task-count")
    for typed in ("ha dong", "Hà Đông", "xa ha dong"):
        commune.fill(typed)
        commune.press("Enter")
        count.filter(has_text=f"{tasks} nhiệm vụ").wait_for()
        places = page.locator("#task-table tbody tr:not(.detail) td:nth-child(3)").evaluate_all(
            "(cells) => cells.map((cell) => cell.firstChild.textContent)"  # the place, not what the task is under it
        )
        assert set(places) == {"Xã Hà Đông"}, places
        assert page.locator("#message").inner_text() == ""
    shot(page, "walk-commune-filter-noaccent")
    commune.fill("an")
    commune.press("Enter")
    page.locator("#message.error").filter(has_text="«an» khớp").wait_for()
    assert "xã/phường" in page.locator("#message").inner_text()
    shot(page, "walk-commune-filter-several")
    assert errors == []
    page.close()


@pytest.mark.parametrize("typed", ["hai duong", "nam trieu", "PHƯỜNG Hải Dương"])
def test_the_planners_table_search_reads_a_name_without_accents(chromium, server: str, typed: str) -> None:
    """The planner's table search with «hai duong» or «nam trieu» showed «0 / 114»: it matched the name as written.
    Now as the map search does."""
    page, errors = open_as(chromium, server, "thammuu", PHONE)
    page.locator("#communes > tr:not(.detail)").first.wait_for()
    page.fill("#commune-filter", typed)
    rows = page.locator("#communes > tr:not(.detail)")
    names = rows.locator("td:first-child").all_inner_texts()
    wanted = "Hải Dương" if "duong" in typed.lower() or "Dương" in typed else "Nam Triệu"
    assert names and any(wanted in n for n in names), (names, page.locator("#table-count").inner_text())
    assert not page.locator("#table-count").inner_text().startswith("0 /")
    shot(page, f"walk-planner-search-{typed.replace(' ', '-')}")
    assert errors == []
    page.close()


def test_a_message_said_alone_starts_with_a_capital(chromium, server: str, city: Engine) -> None:
    """The server words its refusals to follow «…: » in a sentence; shown alone they read «sai tên đăng nhập…» on the
    login page and «điểm này nằm ngoài địa bàn…» in a team's message band. Where they are shown, they start with a
    capital (the rest as the server wrote it)."""
    page = chromium.new_page(viewport=PHONE)
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "chihuy")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    refusal = page.locator("main.login p.message.error").inner_text()
    assert refusal.startswith("Sai tên đăng nhập hoặc mật khẩu"), refusal
    shot(page, "walk-login-refused")
    page.close()

    with city.connect() as conn:
        username, team_id, _ = shared.first_team_user(conn)
        elsewhere = conn.execute(
            text("""SELECT min(code) FROM admin_units WHERE valid_to IS NULL AND code NOT IN
                    (SELECT commune_code FROM team_areas WHERE team_id = :t AND valid_to IS NULL)"""),
            {"t": team_id},
        ).scalar_one()
        lat, lon = conn.execute(
            text("""SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_units
                    WHERE code = :c AND valid_to IS NULL) x"""),
            {"c": elsewhere},
        ).one()
    page, errors = open_as(chromium, server, username, PHONE)
    page.click("#tip-box summary")
    form = page.locator("#tip-form")
    form.locator("input[name=where]").fill(f"{lat:.6f}, {lon:.6f}")
    form.locator("textarea[name=note]").fill("Điểm ngoài địa bàn của tổ")
    form.locator("button[type=submit]").click()
    band = page.locator("#message.error")
    band.filter(has_text="nằm ngoài địa bàn của tổ").wait_for()
    assert band.inner_text().startswith("Điểm này nằm ngoài địa bàn của tổ"), band.inner_text()
    shot(page, "walk-team-report-outside")
    assert [e for e in errors if "403" not in e] == []
    page.close()


def test_a_hotspot_whose_task_was_cancelled_is_given_a_new_task_as_a_first_one(
    chromium, server: str, city: Engine
) -> None:
    """Command cancelled a hotspot's task and gives it a new one: the form read as a reassignment («Lý do giao lại (tổ
    đang giữ sẽ được báo)», «Giao lại») though no team held it, and left out the area's team — the cancelled task's,
    the only one the suggestion names — offering every other team uncounted. It is a first assignment: the area's
    team suggested with its count.

    The cancel is made on the card, with the reassignment's form open first: it took one click, unexplained (now it
    needs a reason, as declining does), and the team chosen in that form was carried into the new task's, a team
    outside the area chosen over the suggestion (a walk-through)."""
    with city.connect() as conn:
        task, hotspot, holder = conn.execute(
            text("""SELECT t.id, t.hotspot_id, t.team_id FROM tasks t
                    WHERE t.state = 'assigned' AND t.kind = 'suppression' ORDER BY t.id DESC LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    shared.open_hotspot_row(page, hotspot)
    card = page.locator(f"#hotspot-table .card[data-hotspot-id='{hotspot}']")
    card.locator("summary.assign-open", has_text="Giao lại").click()
    card.locator("form.assign select[name=team]:enabled").wait_for()
    elsewhere = int(card.locator("form.assign select[name=team]").input_value())
    assert elsewhere != holder
    card.locator("button[data-action=canceled]").click()
    page.wait_for_selector("#message.error >> text=«Hủy nhiệm vụ» cần ghi chú")
    with city.connect() as conn:
        assert conn.execute(text("SELECT state FROM tasks WHERE id = :t"), {"t": task}).scalar_one() == "assigned"
    card.locator("textarea[data-keep=task-note]").fill("nhầm địa bàn, giao lại từ đầu")
    card.locator("button[data-action=canceled]").click()
    wait_message(page, f"Nhiệm vụ #{task}: Đã hủy")
    card.locator("summary.assign-open", has_text="Giao nhiệm vụ").click()
    card.locator("form.assign select[name=team]:enabled").wait_for()
    assert card.locator("form.assign input[name=note]").count() == 0
    assert card.locator("form.assign button[type=submit]").inner_text() == "Giao nhiệm vụ"
    assert "gợi ý" in card.locator("form.assign label").first.inner_text()
    offered = card.locator("form.assign select[name=team] option").evaluate_all("os => os.map(o => Number(o.value))")
    assert offered[0] == holder, offered  # the area's team, suggested first
    assert int(card.locator("form.assign select[name=team]").input_value()) == holder  # not the reassignment's
    shot(page, "walk-new-task-after-cancel")
    assert errors == []
    page.close()


def test_the_task_registers_rows_say_what_each_task_is(chromium, server: str, city: Engine) -> None:
    """Two rows «Xã Tiên Minh», a conversion and a hotspot's suppression, could not be told apart without opening
    them: each row says under its place what the task is, with the year or the hotspot's number."""
    with city.connect() as conn:
        tasks = conn.execute(text("SELECT id, kind, hotspot_id, year FROM tasks")).all()
    assert {t.kind for t in tasks} == {"conversion", "suppression"}
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.click("[role=tab][data-tab=tasks]")
    page.locator("#task-table tbody tr[data-task-id]").first.wait_for()
    said = dict(
        page.locator("#task-table tbody tr[data-task-id]").evaluate_all(
            "(rows) => rows.map((r) => [Number(r.dataset.taskId), r.querySelector('.task-what').textContent])"
        )
    )
    for task in tasks:
        if task.id in said:
            kind = (
                f"chuyển hóa năm {task.year}"
                if task.kind == "conversion"
                else f"triệt xóa điểm nóng #{task.hotspot_id}"
            )
            assert said[task.id] == kind, (task, said[task.id])
    assert len(said) >= 2 and errors == []
    page.close()


def test_an_import_reports_refused_rows_by_line_beside_their_reasons(chromium, server: str) -> None:
    """A refused account file read «3 dòng của tệp bị loại» above «Bị loại: 4 dòng»: a row refused for two reasons
    was counted twice. A whole list counts its lines, the reasons beside; a list cut short counts its reasons."""
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    headings = page.evaluate(
        """() => {
        const box = document.createElement("div");
        document.body.append(box);
        const row = (line, message) => ({ line, ref: "", field_label: null, message });
        const list = (rows, total = rows.length) => ({ total, rows });
        importReport(box, { summary: "", warnings: [], counts: { imported: 0, rejected: 3 },
          rejected: list([row(2, "thiếu tên"), row(2, "vai trò lạ"), row(3, "trùng"), row(4, "mã lạ")]),
          duplicates: list(Array.from({ length: 1000 }, (_, i) => row(i + 5, "trùng")), 1500),
          flagged: list([row(9, "xem lại")]) });
        return [...box.querySelectorAll("h3")].map((h) => h.textContent); }"""
    )
    assert headings == [
        "Bị loại: 3 dòng (4 lý do)",
        "Trùng, bỏ qua: 1.500 lý do (1.000 lý do đầu)",
        "Vẫn lưu, cần xem lại: 1 dòng",
    ], headings
    assert errors == []
    page.close()


def test_a_teams_first_visit_on_a_phone_marks_new_only_what_came_since_its_last_login(
    chromium, server: str, city: Engine
) -> None:
    """A team member opening the page on a new phone (nothing kept on it) read every notice of months past «mới».
    What came before their previous login counts as seen there: the one task given since is the one new notice."""
    from conftest import conversion_task

    from gis.demo.accounts import DEMO_PASSWORD
    from gis.store.accounts import principal_by_username

    with city.connect() as conn:
        username, team, commune = conn.execute(
            text("""SELECT u.username, u.team_id, min(ta.commune_code) FROM users u JOIN team_areas ta
                    ON ta.team_id = u.team_id AND ta.valid_to IS NULL WHERE u.role = 'team' AND u.active
                    AND u.username ~ '^to[0-9]+$' AND EXISTS (SELECT 1 FROM tasks t WHERE t.team_id = u.team_id)
                    GROUP BY u.username, u.team_id ORDER BY u.username DESC LIMIT 1""")
        ).one()

    def phone_logs_in():  # a phone of its own: nothing kept from another
        page = chromium.new_page(viewport=PHONE)
        page.goto(f"{server}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        page.locator("#inbox li").first.wait_for()
        return page

    phone_logs_in().close()
    with city.begin() as conn:
        task = conversion_task(conn, principal_by_username(conn, "chihuy"), commune, 2017, team)
    page = phone_logs_in()
    assert page.locator("#inbox-count").inner_text() == "1 mới"
    fresh = page.locator("#inbox li:not(.handled)")
    assert fresh.count() == 1 and f"#{task}" in fresh.inner_text(), fresh.all_inner_texts()
    assert page.locator("#inbox li.handled").count() >= 1
    shot(page, "team-first-visit-new-phone")
    page.close()

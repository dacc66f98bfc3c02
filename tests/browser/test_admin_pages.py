"""The administration page as an administrator meets it (its other checks: test_browser.py, test_first_day.py)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

import test_browser as shared
from conftest import SECOND_PROVINCE, SECOND_PROVINCE_FILE, SECOND_PROVINCE_UNITS, conversion_task
from openpyxl import load_workbook
from sqlalchemy import Engine, text
from test_browser import (
    DESKTOP,
    PHONE,
    SMALL_PHONE,
    change_password,
    confirming,
    log_in_with_a_given_password,
    open_as,
    shot,
    unexpected,
    wait_message,
)

from gis.services.admin import dissolve_team
from gis.store.accounts import create_team, principal_by_username, team_version
from models.domain.dates import vn_day, vn_time
from models.vocabulary import TASK_OPEN, codes, local_today

city, server, chromium = shared.city, shared.server, shared.chromium


def newest_audit_line(page, action: str):  # noqa: ANN001, ANN201 - a Playwright page and locator
    """The administrator's audit tab opened, once its newest line names ``action``: that line."""
    page.click("nav.tabs button[data-tab=audit]")
    newest = page.locator("#audit li").first
    newest.filter(has_text=action).wait_for()
    return newest


def test_taking_a_commune_with_open_tasks_from_a_team_says_the_team_keeps_them(
    chromium,
    server: str,
    city: Engine,
    tmp_path: Path,
) -> None:
    """The team keeps its open tasks in a commune taken from its area (command reassigns them): the page says so.
    Then a boundary file checked: what the import would add, and a refused feature by its number in the file."""
    with city.connect() as conn:
        team_id, team, code, tasks = conn.execute(
            text("""SELECT t.team_id, tm.name, t.commune_code, count(*) FROM tasks t JOIN teams tm ON tm.id = t.team_id
                    JOIN team_areas ta ON ta.team_id = t.team_id AND ta.commune_code = t.commune_code
                         AND ta.valid_to IS NULL
                    WHERE t.state = ANY(:open) GROUP BY 1, 2, 3 ORDER BY 1, 3 LIMIT 1"""),
            {"open": list(codes(TASK_OPEN))},
        ).one()
    page, errors = open_as(chromium, server, "quantri", PHONE)
    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(team_id))
    page.wait_for_selector("#area-history tbody tr")
    page.uncheck(f"#commune-list label[data-code='{code}'] input")
    page.click("#team-save")
    wait_message(page, f"tổ vẫn giữ {tasks} nhiệm vụ đang mở ở xã/phường bớt đi")
    shot(page, "admin-open-tasks-kept-phone")
    assert "chỉ huy giao lại" in page.locator("#message").inner_text(), team
    assert "warning" in page.locator("#message").get_attribute("class")  # amber, it stays until read
    # Boundaries from a file, under the areas, checked first: a day not written dd/mm/yyyy is said and nothing sent;
    # the check says what the import would add and writes nothing (its import: tests/api/test_boundary_upload.py).
    page.click("#message")  # read: cleared
    page.click("#boundary-import-box summary")
    page.set_input_files("#boundary-import input[name=file]", str(SECOND_PROVINCE_FILE))
    page.fill("#boundary-import input[name=valid_from]", "31/02/2026")
    page.click("#boundary-import button[name=check]")
    page.locator("#message.error").filter(has_text="Ngày hiệu lực: «31/02/2026» không phải ngày hợp lệ").wait_for()
    page.click("#message")
    page.fill("#boundary-import input[name=valid_from]", "01/01/2026")
    page.click("#boundary-import button[name=check]")
    heading = f"Kiểm tra tệp — chưa ghi gì. Ranh giới, nếu nhập: thêm mới {SECOND_PROVINCE_UNITS}"
    page.locator("#boundary-import-report h3.import-check").filter(has_text=heading).wait_for()
    assert page.locator("#boundary-import-report .import-summary").count() == 0  # its counts said once, in the heading
    # A feature without a geometry is refused: counted and headed as a feature («Dòng» had read as a line).
    collection = json.loads(SECOND_PROVINCE_FILE.read_text(encoding="utf-8"))
    collection["features"][1]["geometry"] = None
    broken = tmp_path / "thieu-hinh.geojson"
    broken.write_text(json.dumps(collection), encoding="utf-8")
    page.set_input_files("#boundary-import input[name=file]", str(broken))
    page.click("#boundary-import button[name=check]")
    refused = page.locator("#boundary-import-report h3:not(.import-check)")
    refused.filter(has_text="Bị loại: 1 đối tượng").wait_for()
    table = page.locator("#boundary-import-report table")
    assert table.locator("th").first.inner_text() == "Đối tượng"
    assert table.locator("tbody td").all_inner_texts() == ["2", "06658", "—", "không có hình học vùng"]
    with city.connect() as conn:
        assert not conn.execute(
            text("SELECT count(*) FROM admin_units WHERE province_code = :p"), {"p": SECOND_PROVINCE}
        ).scalar()
    assert errors == []
    page.close()


def test_deactivating_a_user_asks_first_and_nothing_happens_when_declined(chromium, server: str) -> None:
    """Deactivation ends the user's sessions at once (a team in the field is logged out): one tap on a phone did it
    unasked, where a new password asks first."""
    page, errors = open_as(chromium, server, "quantri", PHONE)
    asked = confirming(page, False, every=True)
    page.click("#user-table tr[data-username=thammuu]")
    page.click("#user-table .card[data-username=thammuu] button[data-action=deactivate]")
    # Once the click is answered: the button usable again (declined), or gone with the list reloaded (done unasked).
    page.wait_for_function(
        "() => !document.querySelector('.card[data-username=thammuu] [data-action=deactivate]')?.disabled"
    )
    assert asked and "thammuu" in asked[0] and "phiên đăng nhập" in asked[0]
    assert page.locator("#user-table tr[data-username=thammuu] td.state").inner_text().splitlines()[0] == "Hoạt động"
    assert errors == []
    page.close()


def test_the_users_list_says_when_each_user_last_logged_in(chromium, server: str, city: Engine) -> None:
    """Under each user's state, their last login: the administrator finds the accounts nobody uses (sessions are
    deleted once ended, so nothing said it)."""
    from gis.store.accounts import create_user

    with city.begin() as conn:
        create_user(conn, "chua-tung-vao", "not-a-hash", "planner", None)
    page, errors = open_as(chromium, server, "quantri", DESKTOP)  # a login, through the form or earlier in the module
    with city.connect() as conn:
        seen = conn.execute(text("SELECT last_login_at FROM users WHERE username = 'quantri'")).scalar_one()
    last = page.locator("#user-table tr[data-username=quantri] td.state small.last-login")
    assert last.inner_text() == f"đăng nhập {vn_day(seen)}"
    assert last.get_attribute("title") == f"Đăng nhập gần nhất: {vn_time(seen)}"
    never = page.locator("#user-table tr[data-username=chua-tung-vao] td.state")
    assert never.inner_text().splitlines()[-1] == "chưa đăng nhập"
    page.click("#user-table tr[data-username=chua-tung-vao]")  # and in the card, as a phone shows it
    assert page.locator("#user-table .card[data-username=chua-tung-vao] p.last-login").inner_text() == (
        "Chưa đăng nhập lần nào"
    )
    shot(page, "admin-last-login")
    assert errors == []
    page.close()


def test_the_administrators_own_row_offers_no_action_the_server_refuses(chromium, server: str) -> None:
    """The administrator's own row offered «Cấp lại mật khẩu», «Ngừng kích hoạt» and a role change, all refused by the
    server (a new password of one's own takes the current one): it says where to change one's password instead."""
    page, errors = open_as(chromium, server, "quantri", PHONE)
    page.click("#user-table tr[data-username=quantri]")
    own = page.locator("#user-table .card[data-username=quantri]")
    assert "Tài khoản của bạn: đổi mật khẩu ở trang Đổi mật khẩu" in own.inner_text()
    assert own.locator("button, select").count() == 0
    assert own.locator("a[href='/password']").count() == 1
    page.click("#user-table tr[data-username=thammuu]")  # another's row keeps its actions
    assert page.locator("#user-table .card[data-username=thammuu] button[data-action=password]").count() == 1
    assert errors == []
    page.close()


def test_a_member_is_moved_then_promoted_and_a_team_renamed_on_a_phone(chromium, server: str, city: Engine) -> None:
    """An officer transferred to another team, then promoted to command (asked first: it logs them out) within the
    province of the team they leave — «Toàn quốc» is offered, never preselected: the page had no province choice and
    the promoted member saw the whole country —, and a team renamed after a reorganisation — on a phone, each told in
    Vietnamese and written to the audit."""
    from gis.store.accounts import create_user

    with city.begin() as conn:
        first, second = conn.execute(text("SELECT id, name FROM teams ORDER BY id LIMIT 2")).all()
        create_user(conn, "chuyen-to", "not-a-hash", "team", first.id)
        province = conn.execute(
            text("""SELECT DISTINCT p.code, p.full_name FROM team_areas ta
                    JOIN admin_units a ON a.code = ta.commune_code JOIN provinces p ON p.code = a.province_code
                    WHERE ta.team_id = :t AND ta.valid_to IS NULL"""),
            {"t": second.id},
        ).one()
    page, errors = open_as(chromium, server, "quantri", PHONE)
    asked = confirming(page, True, every=True)
    card = "#user-table .card[data-username=chuyen-to]"
    page.click("#user-table tr[data-username=chuyen-to]")
    page.click(f"{card} details.place summary")
    page.select_option(f"{card} select[name=team]", str(second.id))
    page.locator(f"{card} button[data-action=place]").scroll_into_view_if_needed()
    shot(page, "admin-move-user-phone")
    page.click(f"{card} button[data-action=place]")
    wait_message(page, f"Đã chuyển chuyen-to từ tổ «{first.name}» sang tổ «{second.name}»")
    assert asked == []  # a move keeps the session: nothing to confirm
    assert page.locator("#user-table tr[data-username=chuyen-to] td").nth(2).inner_text() == second.name
    scope = page.locator(f"{card} select[name=province]")
    assert scope.is_disabled()  # a team user has no province
    page.select_option(f"{card} select[name=role]", "command")
    assert page.locator(f"{card} select[name=team]").is_disabled()
    assert scope.is_enabled() and scope.input_value() == province.code, scope.input_value()
    assert "Toàn quốc" in scope.locator("option[value=nation]").inner_text()
    shot(page, "admin-promote-province-phone")
    page.click(f"{card} button[data-action=place]")
    wait_message(
        page, f"chuyen-to: vai trò «Ban chỉ huy», phạm vi {province.full_name}, đã đăng xuất khỏi mọi thiết bị"
    )
    assert len(asked) == 1 and "đăng xuất" in asked[0] and "«Tổ công tác» sang «Ban chỉ huy»" in asked[0], asked
    assert f"(phạm vi: {province.full_name})" in asked[0], asked
    with city.connect() as conn:
        stored = conn.execute(text("SELECT province_code FROM users WHERE username = 'chuyen-to'")).scalar_one()
    assert stored == province.code
    assert page.locator("#user-table tr[data-username=chuyen-to] td").nth(2).inner_text() == province.full_name

    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(second.id))
    page.fill("#team-rename input[name=name]", "Đội Cảnh sát điều tra tội phạm về ma túy")
    page.click("#team-rename button[type=submit]")
    wait_message(page, f"Đã đổi tên tổ «{second.name}» thành «Đội Cảnh sát điều tra tội phạm về ma túy»")
    page.click("nav.tabs button[data-tab=audit]")
    audit = page.locator("#audit li").all_inner_texts()[:3]
    assert audit[0].endswith(
        f"Đổi tên tổ công tác — Đội Cảnh sát điều tra tội phạm về ma túy ({second.name} → Đội"
        " Cảnh sát điều tra tội phạm về ma túy)"
    ), audit
    assert "Đổi vai trò người dùng — chuyen-to (Tổ công tác → Ban chỉ huy)" in audit[1], audit
    assert f"Chuyển người dùng sang tổ khác — chuyen-to, {second.name} ({first.name} → {second.name})" in audit[2], (
        audit
    )
    assert errors == []
    page.close()


def test_a_command_user_created_on_the_page_gets_the_only_province_unless_the_whole_country_is_chosen(
    chromium, server: str, city: Engine
) -> None:
    """A command user created on the page saw the whole country (no province choice): the choice starts at the
    database's only province, and «Toàn quốc» is given only when picked; a command user's card shows their scope
    and narrows it (`PUT /api/users/{id}/province`, no logout)."""
    with city.connect() as conn:
        only, only_name = conn.execute(
            text("""SELECT DISTINCT p.code, p.full_name FROM admin_units a JOIN provinces p ON p.code = a.province_code
                    WHERE a.valid_to IS NULL""")
        ).one()
    page, errors = open_as(chromium, server, "quantri", PHONE)
    form = "#new-user"
    # No role chosen beforehand (it was «Ban chỉ huy», the first of the list): asked for, nobody created.
    assert page.locator(f"{form} select[name=role]").input_value() == ""
    page.fill(f"{form} input[name=username]", "chua-chon-vai-tro")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#message.error >> text=Hãy chọn vai trò của người dùng mới")
    with city.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE username = 'chua-chon-vai-tro'")).scalar_one() == 0
    page.select_option(f"{form} select[name=role]", "team")
    assert page.locator(f"{form} select[name=province]").is_disabled()
    for name, chosen, stored in (("chi-huy-tinh", None, only), ("chi-huy-bo", "nation", None)):
        page.select_option(f"{form} select[name=role]", "command")
        assert page.locator(f"{form} select[name=province]").input_value() == only
        if chosen:
            page.select_option(f"{form} select[name=province]", chosen)
        page.fill(f"{form} input[name=username]", name)
        page.click(f"{form} button[type=submit]")
        wait_message(page, f"Đã tạo người dùng {name} (Ban chỉ huy, {'Toàn quốc' if chosen else ''}")
        with city.connect() as conn:
            scope = conn.execute(text("SELECT province_code FROM users WHERE username = :u"), {"u": name}).scalar_one()
        assert scope == stored, name
    card = "#user-table .card[data-username=chi-huy-bo]"
    page.click("#user-table tr[data-username=chi-huy-bo]")
    page.click(f"{card} details.place summary")
    assert page.locator(f"{card} select[name=province]").input_value() == "nation"  # their scope as it is
    page.select_option(f"{card} select[name=province]", only)
    page.click(f"{card} button[data-action=place]")
    wait_message(page, f"Phạm vi của chi-huy-bo từ nay: {only_name} (áp dụng từ yêu cầu tiếp theo)")
    assert page.locator("#user-table tr[data-username=chi-huy-bo] td").nth(2).inner_text() == only_name
    page.click("nav.tabs button[data-tab=audit]")  # the change by the provinces' names, not their codes
    page.wait_for_selector(f"#audit li:has-text('chi-huy-bo (Toàn quốc → {only_name})')")
    assert errors == []
    page.close()


def test_a_password_the_administrator_gives_is_changed_by_its_user_at_the_next_login(
    chromium, server: str, city: Engine
) -> None:
    """The administrator gives a planner a new password on the page, which says the user must change it; the planner,
    logging in with it on a phone, gets «Đổi mật khẩu» instead of the map, sets their own and goes on to their page;
    the given password no longer opens anything, and the administrator's audit list shows the planner's own change
    after the reset. Before, the given password was the planner's for good: the administrator who read it could work
    as that planner, and no page let anyone change a password."""
    from api.security import hash_password
    from gis.demo.accounts import DEMO_PASSWORD
    from gis.store.accounts import create_user

    with city.begin() as conn:
        user_id = create_user(conn, "thammuu-moi", hash_password(DEMO_PASSWORD), "planner", None)
    try:
        admin, errors = open_as(chromium, server, "quantri")
        confirming(admin, True)
        admin.click("#user-table tr[data-username=thammuu-moi]")
        admin.click("#user-table .card[data-username=thammuu-moi] button[data-action=password]")
        given = admin.locator("#secret code.password").inner_text()
        assert "phải đổi mật khẩu này trước khi làm việc" in admin.locator("#secret").inner_text()
        wait_message(admin, "Đã cấp lại mật khẩu cho thammuu-moi")
        admin.wait_for_selector("#user-table tr[data-username=thammuu-moi] td.state >> text=Chưa đổi mật khẩu được cấp")
        assert errors == []

        phone = chromium.new_page(viewport=PHONE)
        log_in_with_a_given_password(phone, server, "thammuu-moi", given)
        assert "Mật khẩu này do quản trị viên cấp" in phone.inner_text("main")
        # Too short, the browser's bubble is Vietnamese («Please lengthen this text to 8 characters or more»).
        change_password(phone, given, "abc")
        short = phone.locator("input[name=new_password]").evaluate("(f) => f.validationMessage")
        assert short == "Cần ít nhất 8 ký tự (mới có 3)", short
        change_password(phone, given, "cua-rieng-toi-2026", repeated="cua-rieng-toi-2O26")
        phone.wait_for_selector("p.message.error >> text=hai lần nhập mật khẩu mới không khớp")
        shot(phone, "password-given-phone")
        change_password(phone, given, "cua-rieng-toi-2026")
        phone.wait_for_selector("body[data-ready=true]", timeout=30_000)
        assert phone.locator("#who a.user").inner_text() == "thammuu-moi"
        shot(phone, "password-changed-planner-phone")
        phone.close()
        with city.connect() as conn:
            must = conn.execute(text("SELECT must_change_password FROM users WHERE id = :id"), {"id": user_id})
            assert must.scalar_one() is False
        # The administrator's page, open all along, shows the change once the tab is opened again (it showed the
        # given password's state until the page was reloaded); its audit list reads the change as the planner's own,
        # after the reset, and from where.
        admin.click("[role=tab][data-tab=teams]")
        admin.click("[role=tab][data-tab=users]")
        admin.wait_for_selector("#user-table tr[data-username=thammuu-moi] td.state >> text=Hoạt động")
        newest = newest_audit_line(admin, "Tự đổi mật khẩu")
        assert newest.inner_text().endswith(
            "thammuu-moi: Tự đổi mật khẩu — thammuu-moi (thay mật khẩu do quản trị viên quantri cấp lại ngày"
            f" {local_today():%d/%m/%Y}, từ địa chỉ 127.0.0.1)"
        ), newest.inner_text()
        assert "quantri: Cấp lại mật khẩu — thammuu-moi" in admin.locator("#audit li").nth(1).inner_text()
        assert given not in admin.locator("#audit").inner_text() and errors == []
        admin.close()
    finally:
        with city.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})


def test_the_administrator_reads_who_looked_at_task_photos_and_exports_it_on_a_phone(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """«Who looked at this task's photos?»: the access log filtered by user, days and what was read (named as the
    page names it, not by route), newest first with time, rows and address, and the same lines downloaded as Excel."""
    yesterday = local_today() - timedelta(days=1)
    with city.begin() as conn:
        for minute, route in ((10, "GET /api/tasks/{task_id}/photos/{photo_id}"), (12, "GET /api/incidents")):
            conn.execute(
                text("""INSERT INTO access_log (at, username, role, route, params, rows, address)
                        VALUES (:at, 'to03', 'team', :r,
                                CAST('{"task_id": "7", "photo_id": "3", "kind": "tip"}' AS jsonb), 1, '10.1.2.3')"""),
                {"at": datetime.combine(yesterday, datetime.min.time()).replace(hour=21, minute=minute), "r": route},
            )
    page, errors = open_as(chromium, server, "quantri", PHONE)
    page.click("nav.tabs button[data-tab=access]")
    page.wait_for_selector("#access-log li")
    form = "#access-filters"
    page.fill(f"{form} input[name=username]", "to03")
    page.select_option(f"{form} select[name=what]", label="Ảnh nhiệm vụ")
    page.fill(f"{form} input[name=from]", f"{yesterday:%d/%m/%Y}")
    page.fill(f"{form} input[name=to]", f"{local_today():%d/%m/%Y}")
    page.click(f"{form} button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#access-log li').length === 1")
    line = page.locator("#access-log li").inner_text()
    assert "to03 (Tổ công tác): Ảnh nhiệm vụ · 1 dòng · 10.1.2.3" in line
    assert "nhiệm vụ=7; ảnh=3" in line  # the parameters by their Vietnamese names (was «task_id=7; photo_id=3»)
    assert "loại=Tin báo, tố giác" in line and "tip" not in line  # a code value by its label (was «loại=tip»)
    assert page.locator("#access-count").inner_text() == "1 dòng"
    page.locator("#access-log li").scroll_into_view_if_needed()
    shot(page, "admin-access-log-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    with page.expect_download() as download:
        page.click("#access-xlsx")
    assert download.value.suggested_filename == f"nhật-ký-truy-cập-{local_today():%d-%m-%Y}.xlsx"
    saved = tmp_path / "nhat-ky.xlsx"
    download.value.save_as(saved)
    sheet = load_workbook(saved).active
    assert [c.value for c in sheet[9]][2:5] == ["to03", "Tổ công tác", "Ảnh nhiệm vụ"]
    assert "người dùng to03, dữ liệu «Ảnh nhiệm vụ»" in sheet["A7"].value
    page.fill(f"{form} input[name=to]", "31/02/2026")  # told, never dropped (every day's lines instead)
    page.click(f"{form} button[type=submit]")
    assert "Đến ngày: «31/02/2026» không phải ngày hợp lệ" in page.locator("#message").inner_text()
    assert errors == []
    page.close()
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    page.click("nav.tabs button[data-tab=access]")
    page.wait_for_selector("#access-log li")
    shot(page, "admin-access-log-desktop")
    assert errors == []
    page.close()


def test_a_team_is_dissolved_only_once_emptied_and_is_then_offered_nowhere(chromium, server: str, city: Engine) -> None:
    """A team with members is refused with what to do first, without the question whose «Không hoàn tác được» then
    came to nothing; an emptied one is dissolved after a question, leaves the administrator's and command's pickers,
    and the audit names it."""
    with city.begin() as conn:
        commune, commune_name = conn.execute(
            text("""SELECT ta.commune_code, u.full_name FROM team_areas ta JOIN admin_units u
                    ON u.code = ta.commune_code AND u.valid_to IS NULL WHERE ta.valid_to IS NULL LIMIT 1""")
        ).one()
        spare = create_team(conn, "Tổ sáp nhập thử", [commune])
        busy = conn.execute(
            text("SELECT t.id FROM teams t WHERE EXISTS (SELECT 1 FROM users u WHERE u.team_id = t.id) LIMIT 1")
        ).scalar_one()
    page, errors = open_as(chromium, server, "quantri", PHONE)
    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(busy))
    asked = confirming(page, True)
    page.click("#dissolve-team")
    page.wait_for_function("() => document.getElementById('message').textContent.includes('Chưa thể giải thể')")
    shot(page, "admin-dissolve-refused-phone")
    assert asked == [], asked
    assert (
        "thành viên" in page.locator("#message").inner_text()
        and "hãy chuyển họ sang tổ khác" in page.locator("#message").inner_text()
    )
    page.close()

    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(spare))
    assert "0 người dùng; 0 nhiệm vụ chưa kết thúc" in page.locator("#team-summary").inner_text()
    declined = confirming(page, False)
    page.click("#dissolve-team")
    page.wait_for_function("() => !document.getElementById('dissolve-team').disabled")
    assert declined and page.locator(f"#team-pick option[value='{spare}']").count() == 1  # nothing done
    confirming(page, True)
    page.click("#dissolve-team")
    wait_message(page, f"Đã giải thể tổ «Tổ sáp nhập thử»: địa bàn 1 xã/phường kết thúc ngày {local_today():%d/%m/%Y}")
    assert page.locator(f"#team-pick option[value='{spare}']").count() == 0
    assert page.locator(f"#new-user select[name=team] option[value='{spare}']").count() == 0
    page.click("nav.tabs button[data-tab=audit]")
    assert (  # the commune by its name (the line counted it only)
        f"Giải thể tổ công tác — Tổ sáp nhập thử (địa bàn 1 xã/phường ({commune_name}) kết thúc ngày"
        in page.locator("#audit li").first.inner_text()
    )
    shot(page, "admin-dissolved-audit-desktop")
    assert unexpected(errors, 409) == []
    page.close()

    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.click("nav.tabs button[data-tab=tasks]")
    page.wait_for_selector(f"#task-filters select[name=team] option[value='{busy}']", state="attached")
    assert page.locator(f"#task-filters select[name=team] option[value='{spare}']").count() == 0
    page.close()


#: The choice a closed select shows, if it is cut: [its text, its width, the room] measured with the select's font
#: (as test_page_walk.CUT_HINTS measures placeholders), the room without the select's padding and its arrow's 20 px.
CUT_CHOICE = """(selector) => { const select = document.querySelector(selector);
  const style = getComputedStyle(select);
  const ruler = document.createElement('canvas').getContext('2d');
  ruler.font = style.font;
  const text = select.selectedOptions[0].text, width = ruler.measureText(text).width;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  return width > room ? [text, Math.round(width), Math.round(room)] : []; }"""


def test_a_dissolved_teams_old_tasks_are_found_in_commands_filters_under_the_day_it_was_dissolved(
    chromium, server: str, city: Engine
) -> None:
    """A dissolved team holding an accepted task is offered in the registers' team filters, after the working teams,
    under «Tổ đã giải thể» by its name, the filter's label saying «— tổ đã giải thể ngày dd/mm/yyyy» once it is chosen,
    and lists that task. Named as long as the longest demo team, its choice shown in the closed filter is not cut on a
    360 px phone (a select's option cannot wrap: «… (đã giải thể ngày dd/mm/yyyy)» was)."""
    with city.begin() as conn:
        longest = conn.execute(text("SELECT name FROM teams ORDER BY length(name) DESC, name LIMIT 1")).scalar_one()
        name = re.sub(r"\d+", "99", longest, count=1) if re.search(r"\d", longest) else f"{longest[:-1]}9"
        commune = conn.execute(text("SELECT commune_code FROM team_areas WHERE valid_to IS NULL LIMIT 1")).scalar()
        team = create_team(conn, name, [commune])
        task = conversion_task(conn, principal_by_username(conn, "chihuy"), commune, 2038, team)
        conn.execute(text("UPDATE tasks SET state = 'accepted' WHERE id = :t"), {"t": task})
        dissolve_team(conn, "quantri", team, team_version(conn, team))
    page, errors = open_as(chromium, server, "chihuy", DESKTOP)
    page.click("nav.tabs button[data-tab=tasks]")
    for form in ("task-filters", "hotspot-filters"):
        choice = page.locator(f"#{form} select[name=team] optgroup[label='Tổ đã giải thể'] option[value='{team}']")
        choice.wait_for(state="attached")
        assert choice.inner_text() == name
    said = page.locator("#task-filters .team-gone")
    assert said.inner_text() == ""
    page.select_option("#task-filters select[name=team]", str(team))
    said.filter(has_text=f"— tổ đã giải thể ngày {local_today():%d/%m/%Y}").wait_for()
    page.locator("#task-count").filter(has_text=re.compile("^1 nhiệm vụ")).wait_for()
    rows = page.locator("#task-table tbody tr:not(.detail)")
    assert rows.count() == 1 and rows.first.get_attribute("data-task-id") == str(task)
    page.set_viewport_size(SMALL_PHONE)
    assert page.evaluate(CUT_CHOICE, "#task-filters select[name=team]") == [], longest
    assert said.is_visible()
    page.select_option("#task-filters select[name=team]", "")
    page.wait_for_function("() => document.querySelector('#task-filters .team-gone').textContent === ''")
    assert errors == []
    page.close()


def test_a_city_is_set_up_from_a_file_on_the_page_and_its_officers_log_in_with_their_line(
    chromium, server: str, city: Engine, tmp_path: Path
) -> None:
    """The administrator downloads nothing but the sheet: a file with a bad row shows every refused row and creates
    nothing; the corrected file creates the teams and users and offers the one-time password sheet once, whose lines
    open the officers' accounts at the password change."""
    from gis.store.accounts import dissolve_team, team_version

    header = "Tên đăng nhập;Vai trò;Tổ công tác;Xã/phường;Tỉnh\n"
    good = header + "nhap-to-1;Tổ công tác;Tổ nhập trang;Phường Lê Chân;\nnhap-chihuy;Ban chỉ huy;;;31\n"
    bad = good + "nhap-to-1;Tổ công tác;Tổ nhập trang;;\nnhap-x;Quản trị;;;\n"
    (tmp_path / "sai.csv").write_text(bad, encoding="utf-8")
    (tmp_path / "dung.csv").write_text(good, encoding="utf-8")
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    page.click("#user-import-box summary")
    page.set_input_files("#user-import input[name=file]", str(tmp_path / "sai.csv"))
    page.click("#user-import button[type=submit]")
    page.wait_for_selector("#user-import-report .import-failure")
    report = page.locator("#user-import-report").inner_text()
    assert "2 dòng của tệp bị loại: chưa tạo tổ, người dùng nào" in report
    assert "trùng với dòng 2" in report and "từng quản trị viên" in report
    shot(page, "admin-accounts-import-refused")
    page.set_input_files("#user-import input[name=file]", str(tmp_path / "dung.csv"))
    page.click("#user-import button[name=check]")  # checked first: nothing created, the import button focused
    checked = "Kiểm tra tệp — chưa ghi gì: 2 dòng sẽ được nhập, 0 dòng bị từ chối"
    page.locator("#user-import-report h3.import-check").filter(has_text=checked).wait_for()
    assert "mật khẩu dùng một lần khi nhập thật" in page.locator("#user-import-report").inner_text()
    assert page.evaluate("document.activeElement.matches('#user-import button[type=submit]')")
    assert page.locator("#user-table tr[data-username=nhap-to-1]").count() == 0
    page.click("#user-import button[type=submit]")
    wait_message(page, "Đã nhập tệp dung.csv")
    page.wait_for_selector("#user-table tr[data-username=nhap-to-1]")
    assert page.locator("#user-import-report").is_hidden()
    shot(page, "admin-accounts-import-sheet")
    with page.expect_download() as download:
        page.click("#user-import-sheet a")
    assert download.value.suggested_filename == "mat-khau-lan-dau.xlsx"
    rows = list(load_workbook(BytesIO(Path(download.value.path()).read_bytes())).active.iter_rows(values_only=True))
    given = {row[1]: row[4] for row in rows if isinstance(row[0], int)}
    assert sorted(given) == ["nhap-chihuy", "nhap-to-1"]
    assert any("hủy bảng này" in str(cell) for row in rows for cell in row)
    page.click("#user-import-sheet button")
    assert page.locator("#user-import-sheet").is_hidden()
    # The audit list names the import as a whole, newest, with its counts and file (the refused one left nothing).
    newest = newest_audit_line(page, "Nhập tài khoản từ tệp")
    assert newest.inner_text().endswith(
        "quantri: Nhập tài khoản từ tệp (1 tổ công tác mới, 2 người dùng mới; nhập từ tệp «dung.csv»)"
    ), newest.inner_text()
    assert "sai.csv" not in page.locator("#audit").inner_text()
    assert unexpected(errors, 422) == []
    page.close()
    try:
        phone = chromium.new_page(viewport=PHONE)
        log_in_with_a_given_password(phone, server, "nhap-to-1", given["nhap-to-1"])
        shot(phone, "admin-accounts-import-first-login-phone")
        phone.close()
    finally:
        with city.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username LIKE 'nhap-%'"))
            team = conn.execute(text("SELECT id FROM teams WHERE name = 'Tổ nhập trang'")).scalar_one()
            dissolve_team(conn, team, team_version(conn, team))


def unheld(page) -> tuple[str, int]:  # noqa: ANN001 - a Playwright page
    """The teams tab's line of communes no team holds, and how many it counts (named, and «và N xã/phường khác»)."""
    line = page.locator("#team-unheld")
    if line.is_hidden():
        return "", 0
    said = line.inner_text()
    named, _, more = said.removeprefix("Xã/phường chưa có tổ phụ trách: ").partition(" và ")
    return said, len(named.split(", ")) + (int(more.split()[0].replace(".", "")) if more else 0)


def test_a_commune_a_dissolution_leaves_with_no_team_is_named_on_the_teams_tab(
    chromium, server: str, city: Engine
) -> None:
    """A team holding the only hold on a commune is dissolved: the message names the commune «không còn tổ nào phụ
    trách», and the teams tab says «Xã/phường chưa có tổ phụ trách: …» (hidden while every commune has a team).
    Before, the message counted the communes and nothing showed the commune had nobody."""
    from gis.store.accounts import set_team_area

    with city.begin() as conn:
        holder, commune, name = conn.execute(
            text("""SELECT ta.team_id, ta.commune_code, u.full_name FROM team_areas ta
                    JOIN admin_units u ON u.code = ta.commune_code AND u.valid_to IS NULL
                    WHERE ta.valid_to IS NULL AND (SELECT count(*) FROM team_areas o WHERE o.team_id = ta.team_id
                                                   AND o.valid_to IS NULL) > 1
                      AND NOT EXISTS (SELECT 1 FROM team_areas o WHERE o.commune_code = ta.commune_code
                                      AND o.team_id <> ta.team_id AND o.valid_to IS NULL)
                    ORDER BY ta.commune_code LIMIT 1""")
        ).one()
        area = list(
            conn.execute(
                text("SELECT commune_code FROM team_areas WHERE team_id = :t AND valid_to IS NULL"), {"t": holder}
            ).scalars()
        )
        spare = create_team(conn, "Tổ giữ một xã", [commune])
        set_team_area(conn, holder, [c for c in area if c != commune], local_today())
    try:
        page, errors = open_as(chromium, server, "quantri", DESKTOP)
        page.click("nav.tabs button[data-tab=teams]")
        before = unheld(page)  # none in the demo city; another test's province may have left some
        page.select_option("#team-pick", str(spare))
        confirming(page, True)
        page.click("#dissolve-team")
        wait_message(page, f"không còn tổ nào phụ trách 1 xã/phường: {name}")
        after = unheld(page)
        assert after[1] == before[1] + 1 and (name in after[0] or not before[1]), (before, after)
        if not before[1]:
            assert after[0] == f"Xã/phường chưa có tổ phụ trách: {name}"
        assert errors == []
        page.close()
    finally:
        with city.begin() as conn:
            set_team_area(conn, holder, area, local_today())


def test_deactivating_a_teams_last_active_member_warns_that_its_tasks_have_nobody(
    chromium, server: str, city: Engine
) -> None:
    """The only member of a team holding two assigned tasks is deactivated: the page says the tasks stay the team's and
    that nobody active is left to work them (as a move or a role change says); the team's summary counts the
    deactivated account apart. Before, the page said only «đã ngừng kích hoạt»."""
    from api.security import hash_password
    from gis.store.accounts import create_user

    with city.begin() as conn:
        commune = conn.execute(text("SELECT commune_code FROM team_areas WHERE valid_to IS NULL LIMIT 1")).scalar_one()
        team = create_team(conn, "Tổ còn một người", [commune])
        create_user(conn, "con-mot-nguoi", hash_password("mat-khau-thu-1"), "team", team, must_change_password=False)
        command = principal_by_username(conn, "chihuy")
        for year in (local_today().year, local_today().year - 1):
            conversion_task(conn, command, commune, year, team)
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    confirming(page, True)
    page.click("#user-table tr[data-username=con-mot-nguoi]")
    page.click("#user-table .card[data-username=con-mot-nguoi] button[data-action=deactivate]")
    wait_message(page, "Tài khoản con-mot-nguoi: đã ngừng kích hoạt. Nhiệm vụ thuộc về tổ, không thuộc người: 2")
    assert "tổ không còn ai hoạt động, chỉ huy cần giao lại" in page.locator("#message").inner_text()
    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(team))
    assert page.locator("#team-summary").inner_text().startswith("1 người dùng (1 ngừng kích hoạt); 2 nhiệm vụ")
    assert errors == []
    page.close()


def test_deactivating_the_last_active_member_of_a_team_without_tasks_says_the_team_is_empty(
    chromium, server: str, city: Engine
) -> None:
    """A team holding no open task loses its only active member: the page said only «đã ngừng kích hoạt», while
    command's assignment list still offers the team and a task given to it would reach nobody."""
    from api.security import hash_password
    from gis.store.accounts import create_user

    with city.begin() as conn:
        commune = conn.execute(text("SELECT commune_code FROM team_areas WHERE valid_to IS NULL LIMIT 1")).scalar_one()
        team = create_team(conn, "Tổ chưa có việc", [commune])
        create_user(conn, "chua-co-viec", hash_password("mat-khau-thu-1"), "team", team, must_change_password=False)
    page, errors = open_as(chromium, server, "quantri", DESKTOP)
    confirming(page, True)
    page.click("#user-table tr[data-username=chua-co-viec]")
    page.click("#user-table .card[data-username=chua-co-viec] button[data-action=deactivate]")
    wait_message(
        page,
        "Tài khoản chua-co-viec: đã ngừng kích hoạt. Tổ «Tổ chưa có việc» không còn ai hoạt động: đừng giao nhiệm vụ",
    )
    assert errors == []
    page.close()


#: The side panel's visible elements wider than the panel (its right edge passed, or the panel scrolling sideways):
#: [tag#id.class, their right edge, the panel's] each, or the panel's own scroll width past its width.
WIDER_THAN_PANEL = """() => { const panel = document.querySelector('main.panel');
  const edge = panel.getBoundingClientRect().right;
  const wide = [...panel.querySelectorAll('*')].filter((e) => e.getClientRects().length
    && getComputedStyle(e).position !== 'fixed' && e.getBoundingClientRect().right > edge + 1)
    .map((e) => [`${e.tagName}#${e.id}.${e.className}`, Math.round(e.getBoundingClientRect().right), Math.round(edge)]);
  if (panel.scrollWidth > panel.clientWidth + 1) wide.push(['scroll', panel.scrollWidth, panel.clientWidth]);
  return wide; }"""


def test_a_very_long_team_name_stays_inside_the_admin_panel_on_a_desktop(chromium, server: str, city: Engine) -> None:
    """A team named with 200 characters (the most a name may have) made the team picker wider than the side panel,
    and its audit line ran under the map: every tab's elements stay within the panel, the name wrapped."""
    from gis.services.admin import create_team as audited_team
    from gis.store.accounts import create_user

    name = "Tổ công tác " + "Đ" * 188
    with city.begin() as conn:
        commune = conn.execute(text("SELECT commune_code FROM team_areas WHERE valid_to IS NULL LIMIT 1")).scalar_one()
        team = audited_team(conn, "test", name, [commune])  # its audit line names it
        user = create_user(conn, "to-ten-dai", "x", "team", team)  # the users list names it
    try:
        page, errors = open_as(chromium, server, "quantri", DESKTOP)
        page.click("nav.tabs button[data-tab=teams]")
        page.select_option("#team-pick", str(team))
        page.select_option("#team-pick", "")
        for tab in ("teams", "users", "audit"):
            page.click(f"nav.tabs button[data-tab={tab}]")
            if tab == "audit":
                page.locator("#audit li").first.wait_for()
            assert page.evaluate(WIDER_THAN_PANEL) == [], tab
        assert errors == []
        page.close()
    finally:
        with city.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user})
            dissolve_team(conn, "test", team, team_version(conn, team))


def test_a_team_area_naming_a_closed_unit_is_said_and_can_be_saved_again(chromium, server: str, city: Engine) -> None:
    """A team whose area still names a unit a boundary import closed (merged away: 99999 here, no current unit): the
    teams tab says so and leaves it out of the selection, so that the area saved again is the current communes —
    before, the closed code stayed selected, could not be unticked (it is neither drawn nor listed) and every save
    was refused «Không có xã/phường/đặc khu hiện hành mã: 99999»."""
    with city.begin() as conn:
        commune = conn.execute(text("SELECT min(code) FROM admin_units WHERE valid_to IS NULL")).scalar_one()
        team = create_team(conn, "Tổ có xã đã sáp nhập", [commune])
        conn.execute(
            text("INSERT INTO team_areas (team_id, commune_code, valid_from) VALUES (:t, '99999', :d)"),
            {"t": team, "d": local_today()},
        )
    try:
        page, errors = open_as(chromium, server, "quantri", DESKTOP)
        page.click("nav.tabs button[data-tab=teams]")
        page.select_option("#team-pick", str(team))
        page.wait_for_selector("#area-history tbody tr")
        summary = page.locator("#team-summary").inner_text()
        assert "đang phụ trách 1 xã/phường" in summary, summary
        assert "1 đơn vị đã khép lại theo ranh giới mới (99999)" in summary, summary
        page.click("#team-save")
        wait_message(page, "Đã lưu địa bàn")
        with city.connect() as conn:
            area = (
                conn.execute(
                    text("SELECT commune_code FROM team_areas WHERE team_id = :t AND valid_to IS NULL"), {"t": team}
                )
                .scalars()
                .all()
            )
        assert area == [commune]
        assert errors == []
        page.close()
    finally:
        with city.begin() as conn:
            dissolve_team(conn, "test", team, team_version(conn, team))


def test_a_teams_area_is_fitted_clear_of_the_map_buttons_on_a_phone(chromium, server: str, city: Engine) -> None:
    """The administrator picks a team on a phone: its area was fitted to the whole map, its southern communes under
    «Bạch Long Vĩ», «Đất liền» and «In bản đồ» over the map's bottom. It is fitted in the part the controls leave clear."""
    with city.connect() as conn:
        team = conn.execute(text("SELECT min(id) FROM teams")).scalar_one()
        codes = list(
            conn.execute(
                text("SELECT commune_code FROM team_areas WHERE team_id = :t AND valid_to IS NULL"), {"t": team}
            ).scalars()
        )
    page, errors = open_as(chromium, server, "quantri", PHONE)
    page.click("nav.tabs button[data-tab=teams]")
    page.select_option("#team-pick", str(team))
    page.wait_for_function(  # the fit settled
        """() => { const c = window.diaban.map.getCenter().toString() + window.diaban.map.getZoom();
        const same = window.lastView === c; window.lastView = c; return same; }""",
        polling=300,
    )
    shot(page, "admin-team-area-phone")
    placed = page.evaluate(
        """codes => { const map = window.diaban.map, area = L.latLngBounds([]);
        map.eachLayer(l => { if (codes.includes(l.feature?.properties?.code) && l.getBounds) area.extend(l.getBounds()); });
        const box = map.getContainer().getBoundingClientRect();
        const buttons = document.querySelector('.map-buttons').getBoundingClientRect();
        const zoom = document.querySelector('.leaflet-control-zoom').getBoundingClientRect();
        return { south: map.latLngToContainerPoint(area.getSouthWest()).y,
                 north: map.latLngToContainerPoint(area.getNorthEast()).y,
                 buttons: buttons.top - box.top, zoom: zoom.bottom - box.top }; }""",
        codes,
    )
    assert placed["zoom"] <= placed["north"] < placed["south"] <= placed["buttons"], placed
    assert errors == []
    page.close()


def test_the_area_editor_names_the_team_already_holding_each_commune(chromium, server: str, city: Engine) -> None:
    """Picking an area, the administrator learnt that a commune was another team's only after saving («Lưu ý: … cũng
    thuộc địa bàn tổ khác»). The list names the teams holding each commune today (the team edited left out), the
    search finds a team's communes by its name (the map shades them and its tooltip names the teams too)."""
    with city.connect() as conn:
        rows = conn.execute(
            text("""SELECT tm.id, tm.name, ta.commune_code FROM team_areas ta JOIN teams tm ON tm.id = ta.team_id
                    WHERE ta.valid_to IS NULL AND ta.valid_from <= current_date AND tm.dissolved_on IS NULL
                    ORDER BY tm.id, ta.commune_code""")
        ).all()
    first, name = rows[0][0], rows[0][1]
    code = next(c for t, _, c in rows if t == first)
    holders = sorted(n for _, n, c in rows if c == code)
    page, errors = open_as(chromium, server, "quantri")
    page.click("nav.tabs button[data-tab=teams]")
    label = page.locator(f"#commune-list label[data-code='{code}']")
    label.locator(".holders").filter(has_text=name).wait_for()  # a new team: every holder named
    assert label.locator(".holders").inner_text() == f"— {', '.join(holders)}"
    page.select_option("#team-pick", str(first))
    page.wait_for_selector("#area-history tbody tr")
    others = [n for n in holders if n != name]
    assert label.locator(".holders").inner_text() == (f"— {', '.join(others)}" if others else "")
    page.select_option("#team-pick", "")
    page.fill("#commune-search", name.lower())
    shown = page.locator("#commune-list label:not([hidden])")
    mine = {c for t, _, c in rows if t == first}
    assert mine <= set(shown.evaluate_all("(labels) => labels.map((l) => l.dataset.code)"))
    assert errors == []
    page.close()

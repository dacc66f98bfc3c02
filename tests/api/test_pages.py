"""Pages for people: login with a session cookie, one page per role, no asset from outside the app."""

from __future__ import annotations

import re

import pytest
from conftest import TEST_PASSWORD
from fastapi.testclient import TestClient

from api.app import configured_basemap
from maps.assets import static_url

TILE_URL = "https://ban-do.noi-bo.example/tiles/{z}/{x}/{y}.png"
ANY_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")
LOCAL_ASSET = re.compile(r"""(?:src|href)=["'](/[^/"'][^"']*)["']""")


@pytest.fixture
def browser(client: TestClient) -> TestClient:
    """The test app without the command user's bearer header: a browser logs in with a form."""
    client.headers.pop("Authorization")
    return client


def login(browser: TestClient, username: str) -> None:
    response = browser.post("/login", data={"username": username, "password": TEST_PASSWORD}, follow_redirects=False)
    assert response.status_code == 303, response.text
    cookie = response.headers.get_list("set-cookie")
    session = next(c for c in cookie if c.startswith("diaban_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert "Secure" not in session  # plain HTTP in tests; Secure is set behind HTTPS


def test_pages_require_login(browser: TestClient) -> None:
    response = browser.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = browser.get("/login")
    assert "Đăng nhập" in page.text and "Mật khẩu" in page.text


@pytest.mark.parametrize("role", ["command", "team", "planner", "admin"])
def test_each_role_gets_its_page_with_only_local_assets(browser, make_user, make_team, monkeypatch, role: str) -> None:
    monkeypatch.setenv("DIABAN_TILE_URL", TILE_URL)
    browser.app.state.basemap = configured_basemap()  # settings are read once, when the app starts
    team = make_team("Tổ thử trang", ["10507"]) if role == "team" else None
    make_user(f"page-{role}", role, team)
    login(browser, f"page-{role}")
    page = browser.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html; charset=utf-8")
    assert "Đăng xuất" in page.text
    foreign = {url for url in ANY_URL.findall(page.text) if url != TILE_URL}
    assert not foreign, f"a page must load nothing from outside the app except the basemap tiles: {foreign}"
    assert TILE_URL in page.text and "/static/vendor/leaflet/leaflet.js" in page.text
    assert f"/static/js/{role}.js" in page.text and "diabanStart" in page.text
    for asset in set(LOCAL_ASSET.findall(page.text)) - {"/logout", "/openapi.json"}:
        assert browser.get(asset).status_code == 200, asset


@pytest.mark.parametrize("role", ["command", "team"])
def test_vector_tiles_are_loaded_only_by_the_page_that_draws_them(browser, make_user, make_team, role: str) -> None:
    make_user(f"grid-{role}", role, make_team("Tổ thử lưới", ["10507"]) if role == "team" else None)
    login(browser, f"grid-{role}")
    assert ("Leaflet.VectorGrid" in browser.get("/").text) == (role == "command")


def test_static_files_are_kept_under_their_version_and_revalidated_without(browser) -> None:
    page = browser.get("/login")
    script = next(url for url in LOCAL_ASSET.findall(page.text) if url.startswith("/static/js/common.js?v="))
    assert browser.get(script).headers["cache-control"] == "public, max-age=31536000, immutable"
    bare = browser.get("/static/js/common.js")  # an unversioned URL (Leaflet's images, named by its stylesheet)
    assert bare.headers["cache-control"] == "no-cache" and bare.headers["etag"]
    assert browser.get(script.replace("?v=", "?v=0")).headers["cache-control"] == "no-cache"  # an old page's URL
    assert browser.get(script, headers={"If-None-Match": bare.headers["etag"]}).status_code == 304


def test_a_changed_static_file_gets_a_new_url(tmp_path) -> None:
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "page.js"
    script.write_text("var a = 1;", encoding="utf-8")
    before = static_url("js/page.js", tmp_path)
    assert before.startswith("/static/js/page.js?v=") and static_url("js/page.js", tmp_path) == before
    script.write_text("var a = 22;", encoding="utf-8")  # another size too: the hash is kept per time and size
    assert static_url("js/page.js", tmp_path) != before


def test_login_page_is_self_contained(browser) -> None:
    page = browser.get("/login")
    assert not ANY_URL.findall(page.text)
    for asset in LOCAL_ASSET.findall(page.text):
        assert browser.get(asset).status_code == 200, asset


def test_session_cookie_is_secure_behind_https(browser, make_user) -> None:
    make_user("page-https", "planner")
    response = browser.post(
        "/login",
        data={"username": "page-https", "password": TEST_PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
        follow_redirects=False,
    )
    assert all("Secure" in c for c in response.headers.get_list("set-cookie"))


def test_wrong_password_and_lockout_on_the_form(browser, make_user) -> None:
    make_user("page-locked", "planner")
    for _ in range(5):
        wrong = browser.post("/login", data={"username": "page-locked", "password": "sai"})
        assert wrong.status_code == 401 and "Sai tên đăng nhập" in wrong.text
    locked = browser.post("/login", data={"username": "page-locked", "password": TEST_PASSWORD})
    assert locked.status_code == 401 and "tạm khóa" in locked.text and "diaban_session" not in locked.cookies
    for _ in range(5):  # the address's free failures are spent: the form asks it to wait
        browser.post("/login", data={"username": "page-locked", "password": "sai"})
    throttled = browser.post("/login", data={"username": "page-locked", "password": "sai"})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1


def test_cookie_requests_need_the_csrf_header_to_change_anything(browser, make_user) -> None:
    make_user("page-csrf", "command")
    login(browser, "page-csrf")
    assert browser.get("/api/hotspots").status_code == 200  # reading with the cookie alone is fine
    body = {"lon": 106.683, "lat": 20.86, "note": "tin báo"}
    assert browser.post("/api/hotspots", json=body).status_code == 403
    token = browser.cookies.get("diaban_csrf")
    assert browser.post("/api/hotspots", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_a_user_given_a_password_changes_it_on_the_only_page_they_get(browser, make_user, conn) -> None:
    """A user whose password an administrator gave gets the password form instead of their working page; a new
    password typed differently twice, or equal to the given one, is refused with why; once changed they continue in
    a new session on their page, and the form stays one click away (the name in the bar). The change, not the
    refusals, is a line of the admin audit."""
    from sqlalchemy import text

    user_id = make_user("page-given", "planner")
    conn.execute(text("UPDATE users SET must_change_password = true WHERE id = :id"), {"id": user_id})
    login(browser, "page-given")
    forced = browser.get("/")
    assert forced.status_code == 200 and "Mật khẩu này do quản trị viên cấp" in forced.text
    assert 'class="panel"' not in forced.text
    csrf = browser.cookies.get("diaban_csrf")
    form = {"csrf": csrf, "current_password": TEST_PASSWORD, "new_password": "mat-khau-rieng", "repeated": "khac-han"}
    differ = browser.post("/password", data=form)
    assert differ.status_code == 422 and "Hai lần nhập mật khẩu mới không khớp" in differ.text
    same = browser.post("/password", data={**form, "new_password": TEST_PASSWORD, "repeated": TEST_PASSWORD})
    assert same.status_code == 422 and "Mật khẩu mới phải khác mật khẩu hiện tại" in same.text
    for weak, why in (("12345678", "là một dãy liền nhau"), ("page-given-2026", "chứa tên đăng nhập")):
        guessed = browser.post("/password", data={**form, "new_password": weak, "repeated": weak})
        assert guessed.status_code == 422 and f"Mật khẩu quá dễ đoán: {why}" in guessed.text  # accepted before
    wrong = browser.post("/password", data={**form, "current_password": "sai", "repeated": "mat-khau-rieng"})
    assert wrong.status_code == 403 and "Mật khẩu hiện tại không đúng" in wrong.text
    assert "wrong current password" not in wrong.text  # the English reason is for API clients and the logs
    audited = "SELECT actor, details FROM admin_audit WHERE action = 'change_own_password' AND target_user_id = :id"
    assert conn.execute(text(audited), {"id": user_id}).all() == []  # the refused changes left no line
    done = browser.post("/password", data={**form, "repeated": "mat-khau-rieng"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    line = conn.execute(text(audited), {"id": user_id}).one()
    assert line == ("page-given", {"address": "testclient", "given": True})
    page = browser.get("/")
    assert 'class="panel"' in page.text and 'href="/password"' in page.text
    again = browser.get("/password")
    assert "Quay lại trang làm việc" in again.text and "do quản trị viên cấp" not in again.text


def test_logout_clears_the_session(browser, make_user) -> None:
    make_user("page-out", "planner")
    login(browser, "page-out")
    browser.post("/logout", data={"csrf": browser.cookies.get("diaban_csrf")}, follow_redirects=False)
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_a_logout_from_our_page_ends_the_session_even_with_an_older_tabs_token(browser, make_user) -> None:
    """A logout whose form carries no ``csrf`` field, or an older tab's token (the user logged in again in another
    tab): answered 303 → /login while the session stayed open, then refused with a login form over a session still
    open — the user left a shared computer believing they were logged out. From our own page it ends the session; from
    another site (Origin) it is refused with the cross-site 403 page and the session stays."""
    make_user("page-out-header", "planner")
    login(browser, "page-out-header")
    token = browser.cookies.get("diaban_csrf")
    refused = browser.post("/logout", headers={"Origin": "https://evil.example"}, data={"csrf": token})
    assert refused.status_code == 403 and "Yêu cầu gửi từ trang khác" in refused.text
    assert browser.get("/", follow_redirects=False).status_code == 200  # another site cannot log the user out
    for form in ({"csrf": "an-older-tabs-token"}, {}):
        done = browser.post("/logout", data=form, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/login", form
        assert browser.get("/", follow_redirects=False).status_code == 303, form  # logged out
        login(browser, "page-out-header")


def test_the_request_log_names_the_user_the_account_tried_and_the_client(browser, make_user, caplog) -> None:
    """Page requests with a valid cookie and successful logins logged ``user=-``; a refused login named neither the
    account tried nor the address; a lockout wrote nothing. Never the password."""
    import logging

    caplog.set_level(logging.INFO, logger="diaban")
    make_user("page-logged", "planner")
    make_user("page-guessed", "planner")
    login(browser, "page-logged")
    assert browser.get("/").status_code == 200
    token = browser.post("/api/auth/token", data={"username": "page-logged", "password": TEST_PASSWORD})
    assert token.status_code == 200
    for _ in range(5):  # DIABAN_MAX_FAILED_LOGINS: the fifth locks the account
        wrong = browser.post("/login", data={"username": "page-guessed", "password": "mat-khau-doan-sai"})
        assert wrong.status_code == 401
    requests = [r.getMessage() for r in caplog.records if r.name == "diaban.requests"]
    for line in ("POST /login 303", "GET / 200", "POST /api/auth/token 200"):
        (logged,) = [m for m in requests if m.startswith(line)]
        assert logged.endswith("user=page-logged client=testclient"), logged
    refused = [m for m in requests if m.startswith("POST /login 401")]
    assert len(refused) == 5 and all(m.endswith("user=- tried=page-guessed client=testclient") for m in refused)
    (lockout,) = [r for r in caplog.records if r.name == "diaban.login"]
    assert lockout.levelno == logging.WARNING
    assert "page-guessed" in lockout.getMessage() and "testclient" in lockout.getMessage()
    assert "mat-khau-doan-sai" not in caplog.text and TEST_PASSWORD not in caplog.text

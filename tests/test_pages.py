"""Pages for people: login with a session cookie, one page per role, no asset from outside the app."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_PASSWORD

OWN_OR_NONE = re.compile(r"""(?:src|href)=["'](https?:)?//""")


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
def test_each_role_gets_its_page_with_only_local_assets(browser, make_user, make_team, role: str) -> None:
    team = make_team("Tổ thử trang", ["10507"]) if role == "team" else None
    make_user(f"page-{role}", role, team)
    login(browser, f"page-{role}")
    page = browser.get("/")
    assert page.status_code == 200
    assert "Đăng xuất" in page.text
    assert not OWN_OR_NONE.search(page.text), "a page must not load anything from outside the app"
    if role != "admin":
        assert "/static/vendor/leaflet/leaflet.js" in page.text and "diabanStart" in page.text
    assert browser.get("/static/app.js").status_code == 200


def test_wrong_password_and_lockout_on_the_form(browser, make_user) -> None:
    make_user("page-locked", "planner")
    for _ in range(5):
        wrong = browser.post("/login", data={"username": "page-locked", "password": "sai"})
        assert wrong.status_code == 401 and "sai tên đăng nhập" in wrong.text
    locked = browser.post("/login", data={"username": "page-locked", "password": TEST_PASSWORD})
    assert locked.status_code == 429


def test_cookie_requests_need_the_csrf_header_to_change_anything(browser, make_user) -> None:
    make_user("page-csrf", "command")
    login(browser, "page-csrf")
    assert browser.get("/api/hotspots").status_code == 200  # reading with the cookie alone is fine
    body = {"lon": 106.683, "lat": 20.86, "note": "tin báo"}
    assert browser.post("/api/hotspots", json=body).status_code == 403
    token = browser.cookies.get("diaban_csrf")
    assert browser.post("/api/hotspots", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_logout_clears_the_session(browser, make_user) -> None:
    make_user("page-out", "planner")
    login(browser, "page-out")
    browser.post("/logout", data={"csrf": browser.cookies.get("diaban_csrf")}, follow_redirects=False)
    assert browser.get("/", follow_redirects=False).status_code == 303

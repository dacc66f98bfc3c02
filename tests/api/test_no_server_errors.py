"""No HTTP 500 from any input (finding 7 of issue 15): far dates, NaN and Infinity, lone surrogates, a hotspot on the
other side of the world, and a database that does not answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from api.app import create_app
from gis.store.db import QueryTimeout, unavailable

FAR_DATES = [
    "/api/incidents?to=9999-12-31",
    "/api/hotspots?to=9999-12-31",
    "/api/heat?format=overlay&to=9999-12-31",
    "/api/gistar?to=9999-12-31",
    "/tiles/incidents/12/3263/1793.mvt?to=9999-12-31",
    "/api/incidents?from=0001-01-01",
    "/api/emerging?end=0001-01-01",
    "/api/emerging?end=9999-12-31",
]


@pytest.mark.parametrize("path", FAR_DATES)
def test_dates_outside_any_calendar_we_keep_are_refused(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text[:300]
    assert "1900" in response.json()["detail"]


def test_a_due_date_in_year_9999_is_refused(client) -> None:
    body = {"kind": "conversion", "commune_code": "10507", "year": 2025, "due_date": "9999-12-31"}
    assert client.post("/api/tasks", json=body).status_code == 422


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_json_numbers_must_be_numbers(client, number: str) -> None:
    raw = f'{{"lon": {number}, "lat": 20.86, "note": "tin báo"}}'.encode()
    response = client.post("/api/hotspots", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["code"] == "invalid_json"
    as_text = client.post("/api/hotspots", json={"lon": number, "lat": 20.86, "note": "tin báo"})
    assert as_text.status_code == 422  # "NaN" in a string is no number either


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/api/hotspots", '{"lon": 106.683, "lat": 20.86, "note": "%s"}'),
        ("POST", "/api/tasks", '{"kind": "conversion", "commune_code": "10507", "year": 2025, "note": "%s"}'),
        ("POST", "/api/teams", '{"name": "%s", "communes": ["10507"]}'),
        ("POST", "/api/hotspots/1/transitions", '{"to": "verified", "note": "%s", "version": 1}'),
        ("POST", "/api/classifications/2025/runs", '{"note": "%s"}'),
        ("POST", "/api/tasks/1/comments", '{"note": "%s"}'),
    ],
)
def test_a_lone_surrogate_is_refused_as_invalid_json(client, method: str, path: str, template: str) -> None:
    raw = (template % "tố giác \\ud800 lẻ").encode()
    response = client.request(method, path, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["code"] == "invalid_json", response.text[:300]
    paired = (template % "bình thường \\ud83d\\ude00").encode()  # a proper pair (an emoji) is text
    assert client.request(method, path, content=paired, headers={"Content-Type": "application/json"}).status_code < 500


def test_json_nested_thousands_deep_is_refused_before_login(client) -> None:
    """400 KB of «[» is within the body limit; Python's parser recursed once per level and failed (a 500 to anyone,
    logged in or not: the body is checked before authentication)."""
    deep = b'{"note": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    response = client.post(
        "/api/hotspots", content=deep, headers={"Content-Type": "application/json", "Authorization": ""}
    )
    assert response.status_code == 422 and response.json()["code"] == "invalid_json"
    assert response.json()["message"].startswith("JSON không hợp lệ: lồng nhau quá sâu")


def test_a_hotspot_far_outside_the_city_is_refused(client) -> None:
    far = client.post("/api/hotspots", json={"lon": -171.0, "lat": 20.86, "note": "nhập nhầm kinh độ"})
    assert far.status_code == 422 and far.json()["code"] == "outside_city"
    swapped = client.post("/api/hotspots", json={"lon": 20.86, "lat": 106.0 - 100, "note": "đảo kinh vĩ độ"})
    assert swapped.status_code == 422
    near = client.post("/api/hotspots", json={"lon": 106.683, "lat": 20.86, "note": "tin báo"})
    assert near.status_code == 201
    island = client.post("/api/hotspots", json={"lon": 107.72, "lat": 20.13, "note": "Bạch Long Vĩ"})
    assert island.status_code == 201


@pytest.fixture(scope="module")
def database_down() -> Iterator[TestClient]:
    """The app over a database that does not answer, shared by this module's tests of it: each app started waits a
    few seconds for its session notices' first heartbeat, which never comes (5 s a test)."""
    nowhere = create_engine("postgresql+psycopg://diaban_app:x@127.0.0.1:1/diaban", pool_pre_ping=True)
    with TestClient(create_app(nowhere), raise_server_exceptions=False) as client:
        yield client
    nowhere.dispose()


def test_every_route_answers_503_with_retry_after_while_the_database_is_down(database_down: TestClient) -> None:
    client, token = database_down, {"Authorization": "Bearer " + "x" * 20}
    assert client.get("/health").status_code == 503
    for template, operations in client.app.openapi()["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method in operations:
            response = client.request(method, path, headers=token)
            assert response.status_code == 503, (method, template, response.status_code)
            assert response.headers["retry-after"] == "5"
            assert response.json()["code"] == "database_unavailable"
    assert client.post("/api/auth/token", data={"username": "a", "password": "b"}).status_code == 503


#: A login form's fields (the database is never reached to check them).
LOGIN_FORM = {"username": "a", "password": "b"}


#: What a browser's navigation asks for.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_browser_gets_a_vietnamese_page_while_the_database_is_down(database_down: TestClient) -> None:
    """A page route asked by a browser got the API's JSON, English reason included; the API keeps it."""
    client = database_down
    for method, path, form in (("GET", "/login", None), ("GET", "/", None), ("POST", "/login", LOGIN_FORM)):
        response = client.request(method, path, headers=BROWSER, data=form, follow_redirects=False)
        assert response.status_code == 503 and response.headers["retry-after"] == "5", (method, path)
        assert response.headers["content-type"].startswith("text/html")
        assert "CSDL tạm thời không dùng được; thử lại sau ít giây" in response.text
        assert "unreachable" not in response.text and '"detail"' not in response.text
    api = client.post("/api/auth/token", headers=BROWSER, data=LOGIN_FORM)
    assert api.status_code == 503 and api.json()["code"] == "database_unavailable"
    asked_json = client.get("/login", headers={"Accept": "application/json"})
    assert asked_json.status_code == 503 and asked_json.json()["code"] == "database_unavailable"


def test_a_browser_at_an_address_with_no_page_gets_a_vietnamese_page(client) -> None:
    """A link or a mistyped address opened in a browser showed the API's JSON («{"detail": … (Not Found)"}»); it
    gets a Vietnamese page with a way back. The API's unknown paths, and a client not asking for HTML, keep JSON."""
    page = client.get("/nhiem-vu/12", headers=BROWSER)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<title>Không tìm thấy trang — diaban</title>" in page.text and 'href="/">Về trang chính' in page.text
    assert "Không tìm thấy đường dẫn này" in page.text and "Not Found" not in page.text
    for path, headers in (("/api/nothing", BROWSER), ("/static/nothing.js", BROWSER), ("/nhiem-vu/12", {})):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404 and answer.json()["code"] == "http_404", path


def test_a_cancelled_statement_is_a_timeout_not_a_crash(cluster) -> None:
    engine = create_engine(cluster.url())
    with engine.connect() as conn:
        # Set after connecting: as a start-up option the 10 ms also bound the driver's first queries, which a busy
        # machine can take longer than that to answer.
        conn.execute(text("SET statement_timeout = 10"))
        with pytest.raises(OperationalError) as cancelled:
            conn.execute(text("SELECT pg_sleep(1)"))
    assert isinstance(unavailable(cancelled.value), QueryTimeout)
    engine.dispose()

"""Every route, found from the app itself: refused without login, and hostile query values answered
cleanly (never a server error, never a change to the data)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Connection, text

OPEN = {"/api/auth/token", "/health"}
HOSTILE = ["1' OR '1'='1", "'; DROP TABLE incidents; --", "x" * 10_000, "1e308", "-1", "NaN", "../../etc/passwd"]
SAMPLE_PARAMS = {"layer": "communes", "z": "0", "x": "0", "y": "0", "year": "2025"}


def concrete(path: str) -> str:
    """A route path with sample values for its parameters."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "1"), path)


def guarded_routes(app) -> list[tuple[str, str, list[str]]]:
    """(method, concrete path, query parameter names) of every API and tile route that needs a login,
    read from the OpenAPI description so that a new route is covered without editing this test."""
    return [
        (method.upper(), concrete(path), [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"])
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(("/api", "/tiles")) and path not in OPEN
        for method, operation in operations.items()
    ]


def test_every_guarded_route_refuses_anonymous_requests(client) -> None:
    client.headers.pop("Authorization")
    routes = guarded_routes(client.app)
    assert len(routes) > 30
    for method, path, _ in routes:
        response = client.request(method, path, json={} if method in {"POST", "PATCH"} else None)
        assert response.status_code == 401, (method, path, response.status_code)


def test_tampered_token_is_refused(client) -> None:
    header = client.headers["Authorization"]
    client.headers["Authorization"] = header[:-2] + ("A" if header[-2] != "A" else "B") + header[-1]
    assert client.get("/api/hotspots").status_code == 401


def test_hostile_query_values_never_cause_server_errors(client, conn: Connection) -> None:
    before = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    tried = 0
    for method, path, params in guarded_routes(client.app):
        if method != "GET":
            continue
        for param in params:
            for value in HOSTILE:
                response = client.get(path, params={param: value})
                assert response.status_code < 500, (path, param, value[:40], response.text[:300])
                tried += 1
    assert tried > 100
    assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == before
    assert conn.execute(text("SELECT to_regclass('incidents')")).scalar_one() == "incidents"


@pytest.mark.parametrize(
    "body",
    [
        {"lon": "1' OR 1=1", "lat": 20, "note": "x"},
        {"lon": 106.7, "lat": 20.8, "note": "x" * 100_000},
        {"lon": float("1e308"), "lat": 20.8, "note": "x"},
    ],
)
def test_hostile_bodies_are_refused_cleanly(client, body) -> None:
    assert client.post("/api/hotspots", json=body).status_code == 422

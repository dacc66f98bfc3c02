"""Bounded requests (findings 5 and 6 of issue 15): bodies are limited before anything parses them, oversized input
is never echoed, analyses that would cost minutes are refused with how to narrow them, and the server's statements
have a time limit.
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from conftest import serve
from fastapi import Request
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from api.admission import Admission
from api.app import create_app
from api.limits import RequestBodies, upload_body_size
from api.logs import RequestLog
from gis.settings import DatabaseSettings
from gis.store.db import get_engine

MB = 2**20
HOTSPOT = "/api/hotspots"


@pytest.fixture(scope="module")
def served(engine: Engine) -> Iterator[str]:
    with serve(create_app(engine)) as base:
        yield base


def _raw(base: str, request: bytes) -> bytes:
    """Send raw bytes to the served app and read its whole answer."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_huge_declared_body_is_refused_before_it_is_read(served: str) -> None:
    """An anonymous 60 MB body used to be parsed (and the server grew by gigabytes): now only its headers are read."""
    answer = _raw(
        served,
        b"POST /api/hotspots HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 60000000\r\nConnection: close\r\n\r\n{",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b'"code":"body_too_large"' in body and len(body) < 300


def test_a_chunked_body_is_cut_off_at_the_limit(served: str) -> None:
    import httpx

    def chunks() -> Iterator[bytes]:
        yield b'{"note": "'
        for _ in range(3):
            yield b"a" * MB
        yield b'"}'

    response = httpx.post(f"{served}{HOTSPOT}", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"
    assert len(response.content) < 300


def test_invalid_input_is_never_echoed(client) -> None:
    note = "ghi-chú-quá-dài " * 50_000  # 850 KB: under the body limit, over the note's 2,000 characters
    response = client.post(HOTSPOT, json={"lon": 106.68, "lat": 20.86, "note": note})
    assert response.status_code == 422 and len(response.content) < 2_000
    assert "ghi-chú-quá-dài" not in response.text
    broken = client.post(HOTSPOT, content=b'{"note": "' + b"x" * 900_000, headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and len(broken.content) < 2_000
    assert client.post(HOTSPOT, json={"note": "x" * (2 * MB)}).status_code == 413


def test_a_route_for_files_declares_its_own_limit(engine: Engine, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.setenv("DIABAN_MAX_UPLOAD_MB", "3")
    app = create_app(engine)

    @app.post("/test-upload", max_body_size=upload_body_size())
    async def upload(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    with TestClient(app) as client:
        assert client.post("/test-upload", content=b"x" * (2 * MB)).json() == {"bytes": 2 * MB}
        assert client.post("/test-upload", content=b"x" * (4 * MB)).status_code == 413
        assert client.post(HOTSPOT, content=b"x" * (2 * MB)).status_code == 413  # other routes keep 1 MB


def test_the_door_takes_its_settings_and_stands_inside_the_request_log(engine: Engine, monkeypatch) -> None:
    """api.admission is configured from the environment, and sits inside the request log: a request's logged
    duration holds the time it waited for its turn."""
    monkeypatch.setenv("DIABAN_MAX_ACTIVE_REQUESTS", "3")
    monkeypatch.setenv("DIABAN_ADMISSION_HOLD_SECONDS", "2.5")
    app = create_app(engine)
    order = [m.cls for m in app.user_middleware]  # outermost first
    assert order.index(RequestLog) < order.index(Admission) < order.index(RequestBodies)
    assert app.user_middleware[order.index(Admission)].kwargs == {"limit": 3, "hold_s": 2.5}


@pytest.mark.parametrize("server_process", [True, False])
def test_a_server_process_freezes_what_it_started_with(engine: Engine, server_process: bool) -> None:
    """Once warm, a server's start-up objects leave the collector's full passes (api.app.freeze_startup_objects); an
    app built in a process that builds many, such as this one, leaves the collector alone."""
    from fastapi.testclient import TestClient

    gc.unfreeze()
    try:
        with TestClient(create_app(engine, server_process=server_process)):
            frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()  # frozen objects of this test process would never be collected
    assert (frozen > 10_000) is server_process, frozen


@pytest.mark.parametrize(
    "path",
    [
        "/api/gistar?cell_m=50&distance_cells=10&all_cells=true",  # issue 15: 106 s, 443 MB answered, 3.77 GB
        "/api/gistar?cell_m=100&distance_cells=3&all_cells=true",
        "/api/emerging?cell_m=100&steps=60",  # issue 15: +3.25 GB
    ],
)
def test_analyses_that_would_cost_minutes_are_refused_with_how_to_narrow(client, conn, path: str) -> None:
    conn.execute(
        text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                SELECT 'COST-' || code, now() - interval '1 day', 'tip', 'inside', code, ST_PointOnSurface(geom)
                FROM admin_units WHERE valid_to IS NULL""")
    )  # one incident in every commune: the grid spans the whole city, Bạch Long Vĩ included
    response = client.get(path)
    assert response.status_code == 422, response.text[:200]
    body = response.json()
    assert body["code"] in {"analysis_too_large", "grid_too_large"}
    assert "cell_m" in body["detail"] or "ô lớn hơn" in body["detail"]


def test_the_page_defaults_stay_within_the_limit(client, conn) -> None:
    conn.execute(
        text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                SELECT 'COST-' || code, now() - interval '1 day', 'tip', 'inside', code, ST_PointOnSurface(geom)
                FROM admin_units WHERE valid_to IS NULL""")
    )
    for path in ("/api/gistar", "/api/emerging", "/api/heat?format=overlay", "/api/gistar?cell_m=500&all_cells=true"):
        assert client.get(path).status_code == 200, path


def test_the_server_cancels_statements_that_run_too_long(cluster) -> None:
    settings = DatabaseSettings(database_url=cluster.url(), owner_database_url=cluster.owner_url())
    server = get_engine(settings, prepare=False, statement_timeout_s=0.2, parallel_workers=0)
    with server.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "200ms"
        assert conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
        with pytest.raises(OperationalError, match="statement timeout"):
            conn.execute(text("SELECT pg_sleep(5)"))
    commands = get_engine(settings, prepare=False)  # imports and other commands: no limit
    with commands.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
        assert conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "2"  # PostgreSQL's default

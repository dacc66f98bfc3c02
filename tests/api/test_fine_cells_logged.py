"""Incidents counted on cells under 100 m are detailed data, logged as single incidents are: one incident alone in such
a cell (or a heat surface's lone peak) is placed within a block. Incident tiles from zoom 13, and heat surfaces and Gi*
on cells under 100 m, each leave one access line with what they answered; coarser ones leave none."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from gis.services.incident_import import import_incidents
from tests.api.sweep import tile_of

# Two incidents 14 m apart in Phường Hải Dương (10525), one in central Hải Phòng.
INCIDENTS = (
    "ref,occurred_at,lon,lat,kind\n"
    "F1,2025-03-01T10:00:00,106.3400,20.9450,trafficking\n"
    "F2,2025-03-02T10:00:00,106.3401,20.9451,drug_use\n"
    "F3,2025-03-03T10:00:00,106.6830,20.8600,tip\n"
)
#: Around the two close incidents (lon, lat): a view of a few hundred metres.
VIEW = "106.335,20.940,106.345,20.950"


@pytest.fixture
def incidents(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(INCIDENTS, encoding="utf-8")
    import_incidents(conn, path, imported_by="test")


def lines(conn: Connection) -> list[tuple[str, str, int | None]]:
    """The access log's lines of the client's user, oldest first: route, parameters, rows."""
    return [
        tuple(r)
        for r in conn.execute(
            text("SELECT route, params, rows FROM access_log WHERE username = 'test-command' ORDER BY id")
        )
    ]


@pytest.mark.parametrize(("z", "logged"), [(11, False), (12, False), (13, True), (14, True), (15, True)])
def test_incident_tiles_are_logged_from_zoom_13_with_the_incidents_they_show(client, conn, incidents, z, logged):
    x, y = tile_of(106.3400, 20.9450, z)
    for _ in range(2):  # computed, then from the cache: each tile sent is recorded
        before = len(lines(conn))
        response = client.get(f"/tiles/incidents/{z}/{x}/{y}.mvt")
        assert response.status_code == 200 and response.headers["X-Incidents"] == "2"
        added = lines(conn)[before:]
        if logged:
            assert [(route, params["z"], rows) for route, params, rows in added] == [
                ("GET /tiles/incidents/{z}/{x}/{y}.mvt", str(z), 2)
            ]
        else:
            assert added == []


def test_a_heat_surface_on_cells_under_100_m_is_logged_with_its_incidents(client, conn, incidents) -> None:
    for cell, logged in ((100, False), (50, True)):
        for _ in range(2):  # computed, then from the cache
            before = len(lines(conn))
            answer = client.get("/api/heat", params={"format": "overlay", "bbox": VIEW, "cell_m": cell})
            assert answer.status_code == 200 and answer.json()["n_incidents"] == 2
            added = lines(conn)[before:]
            assert [(route, params["cell_m"], rows) for route, params, rows in added] == (
                [("GET /api/heat", "50", 2)] if logged else []
            )
    # A filter matching nothing answers nothing, and is still a read at that resolution (0 rows).
    before = len(lines(conn))
    assert client.get("/api/heat", params={"cell_m": 50, "bbox": VIEW, "kind": "tip"}).status_code == 204
    assert [rows for _, _, rows in lines(conn)[before:]] == [0]


def test_gistar_on_cells_under_100_m_is_logged_with_its_cells(client, conn, incidents) -> None:
    for cell, logged in ((100, False), (90, True)):
        before = len(lines(conn))
        answer = client.get("/api/gistar", params={"cell_m": cell, "all_cells": "true", "bbox": VIEW})
        assert answer.status_code == 200
        added = lines(conn)[before:]
        cells = len(answer.json()["features"])
        assert cells > 0
        assert [(route, rows) for route, _, rows in added] == ([("GET /api/gistar", cells)] if logged else [])

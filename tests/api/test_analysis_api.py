"""Hotspot, heat, Gi* and emerging-hotspot endpoints on generated incidents, imported and detected once for the
module (tests/api/test_analysis_edges.py has the cases that need the city without them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Connection, Engine, text

from gis.io.scenario_files import write_scenario
from gis.services.analyses import city_extent, heat_surface
from gis.services.detection import run_detection
from gis.services.incident_import import import_incidents
from gis.store.selection import IncidentSelection
from models.synthetic.scenario import ScenarioConfig, generate_scenario


@pytest.fixture(scope="module")
def incidents_csv(boundaries_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    scen = generate_scenario(gpd.read_file(boundaries_path), ScenarioConfig(seed=9, years=2, n_incidents=8_000))
    return write_scenario(scen, tmp_path_factory.mktemp("analysis"))["incidents"]


@pytest.fixture(scope="module")
def detected(engine: Engine, incidents_csv: Path) -> Iterator[Connection]:
    """The 8,000 incidents imported and detected once, in a transaction of the module's own that is rolled back at
    its end. (Imported and detected again for each test, this was 116 s of the file's 142 s at load 7.)"""
    connection = engine.connect()
    transaction = connection.begin()
    try:
        import_incidents(connection, incidents_csv, imported_by="test")
        run_detection(connection, actor="test")
        yield connection
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture
def conn(detected: Connection) -> Iterator[Connection]:
    """Each test runs on the module's detected incidents in a savepoint rolled back after it, so what one test
    writes (a user, a team, one more incident) no other test sees."""
    savepoint = detected.begin_nested()
    try:
        yield detected
    finally:
        savepoint.rollback()


def test_hotspot_list_detail_and_filters(client, detected) -> None:
    body = client.get("/api/hotspots").json()
    assert body["features"], body
    first = body["features"][0]
    assert {"status", "version", "kind", "n_incidents", "commune_code", "radius_m"} <= set(first["properties"])
    detail = client.get(f"/api/hotspots/{first['id']}").json()
    assert detail["properties"]["incidents"] and detail["properties"]["events"][0]["event"] == "created"
    assert detail["properties"]["version"] == 1
    code = first["properties"]["commune_code"]
    same = client.get("/api/hotspots", params={"commune": code}).json()["features"]
    assert same and all(f["properties"]["commune_code"] == code for f in same)
    assert client.get("/api/hotspots", params={"status": "closed"}).json()["features"] == []
    assert client.get("/api/hotspots", params={"status": "gone"}).status_code == 422
    assert client.get("/api/hotspots/999999").status_code == 404
    polygons = client.get("/api/hotspots", params={"footprints": True}).json()["features"]
    assert polygons[0]["geometry"]["type"] == "Polygon"


def test_heat_png_overlay_and_cells(client, detected) -> None:
    png = client.get("/api/heat", params={"cell_m": 200})
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    south, west, north, east = (float(v) for v in png.headers["X-Bounds"].split(","))
    assert 20 < south < north < 22 and 105 < west < east < 108
    overlay = client.get("/api/heat", params={"format": "overlay", "kind": "drug_use"}).json()
    assert overlay["image"].startswith("data:image/png;base64,") and overlay["n_incidents"] > 0
    cells = client.get("/api/heat", params={"format": "geojson", "cell_m": 500}).json()
    assert cells["features"] and "density_per_km2" in cells["features"][0]["properties"]
    assert client.get("/api/heat", params={"cell_m": 20, "bandwidth_m": 10_000}).status_code == 422


def test_a_filter_matching_nothing_gets_an_empty_answer(client, detected) -> None:
    nothing = {"from": "2000-01-01", "to": "2000-01-02"}
    assert client.get("/api/heat", params=nothing).status_code == 204
    overlay = client.get("/api/heat", params={**nothing, "format": "overlay"}).json()
    assert overlay["n_incidents"] == 0 and overlay["image"] is None
    elsewhere = {"bbox": "100.0,10.0,100.1,10.1"}
    for path, params in (
        ("/api/heat", {**elsewhere, "format": "geojson"}),
        ("/api/gistar", elsewhere),
        ("/api/emerging", elsewhere),
    ):
        answer = client.get(path, params=params)
        assert answer.status_code == 200 and answer.json() == {"type": "FeatureCollection", "features": []}


def test_a_reversed_window_is_refused_everywhere(client, detected) -> None:
    # May to January: the hotspot register had answered with the hotspots whose time spans both days, the incident
    # list with nothing; every list, map and analysis now says the window is reversed, as the reports do.
    reversed_days = {"from": "2026-05-01", "to": "2026-01-01"}
    for path in ("/api/hotspots", "/api/incidents", "/api/heat", "/api/gistar", "/tiles/incidents/12/3263/1793.mvt"):
        answer = client.get(path, params=reversed_days)
        assert (
            answer.status_code == 422
            and "khoảng ngày đảo ngược: từ 01/05/2026 đến 01/01/2026" in answer.json()["message"]
        ), path
    assert client.get("/api/hotspots", params={"from": "2026-05-01", "to": "2026-05-01"}).status_code == 200


def test_analyses_are_cached_and_revalidated_until_incidents_change(client, conn, detected, tmp_path) -> None:
    params = {"format": "overlay", "cell_m": 500, "bandwidth_m": 1000}
    first = client.get("/api/heat", params=params)
    assert client.get("/api/heat", params=params, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert client.app.state.cache.hits == 0 and first.headers["X-Diaban-Cache"] == "built"
    again = client.get("/api/heat", params=params)
    assert again.content == first.content and again.headers["X-Diaban-Cache"] == "local"
    assert client.app.state.cache.hits == 1
    more = tmp_path / "more.csv"
    more.write_text("ref,occurred_at,lon,lat,kind\nNEW-1,2025-03-04T10:00:00,106.6830,20.8600,tip\n", encoding="utf-8")
    import_incidents(conn, more, imported_by="test")
    second = client.get("/api/heat", params=params, headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and second.json()["n_incidents"] == first.json()["n_incidents"] + 1
    assert second.headers["X-Diaban-Cache"] == "built"


def test_gistar_cells_are_significant_hot_spots(client, detected) -> None:
    cells = client.get("/api/gistar").json()["features"]
    assert cells
    hot = [c for c in cells if c["properties"]["bin"] > 0]
    assert hot and all(c["properties"]["z"] > 1.64 for c in hot)
    assert {c["properties"]["confidence"] for c in hot} <= {0.9, 0.95, 0.99}


def test_emerging_patterns(client, detected) -> None:
    cells = client.get("/api/emerging", params={"steps": 6, "cell_m": 500}).json()["features"]
    assert cells
    assert all(c["properties"]["label_vi"] for c in cells)


def _cells(features: list[dict]) -> dict[tuple, dict]:
    """Features by their square (rounded corner coordinates)."""
    return {
        tuple(tuple(round(v, 6) for v in xy) for xy in f["geometry"]["coordinates"][0]): f["properties"]
        for f in features
    }


def test_a_cell_has_the_same_gistar_bin_for_command_for_its_team_and_in_any_view(
    client, conn, detected, make_team, make_user, bearer
) -> None:
    # An irregular team area: the busiest commune and two others that do not touch it.
    busiest = (
        conn.execute(
            text("SELECT commune_code FROM incidents WHERE commune_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC")
        )
        .scalars()
        .all()
    )
    area = [busiest[0], busiest[10], busiest[20]]
    params = {"all_cells": True, "cell_m": 500}
    city = _cells(client.get("/api/gistar", params=params).json()["features"])
    team_headers = bearer(make_user("to-gistar", "team", make_team("Tổ Gi*", area)))
    mine = _cells(client.get("/api/gistar", params=params, headers=team_headers).json()["features"])
    assert mine and len(mine) < len(city) and set(mine) <= set(city)
    assert all(city[cell] == props for cell, props in mine.items())
    assert any(props["bin"] == 3 for props in mine.values())
    # A view around the team's hottest cell: the same cells keep the same values.
    hottest = max(mine, key=lambda cell: mine[cell]["z"] or 0)
    lon, lat = hottest[0]
    view = {**params, "bbox": f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"}
    answer = client.get("/api/gistar", params=view)
    assert answer.status_code == 200, answer.text
    window = _cells(answer.json()["features"])
    assert hottest in window and len(window) < len(city)
    assert all(city[cell] == props for cell, props in window.items())
    # A view of the whole world (a phone zoomed out) keeps every cell: its corners, far from UTM 48N's zone, had
    # projected to infinity and kept none; so did the other half of the world.
    for world in ("-180,-90,180,90", "20,10,179,30"):
        seen = _cells(client.get("/api/gistar", params={**params, "bbox": world}).json()["features"])
        assert seen.keys() == city.keys(), world
    beyond = client.get("/api/gistar", params={**params, "bbox": "-100,10,-90,30"})
    assert beyond.status_code == 200 and beyond.json()["features"] == []


def test_gistar_permutations_and_emerging_arcgis_mode(client, detected) -> None:
    # With P permutations no p-value is below 2/(P+1), so an FDR over thousands of cells needs many of them.
    cells = client.get("/api/gistar", params={"permutations": 999, "fdr": False, "cell_m": 500}).json()["features"]
    assert cells and all(c["properties"]["p"] >= 2 / 1000 - 1e-12 for c in cells)
    default = client.get("/api/emerging", params={"steps": 6, "cell_m": 500}).json()["features"]
    arcgis = client.get("/api/emerging", params={"steps": 6, "cell_m": 500, "mode": "arcgis"}).json()["features"]
    assert default and arcgis and _cells(default).keys() != _cells(arcgis).keys()
    assert client.get("/api/emerging", params={"mode": "esri"}).status_code == 422


def test_heat_reads_the_city_extent_once_per_version_of_the_boundaries(conn: Connection, detected) -> None:
    """The extent (seconds over the national boundaries) is built once and kept under the boundaries' version."""
    kept: dict = {}
    built: list = []

    def memo(key, build):  # noqa: ANN001, ANN202 - the services' Memo
        if key not in kept:
            built.append(key)
            kept[key] = build()
        return kept[key]

    first = heat_surface(conn, IncidentSelection(kinds=("drug_use",)), memo=memo)
    again = heat_surface(conn, IncidentSelection(kinds=("tip",)), memo=memo)
    extents = [key for key in built if key[0] == "city_extent"]
    assert len(extents) == 1 and kept[extents[0]] == city_extent(conn)
    assert first.n_incidents > 0 and again.n_incidents > 0
    conn.execute(text("UPDATE data_versions SET version = version + 1 WHERE name = 'admin_unit_parts'"))
    heat_surface(conn, IncidentSelection(kinds=("tip",)), memo=memo)
    assert len([key for key in built if key[0] == "city_extent"]) == 2

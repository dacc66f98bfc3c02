"""Foundation API: health, communes, incidents with filters and pagination."""

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from gis.services.classification import draft_year
from gis.services.incident_import import import_incidents
from gis.store.data_versions import bump_data_version


@pytest.fixture
def incidents(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "i.csv"
    path.write_text(
        "ref,occurred_at,lon,lat,kind\n"
        "I1,2025-01-01T23:30:00,106.6830,20.8600,trafficking\n"  # 1 Jan local time
        "I2,2025-01-02T00:30:00,106.6840,20.8610,tip\n"
        "I3,2025-02-01T10:00:00,106.3300,20.9400,drug_use\n"
        "I4,2025-03-01T10:00:00,106.6850,20.8620,mua_ban\n",
        encoding="utf-8",
    )
    import_incidents(conn, path, imported_by="test")


def test_health(client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["postgis"]


def test_communes_returns_the_114_units(client) -> None:
    body = client.get("/api/communes").json()
    assert len(body["features"]) == 114
    props = body["features"][0]["properties"]
    assert {"code", "name", "full_name", "kind", "area_km2"} <= set(props)
    assert body["features"][0]["geometry"]["type"] == "MultiPolygon"
    names = {f["properties"]["full_name"] for f in body["features"]}
    assert "Phường Thành Đông" in names


def test_communes_are_revalidated_until_the_boundaries_change(client, conn: Connection) -> None:
    """Every page loads the boundaries first: a visit with the browser's copy gets a 304, not 125 KB again on a
    phone's weak link (bench/bench_pages.py), until a boundary import changes them."""
    first = client.get("/api/communes?simplify_m=20")
    assert first.headers["cache-control"] == "private, no-cache" and first.headers["etag"]
    unchanged = client.get("/api/communes?simplify_m=20", headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    code = first.json()["features"][0]["id"]
    conn.execute(text("UPDATE admin_units SET full_name = 'Phường Đổi Tên' WHERE code = :c"), {"c": code})
    bump_data_version(conn, "admin_unit_parts")  # what a boundary import's refresh of the parts does
    changed = client.get("/api/communes?simplify_m=20", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    assert changed.json()["features"][0]["properties"]["full_name"] == "Phường Đổi Tên"


def test_simplified_communes_keep_every_unit_with_fewer_vertices(client) -> None:
    def vertices(feature: dict) -> int:
        return sum(len(ring) for polygon in feature["geometry"]["coordinates"] for ring in polygon)

    full = {f["id"]: vertices(f) for f in client.get("/api/communes").json()["features"]}
    simplified = {f["id"]: vertices(f) for f in client.get("/api/communes?simplify_m=50").json()["features"]}
    assert simplified.keys() == full.keys()
    assert all(4 <= simplified[code] <= full[code] for code in full)  # never collapsed to nothing
    assert sum(simplified.values()) < 0.5 * sum(full.values())


def test_simplified_communes_round_to_a_metre_and_full_ones_keep_a_decimetre(client, conn: Connection) -> None:
    """Simplified by 20 m, a coordinate's sixth decimal (0.1 m) was a digit in every number of the largest answer
    of every page: five (1.1 m) stay well inside the simplification's error. The full boundaries keep six."""

    def decimals(url: str) -> int:
        numbers = re.findall(r"-?\d+\.(\d+)", json.dumps([f["geometry"] for f in client.get(url).json()["features"]]))
        return max(len(digits) for digits in numbers)

    assert decimals("/api/communes?simplify_m=20") == 5
    assert decimals("/api/communes") == 6
    draft_year(conn, 2025, actor="test")
    assert decimals("/api/classifications/2025/map?simplify_m=20") == 5


def test_incident_filters_and_pages(client, incidents) -> None:
    def refs(**params) -> list[str]:
        return [f["properties"]["ref"] for f in client.get("/api/incidents", params=params).json()["features"]]

    assert refs() == ["I1", "I2", "I3", "I4"]
    assert refs(**{"from": "2025-01-02", "to": "2025-02-01"}) == ["I2", "I3"]
    assert refs(kind="trafficking") == ["I1", "I4"]
    assert refs(kind="tin_bao,drug_use") == ["I2", "I3"]
    assert refs(bbox="106.6,20.8,106.7,20.9") == ["I1", "I2", "I4"]
    page = client.get("/api/incidents", params={"limit": 2, "offset": 2}).json()
    assert page["numberMatched"] == 4 and page["numberReturned"] == 2
    assert [f["properties"]["ref"] for f in page["features"]] == ["I3", "I4"]


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "10,10,5,5"},
        {"kind": "smuggling"},
        {"limit": 0},
        {"limit": 100000},
        {"from": "yesterday"},
        {"commune": "1; DROP TABLE incidents"},
    ],
)
def test_bad_filters_are_refused_cleanly(client, params) -> None:
    response = client.get("/api/incidents", params=params)
    assert response.status_code == 422
    assert client.get("/api/incidents").status_code == 200


def test_a_server_opens_its_connections_before_the_first_request(engine) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine

    from api.app import create_app

    server = create_engine(engine.url, pool_size=3, max_overflow=5)  # the session's migrated database
    try:
        with TestClient(create_app(server, warm_connections=10)):  # more than the pool keeps: capped, no wait
            assert server.pool.checkedin() == 3
    finally:
        server.dispose()

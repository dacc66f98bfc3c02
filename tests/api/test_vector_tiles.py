"""Vector tiles: layers and attributes, aggregation below street zoom, team scope, caching, bad tiles."""

from __future__ import annotations

import math
from pathlib import Path

import mapbox_vector_tile
import pytest
from sqlalchemy import Connection

from api.cache import Memo
from gis.services.incident_import import import_incidents

# Two incidents in Phường Hải Dương (10525) and one in central Hải Phòng, far apart.
INCIDENTS = (
    "ref,occurred_at,lon,lat,kind\n"
    "T1,2025-03-01T10:00:00,106.3400,20.9450,trafficking\n"
    "T2,2025-03-02T10:00:00,106.3401,20.9451,drug_use\n"
    "T3,2025-03-03T10:00:00,106.6830,20.8600,tip\n"
)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile containing a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture
def incidents(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "i.csv"
    path.write_text(INCIDENTS, encoding="utf-8")
    import_incidents(conn, path, imported_by="test")


def decode(response) -> dict:
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


def test_incident_points_at_street_zoom_and_counts_below(client, incidents) -> None:
    x, y = tile_of(106.3400, 20.9450, 15)
    response = client.get(f"/tiles/incidents/15/{x}/{y}.mvt")
    layer = decode(response)["incidents"]
    # The two incidents as bare points: the map reads no attribute of a single incident, so none is sent.
    assert len(layer["features"]) == 2 and response.headers["X-Incidents"] == "2"
    assert all(f["properties"] == {} for f in layer["features"])
    x, y = tile_of(106.3400, 20.9450, 9)
    counts = decode(client.get(f"/tiles/incidents/9/{x}/{y}.mvt"))["incidents"]["features"]
    assert sum(f["properties"]["count"] for f in counts) == 3  # all three fall in this z9 tile
    assert len(counts) == 2  # the two close incidents share a grid cell


def test_hotspots_and_communes_layers(client, make_hotspot) -> None:
    make_hotspot("10507")
    x, y = tile_of(106.68, 20.86, 9)
    communes = decode(client.get(f"/tiles/communes/9/{x}/{y}.mvt"))["communes"]["features"]
    assert len(communes) > 50 and {"code", "name", "kind"} <= set(communes[0]["properties"])
    hotspots = decode(client.get(f"/tiles/hotspots/9/{x}/{y}.mvt"))["hotspots"]["features"]
    assert hotspots and {"id", "status", "kind", "n_incidents"} <= set(hotspots[0]["properties"])


def test_caching_headers_and_revalidation(client, incidents) -> None:
    x, y = tile_of(106.68, 20.86, 10)
    stable = client.get(f"/tiles/communes/10/{x}/{y}.mvt")
    assert stable.headers["cache-control"] == "private, max-age=3600" and stable.headers["etag"]
    again = client.get(f"/tiles/communes/10/{x}/{y}.mvt", headers={"If-None-Match": stable.headers["etag"]})
    assert again.status_code == 304
    assert client.get(f"/tiles/hotspots/10/{x}/{y}.mvt").headers["cache-control"] == "no-store"


def test_incident_tiles_are_cached_until_the_next_import(client, conn, incidents, tmp_path) -> None:
    now = [0.0]
    client.app.state.data_versions = Memo(2.0, clock=lambda: now[0])
    x, y = tile_of(106.3400, 20.9450, 12)
    url = f"/tiles/incidents/12/{x}/{y}.mvt"
    first = client.get(url)
    assert first.headers["cache-control"] == "private, no-cache"
    assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert client.get(url).content == first.content
    more = tmp_path / "more.csv"
    more.write_text("ref,occurred_at,lon,lat,kind\nT4,2025-03-04T10:00:00,106.3450,20.9400,tip\n", encoding="utf-8")
    import_incidents(conn, more, imported_by="test")  # as another process would: not through this server
    now[0] = 1.9  # the server trusts the versions it read for 2 s
    assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    now[0] = 2.1
    after = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    assert sum(f["properties"]["count"] for f in decode(after)["incidents"]["features"]) == 3


def test_incident_tiles_follow_the_kind_and_date_filters(client, incidents) -> None:
    x, y = tile_of(106.3400, 20.9450, 15)
    url = f"/tiles/incidents/15/{x}/{y}.mvt"
    every = client.get(url)
    kinds = client.get(url, params={"kind": "mua_ban"})  # trafficking only: T1
    later = client.get(url, params={"from": "2025-03-02"})  # T2 only
    assert [r.headers["X-Incidents"] for r in (every, kinds, later)] == ["2", "1", "1"]
    points = [decode(r)["incidents"]["features"][0]["geometry"]["coordinates"] for r in (kinds, later)]
    assert points[0] != points[1] and all(
        p in [f["geometry"]["coordinates"] for f in decode(every)["incidents"]["features"]] for p in points
    )
    assert client.get(url, params={"kind": "nonsense"}).status_code == 422


def test_counted_cells_sit_where_their_incidents_are(client, conn, incidents) -> None:
    from sqlalchemy import text

    x, y = tile_of(106.6830, 20.8600, 11)
    layer = decode(client.get(f"/tiles/incidents/11/{x}/{y}.mvt"))["incidents"]
    (cell,) = layer["features"]
    px, py = cell["geometry"]["coordinates"]
    # Tile pixel (0..4096, y up in the decoder) back to EPSG:3857 and compared with PostGIS's own transform.
    x0, y0, x1, y1 = conn.execute(
        text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ST_TileEnvelope(11, :x, :y) e"),
        {"x": x, "y": y},
    ).one()
    mx, my = conn.execute(
        text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(geom, 3857) p FROM incidents WHERE ref = 'T3') s")
    ).one()
    cell_m = (x1 - x0) / 64
    assert abs(x0 + px / 4096 * (x1 - x0) - mx) <= cell_m and abs(y0 + py / 4096 * (y1 - y0) - my) <= cell_m


def test_team_sees_only_its_area(client, incidents, make_team, make_user, bearer) -> None:
    team = make_team("Tổ Hải Dương", ["10525"])
    headers = bearer(make_user("tile-team", "team", team))
    x, y = tile_of(106.5, 20.9, 8)
    counts = decode(client.get(f"/tiles/incidents/8/{x}/{y}.mvt", headers=headers))["incidents"]["features"]
    assert sum(f["properties"]["count"] for f in counts) == 2
    communes = decode(client.get(f"/tiles/communes/8/{x}/{y}.mvt", headers=headers))["communes"]["features"]
    assert [f["properties"]["code"] for f in communes] == ["10525"]


def test_a_teams_communes_tile_is_not_revalidated_across_a_change_of_its_area(
    client, conn, make_team, make_user, bearer
) -> None:
    from gis.store.accounts import set_team_area
    from models.vocabulary import local_today

    team = make_team("Tổ Hải Dương", ["10525"])
    headers = bearer(make_user("tile-team", "team", team))
    x, y = tile_of(106.5, 20.9, 8)
    url = f"/tiles/communes/8/{x}/{y}.mvt"
    first = client.get(url, headers=headers)
    assert [f["properties"]["code"] for f in decode(first)["communes"]["features"]] == ["10525"]
    set_team_area(conn, team, ["10507"], local_today())
    after = client.get(url, headers={**headers, "If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    assert [f["properties"]["code"] for f in decode(after)["communes"]["features"]] == ["10507"]


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/incidents/23/0/0.mvt",
        "/tiles/incidents/3/8/0.mvt",
        "/tiles/incidents/3/0/8.mvt",
        "/tiles/people/3/0/0.mvt",
        "/tiles/incidents/-1/0/0.mvt",
    ],
)
def test_bad_tiles_are_refused(client, path: str) -> None:
    assert client.get(path).status_code in (404, 422)


def test_tiles_need_a_login(client) -> None:
    client.headers.pop("Authorization")
    assert client.get("/tiles/communes/0/0/0.mvt").status_code == 401

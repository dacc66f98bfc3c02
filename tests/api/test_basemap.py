"""The offline basemap: an MBTiles file made here (as a unit would with gdal_translate), served by the app."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from basemap_files import make_mbtiles, png
from fastapi.testclient import TestClient
from PIL import Image

from api.app import configured_basemap, offline_basemap
from gis.io.mbtiles import EMPTY_TILE, MBTiles
from maps.assets import OFFLINE_TILE_URL, Basemap
from maps.pages import PageData, Viewer, role_page
from models.errors import InvalidInput

#: Hải Phòng's centre at zoom 12: XYZ column and row (the file stores rows from the south).
Z, X, Y = 12, 3261, 1836


def test_the_app_serves_the_tiles_of_an_mbtiles_file(client: TestClient, tmp_path: Path) -> None:
    tile = png((200, 220, 240))
    client.app.state.offline_basemap = MBTiles(make_mbtiles(tmp_path / "nen.mbtiles", {(Z, X, Y): tile}))
    answer = client.get(f"/tiles/base/{Z}/{X}/{Y}.png")
    assert answer.status_code == 200 and answer.content == tile
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["cache-control"] == "private, max-age=86400" and answer.headers["etag"]
    again = client.get(f"/tiles/base/{Z}/{X}/{Y}.png", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and not again.content
    # Rows are flipped: the XYZ row Y is stored as TMS row 2^z − 1 − Y; the mirrored row has no tile here.
    empty = client.get(f"/tiles/base/{Z}/{X}/{2**Z - 1 - Y}.png")
    assert empty.status_code == 200 and empty.content == EMPTY_TILE
    assert Image.open(io.BytesIO(empty.content)).getextrema()[3] == (0, 0)  # transparent: the own base shows
    assert client.get(f"/tiles/base/{Z}/{2**Z}/{Y}.png").status_code == 404


def test_without_a_file_the_route_says_so_in_vietnamese(client: TestClient) -> None:
    answer = client.get(f"/tiles/base/{Z}/{X}/{Y}.png")
    assert answer.status_code == 404 and "chưa cấu hình bản đồ nền offline" in answer.json()["detail"]


def test_basemap_tiles_need_a_login(client: TestClient, tmp_path: Path) -> None:
    client.app.state.offline_basemap = MBTiles(make_mbtiles(tmp_path / "nen.mbtiles", {}))
    client.headers.pop("Authorization")
    assert client.get(f"/tiles/base/{Z}/{X}/{Y}.png").status_code == 401


def test_the_setting_points_the_pages_at_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_mbtiles(tmp_path / "nen.mbtiles", {(Z, X, Y): png((1, 2, 3))})
    monkeypatch.setenv("DIABAN_BASEMAP_PATH", str(path))
    monkeypatch.setenv("DIABAN_TILE_URL", "https://ban-do.noi-bo.example/{z}/{x}/{y}.png")
    basemap = configured_basemap()
    assert basemap.tile_url == OFFLINE_TILE_URL  # the file wins: a closed network has no other server
    assert basemap.attribution == "Bản đồ nền của đơn vị" and basemap.max_native_zoom == 12
    assert offline_basemap() is not None


@pytest.mark.parametrize("problem", ["missing", "not sqlite", "vector tiles"])
def test_a_bad_file_stops_the_server_with_a_clear_message(tmp_path: Path, problem: str) -> None:
    path = tmp_path / "nen.mbtiles"
    if problem == "not sqlite":
        path.write_text("không phải MBTiles")
    elif problem == "vector tiles":
        make_mbtiles(path, {}, fmt="pbf")
    with pytest.raises(InvalidInput) as error:
        MBTiles(path)
    assert "bản đồ nền" in error.value.message


def test_the_pages_draw_the_offline_tiles_up_to_the_files_zoom() -> None:
    viewer = Viewer("chihuy", "command", "Ban chỉ huy")
    html = role_page(viewer, "csrf", PageData(), Basemap(OFFLINE_TILE_URL, "Bản đồ nền của đơn vị", 12))
    assert OFFLINE_TILE_URL in html and '"maxNativeZoom": 12' in html and '"basemap": true' in html
    assert '"basemap": false' in role_page(viewer, "csrf", PageData())  # the page draws its own base

"""The map's extent follows the user's view: a provincial user's page opens on their province's units and pans
around them, a nation-wide user's covers every province loaded with a wider zoom, and Hải Phòng keeps its view tuned
by hand (the mainland fit, the bounds, zoom 8 and the Bạch Long Vĩ button) — the computed one agrees with it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from gis.services.boundary_import import import_boundaries
from gis.services.overview import cached_view_extent
from gis.settings import DataSettings
from gis.store.communes import view_extent
from maps.assets import MIN_ZOOM, fitting_zoom
from tests.conftest import SECOND_PROVINCE, TEST_PASSWORD

#: One ward of Hồ Chí Minh City (Bàn Cờ), cut unchanged from the national file: a province ~1,100 km south.
THIRD_PROVINCE_FILE = Path(__file__).resolve().parents[1] / "data" / "ho-chi-minh-1-unit.geojson"
#: Hải Phòng's view as the pages have always had it.
HAI_PHONG = {
    "mainland": [[20.55, 106.05], [21.25, 107.15]],
    "maxBounds": [[19.6, 105.5], [21.9, 108.3]],
    "minZoom": 8,
    "bachLongVi": [20.135, 107.73],
}


def file_box(path: Path) -> tuple[float, float, float, float]:
    """The lon/lat box of a boundary file's units."""
    features = json.loads(path.read_text())["features"]
    return tuple(shapely.total_bounds([shapely.geometry.shape(f["geometry"]) for f in features]))


def config_of(client: TestClient, username: str) -> dict:
    """The page script's configuration of a user's working page."""
    client.headers.pop("Authorization", None)
    client.cookies.clear()
    answer = client.post("/login", data={"username": username, "password": TEST_PASSWORD})
    assert answer.status_code == 200, answer.text
    return json.loads(re.search(r"diabanStart\(Object\.assign\((\{.*?\}), \{map:", answer.text, re.S).group(1))


def inside(inner: list[list[float]], outer: list[list[float]], slack: float = 1e-6) -> bool:
    """Whether Leaflet bounds [[s, w], [n, e]] ``inner`` lie within ``outer``."""
    (s, w), (n, e) = inner
    (os_, ow), (on, oe) = outer
    return s >= os_ - slack and w >= ow - slack and n <= on + slack and e <= oe + slack


def test_a_one_province_database_keeps_hai_phongs_view(
    conn: Connection, client: TestClient, make_user: Callable[..., int]
) -> None:
    make_user("bo-chi-huy", "command")
    config = config_of(client, "bo-chi-huy")
    assert {key: config[key] for key in HAI_PHONG} == HAI_PHONG and config["offshore"] is True
    # The computed view of Hải Phòng agrees with the tuned one: Bạch Long Vĩ is left out of the mainland...
    extent = view_extent(conn, "31")
    assert extent is not None
    west, south, east, north = extent.mainland
    assert south > 20.5 and east < 107.3  # Bạch Long Vĩ lies at 20.13 N, 107.73 E
    assert extent.whole[1] < 20.15 and extent.whole[2] > 107.7
    # ...which lies within 0.1° of the tuned fit (a shade east of it: all of Cát Bà), and the widest zoom that fits
    # the whole city with the island on a phone is the tuned one.
    tuned = (106.05, 20.55, 107.15, 21.25)
    assert max(abs(a - b) for a, b in zip(extent.mainland, tuned, strict=True)) < 0.1
    assert fitting_zoom(extent.whole) == MIN_ZOOM


def test_a_quang_ninh_user_opens_on_quang_ninh_without_an_island_button(
    conn: Connection, second_province_path: Path, client: TestClient, make_user: Callable[..., int]
) -> None:
    import_boundaries(conn, second_province_path)
    make_user("qn-chi-huy", "command", province_code=SECOND_PROVINCE)
    make_user("hp-chi-huy", "command", province_code="31")
    config = config_of(client, "qn-chi-huy")
    west, south, east, north = file_box(second_province_path)
    assert config["mainland"] == [[south, west], [north, east]]  # its units' extent, nothing of Hải Phòng's
    assert inside(config["mainland"], config["maxBounds"]) and config["maxBounds"] != HAI_PHONG["maxBounds"]
    assert config["bachLongVi"] is None and config["offshore"] is False
    assert config["minZoom"] == MIN_ZOOM  # a small province still zooms out as far as Hải Phòng
    # Hải Phòng's own users keep its tuned view beside another province.
    hai_phong = config_of(client, "hp-chi-huy")
    assert {key: hai_phong[key] for key in HAI_PHONG} == HAI_PHONG


def test_a_team_reads_the_boundaries_of_its_own_province_only(
    conn: Connection,
    second_province_path: Path,
    client: TestClient,
    make_user: Callable[..., int],
    make_team: Callable[..., int],
    bearer: Callable[..., dict[str, str]],
) -> None:
    """A team user has no province of their own: its area's decides (it read every province of a national
    database)."""
    import_boundaries(conn, second_province_path)
    quang_ninh = json.loads(second_province_path.read_text(encoding="utf-8"))["features"][0]["properties"]["code"]
    for name, commune, province in (("Tổ HP", "10507", "31"), ("Tổ QN", quang_ninh, SECOND_PROVINCE)):
        member = bearer(make_user(f"thanh-vien-{province}", "team", make_team(name, [commune])))
        provinces = {
            f["properties"]["province_code"] for f in client.get("/api/communes", headers=member).json()["features"]
        }
        assert provinces == {province}, name
    nation = bearer(make_user("bo-xem", "command"))
    provinces = {
        f["properties"]["province_code"] for f in client.get("/api/communes", headers=nation).json()["features"]
    }
    assert provinces == {"31", SECOND_PROVINCE}


def test_a_ministry_user_sees_every_province_loaded_with_a_wider_zoom(
    conn: Connection, second_province_path: Path, client: TestClient, make_user: Callable[..., int]
) -> None:
    import_boundaries(conn, second_province_path)
    import_boundaries(conn, THIRD_PROVINCE_FILE)
    make_user("bo-chi-huy", "command")
    config = config_of(client, "bo-chi-huy")
    for path in (DataSettings().boundary_file(), second_province_path, THIRD_PROVINCE_FILE):
        west, south, east, north = file_box(path)
        if path != DataSettings().boundary_file():
            assert inside([[south, west], [north, east]], config["mainland"]), path
        assert inside([[south, west], [north, east]], config["maxBounds"]), path
    # Bạch Long Vĩ is left out of the opening view (so the button reads "Đất liền"), but not out of reach.
    assert config["mainland"][1][1] < 107.5 and config["offshore"] is True and config["bachLongVi"] is None
    # Hồ Chí Minh City to Hải Phòng, 10.8-21.2 N, fits a phone at zoom 5 (Vietnam with its islands: 4).
    assert config["minZoom"] == 5 < MIN_ZOOM


def test_the_view_extent_is_read_once_per_version_of_the_boundaries(
    conn: Connection, second_province_path: Path
) -> None:
    kept: dict[tuple, object] = {}
    built: list[tuple] = []

    def memo(key: tuple, build: Callable[[], object]) -> object:
        if key not in kept:
            built.append(key)
            kept[key] = build()
        return kept[key]

    first = cached_view_extent(conn, None, memo)
    assert cached_view_extent(conn, None, memo) == first and len(built) == 1
    import_boundaries(conn, second_province_path)  # the boundaries' version changes: read again
    assert cached_view_extent(conn, None, memo) == view_extent(conn, None) and len(built) == 2

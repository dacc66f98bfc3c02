"""The map opens on the user's province in a real browser: a Quảng Ninh command user's map is centred on Quảng
Ninh's units (not on Hải Phòng, as every map was), pans around them and has no Bạch Long Vĩ button; a Hải Phòng user
beside them keeps Hải Phòng's view. A scratch database of its own: Hải Phòng's 114 units and three of Quảng Ninh's,
no incidents. Screenshots go to artifacts/ (map-extent-*)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from conftest import scratch_database, serve
from sqlalchemy import Engine
from test_browser import DESKTOP, PHONE, chromium, open_as, shot

from api.app import create_app
from api.security import hash_password
from gis.demo.accounts import DEMO_PASSWORD
from gis.ops.postgres import ManagedCluster
from gis.services.boundary_import import import_boundaries
from gis.store.accounts import create_user
from tests.conftest import SECOND_PROVINCE

__all__ = ["chromium"]  # the shared browser fixture


@pytest.fixture(scope="module")
def two_provinces(cluster: ManagedCluster, boundaries_path: Path, second_province_path: Path) -> Iterator[Engine]:
    """Hải Phòng and three units of Quảng Ninh, a command user of each."""
    with scratch_database(cluster, "browser_extent") as engine:
        with engine.begin() as conn:
            import_boundaries(conn, boundaries_path)
            import_boundaries(conn, second_province_path)
            create_user(conn, "qn-chihuy", hash_password(DEMO_PASSWORD), "command", None, province_code=SECOND_PROVINCE)
            create_user(conn, "hp-chihuy", hash_password(DEMO_PASSWORD), "command", None, province_code="31")
        yield engine


@pytest.fixture(scope="module")
def extent_server(two_provinces: Engine) -> Iterator[str]:
    with serve(create_app(two_provinces)) as base:
        yield base


def test_a_quang_ninh_users_map_opens_on_quang_ninh(chromium, extent_server: str, second_province_path: Path) -> None:
    features = json.loads(second_province_path.read_text())["features"]
    west, south, east, north = shapely.total_bounds([shapely.geometry.shape(f["geometry"]) for f in features])
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page, errors = open_as(chromium, extent_server, "qn-chihuy", viewport)
        centre = page.evaluate("window.diaban.map.getCenter()")
        assert south < centre["lat"] < north and west < centre["lng"] < east, centre
        view = page.evaluate(
            "(() => { const b = window.diaban.map.getBounds(); return [b.getWest(), b.getEast()]; })()"
        )
        assert view[0] <= west and east <= view[1]  # all of its units in sight
        buttons = page.locator(".map-buttons button").all_inner_texts()
        assert "Bạch Long Vĩ" not in buttons and "Toàn địa bàn" in buttons
        shot(page, f"map-extent-quang-ninh-{name}")
        assert errors == []
        page.close()
    page, errors = open_as(chromium, extent_server, "hp-chihuy", DESKTOP)
    centre = page.evaluate("window.diaban.map.getCenter()")
    assert abs(centre["lat"] - 20.9) < 1e-6 and abs(centre["lng"] - 106.6) < 1e-6  # Hải Phòng's mainland, as before
    assert page.locator(".map-buttons button").all_inner_texts()[:2] == ["Bạch Long Vĩ", "Đất liền"]
    shot(page, "map-extent-hai-phong-desktop")
    assert errors == []
    page.close()

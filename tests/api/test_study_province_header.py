"""With several provinces loaded, Gi* and emerging hot spots are computed for one (the user's, or the one nearest a
nation-wide user's view centre): the answer names it in its headers, so that the command page can say which — at the
country's zoom the centre lies at sea and the cells of the nearest province may be empty or out of sight."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from gis.services.boundary_import import import_boundaries
from tests.conftest import SECOND_PROVINCE, SECOND_PROVINCE_FILE, second_province_point


@pytest.mark.parametrize("route", ["/api/gistar", "/api/emerging"])
def test_the_province_studied_is_named_in_the_answers_headers(client, conn, make_user, bearer, route: str) -> None:
    one = client.get(route, params={"bbox": "106.6,20.8,106.7,20.9"})
    assert one.status_code == 200 and "X-Study-Province" not in one.headers  # one province: its whole extent
    import_boundaries(conn, SECOND_PROVINCE_FILE)
    lon, lat = second_province_point(conn)
    there = client.get(route, params={"bbox": f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"})
    assert there.status_code == 200, there.text
    assert there.headers["X-Study-Province"] == SECOND_PROVINCE
    assert unquote(there.headers["X-Study-Province-Name"]) == "Tỉnh Quảng Ninh"
    country = client.get(route, params={"bbox": "92.9,1.8,126.9,28.5"})  # the centre at sea: the nearest province
    assert country.status_code == 200 and country.headers["X-Study-Province"] in {"31", SECOND_PROVINCE}
    hai_phong = bearer(make_user("hp-o-nong", "command", province_code="31"))  # a provincial user: their own
    assert (
        client.get(route, params={"bbox": "92.9,1.8,126.9,28.5"}, headers=hai_phong).headers["X-Study-Province"] == "31"
    )

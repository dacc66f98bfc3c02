"""The map's search box finds a commune by the name it had before the 1 July 2025 reorganisation: GET
/api/communes/former answers the old units a name names and the current unit(s) each became part of, among those
the reader's maps show (a provincial user's province, a team's provinces), as the search of current names does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Connection

from gis.services.boundary_import import import_boundaries
from tests.conftest import SECOND_PROVINCE_UNITS

#: Phường Hồng Bàng, which took in the old Phường Thượng Lý of Quận Hồng Bàng (Hạ Lý had joined it on 1/1/2025).
HONG_BANG = "11311"
#: Quảng Ninh's Phường Cao Xanh, which took in the old Phường Hà Khánh of Thành phố Hạ Long.
CAO_XANH = "06658"


def former(client: TestClient, q: str, headers: dict[str, str] | None = None) -> list[dict]:
    """The answer of GET /api/communes/former for `q`."""
    response = client.get("/api/communes/former", params={"q": q}, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_former_name_with_or_without_accents_type_or_district_finds_the_unit_it_became_part_of(client) -> None:
    for q in ("Hạ Lý", "ha ly", "phường Hạ Lý", "PHƯỜNG HẠ LÝ", "Hạ Lý, Hồng Bàng", "ha ly, quan hong bang, hai phong"):
        found = former(client, q)
        assert [(f["code"], f["former"], f["absorbed"], f["split"]) for f in found] == [
            (HONG_BANG, "Phường Thượng Lý, Quận Hồng Bàng, Thành phố Hải Phòng", True, False)
        ], q
        assert found[0]["district"] == "Quận Hồng Bàng"
    assert former(client, "phường Hạ Lý")[0]["name"] == "Hạ Lý"  # as typed, its type left out
    # An old unit's own name, and one split across two current units: both, each saying it holds a part.
    own = former(client, "Quán Toan")
    assert [(f["name"], f["absorbed"]) for f in own] == [("Quán Toan", False)]
    split = former(client, "Đại Bản, Hồng Bàng")
    assert [(f["code"], f["split"]) for f in split] == [("11593", True), ("11602", True)]
    # A district that is not the old unit's, and a name no unit had, find nothing.
    assert former(client, "Hạ Lý, Lê Chân") == []
    assert former(client, "Không Có Tên Này") == []


def test_a_name_of_another_province_is_not_offered_to_a_hai_phong_team(
    client: TestClient,
    conn: Connection,
    second_province_path: Path,
    make_team: Callable[[str, list[str]], int],
    make_user: Callable[..., int],
    bearer: Callable[..., dict[str, str]],
) -> None:
    assert import_boundaries(conn, second_province_path).inserted == SECOND_PROVINCE_UNITS
    hai_phong_team = bearer(make_user("doi-hong-bang", "team", make_team("Tổ Hồng Bàng", [HONG_BANG])))
    quang_ninh_team = bearer(make_user("doi-cao-xanh", "team", make_team("Tổ Cao Xanh", [CAO_XANH])))
    nation = bearer(make_user("chihuy-bo", "command"))
    assert [f["code"] for f in former(client, "Hà Khánh", nation)] == [CAO_XANH]
    assert former(client, "Hà Khánh", hai_phong_team) == []
    assert [f["code"] for f in former(client, "Hạ Lý", hai_phong_team)] == [HONG_BANG]
    assert [f["code"] for f in former(client, "ha khanh", quang_ninh_team)] == [CAO_XANH]
    assert former(client, "Hạ Lý", quang_ninh_team) == []


def test_a_missing_or_overlong_name_is_refused_in_vietnamese(client: TestClient) -> None:
    for params in ({}, {"q": "x"}, {"q": "x" * 101}):
        refused = client.get("/api/communes/former", params=params)
        assert refused.status_code == 422, refused.text
        assert "tên xã/phường cũ" in refused.text, refused.text

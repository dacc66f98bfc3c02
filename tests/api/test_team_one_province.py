"""A team is a province police's unit: its area lies in one province. An area spanning two is refused when a team is
created or its area changed (one check for the API, the page and `diaban`), naming the provinces; an area saved
before the rule that still spans two has its Gi* and emerging hot spots in the province holding most of it."""

from __future__ import annotations

from sqlalchemy import text

from gis.services.analyses import study_province
from gis.services.boundary_import import import_boundaries
from gis.store.scoping import AreaScope
from models.vocabulary import local_today
from tests.conftest import SECOND_PROVINCE, SECOND_PROVINCE_FILE, requests_in_savepoints

HAI_PHONG_A, HAI_PHONG_B, HA_TU = "10507", "10525", "06652"
SPANS = "các xã, phường đã chọn thuộc Tỉnh Quảng Ninh (1 xã, phường), Thành phố Hải Phòng (2 xã, phường)"


def test_a_team_area_spanning_two_provinces_is_refused_naming_them(client, conn, make_user, bearer) -> None:
    requests_in_savepoints(client.app, conn)
    import_boundaries(conn, SECOND_PROVINCE_FILE)
    admin = bearer(make_user("quan-tri-tinh", "admin"))
    teams = "SELECT count(*) FROM teams"
    before = conn.execute(text(teams)).scalar_one()
    both = [HAI_PHONG_A, HAI_PHONG_B, HA_TU]
    created = client.post("/api/teams", json={"name": "Tổ hai tỉnh", "communes": both}, headers=admin)
    assert created.status_code == 422, created.text
    assert created.json()["message"].startswith("địa bàn của một tổ phải nằm trong một tỉnh, thành phố")
    assert SPANS in created.json()["message"]
    assert conn.execute(text(teams)).scalar_one() == before

    team = client.post("/api/teams", json={"name": "Tổ một tỉnh", "communes": [HAI_PHONG_A]}, headers=admin).json()
    changed = client.put(
        f"/api/teams/{team['id']}/area", json={"communes": both, "valid_from": str(local_today())}, headers=admin
    )
    assert changed.status_code == 422 and SPANS in changed.json()["message"], changed.text
    areas = client.get(f"/api/teams/{team['id']}/areas", headers=admin).json()
    assert {a["commune_code"] for a in areas} == {HAI_PHONG_A}
    moved = client.put(  # the whole area moved to the other province is one province's
        f"/api/teams/{team['id']}/area", json={"communes": [HA_TU], "valid_from": str(local_today())}, headers=admin
    )
    assert moved.status_code == 200, moved.text


def test_an_older_area_spanning_two_provinces_is_studied_where_most_of_it_lies(conn, make_team) -> None:
    """Saved before the rule (written here as a migration would have left it): two Hải Phòng communes and one of Quảng
    Ninh, whose code is the smallest — the analyses had taken the province of the smallest code."""
    import_boundaries(conn, SECOND_PROVINCE_FILE)
    team_id = make_team("Tổ cũ hai tỉnh", [HAI_PHONG_A, HAI_PHONG_B])
    conn.execute(
        text(
            "INSERT INTO team_areas (team_id, commune_code, valid_from) SELECT team_id, :c, valid_from"
            " FROM team_areas WHERE team_id = :t LIMIT 1"
        ),
        {"t": team_id, "c": HA_TU},
    )
    assert study_province(conn, AreaScope(team_id=team_id), None) == "31"
    conn.execute(
        text("DELETE FROM team_areas WHERE team_id = :t AND commune_code = :c"), {"t": team_id, "c": HAI_PHONG_B}
    )
    assert study_province(conn, AreaScope(team_id=team_id), None) == "22" == SECOND_PROVINCE  # a tie: the smaller code

"""A hotspot reported from a tip (POST /api/hotspots): stored once under its Idempotency-Key, refused outside a
team's area with a Vietnamese 403 (nothing stored), and refused with a note that holds a person's name."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.api.test_team_scope import AREA_A, AREA_B, _point
from tests.conftest import requests_in_savepoints

KEY = {"Idempotency-Key": "tin-bao-0001-abcdef"}


def _hotspots(conn) -> int:
    return conn.execute(text("SELECT count(*) FROM hotspots")).scalar_one()


@pytest.fixture
def team(client, conn, make_team, make_user, bearer) -> dict:
    """A team of commune AREA_A with one user; each request in a savepoint (a refusal undoes what it stored)."""
    requests_in_savepoints(client.app, conn)
    team_id = make_team("Tổ tin báo", [AREA_A])
    return {
        "headers": bearer(make_user("to91", "team", team_id)),
        "inside": _point(conn, AREA_A),
        "outside": _point(conn, AREA_B),
    }


def test_a_report_sent_again_with_its_key_is_stored_once(client, conn, team) -> None:
    lon, lat = team["inside"]
    body = {"lon": lon, "lat": lat, "note": "tin báo: tụ tập ban đêm sau chợ"}
    before = _hotspots(conn)
    first = client.post("/api/hotspots", json=body, headers={**team["headers"], **KEY})
    again = client.post("/api/hotspots", json=body, headers={**team["headers"], **KEY})
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"] and _hotspots(conn) == before + 1
    assert first.json()["properties"]["status"] == "detected" and first.json()["properties"]["note"] == body["note"]
    # The same key with another report is refused; another user's same key is theirs.
    other = client.post("/api/hotspots", json={**body, "note": "nơi khác"}, headers={**team["headers"], **KEY})
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["message"]
    assert client.post("/api/hotspots", json=body, headers=KEY).json()["id"] != first.json()["id"]
    assert _hotspots(conn) == before + 2


def test_a_point_outside_the_team_area_is_refused_in_vietnamese_and_not_stored(client, conn, team) -> None:
    lon, lat = team["outside"]
    before = _hotspots(conn)
    refused = client.post(
        "/api/hotspots", json={"lon": lon, "lat": lat, "note": "tin báo"}, headers={**team["headers"], **KEY}
    )
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("điểm này nằm ngoài địa bàn của tổ")
    assert _hotspots(conn) == before
    # Its key was not used up: the same key reports a point inside the area.
    lon, lat = team["inside"]
    inside = client.post(
        "/api/hotspots", json={"lon": lon, "lat": lat, "note": "tin báo"}, headers={**team["headers"], **KEY}
    )
    assert inside.status_code == 201


@pytest.mark.parametrize("note", ["đối tượng Nguyễn Văn Hùng hay bán lẻ ở đây", "gặp Trần Thị Lan tại ngõ"])
def test_a_note_naming_a_person_is_refused(client, note: str) -> None:
    refused = client.post("/api/hotspots", json={"lon": 106.683, "lat": 20.86, "note": note})
    assert refused.status_code == 422 and "tên người" in refused.json()["message"]
    place = client.post("/api/hotspots", json={"lon": 106.683, "lat": 20.86, "note": "quán nước đầu phố Trần Phú"})
    assert place.status_code == 201, place.text

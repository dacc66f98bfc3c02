"""Boundaries loaded from the administration page (POST /api/imports/boundaries), on real PostGIS: «Kiểm tra tệp»
changes nothing and says what the import then does, the import run names the administrator, only administrators
load, a bad file is 422 with its refused features (never 500), a file declared whole closes the units missing from
it only when allowed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Connection, text

from api.replicas import WROTE_COOKIE
from tests.conftest import (
    SECOND_PROVINCE,
    SECOND_PROVINCE_FILE,
    SECOND_PROVINCE_UNITS,
    footprint,
    requests_in_savepoints,
)

BOUNDARIES = "/api/imports/boundaries"
#: The report's parts a dry run and the import that follows it give alike.
SAME_REPORT = ("file_name", "counts", "warnings", "rejected")


@pytest.fixture
def users(make_user, make_team, bearer) -> dict[str, dict[str, str]]:
    """Headers of one user per role."""
    made = {role: make_user(f"ranh-gioi-{role}", role) for role in ("admin", "command", "planner")}
    made["team"] = make_user("ranh-gioi-team", "team", make_team("Tổ ranh giới", ["10507"]))
    return {name: bearer(user_id) for name, user_id in made.items()}


def send(client, headers: dict, content: bytes, name: str = "quang-ninh.geojson", dry_run: bool = False, **form: str):
    params = {"dry_run": "true"} if dry_run else {}
    return client.post(BOUNDARIES, headers=headers, params=params, files={"file": (name, content)}, data=form)


def state(conn: Connection) -> tuple[dict[str, int], tuple]:
    """The footprint of an import, the second province's unit versions (all, current) and the provinces known."""
    counts = conn.execute(
        text("""SELECT count(*) FILTER (WHERE province_code = :p), count(*) FILTER (WHERE province_code = :p
                AND valid_to IS NULL), (SELECT count(*) FROM provinces) FROM admin_units"""),
        {"p": SECOND_PROVINCE},
    ).one()
    return footprint(conn), tuple(counts)


def features(count: int) -> bytes:
    """The first ``count`` units of the second province's file, as a file of their own."""
    collection = json.loads(SECOND_PROVINCE_FILE.read_text(encoding="utf-8"))
    return json.dumps({**collection, "features": collection["features"][:count]}).encode()


def test_a_dry_run_changes_nothing_and_says_what_the_import_then_does(client, conn, users) -> None:
    content = SECOND_PROVINCE_FILE.read_bytes()
    before = state(conn)
    checked = send(client, users["admin"], content, dry_run=True)
    assert checked.status_code == 200, checked.text
    check = checked.json()
    assert check["dry_run"] is True and check["import_id"] is None
    assert check["counts"]["inserted"] == SECOND_PROVINCE_UNITS and check["counts"]["rejected"] == 0
    assert check["summary"] == f"Ranh giới, nếu nhập: thêm mới {SECOND_PROVINCE_UNITS}"
    assert state(conn) == before and WROTE_COOKIE not in checked.cookies
    imported = send(client, users["admin"], content)
    assert imported.status_code == 200, imported.text
    done = imported.json()
    assert done["dry_run"] is False and done["import_id"] is not None
    assert {key: check[key] for key in SAME_REPORT} == {key: done[key] for key in SAME_REPORT}
    assert done["summary"] == f"Ranh giới: thêm mới {SECOND_PROVINCE_UNITS}"
    footprint_after, (versions, current, _) = state(conn)
    assert (versions, current) == (before[1][0] + SECOND_PROVINCE_UNITS, before[1][1] + SECOND_PROVINCE_UNITS)
    run = conn.execute(
        text("SELECT dataset, file_name, imported_by, imported FROM import_runs WHERE id = :id"),
        {"id": done["import_id"]},
    ).one()
    assert tuple(run) == ("boundaries", "quang-ninh.geojson", "ranh-gioi-admin", SECOND_PROVINCE_UNITS)
    assert footprint_after != before[0] and imported.cookies.get(WROTE_COOKIE)
    again = send(client, users["admin"], content)
    assert again.json()["summary"] == f"Ranh giới: thêm mới 0, không đổi {SECOND_PROVINCE_UNITS}"


def test_a_file_declared_whole_closes_the_missing_units_only_when_allowed(client, conn, users) -> None:
    requests_in_savepoints(client.app, conn)
    assert send(client, users["admin"], SECOND_PROVINCE_FILE.read_bytes()).status_code == 200
    one = features(1)
    refused = send(client, users["admin"], one, whole="true", valid_from="2026-01-01")
    assert refused.status_code == 422, refused.text
    assert "quá nửa" in refused.json()["message"] and "Cho phép khép lại quá nửa số đơn vị" in refused.json()["message"]
    before = state(conn)
    checked = send(
        client, users["admin"], one, dry_run=True, whole="true", allow_many_closed="true", valid_from="2026-01-01"
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["counts"]["closed_missing"] == SECOND_PROVINCE_UNITS - 1
    assert "khép lại vì không có trong tệp toàn bộ 2" in checked.json()["summary"]
    assert state(conn) == before


def test_only_an_administrator_loads_boundaries(client, users) -> None:
    content = SECOND_PROVINCE_FILE.read_bytes()
    statuses = {role: send(client, users[role], content, dry_run=True).status_code for role in users}
    assert statuses == {"admin": 200, "command": 403, "planner": 403, "team": 403}


@pytest.mark.parametrize(
    ("name", "content", "code", "said"),
    [
        ("a.geojson", b"not json at all", "unreadable_file", "không đọc được tệp ranh giới"),
        ("a.csv", b"code,name\n1,x\n", "unreadable_file", "chỉ nhận tệp .geojson, .json"),
        ("a.geojson", json.dumps({"type": "FeatureCollection", "features": []}).encode(), "unreadable_file", "thiếu"),
    ],
)
def test_a_file_that_is_no_boundary_file_is_422_in_vietnamese(client, conn, users, name, content, code, said) -> None:
    requests_in_savepoints(client.app, conn)
    response = send(client, users["admin"], content, name=name)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code and said in response.json()["message"], response.json()


def test_a_file_whose_every_feature_is_refused_is_422_with_each_feature_and_leaves_nothing(client, conn, users) -> None:
    requests_in_savepoints(client.app, conn)
    collection = json.loads(features(2))
    collection["features"][0]["properties"]["code"] = ""
    collection["features"][1]["properties"]["kind"] = "thôn"
    collection["features"][1]["properties"]["full_name"] = "Thôn Một"
    before = state(conn)
    for dry_run in (True, False):
        response = send(client, users["admin"], json.dumps(collection).encode(), dry_run=dry_run)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "nothing_imported" and "không có đối tượng nào hợp lệ" in body["message"]
        rows = body["report"]["rejected"]["rows"]
        assert [(r["line"], r["ref"]) for r in rows] == [
            (1, None),
            (2, collection["features"][1]["properties"]["code"]),
        ]
        assert rows[0]["message"] == "thiếu mã đơn vị" and rows[1]["message"].startswith("loại đơn vị không hợp lệ")
        assert body["report"]["dry_run"] is dry_run and body["report"]["import_id"] is None
    assert state(conn) == before

"""No names of people in any free text a user types: every route that stores one refuses a text that looks like it
holds a person's name with one Vietnamese message naming the field (422), and stores nothing — no event, no photo, no
change of version, no run or override. A street or a place written with its word ("phố Trần Phú", "đường Lê Lợi")
is accepted. The check is the services' (models.domain.personal_names.refuse_names), which the CLI shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text

from gis.services.classification import draft_year
from models.domain.access import Principal
from tests.api.test_team_scope import AREA_A
from tests.conftest import conversion_task, evidence_photo, requests_in_savepoints

NAMED = "đồng chí Nguyễn Văn An đã xác minh, đối tượng Trần Thị Lan bỏ đi"
STREETS = ("đã kiểm tra quán nước đầu phố Trần Phú", "tuần tra ngõ 12 đường Lê Lợi, không phát hiện")
#: Communes named after people written bare (the database's places: gis.store.communes.place_names).
PLACES_BARE = ("giáp ranh Lê Chân và Nguyễn Bỉnh Khiêm",)

#: Everything a refused text could have left behind.
_FOOTPRINT = text("""
    SELECT (SELECT count(*) FROM task_events), (SELECT count(*) FROM hotspot_events),
           (SELECT count(*) FROM task_photos), (SELECT count(*) FROM tasks), (SELECT coalesce(sum(version), 0) FROM tasks),
           (SELECT coalesce(sum(version), 0) FROM hotspots), (SELECT count(*) FROM hotspots),
           (SELECT count(*) FROM classification_runs), (SELECT coalesce(max(id), 0) FROM classification_runs),
           (SELECT count(*) FROM classification_results WHERE method = 'override'),
           (SELECT count(*) FROM admin_audit)""")


@pytest.fixture
def world(client, conn: Connection, make_team, make_user, make_hotspot, bearer) -> dict[str, Any]:
    """A team of AREA_A with a user and an assigned conversion task (2025), an unassigned one (2026), a detected
    hotspot and a planner; each request in a savepoint."""
    requests_in_savepoints(client.app, conn)
    team = make_team("Tổ kiểm tra tên", [AREA_A])
    command = Principal(0, "test-command", "command")
    return {
        "team": bearer(make_user("to-ten", "team", team)),
        "planner": bearer(make_user("tham-muu-ten", "planner")),
        "team_id": team,
        "assigned": conversion_task(conn, command, AREA_A, 2025, team),
        "unassigned": conversion_task(conn, command, AREA_A, 2026, None),
        "hotspot": make_hotspot(AREA_A),
    }


Send = Callable[[Any, dict[str, Any], str], Any]

#: Each stored free text: (the field as the message names it, how a text is sent).
FIELDS: dict[str, tuple[str, Send]] = {
    "tip report (hotspot note)": (
        "Mô tả",
        lambda c, w, t: c.post("/api/hotspots", json={"lon": 106.683, "lat": 20.86, "note": t}),
    ),
    "hotspot transition note": (
        "Ghi chú",
        lambda c, w, t: c.post(
            f"/api/hotspots/{w['hotspot']}/transitions", json={"to": "verified", "note": t, "version": 1}
        ),
    ),
    "task description": (
        "Ghi chú nhiệm vụ",
        lambda c, w, t: c.post(
            "/api/tasks", json={"kind": "conversion", "commune_code": AREA_A, "year": 2027, "note": t}
        ),
    ),
    "task checklist at creation": (
        "Danh mục công việc",
        lambda c, w, t: c.post(
            "/api/tasks",
            json={
                "kind": "conversion",
                "commune_code": AREA_A,
                "year": 2027,
                "checklist": [{"item": "họp dân"}, {"item": t}],
            },
        ),
    ),
    "task checklist changed": (
        "Danh mục công việc",
        lambda c, w, t: c.patch(f"/api/tasks/{w['assigned']}", json={"version": 2, "checklist": [{"item": t}]}),
    ),
    "instruction at assignment": (
        "Ghi chú giao nhiệm vụ",
        lambda c, w, t: c.post(
            f"/api/tasks/{w['unassigned']}/assignment", json={"team_id": w["team_id"], "version": 1, "note": t}
        ),
    ),
    "task transition note": (
        "Ghi chú",
        lambda c, w, t: c.post(
            f"/api/tasks/{w['assigned']}/transitions",
            json={"to": "in_progress", "note": t, "version": 2},
            headers=w["team"],
        ),
    ),
    "team's progress note": (
        "Ghi chú",
        lambda c, w, t: c.post(f"/api/tasks/{w['assigned']}/comments", json={"note": t}, headers=w["team"]),
    ),
    "command's comment": (
        "Ghi chú",
        lambda c, w, t: c.post(f"/api/tasks/{w['assigned']}/comments", json={"note": t}),
    ),
    "progress note with a photo": (
        "Ghi chú",
        lambda c, w, t: c.post(
            f"/api/tasks/{w['assigned']}/photos",
            data={"note": t},
            files={"photo": ("anh.png", evidence_photo().content, "image/png")},
            headers=w["team"],
        ),
    ),
    "classification override reason": (
        "Lý do điều chỉnh",
        lambda c, w, t: c.post(
            "/api/classifications/2025/overrides",
            json={"commune_code": AREA_A, "category": "trong_diem", "level": "III", "reason": t},
            headers=w["planner"],
        ),
    ),
    "classification run note": (
        "Ghi chú của lần tính",
        lambda c, w, t: c.post(
            "/api/classifications/2025/runs", json={"replace": True, "note": t}, headers=w["planner"]
        ),
    ),
}


@pytest.mark.parametrize("field", FIELDS)
def test_a_name_is_refused_and_a_street_accepted(client, conn: Connection, world: dict[str, Any], field: str) -> None:
    label, send = FIELDS[field]
    if field.startswith("classification"):
        draft_year(conn, 2025, actor="test")  # a draft to override or replace
    before = conn.execute(_FOOTPRINT).one()
    refused = send(client, world, NAMED)
    assert refused.status_code == 422, refused.text
    assert refused.json()["message"].startswith(f"{label} có vẻ chứa tên người"), refused.json()
    assert "kể cả tên cán bộ" in refused.json()["message"] and "«tổ 05»" in refused.json()["message"]
    assert conn.execute(_FOOTPRINT).one() == before, "a refused text left something behind"
    accepted = send(client, world, " — ".join((*STREETS, *PLACES_BARE)))
    assert accepted.is_success, accepted.text
    assert conn.execute(_FOOTPRINT).one() != before

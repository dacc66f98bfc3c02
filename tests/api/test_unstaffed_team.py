"""A team left without an active member (its last one deactivated or moved) holds work nobody can do: the
administrator is told that command will give it to another team, but a task under way (in progress, paused, returned)
could not be reassigned — command's card offered only «Hủy nhiệm vụ», ending the task's history. Such a task is
marked (`team_unstaffed`, the hotspot's `task_team_unstaffed`) and may be given to another team whatever its open
state, keeping it; a team with nobody active is never the suggested assignee."""

from __future__ import annotations

import pytest
from sqlalchemy import text

AREA = "10507"


@pytest.fixture
def held(client, conn, make_team, make_user, make_hotspot, bearer) -> dict:
    """A suppression task in progress held by team A (one member), team B covering the same commune."""
    team = make_team("Tổ A", [AREA])
    other = make_team("Tổ B", [AREA])
    member = make_user("to-a", "team", team)
    make_user("to-b", "team", other)
    hotspot = make_hotspot(AREA)
    assert client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1}).is_success
    made = client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot, "team_id": team})
    assert made.status_code == 201, made.text
    task = made.json()
    started = client.post(
        f"/api/tasks/{task['id']}/transitions",
        json={"to": "in_progress", "version": task["version"]},
        headers=bearer(member),
    )
    assert started.status_code == 200, started.text
    return {"id": task["id"], "hotspot": hotspot, "team": team, "other": other, "member": member}


def _task(client, task_id: int) -> dict:
    return next(t for t in client.get("/api/tasks").json()["tasks"] if t["id"] == task_id)


def test_work_under_way_goes_to_another_team_once_its_team_has_nobody_active(client, conn, held) -> None:
    task = _task(client, held["id"])
    assert (task["state"], task["team_unstaffed"]) == ("in_progress", False)
    body = {"team_id": held["other"], "version": task["version"], "note": "Tổ A không còn người"}
    refused = client.post(f"/api/tasks/{held['id']}/assignment", json=body)
    assert refused.status_code == 422 and "không còn ai hoạt động" in refused.json()["message"], refused.text

    conn.execute(text("UPDATE users SET active = false WHERE id = :id"), {"id": held["member"]})
    task = _task(client, held["id"])
    hotspot = client.get(f"/api/hotspots/{held['hotspot']}").json()["properties"]
    assert task["team_unstaffed"] is True and hotspot["task_team_unstaffed"] is True
    given = client.post(f"/api/tasks/{held['id']}/assignment", json=body)
    assert given.status_code == 200, given.text
    task = _task(client, held["id"])
    assert (task["state"], task["team_id"], task["team_unstaffed"]) == ("in_progress", held["other"], False)
    event = client.get(f"/api/tasks/{held['id']}").json()["events"][-1]
    assert (event["event"], event["details"]["from_team"], event["note"]) == ("reassigned", held["team"], body["note"])


def test_a_team_with_nobody_active_is_listed_last_and_never_suggested(client, conn, held) -> None:
    """Team A holds one task, B none: B was suggested. With B's member deactivated, A is suggested and B comes last,
    said to have nobody active."""
    conn.execute(text("UPDATE users SET active = false WHERE username = 'to-b'"))
    answer = client.get("/api/tasks/suggest-assignee", params={"commune": AREA}).json()
    mine = [c for c in answer["candidates"] if c["team_id"] in (held["team"], held["other"])]
    assert [(c["team_id"], c["active_members"]) for c in mine] == [(held["team"], 1), (held["other"], 0)]
    assert answer["suggested"]["active_members"] > 0

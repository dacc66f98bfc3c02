"""A task's checklist ticked off (POST /api/tasks/{id}/checklist): command sets the list of steps when it gives the
task; the team holding it ticks a line done, or not, while it works the task; command may too until the work is
sent. Each tick moves the task's version (a stale one is 412), is kept in the task's history with the line's words,
and a line already so changes nothing. Another team, a planner, a closed task or a line that does not exist are
refused."""

from __future__ import annotations

import pytest
from sqlalchemy import text

AREA, OTHER = "10507", "10525"
STEPS = ["Xác minh địa điểm", "Lập kế hoạch đấu tranh", "Niêm phong, lập biên bản"]


@pytest.fixture
def task(client, make_team, make_user, make_hotspot, bearer) -> dict:
    """A suppression task with three steps, given to team A; a member of A and one of B."""
    team = make_team("Tổ danh sách việc", [AREA])
    other = make_team("Tổ khác", [OTHER])
    hotspot = make_hotspot(AREA)
    assert client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1}).is_success
    made = client.post(
        "/api/tasks",
        json={
            "kind": "suppression",
            "hotspot_id": hotspot,
            "team_id": team,
            "checklist": [{"item": step} for step in STEPS],
        },
    )
    assert made.status_code == 201, made.text
    return {
        "id": made.json()["id"],
        "hotspot": hotspot,
        "version": made.json()["version"],
        "member": bearer(make_user("to-ds", "team", team)),
        "stranger": bearer(make_user("to-khac", "team", other)),
        "planner": bearer(make_user("tham-muu-ds", "planner")),
    }


def _tick(client, task: dict, item: int, done: bool, headers=None, version: int | None = None):
    body = {"version": task["version"] if version is None else version, "item": item, "done": done}
    return client.post(f"/api/tasks/{task['id']}/checklist", json=body, headers=headers)


def test_the_team_ticks_its_steps_and_the_history_says_which(client, conn, task) -> None:
    ticked = _tick(client, task, 1, True, task["member"])
    assert ticked.status_code == 200, ticked.text
    answer = ticked.json()
    assert [line["done"] for line in answer["checklist"]] == [False, True, False]
    assert [line["item"] for line in answer["checklist"]] == STEPS  # the words untouched
    assert answer["version"] == task["version"] + 1
    event = answer["events"][-1]
    assert (event["event"], event["actor"], event["details"]["line"], event["details"]["done"]) == (
        "updated",
        "to-ds",
        STEPS[1],
        True,
    )
    # The same again at the new version: nothing changes, no event.
    again = _tick(client, task, 1, True, task["member"], answer["version"])
    assert again.json()["version"] == answer["version"] and len(again.json()["events"]) == len(answer["events"])
    # A stale version is refused; command unticks at the current one.
    assert _tick(client, task, 0, True, task["member"]).status_code == 412
    unticked = _tick(client, task, 1, False, version=answer["version"])
    assert unticked.status_code == 200 and [line["done"] for line in unticked.json()["checklist"]] == [False] * 3
    stored = conn.execute(text("SELECT checklist FROM tasks WHERE id = :t"), {"t": task["id"]}).scalar_one()
    assert stored == [{"item": step, "done": False} for step in STEPS]


def test_others_a_closed_task_and_a_missing_line_are_refused(client, conn, task) -> None:
    assert _tick(client, task, 0, True, task["stranger"]).status_code == 404
    assert _tick(client, task, 0, True, task["planner"]).status_code == 403
    missing = _tick(client, task, 3, True, task["member"])
    assert missing.status_code == 422 and "không có việc số 4" in missing.json()["message"]
    assert _tick(client, task, 100, True, task["member"]).status_code == 422  # beyond any checklist: the schema's
    version = task["version"]
    for to in ("in_progress", "completed"):
        moved = client.post(
            f"/api/tasks/{task['id']}/transitions", json={"to": to, "version": version}, headers=task["member"]
        )
        version = moved.json()["version"]
    # Work sent: neither the team nor command ticks any more (command accepts or returns it as it is).
    for headers in (task["member"], None):
        refused = _tick(client, task, 0, True, headers, version)
        assert refused.status_code == 409 and "không đánh dấu danh sách việc được" in refused.json()["message"]
    stored = conn.execute(text("SELECT checklist FROM tasks WHERE id = :t"), {"t": task["id"]}).scalar_one()
    assert [line["done"] for line in stored] == [False] * 3


def test_the_hotspots_card_counts_the_steps_its_task_has_ticked_off(client, task) -> None:
    """The hotspot's card offers its task's acceptance (the map's popup): it says how many steps are ticked off, for
    command to be asked before accepting work with steps open."""
    assert _tick(client, task, 2, True, task["member"]).status_code == 200

    def counts(headers=None) -> tuple[int, int]:
        card = client.get(f"/api/hotspots/{task['hotspot']}", headers=headers).json()["properties"]
        return card["task_steps"], card["task_steps_open"]

    assert counts() == counts(task["member"]) == (3, 2)
    listed = client.get("/api/hotspots", params={"commune": AREA}).json()["features"]
    assert [(f["properties"]["task_steps"], f["properties"]["task_steps_open"]) for f in listed] == [(3, 2)]


def test_a_tick_sent_again_under_its_key_changes_nothing_and_is_not_refused(client, conn, task) -> None:
    """A phone resending a tick it kept without signal, whose first answer was lost, was refused as stale (412) though
    the tick was stored. Sent again under the same Idempotency-Key it answers the task and records nothing more; the
    key with another tick is refused."""
    headers = {**task["member"], "Idempotency-Key": "tick-key-0001"}
    first = _tick(client, task, 0, True, headers)
    assert first.status_code == 200, first.text
    again = _tick(client, task, 0, True, headers)  # at the version it was first sent at: stale by now
    assert again.status_code == 200, again.text
    assert again.json()["version"] == first.json()["version"] and len(again.json()["events"]) == len(
        first.json()["events"]
    )
    other = _tick(client, task, 1, True, headers, first.json()["version"])
    assert other.status_code == 409, other.text
    stored = conn.execute(text("SELECT checklist FROM tasks WHERE id = :t"), {"t": task["id"]}).scalar_one()
    assert [line["done"] for line in stored] == [True, False, False]

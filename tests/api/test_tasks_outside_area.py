"""Tasks a team still holds in a commune an administrator moved to another team's area: the task list, its counts and
the hotspot register mark them (the area valid today, not a change planned for a later day), both lists filter them
(the hotspot register by its newest task), and a team user still sees only its own tasks."""

from datetime import timedelta

import pytest
from conftest import conversion_task

from gis.store.accounts import principal_by_username
from models.vocabulary import local_today

MOVED, KEPT, NEW_TEAMS = "10507", "10525", "10532"


@pytest.fixture
def held(client, conn, make_team, make_user, make_hotspot, bearer) -> dict:
    """Team A answers for MOVED and KEPT and holds a suppression task in MOVED, a conversion task in KEPT and a
    cancelled conversion task in MOVED; team B answers for NEW_TEAMS."""
    teams = {"A": make_team("Tổ A", [MOVED, KEPT]), "B": make_team("Tổ B", [NEW_TEAMS])}
    hotspot = make_hotspot(MOVED)
    assert client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1}).is_success
    suppression = client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot, "team_id": teams["A"]})
    command = principal_by_username(conn, "test-command")
    year = local_today().year
    canceled = conversion_task(conn, command, MOVED, year - 1, teams["A"])
    version = client.get(f"/api/tasks/{canceled}").json()["version"]
    assert client.post(
        f"/api/tasks/{canceled}/transitions", json={"to": "canceled", "version": version, "note": "Trùng kế hoạch"}
    ).is_success
    return {
        "teams": teams,
        "hotspot": hotspot,
        "moved": suppression.json()["id"],
        "kept": conversion_task(conn, command, KEPT, year, teams["A"]),
        "canceled": canceled,
        "admin": bearer(make_user("quan-tri", "admin")),
        "team_a": bearer(make_user("to-a", "team", teams["A"])),
        "team_b": bearer(make_user("to-b", "team", teams["B"])),
    }


def move_commune(client, held: dict, valid_from) -> None:
    """MOVED leaves team A's area for team B's from ``valid_from``."""
    for team, communes in (("A", [KEPT]), ("B", [NEW_TEAMS, MOVED])):
        changed = client.put(
            f"/api/teams/{held['teams'][team]}/area",
            json={"communes": communes, "valid_from": str(valid_from)},
            headers=held["admin"],
        )
        assert changed.status_code == 200, changed.text


def marked(client, **params) -> dict[int, bool]:
    """The listed tasks' ids and their mark."""
    return {t["id"]: t["outside_team_area"] for t in client.get("/api/tasks", params=params).json()["tasks"]}


def hotspots(client, headers: dict | None = None, **params) -> list[int]:
    """The ids of the hotspots listed."""
    answer = client.get("/api/hotspots", params=params, headers=headers or {})
    assert answer.status_code == 200, answer.text
    return [f["id"] for f in answer.json()["features"]]


def test_a_planned_area_change_marks_nothing_yet(client, held) -> None:
    move_commune(client, held, local_today() + timedelta(days=1))
    assert marked(client) == {held["moved"]: False, held["kept"]: False, held["canceled"]: False}
    assert marked(client, outside_area=True) == {}
    assert hotspots(client, outside_area=True) == []
    assert client.get("/api/tasks/counts").json()["outside_area"] == 0


def test_a_task_held_in_a_commune_moved_today_is_marked_and_filtered(client, held) -> None:
    move_commune(client, held, local_today())
    # The cancelled task is no team's work any more; the conversion task lies inside the team's area.
    assert marked(client) == {held["moved"]: True, held["kept"]: False, held["canceled"]: False}
    assert marked(client, outside_area=True) == {held["moved"]: True}
    assert marked(client, outside_area=False) == {held["kept"]: False, held["canceled"]: False}
    assert marked(client, outside_area=True, kind="conversion") == {}
    counts = client.get("/api/tasks/counts").json()
    assert (counts["outside_area"], counts["total"]) == (1, 3)
    assert client.get("/api/tasks/counts", params={"outside_area": True}).json()["total"] == 1
    assert client.get(f"/api/tasks/{held['moved']}").json()["outside_team_area"] is True
    hotspot = client.get(f"/api/hotspots/{held['hotspot']}").json()["properties"]
    assert (hotspot["task_team"], hotspot["task_outside_team_area"]) == ("Tổ A", True)
    listed = client.get("/api/hotspots").json()["features"]
    assert [f["properties"]["task_outside_team_area"] for f in listed if f["id"] == held["hotspot"]] == [True]
    # The reassignment offers the commune's team now (B), the old team no longer covers it.
    suggested = client.get("/api/tasks/suggest-assignee", params={"hotspot_id": held["hotspot"]}).json()
    assert [c["team_id"] for c in suggested["candidates"]] == [held["teams"]["B"]]


def test_the_hotspot_register_lists_those_whose_newest_task_is_held_outside_its_teams_area(
    client, held, make_hotspot
) -> None:
    """The hotspot register filters as the task register does, by the hotspot's newest suppression task, alongside
    its other filters; a team never filters by another team's task."""
    untasked = make_hotspot(KEPT)
    move_commune(client, held, local_today())
    assert hotspots(client, outside_area=True) == [held["hotspot"]]
    others = hotspots(client, outside_area=False)
    assert untasked in others and held["hotspot"] not in others
    assert hotspots(client, outside_area=True, status="detected") == []  # the hotspot is verified
    assert hotspots(client, outside_area=True, team=held["teams"]["B"]) == []
    # The commune's new team sees the hotspot, not the old team's task on it.
    assert hotspots(client, held["team_b"], outside_area=True) == []
    assert held["hotspot"] in hotspots(client, held["team_b"], outside_area=False)
    refused = client.get("/api/hotspots", params={"outside_area": "có"})
    assert refused.status_code == 422 and "ngoài địa bàn hiện tại của tổ" in refused.json()["message"]


def test_each_team_still_sees_only_its_own_tasks(client, held) -> None:
    move_commune(client, held, local_today())
    own = client.get("/api/tasks", params={"outside_area": True}, headers=held["team_a"]).json()["tasks"]
    assert [(t["id"], t["outside_team_area"]) for t in own] == [(held["moved"], True)]
    # The commune's new team does not see the old team's task, filtered or not (command gives it over).
    assert client.get("/api/tasks", params={"outside_area": True}, headers=held["team_b"]).json()["tasks"] == []
    assert client.get("/api/tasks/counts", headers=held["team_b"]).json()["outside_area"] == 0
    hotspot = client.get(f"/api/hotspots/{held['hotspot']}", headers=held["team_b"]).json()["properties"]
    assert (hotspot["task_id"], hotspot["task_outside_team_area"]) == (None, False)


def test_the_mark_goes_once_command_gives_the_task_to_the_communes_team(client, held) -> None:
    move_commune(client, held, local_today())
    task = client.get(f"/api/tasks/{held['moved']}").json()
    given = client.post(
        f"/api/tasks/{task['id']}/assignment",
        json={"team_id": held["teams"]["B"], "version": task["version"], "note": "xã đã chuyển sang Tổ B"},
    )
    assert given.status_code == 200, given.text
    assert given.json()["outside_team_area"] is False
    assert marked(client, outside_area=True) == {}
    assert hotspots(client, outside_area=True) == []

"""The command page's registers: hotspots and tasks filtered by status, commune, team, overdue and waiting for
acceptance, each with exactly the actions the logged-in user may take now."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from gis.store.accounts import principal_by_username
from gis.store.tasks import record_task_event
from models.vocabulary import local_today

AREA, OTHER = "10507", "10525"


@pytest.fixture
def register(client, make_team, make_hotspot, make_user, bearer) -> dict:
    """Three hotspots: one detected, one verified with an overdue task of team A, one with team B's completed task."""
    teams = {"A": make_team("Tổ A", [AREA]), "B": make_team("Tổ B", [OTHER])}
    team_b = bearer(make_user("to-b", "team", teams["B"]))
    detected, late, done = make_hotspot(AREA), make_hotspot(AREA), make_hotspot(OTHER)
    for hotspot in (late, done):
        assert client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1}).is_success
    overdue = str(local_today() - timedelta(days=3))  # Hải Phòng's today, as the server counts
    late_task = client.post(
        "/api/tasks", json={"kind": "suppression", "hotspot_id": late, "team_id": teams["A"], "due_date": overdue}
    ).json()
    done_task = client.post(
        "/api/tasks", json={"kind": "suppression", "hotspot_id": done, "team_id": teams["B"]}
    ).json()
    version = done_task["version"]
    for to in ("in_progress", "completed"):
        moved = client.post(
            f"/api/tasks/{done_task['id']}/transitions", json={"to": to, "version": version}, headers=team_b
        )
        version = moved.json()["version"]
    return {
        "teams": teams,
        "team_b": team_b,
        "hotspots": {"detected": detected, "late": late, "done": done},
        "tasks": {"late": late_task["id"], "done": done_task["id"]},
    }


def ids(answer: dict) -> list[int]:
    return sorted(f["id"] for f in answer["features"])


def test_hotspot_register_filters(client, register) -> None:
    h, teams = register["hotspots"], register["teams"]
    assert ids(client.get("/api/hotspots", params={"team": teams["A"]}).json()) == [h["late"]]
    assert ids(client.get("/api/hotspots", params={"task_state": "completed"}).json()) == [h["done"]]
    assert ids(client.get("/api/hotspots", params={"overdue": True}).json()) == [h["late"]]
    assert ids(client.get("/api/hotspots", params={"overdue": False}).json()) == [h["detected"], h["done"]]
    assert ids(client.get("/api/hotspots", params={"status": "detected", "commune": AREA}).json()) == [h["detected"]]
    assert client.get("/api/hotspots", params={"task_state": "nonsense"}).status_code == 422


def test_hotspots_carry_their_task_and_the_actions_of_the_user(client, register, make_user, bearer) -> None:
    listed = {f["id"]: f["properties"] for f in client.get("/api/hotspots").json()["features"]}
    detected, late, done = (listed[register["hotspots"][k]] for k in ("detected", "late", "done"))
    assert [a["to"] for a in detected["actions"]] == ["verified", "dismissed"] and not detected["may_open_task"]
    assert (late["task_state"], late["task_team"], late["task_overdue_days"]) == ("assigned", "Tổ A", 3)
    assert late["actions"] == [] and [a["to"] for a in late["task_actions"]] == ["canceled"]
    assert done["task_state"] == "completed" and done["status"] == "suppressing"
    assert done["task_actions"] == [
        {"to": "accepted", "note_required": False},
        {"to": "returned", "note_required": True},
        {"to": "canceled", "note_required": True},
    ]
    planner = bearer(make_user("tm", "planner"))
    as_planner = client.get("/api/hotspots", headers=planner).json()["features"]
    assert all(not f["properties"]["actions"] and not f["properties"]["task_actions"] for f in as_planner)
    seen_by_b = client.get(f"/api/hotspots/{register['hotspots']['done']}", headers=register["team_b"]).json()
    assert seen_by_b["properties"]["task_actions"] == []  # the team waits for command's acceptance


def test_task_register_filters_and_places(client, register) -> None:
    tasks = client.get("/api/tasks", params={"commune": OTHER}).json()["tasks"]
    assert [t["id"] for t in tasks] == [register["tasks"]["done"]]
    assert tasks[0]["lon"] and tasks[0]["lat"] and tasks[0]["hotspot_status"] == "suppressing"
    by_hotspot = client.get("/api/tasks", params={"hotspot": register["hotspots"]["late"]}).json()
    assert [t["id"] for t in by_hotspot["tasks"]] == [register["tasks"]["late"]]
    awaiting = client.get("/api/tasks", params={"state": "completed"}).json()
    assert awaiting["numberMatched"] == 1


def test_command_reads_the_teams_to_filter_by(client, register) -> None:
    assert {t["name"] for t in client.get("/api/teams").json()} == {"Tổ A", "Tổ B"}


def test_a_monitored_hotspot_says_until_when_before_it_may_be_closed(client, register) -> None:
    """Accepted, eradicated, kept clean: the card has no close button for DIABAN_MONITORING_DAYS (180 by default), and
    says why and until when; the other statuses have nothing waiting to be closed."""
    hotspot, task = register["hotspots"]["done"], register["tasks"]["done"]
    version = client.get(f"/api/tasks/{task}").json()["version"]
    assert client.post(f"/api/tasks/{task}/transitions", json={"to": "accepted", "version": version}).is_success
    card = client.get(f"/api/hotspots/{hotspot}").json()["properties"]
    assert card["closing_waits"] == []  # suppressing: closing is no step yet
    for to, note in (("eradicated", "bắt giữ, niêm phong"), ("monitoring", "")):
        moved = client.post(
            f"/api/hotspots/{hotspot}/transitions", json={"to": to, "note": note, "version": card["version"]}
        )
        assert moved.is_success, moved.text
        card = client.get(f"/api/hotspots/{hotspot}").json()["properties"]
    ends = local_today() + timedelta(days=180)
    assert card["status"] == "monitoring" and card["actions"] == []
    assert card["closing_waits"] == [f"thời gian theo dõi 180 ngày kéo dài đến {ends:%d/%m/%Y}"]
    listed = {f["id"]: f["properties"] for f in client.get("/api/hotspots").json()["features"]}
    assert listed[hotspot]["closing_waits"] == card["closing_waits"]  # the register's card says the same
    assert listed[register["hotspots"]["detected"]]["closing_waits"] == []


def test_the_inbox_says_what_still_waits_for_command(client, register, make_user, bearer) -> None:
    """Work completed waits until command accepts or returns it, a team's note until command answers or acts on the
    task, a declined task until the hotspot has a new task: the page counted every decline and every note for ever."""
    team_a, team_b = bearer(make_user("to-a", "team", register["teams"]["A"])), register["team_b"]
    done, late = register["tasks"]["done"], register["tasks"]["late"]

    def waiting() -> list[tuple[int, str, str | None]]:
        events = client.get("/api/inbox").json()["events"]
        return [(e["task_id"], e["event"], e["to_state"]) for e in events if e["awaiting_command"]]

    assert waiting() == [(done, "transition", "completed")]
    assert client.post(f"/api/tasks/{done}/comments", json={"note": "Đã niêm phong"}, headers=team_b).is_success
    assert waiting() == [(done, "comment", None), (done, "transition", "completed")]
    version = client.get(f"/api/tasks/{done}").json()["version"]
    returned = client.post(
        f"/api/tasks/{done}/transitions", json={"to": "returned", "note": "Thiếu ảnh", "version": version}
    )
    assert returned.is_success and waiting() == []  # answered: the note and the work
    version = returned.json()["version"]
    for to in ("in_progress", "completed"):
        moved = client.post(f"/api/tasks/{done}/transitions", json={"to": to, "version": version}, headers=team_b)
        version = moved.json()["version"]
    assert waiting() == [(done, "transition", "completed")]  # the work sent again, once
    version = client.post(f"/api/tasks/{done}/transitions", json={"to": "accepted", "version": version}).json()[
        "version"
    ]
    thanks = client.post(f"/api/tasks/{done}/comments", json={"note": "Cảm ơn"}, headers=team_b)
    assert thanks.status_code == 409 and waiting() == []  # accepted: no more notes (test_closed_task_notes.py)

    declined = client.post(
        f"/api/tasks/{late}/transitions", json={"to": "declined", "note": "Thiếu người", "version": 2}, headers=team_a
    )
    assert declined.is_success and waiting()[0] == (late, "transition", "declined")
    again = client.post(
        "/api/tasks",
        json={"kind": "suppression", "hotspot_id": register["hotspots"]["late"], "team_id": register["teams"]["B"]},
    )
    assert again.status_code == 201 and waiting() == []
    assert all(e["awaiting_command"] is None for e in client.get("/api/inbox", headers=team_a).json()["events"])


def test_the_inbox_lists_events_by_the_time_they_happened(client, conn, register) -> None:
    """«mới nhất trước»: work recorded afterwards at its own time (as the demo replays its history) came before events
    that happened later, as the inbox was listed by the order of recording (the event's id)."""
    done, late = register["tasks"]["done"], register["tasks"]["late"]
    team_b = conn.execute(text("SELECT team_id FROM tasks WHERE id = :t"), {"t": done}).scalar_one()
    writer = principal_by_username(conn, "to-b")
    earlier = conn.execute(text("SELECT min(at) FROM task_events WHERE task_id = :t"), {"t": late}).scalar_one()
    # Recorded now, at a time before every other event: a note of team B's, on a task of its own.
    record_task_event(
        conn, done, writer, team_b, "comment", note="ghi lại việc tuần trước", at=earlier - timedelta(days=7)
    )
    events = client.get("/api/inbox").json()["events"]
    times = [e["at"] for e in events]
    assert len(events) >= 2 and times == sorted(times, reverse=True), events
    assert events[-1]["note"] == "ghi lại việc tuần trước"


def test_the_team_hears_that_its_work_was_accepted(client, register) -> None:
    """Command accepts the team's finished work: the team's inbox said nothing of it (work given, returned, cancelled
    only). The acceptance reaches the team, with command's note; a return for rework already did."""
    team_b, done = register["team_b"], register["tasks"]["done"]
    version = client.get(f"/api/tasks/{done}").json()["version"]
    accepted = client.post(f"/api/tasks/{done}/transitions", json={"to": "accepted", "note": "Đạt", "version": version})
    assert accepted.is_success, accepted.text
    heard = [
        (e["task_id"], e["to_state"], e["note"]) for e in client.get("/api/inbox", headers=team_b).json()["events"]
    ]
    assert heard[0] == (done, "accepted", "Đạt")


def test_the_inbox_names_the_team_of_each_event(client, register, make_user, bearer) -> None:
    """Command's inbox named the user who wrote («to-b») and not the team: each event carries the actor's team; a
    team's inbox names no team it may not see, nor command's (of no team)."""
    team_a, team_b, done = (
        bearer(make_user("to-a", "team", register["teams"]["A"])),
        register["team_b"],
        register["tasks"]["done"],
    )
    assert client.post(f"/api/tasks/{done}/comments", json={"note": "Đã niêm phong"}, headers=team_b).is_success
    events = client.get("/api/inbox").json()["events"]
    assert {(e["actor"], e["actor_team"]) for e in events if e["task_id"] == done} == {("to-b", "Tổ B")}
    assert client.post(f"/api/tasks/{done}/comments", json={"note": "Đã xem"}).is_success
    assert [e["actor_team"] for e in client.get("/api/inbox", headers=team_b).json()["events"]] == [None, None]
    seen_by_a = client.get("/api/inbox", headers=team_a).json()["events"]
    assert seen_by_a and all(e["actor_team"] is None for e in seen_by_a), seen_by_a  # an empty inbox proved nothing


def test_a_hotspots_card_carries_its_lineage(client, conn, register) -> None:
    """The card's `lineage` (merges and splits the hotspot took part in): the service built it, and the response model,
    which did not declare it, dropped it from every answer."""
    h = register["hotspots"]
    conn.execute(
        text("INSERT INTO hotspot_lineage (kind, parent_id, child_id) VALUES ('merge', :parent, :child)"),
        {"parent": h["detected"], "child": h["late"]},
    )
    for hotspot in (h["detected"], h["late"]):
        lineage = client.get(f"/api/hotspots/{hotspot}").json()["properties"]["lineage"]
        assert [(x["kind"], x["parent_id"], x["child_id"]) for x in lineage] == [("merge", h["detected"], h["late"])]
    assert client.get(f"/api/hotspots/{h['done']}").json()["properties"]["lineage"] == []


def test_the_register_names_the_team_holding_the_open_task_not_that_of_a_cancelled_one(client, register) -> None:
    """The register's «Tổ» named the team of the newest task even once it was cancelled: a hotspot no team works on
    read as still Tổ A's. ``holding_team`` is the team of the newest task while it is open (the rule that lets command
    open a new task, models.domain.coupling.task_still_open); ``task_team`` still names the cancelled task's team
    beside its state on the card."""
    h, tasks = register["hotspots"], register["tasks"]

    def listed() -> dict[int, dict]:
        return {f["id"]: f["properties"] for f in client.get("/api/hotspots").json()["features"]}

    before = listed()
    assert (before[h["late"]]["holding_team"], before[h["done"]]["holding_team"]) == ("Tổ A", "Tổ B")
    assert before[h["detected"]]["holding_team"] is None
    task = client.get(f"/api/tasks/{tasks['late']}").json()
    moved = client.post(
        f"/api/tasks/{tasks['late']}/transitions", json={"to": "canceled", "version": task["version"], "note": "trùng"}
    )
    assert moved.status_code == 200, moved.text
    after = listed()[h["late"]]
    assert (after["task_state"], after["task_team"], after["holding_team"]) == ("canceled", "Tổ A", None)
    assert after["may_open_task"]
    one = client.get(f"/api/hotspots/{h['late']}").json()["properties"]
    assert (one["task_team"], one["holding_team"]) == ("Tổ A", None)

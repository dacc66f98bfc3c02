"""Tasks over the API: create, assign, work flow, comments, inbox, overdue, suggestion, concurrency, replay."""

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from conftest import bearer_headers, conversion_task, evidence_photo, suppression_task
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from gis.services.tasks import assign_task, create_task, transition_task
from gis.store.accounts import create_team, create_user
from gis.store.scoping import UNRESTRICTED
from gis.store.tasks import replay_task
from models.domain.access import Principal
from models.domain.state_machine import TransitionError
from models.domain.task_lifecycle import TASK_LIFECYCLE
from models.errors import KeyReused, StaleVersion
from models.vocabulary import TASK_OPEN, TaskState, codes

COMMUNE = "10507"


@pytest.fixture
def team(make_team, make_user, bearer) -> dict:
    """A team responsible for COMMUNE, with one logged-in member."""
    team_id = make_team("Tổ Thành Đông", [COMMUNE])
    return {"id": team_id, "headers": bearer(make_user("to-td", "team", team_id))}


def new_task(client, **fields) -> dict:
    """POST /api/tasks as command; assert it was created."""
    response = client.post("/api/tasks", json=fields)
    assert response.status_code == 201, response.json()
    return response.json()


def move(client, task_id: int, to: str, version: int, note: str = "", headers: dict | None = None):
    """POST one task transition."""
    return client.post(
        f"/api/tasks/{task_id}/transitions", json={"to": to, "note": note, "version": version}, headers=headers
    )


def test_suppression_task_assigns_the_hotspot_and_runs_to_acceptance(client, conn, make_hotspot, team) -> None:
    hotspot_id = make_hotspot(COMMUNE)
    client.post(f"/api/hotspots/{hotspot_id}/transitions", json={"to": "verified", "version": 1})
    task = new_task(
        client,
        kind="suppression",
        hotspot_id=hotspot_id,
        team_id=team["id"],
        priority="high",
        due_date=str(date.today() + timedelta(days=7)),
        checklist=[{"item": "lập biên bản"}],
    )
    assert (task["state"], task["version"], task["commune_code"], task["team"]) == (
        "assigned",
        2,
        COMMUNE,
        "Tổ Thành Đông",
    )
    assert task["checklist"] == [{"item": "lập biên bản", "done": False}] and task["overdue_days"] == 0
    assert conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar() == "assigned"
    duplicate = client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot_id})
    assert duplicate.status_code == 409
    # A second open conversion task of a commune and year is refused naming the first, its team and state (the
    # message named neither, and the refused insert used up a task number).
    first = new_task(client, kind="conversion", commune_code=COMMUNE, year=2026, team_id=team["id"])
    again = client.post("/api/tasks", json={"kind": "conversion", "commune_code": COMMUNE, "year": 2026})
    assert again.status_code == 409 and again.json()["message"] == (
        f"xã/phường này năm 2026 đã có nhiệm vụ #{first['id']} đang mở (Tổ Thành Đông, Đã giao): hãy mở nhiệm vụ đó,"
        " hoặc hủy nó trước khi giao nhiệm vụ mới"
    ), again.text
    after = new_task(client, kind="conversion", commune_code=COMMUNE, year=2027)
    assert after["id"] == first["id"] + 1  # no number used up by the refusal

    t, v = task["id"], task["version"]
    carried = []
    for to in ("in_progress", "paused", "in_progress", "completed"):
        response = move(client, t, to, v, headers=team["headers"])
        assert response.status_code == 200, response.json()
        v = response.json()["version"]
        carried.append(response.json()["hotspot_status"])
    assert carried == ["suppressing", None, None, None]  # starting the work moved the hotspot, nothing else did
    assert move(client, t, "accepted", v, headers=team["headers"]).status_code == 403
    no_comment = move(client, t, "returned", v)
    assert no_comment.status_code == 422 and "comment" in no_comment.json()["detail"]
    v = move(client, t, "returned", v, "thiếu ảnh hiện trường").json()["version"]
    v = move(client, t, "in_progress", v, headers=team["headers"]).json()["version"]
    v = move(client, t, "completed", v, headers=team["headers"]).json()["version"]
    assert move(client, t, "accepted", v).json() == {
        "id": t,
        "state": "accepted",
        "version": v + 1,
        "hotspot_status": None,
    }
    assert conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar() == (
        "suppressing"  # accepted: command may now record eradicated
    )

    detail = client.get(f"/api/tasks/{t}").json()
    assert [e["to_state"] for e in detail["events"] if e["event"] == "transition"] == [
        "assigned",
        "in_progress",
        "paused",
        "in_progress",
        "completed",
        "returned",
        "in_progress",
        "completed",
        "accepted",
    ]
    assert detail["events"][0]["event"] == "created" and detail["allowed"] == []
    assert replay_task(conn, t) == "accepted"


def test_not_allowed_names_only_the_moves_of_the_users_role(client, team) -> None:
    """A refused task move names what this user's role may ask for from the state (a note it needs aside): the team
    was offered «Đã hủy», which only command may do."""
    task = new_task(client, kind="conversion", commune_code=COMMUNE, year=2031, team_id=team["id"])
    assert move(client, task["id"], "in_progress", 2, headers=team["headers"]).status_code == 200
    again = move(client, task["id"], "in_progress", 3, headers=team["headers"])
    assert again.status_code == 409 and again.json()["allowed"] == ["paused", "completed"]
    assert again.json()["message"].endswith("được phép: «Tạm dừng», «Đã hoàn thành, chờ nghiệm thu»")
    by_command = move(client, task["id"], "accepted", 3)
    assert by_command.status_code == 409 and by_command.json()["allowed"] == ["canceled"]
    assert move(client, task["id"], "completed", 3, headers=team["headers"]).status_code == 200
    waiting = move(client, task["id"], "completed", 4, headers=team["headers"])
    assert waiting.status_code == 409 and waiting.json()["allowed"] == []
    assert "không có (bạn không chuyển trực tiếp được từ trạng thái này)" in waiting.json()["message"]
    assert move(client, task["id"], "returned", 4, headers=None).status_code == 422  # command's, with its comment
    assert move(client, task["id"], "accepted", 4).status_code == 200
    ended = move(client, task["id"], "canceled", 5)
    assert ended.status_code == 409 and "được phép: không có (trạng thái cuối)" in ended.json()["message"]


def test_conversion_task_needs_commune_and_year_and_decline_needs_a_reason(client, team) -> None:
    assert client.post("/api/tasks", json={"kind": "conversion", "commune_code": COMMUNE}).status_code == 422
    assert (
        client.post("/api/tasks", json={"kind": "conversion", "commune_code": "99999", "year": 2025}).status_code == 404
    )
    task = new_task(client, kind="conversion", commune_code=COMMUNE, year=2025, team_id=team["id"])
    assert move(client, task["id"], "declined", task["version"], headers=team["headers"]).status_code == 422
    declined = move(client, task["id"], "declined", task["version"], "ngoài khả năng của tổ", headers=team["headers"])
    assert declined.status_code == 200
    assert new_task(client, kind="conversion", commune_code=COMMUNE, year=2025)["state"] == "unassigned"


def test_overdue_is_computed_and_filterable(client, team) -> None:
    late = new_task(
        client,
        kind="conversion",
        commune_code=COMMUNE,
        year=2024,
        team_id=team["id"],
        due_date=str(date.today() - timedelta(days=10)),
    )
    new_task(client, kind="conversion", commune_code=COMMUNE, year=2025, team_id=team["id"])
    assert 9 <= late["overdue_days"] <= 11  # the server's date is Hải Phòng's
    overdue = client.get("/api/tasks", params={"overdue": True}).json()
    assert [t["id"] for t in overdue["tasks"]] == [late["id"]] and overdue["numberMatched"] == 1
    assert client.get("/api/tasks", params={"overdue": False}).json()["numberMatched"] == 1
    assert (
        client.get("/api/tasks", params={"state": "assigned", "kind": "conversion", "team": team["id"]}).json()[
            "numberMatched"
        ]
        == 2
    )


def list_total(client, headers: dict, flt: dict, **more: object) -> int:
    """The list's ``numberMatched`` for a filter with more conditions, as the user of ``headers`` reads it."""
    return client.get("/api/tasks", params={**flt, **more, "limit": 1}, headers=headers).json()["numberMatched"]


def test_counts_are_the_lists_totals_for_every_filter_and_role(client, team, make_team, make_user, bearer) -> None:
    other = make_team("Tổ Đông Hải", ["10525"])
    late = str(date.today() - timedelta(days=5))
    for commune, team_id, years in ((COMMUNE, team["id"], (2022, 2023, 2024)), ("10525", other, (2023, 2024))):
        for year in years:
            new_task(client, kind="conversion", commune_code=commune, year=year, team_id=team_id, due_date=late)
    new_task(client, kind="conversion", commune_code=COMMUNE, year=2025)  # unassigned
    worked = client.get("/api/tasks", params={"commune": COMMUNE, "state": "assigned"}).json()["tasks"]
    started = move(client, worked[0]["id"], "in_progress", worked[0]["version"], headers=team["headers"]).json()
    assert move(client, started["id"], "completed", started["version"], "xong", team["headers"]).status_code == 200
    move(client, worked[1]["id"], "in_progress", worked[1]["version"], headers=team["headers"])
    readers = {
        "command": client.headers,
        "planner": bearer(make_user("tham-muu", "planner")),
        "team": team["headers"],
        "other team": bearer(make_user("to-dh", "team", other)),
    }
    filters = [
        {},
        {"kind": "conversion"},
        {"kind": "suppression"},
        {"team": team["id"]},
        {"commune": "10525"},
        {"overdue": True},
        {"overdue": False},
        {"state": "assigned"},
    ]
    seen = {}
    for role, headers in readers.items():
        for flt in filters:
            counts = client.get("/api/tasks/counts", params=flt, headers=headers)
            assert counts.status_code == 200, counts.json()
            counts = counts.json()
            total = functools.partial(list_total, client, headers, flt)
            assert counts["total"] == total(), (role, flt)
            # A condition the filter already sets is not asked again: the list takes one value per parameter.
            overdue = total(overdue=True) if "overdue" not in flt else total() if flt["overdue"] else 0
            assert counts["overdue"] == overdue, (role, flt)
            by_state = {s: total(state=s) if flt.get("state", s) == s else 0 for s in counts["by_state"]}
            assert counts["by_state"] == by_state, (role, flt)
            assert counts["open"] == sum(counts["by_state"][s] for s in codes(TASK_OPEN)), (role, flt)
        seen[role] = client.get("/api/tasks/counts", headers=headers).json()
    assert len(seen["command"]["by_state"]) == len(TaskState)
    assert (seen["command"]["total"], seen["command"]["overdue"], seen["command"]["open"]) == (6, 4, 4)
    assert seen["command"]["by_state"]["completed"] == 1 and seen["command"]["by_state"]["unassigned"] == 1
    # A team counts only its own area's tasks: the unassigned one in its commune, none of the other team's.
    assert (seen["team"]["total"], seen["team"]["open"], seen["team"]["overdue"]) == (4, 2, 2)
    assert (seen["other team"]["total"], seen["other team"]["overdue"]) == (2, 2)


def test_mine_inbox_and_comments(client, team, make_user, bearer) -> None:
    task = new_task(client, kind="conversion", commune_code=COMMUNE, year=2025, team_id=team["id"])
    assert [t["id"] for t in client.get("/api/tasks/mine", headers=team["headers"]).json()["tasks"]] == [task["id"]]
    assert client.get("/api/tasks/mine").status_code == 403  # command has no team
    client.post(f"/api/tasks/{task['id']}/comments", json={"note": "ưu tiên khu chợ"})
    client.post(f"/api/tasks/{task['id']}/comments", json={"note": "đã nhận"}, headers=team["headers"])
    inbox = client.get("/api/inbox", headers=team["headers"]).json()["events"]
    assert [(e["event"], e["to_state"], e["note"]) for e in inbox] == [
        ("comment", None, "ưu tiên khu chợ"),
        ("transition", "assigned", None),
    ]
    command_inbox = client.get("/api/inbox").json()["events"]
    assert [(e["event"], e["note"]) for e in command_inbox] == [("comment", "đã nhận")]
    assert client.get("/api/inbox", headers=bearer(make_user("tm", "planner"))).status_code == 403


def test_a_comment_sent_again_with_its_key_is_stored_once(client, conn, team, make_user, bearer) -> None:
    """A phone that lost the answer sends the same note again with the same Idempotency-Key: the first comment (and
    photo) is answered and nothing more is stored; the key with another note is refused; keys are per user."""
    task = new_task(client, kind="conversion", commune_code=COMMUNE, year=2025, team_id=team["id"])
    url, keyed = f"/api/tasks/{task['id']}/comments", {**team["headers"], "Idempotency-Key": "k-3f9a1c77"}

    def stored() -> int:
        return conn.execute(
            text("SELECT count(*) FROM task_events WHERE task_id = :id AND event = 'comment'"), {"id": task["id"]}
        ).scalar_one()

    first = client.post(url, json={"note": "đã kiểm tra khu chợ"}, headers=keyed)
    again = client.post(url, json={"note": "đã kiểm tra khu chợ"}, headers=keyed)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert stored() == 1
    other = client.post(url, json={"note": "ghi chú khác"}, headers=keyed)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    colleague = {**bearer(make_user("to-td-2", "team", team["id"])), "Idempotency-Key": "k-3f9a1c77"}
    assert client.post(url, json={"note": "đã kiểm tra khu chợ"}, headers=colleague).json()["id"] != first.json()["id"]
    assert stored() == 2
    malformed = client.post(url, json={"note": "x"}, headers={**keyed, "Idempotency-Key": "short"})
    assert malformed.status_code == 422 and "mã gửi lại" in malformed.json()["message"], malformed.json()
    photo = evidence_photo().content
    sent = [
        client.post(
            f"/api/tasks/{task['id']}/photos",
            files={"photo": ("anh.png", photo, "image/png")},
            data={"note": "niêm phong"},
            headers={**team["headers"], "Idempotency-Key": "anh-0001-a"},
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in sent] == [201, 201] and sent[0].json() == sent[1].json()
    assert stored() == 3
    assert conn.execute(text("SELECT count(*) FROM task_photos WHERE task_id = :id"), {"id": task["id"]}).scalar() == 1


def test_a_key_answers_nothing_of_a_task_taken_away_nor_meets_another_teams_key(
    client, team, make_team, make_user, bearer
) -> None:
    """The team's key sent again after command gave the task to another team: 404 like any task it may not see (not
    the first comment's ids, nor a 409 telling the key was used); the new team's user with the same key stores their
    own note; a key reused on another task of the team is a 409 that quotes no note."""
    task = new_task(client, kind="conversion", commune_code=COMMUNE, year=2025, team_id=team["id"])
    url, keyed = f"/api/tasks/{task['id']}/comments", {**team["headers"], "Idempotency-Key": "k-taken-0001"}
    assert client.post(url, json={"note": "ghi chú riêng của tổ"}, headers=keyed).status_code == 201
    other_task = new_task(client, kind="conversion", commune_code=COMMUNE, year=2026, team_id=team["id"])
    reused = client.post(f"/api/tasks/{other_task['id']}/comments", json={"note": "khác"}, headers=keyed)
    assert reused.status_code == 409 and "ghi chú riêng" not in reused.text
    other = make_team("Tổ nhận lại", [COMMUNE])
    given = client.post(f"/api/tasks/{task['id']}/assignment", json={"team_id": other, "version": task["version"]})
    assert given.status_code == 200, given.text
    again = client.post(url, json={"note": "ghi chú riêng của tổ"}, headers=keyed)
    assert again.status_code == 404 and "ghi chú riêng" not in again.text
    newcomer = {**bearer(make_user("to-nhan-lai", "team", other)), "Idempotency-Key": "k-taken-0001"}
    assert client.post(url, json={"note": "tổ mới đã nhận"}, headers=newcomer).status_code == 201


def test_a_transition_sent_again_with_its_key_answers_the_first(client, conn, team) -> None:
    """A phone taps «Thực hiện», the task starts but the answer is lost; it sends the same move again with the same
    Idempotency-Key (at the version it still holds): the first answer, not 412, and the task moved once. The key with
    another move, or a comment's key, is refused; without a key the stale version is still a 412."""
    task = new_task(client, kind="conversion", commune_code=COMMUNE, year=2025, team_id=team["id"])
    keyed = {**team["headers"], "Idempotency-Key": "chuyen-0001"}
    first = move(client, task["id"], "in_progress", task["version"], "đã đến", headers=keyed)
    again = move(client, task["id"], "in_progress", task["version"], "đã đến", headers=keyed)
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert first.json()["state"] == "in_progress" and first.json()["version"] == task["version"] + 1
    assert [e["to_state"] for e in client.get(f"/api/tasks/{task['id']}").json()["events"]].count("in_progress") == 1
    assert (
        move(client, task["id"], "in_progress", task["version"], "đã đến", headers=team["headers"]).status_code == 412
    )
    other = move(client, task["id"], "paused", first.json()["version"], headers=keyed)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    commented = {**team["headers"], "Idempotency-Key": "ghi-chu-0001"}
    client.post(f"/api/tasks/{task['id']}/comments", json={"note": "đã đến"}, headers=commented)
    assert move(client, task["id"], "paused", first.json()["version"], headers=commented).status_code == 409
    assert conn.execute(text("SELECT version FROM tasks WHERE id = :id"), {"id": task["id"]}).scalar() == 3


def test_a_task_given_and_given_again_with_its_key_answers_the_first(
    client, conn, make_hotspot, team, make_team
) -> None:
    """Command's phone gives a hotspot a task, and later to another team, and loses each answer; each sent again with
    the same Idempotency-Key is answered with the task as given (it was refused: «điểm nóng này «Đã giao xử lý»», then
    412), nothing stored twice; the key with another request is refused, and without a key the refusals stand. So is
    the hotspot's own move (verified) sent again."""
    hotspot = make_hotspot(COMMUNE)
    verify = {"to": "verified", "note": "", "version": 1}
    seen = [
        client.post(f"/api/hotspots/{hotspot}/transitions", json=verify, headers={"Idempotency-Key": "xac-minh-0001"})
        for _ in range(2)
    ]
    assert [r.status_code for r in seen] == [200, 200] and seen[1].json() == seen[0].json()
    assert client.post(f"/api/hotspots/{hotspot}/transitions", json=verify).status_code == 412
    give = {"kind": "suppression", "hotspot_id": hotspot, "team_id": team["id"], "priority": "high"}
    created = [client.post("/api/tasks", json=give, headers={"Idempotency-Key": "giao-viec-0001"}) for _ in range(2)]
    assert [r.status_code for r in created] == [201, 201] and created[1].json()["id"] == created[0].json()["id"]
    assert client.post("/api/tasks", json=give).status_code == 409
    conversion = {"kind": "conversion", "commune_code": COMMUNE, "year": 2025, "team_id": team["id"]}
    assert client.post("/api/tasks", json=conversion, headers={"Idempotency-Key": "giao-viec-0001"}).status_code == 409
    task, other = created[0].json(), make_team("Tổ khác", [COMMUNE])
    again = {"team_id": other, "version": task["version"], "note": "tổ đang giữ bận chuyên án"}
    given = [
        client.post(f"/api/tasks/{task['id']}/assignment", json=again, headers={"Idempotency-Key": "giao-lai-0001"})
        for _ in range(2)
    ]
    assert [r.status_code for r in given] == [200, 200] and given[1].json()["team_id"] == other
    assert client.post(f"/api/tasks/{task['id']}/assignment", json=again).status_code == 412
    elsewhere = {**again, "team_id": team["id"]}
    keyed = {"Idempotency-Key": "giao-lai-0001"}
    assert client.post(f"/api/tasks/{task['id']}/assignment", json=elsewhere, headers=keyed).status_code == 409
    events = conn.execute(
        text("""SELECT event, count(*) FROM task_events WHERE task_id = :t GROUP BY event ORDER BY event"""),
        {"t": task["id"]},
    ).all()
    assert [tuple(e) for e in events] == [("created", 1), ("reassigned", 1), ("transition", 1)]
    statuses = conn.execute(
        text("SELECT to_status FROM hotspot_events WHERE hotspot_id = :h AND event = 'transition' ORDER BY id"),
        {"h": hotspot},
    ).scalars()
    assert list(statuses) == ["verified", "assigned"]


def test_suggestion_prefers_the_covering_team_with_least_open_work(client, make_team, make_user) -> None:
    busy, idle = make_team("Tổ bận", [COMMUNE, "10525"]), make_team("Tổ rảnh", [COMMUNE])
    make_team("Tổ khác", ["10532"])
    make_user("to-ban", "team", busy)
    make_user("to-ranh", "team", idle)
    new_task(client, kind="conversion", commune_code="10525", year=2025, team_id=busy)
    suggestion = client.get("/api/tasks/suggest-assignee", params={"commune": COMMUNE}).json()
    assert suggestion["suggested"]["team_id"] == idle
    assert [(c["name"], c["open_tasks"]) for c in suggestion["candidates"]] == [("Tổ rảnh", 0), ("Tổ bận", 1)]
    assert client.get("/api/tasks/suggest-assignee").status_code == 422


def test_assignment_and_edits_carry_the_version(client, team, make_team) -> None:
    task = new_task(client, kind="conversion", commune_code=COMMUNE, year=2025)
    other = make_team("Tổ khác", ["10525"])
    assigned = client.post(f"/api/tasks/{task['id']}/assignment", json={"team_id": team["id"], "version": 1}).json()
    assert (assigned["state"], assigned["version"]) == ("assigned", 2)
    assert client.post(f"/api/tasks/{task['id']}/assignment", json={"team_id": other, "version": 1}).status_code == 412
    reassigned = client.post(f"/api/tasks/{task['id']}/assignment", json={"team_id": other, "version": 2}).json()
    assert (reassigned["team_id"], reassigned["state"]) == (other, "assigned")
    patched = client.patch(f"/api/tasks/{task['id']}", json={"version": 3, "priority": "urgent"}).json()
    assert (patched["priority"], patched["version"]) == ("urgent", 4)
    assert client.patch(f"/api/tasks/{task['id']}", json={"version": 3, "priority": "low"}).status_code == 412


def test_task_events_are_append_only(client, conn, owner_engine) -> None:
    new_task(client, kind="conversion", commune_code=COMMUNE, year=2025)
    statements = ("UPDATE task_events SET note = 'sửa'", "DELETE FROM task_events", "TRUNCATE task_events")
    for statement in statements:  # the app's role has no such privilege
        with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
            conn.execute(text(statement))
    with owner_engine.connect() as owner:  # and the trigger stops even the owner (TRUNCATE would wait for `conn`)
        for statement in statements[:2]:
            with pytest.raises(DBAPIError, match="append-only"), owner.begin_nested():
                owner.execute(text(statement))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    attempts=st.lists(
        st.tuples(st.booleans(), st.integers(0, 99), st.sampled_from(["", "lý do"]), st.booleans()), max_size=25
    )
)
def test_persisted_task_sequences_stay_declared_and_replay(conn, make_team, attempts) -> None:
    actor = Principal(1, "chihuy", "command")
    with conn.begin_nested() as savepoint:
        team_id = make_team("Tổ P", [COMMUNE])
        task_id = create_task(
            conn,
            actor,
            kind="conversion",
            hotspot_id=None,
            commune_code=COMMUNE,
            year=2025,
            team_id=team_id,
            due_date=None,
            priority="normal",
            checklist=[],
        )
        version, state = 2, "assigned"
        for aimed, pick, note, stale in attempts:
            allowed = TASK_LIFECYCLE.allowed(state)
            options = allowed if aimed and allowed else TASK_LIFECYCLE.states
            try:
                result = transition_task(
                    conn, task_id, options[pick % len(options)], note, version - stale, actor, UNRESTRICTED
                )
                version, state = result["version"], result["state"]
            except (TransitionError, StaleVersion):
                pass  # refused: the checks below prove nothing changed
            stored = conn.execute(text("SELECT state, version FROM tasks WHERE id = :id"), {"id": task_id}).one()
            assert tuple(stored) == (state, version) and state in TASK_LIFECYCLE.states
            assert replay_task(conn, task_id) == state
        savepoint.rollback()


@contextmanager
def committed_task(
    engine: Engine,
    owner_engine: Engine,
    team: str,
    username: str,
    year: int,
    suppression: bool = False,
    given: bool = True,
) -> Iterator[tuple[int, int]]:
    """A conversion task of a new team — ``suppression``: a suppression task of a new verified hotspot instead —,
    assigned to the team (``given``) and committed (for requests racing on their own connections): (task id, id of the
    team's user); removed afterwards with its history (and its hotspot's), which only the owner may delete."""
    hotspot_id = None
    with engine.begin() as conn:
        team_id = create_team(conn, team, [COMMUNE])
        user_id = create_user(conn, username, "không-dùng", "team", team_id)
        command = Principal(user_id, username, "command")
        if suppression:
            hotspot_id = conn.execute(
                text("""
                INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, commune_code, version, centroid)
                SELECT 'verified', 'spot', 'manual', 0, '{}', 150, code, 1, ST_PointOnSurface(geom)
                FROM admin_units WHERE code = :c AND valid_to IS NULL RETURNING id"""),
                {"c": COMMUNE},
            ).scalar_one()
            task_id = suppression_task(conn, command, hotspot_id, team_id if given else None)
        else:
            task_id = conversion_task(conn, command, COMMUNE, year, team_id)
    try:
        yield task_id, user_id
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("ALTER TABLE task_events DISABLE TRIGGER task_events_append_only"))
            conn.execute(text("DELETE FROM task_events WHERE task_id = :id"), {"id": task_id})
            conn.execute(text("ALTER TABLE task_events ENABLE TRIGGER task_events_append_only"))
            conn.execute(text("DELETE FROM tasks WHERE id = :id"), {"id": task_id})
            if hotspot_id is not None:
                conn.execute(text("ALTER TABLE hotspot_events DISABLE TRIGGER hotspot_events_append_only"))
                conn.execute(text("DELETE FROM hotspot_events WHERE hotspot_id = :id"), {"id": hotspot_id})
                conn.execute(text("ALTER TABLE hotspot_events ENABLE TRIGGER hotspot_events_append_only"))
                conn.execute(text("DELETE FROM hotspots WHERE id = :id"), {"id": hotspot_id})
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
            conn.execute(text("DELETE FROM teams WHERE id = :id"), {"id": team_id})


def test_twenty_clients_one_version_exactly_one_wins(engine: Engine, owner_engine: Engine) -> None:
    """20 threads, each with its own connection, move the same task at the same version: one 200, nineteen 412."""
    app = create_app(engine)
    with committed_task(engine, owner_engine, "Tổ đồng thời", "dong-thoi", 1999) as (task_id, user_id):
        with engine.begin() as conn:
            headers = bearer_headers(app, conn, user_id, 5)
        with TestClient(app) as client:
            for to, version in (("in_progress", 2), ("paused", 3)):
                barrier, statuses = threading.Barrier(20), []

                def attempt(
                    to: str = to,
                    version: int = version,
                    barrier: threading.Barrier = barrier,
                    statuses: list = statuses,
                ) -> None:
                    barrier.wait()
                    statuses.append(move(client, task_id, to, version, headers=headers).status_code)

                threads = [threading.Thread(target=attempt) for _ in range(20)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                assert sorted(statuses) == [200] + [412] * 19
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT state, version FROM tasks WHERE id = :id"), {"id": task_id}).one()
            assert tuple(stored) == ("paused", 4) and replay_task(conn, task_id) == "paused"
            assert (
                conn.execute(text("SELECT count(*) FROM task_events WHERE task_id = :id"), {"id": task_id}).scalar()
                == 4
            )  # created, assigned and the two winners


def wait_for_a_lock_wait(watch: Connection) -> None:
    """Return once some session of the test database waits on a lock (the racing request has reached the row or
    key the open transaction holds)."""
    while not watch.execute(
        text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
    ).scalar():
        watch.rollback()  # a new snapshot of the activity each time


def test_a_retry_that_waited_for_its_first_try_is_answered_with_it(engine: Engine, owner_engine: Engine) -> None:
    """A phone's retry of «Thực hiện» arrives while its first try is still being written: it waits for the task's row,
    is refused by the version the first try left (412 without a key), then finds the first try under its key and
    answers with it."""
    with committed_task(engine, owner_engine, "Tổ bấm lại", "bam-lai", 1997) as (task_id, user_id):
        actor = Principal(user_id, "bam-lai", "team")
        answers: list[dict] = []

        def retry() -> None:
            with engine.begin() as conn:
                answers.append(
                    transition_task(conn, task_id, "in_progress", "", 2, actor, UNRESTRICTED, key="k-retry-1")
                )

        with engine.connect() as first, engine.connect() as watch:
            with first.begin():
                answer = transition_task(first, task_id, "in_progress", "", 2, actor, UNRESTRICTED, key="k-retry-1")
                waiting = threading.Thread(target=retry)
                waiting.start()
                wait_for_a_lock_wait(watch)
            waiting.join()
        assert answers == [answer] and answer["version"] == 3
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM tasks WHERE id = :id"), {"id": task_id}).scalar() == 3


def test_one_key_sent_at_once_for_two_tasks_is_refused_for_the_second(engine: Engine, owner_engine: Engine) -> None:
    """A client reusing its key for another task while the first move is still being written: the second passes the
    key check (nothing committed yet), moves its task, then waits on the key's unique index; it is refused (409),
    its move undone, where the unique violation had been a 500."""
    with (
        committed_task(engine, owner_engine, "Tổ một khóa A", "mot-khoa-a", 1995) as (first_task, user_id),
        committed_task(engine, owner_engine, "Tổ một khóa B", "mot-khoa-b", 1996) as (second_task, _),
    ):
        actor = Principal(user_id, "mot-khoa-a", "team")
        refused: list[Exception] = []

        def second() -> None:
            try:
                with engine.begin() as conn:
                    transition_task(conn, second_task, "in_progress", "", 2, actor, UNRESTRICTED, key="k-hai-viec")
            except Exception as error:  # noqa: BLE001 - the test reads what it was
                refused.append(error)

        with engine.connect() as first, engine.connect() as watch:
            with first.begin():
                transition_task(first, first_task, "in_progress", "", 2, actor, UNRESTRICTED, key="k-hai-viec")
                waiting = threading.Thread(target=second)
                waiting.start()
                wait_for_a_lock_wait(watch)
            waiting.join()
        assert [type(error) for error in refused] == [KeyReused], refused
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM tasks WHERE id = :id"), {"id": second_task}).scalar() == 2


@pytest.mark.parametrize(
    ("started", "winner", "loser"),
    [
        (False, ("in_progress", "team"), ("in_progress", "team")),  # a double tap on «Thực hiện», no key
        (True, ("canceled", "command"), ("completed", "team")),  # command cancels while the team completes
    ],
)
def test_the_loser_of_a_race_on_a_suppression_task_is_told_to_reload(
    engine: Engine, owner_engine: Engine, started: bool, winner: tuple[str, str], loser: tuple[str, str]
) -> None:
    """Two moves of one suppression task at the same version: the second waits for the first, then is refused as stale
    (412, «hãy tải lại»). It read the task unlocked and then waited for the hotspot's row, and so paired the task's old
    state with the hotspot's new status: a 409 about the hotspot («cần «Đã giao xử lý»») or the pair's consistency
    («không khớp với điểm nóng»), which the user could do nothing about."""
    with committed_task(engine, owner_engine, "Tổ tranh nhau", "tranh-nhau", 1994, suppression=True) as (
        task_id,
        user_id,
    ):
        actors = {role: Principal(user_id, "tranh-nhau", role) for role in ("team", "command")}
        version = 2
        if started:
            with engine.begin() as conn:
                version = transition_task(conn, task_id, "in_progress", "", 2, actors["team"], UNRESTRICTED)["version"]
        refused: list[Exception] = []

        def second() -> None:
            try:
                with engine.begin() as conn:
                    transition_task(conn, task_id, loser[0], "", version, actors[loser[1]], UNRESTRICTED)
            except Exception as error:  # noqa: BLE001 - the test reads what it was
                refused.append(error)

        with engine.connect() as first, engine.connect() as watch:
            with first.begin():
                transition_task(first, task_id, winner[0], "Trùng kế hoạch", version, actors[winner[1]], UNRESTRICTED)
                waiting = threading.Thread(target=second)
                waiting.start()
                wait_for_a_lock_wait(watch)
            waiting.join()
        assert [type(error) for error in refused] == [StaleVersion], refused
        assert f"nhiệm vụ #{task_id} đã được thay đổi" in refused[0].message and "hãy tải lại" in refused[0].message
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT state, version FROM tasks WHERE id = :id"), {"id": task_id}).one()
            assert tuple(stored) == (winner[0], version + 1) and replay_task(conn, task_id) == winner[0]


def test_the_second_of_two_assignments_at_once_is_told_to_reload(engine: Engine, owner_engine: Engine) -> None:
    """Two commands give one new suppression task to a team at once: the second waits for the first, then is refused as
    stale (412), where it was told that the hotspot is «Đã giao xử lý» and must be verified or recurred (409)."""
    with committed_task(engine, owner_engine, "Tổ giao trùng", "giao-trung", 1993, suppression=True, given=False) as (
        task_id,
        user_id,
    ):
        with engine.connect() as conn:
            team_id = conn.execute(text("SELECT team_id FROM users WHERE id = :id"), {"id": user_id}).scalar_one()
        command = Principal(user_id, "giao-trung", "command")
        refused: list[Exception] = []

        def second() -> None:
            try:
                with engine.begin() as conn:
                    assign_task(conn, task_id, team_id, 1, command)
            except Exception as error:  # noqa: BLE001 - the test reads what it was
                refused.append(error)

        with engine.connect() as first, engine.connect() as watch:
            with first.begin():
                assert assign_task(first, task_id, team_id, 1, command) == 2
                waiting = threading.Thread(target=second)
                waiting.start()
                wait_for_a_lock_wait(watch)
            waiting.join()
        assert [type(error) for error in refused] == [StaleVersion], refused


def test_the_same_comment_sent_at_once_with_one_key_is_stored_once(engine: Engine, owner_engine: Engine) -> None:
    """Ten retries of one note arrive together (a phone's retries racing its first try): each is answered with the
    one comment stored (the unique key waits for the first and gives its row to the others)."""
    app = create_app(engine)
    with committed_task(engine, owner_engine, "Tổ gửi lại", "gui-lai", 1998) as (task_id, user_id):
        with engine.begin() as conn:
            headers = {**bearer_headers(app, conn, user_id, 5), "Idempotency-Key": "dong-thoi-0001"}
        with TestClient(app) as client:
            barrier, answers = threading.Barrier(10), []

            def attempt() -> None:
                barrier.wait()
                response = client.post(f"/api/tasks/{task_id}/comments", json={"note": "đã đến nơi"}, headers=headers)
                answers.append((response.status_code, response.json()["id"]))

            threads = [threading.Thread(target=attempt) for _ in range(10)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT id FROM task_events WHERE task_id = :id AND event = 'comment'"), {"id": task_id}
            ).scalars()
            assert answers == [(201, *stored)] * 10

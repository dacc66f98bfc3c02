"""Hotspot lifecycle over the API: the full walk to closed (through the suppression task), refusals
(403/409/412/422), audit trail and replay."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gis.services.hotspots import transition_hotspot
from gis.store.hotspots import replay_hotspot
from gis.store.scoping import UNRESTRICTED
from models.domain.access import Principal
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE, hotspot_lifecycle
from models.domain.state_machine import TransitionError
from models.errors import StaleVersion

COMMUNE = "10507"
#: The hotspot's statuses on the way to monitoring, the first three carried by its task.
WALK = ["verified", "assigned", "suppressing", "eradicated", "monitoring"]


@pytest.fixture
def field_team(make_team, make_user, bearer) -> dict:
    """A team responsible for COMMUNE and the headers of one of its members."""
    team_id = make_team("Tổ hiện trường", [COMMUNE])
    return {"id": team_id, "headers": bearer(make_user("to-hien-truong", "team", team_id))}


def move(client, hotspot_id: int, to: str, version: int, note: str = "", headers: dict | None = None):
    """POST one transition."""
    return client.post(
        f"/api/hotspots/{hotspot_id}/transitions", json={"to": to, "note": note, "version": version}, headers=headers
    )


def status_of(client, hotspot_id: int) -> tuple[str, int]:
    """The hotspot's status and version as the API shows them."""
    properties = client.get(f"/api/hotspots/{hotspot_id}").json()["properties"]
    return properties["status"], properties["version"]


def suppress(client, hotspot_id: int, team: dict) -> int:
    """Verify a detected hotspot, give it to the team, let the team work, accept the work; return the task id."""
    assert move(client, hotspot_id, "verified", 1).status_code == 200
    task = client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot_id, "team_id": team["id"]})
    assert task.status_code == 201, task.json()
    task_id, version = task.json()["id"], task.json()["version"]
    for to, headers in (("in_progress", team["headers"]), ("completed", team["headers"]), ("accepted", None)):
        response = client.post(
            f"/api/tasks/{task_id}/transitions", json={"to": to, "version": version}, headers=headers
        )
        assert response.status_code == 200, response.json()
        version = response.json()["version"]
    return task_id


def walk_to_monitoring(client, hotspot_id: int, team: dict) -> int:
    """Drive a detected hotspot to monitoring through its task; return its version."""
    suppress(client, hotspot_id, team)
    _, version = status_of(client, hotspot_id)
    for to, note in (("eradicated", "đã triệt phá, bắt 3 đối tượng"), ("monitoring", "")):
        response = move(client, hotspot_id, to, version, note)
        assert response.status_code == 200, response.json()
        assert response.json() == {"id": hotspot_id, "status": to, "version": version + 1}
        version += 1
    return version


def test_walk_from_detected_to_closed_is_audited_and_replayable(client, conn, make_hotspot, field_team) -> None:
    client.app.state.hotspot_machine = hotspot_lifecycle(monitoring_days=0)
    hotspot_id = make_hotspot(COMMUNE)
    version = walk_to_monitoring(client, hotspot_id, field_team)
    closed = move(client, hotspot_id, "closed", version, "loại khỏi danh sách")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    stored = conn.execute(text("SELECT status, version FROM hotspots WHERE id = :id"), {"id": hotspot_id}).one()
    assert tuple(stored) == ("closed", version + 1)
    events = conn.execute(
        text("SELECT actor, from_status, to_status, note FROM hotspot_events WHERE hotspot_id = :id ORDER BY id"),
        {"id": hotspot_id},
    ).all()
    assert [e.to_status for e in events] == [*WALK, "closed"]
    assert [e.actor for e in events] == ["test-command", "test-command", "to-hien-truong", *["test-command"] * 3]
    assert events[3].note.startswith("đã triệt phá")
    assert replay_hotspot(conn, HOTSPOT_LIFECYCLE, hotspot_id) == "closed"


def test_not_allowed_names_the_allowed_states(client, make_hotspot) -> None:
    response = move(client, make_hotspot(COMMUNE), "closed", 1)
    assert response.status_code == 409
    assert response.json()["allowed"] == ["verified", "dismissed"]
    assert "được phép: «Đã xác minh», «Không xác thực, loại bỏ»" in response.json()["detail"]
    assert response.json()["code"] == "transition_not_allowed"


def test_not_allowed_names_only_what_this_user_may_ask_for(client, make_hotspot, field_team) -> None:
    """A refused move names the moves this user may ask for from the status — one that needs more (a note, the task
    accepted) among them —, not those only a task's change or detection makes, nor command's to a team: command was
    offered «Đang đấu tranh» and «Đã xác minh» for an assigned hotspot, and asking for either was then refused (422)."""
    hotspot_id = make_hotspot(COMMUNE)
    assert move(client, hotspot_id, "verified", 1).status_code == 200
    task = client.post(
        "/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot_id, "team_id": field_team["id"]}
    )
    assert task.status_code == 201 and status_of(client, hotspot_id) == ("assigned", 3)
    refused = move(client, hotspot_id, "dismissed", 3)
    assert refused.status_code == 409 and refused.json()["allowed"] == []
    assert "được phép: không có (bạn không chuyển trực tiếp được từ trạng thái này)" in refused.json()["message"]
    started = client.post(
        f"/api/tasks/{task.json()['id']}/transitions",
        json={"to": "in_progress", "version": 2},
        headers=field_team["headers"],
    )
    assert started.status_code == 200 and status_of(client, hotspot_id) == ("suppressing", 4)
    refused = move(client, hotspot_id, "monitoring", 4)
    assert refused.status_code == 409 and refused.json()["allowed"] == ["eradicated"]  # once the task is accepted
    assert refused.json()["message"].endswith("được phép: «Đã triệt xóa»")
    by_team = move(client, hotspot_id, "monitoring", 4, headers=field_team["headers"])
    assert by_team.status_code == 409 and by_team.json()["allowed"] == []
    detected = move(client, make_hotspot(COMMUNE), "monitoring", 1, headers=field_team["headers"])
    assert detected.status_code == 409 and detected.json()["allowed"] == ["verified"]  # dismissing is command's


def test_stale_version_is_412_and_changes_nothing(client, conn, make_hotspot) -> None:
    hotspot_id = make_hotspot(COMMUNE)
    assert move(client, hotspot_id, "verified", 1).status_code == 200
    stale = move(client, hotspot_id, "dismissed", 1)
    assert stale.status_code == 412 and "tải lại" in stale.json()["detail"]
    assert conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar() == "verified"


def test_eradication_needs_an_accepted_task_command_and_a_note(client, make_hotspot, field_team) -> None:
    hotspot_id = make_hotspot(COMMUNE)
    suppress(client, hotspot_id, field_team)
    status, version = status_of(client, hotspot_id)
    assert status == "suppressing"
    response = move(client, hotspot_id, "eradicated", version, "  ")
    assert response.status_code == 422 and "note of what was done" in response.json()["detail"]
    assert move(client, hotspot_id, "eradicated", version, "xong", headers=field_team["headers"]).status_code == 403
    assert move(client, hotspot_id, "eradicated", version, "đã triệt phá").status_code == 200


def test_task_owned_statuses_are_refused_as_direct_requests(client, make_hotspot) -> None:
    hotspot_id = make_hotspot(COMMUNE)
    move(client, hotspot_id, "verified", 1)
    response = move(client, hotspot_id, "assigned", 2)
    assert response.status_code == 422 and "follows the suppression task" in response.json()["detail"]
    assert "trạng thái này đi theo nhiệm vụ" in response.json()["detail"]


def test_closing_waits_for_the_monitoring_period(client, make_hotspot, field_team) -> None:
    hotspot_id = make_hotspot(COMMUNE)
    response = move(client, hotspot_id, "closed", walk_to_monitoring(client, hotspot_id, field_team))
    assert response.status_code == 422 and "180-day monitoring period" in response.json()["detail"]


@pytest.mark.parametrize("footprint", [False, True])
def test_an_incident_in_the_footprint_during_monitoring_blocks_closing(
    client, conn, make_hotspot, field_team, footprint
) -> None:
    client.app.state.hotspot_machine = hotspot_lifecycle(monitoring_days=0)
    hotspot_id = make_hotspot(COMMUNE, radius_m=100)
    if footprint:
        conn.execute(
            text("UPDATE hotspots SET footprint = ST_Buffer(centroid::geography, 300)::geometry WHERE id = :id"),
            {"id": hotspot_id},
        )
    version = walk_to_monitoring(client, hotspot_id, field_team)
    # 200 m from the centroid: outside the 100 m radius, inside the 300 m footprint
    conn.execute(
        text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                         SELECT 'MON-1', now(), 'trafficking', 'inside', commune_code,
                                ST_Project(centroid::geography, 200, 0)::geometry FROM hotspots WHERE id = :id"""),
        {"id": hotspot_id},
    )
    response = move(client, hotspot_id, "closed", version)
    if footprint:
        assert response.status_code == 422 and "incident occurred within the footprint" in response.json()["detail"]
    else:
        assert response.status_code == 200


def test_team_cannot_close_or_dismiss_and_planner_cannot_write(
    client, make_hotspot, make_team, make_user, bearer
) -> None:
    hotspot_id = make_hotspot(COMMUNE)
    team = bearer(make_user("to01", "team", make_team("Tổ 1", [COMMUNE])))
    assert move(client, hotspot_id, "dismissed", 1, headers=team).status_code == 403
    assert move(client, hotspot_id, "verified", 1, headers=bearer(make_user("tm", "planner"))).status_code == 403
    assert move(client, hotspot_id, "verified", 1, headers=team).status_code == 200


def test_hotspot_events_are_append_only(conn, make_hotspot, owner_engine) -> None:
    hotspot_id = make_hotspot(COMMUNE)
    actor = Principal(1, "x", "command")
    transition_hotspot(conn, HOTSPOT_LIFECYCLE, hotspot_id, "verified", "", 1, actor, UNRESTRICTED)
    statements = ("UPDATE hotspot_events SET note = 'sửa'", "DELETE FROM hotspot_events")
    for statement in statements:  # the app's role has no such privilege
        with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
            conn.execute(text(statement))
    with owner_engine.connect() as owner:  # and the trigger stops even the owner
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), owner.begin_nested():
                owner.execute(text(statement))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    attempts=st.lists(
        st.tuples(
            st.booleans(),
            st.integers(0, 99),
            st.sampled_from(["", "đã triệt xóa"]),
            st.sampled_from(["team", "command", "system"]),
            st.booleans(),
        ),
        max_size=25,
    )
)
def test_persisted_hotspot_sequences_stay_declared_and_replay(conn, make_hotspot, attempts) -> None:
    machine = hotspot_lifecycle(monitoring_days=0)
    with conn.begin_nested() as savepoint:
        hotspot_id = make_hotspot(COMMUNE)
        version, status = 1, "detected"
        for aimed, pick, note, role, stale in attempts:
            options = machine.allowed(status) if aimed and machine.allowed(status) else machine.states
            target = options[pick % len(options)]  # aiming at allowed targets keeps the walks deep
            try:
                result = transition_hotspot(
                    conn, machine, hotspot_id, target, note, version - stale, Principal(1, role, role), UNRESTRICTED
                )
                version = result["version"]
            except (TransitionError, StaleVersion):
                pass  # refused: the checks below prove nothing changed
            status, stored_version = conn.execute(
                text("SELECT status, version FROM hotspots WHERE id = :id"), {"id": hotspot_id}
            ).one()
            assert status in machine.states and stored_version == version
            assert replay_hotspot(conn, machine, hotspot_id) == status
        savepoint.rollback()

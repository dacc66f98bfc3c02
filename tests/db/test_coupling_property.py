"""Property: no sequence of page or API actions leaves a task and its hotspot in an inconsistent pair of states.

Command and a team act through the HTTP API on real PostGIS, each request in its own savepoint (as each
request is its own transaction in production). Three steps in four take one of the actions the API offers
either user now (the buttons of the pages: ``actions``, ``task_actions``, ``may_open_task``), which keeps the
walks deep; the others are arbitrary attempts by command, the team or detection (any target, sometimes a stale
version). Detection's recurrence is played by the lifecycle's system role.
After every step the stored hotspot and its suppression tasks must satisfy ``models.domain.coupling.consistent``
and replay from their event histories.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import bearer_headers, examples, requests_in_savepoints
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, text

from api.app import create_app
from gis.services.hotspots import transition_hotspot
from gis.store.hotspots import replay_hotspot, suppression_task_states
from gis.store.scoping import UNRESTRICTED
from gis.store.tasks import replay_task
from models.domain.access import Principal
from models.domain.coupling import consistent
from models.domain.hotspot_lifecycle import SYSTEM_ROLE, hotspot_lifecycle
from models.domain.state_machine import TransitionError
from models.domain.task_lifecycle import TASK_LIFECYCLE
from models.vocabulary import HotspotStatus

COMMUNE = "10507"
MACHINE = hotspot_lifecycle(0)
#: Who acts at a step: command and the team mostly, detection now and then.
ROLES = ("command", "team", "command", "team", "system")


@pytest.fixture
def api(engine: Engine, conn: Connection, make_user, make_team) -> Iterator[dict]:
    """The app on the test's transaction, one savepoint per request; a command user and a team covering COMMUNE."""
    app = create_app(engine)
    app.state.hotspot_machine = MACHINE

    requests_in_savepoints(app, conn)
    team_id = make_team("Tổ thuộc tính", [COMMUNE])
    users = {"command": make_user("prop-command", "command"), "team": make_user("prop-team", "team", team_id)}
    with TestClient(app) as client:
        yield {
            "client": client,
            "team_id": team_id,
            "headers": {role: bearer_headers(app, conn, user) for role, user in users.items()},
        }


def offered(api: dict, role: str, hotspot_id: int) -> list[tuple[str, str, dict]]:
    """The requests the API offers the role for this hotspot now: (method, path, body)."""
    shown = api["client"].get(f"/api/hotspots/{hotspot_id}", headers=api["headers"][role])
    if shown.status_code != 200:
        return []
    p = shown.json()["properties"]
    options = [
        ("POST", f"/api/hotspots/{hotspot_id}/transitions", {"to": a["to"], "note": "ghi chú", "version": p["version"]})
        for a in p["actions"]
    ]
    options += [
        (
            "POST",
            f"/api/tasks/{p['task_id']}/transitions",
            {"to": a["to"], "note": "ghi chú", "version": p["task_version"]},
        )
        for a in p["task_actions"]
    ]
    if p["may_open_task"]:
        body = {"kind": "suppression", "hotspot_id": hotspot_id}
        options += [("POST", "/api/tasks", body), ("POST", "/api/tasks", {**body, "team_id": api["team_id"]})]
    if role == "command" and p["task_state"] == "unassigned":
        assignment = {"team_id": api["team_id"], "version": p["task_version"]}
        options.append(("POST", f"/api/tasks/{p['task_id']}/assignment", assignment))
    return options


def arbitrary(conn: Connection, api: dict, hotspot_id: int, pick: int, note: str, stale: bool) -> tuple[str, str, dict]:
    """Any request on the hotspot or its newest task, whatever its state (most will be refused)."""
    hotspot_version = conn.execute(text("SELECT version FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar()
    task = conn.execute(
        text("SELECT id, version FROM tasks WHERE hotspot_id = :id ORDER BY id DESC LIMIT 1"), {"id": hotspot_id}
    ).first()
    what = pick % 4
    if what == 0 or task is None:
        target = MACHINE.states[pick // 4 % len(MACHINE.states)]
        return (
            "POST",
            f"/api/hotspots/{hotspot_id}/transitions",
            {"to": target, "note": note, "version": hotspot_version - stale},
        )
    if what == 1:
        target = TASK_LIFECYCLE.states[pick // 4 % len(TASK_LIFECYCLE.states)]
        return (
            "POST",
            f"/api/tasks/{task.id}/transitions",
            {"to": target, "note": note, "version": task.version - stale},
        )
    if what == 2:
        return "POST", f"/api/tasks/{task.id}/assignment", {"team_id": api["team_id"], "version": task.version - stale}
    return "POST", "/api/tasks", {"kind": "suppression", "hotspot_id": hotspot_id, "team_id": api["team_id"]}


def detection_recurs(conn: Connection, hotspot_id: int) -> None:
    """What detection does on a new cluster beside a cleared hotspot: a recurrence, if the lifecycle allows it."""
    version = conn.execute(text("SELECT version FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar()
    try:
        with conn.begin_nested():
            system = Principal(0, "detection", SYSTEM_ROLE)
            transition_hotspot(conn, MACHINE, hotspot_id, "recurred", "", version, system, UNRESTRICTED)
    except TransitionError:
        pass


@settings(max_examples=examples(20, 80), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(
            st.integers(0, 3).map(bool), st.sampled_from(ROLES), st.integers(0, 999), st.booleans(), st.booleans()
        ),
        min_size=5,
        max_size=40,
    )
)
def test_no_sequence_of_api_actions_leaves_an_inconsistent_pair(conn, api, make_hotspot, steps) -> None:
    with conn.begin_nested() as example:
        hotspot_id = make_hotspot(COMMUNE)
        for take_offered, role, pick, with_note, stale in steps:
            if take_offered:  # what either user's page offers now, or detection's recurrence when nothing is
                options = [(r, *o) for r in ("command", "team") for o in offered(api, r, hotspot_id)]
                if not options:
                    detection_recurs(conn, hotspot_id)
                else:
                    role, method, path, body = options[pick % len(options)]
                    response = api["client"].request(method, path, json=body, headers=api["headers"][role])
                    assert response.status_code in (200, 201), (role, method, path, body, response.json())
            elif role == "system":
                detection_recurs(conn, hotspot_id)
            else:
                method, path, body = arbitrary(conn, api, hotspot_id, pick, "ghi chú" if with_note else "", stale)
                response = api["client"].request(method, path, json=body, headers=api["headers"][role])
                assert response.status_code < 500, (method, path, body, response.text)
            status = conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar_one()
            tasks = suppression_task_states(conn, hotspot_id)
            assert consistent(tasks, status), (tasks, status)
            assert replay_hotspot(conn, MACHINE, hotspot_id) == status
            task_ids = conn.execute(text("SELECT id FROM tasks WHERE hotspot_id = :id ORDER BY id"), {"id": hotspot_id})
            assert [replay_task(conn, t) for t in task_ids.scalars()] == tasks
        example.rollback()


def test_offered_actions_take_a_hotspot_all_the_way_round(conn, api, make_hotspot) -> None:
    """The offered actions alone reach every status of the lifecycle, a recurrence and a second task included."""
    hotspot_id = make_hotspot(COMMUNE)
    path = [
        ("command", "verified"),
        ("command", "new task with team"),
        ("team", "in_progress"),
        ("team", "completed"),
        ("command", "returned"),
        ("team", "in_progress"),
        ("team", "completed"),
        ("command", "accepted"),
        ("command", "eradicated"),
        ("team", "monitoring"),
        ("command", "closed"),
        ("system", "recurred"),
        ("command", "new task with team"),
        ("team", "declined"),
    ]
    seen = []
    for role, goal in path:
        if role == "system":
            detection_recurs(conn, hotspot_id)
        else:
            options = offered(api, role, hotspot_id)
            chosen = [
                o
                for o in options
                if o[2].get("to") == goal or (goal == "new task with team" and "team_id" in o[2] and "kind" in o[2])
            ]
            assert chosen, (role, goal, options)
            response = api["client"].request(*chosen[0][:2], json=chosen[0][2], headers=api["headers"][role])
            assert response.status_code in (200, 201), response.json()
        status = conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar_one()
        assert consistent(suppression_task_states(conn, hotspot_id), status)
        seen.append(status)
    # Every status but those only detection runs set (dormant, merged: tests/db/test_hotspot_detection.py).
    assert set(seen) | {"detected", "dismissed", "dormant", "merged"} == set(HotspotStatus.values())
    assert seen[-1] == "verified" and suppression_task_states(conn, hotspot_id) == ["accepted", "declined"]

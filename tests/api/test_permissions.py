"""Permission matrix: every route × every role, and a team never reads or writes another team's task or hotspot."""

import re

import pytest
from sqlalchemy import text

from gis.services.tasks import create_task
from models.domain.access import Principal
from models.vocabulary import local_today

AREA_A, AREA_B = "10507", "10525"
ROLES = ("command", "planner", "admin", "team")
EVERYONE = dict.fromkeys(ROLES, 200)


def only(allowed: dict[str, int]) -> dict[str, int]:
    """Expected status per role: the given ones, 403 for the rest."""
    return {role: allowed.get(role, 403) for role in ROLES}


READ = only({"command": 200, "planner": 200, "team": 200})
WRITE = only({"command": 200, "team": 200})
COMMAND = only({"command": 200})
ADMIN = only({"admin": 200})


@pytest.fixture
def world(conn, client, make_team, make_user, make_hotspot, bearer) -> dict:
    """Teams A and B with a hotspot, a task and an incident each, and one user per role (team = team A)."""
    teams = {"A": make_team("Tổ A", [AREA_A]), "B": make_team("Tổ B", [AREA_B])}
    command = Principal(0, "chihuy", "command")
    hotspots = {k: make_hotspot(code) for k, code in (("A", AREA_A), ("B", AREA_B))}
    tasks = {
        k: create_task(
            conn,
            command,
            kind="conversion",
            hotspot_id=None,
            commune_code=code,
            year=2025,
            team_id=teams[k],
            due_date=None,
            priority="normal",
            checklist=[],
        )
        for k, code in (("A", AREA_A), ("B", AREA_B))
    }
    for k, code in (("A", AREA_A), ("B", AREA_B)):
        conn.execute(
            text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                             SELECT :ref, now(), 'tip', 'inside', code, ST_PointOnSurface(geom)
                             FROM admin_units WHERE code = :c AND valid_to IS NULL"""),
            {"ref": f"P-{k}", "c": code},
        )
    users = {role: make_user(f"u-{role}", role, teams["A"] if role == "team" else None) for role in ROLES}
    headers = {role: bearer(user_id) for role, user_id in users.items()}
    target = make_user("u-target", "planner")  # the account the administration routes act on
    return {"teams": teams, "hotspots": hotspots, "tasks": tasks, "headers": headers, "users": users, "target": target}


def matrix(world: dict) -> list[tuple[str, str, dict | None, dict[str, int]]]:
    """(method, path, JSON body, expected status per role) for every route, on team A's own resources."""
    task, hotspot, team = world["tasks"]["A"], world["hotspots"]["A"], world["teams"]["A"]
    created = {**COMMAND, "command": 201}
    return [
        ("GET", "/api/auth/me", None, EVERYONE),
        ("GET", "/api/communes", None, EVERYONE),
        ("GET", "/api/incidents", None, READ),
        ("GET", "/api/tasks", None, READ),
        ("GET", f"/api/tasks/{task}", None, READ),
        ("GET", "/api/tasks/mine", None, only({"team": 200})),
        ("GET", f"/api/tasks/suggest-assignee?commune={AREA_A}", None, COMMAND),
        ("GET", "/api/inbox", None, WRITE),
        ("POST", "/api/tasks", {"kind": "conversion", "commune_code": AREA_A, "year": 2026}, created),
        ("PATCH", f"/api/tasks/{task}", {"version": 2, "priority": "high"}, COMMAND),
        ("POST", f"/api/tasks/{task}/assignment", {"team_id": team, "version": 2}, COMMAND),
        ("POST", f"/api/tasks/{task}/transitions", {"to": "in_progress", "version": 2}, only({"team": 200})),
        ("POST", f"/api/tasks/{task}/transitions", {"to": "canceled", "version": 2}, COMMAND),
        ("POST", f"/api/tasks/{task}/comments", {"note": "ghi chú"}, {**WRITE, "command": 201, "team": 201}),
        ("POST", f"/api/hotspots/{hotspot}/transitions", {"to": "verified", "version": 1}, WRITE),
        # without a file: writers get past the role check to the validation (422); photo 1 does not exist (404)
        ("POST", f"/api/tasks/{task}/photos", None, only({"command": 422, "team": 422})),
        ("GET", f"/api/tasks/{task}/photos/999999", None, only({"command": 404, "planner": 404, "team": 404})),
        ("GET", "/api/teams", None, only({"admin": 200, "command": 200})),
        ("POST", "/api/teams", {"name": "Tổ mới", "communes": [AREA_B]}, {**ADMIN, "admin": 201}),
        (
            "PUT",
            f"/api/teams/{team}/area",
            {"communes": [AREA_A, AREA_B], "valid_from": str(local_today())},
            ADMIN,
        ),
        ("GET", f"/api/teams/{team}/areas", None, ADMIN),
        ("GET", "/api/users", None, ADMIN),
        ("PATCH", f"/api/users/{world['users']['planner']}", {"active": False, "version": 1}, ADMIN),
        ("POST", f"/api/users/{world['users']['planner']}/password", None, ADMIN),
        ("POST", f"/api/users/{world['users']['planner']}/unlock", None, ADMIN),
        ("GET", "/api/audit", None, ADMIN),
        (
            "POST",
            "/api/users",
            {"username": "moi", "password": "mat-khau-moi", "role": "planner"},
            {**ADMIN, "admin": 201},
        ),
        ("PATCH", f"/api/users/{world['target']}", {"active": True, "version": 1}, ADMIN),
        ("POST", f"/api/users/{world['target']}/unlock", None, ADMIN),
        ("DELETE", f"/api/users/{world['target']}/sessions", None, ADMIN),
    ]


def call(client, conn, method: str, path: str, body: dict | None, headers: dict):
    """One request in a savepoint that is rolled back, so every cell of the matrix starts from the same data."""
    with conn.begin_nested() as savepoint:
        response = client.request(method, path, json=body, headers=headers)
        savepoint.rollback()
    return response


def test_matrix_of_routes_and_roles(client, conn, world) -> None:
    cells = matrix(world)
    covered = {(m, re.sub(r"\d+", "{}", p.split("?")[0])) for m, p, _, _ in cells}
    mine = [
        (m.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, ops in client.app.openapi()["paths"].items()
        for m in ops
        if path.startswith(("/api/tasks", "/api/inbox", "/api/auth/me", "/api/teams", "/api/users", "/api/audit"))
        or path.endswith("/transitions")
    ]
    assert set(mine) <= covered, set(mine) - covered  # every tasking route is in the matrix
    for method, path, body, expected in cells:
        for role, status in expected.items():
            response = call(client, conn, method, path, body, world["headers"][role])
            assert response.status_code == status, (role, method, path, response.json())


def test_a_team_never_reads_or_writes_another_teams_task_or_hotspot(client, conn, world) -> None:
    team = world["headers"]["team"]
    task, hotspot, team_b = world["tasks"]["B"], world["hotspots"]["B"], world["teams"]["B"]
    refused = [
        ("GET", f"/api/tasks/{task}", None),
        ("POST", f"/api/tasks/{task}/transitions", {"to": "in_progress", "version": 2}),
        ("POST", f"/api/tasks/{task}/transitions", {"to": "declined", "note": "x", "version": 2}),
        ("POST", f"/api/tasks/{task}/comments", {"note": "x"}),
        ("PATCH", f"/api/tasks/{task}", {"version": 2, "priority": "low"}),
        ("POST", f"/api/tasks/{task}/assignment", {"team_id": world["teams"]["A"], "version": 2}),
        ("POST", f"/api/hotspots/{hotspot}/transitions", {"to": "verified", "version": 1}),
    ]
    hotspot_detail = next(
        (p for p in client.app.openapi()["paths"] if re.fullmatch(r"/api/hotspots/\{[^}]+\}", p)), None
    )
    if hotspot_detail:  # the hotspot detail route, where it exists, must be scoped too
        refused.append(("GET", re.sub(r"\{[^}]+\}", str(hotspot), hotspot_detail), None))
    for method, path, body in refused:
        status = call(client, conn, method, path, body, team).status_code
        assert status in (403, 404), (method, path, status)

    if hotspot_detail:
        listed_hotspots = client.get("/api/hotspots", headers=team).json()["features"]
        assert [f["id"] for f in listed_hotspots] == [world["hotspots"]["A"]]
        detail = client.get(f"/api/hotspots/{world['hotspots']['A']}", headers=team).json()
        assert (detail["properties"]["status"], detail["properties"]["version"]) == ("detected", 1)
    listed = client.get("/api/tasks", headers=team).json()
    assert [t["id"] for t in listed["tasks"]] == [world["tasks"]["A"]]
    assert client.get("/api/tasks", params={"team": team_b}, headers=team).json()["numberMatched"] == 0
    incidents = client.get("/api/incidents", headers=team).json()["features"]
    assert [f["properties"]["ref"] for f in incidents] == ["P-A"]
    assert len(client.get("/api/incidents").json()["features"]) == 2  # command sees every area
    client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1})
    suppression = client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot, "team_id": team_b})
    assert suppression.status_code == 201
    assert call(client, conn, "GET", f"/api/tasks/{suppression.json()['id']}", None, team).status_code == 404


def test_a_hotspot_outside_the_area_becomes_visible_once_assigned_to_the_team(client, world) -> None:
    team, hotspot = world["headers"]["team"], world["hotspots"]["B"]
    body = {"to": "verified", "version": 1}
    assert client.post(f"/api/hotspots/{hotspot}/transitions", json=body, headers=team).status_code == 404
    assert client.get(f"/api/hotspots/{hotspot}", headers=team).status_code == 404
    assert client.post(f"/api/hotspots/{hotspot}/transitions", json=body).status_code == 200
    client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot, "team_id": world["teams"]["A"]})
    seen = client.get(f"/api/hotspots/{hotspot}", headers=team)
    assert seen.status_code == 200 and seen.json()["properties"]["status"] == "assigned"
    assert seen.json()["properties"]["task_actions"] == [
        {"to": "in_progress", "note_required": False},
        {"to": "declined", "note_required": True},
    ]

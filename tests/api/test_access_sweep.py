"""Every route, found from the app itself, either answers detailed data and leaves one access line naming the user
and the route, or is listed here with why its answer is not detailed data: a new route fails until it is placed.

Detailed data: incident-level data (points, refs, times, quantities, arrests), a hotspot's member incidents, task
notes and photos, a team's reports with their notes (in its list and in the register, which carries every hotspot's
note), exports, incidents counted on cells under 100 m (incident tiles from zoom 13, heat and Gi* cells: where one
incident alone in a cell is placed within a block) and single from street zoom, and the audit trails themselves.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from gis.services.classification import draft_year
from gis.services.tasks import comment_task
from gis.store.access_log import ACCESSED_BY_ROUTE
from gis.store.scoping import AreaScope
from gis.store.tiles import POINT_ZOOM
from models.domain.access import Principal
from tests.api.sweep import fill_path, tile_of
from tests.conftest import conversion_task, evidence_photo, requests_in_savepoints

COMMUNE = "10507"
YEAR = 2025

#: Routes answering detailed data: who the sweep asks as, and the query it sends.
RECORDED: dict[str, tuple[str, str]] = {
    "GET /api/incidents": ("command", f"?commune={COMMUNE}"),
    "GET /api/hotspots": ("command", ""),
    "GET /api/hotspots/{hotspot_id}": ("command", ""),
    "GET /tiles/incidents/{z}/{x}/{y}.mvt": ("command", ""),
    "GET /api/heat": ("command", "?cell_m=50&format=overlay"),
    "GET /api/gistar": ("planner", "?cell_m=90"),
    "GET /api/classifications/{year}/export": ("planner", "?format=xlsx"),
    "GET /api/reports/kpi.xlsx": ("planner", f"?year={YEAR}"),
    "GET /api/reports/period.xlsx": ("command", "?from=2025-01-01&to=2025-03-31"),
    "GET /api/tasks/{task_id}": ("command", ""),
    "PATCH /api/tasks/{task_id}": ("command", ""),
    "POST /api/tasks/{task_id}/checklist": ("team", ""),
    "POST /api/tasks/{task_id}/assignment": ("command", ""),
    "GET /api/tasks/{task_id}/photos/{photo_id}": ("command", ""),
    "GET /api/tasks/{task_id}/photos/{photo_id}/preview": ("command", ""),
    "GET /api/inbox": ("team", ""),
    "GET /api/hotspots/reported": ("team", ""),
    "GET /api/audit": ("admin", ""),
    "GET /api/access-log": ("admin", ""),
    "GET /api/audit.xlsx": ("admin", ""),
    "GET /api/access-log.xlsx": ("admin", "?what=task_photo"),
}
#: Bodies of the recorded routes that change something on the way.
BODIES = {
    "PATCH /api/tasks/{task_id}": lambda w: {"version": 2, "priority": "high"},
    "POST /api/tasks/{task_id}/checklist": lambda w: {"version": 2, "item": 0, "done": True},
    "POST /api/tasks/{task_id}/assignment": lambda w: {"team_id": w["relief_team"], "version": 2},
}
#: Every other route and why its answer holds no detailed data.
UNRECORDED: dict[str, str] = {
    "GET /health": "no data",
    "POST /api/auth/token": "a login",
    "GET /api/auth/me": "the user's own account",
    "POST /api/auth/logout": "a logout",
    "POST /api/auth/password": "the user's own password",
    "GET /tiles/{layer}/{z}/{x}/{y}.mvt": "hotspot centroids and commune boundaries, no incidents (hotspots' places:"
    " README «Security»)",
    "GET /tiles/base/{z}/{x}/{y}.png": "the offline basemap",
    "GET /api/communes": "boundaries",
    "GET /api/communes/former": "names of the units before 2025 and the current ones they became",
    "POST /api/hotspots": "a new hotspot has no member incidents; its answer is what the user sent",
    "POST /api/hotspots/{hotspot_id}/transitions": "status and version only",
    "POST /api/hotspots/detection": "counts of the run; the run is recorded in detection_runs under the user",
    "GET /api/emerging": "trend classes (no counts) of cells of at least 100 m",
    "GET /api/classifications/{year}": "counts per commune",
    "GET /api/classifications/{year}/map": "classes per commune",
    "GET /api/classifications/{year}/review": "counts per commune",
    "GET /api/classifications/{year}/history": "the year's versions and their overrides: communes' classes, the"
    " planners' reasons and login names, as the classification and its review show them (README «Security»)",
    "POST /api/classifications/{year}/overrides": "one commune's class and the planner's reason",
    "POST /api/classifications/{year}/approve": "the run's identity",
    "POST /api/classifications/{year}/discard": "the run's identity",
    "POST /api/classifications/{year}/runs": "the run's identity",
    "GET /api/reports/kpi": "province-wide indicators",
    "GET /api/reports/period": "counts per kind, team and commune over a period: no incident at all",
    "GET /api/tasks": "task summaries: no notes, no photos",
    "GET /api/tasks/counts": "numbers of tasks: no task at all",
    "POST /api/tasks": "the new task: what the user sent",
    "GET /api/tasks/mine": "task summaries: no notes, no photos",
    "GET /api/tasks/suggest-assignee": "teams and their workloads",
    "POST /api/tasks/{task_id}/transitions": "state and version only",
    "POST /api/tasks/{task_id}/comments": "the new comment's id",
    "POST /api/tasks/{task_id}/photos": "what was stored of the user's own photo",
    "POST /api/imports/indicators": "the report of the user's own file; the run is recorded in import_runs",
    "POST /api/imports/incidents": "the report of the user's own file; the run is recorded in import_runs",
    "POST /api/imports/boundaries": "the report of the administrator's own file; the run is recorded in import_runs",
    "GET /api/teams": "accounts",
    "POST /api/teams": "accounts",
    "GET /api/provinces": "reference data",
    "PUT /api/teams/{team_id}/area": "accounts",
    "GET /api/teams/{team_id}/areas": "accounts",
    "GET /api/users": "accounts",
    "POST /api/users": "accounts",
    "POST /api/users/import": "accounts (and the one-time passwords of the accounts it creates)",
    "GET /api/users/import-template": "a blank template with examples",
    "PUT /api/users/{user_id}/province": "accounts",
    "PUT /api/users/{user_id}/team": "accounts",
    "PUT /api/users/{user_id}/role": "accounts",
    "PUT /api/teams/{team_id}/name": "accounts",
    "POST /api/teams/{team_id}/dissolution": "accounts",
    "PATCH /api/users/{user_id}": "accounts",
    "POST /api/users/{user_id}/password": "accounts",
    "POST /api/users/{user_id}/unlock": "accounts",
    "DELETE /api/users/{user_id}/sessions": "accounts",
}


def operations(app) -> set[str]:
    """``METHOD /template`` of every route in the app's OpenAPI description."""
    return {f"{method.upper()} {path}" for path, ops in app.openapi()["paths"].items() for method in ops}


def access_lines(conn: Connection) -> list[tuple[str, str, int | None]]:
    return [tuple(r) for r in conn.execute(text("SELECT username, route, rows FROM access_log ORDER BY id"))]


@pytest.fixture
def world(conn, client, make_team, make_user, make_hotspot, bearer, scatter_incidents) -> dict:
    """A commune with incidents, a hotspot holding them, a team's task with a note and a photo, a draft year; one user
    per role (the team user in the task's team)."""
    team = make_team("Tổ kiểm tra nhật ký", [COMMUNE])
    scatter_incidents(COMMUNE, "NK-", 5)
    hotspot = make_hotspot(COMMUNE)
    conn.execute(
        text("INSERT INTO hotspot_incidents SELECT :h, id FROM incidents WHERE ref LIKE 'NK-%'"), {"h": hotspot}
    )
    task = conversion_task(conn, Principal(0, "chihuy", "command"), COMMUNE, YEAR, team)
    steps = '[{"item": "Khảo sát địa bàn", "done": false}]'  # a line for the team to tick
    conn.execute(text("UPDATE tasks SET checklist = CAST(:c AS jsonb) WHERE id = :t"), {"c": steps, "t": task})
    member = Principal(0, "to-nk", "team", team_id=team)
    photo = comment_task(conn, task, "ảnh hiện trường", member, AreaScope(team_id=team), evidence_photo())
    draft_year(conn, YEAR, actor="tham-muu")
    lon, lat = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE ref = 'NK-1'")).one()
    x, y = tile_of(lon, lat, POINT_ZOOM)
    users = {role: make_user(f"nk-{role}", role, team if role == "team" else None) for role in ("command", "team")}
    users |= {role: make_user(f"nk-{role}", role) for role in ("planner", "admin")}
    return {
        "team": team,
        "relief_team": make_team("Tổ trực thay", [COMMUNE]),  # a reassignment's other team
        "values": {
            "hotspot_id": hotspot,
            "task_id": task,
            "photo_id": photo["photo_id"],
            "year": YEAR,
            "z": POINT_ZOOM,
            "x": x,
            "y": y,
        },
        "users": {role: f"nk-{role}" for role in users},
        "headers": {role: bearer(user_id) for role, user_id in users.items()},
    }


def test_every_route_is_either_recorded_or_says_why_not(client) -> None:
    assert not RECORDED.keys() & UNRECORDED.keys()
    found = operations(client.app)
    assert found - RECORDED.keys() - UNRECORDED.keys() == set(), "a new route: place it in RECORDED or UNRECORDED"
    assert (RECORDED.keys() | UNRECORDED.keys()) - found == set(), "a route listed here is gone"


def test_every_recorded_route_says_what_it_reads_in_vietnamese() -> None:
    """The administrator's page names each line by what was read («Ảnh nhiệm vụ»), not by its route."""
    assert RECORDED.keys() - ACCESSED_BY_ROUTE.keys() == set()


@pytest.mark.parametrize("operation", RECORDED)
def test_each_read_of_detailed_data_leaves_one_line_with_user_and_route(client, conn, world, operation) -> None:
    role, query = RECORDED[operation]
    method, template = operation.split(" ", 1)
    before = len(access_lines(conn))
    body = BODIES[operation](world) if operation in BODIES else None
    response = client.request(
        method, fill_path(template, world["values"]) + query, json=body, headers=world["headers"][role]
    )
    assert response.status_code == 200, (operation, response.text[:300])
    assert [line[:2] for line in access_lines(conn)[before:]] == [(world["users"][role], operation)]


def test_a_refused_read_of_task_notes_or_photos_leaves_no_line(client, conn, world) -> None:
    requests_in_savepoints(client.app, conn)  # a refused request rolls back, as the server's transaction does
    values, team = world["values"], world["headers"]["team"]
    before = access_lines(conn)
    assert client.get("/api/tasks/999999").status_code == 404
    assert client.get(f"/api/tasks/{values['task_id']}/photos/999999").status_code == 404
    assert client.get("/api/inbox", headers=world["headers"]["planner"]).status_code == 403
    assert client.patch(f"/api/tasks/{values['task_id']}", json={"version": 2}, headers=team).status_code == 403
    assert access_lines(conn) == before

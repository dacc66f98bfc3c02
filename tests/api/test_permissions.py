"""Permission matrix: every route × every role, and a team never reads or writes another team's task or hotspot."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year
from gis.services.tasks import comment_task, create_task
from gis.store.classifications import discard_draft, override
from gis.store.scoping import AreaScope
from models.domain.access import Principal
from models.vocabulary import local_today
from tests.api.sweep import answer_text, fill_path, mentions, tile_of
from tests.conftest import SECOND_PROVINCE, SECOND_PROVINCE_UNITS, evidence_photo

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
    teams["spare"] = make_team("Tổ không còn việc", [AREA_B])  # no member, no task: the one a dissolution may take
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
        ("GET", "/api/communes/former?q=Hạ Lý", None, EVERYONE),
        ("GET", "/api/incidents", None, READ),
        ("GET", "/api/tasks", None, READ),
        ("GET", "/api/tasks/counts", None, READ),
        ("GET", f"/api/tasks/{task}", None, READ),
        ("GET", "/api/tasks/mine", None, only({"team": 200})),
        ("GET", f"/api/tasks/suggest-assignee?commune={AREA_A}", None, COMMAND),
        ("GET", "/api/inbox", None, WRITE),
        ("GET", "/api/hotspots/reported", None, only({"team": 200})),
        ("POST", "/api/tasks", {"kind": "conversion", "commune_code": AREA_A, "year": 2026}, created),
        ("PATCH", f"/api/tasks/{task}", {"version": 2, "priority": "high"}, COMMAND),
        # the task has no checklist: writers get past the role check to the missing line (422)
        (
            "POST",
            f"/api/tasks/{task}/checklist",
            {"version": 2, "item": 0, "done": True},
            only({"command": 422, "team": 422}),
        ),
        ("POST", f"/api/tasks/{task}/assignment", {"team_id": world["teams"]["B"], "version": 2}, COMMAND),
        ("POST", f"/api/tasks/{task}/transitions", {"to": "in_progress", "version": 2}, only({"team": 200})),
        ("POST", f"/api/tasks/{task}/transitions", {"to": "canceled", "note": "trùng", "version": 2}, COMMAND),
        ("POST", f"/api/tasks/{task}/comments", {"note": "ghi chú"}, {**WRITE, "command": 201, "team": 201}),
        ("POST", f"/api/hotspots/{hotspot}/transitions", {"to": "verified", "version": 1}, WRITE),
        ("POST", "/api/hotspots/detection", {"dry_run": True}, COMMAND),
        # without a file: writers get past the role check to the validation (422); photo 1 does not exist (404)
        ("POST", f"/api/tasks/{task}/photos", None, only({"command": 422, "team": 422})),
        ("GET", f"/api/tasks/{task}/photos/999999", None, only({"command": 404, "planner": 404, "team": 404})),
        ("GET", f"/api/tasks/{task}/photos/999999/preview", None, only({"command": 404, "planner": 404, "team": 404})),
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
        ("POST", "/api/users/import", None, {**ADMIN, "admin": 422}),  # an administrator's request without its file
        ("GET", "/api/users/import-template", None, ADMIN),
        ("POST", "/api/imports/boundaries", None, {**ADMIN, "admin": 422}),  # without its file
        ("PATCH", f"/api/users/{world['users']['planner']}", {"active": False, "version": 1}, ADMIN),
        ("POST", f"/api/users/{world['users']['planner']}/password", None, ADMIN),
        ("POST", f"/api/users/{world['users']['planner']}/unlock", None, ADMIN),
        ("GET", "/api/audit", None, ADMIN),
        ("GET", "/api/access-log", None, ADMIN),
        ("GET", "/api/audit.xlsx", None, ADMIN),
        ("GET", "/api/access-log.xlsx", None, ADMIN),
        ("GET", "/api/provinces", None, only({"admin": 200, "command": 200, "planner": 200})),
        ("PUT", f"/api/users/{world['target']}/province", {"province_code": "31", "version": 1}, ADMIN),
        (
            "POST",
            "/api/users",
            {"username": "moi", "password": "mat-khau-moi", "role": "planner", "national": True},
            {**ADMIN, "admin": 201},
        ),
        ("PATCH", f"/api/users/{world['target']}", {"active": True, "version": 1}, ADMIN),
        ("POST", f"/api/users/{world['target']}/unlock", None, ADMIN),
        ("DELETE", f"/api/users/{world['target']}/sessions", None, ADMIN),
        ("PUT", f"/api/users/{world['target']}/role", {"role": "command", "national": True, "version": 1}, ADMIN),
        ("PUT", f"/api/users/{world['users']['team']}/team", {"team_id": world["teams"]["B"], "version": 1}, ADMIN),
        ("PUT", f"/api/teams/{team}/name", {"name": "Tổ đổi tên", "version": 1}, ADMIN),
        ("POST", f"/api/teams/{world['teams']['spare']}/dissolution", {"version": 1}, ADMIN),
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
        if path.startswith(
            (
                "/api/tasks",
                "/api/inbox",
                "/api/auth/me",
                "/api/teams",
                "/api/users",
                "/api/audit",
                "/api/access-log",
                "/api/provinces",
            )
        )
        or path.endswith(("/transitions", "/detection"))
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


# ----------------------------------------------------------------------------------------------- provinces
PROVINCE_A = "31"  # Hải Phòng
YEAR = 2019  # a past year (one to come is refused) no other test classifies
#: A period holding the last 30 days (the world's incidents) and today (its tasks).
PERIOD_QUERY = f"from={local_today() - timedelta(days=40)}&to={local_today()}"


@pytest.fixture
def provinces(
    conn, client, second_province_path, make_team, make_user, make_hotspot, bearer, scatter_incidents
) -> dict:
    """Hải Phòng (A) and a few communes of Quảng Ninh (B) each with a team, a hotspot, a task with a photo, incidents
    and a classification; provincial command and planner users of A, nation-wide command and planner users."""
    report = import_boundaries(conn, second_province_path)
    assert report.inserted == SECOND_PROVINCE_UNITS and not report.rejects
    codes_b = sorted(
        conn.execute(
            text("SELECT code FROM admin_units WHERE province_code = :p AND valid_to IS NULL"), {"p": SECOND_PROVINCE}
        ).scalars()
    )
    areas = {"A": AREA_A, "B": codes_b[0]}
    teams = {"A": make_team("Tổ Hải Phòng", [AREA_A]), "B": make_team("Tổ Quảng Ninh", codes_b)}
    hotspots = {k: make_hotspot(code) for k, code in areas.items()}
    command = Principal(0, "chihuy", "command")
    tasks = {
        k: create_task(
            conn,
            command,
            kind="conversion",
            hotspot_id=None,
            commune_code=code,
            year=YEAR,
            team_id=teams[k],
            due_date=None,
            priority="normal",
            checklist=[],
        )
        for k, code in areas.items()
    }
    photo = evidence_photo()
    team_b = Principal(0, "to-qn", "team", team_id=teams["B"])
    photo_b = comment_task(conn, tasks["B"], "ảnh hiện trường", team_b, AreaScope(team_id=teams["B"]), photo)
    for k, code in areas.items():  # 30 incidents a commune, at points inside it, over the last 30 days
        scatter_incidents(code, f"P{k}-", 30)
    draft_year(conn, YEAR, actor="tham-muu-bo")
    users = {
        "command_a": make_user("chihuy-hp", "command", None, PROVINCE_A),
        "planner_a": make_user("thammuu-hp", "planner", None, PROVINCE_A),
        "command_nation": make_user("chihuy-bo", "command"),
        "planner_nation": make_user("thammuu-bo", "planner"),
    }
    centre_b = conn.execute(
        text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM admin_units"
            " WHERE code = :c AND valid_to IS NULL) p"
        ),
        {"c": areas["B"]},
    ).one()
    bbox_b = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM admin_units"
            " WHERE province_code = :p AND valid_to IS NULL) x"
        ),
        {"p": SECOND_PROVINCE},
    ).one()
    return {
        "codes_b": codes_b,
        "areas": areas,
        "teams": teams,
        "hotspots": hotspots,
        "tasks": tasks,
        "photo_b": photo_b["photo_id"],
        "headers": {k: bearer(v) for k, v in users.items()},
        "centre_b": tuple(centre_b),
        "bbox_b": ",".join(f"{v:.5f}" for v in bbox_b),
    }


def _mentions(body: str, world: dict) -> list[str]:
    """Marks of province B in an answer: its commune codes (not as digits of a coordinate), its incidents' refs and
    its team's name."""
    return mentions(body, world["codes_b"], ("PB-", "Tổ Quảng Ninh", "Quảng Ninh"))


def _get_routes(client, world: dict) -> list[str]:
    """Every GET route of the API, its path parameters filled with province B's resources (tiles over B)."""
    x, y = tile_of(*world["centre_b"], 15)
    values = {
        "hotspot_id": world["hotspots"]["B"],
        "task_id": world["tasks"]["B"],
        "photo_id": world["photo_b"],
        "team_id": world["teams"]["B"],
        "year": YEAR,
        "z": 15,
        "x": x,
        "y": y,
    }
    urls = []
    for path, operations in client.app.openapi()["paths"].items():
        if "get" not in operations:
            continue
        layers = ("hotspots", "communes") if "{layer}" in path else (None,)
        for layer in layers:
            filled = {**values, "layer": layer}
            url = fill_path(path, filled)
            params = {p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"}
            query = [f"year={YEAR}"] if "year" in params else []
            if "from" in params and "to" in params and any(p.get("required") for p in operations["get"]["parameters"]):
                query.append(PERIOD_QUERY)  # a periodic report: the last 30 days, where the world's incidents lie
            if "commune" in params:  # filtered on B's commune (the assignee suggestion needs one)
                query.insert(0, f"commune={world['areas']['B']}")
            if "province" in params:
                query.append(f"province={SECOND_PROVINCE}")
            if "q" in params:  # a former name (until 1 July 2025) of a part of B's Phường Cao Xanh
                query.append("q=Hà Khánh")
            urls.append(url + ("?" + "&".join(query) if query else ""))
            if "province" in params:  # also without asking for B: the user's own province is the default
                urls.append(url + ("?" + "&".join(query[:-1]) if query[:-1] else ""))
    return urls


def test_a_provincial_user_sees_nothing_of_another_province_through_any_get_route(client, conn, provinces) -> None:
    urls = _get_routes(client, provinces)
    assert len(urls) >= 30
    for who in ("command_a", "planner_a"):
        headers = provinces["headers"][who]
        for url in urls:
            response = call(client, conn, "GET", url, None, headers)
            assert response.status_code in (200, 204, 403, 404), (who, url, response.status_code, response.text)
            if response.status_code == 200:
                assert _mentions(answer_text(response), provinces) == [], (who, url)
                if url.startswith("/tiles/"):
                    assert response.content == b"", (who, url)  # a tile over B holds nothing for A
    # The same routes do show B to a nation-wide user (the marks above are found when they are there).
    nation = provinces["headers"]["command_nation"]
    shown = {
        url.split("?")[0]
        for url in urls
        if (r := call(client, conn, "GET", url, None, nation)).status_code == 200
        and (_mentions(answer_text(r), provinces) or (url.startswith("/tiles/") and r.content))
    }
    expected = {
        "/api/communes",
        "/api/communes/former",
        "/api/incidents",
        "/api/hotspots",
        f"/api/hotspots/{provinces['hotspots']['B']}",
        "/api/tasks",
        f"/api/tasks/{provinces['tasks']['B']}",
        "/api/teams",
        f"/api/classifications/{YEAR}",
        f"/tiles/hotspots/15/{tile_of(*provinces['centre_b'], 15)[0]}/{tile_of(*provinces['centre_b'], 15)[1]}.mvt",
    }
    assert expected <= shown, expected - shown
    planner = provinces["headers"]["planner_nation"]
    for url in (
        f"/api/classifications/{YEAR}/review",
        f"/api/classifications/{YEAR}/export",
        f"/api/reports/kpi?year={YEAR}",
        f"/api/reports/period?{PERIOD_QUERY}",
        f"/api/reports/period.xlsx?{PERIOD_QUERY}",
    ):
        assert _mentions(answer_text(call(client, conn, "GET", url, None, planner)), provinces), url


def test_a_provincial_users_maps_and_analyses_hold_nothing_of_another_province(client, conn, provinces) -> None:
    command_a, nation = provinces["headers"]["command_a"], provinces["headers"]["command_nation"]
    x, y = tile_of(*provinces["centre_b"], 12)
    tile = f"/tiles/incidents/12/{x}/{y}.mvt"
    assert call(client, conn, "GET", tile, None, nation).content != b""
    assert call(client, conn, "GET", tile, None, command_a).content == b""
    heat = {"format": "geojson", "cell_m": 1000, "bbox": provinces["bbox_b"]}
    query = "&".join(f"{k}={v}" for k, v in heat.items())
    nation_cells = call(client, conn, "GET", f"/api/heat?{query}", None, nation)
    assert nation_cells.status_code == 200 and nation_cells.json()["features"]
    mine = call(client, conn, "GET", f"/api/heat?{query}", None, command_a)
    assert mine.status_code == 204 or mine.json()["features"] == []
    for route in ("gistar", "emerging"):
        answer = call(client, conn, "GET", f"/api/{route}?bbox={provinces['bbox_b']}&cell_m=1000", None, command_a)
        assert answer.status_code in (200, 204, 422), (route, answer.text)
        if answer.status_code == 200:
            assert answer.json()["features"] == [], route
    # The provincial user's own province is there.
    own = call(client, conn, "GET", "/api/incidents?limit=1000", None, command_a).json()["features"]
    assert own and {f["properties"]["commune_code"] for f in own} == {AREA_A}


def test_a_provincial_user_changes_nothing_in_another_province(client, conn, provinces) -> None:
    command_a, planner_a = provinces["headers"]["command_a"], provinces["headers"]["planner_a"]
    task_b, hotspot_b, team_b = provinces["tasks"]["B"], provinces["hotspots"]["B"], provinces["teams"]["B"]
    lon, lat = provinces["centre_b"]
    refused = [
        (
            command_a,
            "POST",
            "/api/tasks",
            {"kind": "conversion", "commune_code": provinces["areas"]["B"], "year": YEAR},
        ),
        (
            command_a,
            "POST",
            "/api/tasks",
            {"kind": "conversion", "commune_code": AREA_A, "year": YEAR + 2, "team_id": team_b},
        ),
        (command_a, "PATCH", f"/api/tasks/{task_b}", {"version": 2, "priority": "high"}),
        (command_a, "POST", f"/api/tasks/{task_b}/assignment", {"team_id": provinces["teams"]["A"], "version": 2}),
        (command_a, "POST", f"/api/tasks/{task_b}/transitions", {"to": "canceled", "note": "x", "version": 2}),
        (command_a, "POST", f"/api/tasks/{task_b}/comments", {"note": "x"}),
        (command_a, "POST", f"/api/hotspots/{hotspot_b}/transitions", {"to": "verified", "version": 1}),
        (command_a, "POST", "/api/hotspots", {"lon": lon, "lat": lat, "note": "tin báo"}),
        (command_a, "POST", "/api/hotspots/detection", {"dry_run": True}),  # a run covers B's incidents too
        (
            planner_a,
            "POST",
            f"/api/classifications/{YEAR}/overrides",
            {"commune_code": provinces["areas"]["B"], "category": "at_risk", "reason": "Có tin báo mới"},
        ),
        (planner_a, "POST", f"/api/classifications/{YEAR}/approve", None),
        (planner_a, "POST", f"/api/classifications/{YEAR}/discard", {"run_id": 1}),
        (planner_a, "POST", f"/api/classifications/{YEAR + 1}/runs", None),
    ]
    for headers, method, path, body in refused:
        response = call(client, conn, method, path, body, headers)
        assert response.status_code in (403, 404), (method, path, response.status_code, response.text)
    # In its own province the same user works as before.
    created = call(
        client, conn, "POST", "/api/tasks", {"kind": "conversion", "commune_code": AREA_A, "year": YEAR + 1}, command_a
    )
    assert created.status_code == 201
    override = {"commune_code": AREA_A, "category": "trong_diem", "level": "III", "reason": "kiểm tra thực địa"}
    assert call(client, conn, "POST", f"/api/classifications/{YEAR}/overrides", override, planner_a).status_code == 200
    nation = provinces["headers"]["command_nation"]  # a run over both provinces is the nation-wide command's
    assert call(client, conn, "POST", "/api/hotspots/detection", {"dry_run": True}, nation).status_code == 200


def test_the_history_of_a_year_is_read_by_planners_and_command_within_their_province(
    client, conn, provinces, make_user, bearer
) -> None:
    """The history of a year's versions, discarded drafts too, holds the overrides of the reader's province alone (a
    nation-wide planner's of both provinces); command reads it as it reads the review, an administrator or a team
    not at all."""
    codes = {"A": AREA_A, "B": provinces["areas"]["B"]}
    for key, code in codes.items():
        override(conn, YEAR, code, "trong_diem", "III", f"Điều chỉnh thử {key}", actor="tham-muu-bo")
    discard_draft(conn, YEAR, actor="tham-muu-bo")
    draft_year(conn, YEAR, actor="tham-muu-bo")
    override(conn, YEAR, codes["B"], "trong_diem", "III", "Điều chỉnh lại B", actor="tham-muu-bo")
    url = f"/api/classifications/{YEAR}/history"

    def overridden(who: str) -> list[tuple[str, list[str]]]:
        response = call(client, conn, "GET", url, None, provinces["headers"][who])
        assert response.status_code == 200, (who, response.text)
        return [(v["status"], [o["commune_code"] for o in v["overrides"]]) for v in response.json()]

    assert overridden("planner_nation") == [("draft", [codes["B"]]), ("discarded", sorted(codes.values()))]
    for who in ("planner_a", "command_a"):
        assert overridden(who) == [("draft", []), ("discarded", [codes["A"]])], who
    assert overridden("command_nation") == overridden("planner_nation")
    for role, team in (("admin", None), ("team", provinces["teams"]["A"])):
        headers = bearer(make_user(f"lich-su-{role}", role, team))
        assert call(client, conn, "GET", url, None, headers).status_code == 403, role


def test_a_provincial_command_makes_no_task_of_a_hotspot_it_may_not_see(client, conn, provinces) -> None:
    """Another province's hotspot, and one outside every commune (only a nation-wide user sees it), are refused as a
    hotspot that does not exist: the refusal neither confirms them nor names their commune."""
    command_a = provinces["headers"]["command_a"]
    hotspot_b = provinces["hotspots"]["B"]
    conn.execute(text("UPDATE hotspots SET status = 'verified' WHERE id = :h"), {"h": hotspot_b})
    missing = 2**31 - 1
    nowhere = call(client, conn, "POST", "/api/tasks", {"kind": "suppression", "hotspot_id": missing}, command_a)
    assert nowhere.status_code == 404
    other = call(client, conn, "POST", "/api/tasks", {"kind": "suppression", "hotspot_id": hotspot_b}, command_a)
    assert other.status_code == 404
    assert other.json()["message"] == nowhere.json()["message"].replace(str(missing), str(hotspot_b))
    assert _mentions(other.text, provinces) == []
    conn.execute(text("UPDATE hotspots SET commune_code = NULL WHERE id = :h"), {"h": hotspot_b})
    outside = {"kind": "suppression", "hotspot_id": hotspot_b, "commune_code": AREA_A}
    assert call(client, conn, "POST", "/api/tasks", outside, command_a).status_code == 404
    # A nation-wide command sees it, and gives the commune of a hotspot outside every commune itself.
    nation = provinces["headers"]["command_nation"]
    assert call(client, conn, "POST", "/api/tasks", outside, nation).status_code == 201


def test_a_users_province_is_set_by_the_administrator_and_applies_at_once(client, conn, provinces, make_user, bearer):
    admin = bearer(make_user("qt-tinh", "admin"))
    user_id = make_user("chihuy-doi", "command")
    headers = bearer(user_id)
    assert client.get("/api/auth/me", headers=headers).json()["level"] == "nation"
    assert _mentions(client.get("/api/communes", headers=headers).text, provinces)
    changed = client.put(
        f"/api/users/{user_id}/province", json={"province_code": PROVINCE_A, "version": 1}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["province"] == "Hải Phòng"
    me = client.get("/api/auth/me", headers=headers).json()
    assert (me["level"], me["level_label"], me["province_code"]) == ("province", "Tỉnh, thành phố", PROVINCE_A)
    assert _mentions(client.get("/api/communes", headers=headers).text, provinces) == []
    refused = [
        ({"province_code": "99", "version": 2}, 404),  # no such province
        ({"province_code": PROVINCE_A, "version": 1}, 412),  # stale version
    ]
    for body, status in refused:
        assert client.put(f"/api/users/{user_id}/province", json=body, headers=admin).status_code == status
    team_user = make_user("to-tinh", "team", provinces["teams"]["A"])
    answer = client.put(
        f"/api/users/{team_user}/province", json={"province_code": PROVINCE_A, "version": 1}, headers=admin
    )
    assert answer.status_code == 422  # a team user's area is its team's
    created = client.post(
        "/api/users", json={"username": "tm-qn", "role": "planner", "province_code": SECOND_PROVINCE}, headers=admin
    )
    assert created.status_code == 201 and created.json()["province_code"] == SECOND_PROVINCE
    audit = client.get("/api/audit", headers=admin).json()
    assert any(
        e["action"] == "set_user_province" and e["details"] == {"before": None, "after": PROVINCE_A} for e in audit
    )

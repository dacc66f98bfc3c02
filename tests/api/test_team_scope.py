"""A team sees nothing of another team: every GET route, with the other team's ids, communes, map extent and filters.

Team A's area is one commune, team B's another. B holds tasks (with a comment and a photo) in its own area and a
suppression task on a hotspot that lies in A's area. A may see that hotspot (it lies in A's area), never B's task on
it: no id, team, state, due date or buttons of it, in the register, the card, the filters or their counts.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gis.services.classification import draft_year
from gis.services.tasks import comment_task
from gis.store.scoping import AreaScope
from models.domain.access import Principal
from tests.api.sweep import answer_text, fill_path, mentions, tile_of
from tests.conftest import evidence_photo

AREA_A, AREA_B = "10507", "10525"
TEAM_B_NAME, B_USER, B_NOTE, B_REF = "Tổ Bravo kín", "to-bravo-kin", "GHI-CHU-BRAVO", "PB-"
TASK_FIELDS = ("task_id", "task_state", "task_version", "task_team_id", "task_team", "task_due_date", "holding_team")


def _point(conn, code: str) -> tuple[float, float]:
    lon, lat = conn.execute(
        text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM admin_units"
            " WHERE code = :c AND valid_to IS NULL) p"
        ),
        {"c": code},
    ).one()
    return float(lon), float(lat)


@pytest.fixture
def teams(conn, client, make_team, make_user, make_hotspot, bearer, scatter_incidents) -> dict:
    """Teams A and B, each with a user; B's tasks (one on a hotspot in A's area), comment, photo and incidents."""
    team_a, team_b = make_team("Tổ Alpha", [AREA_A]), make_team(TEAM_B_NAME, [AREA_B])
    hotspot_a, hotspot_b, shared = make_hotspot(AREA_A), make_hotspot(AREA_B), make_hotspot(AREA_A, 60.0)
    for hotspot in (hotspot_b, shared):
        assert client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1}).is_success
    due = {"due_date": "2030-01-01"}
    task_b = client.post(
        "/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot_b, "team_id": team_b, **due}
    ).json()["id"]
    task_shared = client.post(
        "/api/tasks", json={"kind": "suppression", "hotspot_id": shared, "team_id": team_b, **due}
    ).json()["id"]
    conversion_b = client.post(
        "/api/tasks", json={"kind": "conversion", "commune_code": AREA_B, "year": 2018, "team_id": team_b}
    ).json()["id"]
    conversion_a = client.post(
        "/api/tasks", json={"kind": "conversion", "commune_code": AREA_A, "year": 2018, "team_id": team_a}
    ).json()["id"]
    photo = evidence_photo()
    b_user = make_user(B_USER, "team", team_b)
    principal_b = Principal(b_user, B_USER, "team", team_id=team_b)
    photo_b = comment_task(conn, task_b, B_NOTE, principal_b, AreaScope(team_id=team_b), photo)["photo_id"]
    comment_task(conn, task_shared, B_NOTE, principal_b, AreaScope(team_id=team_b))
    for prefix, code in (("PA-", AREA_A), (B_REF, AREA_B)):
        scatter_incidents(code, prefix, 20)
    draft_year(conn, 2018, actor="thammuu")  # a classification of every commune, to read as the team
    bbox_b = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM admin_units"
            " WHERE code = :c AND valid_to IS NULL) x"
        ),
        {"c": AREA_B},
    ).one()
    name_b = conn.execute(
        text("SELECT name FROM admin_units WHERE code = :c AND valid_to IS NULL"), {"c": AREA_B}
    ).scalar_one()
    return {
        "team_a": team_a,
        "team_b": team_b,
        "hotspot_a": hotspot_a,
        "hotspot_b": hotspot_b,
        "shared": shared,
        "task_b": task_b,
        "task_shared": task_shared,
        "conversion_b": conversion_b,
        "conversion_a": conversion_a,
        "photo_b": photo_b,
        "a": bearer(make_user("to-alpha", "team", team_a)),
        "a2": bearer(make_user("to-alpha-2", "team", team_a)),
        "centre_b": _point(conn, AREA_B),
        "centre_a": _point(conn, AREA_A),
        "bbox_b": ",".join(f"{v:.5f}" for v in bbox_b),
        "name_b": name_b,
    }


def _mentions(body: str, world: dict) -> list[str]:
    """Marks of team B in an answer: its commune's code and name, its team's name, user, note and incidents."""
    return mentions(body, [AREA_B], (TEAM_B_NAME, B_USER, B_NOTE, B_REF, world["name_b"]))


def _urls(client, world: dict) -> list[str]:
    """Every GET route with B's ids in its path, bare and with every query parameter naming B."""
    x, y = tile_of(*world["centre_b"], 15)
    ids = {"hotspot_id": world["hotspot_b"], "photo_id": world["photo_b"], "team_id": world["team_b"], "year": 2018}
    ids |= {"z": 15, "x": x, "y": y}
    naming_b = {
        "commune": AREA_B,
        "team": world["team_b"],
        "hotspot": world["shared"],
        "hotspot_id": world["hotspot_b"],
        "bbox": world["bbox_b"],
        "province": "22",
        "year": "2018",
    }
    urls = []
    for path, operations in client.app.openapi()["paths"].items():
        if "get" not in operations:
            continue
        params = [p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"]
        query = "&".join(f"{p}={naming_b[p]}" for p in params if p in naming_b)
        for layer in ("incidents", "hotspots", "communes") if "{layer}" in path else (None,):
            for task in (world["task_b"], world["task_shared"], world["conversion_b"]) if "{task_id}" in path else (0,):
                filled: dict[str, object] = {**ids, "layer": layer, "task_id": task}
                url = fill_path(path, filled)
                urls.append(url)
                if query:
                    urls.append(f"{url}?{query}")
    return sorted(set(urls))


def test_a_team_sees_nothing_of_another_team_through_any_get_route(client, teams) -> None:
    urls = _urls(client, teams)
    assert len(urls) >= 40
    seen: list[str] = []
    leaks: list[tuple[str, object]] = []
    for url in urls:
        response = client.get(url, headers=teams["a"])
        assert response.status_code in (200, 204, 400, 403, 404, 422), (url, response.status_code, response.text)
        if response.status_code == 200:
            seen.append(url)
            if url.startswith("/api/communes"):
                continue  # public administrative boundaries, every commune's (the team's map draws its neighbours)
            body = answer_text(response)
            if marks := _mentions(body, teams):
                leaks.append((url, marks))
            if url.startswith("/tiles/incidents/") and response.content:
                leaks.append((url, "incidents"))  # the street tile over B's commune holds no incident for A
            if url.startswith("/tiles/hotspots/") and str(teams["hotspot_b"]) in re.findall(r'"id": (\d+)', body):
                leaks.append((url, "hotspot"))
    assert leaks == [], leaks
    assert len(seen) >= 15, seen
    # The same sweep finds B as the command sees it: the marks above are there to be found.
    shown = [u for u in urls if (r := client.get(u)).status_code == 200 and _mentions(answer_text(r), teams)]
    expected = {"/api/incidents", "/api/tasks", f"/api/tasks/{teams['task_b']}", "/api/hotspots"}
    assert expected | {"/api/classifications/2018", "/api/classifications/2018/map"} <= set(shown), shown


def test_a_hotspot_in_the_area_never_names_another_teams_task(client, teams) -> None:
    a, shared, team_b = teams["a"], teams["shared"], teams["team_b"]
    register = client.get("/api/hotspots", headers=a).json()["features"]
    assert sorted(f["id"] for f in register) == sorted([teams["hotspot_a"], shared])
    card = client.get(f"/api/hotspots/{shared}", headers=a)
    assert card.status_code == 200
    for properties in [f["properties"] for f in register] + [card.json()["properties"]]:
        assert {k: properties[k] for k in TASK_FIELDS} == dict.fromkeys(TASK_FIELDS), properties["id"]
        assert properties["task_actions"] == [] and properties["task_overdue_days"] == 0
    assert card.json()["properties"]["status"] == "assigned"  # the hotspot's own status stays
    # Filters on the newest task do not find B's task either, nor count it.
    for query in (f"team={team_b}", "task_state=assigned"):
        features = client.get(f"/api/hotspots?{query}", headers=a).json()["features"]
        assert shared not in [f["id"] for f in features], query
    tasks = client.get("/api/tasks", headers=a).json()
    assert [t["id"] for t in tasks["tasks"]] == [teams["conversion_a"]] and tasks["numberMatched"] == 1
    assert client.get(f"/api/tasks?hotspot={shared}", headers=a).json()["numberMatched"] == 0
    assert client.get(f"/api/tasks/{teams['task_shared']}", headers=a).status_code == 404
    # Command still sees B's task on the hotspot; team B sees its own task there.
    command = client.get(f"/api/hotspots/{shared}").json()["properties"]
    assert (command["task_id"], command["task_team"]) == (teams["task_shared"], TEAM_B_NAME)
    listed = client.get(f"/api/hotspots?team={team_b}").json()["features"]
    assert sorted(f["id"] for f in listed) == sorted([teams["hotspot_b"], shared])


def test_cached_map_answers_are_not_shared_across_scopes_and_detailed_reads_are_logged(client, conn, teams) -> None:
    a, a2 = teams["a"], teams["a2"]
    x, y = tile_of(*teams["centre_b"], 15)
    assert (x, y) != tile_of(*teams["centre_a"], 15)
    url = f"/tiles/incidents/15/{x}/{y}.mvt"
    seen_by_command = client.get(url)
    assert seen_by_command.content != b""
    for headers in (a, {**a, "If-None-Match": seen_by_command.headers["ETag"]}):
        mine = client.get(url, headers=headers)
        assert mine.status_code == 200 and mine.content == b"", headers  # neither the command's body nor a 304
    heat = f"/api/heat?format=overlay&cell_m=500&bbox={teams['bbox_b']}"
    in_box = "ST_MakeEnvelope({}, 4326)".format(teams["bbox_b"])
    counts = dict(
        conn.execute(text(f"SELECT left(ref, 3), count(*) FROM incidents WHERE geom && {in_box} GROUP BY 1")).all()
    )
    assert counts[B_REF] == 20
    assert client.get(heat).json()["n_incidents"] == sum(counts.values())
    # A's heat over B's extent counts A's incidents in that box only (the box reaches into A's commune).
    assert client.get(heat, headers=a).json()["n_incidents"] == counts.get("PA-", 0)

    def lines(user: str) -> list[tuple[str, int]]:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT route, rows FROM access_log WHERE username = :u ORDER BY id"), {"u": user}
            ).all()
        ]

    before = len(lines("to-alpha"))
    x, y = tile_of(*teams["centre_a"], 17)
    street = f"/tiles/incidents/17/{x}/{y}.mvt"
    for headers in (a, a2):  # the second reads the same tile from the cache: its read is logged all the same
        assert client.get(street, headers=headers).status_code == 200
    assert client.get("/api/incidents", headers=a).json()["numberReturned"] == 20
    assert client.get(f"/api/hotspots/{teams['shared']}", headers=a).status_code == 200
    assert lines("to-alpha")[before:] == [
        ("GET /tiles/incidents/{z}/{x}/{y}.mvt", lines("to-alpha-2")[0][1]),
        ("GET /api/incidents", 20),
        ("GET /api/hotspots/{hotspot_id}", 0),
    ]
    assert [route for route, _ in lines("to-alpha-2")] == ["GET /tiles/incidents/{z}/{x}/{y}.mvt"]


def test_a_hotspot_history_never_names_another_teams_task_or_people(client, conn, teams, bearer) -> None:
    b_user = conn.execute(text("SELECT id FROM users WHERE username = :u"), {"u": B_USER}).scalar_one()
    task, shared = teams["task_shared"], teams["shared"]
    started = client.post(
        f"/api/tasks/{task}/transitions", json={"to": "in_progress", "version": 2}, headers=bearer(b_user)
    )
    assert started.json()["hotspot_status"] == "suppressing"
    seen_by_command = client.get(f"/api/hotspots/{shared}").json()["properties"]["events"]
    assert B_USER in str(seen_by_command) and f"#{task}" in str(seen_by_command)
    events = client.get(f"/api/hotspots/{shared}", headers=teams["a"]).json()["properties"]["events"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (e["from_status"], e["to_status"]) for e in seen_by_command
    ]  # the hotspot's own history stays whole
    assert B_USER not in str(events) and f"#{task}" not in str(events)
    assert all("task_id" not in e["details"] for e in events)
    assert [e["actor"] for e in events] == ["test-command", "test-command", "tổ công tác khác"]
    assert [e["note"] for e in events] == [None, None, None]  # "giao nhiệm vụ #…", "theo nhiệm vụ #…" withheld


def test_a_team_is_told_a_task_was_given_to_another_team_and_nothing_more(client, conn, teams, bearer) -> None:
    """The team a reassignment takes a task from reads, in its inbox, when command took it and why: not the new team,
    its people, the task's state or anything done since; the new team is not told whose the task was."""
    b_user = conn.execute(text("SELECT id FROM users WHERE username = :u"), {"u": B_USER}).scalar_one()
    task = teams["conversion_a"]
    assert [e["task_id"] for e in client.get("/api/inbox", headers=teams["a"]).json()["events"]] == [task]
    reason = "Điều chỉnh theo kế hoạch mới"
    moved = client.post(
        f"/api/tasks/{task}/assignment", json={"team_id": teams["team_b"], "version": 2, "note": reason}
    )
    assert moved.status_code == 200
    client.post(f"/api/tasks/{task}/transitions", json={"to": "in_progress", "version": 3}, headers=bearer(b_user))
    client.post(f"/api/tasks/{task}/comments", json={"note": B_NOTE}, headers=bearer(b_user))
    inbox = client.get("/api/inbox", headers=teams["a"])
    assert [(e["task_id"], e["event"], e["taken_away"]) for e in inbox.json()["events"]] == [(task, "reassigned", True)]
    notice = inbox.json()["events"][0]
    assert notice["note"] == reason and notice["actor"] == "test-command" and notice["commune_code"] == AREA_A
    assert (notice["task_state"], notice["from_state"], notice["to_state"], notice["details"]) == (None, None, None, {})
    assert _mentions(inbox.text, teams) == []
    given = [e for e in client.get("/api/inbox", headers=bearer(b_user)).json()["events"] if e["task_id"] == task]
    assert [(e["event"], e["taken_away"], e["note"], e["details"]) for e in given] == [
        ("reassigned", False, reason, {"version": 3})
    ]  # not which team had it
    assert client.get(f"/api/tasks/{task}", headers=teams["a"]).status_code == 404


def test_a_task_given_again_to_its_own_team_is_refused_and_the_inbox_stays_as_it_was(client, conn, teams) -> None:
    """Reassigning a task to the team that has it hands nothing over: refused (422, in Vietnamese), no event, no new
    version (it was stored, and the team's inbox showed the one event twice: as news and as the task taken away)."""
    task = teams["conversion_a"]
    inbox = client.get("/api/inbox", headers=teams["a"]).json()
    again = client.post(f"/api/tasks/{task}/assignment", json={"team_id": teams["team_a"], "version": 2, "note": "lại"})
    assert again.status_code == 422 and "đã giao cho tổ này" in again.json()["message"]
    assert client.get("/api/inbox", headers=teams["a"]).json() == inbox
    assert client.get(f"/api/tasks/{task}").json()["version"] == 2


def test_a_task_handed_over_keeps_its_notes_and_photos_but_not_the_previous_teams_people(
    client, conn, teams, bearer
) -> None:
    """Command moves A's task to B: B reads A's notes and photos (the work so far) as «tổ công tác khác»'s, never A's
    users or team; command reads everything."""
    b_user = conn.execute(text("SELECT id FROM users WHERE username = :u"), {"u": B_USER}).scalar_one()
    task = teams["conversion_a"]
    note = "Đã khảo sát ba ngõ phía đông"
    sent = client.post(
        f"/api/tasks/{task}/photos",
        files={"photo": ("anh.png", evidence_photo().content, "image/png")},
        data={"note": note},
        headers=teams["a"],
    )
    assert sent.status_code == 201
    assert client.post(f"/api/tasks/{task}/assignment", json={"team_id": teams["team_b"], "version": 2}).is_success
    seen_by_b = client.get(f"/api/tasks/{task}", headers=bearer(b_user))
    assert seen_by_b.status_code == 200 and "to-alpha" not in seen_by_b.text and "Tổ Alpha" not in seen_by_b.text
    detail = seen_by_b.json()
    comment = next(e for e in detail["events"] if e["event"] == "comment")
    assert (comment["actor"], comment["note"]) == ("tổ công tác khác", note)
    assert [(p["id"], p["uploaded_by"]) for p in detail["photos"]] == [(sent.json()["id"], "tổ công tác khác")]
    assert client.get(f"/api/tasks/{task}/photos/{sent.json()['id']}", headers=bearer(b_user)).status_code == 200
    reassigned = next(e for e in detail["events"] if e["event"] == "reassigned")
    assert "from_team" not in reassigned["details"]
    seen_by_command = client.get(f"/api/tasks/{task}").json()
    assert "to-alpha" in [e["actor"] for e in seen_by_command["events"]]
    assert [p["uploaded_by"] for p in seen_by_command["photos"]] == ["to-alpha"]
    handover = next(e for e in seen_by_command["events"] if e["event"] == "reassigned")
    assert handover["details"]["from_team"] == teams["team_a"]


def test_a_hotspot_outside_the_area_is_the_teams_only_while_it_holds_its_newest_task(
    client, teams, make_hotspot
) -> None:
    """A team that declined the task of a hotspot outside its area loses it once the task goes to another team: it
    can neither read it nor move it (it kept both while any old task of it named the team)."""
    hotspot = make_hotspot(AREA_B, 80.0)
    assert client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1}).is_success
    body = {"kind": "suppression", "hotspot_id": hotspot, "team_id": teams["team_a"], "due_date": "2030-01-01"}
    first = client.post("/api/tasks", json=body).json()
    declined = client.post(
        f"/api/tasks/{first['id']}/transitions",
        json={"to": "declined", "note": "Ngoài địa bàn của tổ", "version": first["version"]},
        headers=teams["a"],
    )
    assert declined.status_code == 200, declined.text
    assert client.get(f"/api/hotspots/{hotspot}", headers=teams["a"]).status_code == 200  # its declined task
    again = client.post("/api/tasks", json={**body, "team_id": teams["team_b"]})
    assert again.status_code == 201, again.text
    assert client.get(f"/api/hotspots/{hotspot}", headers=teams["a"]).status_code == 404
    listed = client.get("/api/hotspots", headers=teams["a"]).json()["features"]
    assert hotspot not in [f["id"] for f in listed]
    moved = client.post(
        f"/api/hotspots/{hotspot}/transitions", json={"to": "monitoring", "version": 9}, headers=teams["a"]
    )
    assert moved.status_code == 404
    assert client.get(f"/api/tasks/{first['id']}", headers=teams["a"]).status_code == 200  # its own task's history

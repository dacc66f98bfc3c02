"""A hotspot reported from a tip (POST /api/hotspots): stored once under its Idempotency-Key, refused outside a
team's area with a Vietnamese 403 (nothing stored), and refused with a note that holds a person's name; the team's
reports read back (GET /api/hotspots/reported) by its own members only, until one becomes a task of the team (a
dismissed one for REPORT_DISMISSED_DAYS, with command's reason); what command did with them heard in the team's inbox
(GET /api/inbox), by that team only."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gis.services.hotspots import create_manual_hotspot
from models.vocabulary import REPORT_DISMISSED_DAYS
from tests.api.test_team_scope import AREA_A, AREA_B, _point
from tests.conftest import requests_in_savepoints

KEY = {"Idempotency-Key": "tin-bao-0001-abcdef"}


def _hotspots(conn) -> int:
    return conn.execute(text("SELECT count(*) FROM hotspots")).scalar_one()


@pytest.fixture
def team(client, conn, make_team, make_user, bearer) -> dict:
    """A team of commune AREA_A with one user; each request in a savepoint (a refusal undoes what it stored)."""
    requests_in_savepoints(client.app, conn)
    team_id = make_team("Tổ tin báo", [AREA_A])
    return {
        "id": team_id,
        "headers": bearer(make_user("to91", "team", team_id)),
        "inside": _point(conn, AREA_A),
        "outside": _point(conn, AREA_B),
    }


def test_a_report_sent_again_with_its_key_is_stored_once(client, conn, team) -> None:
    lon, lat = team["inside"]
    body = {"lon": lon, "lat": lat, "note": "tin báo: tụ tập ban đêm sau chợ"}
    before = _hotspots(conn)
    first = client.post("/api/hotspots", json=body, headers={**team["headers"], **KEY})
    again = client.post("/api/hotspots", json=body, headers={**team["headers"], **KEY})
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"] and _hotspots(conn) == before + 1
    assert first.json()["properties"]["status"] == "detected" and first.json()["properties"]["note"] == body["note"]
    # The same key with another report is refused; another user's same key is theirs.
    other = client.post("/api/hotspots", json={**body, "note": "nơi khác"}, headers={**team["headers"], **KEY})
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["message"]
    assert client.post("/api/hotspots", json=body, headers=KEY).json()["id"] != first.json()["id"]
    assert _hotspots(conn) == before + 2


def test_a_point_outside_the_team_area_is_refused_in_vietnamese_and_not_stored(client, conn, team) -> None:
    lon, lat = team["outside"]
    before = _hotspots(conn)
    numbers = "SELECT last_value, is_called FROM hotspots_id_seq"
    numbered = tuple(conn.execute(text(numbers)).one())
    refused = client.post(
        "/api/hotspots", json={"lon": lon, "lat": lat, "note": "tin báo"}, headers={**team["headers"], **KEY}
    )
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("điểm này nằm ngoài địa bàn của tổ")
    assert _hotspots(conn) == before
    assert tuple(conn.execute(text(numbers)).one()) == numbered  # no number taken: the register had jumped #27 → #30
    # Its key was not used up: the same key reports a point inside the area.
    lon, lat = team["inside"]
    inside = client.post(
        "/api/hotspots", json={"lon": lon, "lat": lat, "note": "tin báo"}, headers={**team["headers"], **KEY}
    )
    assert inside.status_code == 201


@pytest.mark.parametrize("note", ["đối tượng Nguyễn Văn Hùng hay bán lẻ ở đây", "gặp Trần Thị Lan tại ngõ"])
def test_a_note_naming_a_person_is_refused(client, note: str) -> None:
    refused = client.post("/api/hotspots", json={"lon": 106.683, "lat": 20.86, "note": note})
    assert refused.status_code == 422 and "tên người" in refused.json()["message"]
    place = client.post("/api/hotspots", json={"lon": 106.683, "lat": 20.86, "note": "quán nước đầu phố Trần Phú"})
    assert place.status_code == 201, place.text


def _reported(client, headers) -> list[dict]:
    answer = client.get("/api/hotspots/reported", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["reports"]


def test_a_team_reads_back_its_own_reports_in_its_area_until_one_is_its_task(
    client, conn, team, make_team, make_user, bearer
) -> None:
    lon, lat = team["inside"]
    note = "tin báo: người lạ ra vào nhà hoang cuối ngõ"
    spot = client.post("/api/hotspots", json={"lon": lon, "lat": lat, "note": note}, headers=team["headers"]).json()
    # Another member of the team sees it: when, by whom, the note and where it stands, in Vietnamese.
    mate = bearer(make_user("to92", "team", team["id"]))
    [report] = _reported(client, mate)
    assert (report["id"], report["reported_by"], report["note"]) == (spot["id"], "to91", note)
    assert (report["status"], report["status_label"]) == ("detected", "chờ chỉ huy xem xét")
    assert report["commune_code"] == AREA_A and report["reported_at"] and report["radius_m"] == 50
    # A member's report outside the team's area today is not the team's to watch (stored here past the route's check).
    elsewhere_lon, elsewhere_lat = team["outside"]
    create_manual_hotspot(conn, lon=elsewhere_lon, lat=elsewhere_lat, note="ngoài địa bàn", actor="to91")
    assert [r["id"] for r in _reported(client, mate)] == [spot["id"]]
    # Another team, even one sharing the commune, reads none of them; another team's own report is its own.
    for code in (AREA_A, AREA_B):
        other = bearer(make_user(f"to-{code}", "team", make_team(f"Tổ khác {code}", [code])))
        assert _reported(client, other) == []
    # Command reads every report in the register as before, not the team's list.
    assert spot["id"] in [f["id"] for f in client.get("/api/hotspots?status=detected").json()["features"]]
    refused = client.get("/api/hotspots/reported")
    assert refused.status_code == 403 and refused.json()["message"]
    # Verified, then made a suppression task of the team: no longer a report waiting, the task list shows it.
    verified = client.post(f"/api/hotspots/{spot['id']}/transitions", json={"to": "verified", "version": 1})
    assert verified.status_code == 200, verified.text
    assert _reported(client, mate)[0]["status_label"] == "đã xác minh, chờ giao nhiệm vụ"
    task = client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": spot["id"], "team_id": team["id"]})
    assert task.status_code == 201, task.text
    assert _reported(client, mate) == []


def _report(client, team: dict, note: str) -> int:
    """A spot reported by the team's first member inside its area; its hotspot id."""
    lon, lat = team["inside"]
    answer = client.post("/api/hotspots", json={"lon": lon, "lat": lat, "note": note}, headers=team["headers"])
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _move(client, hotspot_id: int, to: str, note: str = "", headers: dict | None = None):
    """One hotspot transition at the hotspot's current version (by command unless ``headers`` say who)."""
    version = client.get(f"/api/hotspots/{hotspot_id}").json()["properties"]["version"]
    return client.post(
        f"/api/hotspots/{hotspot_id}/transitions", json={"to": to, "note": note, "version": version}, headers=headers
    )


def test_a_report_the_team_verified_itself_is_not_said_verified_by_command(client, team) -> None:
    """A team may verify a spot in its area (its own report too): the list said «chỉ huy đã xác minh» of it."""
    spot = _report(client, team, "tin báo: tụ tập ban đêm sau chợ")
    assert _move(client, spot, "verified", headers=team["headers"]).status_code == 200
    [report] = _reported(client, team["headers"])
    assert (report["status"], report["status_label"]) == ("verified", "đã xác minh, chờ giao nhiệm vụ")


def _inbox(client, headers: dict | None = None) -> dict:
    answer = client.get("/api/inbox", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _inbox_rows(conn, username: str) -> int:
    """The rows of the user's newest inbox read, as the access log recorded them."""
    return conn.execute(
        text("SELECT rows FROM access_log WHERE route = 'GET /api/inbox' AND username = :u ORDER BY id DESC LIMIT 1"),
        {"u": username},
    ).scalar_one()


def test_command_hears_of_the_spots_teams_reported_until_it_verifies_or_dismisses_them(
    client, conn, team, make_user, bearer, second_province_path
) -> None:
    """The team was told «chờ chỉ huy xem xét» and command's inbox said nothing: the spot was one more row of the
    register. Command's inbox (``team_reports``) lists a team's reports still «Phát hiện», newest first; not its own
    spots, not after a verification or a dismissal, not to a team, nor to a commander of another province."""
    from gis.services.boundary_import import import_boundaries
    from tests.conftest import SECOND_PROVINCE

    first = _report(client, team, "tin báo: tụ tập ban đêm sau chợ")
    second = _report(client, team, "kim tiêm vứt dưới gầm cầu")
    lon, lat = team["inside"]
    assert client.post("/api/hotspots", json={"lon": lon, "lat": lat, "note": "tin báo qua đường dây nóng"}).is_success
    heard = _inbox(client)["team_reports"]
    assert [(r["hotspot_id"], r["actor"], r["actor_team"], r["note"], r["commune_code"]) for r in heard] == [
        (second, "to91", "Tổ tin báo", "kim tiêm vứt dưới gầm cầu", AREA_A),
        (first, "to91", "Tổ tin báo", "tin báo: tụ tập ban đêm sau chợ", AREA_A),
    ]
    assert _inbox_rows(conn, "test-command") >= 2  # the read recorded with them
    assert _inbox(client, team["headers"])["team_reports"] == []
    assert _move(client, first, "verified").status_code == 200
    assert _move(client, second, "dismissed", "không có dấu hiệu").status_code == 200
    assert _inbox(client)["team_reports"] == []
    third = _report(client, team, "người lạ ra vào quán nước cuối ngõ")
    assert [r["hotspot_id"] for r in _inbox(client)["team_reports"]] == [third]
    import_boundaries(conn, second_province_path)
    elsewhere = bearer(make_user("qn-hop-thu", "command", province_code=SECOND_PROVINCE))
    assert _inbox(client, elsewhere)["team_reports"] == []


def test_a_team_hears_command_dismissed_its_report_with_the_reason_and_no_one_else_does(
    client, conn, team, make_team, make_user, bearer
) -> None:
    spot = _report(client, team, "tin báo: người lạ ra vào nhà hoang cuối ngõ")
    lon, lat = team["inside"]
    by_command = client.post("/api/hotspots", json={"lon": lon, "lat": lat, "note": "tin báo qua đường dây nóng"})
    assert by_command.status_code == 201, by_command.text
    mate_id = make_user("to92", "team", team["id"])
    mate = bearer(mate_id)
    command_before = _inbox(client)
    assert _inbox(client, mate) == {"events": [], "reports": [], "team_reports": []}
    assert [r["hotspot_id"] for r in command_before["team_reports"]] == [spot]  # command's own spot is not a report
    # A dismissal says why: without a reason it is refused (the team would read nothing) and nothing changes.
    refused = _move(client, spot, "dismissed")
    assert refused.status_code == 422 and "lý do loại bỏ" in refused.json()["message"]
    reason = "Đã kiểm tra hiện trường: quán nước bình thường, không có dấu hiệu"
    assert _move(client, spot, "dismissed", reason).status_code == 200
    assert _move(client, by_command.json()["id"], "dismissed", "trùng tin báo cũ").status_code == 200

    # The reporter's team hears it, from the dismissal's own event (nothing stored for the notice), with the reason.
    dismissal = conn.execute(
        text("SELECT id FROM hotspot_events WHERE hotspot_id = :h AND to_status = 'dismissed'"), {"h": spot}
    ).scalar_one()
    stored = conn.execute(text("SELECT count(*) FROM hotspot_events")).scalar_one()
    heard = _inbox(client, mate)
    assert heard["events"] == []
    [notice] = heard["reports"]
    assert (notice["id"], notice["hotspot_id"], notice["status"], notice["note"]) == (
        dismissal,
        spot,
        "dismissed",
        reason,
    )
    assert notice["actor"] == "test-command" and notice["listed"] is True and notice["at"]
    assert _inbox(client, mate) == heard and _inbox(client, team["headers"]) == heard  # once, for every member
    assert conn.execute(text("SELECT count(*) FROM hotspot_events")).scalar_one() == stored
    assert _inbox_rows(conn, "to92") == 1  # the read of the notice (command's reason) is in the access log

    # Another team, even one sharing the commune, hears of neither report; command's own inbox is as it was.
    for code in (AREA_A, AREA_B):
        other = bearer(make_user(f"to-{code}", "team", make_team(f"Tổ khác {code}", [code])))
        assert _inbox(client, other) == {"events": [], "reports": [], "team_reports": []}
    # Command's own inbox: the same events, and the report no longer waits for it.
    assert _inbox(client) == {**command_before, "team_reports": []} and command_before["reports"] == []

    # The dismissed report stays in the team's list with command's reason (the page asks before it is reported
    # again) for REPORT_DISMISSED_DAYS, then leaves it; its notice stays, no longer opening it.
    [listed] = _reported(client, mate)
    assert (listed["id"], listed["status"], listed["status_label"]) == (
        spot,
        "dismissed",
        "chỉ huy không xác minh được",
    )
    assert listed["reason"] == reason
    conn.execute(
        text("UPDATE hotspots SET status_changed_at = now() - make_interval(days => :d) WHERE id = :h"),
        {"d": REPORT_DISMISSED_DAYS + 1, "h": spot},
    )
    assert _reported(client, mate) == []
    assert [(n["hotspot_id"], n["listed"]) for n in _inbox(client, mate)["reports"]] == [(spot, False)]


def test_a_team_hears_its_report_verified_and_given_to_another_team_but_not_what_it_did_itself(
    client, conn, team, make_team, make_user, bearer
) -> None:
    given = _report(client, team, "tin báo: mua bán lẻ ở quán nước cuối ngõ")
    own = _report(client, team, "tin báo: tụ tập ban đêm dưới gầm cầu")
    mate = bearer(make_user("to92", "team", team["id"]))
    other_team = make_team("Tổ bạn", [AREA_A])
    assert _move(client, given, "verified", "đúng là điểm bán lẻ").status_code == 200
    task = client.post(
        "/api/tasks",
        json={"kind": "suppression", "hotspot_id": given, "team_id": other_team, "note": "Tổ bạn nắm địa bàn này"},
    )
    assert task.status_code == 201, task.text
    # A member verifies the other report itself, and command gives it to the team: the team did or is told that
    # already (its task's notice), not twice.
    assert _move(client, own, "verified", headers=mate).status_code == 200
    mine = client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": own, "team_id": team["id"]})
    assert mine.status_code == 201, mine.text

    heard = _inbox(client, mate)
    assert [(n["hotspot_id"], n["status"], n["note"]) for n in heard["reports"]] == [
        (given, "assigned", None),  # another team's task: neither its note nor the team named
        (given, "verified", "đúng là điểm bán lẻ"),
    ]
    assert [n["listed"] for n in heard["reports"]] == [True, True]  # still in the list: «đã giao cho tổ khác xử lý»
    assert "Tổ bạn" not in str(heard["reports"])
    assert [(e["task_id"], e["to_state"]) for e in heard["events"]] == [(mine.json()["id"], "assigned")]
    assert _inbox_rows(conn, "to92") == 3


def _task_moves(client, task_id: int, moves: list[tuple[str, dict | None]]) -> None:
    """A task's transitions in order, each by whom ``headers`` say (None: command)."""
    for to, headers in moves:
        version = client.get(f"/api/tasks/{task_id}", headers=headers).json()["version"]
        moved = client.post(f"/api/tasks/{task_id}/transitions", json={"to": to, "version": version}, headers=headers)
        assert moved.status_code == 200, moved.text


def test_a_team_hears_how_its_report_ended_when_another_team_worked_it(
    client, conn, team, make_team, make_user, bearer
) -> None:
    """Eradicated by another team's work, then recurred: the reporters heard neither (the spot had left their list
    with its task), though whether what they reported was dealt with is what they wait for."""
    spot = _report(client, team, "tin báo: mua bán lẻ ở quán nước cuối ngõ")
    other = bearer(make_user("to-ban", "team", make_team("Tổ bạn", [AREA_A])))
    other_id = conn.execute(text("SELECT team_id FROM users WHERE username = 'to-ban'")).scalar_one()
    assert _move(client, spot, "verified").status_code == 200
    task = client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": spot, "team_id": other_id}).json()
    _task_moves(client, task["id"], [("in_progress", other), ("completed", other), ("accepted", None)])
    assert _move(client, spot, "eradicated", "đã triệt xóa điểm bán lẻ").status_code == 200
    # Kept clean and closed by command after the monitoring period, then found again by detection (the events as
    # those steps record them: the period is months long).
    for actor, source, target, note in (
        ("test-command", "eradicated", "monitoring", "bắt đầu giữ sạch"),
        ("test-command", "monitoring", "closed", "hết thời gian theo dõi, sạch"),
        ("detection run 9", "closed", "recurred", "phức tạp trở lại"),
    ):
        conn.execute(
            text("""INSERT INTO hotspot_events (hotspot_id, actor, event, from_status, to_status, note, details)
                    VALUES (:h, :actor, CASE WHEN :to = 'recurred' THEN 'recurred' ELSE 'transition' END, :from, :to,
                            :note, '{}')"""),
            {"h": spot, "actor": actor, "from": source, "to": target, "note": note},
        )
    heard = [(n["hotspot_id"], n["status"], n["note"]) for n in _inbox(client, team["headers"])["reports"]]
    assert heard == [  # not the start of monitoring: the spot is kept clean since its eradication
        (spot, "recurred", "phức tạp trở lại"),
        (spot, "closed", "hết thời gian theo dõi, sạch"),
        (spot, "eradicated", "đã triệt xóa điểm bán lẻ"),  # command's note on the spot, as its history shows it
        (spot, "assigned", None),
        (spot, "verified", None),
    ]


def test_a_provincial_commander_outside_their_province_is_refused_in_the_province_terms(
    client, conn, make_user, bearer, second_province_path
) -> None:
    """A Quảng Ninh commander reporting a point in Hải Phòng is told it lies outside Quảng Ninh, not outside a team's
    area (they have none)."""
    from gis.services.boundary_import import import_boundaries
    from tests.conftest import SECOND_PROVINCE

    requests_in_savepoints(client.app, conn)
    import_boundaries(conn, second_province_path)
    lon, lat = _point(conn, AREA_A)  # a Hải Phòng commune
    before = _hotspots(conn)
    headers = bearer(make_user("qn-bao-diem", "command", province_code=SECOND_PROVINCE))
    refused = client.post("/api/hotspots", json={"lon": lon, "lat": lat, "note": "tin báo"}, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("điểm này nằm ngoài Tỉnh Quảng Ninh: tài khoản của bạn chỉ báo"), (
        refused.json()["message"]
    )
    assert "tổ" not in refused.json()["message"].split()
    assert _hotspots(conn) == before


def test_a_point_in_no_unit_is_refused_even_nation_wide(client, conn) -> None:
    """A nation-wide commander's point at sea (inside the loaded units' extent, in none of them) had been stored with
    no commune, in no province's register: refused in Vietnamese, nothing stored."""
    requests_in_savepoints(client.app, conn)
    lon, lat = conn.execute(
        text("""SELECT ST_XMax(e) - 0.001, ST_YMin(e) + 0.001 FROM (SELECT ST_Extent(geom) e FROM admin_units
                WHERE valid_to IS NULL) x""")
    ).one()
    in_a_unit = (
        "SELECT EXISTS (SELECT 1 FROM admin_units WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)))"
    )
    assert not conn.execute(text(in_a_unit), {"x": lon, "y": lat}).scalar_one()  # the extent's corner is at sea
    before = _hotspots(conn)
    refused = client.post("/api/hotspots", json={"lon": lon, "lat": lat, "note": "tin báo ngoài biển"})
    assert refused.status_code == 422, refused.text
    assert "không nằm trong xã, phường, đặc khu nào" in refused.json()["message"]
    assert _hotspots(conn) == before

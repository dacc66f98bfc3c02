"""Dissolving a team (giải thể tổ): refused while it holds unfinished tasks or members, then its area ends today, it is
kept for history (its old tasks and the audit still name it) and nothing offers it again: the team list and pickers,
command's suggestions, a new member, a new area, a task."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from gis.services.boundary_import import import_boundaries
from models.domain.access import Principal
from models.vocabulary import local_today
from tests.conftest import SECOND_PROVINCE, conversion_task

AREA_A, AREA_B = "10507", "10525"
COMMAND = Principal(0, "chihuy", "command")


@pytest.fixture
def admin(make_user, bearer) -> dict:
    """Headers of a logged-in administrator."""
    return bearer(make_user("quan-tri-giai-the", "admin"))


def team_row(client, admin, team_id: int) -> dict | None:
    return next((t for t in client.get("/api/teams", headers=admin).json() if t["id"] == team_id), None)


def dissolve(client, admin, team_id: int, version: int):
    return client.post(f"/api/teams/{team_id}/dissolution", json={"version": version}, headers=admin)


def test_a_team_holding_tasks_or_members_is_not_dissolved_and_is_told_what_to_do_first(
    client, conn, admin, make_team, make_user
) -> None:
    team = make_team("Tổ còn việc", [AREA_A])
    member = make_user("to-con-viec", "team", team)
    tasks = [conversion_task(conn, COMMAND, AREA_A, year, team) for year in (2024, 2025)]
    listed = team_row(client, admin, team)
    assert (listed["members"], listed["unfinished_tasks"]) == (1, 2)
    refused = dissolve(client, admin, team, 1)
    assert refused.status_code == 409
    assert refused.json()["message"] == (
        "chưa thể giải thể tổ «Tổ còn việc»: tổ còn giữ 2 nhiệm vụ chưa kết thúc (đang làm hoặc chờ nghiệm thu): ban"
        " chỉ huy cần giao lại cho tổ khác, nghiệm thu hoặc hủy các nhiệm vụ này trước; còn 1 thành viên (kể cả tài"
        " khoản ngừng hoạt động): hãy chuyển họ sang tổ khác hoặc đổi vai trò trước"
    )
    # A task completed and awaiting acceptance is not finished: command may still return it to the team.
    conn.execute(text("UPDATE tasks SET state = 'canceled' WHERE id = :t"), {"t": tasks[0]})
    conn.execute(text("UPDATE tasks SET state = 'completed' WHERE id = :t"), {"t": tasks[1]})
    conn.execute(text("UPDATE users SET active = false WHERE id = :u"), {"u": member})
    again = dissolve(client, admin, team, 1).json()["message"]
    assert "còn giữ 1 nhiệm vụ chưa kết thúc" in again and "còn 1 thành viên" in again
    assert conn.execute(text("SELECT dissolved_on FROM teams WHERE id = :t"), {"t": team}).scalar() is None


def test_a_dissolved_team_keeps_its_history_and_is_offered_nowhere(client, conn, admin, make_team, make_user) -> None:
    team = make_team("Tổ sáp nhập", [AREA_A, AREA_B])
    other = make_team("Tổ tiếp nhận", [AREA_A])
    old = conversion_task(conn, COMMAND, AREA_A, 2024, team)
    conn.execute(text("UPDATE tasks SET state = 'accepted' WHERE id = :t"), {"t": old})
    conn.execute(  # a team area that began before today (created today, the period could not end today)
        text("UPDATE team_areas SET valid_from = valid_from - 30 WHERE team_id = :t"), {"t": team}
    )
    planned = local_today() + timedelta(days=10)
    change = {"communes": [AREA_A], "valid_from": str(planned)}
    assert client.put(f"/api/teams/{team}/area", json=change, headers=admin).status_code == 200
    assert dissolve(client, admin, team, 2).status_code == 412  # read before another change
    done = dissolve(client, admin, team, 1)
    assert done.status_code == 200, done.text
    assert done.json() | {"version": 0} == {
        "id": team,
        "name": "Tổ sáp nhập",
        "dissolved_on": str(local_today()),
        "communes": [AREA_A, AREA_B],
        "planned_dropped": [str(planned)],
        "left_without_team": [{"commune_code": AREA_B, "commune_name": "Phường Hải Dương"}],  # A: «Tổ tiếp nhận»'s
        "version": 0,
    }
    # Its area ended today, the planned change dropped; its history stays readable.
    periods = client.get(f"/api/teams/{team}/areas", headers=admin).json()
    assert {(p["commune_code"], p["valid_to"]) for p in periods} == {(c, str(local_today())) for c in (AREA_A, AREA_B)}
    # Offered nowhere: lists, command's suggestions, a new member, a move, an area, a task.
    assert team_row(client, admin, team) is None and team_row(client, admin, other) is not None
    suggested = client.get(f"/api/tasks/suggest-assignee?commune={AREA_A}").json()["candidates"]
    assert [c["team_id"] for c in suggested] == [other]
    gone = "tổ công tác «Tổ sáp nhập» đã giải thể ngày"
    member = make_user("to-tiep-nhan", "team", other)
    refusals = [
        client.post("/api/users", json={"username": "to-moi", "role": "team", "team_id": team}, headers=admin),
        client.put(f"/api/users/{member}/team", json={"team_id": team, "version": 1}, headers=admin),
        client.put(
            f"/api/teams/{team}/area", json={"communes": [AREA_B], "valid_from": str(local_today())}, headers=admin
        ),
        client.put(
            f"/api/teams/{team}/name", json={"name": "Tổ hồi sinh", "version": done.json()["version"]}, headers=admin
        ),
        client.post("/api/tasks", json={"kind": "conversion", "commune_code": AREA_B, "year": 2026, "team_id": team}),
        dissolve(client, admin, team, done.json()["version"]),
    ]
    assert [(r.status_code, gone in r.json()["message"]) for r in refusals] == [(409, True)] * len(refusals)
    # History: its old task and the audit still name it.
    assert client.get(f"/api/tasks/{old}").json()["team"] == "Tổ sáp nhập"
    entry = client.get("/api/audit", headers=admin).json()[0]
    assert (entry["action"], entry["action_label"], entry["target_team"]) == (
        "dissolve_team",
        "Giải thể tổ công tác",
        "Tổ sáp nhập",
    )
    assert entry["details_text"] == (
        f"địa bàn 2 xã/phường (Phường Thành Đông, Phường Hải Dương) kết thúc ngày {local_today():%d/%m/%Y};"
        " không còn tổ nào phụ trách: Phường Hải Dương"
    )


def test_a_team_made_today_is_dissolved_without_a_period_of_no_day(client, conn, admin, make_team) -> None:
    """An area that began today never held a whole day: it is dropped (a period may not end on the day it begins)."""
    team = make_team("Tổ lập nhầm", [AREA_B])
    assert dissolve(client, admin, team, 1).status_code == 200
    assert client.get(f"/api/teams/{team}/areas", headers=admin).json() == []


def test_the_registers_filters_may_name_a_dissolved_team_to_find_its_old_tasks(
    client, conn, admin, make_team, make_user, make_hotspot, bearer, second_province_path
) -> None:
    """A dissolved team stays out of every picker (the team list as read by default), but the registers' filters ask
    for it too (``include_dissolved``), after the working teams and with the day it was dissolved, so that command can
    look up its completed, accepted or cancelled tasks; a dissolved team without a task the user may see is not listed
    (a filter by it would list nothing), and a provincial command of another province does not learn of it."""
    import_boundaries(conn, second_province_path)
    gone, empty = make_team("Tổ đã nhập", [AREA_A]), make_team("Tổ chưa làm gì", [AREA_B])
    working = make_team("Tổ đang làm", [AREA_A])
    old = conversion_task(conn, COMMAND, AREA_A, 2024, gone)
    hotspot = make_hotspot(AREA_A)
    assert client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1}).is_success
    task = {"kind": "suppression", "hotspot_id": hotspot, "team_id": gone}
    suppression = client.post("/api/tasks", json=task).json()["id"]
    conn.execute(text("UPDATE tasks SET state = 'accepted' WHERE id = ANY(:t)"), {"t": [old, suppression]})
    for team in (gone, empty):
        assert dissolve(client, admin, team, 1).status_code == 200

    def listed(headers: dict | None = None, **params) -> list[tuple[str, str | None]]:
        answer = client.get("/api/teams", params=params, headers=headers or {}).json()
        return [(t["name"], t["dissolved_on"]) for t in answer if t["id"] in (gone, empty, working)]

    assert listed() == [("Tổ đang làm", None)]  # a picker's list: working teams only
    assert listed(include_dissolved="true") == [("Tổ đang làm", None), ("Tổ đã nhập", str(local_today()))]
    assert listed(admin, include_dissolved="true")[-1] == ("Tổ đã nhập", str(local_today()))
    provincial = {p: bearer(make_user(f"chihuy-{p}", "command", None, p)) for p in ("31", SECOND_PROVINCE)}
    assert listed(provincial["31"], include_dissolved="true")[-1] == ("Tổ đã nhập", str(local_today()))
    assert listed(provincial[SECOND_PROVINCE], include_dissolved="true") == []
    # The filters it feeds find its old tasks, in both registers.
    found = client.get("/api/tasks", params={"team": gone}).json()["tasks"]
    assert sorted(t["id"] for t in found) == sorted([old, suppression])
    assert [f["id"] for f in client.get("/api/hotspots", params={"team": gone}).json()["features"]] == [hotspot]
    refused = client.get("/api/teams", params={"include_dissolved": "có"})
    assert refused.status_code == 422
    assert "kể cả tổ đã giải thể" in refused.json()["message"]


def test_a_new_team_may_not_take_a_dissolved_teams_name_and_is_told_why(client, conn, admin, make_team) -> None:
    """The name stays the dissolved team's (its old tasks, the filters and the audit name it): a new team or a renamed
    one is refused with the day it was dissolved — the administrator's list no longer shows it, and «đã tồn tại» sent
    them looking for a team that is not there."""
    gone, other = make_team("Tổ Ngô Quyền", [AREA_A]), make_team("Tổ Lê Chân", [AREA_B])
    assert dissolve(client, admin, gone, 1).status_code == 200
    expected = (
        f"tên «Tổ Ngô Quyền» là của tổ công tác đã giải thể ngày {local_today():%d/%m/%Y}: nhiệm vụ cũ và nhật ký vẫn"
        " mang tên này — hãy đặt tên khác (ví dụ thêm năm thành lập)"
    )
    created = client.post("/api/teams", json={"name": "tổ ngô quyền", "communes": [AREA_A]}, headers=admin)
    renamed = client.put(f"/api/teams/{other}/name", json={"name": "Tổ Ngô Quyền", "version": 1}, headers=admin)
    assert [(r.status_code, r.json()["message"]) for r in (created, renamed)] == [(409, expected)] * 2
    assert client.post("/api/teams", json={"name": "Tổ Ngô Quyền 2026", "communes": [AREA_A]}, headers=admin).is_success

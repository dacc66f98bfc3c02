"""Administration over the API: users (generated passwords shown once, deactivation, reset, unlock), teams and their
areas over time (permissions follow the area valid that day), and the append-only audit of every action."""

from datetime import timedelta
from unittest.mock import ANY

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models.vocabulary import local_today
from tests.conftest import TEST_PASSWORD

AREA_A, AREA_B, AREA_C = "10507", "10525", "10532"


@pytest.fixture
def admin(client, make_user, bearer) -> dict:
    """Headers of a logged-in administrator."""
    return bearer(make_user("quan-tri", "admin"))


def token(client, username: str, password: str):
    return client.post("/api/auth/token", data={"username": username, "password": password})


def test_a_new_user_gets_a_generated_password_once_and_can_log_in(client, admin, conn) -> None:
    team = client.post("/api/teams", json={"name": "Tổ mới", "communes": [AREA_A]}, headers=admin).json()
    created = client.post(
        "/api/users", json={"username": "to-moi", "role": "team", "team_id": team["id"]}, headers=admin
    )
    assert created.status_code == 201
    password = created.json()["password"]
    assert len(password) == 14 and token(client, "to-moi", password).status_code == 200
    assert password not in str(client.get("/api/users", headers=admin).json())
    assert password not in str(client.get("/api/audit", headers=admin).json())
    chosen = client.post(
        "/api/users",
        json={"username": "tm2", "role": "planner", "password": "mat-khau-dai", "national": True},
        headers=admin,
    )
    assert chosen.json()["password"] is None
    weak = {"username": "tm3", "role": "planner", "password": "12345678", "national": True}
    guessed = client.post("/api/users", json=weak, headers=admin)
    assert guessed.status_code == 422 and "mật khẩu quá dễ đoán" in guessed.json()["message"]
    stored = conn.execute(text("SELECT password_hash FROM users WHERE username = 'to-moi'")).scalar_one()
    assert stored.startswith("$argon2") and password not in stored


def test_a_password_the_administrator_gave_must_be_changed_before_anything_else(client, admin, make_user) -> None:
    """A reset (or a new account's) password is known to the administrator: until its user changes it, the user's
    token reaches only who am I, logout and the password change (403 password_change_required elsewhere), the new
    password must differ, and afterwards the administrator's password opens nothing. Before, the administrator could
    work as the planner (around four eyes) with only the reset in the audit."""
    planner_id = make_user("tham-muu-doi", "planner")
    given = client.post(f"/api/users/{planner_id}/password", headers=admin).json()["password"]
    listed = {u["username"]: u for u in client.get("/api/users", headers=admin).json()}
    assert listed["tham-muu-doi"]["must_change_password"] is True
    headers = {"Authorization": f"Bearer {token(client, 'tham-muu-doi', given).json()['access_token']}"}
    refused = client.get("/api/classifications/2025/review", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    assert refused.json()["message"] == "bạn cần đổi mật khẩu được giao trước khi làm việc: mở trang chủ để đổi"
    assert client.get("/api/auth/me", headers=headers).json()["must_change_password"] is True
    same = client.post("/api/auth/password", json={"current_password": given, "new_password": given}, headers=headers)
    assert same.status_code == 422 and same.json()["message"] == "mật khẩu mới phải khác mật khẩu hiện tại"
    changed = client.post(
        "/api/auth/password", json={"current_password": given, "new_password": "cua-rieng-toi-1"}, headers=headers
    )
    assert changed.status_code == 200
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get("/api/auth/me", headers=fresh).json()["must_change_password"] is False
    assert client.get("/api/classifications/2025/review", headers=fresh).status_code != 403
    assert token(client, "tham-muu-doi", given).status_code == 401
    created = client.post(
        "/api/users", json={"username": "moi-tao", "role": "command", "national": True}, headers=admin
    ).json()
    fresh_account = {"Authorization": f"Bearer {token(client, 'moi-tao', created['password']).json()['access_token']}"}
    assert client.get("/api/tasks", headers=fresh_account).json()["code"] == "password_change_required"


def test_a_users_own_password_change_is_a_line_of_the_admin_audit(client, admin, make_user, bearer, conn) -> None:
    """A user changing their own password, freely or the one an administrator gave (the forced change at the next
    login), is its own line of the admin audit: the user, the address it came from, whether it replaced a given
    password; never the password or its hash. A refused change leaves none. Before, only the session's end reason
    (pruned with the sessions) said it happened."""
    user_id = make_user("tu-doi-mat-khau", "planner")
    body = {"current_password": TEST_PASSWORD, "new_password": "cua-rieng-toi-1"}
    wrong = client.post("/api/auth/password", json={**body, "current_password": "sai"}, headers=bearer(user_id))
    assert wrong.status_code == 403
    assert client.post("/api/auth/password", json=body, headers=bearer(user_id)).status_code == 200
    given = client.post(f"/api/users/{user_id}/password", headers=admin).json()["password"]
    forced = {"Authorization": f"Bearer {token(client, 'tu-doi-mat-khau', given).json()['access_token']}"}
    second = {"current_password": given, "new_password": "cua-rieng-toi-2"}
    assert client.post("/api/auth/password", json=second, headers=forced).status_code == 200

    entries = client.get("/api/audit?limit=3", headers=admin).json()
    assert [(e["actor"], e["action"], e["target_user"]) for e in entries] == [
        ("tu-doi-mat-khau", "change_own_password", "tu-doi-mat-khau"),
        ("quan-tri", "reset_password", "tu-doi-mat-khau"),
        ("tu-doi-mat-khau", "change_own_password", "tu-doi-mat-khau"),
    ]
    assert entries[0]["action_label"] == "Tự đổi mật khẩu" and entries[0]["target_user_id"] == user_id
    assert entries[0]["details"] == {"address": "testclient", "given": True, "given_by": "quan-tri", "given_at": ANY}
    day = local_today().strftime("%d/%m/%Y")
    assert (
        entries[0]["details_text"]
        == f"thay mật khẩu do quản trị viên quan-tri cấp lại ngày {day}, từ địa chỉ testclient"
    )
    assert entries[2]["details_text"] == "từ địa chỉ testclient"
    stored = conn.execute(text("SELECT password_hash FROM users WHERE id = :id"), {"id": user_id}).scalar_one()
    said = str(entries)
    assert not [secret for secret in ("cua-rieng-toi", given, TEST_PASSWORD, stored, "$argon2") if secret in said]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"role": "team"}, "người dùng vai trò tổ công tác phải thuộc một tổ công tác"),
        ({"role": "admin", "province_code": "31"}, "chỉ người dùng vai trò ban chỉ huy và cán bộ tham mưu"),
    ],
)
def test_a_user_refused_for_its_role_is_told_why_in_words_of_the_page(client, admin, body: dict, said: str) -> None:
    """The administration page shows this refusal as it comes: role and field in Vietnamese, no API names or codes."""
    refused = client.post("/api/users", json={"username": "nguoi-moi", **body}, headers=admin)
    message = refused.json()["detail"]
    assert refused.status_code == 422 and said in message, message
    assert not {"team_id", "province_code", "'team'"} & {word for word in message.replace(":", " ").split()}, message


def test_deactivate_reset_and_unlock(client, admin, make_user, bearer, conn) -> None:
    user_id = make_user("nguoi-dung", "planner")
    headers = bearer(user_id)
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    listed = {u["username"]: u for u in client.get("/api/users", headers=admin).json()}
    version = listed["nguoi-dung"]["version"]
    off = client.patch(f"/api/users/{user_id}", json={"active": False, "version": version}, headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/api/auth/me", headers=headers).status_code == 401  # its session ends at once
    assert (
        client.patch(f"/api/users/{user_id}", json={"active": True, "version": version}, headers=admin).status_code
        == 412
    )
    on = client.patch(f"/api/users/{user_id}", json={"active": True, "version": version + 1}, headers=admin)
    assert on.json()["active"] is True
    assert client.get("/api/auth/me", headers=headers).status_code == 401  # its ended session stays ended
    assert client.get("/api/auth/me", headers=bearer(user_id)).status_code == 200  # a new login works
    me = client.get("/api/auth/me", headers=admin).json()
    me_version = next(u["version"] for u in client.get("/api/users", headers=admin).json() if u["id"] == me["id"])
    self_off = client.patch(f"/api/users/{me['id']}", json={"active": False, "version": me_version}, headers=admin)
    assert self_off.status_code == 422 and "chính mình" in self_off.json()["detail"]

    for _ in range(5):
        token(client, "nguoi-dung", "sai-mat-khau")
    assert next(u for u in client.get("/api/users", headers=admin).json() if u["id"] == user_id)["locked"]
    unlocked = client.post(f"/api/users/{user_id}/unlock", headers=admin)
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    reset = client.post(f"/api/users/{user_id}/password", headers=admin).json()
    assert reset["username"] == "nguoi-dung" and token(client, "nguoi-dung", reset["password"]).status_code == 200

    audit = client.get("/api/audit", headers=admin).json()
    assert [(a["action"], a["target_user"]) for a in audit[:4]] == [
        ("reset_password", "nguoi-dung"),
        ("unlock_user", "nguoi-dung"),
        ("activate_user", "nguoi-dung"),
        ("deactivate_user", "nguoi-dung"),
    ]
    assert audit[0]["actor"] == "quan-tri" and audit[1]["details"] == {"was_locked": True}
    assert audit[0]["action_label"] == "Cấp lại mật khẩu"


def test_area_changes_take_effect_from_their_day_and_keep_history(
    client, admin, make_user, bearer, make_hotspot
) -> None:
    team = client.post("/api/teams", json={"name": "Tổ địa bàn", "communes": [AREA_A]}, headers=admin).json()
    member = bearer(make_user("to-dia-ban", "team", team["id"]))
    in_a, in_b = make_hotspot(AREA_A), make_hotspot(AREA_B)
    visible = lambda: sorted(f["id"] for f in client.get("/api/hotspots", headers=member).json()["features"])  # noqa: E731
    assert visible() == [in_a]

    today, tomorrow = local_today(), local_today() + timedelta(days=1)
    planned = client.put(
        f"/api/teams/{team['id']}/area", json={"communes": [AREA_B], "valid_from": str(tomorrow)}, headers=admin
    )
    assert planned.status_code == 200 and (planned.json()["added"], planned.json()["removed"]) == ([AREA_B], [AREA_A])
    assert visible() == [in_a]  # today the area valid today counts
    listed = next(t for t in client.get("/api/teams", headers=admin).json() if t["id"] == team["id"])
    assert listed["communes"] == [AREA_A] and listed["next_change"] == str(tomorrow)

    now = client.put(
        f"/api/teams/{team['id']}/area", json={"communes": [AREA_A, AREA_B], "valid_from": str(today)}, headers=admin
    )
    assert now.json()["added"] == [AREA_B] and now.json()["removed"] == []
    assert planned.json()["planned_replaced"] == [] and now.json()["planned_replaced"] == [str(tomorrow)]
    assert visible() == [in_a, in_b]  # the planned change for tomorrow was replaced by today's
    history = client.get(f"/api/teams/{team['id']}/areas", headers=admin).json()
    assert {(h["commune_code"], h["valid_to"]) for h in history} == {(AREA_A, None), (AREA_B, None)}

    later = client.put(
        f"/api/teams/{team['id']}/area", json={"communes": [AREA_B], "valid_from": str(tomorrow)}, headers=admin
    )
    assert later.json()["removed"] == [AREA_A]
    history = client.get(f"/api/teams/{team['id']}/areas", headers=admin).json()
    assert (AREA_A, str(tomorrow)) in {(h["commune_code"], h["valid_to"]) for h in history}  # history kept
    assert visible() == [in_a, in_b]
    past = client.put(
        f"/api/teams/{team['id']}/area",
        json={"communes": [AREA_B], "valid_from": str(today - timedelta(days=1))},
        headers=admin,
    )
    assert past.status_code == 422 and "đã qua" in past.json()["detail"]
    unknown = client.put(
        f"/api/teams/{team['id']}/area", json={"communes": ["99999"], "valid_from": str(today)}, headers=admin
    )
    assert unknown.status_code == 404
    assert (
        client.put("/api/teams/999999/area", json={"communes": [], "valid_from": str(today)}, headers=admin).status_code
        == 404
    )
    actions = [a["action"] for a in client.get("/api/audit", headers=admin).json()]
    assert actions[:4] == ["change_team_area", "change_team_area", "change_team_area", "create_team"]


def test_a_planned_removal_replaced_by_an_earlier_change_is_named(client, admin) -> None:
    # A plan that only drops a commune ends its row on that day (nothing starts then): replacing it is said too.
    team = client.post("/api/teams", json={"name": "Tổ hai xã", "communes": [AREA_A, AREA_B]}, headers=admin).json()
    tomorrow, later = local_today() + timedelta(days=1), local_today() + timedelta(days=3)
    drop_b = client.put(
        f"/api/teams/{team['id']}/area", json={"communes": [AREA_A], "valid_from": str(later)}, headers=admin
    )
    assert drop_b.json()["removed"] == [AREA_B] and drop_b.json()["planned_replaced"] == []
    add_c = client.put(
        f"/api/teams/{team['id']}/area",
        json={"communes": [AREA_A, AREA_B, AREA_C], "valid_from": str(tomorrow)},
        headers=admin,
    )
    assert add_c.json()["added"] == [AREA_C] and add_c.json()["planned_replaced"] == [str(later)]
    history = client.get(f"/api/teams/{team['id']}/areas", headers=admin).json()
    assert {(h["commune_code"], h["valid_to"]) for h in history} == {(AREA_A, None), (AREA_B, None), (AREA_C, None)}


def test_a_commune_held_by_another_team_is_named_when_saving_an_area(client, admin) -> None:
    """Two teams on one commune is allowed (a ward's police and a task force), but the administrator is told."""
    first = client.post("/api/teams", json={"name": "Tổ chung A", "communes": [AREA_A]}, headers=admin).json()
    assert [c for c in first["shared"] if "Tổ chung B" in c["teams"]] == []
    second = client.post("/api/teams", json={"name": "Tổ chung B", "communes": [AREA_A, AREA_B]}, headers=admin).json()
    ours = [c for c in second["shared"] if "Tổ chung A" in c["teams"]]
    assert [c["commune_code"] for c in ours] == [AREA_A] and ours[0]["commune_name"]
    tomorrow = str(local_today() + timedelta(days=1))
    moved = client.put(
        f"/api/teams/{first['id']}/area", json={"communes": [AREA_B], "valid_from": tomorrow}, headers=admin
    ).json()
    assert [c["commune_code"] for c in moved["shared"] if "Tổ chung B" in c["teams"]] == [AREA_B]


def test_the_audit_is_append_only(client, admin, conn, owner_engine) -> None:
    """The application's role may not change the audit at all; even its owner is stopped by the trigger."""
    statements = ("UPDATE admin_audit SET actor = 'x'", "DELETE FROM admin_audit", "TRUNCATE admin_audit")
    with owner_engine.connect() as owner:  # first: the test's transaction will hold a lock on the audit
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), owner.begin():
                owner.execute(text(statement))
    client.post("/api/teams", json={"name": "Tổ nhật ký", "communes": [AREA_A]}, headers=admin)
    for statement in statements:
        with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
            conn.execute(text(statement))


def test_an_area_cannot_be_emptied_as_a_new_team_cannot_start_without_one(client, admin) -> None:
    """The rule of a new team holds for a change too: the page refused an empty area, the API left the team with none."""
    team = client.post("/api/teams", json={"name": "Tổ không rỗng", "communes": [AREA_A]}, headers=admin).json()
    emptied = client.put(
        f"/api/teams/{team['id']}/area", json={"communes": [], "valid_from": str(local_today())}, headers=admin
    )
    assert emptied.status_code == 422 and "ít nhất một xã, phường" in emptied.json()["detail"]
    listed = next(t for t in client.get("/api/teams", headers=admin).json() if t["id"] == team["id"])
    assert listed["communes"] == [AREA_A]


def test_a_new_teams_area_starts_no_earlier_than_its_communes_exist(client, admin, conn) -> None:
    """A team was created «từ 01/01/2020» over communes formed in 2025, unquestioned: refused, naming the day the
    communes begin; from that day on it is made."""
    begins = conn.execute(
        text("SELECT valid_from FROM admin_units WHERE code = :c AND valid_to IS NULL"), {"c": AREA_A}
    ).scalar_one()
    body = {"name": "Tổ từ xưa", "communes": [AREA_A], "valid_from": str(begins - timedelta(days=1))}
    early = client.post("/api/teams", json=body, headers=admin)
    assert early.status_code == 422, early.text
    assert early.json()["message"].endswith(f"hãy chọn từ ngày {begins:%d/%m/%Y} trở đi"), early.text
    assert client.post("/api/teams", json={**body, "valid_from": str(begins)}, headers=admin).status_code == 201


def test_a_team_name_differing_only_in_letter_case_is_the_same_team(client, admin) -> None:
    """«tổ đặc nhiệm» beside «Tổ Đặc nhiệm» was a second team the lists showed as two (Đ folds in Python, not in SQL)."""
    first = client.post("/api/teams", json={"name": "Tổ Đặc nhiệm", "communes": [AREA_A]}, headers=admin)
    again = client.post("/api/teams", json={"name": " tổ đặc NHIỆM ", "communes": [AREA_B]}, headers=admin)
    assert first.status_code == 201
    assert again.status_code == 409 and again.json()["detail"] == "tổ công tác «Tổ Đặc nhiệm» đã tồn tại"


def test_the_administrator_reviews_who_read_detailed_data_filtered_by_user_day_and_route(
    client, admin, make_user, bearer
) -> None:
    """The access log (who read incidents, photos, exports) was only reachable by `diaban audit` on the server: the
    administrator on the page could see their own colleagues' changes but not who read detailed data."""
    reader = bearer(make_user("doc-chi-tiet", "command"))
    assert client.get("/api/incidents?commune=10507", headers=reader).status_code == 200
    today = local_today().isoformat()
    lines = client.get(
        f"/api/access-log?username=doc-chi-tiet&from={today}&to={today}&route=incidents", headers=admin
    ).json()
    assert [(line["username"], line["route"], line["params"]) for line in lines] == [
        ("doc-chi-tiet", "GET /api/incidents", {"commune": "10507"})
    ]
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    assert client.get(f"/api/access-log?username=doc-chi-tiet&to={yesterday}", headers=admin).json() == []
    reversed_days = client.get(f"/api/access-log?from={today}&to={yesterday}", headers=admin)
    assert reversed_days.status_code == 422 and "khoảng ngày đảo ngược" in reversed_days.json()["detail"]
    assert client.get("/api/access-log?route=%00", headers=admin).status_code == 422
    review = client.get("/api/access-log?route=access-log", headers=admin).json()
    assert review[0]["username"] == "quan-tri"  # reviewing the log is a line of it too
    assert client.get("/api/access-log", headers=reader).status_code == 403


def test_a_team_name_differing_only_in_spaces_or_invisible_characters_is_the_same_team(client, admin) -> None:
    """A page shows «Tổ  hai» as «Tổ hai», and a zero-width space pasted from a document shows as nothing: each made a
    second team that looked like the first, and a name of a zero-width space alone a team nobody could see."""
    first = client.post("/api/teams", json={"name": "Tổ hai", "communes": [AREA_A]}, headers=admin)
    assert first.status_code == 201
    for name in ("Tổ  hai", "Tổ\u200b hai", "\ufeffTổ\thai"):
        again = client.post("/api/teams", json={"name": name, "communes": [AREA_B]}, headers=admin)
        assert again.status_code == 409 and again.json()["detail"] == "tổ công tác «Tổ hai» đã tồn tại", name
    invisible = client.post("/api/teams", json={"name": "\u200b", "communes": [AREA_B]}, headers=admin)
    assert invisible.status_code == 422 and "tên tổ công tác cần từ 1 đến" in invisible.json()["detail"]


def test_a_login_name_differing_only_in_letter_case_is_the_same_user_and_logs_in_as_typed_on_a_phone(
    client, admin, conn
) -> None:
    """«Nguyen.A» beside «nguyen.a» was a second account (the audit told the two apart by one letter), and a phone that
    capitalises the first letter and adds a space after a word typed «To-phone » for «to-phone»: a refused login that
    counted towards the lock-out. The database refuses a second spelling too (migration 0021)."""
    created = client.post(
        "/api/users", json={"username": "to-phone", "role": "planner", "national": True}, headers=admin
    ).json()
    again = client.post("/api/users", json={"username": "TO-Phone", "role": "planner", "national": True}, headers=admin)
    assert again.status_code == 409 and "người dùng «to-phone» đã tồn tại" in again.json()["detail"]
    assert token(client, "To-phone ", created["password"]).status_code == 200
    failures = conn.execute(text("SELECT failed_logins FROM users WHERE id = :id"), {"id": created["id"]}).scalar()
    assert failures == 0
    with pytest.raises(DBAPIError), conn.begin_nested():
        conn.execute(text("INSERT INTO users (username, password_hash, role) VALUES ('TO-PHONE', '-', 'planner')"))


def test_the_admin_is_told_of_the_open_tasks_a_team_keeps_in_a_commune_taken_from_it(
    client, admin, make_user, bearer, conn
) -> None:
    """Moving a commune to another team leaves its open tasks with the old team (command reassigns them): the answer
    names them, per commune, so the administrator can say so; communes without open tasks are not named."""
    from conftest import conversion_task

    from gis.store.accounts import principal_by_username

    old = client.post("/api/teams", json={"name": "Tổ cũ", "communes": [AREA_A, AREA_B]}, headers=admin).json()
    command = principal_by_username(conn, "test-command")
    task = conversion_task(conn, command, AREA_A, local_today().year, old["id"])
    conversion_task(conn, command, AREA_B, local_today().year, None)  # not the team's: not named
    moved = client.put(
        f"/api/teams/{old['id']}/area", json={"communes": [AREA_C], "valid_from": str(local_today())}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    moved = moved.json()
    assert [(c["commune_code"], c["tasks"]) for c in moved["open_tasks_kept"]] == [(AREA_A, 1)]
    assert moved["open_tasks_kept"][0]["commune_name"]
    member = bearer(make_user("to-cu", "team", old["id"]))
    assert [t["id"] for t in client.get("/api/tasks", headers=member).json()["tasks"]] == [task]  # still its own


def test_ending_a_users_sessions_is_in_the_audit(client, admin, make_user, bearer) -> None:
    """`DELETE /api/users/{id}/sessions` (and `diaban users revoke`, the same service) was the one administrator action
    the audit left out: who logged a user out, and when, could not be told."""
    user_id = make_user("dien-thoai-mat", "planner")
    headers = bearer(user_id)
    ended = client.delete(f"/api/users/{user_id}/sessions", headers=admin)
    assert ended.status_code == 200 and ended.json() == {"revoked": 1}
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    latest = client.get("/api/audit", headers=admin).json()[0]
    assert (latest["action"], latest["target_user"], latest["details"]) == (
        "revoke_sessions",
        "dien-thoai-mat",
        {"revoked": 1},
    )
    assert latest["action_label"] == "Kết thúc mọi phiên đăng nhập của người dùng" and latest["actor"] == "quan-tri"
    assert client.delete("/api/users/999999/sessions", headers=admin).status_code == 404


def _version(client, admin, user_id: int) -> int:
    return next(u["version"] for u in client.get("/api/users", headers=admin).json() if u["id"] == user_id)


def test_a_renamed_team_keeps_its_members_and_area_and_its_name_stays_unique_up_to_letter_case(
    client, admin, make_user
) -> None:
    """Police units are renamed after a reorganisation: the team is the same (members, area), the audit names both
    names; another team's name, in any letter case, is refused as at creation; the team's own name in another case
    is not another team's."""
    team = client.post("/api/teams", json={"name": "Tổ Lê Chân", "communes": [AREA_A]}, headers=admin).json()
    client.post("/api/teams", json={"name": "Tổ Đồ Sơn", "communes": [AREA_B]}, headers=admin)
    make_user("to-le-chan", "team", team["id"])

    def rename(name: str, version: int):
        return client.put(f"/api/teams/{team['id']}/name", json={"name": name, "version": version}, headers=admin)

    taken = rename(" tổ đồ sơn ", 1)
    assert taken.status_code == 409 and taken.json()["detail"] == "tổ công tác «Tổ Đồ Sơn» đã tồn tại"
    assert rename("Tổ Lê Chân", 1).status_code == 422  # nothing to change: no audit line
    renamed = rename("tổ lê chân", 1)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {"id": team["id"], "before": "Tổ Lê Chân", "name": "tổ lê chân", "version": 2}
    assert rename("Đội Lê Chân", 1).status_code == 412
    assert rename("Đội Lê Chân", 2).status_code == 200
    listed = next(t for t in client.get("/api/teams", headers=admin).json() if t["id"] == team["id"])
    assert (listed["name"], listed["communes"], listed["members"]) == ("Đội Lê Chân", [AREA_A], 1)
    audit = client.get("/api/audit", headers=admin).json()
    assert [(a["action"], a["target_team"], a["details"]) for a in audit[:2]] == [
        ("rename_team", "Đội Lê Chân", {"before": "tổ lê chân", "after": "Đội Lê Chân"}),
        ("rename_team", "tổ lê chân", {"before": "Tổ Lê Chân", "after": "tổ lê chân"}),
    ]
    assert audit[0]["action_label"] == "Đổi tên tổ công tác"


def test_a_moved_member_keeps_working_in_the_new_team_and_the_open_tasks_stay_with_the_old(
    client, admin, make_user, bearer, conn
) -> None:
    """An officer transferred: same account and session, the next request sees the new team's tasks; the open tasks
    stay the old team's (tasks belong to teams), and the answer says the old team has nobody left to work them."""
    from conftest import conversion_task

    from gis.store.accounts import principal_by_username

    old = client.post("/api/teams", json={"name": "Tổ cũ", "communes": [AREA_A]}, headers=admin).json()
    new = client.post("/api/teams", json={"name": "Tổ mới", "communes": [AREA_B]}, headers=admin).json()
    command = principal_by_username(conn, "test-command")
    old_task = conversion_task(conn, command, AREA_A, local_today().year, old["id"])
    new_task = conversion_task(conn, command, AREA_B, local_today().year, new["id"])
    member = make_user("can-bo", "team", old["id"])
    headers = bearer(member)
    assert [t["id"] for t in client.get("/api/tasks", headers=headers).json()["tasks"]] == [old_task]

    def move(team_id: int, version: int, user_id: int = member):
        return client.put(f"/api/users/{user_id}/team", json={"team_id": team_id, "version": version}, headers=admin)

    assert move(old["id"], 1).status_code == 422  # already there
    assert move(999999, 1).status_code == 404
    moved = move(new["id"], 1)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["team"], moved.json()["version"]) == ("Tổ mới", 2)
    assert moved.json()["former_team"] == {"id": old["id"], "name": "Tổ cũ", "open_tasks": 1, "active_members": 0}
    assert move(old["id"], 1).status_code == 412
    assert [t["id"] for t in client.get("/api/tasks", headers=headers).json()["tasks"]] == [new_task]
    planner = make_user("tham-muu", "planner")
    refused = move(new["id"], 1, planner)  # only a team user belongs to a team
    assert refused.status_code == 422 and "phải thuộc một tổ" in refused.json()["detail"]
    latest = client.get("/api/audit", headers=admin).json()[0]
    assert (latest["action"], latest["target_user"], latest["target_team"], latest["details"]) == (
        "move_user",
        "can-bo",
        "Tổ mới",
        {"before": "Tổ cũ", "after": "Tổ mới"},
    )
    assert latest["action_label"] == "Chuyển người dùng sang tổ khác"


def test_a_role_change_takes_the_scope_of_the_new_role_and_ends_the_users_sessions(
    client, admin, make_user, bearer, conn
) -> None:
    """A team leader promoted to command: the team goes with the team role (a team user has a team, others none),
    every session ends at once (the rights change: a trigger on users, whoever changes the role), and the audit says
    role, team and province before and after."""
    team = client.post("/api/teams", json={"name": "Tổ trưởng", "communes": [AREA_A]}, headers=admin).json()
    leader = make_user("to-truong", "team", team["id"])
    headers = bearer(leader)
    assert client.get("/api/auth/me", headers=headers).status_code == 200

    def role(body: dict, version: int = 1):
        return client.put(f"/api/users/{leader}/role", json={**body, "version": version}, headers=admin)

    assert role({"role": "team", "team_id": team["id"]}).status_code == 422  # the same role: nothing to change
    with_team = role({"role": "command", "team_id": team["id"], "province_code": "31"})
    assert with_team.status_code == 422 and "phải thuộc một tổ" in with_team.json()["detail"]
    assert client.get("/api/auth/me", headers=headers).status_code == 200  # refusals end nothing
    promoted = role({"role": "command", "province_code": "31"})
    assert promoted.status_code == 200, promoted.text
    assert {k: promoted.json()[k] for k in ("role", "team", "province_code", "version")} == {
        "role": "command",
        "team": None,
        "province_code": "31",
        "version": 2,
    }
    assert promoted.json()["former_team"]["name"] == "Tổ trưởng"
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    reason = conn.execute(text("SELECT revoked_reason FROM sessions WHERE user_id = :u"), {"u": leader}).scalar_one()
    assert reason == "role"
    assert client.get("/api/auth/me", headers=bearer(leader)).json()["role"] == "command"  # a new login: new rights
    assert role({"role": "planner", "province_code": "31"}).status_code == 412
    latest = client.get("/api/audit", headers=admin).json()[0]
    assert (latest["action"], latest["target_user"], latest["action_label"]) == (
        "change_user_role",
        "to-truong",
        "Đổi vai trò người dùng",
    )
    assert latest["details"] == {
        "role": {"before": "team", "after": "command"},
        "team": {"before": "Tổ trưởng", "after": None},
        "province_code": {"before": None, "after": "31"},
    }
    back = role({"role": "team"}, 2)
    assert back.status_code == 422 and "phải thuộc một tổ" in back.json()["detail"]


def test_an_administrator_cannot_change_their_own_role(client, admin) -> None:
    """Nobody would have checked the rights an administrator gives themselves (the last one would lock everyone out)."""
    me = client.get("/api/auth/me", headers=admin).json()
    body = {"role": "command", "national": True, "version": _version(client, admin, me["id"])}
    own = client.put(f"/api/users/{me['id']}/role", json=body, headers=admin)
    assert own.status_code == 422 and own.json()["detail"].startswith("không thể tự đổi vai trò của chính mình")
    assert client.get("/api/auth/me", headers=admin).json()["role"] == "admin"


def test_a_command_or_planner_role_is_given_the_whole_country_only_when_asked_for(
    client, admin, make_user, bearer
) -> None:
    """An omitted province gave the whole country: a team member promoted to command (or a command user created) on
    the page, which had no province choice, saw every province. Such a role now needs a province or `national: true`
    — on creation and on a role change — and a contradiction is refused rather than read one way."""
    team = client.post("/api/teams", json={"name": "Tổ thăng chức", "communes": [AREA_A]}, headers=admin).json()
    member = make_user("can-bo-to", "team", team["id"])
    headers = bearer(member)

    def role(body: dict, version: int = 1):
        return client.put(f"/api/users/{member}/role", json={**body, "version": version}, headers=admin)

    def create(name: str, body: dict):
        return client.post("/api/users", json={"username": name, **body}, headers=admin)

    for body in ({"role": "command"}, {"role": "planner", "province_code": None}):
        unstated = role(body)
        assert unstated.status_code == 422, unstated.text
        assert unstated.json()["message"].startswith("vai trò «") and "chọn «Toàn quốc»" in unstated.json()["message"]
        assert create("chi-huy-moi", body).status_code == 422
    both = role({"role": "command", "province_code": "31", "national": True})
    assert both.status_code == 422 and "không chọn cả hai" in both.json()["message"]
    admin_national = create("quan-tri-2", {"role": "admin", "national": True})
    assert admin_national.status_code == 422 and "mới chọn phạm vi toàn quốc" in admin_national.json()["message"]
    # Refusals change nothing and create nobody.
    assert client.get("/api/auth/me", headers=headers).json()["role"] == "team"
    names = {u["username"] for u in client.get("/api/users", headers=admin).json()}
    assert not names & {"chi-huy-moi", "quan-tri-2"}, names

    national = role({"role": "command", "national": True})
    assert national.status_code == 200 and national.json()["province_code"] is None
    created = create("tham-muu-tinh", {"role": "planner", "province_code": "31"})
    assert created.status_code == 201 and created.json()["province_code"] == "31"
    whole = create("tham-muu-bo", {"role": "planner", "national": True})
    assert whole.status_code == 201 and whole.json()["province_code"] is None
    assert create("to-moi", {"role": "team", "team_id": team["id"]}).status_code == 201  # other roles: as before


def test_an_administrator_cannot_reset_their_own_password(client, admin) -> None:
    """A reset needs no current password: whoever held an administrator's open session took the account (a new
    password, the session ended, the owner locked out). Refused as one's own deactivation and role change are; the own
    change (current password asked) stays the way."""
    me = client.get("/api/auth/me", headers=admin).json()
    own = client.post(f"/api/users/{me['id']}/password", headers=admin)
    assert own.status_code == 422, own.text
    assert own.json()["detail"].startswith("không thể tự cấp lại mật khẩu của chính mình")
    assert "cần mật khẩu hiện tại" in own.json()["detail"]
    assert client.get("/api/auth/me", headers=admin).status_code == 200  # the session goes on, the password stays
    assert token(client, "quan-tri", TEST_PASSWORD).status_code == 200
    assert "reset_password" not in {e["action"] for e in client.get("/api/audit", headers=admin).json()}


def test_an_area_change_or_a_dissolution_names_the_communes_it_leaves_with_no_team(client, admin) -> None:
    """A commune removed from a team's area that no other team holds has nobody answering for it: the answers said
    only «removed» (as of a commune handed to another team). They name it, with its name; one another team holds is
    not named; the audit keeps the codes."""
    today = str(local_today())
    client.post("/api/teams", json={"name": "Tổ giữ B", "communes": [AREA_B]}, headers=admin)
    team = client.post("/api/teams", json={"name": "Tổ thu hẹp", "communes": [AREA_A, AREA_B, AREA_C]}, headers=admin)
    team_id = team.json()["id"]
    narrowed = client.put(f"/api/teams/{team_id}/area", json={"communes": [AREA_C], "valid_from": today}, headers=admin)
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["removed"] == sorted([AREA_A, AREA_B])
    left = narrowed.json()["left_without_team"]
    assert [c["commune_code"] for c in left] == [AREA_A] and left[0]["commune_name"], left
    version = next(t["version"] for t in client.get("/api/teams", headers=admin).json() if t["id"] == team_id)
    dissolved = client.post(f"/api/teams/{team_id}/dissolution", json={"version": version}, headers=admin)
    assert dissolved.status_code == 200, dissolved.text
    assert [c["commune_code"] for c in dissolved.json()["left_without_team"]] == [AREA_C]
    audit = client.get("/api/audit?limit=2", headers=admin).json()
    assert [e["details"]["left_without_team"] for e in audit] == [[AREA_C], [AREA_A]]


def test_deactivating_a_teams_last_active_member_says_its_open_tasks_have_nobody(
    client, admin, make_user, conn
) -> None:
    """Deactivating the only member of a team holding two assigned tasks answered the user alone: nothing said the
    tasks now had nobody, as a move or a role change says (`former_team`). It says so now; the teams list tells the
    members who can work (`active_members`) from the accounts it counts (`members`, deactivated ones included)."""
    from conftest import conversion_task

    from gis.store.accounts import principal_by_username

    team = client.post("/api/teams", json={"name": "Tổ một người", "communes": [AREA_A, AREA_B]}, headers=admin).json()
    command = principal_by_username(conn, "test-command")
    for commune in (AREA_A, AREA_B):
        conversion_task(conn, command, commune, local_today().year, team["id"])
    member = make_user("mot-minh", "team", team["id"])
    off = client.patch(f"/api/users/{member}", json={"active": False, "version": 1}, headers=admin)
    assert off.status_code == 200, off.text
    assert off.json()["former_team"] == {"id": team["id"], "name": "Tổ một người", "open_tasks": 2, "active_members": 0}
    listed = next(t for t in client.get("/api/teams", headers=admin).json() if t["id"] == team["id"])
    assert (listed["members"], listed["active_members"]) == (1, 0)
    on = client.patch(f"/api/users/{member}", json={"active": True, "version": 2}, headers=admin)
    assert on.status_code == 200 and on.json()["former_team"] is None


def test_the_audit_names_the_communes_of_an_area_change_and_says_what_a_deactivation_did(
    client, admin, make_user, conn
) -> None:
    """The audit read «thêm 0, bớt 3 xã/phường»: which communes, the administrator could not tell. It names them (and
    those left with no team), as a new team's area; a deactivation's line said nothing at all."""
    names = dict(
        conn.execute(
            text("SELECT code, full_name FROM admin_units WHERE code = ANY(:c) AND valid_to IS NULL"),
            {"c": [AREA_A, AREA_B, AREA_C]},
        ).all()
    )
    team = client.post("/api/teams", json={"name": "Tổ ghi tên xã", "communes": [AREA_A, AREA_B]}, headers=admin)
    today = local_today()
    client.put(
        f"/api/teams/{team.json()['id']}/area", json={"communes": [AREA_C], "valid_from": str(today)}, headers=admin
    )
    user = make_user("se-ngung", "planner")
    client.patch(f"/api/users/{user}", json={"active": False, "version": 1}, headers=admin)
    deactivated, changed, created = client.get("/api/audit?limit=3", headers=admin).json()
    removed = ", ".join(names[c] for c in sorted([AREA_A, AREA_B]))
    assert changed["details_text"] == (
        f"từ {today:%d/%m/%Y}: thêm 1 xã/phường ({names[AREA_C]}), bớt 2 xã/phường ({removed});"
        f" không còn tổ nào phụ trách: {removed}"
    )
    assert created["details_text"].startswith(f"2 xã/phường ({removed})")
    assert deactivated["action"] == "deactivate_user"
    assert deactivated["details_text"] == "không đăng nhập được nữa, mọi phiên đăng nhập đã kết thúc"


def test_an_area_set_again_the_same_day_names_what_it_replaced_as_its_audit_does(client, admin) -> None:
    """A team's area set today and set again today answered `planned_replaced: []` while its audit listed as
    `replaced_planned` every row of the morning's area (the kept ones too, written again as they were). The answer
    names the rows it replaced, commune and day, the same as the audit; a commune kept is no row replaced."""
    today = str(local_today())
    team = client.post("/api/teams", json={"name": "Tổ đặt lại", "communes": [AREA_A, AREA_B]}, headers=admin).json()
    again = client.put(
        f"/api/teams/{team['id']}/area", json={"communes": [AREA_A, AREA_C], "valid_from": today}, headers=admin
    )
    assert again.status_code == 200, again.text
    answered = again.json()["replaced_rows"]
    assert [(r["commune_code"], r["valid_from"]) for r in answered] == [(AREA_B, today)]
    assert answered[0]["commune_name"]
    audited = client.get("/api/audit?limit=1", headers=admin).json()[0]["details"]["replaced_planned"]
    assert audited == [{"commune_code": AREA_B, "valid_from": today}]


def test_the_teams_are_listed_in_vietnamese_order(client, admin) -> None:
    """The list read «Tổ Biên phòng…», «Tổ Nbsp», then «Tổ công tác…» (the database's code-point order: capitals
    first), and «Tổ Đ…» after every «Tổ Z…»: the pickers list teams as a Vietnamese reader looks for them."""
    made = ["Tổ Nbsp", "Tổ công tác số 9", "Tổ Đồ Sơn thử", "Tổ Biên phòng thử", "Tổ Dương Kinh thử"]
    for name in made:
        assert client.post("/api/teams", json={"name": name, "communes": [AREA_A]}, headers=admin).status_code == 201
    listed = [t["name"] for t in client.get("/api/teams", headers=admin).json() if t["name"] in made]
    assert listed == ["Tổ Biên phòng thử", "Tổ công tác số 9", "Tổ Dương Kinh thử", "Tổ Đồ Sơn thử", "Tổ Nbsp"]

"""Setting up a city from one file (`POST /api/users/import`): new teams with their areas and new users, all or
nothing, each user's one-time password answered once in an Excel sheet, every creation audited."""

from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from gis.services.account_import import PASSWORDS_AT_IMPORT, template_bytes
from tests.conftest import footprint

HEADER = "Tên đăng nhập,Vai trò,Tổ công tác,Xã/phường,Tỉnh\n"
CITY = HEADER + (
    'to-a-1,Tổ công tác,Tổ Nhập A,"Phường Lê Chân; 10507",\n'
    "to-a-2,tổ công tác,tổ nhập a,,\n"
    "to-b-1,team,Tổ Nhập B,Xã An Hưng,\n"
    "chihuy-nhap,Ban chỉ huy,,,31\n"
    "thammuu-nhap,Cán bộ tham mưu,,,Toàn quốc\n"
)


@pytest.fixture
def admin(client, make_user, bearer) -> dict:
    """Headers of a logged-in administrator."""
    return bearer(make_user("quan-tri-nhap", "admin"))


def upload(client, headers: dict, content: str | bytes, name: str = "thanh-pho.csv", dry_run: bool = False):
    body = content.encode() if isinstance(content, str) else content
    params = {"dry_run": "true"} if dry_run else {}
    return client.post("/api/users/import", headers=headers, files={"file": (name, body)}, params=params)


def passwords(response) -> dict[str, str]:
    """Username → one-time password of the answered sheet (rows under the header «Tên đăng nhập»)."""
    sheet = load_workbook(BytesIO(response.content)).active
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    start = next(i for i, row in enumerate(rows) if "Tên đăng nhập" in row) + 1
    return {row[1]: row[4] for row in rows[start:] if isinstance(row[0], int)}


def test_a_city_file_creates_teams_with_areas_and_users_who_must_change_their_password(client, admin, conn) -> None:
    answered = upload(client, admin, CITY)
    assert answered.status_code == 200, answered.text
    assert answered.headers["cache-control"] == "no-store"
    assert (answered.headers["x-created-teams"], answered.headers["x-created-users"]) == ("2", "5")
    sheet = load_workbook(BytesIO(answered.content)).active
    texts = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "Giao riêng cho từng cán bộ" in texts and "hủy bảng này" in texts
    given = passwords(answered)
    assert sorted(given) == ["chihuy-nhap", "thammuu-nhap", "to-a-1", "to-a-2", "to-b-1"]
    assert all(len(p) == 14 for p in given.values())
    areas = dict(
        conn.execute(
            text("""SELECT t.name, array_agg(a.commune_code ORDER BY a.commune_code) FROM teams t
                    JOIN team_areas a ON a.team_id = t.id WHERE t.name LIKE 'Tổ Nhập%' GROUP BY t.name""")
        ).all()
    )
    assert areas == {"Tổ Nhập A": ["10507", "11383"], "Tổ Nhập B": ["11674"]}
    users = {
        r.username: r
        for r in conn.execute(
            text("""SELECT u.username, u.role, t.name AS team, u.province_code, u.must_change_password, u.password_hash
                    FROM users u LEFT JOIN teams t ON t.id = u.team_id WHERE u.username LIKE '%-%' """)
        )
    }
    assert (users["to-a-2"].role, users["to-a-2"].team) == ("team", "Tổ Nhập A")
    assert (users["chihuy-nhap"].role, users["chihuy-nhap"].province_code) == ("command", "31")
    assert (users["thammuu-nhap"].role, users["thammuu-nhap"].province_code) == ("planner", None)
    assert all(users[name].must_change_password for name in given)
    assert not any(p in users[name].password_hash for name, p in given.items())
    # The officer logs in with the line handed to them and is sent to the password change first.
    login = client.post("/api/auth/token", data={"username": "to-b-1", "password": given["to-b-1"]})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/api/auth/me", headers=headers).json()["must_change_password"] is True
    assert client.get("/api/tasks/mine", headers=headers).json()["code"] == "password_change_required"
    # Each creation audited as a single one, the file named; no password anywhere in the audit or the access log.
    audit = client.get("/api/audit", headers=admin).json()
    imported = [e for e in audit if "thanh-pho.csv" in e["details_text"]]
    assert sorted(e["action"] for e in imported) == ["create_team"] * 2 + ["create_user"] * 5 + ["import_accounts"]
    # The import as a whole, last (the newest), with its file and counts, by the administrator who sent it.
    whole = audit[0]
    assert (whole["action"], whole["actor"], whole["details"]) == (
        "import_accounts",
        "quan-tri-nhap",
        {"file": "thanh-pho.csv", "teams": 2, "users": 5},
    )
    assert whole["action_label"] == "Nhập tài khoản từ tệp"
    assert whole["details_text"] == "2 tổ công tác mới, 5 người dùng mới; nhập từ tệp «thanh-pho.csv»"
    logged = str(conn.execute(text("SELECT array_agg(params::text) FROM access_log")).scalar())
    assert not any(p in str(audit) or p in logged for p in given.values())


def test_one_refused_row_creates_nothing_and_every_reason_has_its_line(client, admin, conn, make_team) -> None:
    make_team("Tổ Có Sẵn", ["10525"])
    old = make_team("Tổ Cũ", ["10532"])
    conn.execute(text("UPDATE teams SET dissolved_on = current_date WHERE id = :t"), {"t": old})
    bad = HEADER + (
        "to-c-1,Tổ công tác,Tổ Nhập C,Phường Lê Chân,\n"  # 2: valid
        "TO-C-1,Tổ công tác,Tổ Nhập C,,\n"  # 3: the same name up to case
        "quan-tri-2,Quản trị,,,\n"  # 4: no administrator from a file
        "ai-do,Thủ trưởng,,,\n"  # 5: unknown role
        "to-khong-to,Tổ công tác,,,\n"  # 6: team missing
        "to-d-1,Tổ công tác,Tổ Nhập D,Phường Không Có,\n"  # 7: unknown commune
        "to-cu-1,Tổ công tác,tổ cũ,,\n"  # 8: a dissolved team's name
        "quan-tri-nhap,Ban chỉ huy,,,31\n"  # 9: a user already existing
        "chihuy-2,Ban chỉ huy,,,\n"  # 10: province missing
        "to-e-1,Tổ công tác,Tổ Có Sẵn,Xã An Hưng,\n"  # 11: an existing team's area is not changed by a file
        "to-f-1,Tổ công tác,Tổ Nhập F,,\n"  # 12: a new team without an area
    )
    before = conn.execute(text("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM teams)")).one()
    refused = upload(client, admin, bad)
    assert refused.status_code == 422 and refused.json()["code"] == "rows_refused"
    assert "chưa tạo tổ, người dùng nào" in refused.json()["message"]
    rows = refused.json()["report"]["rejected"]["rows"]
    by_line = {r["line"]: (r["field_label"], r["message"]) for r in rows}
    assert sorted(by_line) == list(range(3, 13))
    assert "trùng với dòng 2" in by_line[3][1]
    assert by_line[4][0] == "Vai trò" and "từng quản trị viên" in by_line[4][1]
    assert "vai trò «Thủ trưởng» không có" in by_line[5][1]
    assert by_line[6] == ("Tổ công tác", "người dùng vai trò «Tổ công tác» cần tên tổ công tác")
    assert by_line[7][0] == "Xã/phường" and "Phường Không Có" in by_line[7][1]
    assert "đã giải thể" in by_line[8][1]
    assert "người dùng «quan-tri-nhap» đã tồn tại" in by_line[9][1]
    assert by_line[10][0] == "Tỉnh"
    assert "đã tồn tại" in by_line[11][1] and "để trống cột Xã/phường" in by_line[11][1]
    assert "chưa có địa bàn" in by_line[12][1]
    after = conn.execute(text("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM teams)")).one()
    assert after == before


def test_the_same_file_imported_again_is_refused_as_existing_and_nothing_is_doubled(client, admin, conn) -> None:
    assert upload(client, admin, CITY).status_code == 200
    counted = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM teams), (SELECT count(*) FROM admin_audit)"
    before = conn.execute(text(counted)).one()
    again = upload(client, admin, CITY)
    assert again.status_code == 422
    reasons = [r["message"] for r in again.json()["report"]["rejected"]["rows"]]
    assert len({r["line"] for r in again.json()["report"]["rejected"]["rows"]}) == 5
    assert all("đã tồn tại" in reason for reason in reasons)
    assert conn.execute(text(counted)).one() == before


def test_a_dry_run_says_what_the_file_would_create_without_passwords_and_leaves_nothing(client, admin, conn) -> None:
    """«Kiểm tra tệp»: the same creations rolled back — no team, user, area or audit line stays — answered as a report
    of what the import then creates; no password is made (the import makes them), and a file the import would refuse
    is refused alike."""
    before = footprint(conn)
    checked = upload(client, admin, CITY, dry_run=True)
    assert checked.status_code == 200, checked.text
    report = checked.json()
    assert checked.headers["cache-control"] == "no-store"
    assert (report["dry_run"], report["import_id"], report["counts"]) == (
        True,
        None,
        {"imported": 5, "rejected": 0, "teams": 2},
    )
    assert report["summary"] == "Tài khoản: sẽ nhập 5, tổ công tác mới 2"
    assert report["warnings"] == [PASSWORDS_AT_IMPORT] and "password" not in checked.text
    assert footprint(conn) == before
    imported = upload(client, admin, CITY)
    assert (imported.headers["x-created-teams"], imported.headers["x-created-users"]) == ("2", "5")
    refused_check, refused = upload(client, admin, CITY, dry_run=True), upload(client, admin, CITY)
    assert (refused_check.status_code, refused.status_code) == (422, 422)
    assert refused_check.json()["report"]["dry_run"] is True
    assert refused_check.json()["report"]["rejected"] == refused.json()["report"]["rejected"]


def test_the_template_imports_as_it_is_shipped_and_only_administrators_import(client, admin, make_user, bearer) -> None:
    template = client.get("/api/users/import-template", headers=admin)
    assert template.status_code == 200 and template.content == template_bytes()
    # Named in Vietnamese with its diacritics like every other download (was «mau-nhap-tai-khoan.xlsx»).
    assert template.headers["content-disposition"].endswith(
        "filename*=UTF-8''m%E1%BA%ABu-nh%E1%BA%ADp-t%C3%A0i-kho%E1%BA%A3n.xlsx"
    )
    answered = upload(client, admin, template.content, "mau-nhap-tai-khoan.xlsx")
    assert answered.status_code == 200, answered.text
    assert len(passwords(answered)) == 5
    for role in ("command", "planner", "team"):
        team = None
        if role == "team":
            team = client.post("/api/teams", json={"name": "Tổ thử", "communes": ["10525"]}, headers=admin).json()["id"]
        headers = bearer(make_user(f"khong-quyen-{role}", role, team))
        assert upload(client, headers, CITY).status_code == 403
        assert client.get("/api/users/import-template", headers=headers).status_code == 403


def test_the_password_sheet_names_each_users_province_as_the_users_list_does(client, admin) -> None:
    """The sheet's «Tổ công tác / phạm vi» read «tỉnh, thành phố mã 31»: a code the officer handed the line does not
    read. It names the team, the province («Thành phố Hải Phòng») or «Toàn quốc», as the users list does."""
    sheet = load_workbook(BytesIO(upload(client, admin, CITY).content)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int)]
    where = {row[1]: row[3] for row in rows}
    assert (where["chihuy-nhap"], where["thammuu-nhap"], where["to-b-1"]) == (
        "Thành phố Hải Phòng",
        "Toàn quốc",
        "Tổ Nhập B",
    ), where


def test_a_row_the_reader_found_broken_is_refused_whole_with_its_line(client, admin, conn) -> None:
    """A row with a cell beyond the header, or bytes that are no UTF-8: the reader marks it; the account import had
    read the cells it could and created the account."""
    broken = (
        HEADER.encode()
        + (
            "to-g-1,Tổ công tác,Tổ Nhập G,Phường Lê Chân,\n"  # 2: valid
            "to-g-2,Tổ công tác,Tổ Nhập G,,,thừa\n"  # 3: a cell beyond the header
        ).encode()
        + b"to-g-3,T\xff c\xf4ng t\xe1c,T\xff Nh\xe2p G,,\n"
    )  # 4: not UTF-8
    refused = upload(client, admin, broken)
    assert refused.status_code == 422, refused.text
    rows = {r["line"]: (r["field_label"], r["message"]) for r in refused.json()["report"]["rejected"]["rows"]}
    assert sorted(rows) == [3, 4] and {label for label, _ in rows.values()} == {"Cả dòng"}
    assert conn.execute(text("SELECT count(*) FROM users WHERE username LIKE 'to-g-%'")).scalar() == 0

"""The administrator's two trails as the page shows and exports them: the access log filtered by what was read (named in
Vietnamese, not by route), the admin audit with what changed in words, each as an administrative Excel file whose
export is itself a line of the access log."""

from datetime import datetime, timedelta
from io import BytesIO
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from models.vocabulary import LOCAL_TZ, local_today

PHOTO = "GET /api/tasks/{task_id}/photos/{photo_id}"


@pytest.fixture
def admin(make_user, bearer) -> dict:
    """Headers of a logged-in administrator."""
    return bearer(make_user("quan-tri-nhat-ky", "admin"))


@pytest.fixture
def lines(conn) -> None:
    """Reads of a photo, its preview, an incident list, and a route of an older version, yesterday at 23:30 Hải Phòng
    time (16:30 UTC: a day earlier than the server's UTC day would say at 00:30)."""
    yesterday = datetime.combine(local_today() - timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    at = yesterday + timedelta(hours=23, minutes=30)
    for username, route, rows in (
        ("to-anh", PHOTO, 1),
        ("to-anh", f"{PHOTO}/preview", 1),
        ("chihuy-xem", "GET /api/incidents", 42),
        ("cu", "GET /api/old-route", 3),
    ):
        conn.execute(
            text("""INSERT INTO access_log (at, username, role, route, params, rows, address)
                    VALUES (:at, :u, 'team', :r, CAST('{"commune": "10507"}' AS jsonb), :n, '10.0.0.7')"""),
            {"at": at, "u": username, "r": route, "n": rows},
        )


def newest_line(conn) -> tuple:
    return conn.execute(text("SELECT username, route, rows, params FROM access_log ORDER BY id DESC LIMIT 1")).one()


def test_the_access_log_is_filtered_by_what_was_read_and_names_it_in_vietnamese(client, conn, admin, lines) -> None:
    photos = client.get("/api/access-log?what=task_photo", headers=admin)
    assert photos.status_code == 200
    assert [(line["route"], line["what"], line["what_label"]) for line in photos.json()] == [
        (f"{PHOTO}/preview", "task_photo", "Ảnh nhiệm vụ"),
        (PHOTO, "task_photo", "Ảnh nhiệm vụ"),
    ]
    answered = client.get("/api/access-log", headers=admin).json()
    every = {line["route"]: line["what_label"] for line in answered}
    assert every["GET /api/incidents"] == "Danh sách vụ việc"
    assert every["GET /api/old-route"] == "GET /api/old-route"  # a route no longer named: shown as it is
    assert every["GET /api/access-log"] == "Nhật ký truy cập"  # the previous read, itself a line
    # The read's line counts the lines answered (commands' lines committed by other tests may repeat a route).
    assert newest_line(conn)[:3] == ("quan-tri-nhat-ky", "GET /api/access-log", len(answered))
    refused = client.get("/api/access-log?what=photos", headers=admin)
    assert (
        refused.status_code == 422
        and "dữ liệu đã xem: phải là một trong: Danh sách vụ việc;" in refused.json()["message"]
    )


def test_the_filtered_access_log_is_exported_to_excel_and_the_export_is_logged(client, conn, admin, lines) -> None:
    day = f"{local_today() - timedelta(days=1):%Y-%m-%d}"
    answer = client.get(f"/api/access-log.xlsx?what=task_photo&from={day}&to={day}&username=to-anh", headers=admin)
    assert answer.status_code == 200, answer.text
    name = f"nhật-ký-truy-cập-{local_today():%d-%m-%Y}.xlsx"
    assert answer.headers["content-disposition"].endswith(f"filename*=UTF-8''{quote(name, safe='')}")
    sheet = load_workbook(BytesIO(answer.content)).active
    assert sheet.title == "Nhật ký truy cập"
    assert sheet["A5"].value == "NHẬT KÝ TRUY CẬP DỮ LIỆU CHI TIẾT"
    assert sheet["A6"].value == "Tổng số: 2 dòng, mới nhất trước"
    shown = f"{local_today() - timedelta(days=1):%d/%m/%Y}"
    assert sheet["A7"].value.startswith("Người xuất: quan-tri-nhat-ky, lúc ")
    assert sheet["A7"].value.endswith(
        f"phạm vi: toàn hệ thống; lọc: từ ngày {shown}, đến ngày {shown}, người dùng to-anh, dữ liệu «Ảnh nhiệm vụ»"
    )
    header = [c.value for c in sheet[8]]
    assert header == [
        "STT",
        "Thời gian",
        "Người dùng",
        "Vai trò",
        "Dữ liệu đã xem",
        "Tham số",
        "Số dòng trả về",
        "Địa chỉ máy",
    ]
    first = [c.value for c in sheet[9]]
    assert first[0] == 1 and first[2:] == ["to-anh", "Tổ công tác", "Ảnh nhiệm vụ", "xã, phường=10507", 1, "10.0.0.7"]
    assert f"{first[1]:%d/%m/%Y %H:%M}" == f"{shown} 23:30"  # Hải Phòng time, not UTC
    assert sheet["B9"].number_format == "dd/mm/yyyy hh:mm:ss"
    logged = newest_line(conn)
    assert logged[:3] == ("quan-tri-nhat-ky", "GET /api/access-log.xlsx", 2)
    assert logged[3] == {"what": "task_photo", "from": day, "to": day, "username": "to-anh"}


def test_the_access_logs_code_values_read_by_their_vietnamese_labels(client, conn, admin) -> None:
    """A recorded read of tips and of hotspots by status: the page's line and the Excel file name the kinds and the
    states by their labels (they showed «loại=tip», «trạng thái=verified,assigned»); the line keeps the codes asked."""
    assert client.get("/api/incidents?commune=10507&kind=tip").status_code == 200
    assert client.get("/api/hotspots?status=verified,assigned&task_state=in_progress").status_code == 200
    shown = [line["params_text"] for line in client.get("/api/access-log?what=incidents", headers=admin).json()]
    assert shown[0] == "loại=Tin báo, tố giác; xã, phường=10507", shown
    (hotspots,) = client.get("/api/access-log?what=hotspot_register", headers=admin).json()[:1]
    assert hotspots["params_text"] == (
        "trạng thái=Đã xác minh hoặc Đã giao xử lý; trạng thái nhiệm vụ=Đang thực hiện"
    ), hotspots["params_text"]
    assert hotspots["params"]["status"] == "verified,assigned"
    answer = client.get("/api/access-log.xlsx?what=incidents", headers=admin)
    sheet = load_workbook(BytesIO(answer.content)).active
    assert sheet["F9"].value == "loại=Tin báo, tố giác; xã, phường=10507"


def test_the_admin_audit_says_what_changed_and_is_exported_to_excel(client, conn, admin, make_user) -> None:
    planner = make_user("tham-muu-tinh", "planner")
    assert client.put(f"/api/users/{planner}/province", json={"province_code": "31", "version": 1}, headers=admin)
    created = client.post("/api/teams", json={"name": "Tổ ghi nhật ký", "communes": ["10507"]}, headers=admin).json()
    entries = client.get("/api/audit", headers=admin).json()
    assert [(e["action_label"], e["details_text"]) for e in entries[:2]] == [
        ("Tạo tổ công tác", "1 xã/phường (Phường Thành Đông)"),
        ("Thay đổi phạm vi tỉnh, thành phố của người dùng", "Toàn quốc → Thành phố Hải Phòng"),
    ]
    # Today's lines: these two, and any other test committed today (the command line's, which no savepoint holds).
    today = client.get(f"/api/audit?from={local_today():%Y-%m-%d}", headers=admin).json()
    answer = client.get(f"/api/audit.xlsx?from={local_today():%Y-%m-%d}", headers=admin)
    assert answer.status_code == 200
    sheet = load_workbook(BytesIO(answer.content)).active
    assert [c.value for c in sheet[8]] == [
        "STT",
        "Thời gian",
        "Người thực hiện",
        "Thao tác",
        "Người dùng liên quan",
        "Tổ công tác liên quan",
        "Nội dung thay đổi",
    ]
    assert [c.value for c in sheet[9]][2:] == [
        "quan-tri-nhat-ky",
        "Tạo tổ công tác",
        None,
        created["name"],
        "1 xã/phường (Phường Thành Đông)",
    ]
    assert sheet["A7"].value.endswith(f"phạm vi: toàn hệ thống; lọc: từ ngày {local_today():%d/%m/%Y}")
    listed = [row for row in sheet.iter_rows(min_row=9, values_only=True) if isinstance(row[0], int)]  # STT numbered
    assert len(listed) == len(today) >= 2
    assert newest_line(conn)[:3] == ("quan-tri-nhat-ky", "GET /api/audit.xlsx", len(today))


def test_a_new_users_role_and_province_are_said_in_words(client, admin) -> None:
    """The page read a new user's role as a change and showed «( → )» on every «Tạo người dùng» line."""
    body = {"username": "chihuy-tinh", "role": "command", "province_code": "31"}
    assert client.post("/api/users", json=body, headers=admin).status_code == 201
    entry = client.get("/api/audit", headers=admin).json()[0]
    assert (entry["action_label"], entry["details_text"]) == ("Tạo người dùng", "Ban chỉ huy, Thành phố Hải Phòng")


def test_a_command_run_on_the_server_is_said_so_beside_its_actor(client, conn, admin) -> None:
    """The command line records the operating-system user who ran it («root», the demo's seeding), no account of the
    app: the page and the file said «root: Tạo người dùng» of a user no list showed. Said so beside the name; an
    account's name stays as it is."""
    from gis.services.admin import create_user

    create_user(conn, "root", "to-may-chu", "-", "planner", None)  # as `diaban users add` run by root records it
    made = client.post(
        "/api/users", json={"username": "tham-muu-web", "role": "planner", "province_code": "31"}, headers=admin
    )
    assert made.is_success, made.text
    by_cli, by_web = (
        next(e for e in client.get("/api/audit", headers=admin).json() if e["target_user"] == name)
        for name in ("to-may-chu", "tham-muu-web")
    )
    assert (by_cli["actor"], by_cli["actor_account"], by_cli["actor_shown"]) == (
        "root",
        False,
        "root (Dòng lệnh trên máy chủ)",
    )
    assert (by_web["actor_account"], by_web["actor_shown"]) == (True, by_web["actor"])
    answer = client.get(f"/api/audit.xlsx?from={local_today():%Y-%m-%d}", headers=admin)
    shown = {
        row[4]: row[2] for row in load_workbook(BytesIO(answer.content)).active.iter_rows(min_row=9, values_only=True)
    }
    assert shown["to-may-chu"] == "root (Dòng lệnh trên máy chủ)" and shown["tham-muu-web"] == by_web["actor"]


def test_a_reversed_window_is_refused_not_answered_empty(client, admin) -> None:
    for route in ("/api/audit.xlsx", "/api/access-log.xlsx", "/api/audit"):
        refused = client.get(f"{route}?from=2026-02-01&to=2026-01-01", headers=admin)
        assert refused.status_code == 422, route


def test_what_a_client_put_in_its_query_is_shown_as_escapes_on_the_page_and_in_the_file(client, admin) -> None:
    """Any user's query is recorded as it was sent: a control character (``%01``) in it made the administrator's Excel
    export of the access log fail (openpyxl refuses the whole workbook: a 500 for as long as the line is in the
    window), a right-to-left override or a line break turned the page's line around. They read as escapes, the rest
    (markup, which the page escapes) as sent, on the page and in the file alike; the line keeps what was sent."""
    assert client.get("/api/hotspots?a1=x%01y&a2=%E2%80%AEz%0Aw&a3=%3Cb%3E").status_code == 200
    (line,) = client.get("/api/access-log?what=hotspot_register", headers=admin).json()[:1]
    assert line["params_text"] == "a1=x\\u0001y; a2=\\u202ez\\u000aw; a3=<b>", line["params_text"]
    assert line["params"] == {"a1": "x\x01y", "a2": "\u202ez\nw", "a3": "<b>"}
    answer = client.get("/api/access-log.xlsx?what=hotspot_register", headers=admin)
    assert answer.status_code == 200, answer.text[:300]
    assert load_workbook(BytesIO(answer.content)).active["F9"].value == line["params_text"]

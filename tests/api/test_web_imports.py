"""Imports from the pages (api/routes/imports.py): indicators by a planner, incidents by command, on real PostGIS —
valid rows kept, each bad row reported with its line, re-uploads idempotent, bad files 422, roles, the body limit,
a provincial user's rows kept only in their province."""

from __future__ import annotations

import codecs
import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Connection, text

from api.replicas import WROTE_COOKIE
from api.routes.imports import IMPORT_ROWS_SHOWN
from gis.io.text_encodings import encode_cp1258
from gis.services.boundary_import import import_boundaries
from gis.services.incident_import import import_incidents
from models.numbers import vn_number
from tests.conftest import SECOND_PROVINCE, footprint, requests_in_savepoints

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
INDICATORS = "/api/imports/indicators"
INCIDENTS = "/api/imports/incidents"
INDICATOR_HEADER = (
    "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route,organizing_places\n"
)
INCIDENT_HEADER = "ref,occurred_at,lon,lat,kind,substance,quantity_g,arrested,source\n"
#: Two good rows (lines 2, 3) and five bad ones, each at its line with the column at fault.
MIXED_INDICATORS = (
    INDICATOR_HEADER + "2025,10507,30000,120,0,0,1,2\n"
    "2025,10525,20000,0,0,0,không,\n"
    "2025,00000,1000,0,0,0,0,\n"
    "2025,10532,-5,0,0,0,0,\n"
    "20x5,10532,100,0,0,0,0,\n"
    "2025,10532,100,0,0,0,maybe,\n"
    "2025,10507,30000,120,0,0,1,2\n"
)


@pytest.fixture
def users(make_user, make_team, bearer) -> dict[str, dict[str, str]]:
    """Headers of one user per role (national), plus Hải Phòng's provincial planner and command."""
    made = {role: make_user(f"nhap-{role}", role) for role in ("command", "planner", "admin")}
    made["team"] = make_user("nhap-team", "team", make_team("Tổ nhập liệu", ["10507"]))
    made["hp-planner"] = make_user("nhap-hp-planner", "planner", province_code="31")
    made["hp-command"] = make_user("nhap-hp-command", "command", province_code="31")
    return {name: bearer(user_id) for name, user_id in made.items()}


def upload(client, path: str, headers: dict, name: str, content: bytes, **form: str):
    return client.post(path, headers=headers, files={"file": (name, content)}, data=form)


def runs(conn: Connection) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in conn.execute(text("SELECT dataset, file_name, imported_by FROM import_runs ORDER BY id"))]


def indicators(conn: Connection, year: int) -> dict[str, int]:
    rows = conn.execute(
        text("SELECT commune_code, population FROM commune_indicators WHERE year = :y ORDER BY 1"), {"y": year}
    )
    return {code: population for code, population in rows}


def test_planner_uploads_indicators_valid_rows_kept_each_bad_row_reported(client, conn, users) -> None:
    before = runs(conn)
    response = upload(client, INDICATORS, users["planner"], "C:\\fakepath\\chi-so-2025.csv", MIXED_INDICATORS.encode())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"] == {"imported": 2, "rejected": 5, "flagged": 0}
    assert body["summary"] == "Chỉ số: đã nhập 2, bị loại 5"  # nothing flagged: not said
    rejected = body["rejected"]
    assert rejected["total"] == 5 and [r["line"] for r in rejected["rows"]] == [4, 5, 6, 7, 8]
    labels = {r["line"]: r["field_label"] for r in rejected["rows"]}
    assert labels == {4: "Mã xã", 5: "Dân số", 6: "Năm", 7: "Trên tuyến trọng điểm", 8: "Mã xã"}
    assert all(r["reason"] for r in rejected["rows"])
    assert indicators(conn, 2025) == {"10507": 30000, "10525": 20000}
    # The run is recorded under the file's own name (no folder) and the user, like a command-line import.
    assert runs(conn)[len(before) :] == [("indicators", "chi-so-2025.csv", "nhap-planner")]
    again = upload(client, INDICATORS, users["planner"], "chi-so-2025.csv", MIXED_INDICATORS.encode())
    assert again.json()["counts"] == body["counts"] and indicators(conn, 2025) == {"10507": 30000, "10525": 20000}


def test_a_worksheet_of_the_legacy_sample_workbook_loads_onto_todays_communes(client, conn, users) -> None:
    workbook = (SAMPLES / "synthetic-2024-legacy-communes.xlsx").read_bytes()
    response = upload(client, INDICATORS, users["admin"], "mau-2024.xlsx", workbook, sheet="Chỉ số 2024")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"]["imported"] > 0 and indicators(conn, 2024)
    assert body["warnings"]  # the legacy units it was read in are said
    missing = upload(client, INDICATORS, users["admin"], "mau-2024.xlsx", workbook, sheet="Không có")
    assert missing.status_code == 422 and "Không có" in missing.json()["message"]


def test_command_uploads_the_sample_incidents_and_a_second_upload_stores_nothing_new(client, conn, users) -> None:
    sample = (SAMPLES / "synthetic-incidents-comma-utf8.csv").read_bytes()
    first = upload(client, INCIDENTS, users["command"], "vu-viec.csv", sample)
    assert first.status_code == 200, first.text
    counts = first.json()["counts"]
    stored = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    assert counts["imported"] > 900 and counts["imported"] + counts["rejected"] + counts["duplicates"] == 1000
    summary = first.json()["summary"]
    assert summary.startswith(f"Vụ việc: đã nhập {vn_number(counts['imported'])}") and not re.search(
        r" 0(,|$)", summary
    ), summary
    second = upload(client, INCIDENTS, users["command"], "vu-viec.csv", sample)
    assert second.status_code == 200 and second.json()["counts"]["imported"] == 0
    assert second.json()["counts"]["duplicates"] == counts["imported"] + counts["duplicates"]
    assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == stored


def test_incident_rows_are_reported_with_line_ref_and_column_and_far_points_follow_the_policy(
    client, conn, users
) -> None:
    body = (
        "W1,2025-03-01T10:00:00,106.6830,20.8600,trafficking,heroin,2.5,1,CAP\n"
        "W2,not-a-date,106.68,20.86,tip,,,,\n"
        "W3,2025-03-02,112.0,15.0,tip,,,,\n"
    )
    kept = upload(client, INCIDENTS, users["command"], "vu.csv", (INCIDENT_HEADER + body).encode())
    assert kept.status_code == 200, kept.text
    answer = kept.json()
    assert answer["counts"]["imported"] == 2 and answer["counts"]["outside"] == 1
    assert [(r["line"], r["ref"], r["field_label"]) for r in answer["rejected"]["rows"]] == [(3, "W2", "Thời gian")]
    assert [(r["line"], r["ref"]) for r in answer["flagged"]["rows"]] == [(4, "W3")]
    # What the page shows is Vietnamese alone and quotes the value; the English reason stays for other clients.
    bad_time = answer["rejected"]["rows"][0]
    assert bad_time["message"] == (
        "thời gian không hợp lệ: «not-a-date», cần dạng ngày/tháng/năm, có thể kèm giờ:phút, ví dụ 05/12/2025 hoặc"
        " 05/12/2025 14:30, hoặc ISO 8601, ví dụ 2025-12-05T14:30"
    )
    assert bad_time["reason"] == bad_time["message"] + " (unparseable time)"
    assert answer["flagged"]["rows"][0]["message"].endswith(": vẫn lưu, không thuộc xã nào")
    repeated = upload(
        client, INCIDENTS, users["command"], "vu.csv", (INCIDENT_HEADER + body + body.splitlines(True)[0]).encode()
    )
    assert repeated.json()["counts"]["duplicates"] == 3
    assert [(r["line"], r["ref"], r["field_label"], r["message"]) for r in repeated.json()["duplicates"]["rows"]] == [
        (2, "W1", "Số hiệu", "mã đã có trong cơ sở dữ liệu"),
        (4, "W3", "Số hiệu", "mã đã có trong cơ sở dữ liệu"),
        (5, "W1", "Số hiệu", "mã đã có trong cơ sở dữ liệu"),
    ]
    refused = upload(
        client,
        INCIDENTS,
        users["command"],
        "vu.csv",
        (INCIDENT_HEADER + body.replace("W", "R")).encode(),
        outside="reject",
    )
    assert refused.json()["counts"]["imported"] == 1
    assert [(r["line"], r["field"]) for r in refused.json()["rejected"]["rows"]] == [(3, "occurred_at"), (4, "lon/lat")]


#: What a dry run answers as the import that follows does (its summary says «sẽ nhập», its run is none).
SAME_REPORT = ("file_name", "counts", "warnings", "rejected", "duplicates", "flagged")


@pytest.mark.parametrize(
    ("path", "role", "content", "summary"),
    [
        (
            INCIDENTS,
            "command",
            INCIDENT_HEADER + "D1,2025-03-01T10:00:00,106.683,20.86,tip,,,,\nD2,x,106.68,20.86,tip,,,,\n"
            "D3,2025-03-02,112.0,15.0,tip,,,,\nD1,2025-03-03,106.68,20.86,tip,,,,\n",
            "Vụ việc: sẽ nhập 2, trùng (bỏ qua) 1",
        ),
        (INDICATORS, "planner", MIXED_INDICATORS, "Chỉ số: sẽ nhập 2, bị loại 5"),
    ],
)
def test_a_dry_run_answers_the_report_of_the_import_that_follows_and_leaves_nothing(
    client, conn, users, path: str, role: str, content: str, summary: str
) -> None:
    """«Kiểm tra tệp»: the same import in a savepoint rolled back — no row, run, data version or partition stays, no
    write cookie makes other workers read afresh — and the report is the one the import then gives."""
    before = footprint(conn)
    checked = client.post(
        path, params={"dry_run": "true"}, headers=users[role], files={"file": ("kiem-tra.csv", content.encode())}
    )
    assert checked.status_code == 200, checked.text
    check = checked.json()
    assert check["dry_run"] is True and check["import_id"] is None
    assert check["summary"].startswith(summary), check["summary"]
    assert footprint(conn) == before
    assert WROTE_COOKIE not in checked.cookies
    imported = upload(client, path, users[role], "kiem-tra.csv", content.encode())
    assert imported.status_code == 200, imported.text
    done = imported.json()
    assert done["dry_run"] is False and done["import_id"] is not None
    assert {key: check[key] for key in SAME_REPORT} == {key: done[key] for key in SAME_REPORT}
    assert footprint(conn) != before and imported.cookies.get(WROTE_COOKIE)


def test_a_dry_run_of_a_file_without_a_usable_row_is_refused_as_the_import_is(client, conn, users) -> None:
    requests_in_savepoints(client.app, conn)
    bad = (INDICATOR_HEADER + "2025,00000,1,0,0,0,0,\n").encode()
    before = footprint(conn)
    checked = client.post(
        INDICATORS, params={"dry_run": "true"}, headers=users["planner"], files={"file": ("s.csv", bad)}
    )
    imported = upload(client, INDICATORS, users["planner"], "s.csv", bad)
    assert (checked.status_code, imported.status_code) == (422, 422)
    assert checked.json()["report"]["dry_run"] is True and imported.json()["report"]["dry_run"] is False
    assert checked.json()["report"]["rejected"] == imported.json()["report"]["rejected"]
    assert footprint(conn) == before


def test_a_file_whose_every_row_is_rejected_is_422_with_its_report_and_leaves_nothing(client, conn, users) -> None:
    requests_in_savepoints(client.app, conn)  # a refused request rolls back, as the server's transaction does
    before = runs(conn)
    bad = INDICATOR_HEADER + "".join(f"2025,00000,{n},0,0,0,0,\n" for n in range(IMPORT_ROWS_SHOWN + 5))
    response = upload(client, INDICATORS, users["planner"], "sai.csv", bad.encode())
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "nothing_imported" and "không có dòng nào hợp lệ" in body["message"]
    report = body["report"]
    assert report["rejected"]["total"] == IMPORT_ROWS_SHOWN + 5 and len(report["rejected"]["rows"]) == IMPORT_ROWS_SHOWN
    assert report["rejected"]["rows"][0]["line"] == 2 and report["import_id"] is None
    assert runs(conn) == before and indicators(conn, 2025) == {}


def test_an_uploaded_files_name_is_kept_without_control_or_format_characters(client, conn, users) -> None:
    """A terminal's escape sequence, a bell and a right-to-left override in the name a client sends (raw bytes: httpx
    would percent-encode some of them) are neither stored with the import run nor answered."""
    boundary = "ranh-gioi"
    sent = "C:\\fakepath\\chỉ\x1b[2J số\x07\u202e.csv".encode()
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + sent
        + f'"\r\n\r\n{MIXED_INDICATORS}\r\n--{boundary}--\r\n'.encode()
    )
    headers = {**users["planner"], "Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = client.post(INDICATORS, headers=headers, content=body)
    assert response.status_code == 200 and response.json()["file_name"] == "chỉ[2J số.csv"
    assert runs(conn)[-1] == ("indicators", "chỉ[2J số.csv", "nhap-planner")


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("chi-so.exe", b"year\n2025\n", "không đúng loại"),
        # An old workbook: the page says what to do, as the command line does (it had listed the suffixes only).
        ("Chi so 2024.XLS", b"\xd0\xcf\x11\xe0 an old workbook", "hãy lưu lại dưới dạng .xlsx"),
        ("../../etc/passwd", b"root:x:0:0\n", "không đúng loại"),
        ("thu-muc/", b"year\n", "không đúng loại"),
        (".csv", b"year\n", "không đúng loại"),
        ("", b"year\n", "tệp: phải là một tệp"),
        ("trong.csv", b"", "trống"),
        ("bang.xlsx", b"PK\x03\x04 not really a workbook", "bang.xlsx"),
        ("anh.csv", bytes(range(256)) * 64, "anh.csv"),
        ("khong-phai-bang.csv", b"just one line without the columns\n", "khong-phai-bang.csv"),
    ],
)
def test_a_file_that_is_not_a_usable_table_is_422_in_vietnamese(client, conn, users, name, content, said) -> None:
    requests_in_savepoints(client.app, conn)
    before = runs(conn)
    response = upload(client, INDICATORS, users["planner"], name, content)
    assert response.status_code == 422, response.text
    assert said in response.json()["message"] and response.json()["code"] in (
        "unreadable_file",
        "nothing_imported",
        "validation_error",
    )
    assert runs(conn) == before


def test_bad_incident_files_are_422_too(client, users) -> None:
    broken = upload(client, INCIDENTS, users["command"], "diem.geojson", b'{"type": "FeatureCollection", "feat')
    assert broken.status_code == 422 and broken.json()["code"] == "unreadable_file"
    policy = upload(client, INCIDENTS, users["command"], "vu.csv", INCIDENT_HEADER.encode(), outside="maybe")
    assert policy.status_code == 422


def test_each_upload_is_for_its_roles_only(client, users) -> None:
    csv = MIXED_INDICATORS.encode()
    incidents = (INCIDENT_HEADER + "X1,2025-03-01,106.683,20.86,tip,,,,\n").encode()
    assert {
        role: upload(client, INDICATORS, users[role], "c.csv", csv).status_code
        for role in ("planner", "admin", "command", "team")
    } == {"planner": 200, "admin": 200, "command": 403, "team": 403}
    assert {
        role: upload(client, INCIDENTS, users[role], "v.csv", incidents).status_code
        for role in ("command", "admin", "planner", "team")
    } == {"command": 200, "admin": 200, "planner": 403, "team": 403}


def test_an_upload_takes_the_upload_limit_not_the_json_one(client, users) -> None:
    from api.limits import upload_body_size

    too_big = b"x" * (upload_body_size() + 1)
    response = upload(client, INCIDENTS, users["command"], "lon.csv", too_big)
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"
    # Over the 1 MB of other requests, under the upload limit: read, and refused only for its rows.
    rows = (INDICATOR_HEADER + "20x5,10532,100,0,0,0,0,\n" * 80_000).encode()
    assert 1.5 * 2**20 < len(rows) < upload_body_size()
    refused = upload(client, INDICATORS, users["planner"], "lon.csv", rows)
    assert refused.status_code == 422 and refused.json()["report"]["rejected"]["total"] == 80_000


def test_a_provincial_user_loads_only_rows_of_their_province(client, conn, users, second_province_path: Path) -> None:
    import_boundaries(conn, second_province_path)
    neighbour, lon, lat = conn.execute(
        text("""SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM admin_units
                WHERE province_code = :p AND valid_to IS NULL ORDER BY code LIMIT 1"""),
        {"p": SECOND_PROVINCE},
    ).one()
    # The neighbour's figures of the year were there before: a Hải Phòng planner's upload leaves them alone.
    conn.execute(
        text("INSERT INTO commune_indicators (year, commune_code, population, method) VALUES (2025, :c, 7, 'direct')"),
        {"c": neighbour},
    )
    table = INDICATOR_HEADER + "2025,10507,30000,120,0,0,1,2\n" + f"2025,{neighbour},9000,0,0,0,0,\n"
    response = upload(client, INDICATORS, users["hp-planner"], "tinh.csv", table.encode())
    assert response.status_code == 200, response.text
    rows = response.json()["rejected"]["rows"]
    assert [(r["line"], r["ref"], r["field_label"]) for r in rows] == [(3, neighbour, "Mã xã")]
    assert "không thuộc Hải Phòng" in rows[0]["reason"]
    assert indicators(conn, 2025) == {"10507": 30000, neighbour: 7}
    # Incidents: a point in the city stays; one in the neighbour and one far at sea are refused with their line.
    body = (
        "T1,2025-03-01,106.6830,20.8600,tip,,,,\n"
        f"T2,2025-03-01,{lon},{lat},tip,,,,\n"
        "T3,2025-03-01,112.0,15.0,tip,,,,\n"
        f"T4,2025-03-01,,,tip,,,,\n"
    )
    loaded = upload(client, INCIDENTS, users["hp-command"], "tinh.csv", (INCIDENT_HEADER + body).encode())
    assert loaded.status_code == 200, loaded.text
    answer = loaded.json()
    assert answer["counts"]["imported"] == 1
    assert [(r["line"], r["ref"]) for r in answer["rejected"]["rows"]] == [(3, "T2"), (4, "T3"), (5, "T4")]
    assert conn.execute(text("SELECT array_agg(ref) FROM incidents WHERE ref LIKE 'T_'")).scalar_one() == ["T1"]
    # The Ministry's command loads the neighbour's row.
    national = upload(client, INCIDENTS, users["command"], "tinh.csv", (INCIDENT_HEADER + body).encode())
    assert national.json()["counts"]["imported"] == 2


def test_a_provincial_user_keeps_the_rows_of_old_communes_of_their_province(client, users) -> None:
    """Rows without a point, placed by old (pre-2025) codes and addresses, Hải Phòng's all: a Hải Phòng user keeps
    the same rows as the Ministry would, the ambiguous ones (a split old commune) flagged, none refused for the
    province."""
    workbook = (SAMPLES / "synthetic-2024-legacy-communes.xlsx").read_bytes()
    response = upload(client, INCIDENTS, users["hp-command"], "2024.xlsx", workbook, sheet="Vụ việc 2024")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["counts"]["imported"] > 250 and answer["counts"]["ambiguous"] > 0
    assert answer["flagged"]["total"] == answer["counts"]["ambiguous"]
    assert not [r for r in answer["rejected"]["rows"] if "không thuộc Hải Phòng" in (r["reason"] or "")]


#: A police table as an office keeps it: Vietnamese headers with odd case and spacing, day-first times, two rows
#: placed by a point, one by an old (pre-July 2025) address, one by an old commune code, and two bad rows.
OFFICE_HEADER = ["Số hiệu", "Thời gian ", "Loại vụ việc", "KINH ĐỘ", "Vĩ  độ", "Mã xã", "Địa chỉ", "Khối lượng (g)"]
OFFICE_ROWS = [
    ["P1", "05/03/2025 14:30", "Tàng trữ trái phép chất ma túy", "106.6830", "20.8600", "", "", "2.5"],
    ["P2", "06/03/2025", "Mua bán trái phép chất ma túy", "106.6831", "20.8601", "", "", ""],
    ["P3", "31/02/2025", "Tàng trữ", "106.6832", "20.8602", "", "", ""],
    ["P4", "07/03/2024", "không rõ loại", "106.6833", "20.8603", "", "", ""],
    [
        "P5",
        "08/03/2024 08:05",
        "Tin báo, tố giác",
        "",
        "",
        "",
        "Số 15 đường Trần Phú, Xã Bạch Đằng, Thành phố Thủy Nguyên",
        "",
    ],
    ["P6", "09/03/2024", "Tin báo, tố giác", "", "", "10825", "", ""],
]
#: Rows above the table in an office's workbook or its CSV: an official document's two-cell heading, a title.
OFFICE_HEADING = [
    ["CÔNG AN THÀNH PHỐ HẢI PHÒNG", "", "", "", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
    ["PHÒNG CẢNH SÁT ĐIỀU TRA TỘI PHẠM VỀ MA TÚY", "", "", "", "Độc lập - Tự do - Hạnh phúc"],
    [],
    ["DANH SÁCH VỤ VIỆC THÁNG 3"],
]


def office_text(sep: str = ",", decimal_comma: bool = False, eol: str = "\n", above: int = 0, after: int = 0) -> str:
    """The table as Excel saves it as text; ``above`` heading rows, ``after`` empty columns on every line and as many
    lines of separators alone below (Excel keeps every column and row once used)."""
    width = len(OFFICE_HEADER) + after

    def line(row: list[str]) -> str:
        cells = [c.replace(".", ",") if decimal_comma and c.replace(".", "").isdigit() else c for c in row]
        quoted = [f'"{c}"' if sep in c else c for c in cells]
        return sep.join(quoted + [""] * (width - len(cells)))

    rows = [*OFFICE_HEADING[:above], OFFICE_HEADER, *OFFICE_ROWS, *[[]] * after]
    return "".join(line(row) + eol for row in rows)


def office_workbook(above: int = 0, cover: bool = False, merged: bool = False, after: int = 0) -> bytes:
    """The table as a workbook: date cells in a Vietnamese-locale format, number cells, and what people add."""
    book = Workbook()
    sheet = book.active
    if cover:
        sheet.title = "Bìa"
        sheet.append(["BÁO CÁO"])
        sheet.append(["Công an thành phố", "Mật"])
        sheet = book.create_sheet("Dữ liệu")
    for row in OFFICE_HEADING[:above]:
        sheet.append(row)
    if merged and above:
        sheet.merge_cells(start_row=above, start_column=1, end_row=above, end_column=len(OFFICE_HEADER))
    sheet.append(OFFICE_HEADER + [""] * after)
    for row in OFFICE_ROWS:
        cells: list[object] = list(row)
        if row[1] != "31/02/2025":
            cells[1] = datetime.strptime(row[1], "%d/%m/%Y %H:%M" if ":" in row[1] else "%d/%m/%Y")
        cells[3:5] = [float(c) if c else None for c in row[3:5]]
        sheet.append(cells + [None] * after)
        sheet.cell(sheet.max_row, 2).number_format = "[$-42A]dd/mm/yyyy hh:mm"
    for _ in range(after):
        sheet.append([None, ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "form", "first_line"),
    [
        ("vu.csv", b"\xef\xbb\xbf" + office_text(eol="\r\n").encode(), {}, 2),
        ("vu.csv", encode_cp1258(office_text(";", decimal_comma=True, eol="\r\n")), {}, 2),
        ("vu.txt", codecs.BOM_UTF16_LE + office_text("\t", decimal_comma=True, eol="\r\n").encode("utf-16-le"), {}, 2),
        ("VU VIEC.CSV", office_text().encode(), {}, 2),
        ("Vụ việc tháng 3.csv", office_text(";", decimal_comma=True).encode(), {}, 2),
        ("vu.csv", encode_cp1258(office_text(";", decimal_comma=True, eol="\r\n", after=2)), {}, 2),
        ("vu.csv", encode_cp1258(office_text(";", decimal_comma=True, eol="\r\n", above=4)), {}, 6),
        ("vu.xlsx", office_workbook(), {}, 2),
        ("vu.xlsx", office_workbook(above=4, merged=True, after=2), {}, 6),
        ("vu.xlsx", office_workbook(cover=True), {"sheet": "Dữ liệu"}, 2),
    ],
    ids=[
        "utf8-bom-crlf",
        "cp1258-semicolon",
        "utf16-tab-txt",
        "upper-case-suffix",
        "vietnamese-name",
        "csv-empty-columns-and-rows",
        "csv-heading-above",
        "xlsx-date-cells",
        "xlsx-heading-merged-empty-columns",
        "xlsx-cover-sheet",
    ],
)
def test_an_office_file_keeps_every_valid_row_and_reports_each_bad_one_at_its_line(
    client, conn, users, tmp_path: Path, name: str, content: bytes, form: dict[str, str], first_line: int
) -> None:
    """Whatever the format, the same four rows are kept (two placed by an old address or code) and the same two are
    refused at the line Excel shows, with the column and a Vietnamese reason; the command line counts the same, and
    a second upload stores nothing new."""
    (tmp_path / name).write_bytes(content)
    savepoint = conn.begin_nested()
    command_line = import_incidents(conn, tmp_path / name, imported_by="cli", sheet=form.get("sheet")).summary()
    savepoint.rollback()
    response = upload(client, INCIDENTS, users["command"], name, content, **form)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["counts"] == command_line
    assert (answer["counts"]["imported"], answer["counts"]["by_address"], answer["counts"]["by_code"]) == (4, 1, 1)
    refused = [(r["line"], r["ref"], r["field_label"]) for r in answer["rejected"]["rows"]]
    assert refused == [(first_line + 2, "P3", "Thời gian"), (first_line + 3, "P4", "Loại vụ việc")]
    assert all("«" in r["message"] and "(" not in r["message"] for r in answer["rejected"]["rows"])
    stored = conn.execute(
        text("SELECT ref, occurred_at, kind, quantity_g FROM incidents WHERE import_id = :i AND ref = 'P1'"),
        {"i": answer["import_id"]},
    ).one()
    assert (stored.occurred_at.isoformat(), stored.kind, stored.quantity_g) == (
        "2025-03-05T07:30:00+00:00",
        "possession",
        2.5,
    )
    again = upload(client, INCIDENTS, users["command"], name, content, **form).json()["counts"]
    assert (again["imported"], again["duplicates"], again["rejected"]) == (0, 4, 2)


def test_an_upload_cut_off_mid_file_stores_nothing(client, conn, users) -> None:
    """A client that stops sending inside the file (the body ends before the closing boundary): 422, no row kept."""
    requests_in_savepoints(client.app, conn)
    rows = INCIDENT_HEADER + "".join(f"Z{n},2025-03-01,106.683,20.86,tip,,,,\n" for n in range(2000))
    part = b'--B\r\nContent-Disposition: form-data; name="file"; filename="vu.csv"\r\n\r\n' + rows.encode()
    before = runs(conn)
    response = client.post(
        INCIDENTS,
        headers={**users["command"], "content-type": "multipart/form-data; boundary=B"},
        content=part[: len(part) // 2],
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert runs(conn) == before and not conn.execute(text("SELECT 1 FROM incidents WHERE ref LIKE 'Z%'")).first()


@pytest.mark.parametrize(
    ("path", "role", "name", "content"),
    [
        (INCIDENTS, "command", "vu-viec.csv", INCIDENT_HEADER.encode()),
        (INCIDENTS, "command", "vu-viec.geojson", b'{"type": "FeatureCollection", "features": []}'),
        (INDICATORS, "planner", "chi-so.csv", INDICATOR_HEADER.encode()),
    ],
)
def test_a_file_without_data_rows_imports_nothing_and_says_so(client, conn, users, path, role, name, content) -> None:
    """A header alone, or a collection without a feature (a daily file of a day without incidents), is no error but
    is said: «đã nhập 0» alone let a wrong or truncated file pass for an imported one, and the empty GeoJSON was refused
    for lacking every column."""
    response = upload(client, path, users[role], name, content)
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["imported"] == 0
    assert response.json()["warnings"] == ["tệp không có dòng dữ liệu nào dưới dòng tiêu đề: không có gì để nhập"]

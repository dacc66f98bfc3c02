"""Hostile uploads to the import routes (api/routes/imports.py), as an insider with a planner's or command's login
might send them: each refused cleanly in Vietnamese (422, never a 500), without unpacking a bomb into memory or
spending minutes on a file of a few kilobytes, and without a file left in the temporary folder."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.api.test_web_imports import INCIDENT_HEADER, INCIDENTS, INDICATORS, upload, users  # noqa: F401
from tests.conftest import requests_in_savepoints

SHEET = "xl/worksheets/sheet1.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#: A worksheet's header row (year, commune_code), as inline strings.
HEADER_ROW = (
    "<row r='1'><c r='A1' t='inlineStr'><is><t>year</t></is></c>"
    "<c r='B1' t='inlineStr'><is><t>commune_code</t></is></c></row>"
)


def workbook_with_sheet(sheet_xml: bytes) -> bytes:
    """A real workbook (written by openpyxl) whose first worksheet is `sheet_xml`, deflated like Excel's own."""
    from openpyxl import Workbook

    made = io.BytesIO()
    Workbook().save(made)
    out = io.BytesIO()
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, sheet_xml if info.filename == SHEET else source.read(info.filename))
    return out.getvalue()


def sheet(*parts: str | bytes, dimension: str = "") -> bytes:
    head = f"<worksheet xmlns='{MAIN}'>{dimension}<sheetData>{HEADER_ROW}".encode()
    return head + b"".join(p.encode() if isinstance(p, str) else p for p in parts) + b"</sheetData></worksheet>"


def upload_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("diaban-upload-*")}


@pytest.fixture
def refused(client, conn, users, tmp_path, monkeypatch):  # noqa: F811 - the fixture imported above
    """Upload as the national planner (indicators) or command (incidents): the 422 answer's body, after checking that
    no upload folder was left behind — in a temporary folder of this test's own, so that another test process's
    upload in progress is not counted (the shared /tmp made the check fail now and then)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    requests_in_savepoints(client.app, conn)
    before = upload_folders()

    def send(name: str, content: bytes, path: str = INDICATORS) -> dict:
        response = upload(client, path, users["planner" if path == INDICATORS else "command"], name, content)
        assert response.status_code == 422, response.text
        assert upload_folders() == before
        return response.json()

    return send


def test_a_workbook_unpacking_a_thousand_times_its_size_is_refused_unread(refused) -> None:
    # One cell of 64 MB of the same letter packs into 64 KB; of gigabytes, into a file under the upload limit.
    bomb = workbook_with_sheet(
        sheet(b"<row r='2'><c r='A2' t='inlineStr'><is><t>" + b"A" * (64 << 20) + b"</t></is></c></row>")
    )
    assert len(bomb) < 2**20
    body = refused("bom.xlsx", bomb)
    assert body["code"] == "unreadable_file" and "giải nén ra quá lớn" in body["message"]


def test_a_workbook_unpacking_past_ten_times_the_upload_limit_is_refused_unread(refused, monkeypatch) -> None:
    monkeypatch.setenv("DIABAN_MAX_UPLOAD_MB", "1")  # the total allowed is then 10 MB
    cells = "".join(
        f"<row r='{n}'><c r='A{n}'><v>{n * 7919}</v></c><c r='B{n}'><v>{n}</v></c></row>" for n in range(2, 200_000)
    )
    packed = workbook_with_sheet(sheet(cells))
    assert 10 * 2**20 < zipfile.ZipFile(io.BytesIO(packed)).getinfo(SHEET).file_size < 100 * len(packed)
    assert "giải nén ra quá lớn" in refused("lon.xlsx", packed)["message"]


def test_a_workbook_declaring_a_million_rows_is_read_as_long_as_its_cells(refused) -> None:
    """«A1:XFD1048576» and one cell far down: read in a moment (each empty row was 16,384 cells: minutes)."""
    far = workbook_with_sheet(
        sheet("<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>", dimension="<dimension ref='A1:XFD1048576'/>")
    )
    assert len(far) < 10_000
    assert "thiếu cột bắt buộc" in refused("xa.xlsx", far)["message"]


@pytest.mark.parametrize(
    ("name", "part", "said"),
    [
        # An external entity (a server file) is not resolved; the thousand-fold entity expansion is stopped by expat.
        ("xxe.xlsx", "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>", "không đọc được tệp Excel"),
        (
            "lol.xlsx",
            "<!DOCTYPE x [<!ENTITY l0 'lol'>"
            + "".join(f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" for i in range(1, 10))
            + "]>",
            "không đọc được tệp Excel",
        ),
    ],
)
def test_a_workbook_with_entities_is_refused(refused, name, part, said) -> None:
    entity = "e" if name == "xxe.xlsx" else "l9"
    xml = f"<?xml version='1.0'?>{part}".encode() + sheet(
        f"<row r='2'><c r='A2' t='inlineStr'><is><t>&{entity};</t></is></c><c r='B2'><v>1</v></c></row>"
    )
    body = refused(name, workbook_with_sheet(xml))
    assert said in body["message"] and "root:" not in body["detail"]


@pytest.mark.parametrize(
    "cell",
    [
        "<c r='A3' t='d'><v>2025-13-45</v></c>",  # a date cell of no date
        "<c r='A3'><v>abc</v></c>",  # a number cell of no number
        "<c r='A3' t='s'><v>999</v></c>",  # a shared string the workbook does not have
        "<c r='ZZZZZ3'><v>1</v></c>",  # a column past the last
    ],
)
def test_a_worksheet_cell_openpyxl_cannot_convert_is_422_with_its_row(refused, cell: str) -> None:
    """Cells Excel never writes, met while the rows are read (after the workbook opened): each was a 500."""
    good = "<row r='2'><c r='A2'><v>2025</v></c><c r='B2' t='inlineStr'><is><t>10507</t></is></c></row>"
    body = refused("hong.xlsx", workbook_with_sheet(sheet(good, f"<row r='3'>{cell}</row>")))
    assert body["code"] == "unreadable_file" and "không đọc được dòng 3 của trang tính" in body["message"]


def test_a_geojson_nested_thousands_deep_is_422_not_a_crash(refused) -> None:
    depth = 100_000
    deep = (
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": '
    )
    body = refused("sau.geojson", deep + b"[" * depth + b"]" * depth + b"}}]}", INCIDENTS)
    assert body["code"] == "unreadable_file" and "GeoJSON hỏng ở dòng 1, cột " in body["message"]
    assert "dữ liệu lồng nhau quá nhiều tầng" in body["message"], body["message"]


#: A feature collection of one feature with these properties and a point.
ONE_FEATURE = '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {%s}, "geometry": %s}]}'
POINT = '{"type": "Point", "coordinates": [106.68, 20.86]}'


def test_a_geojson_integer_of_thousands_of_digits_is_422_where_it_stands(refused) -> None:
    """Python refuses to convert an integer of more than 4,300 digits: its ValueError was a 500."""
    digits = "1" * 5000
    for properties, geometry in (
        (f'"ref": {digits}', POINT),
        ('"ref": "A"', f'{{"type": "Point", "coordinates": [{digits}, 2]}}'),
    ):
        body = refused("so-dai.geojson", (ONE_FEATURE % (properties, geometry)).encode(), INCIDENTS)
        assert body["code"] == "unreadable_file" and "GeoJSON hỏng ở dòng 1" in body["message"]
        assert "có một số dài quá nhiều chữ số" in body["message"], body["message"]


def test_a_geojson_lone_surrogate_rejects_its_feature_with_its_number(client, users) -> None:  # noqa: F811
    """JSON may escape a lone surrogate (no UTF-8 text holds one): the feature is rejected as not UTF-8 (it was a 500 of
    Arrow's encoder), in a value or in a property's name, named as the whole row (it was «row»); the good feature after it
    is kept."""
    good = (
        '{"type": "Feature", "properties": {"ref": "%s", "occurred_at": "2025-03-01", "kind": "tip"}, "geometry": %s}'
    )
    for n, properties in enumerate(('"ref": "A\\ud800", "occurred_at": "2025-03-01", "kind": "tip"', '"\\udc00": "x"')):
        collection = ONE_FEATURE % (properties, POINT)
        two = collection[: collection.rindex("]")] + ", " + good % (f"B{n}", POINT) + "]}"
        response = upload(client, INCIDENTS, users["command"], "ky-tu.geojson", two.encode())
        assert response.status_code == 200 and response.json()["counts"]["imported"] == 1, response.text
        rows = response.json()["rejected"]["rows"]
        assert [(r["line"], r["field_label"], r["message"]) for r in rows] == [
            (1, "Cả dòng", "dòng có ký tự hỏng, không đọc được (không phải bảng mã UTF-8)")
        ]


def test_a_chunked_body_over_the_upload_limit_is_413_and_a_body_not_a_form_is_422(client, users) -> None:  # noqa: F811
    from api.limits import upload_body_size

    def chunks():
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="lon.csv"\r\n\r\n'
        for _ in range(upload_body_size() // 2**20 + 1):
            yield b"x" * 2**20
        yield b"\r\n--b--\r\n"

    headers = {**users["command"], "Content-Type": "multipart/form-data; boundary=b"}
    chunked = client.post(INCIDENTS, headers=headers, content=chunks())
    assert chunked.status_code == 413 and chunked.json()["message"].startswith("nội dung yêu cầu quá lớn")
    row = (INCIDENT_HEADER + "Z1,2025-03-01,106.683,20.86,tip,,,,\n").encode()
    not_a_form = client.post(INCIDENTS, headers={**users["command"], "Content-Type": "text/csv"}, content=row)
    assert not_a_form.status_code == 422 and "tệp: thiếu" in not_a_form.json()["message"]


def test_a_header_of_megabytes_is_not_echoed_back_nor_logged_whole(refused, caplog) -> None:
    """The reader's refusal names the columns it read: one line of 5 MB was sent back twice (message, detail) and
    written to the log whole, a planner's way to fill the log's disk."""
    from api.routes.imports import REFUSAL_CHARS

    body = refused("mot-dong.csv", b"year," + b"x" * (5 << 20) + b"\n2025,1\n")
    assert "thiếu cột bắt buộc" in body["message"] and body["message"].endswith("…")
    assert len(body["message"]) < REFUSAL_CHARS + 100 and len(body["detail"]) < 2 * REFUSAL_CHARS + 200
    assert max(len(record.getMessage()) for record in caplog.records) < 3 * REFUSAL_CHARS


def test_a_form_sending_two_files_or_two_sheets_is_refused_not_the_last_one_taken(client, conn, users) -> None:  # noqa: F811
    """Starlette's form gives the last of a repeated part: the second file was imported and the first silently
    dropped. A repeated part is refused before anything is read; a user without the right role is refused for that."""
    requests_in_savepoints(client.app, conn)
    good = (INCIDENT_HEADER + "T1,2025-03-01,106.6830,20.8600,tip,,,,\n").encode()
    other = (INCIDENT_HEADER + "T2,2025-03-01,106.6830,20.8600,tip,,,,\n").encode()
    files = [("file", ("a.csv", good)), ("file", ("b.csv", other))]
    before = conn.execute(text("SELECT count(*) FROM import_runs")).scalar_one()
    two = client.post(INCIDENTS, headers=users["command"], files=files)
    assert two.status_code == 422, two.text
    assert two.json()["code"] == "repeated_form_part"
    assert two.json()["message"] == "biểu mẫu gửi phần «file» 2 lần: mỗi lần tải lên chỉ nhận một tệp cho phần này"
    sheets = client.post(INDICATORS, headers=users["planner"], files=files[:1], data={"sheet": ["A", "B"]})
    assert sheets.status_code == 422 and "«sheet» 2 lần" in sheets.json()["message"]
    assert "một giá trị" in sheets.json()["message"]
    assert client.post(INCIDENTS, headers=users["team"], files=files).status_code == 403
    assert conn.execute(text("SELECT count(*) FROM import_runs")).scalar_one() == before

"""The low findings of issue 15 (finding 10): login CSRF, formula injection in exports, security headers, login
names, people's names in imported free text.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from conftest import TEST_PASSWORD
from openpyxl import load_workbook
from sqlalchemy import Connection, text

from api.cli.main import main
from gis.services.classification import draft_year
from gis.services.hotspots import export_register
from gis.services.incident_import import import_incidents
from gis.store.accounts import create_user
from models.errors import InvalidRequest


@pytest.fixture
def browser(client):
    client.headers.pop("Authorization")
    return client


def test_a_login_form_posted_from_another_site_is_refused(browser, make_user) -> None:
    make_user("csrf-login", "planner")
    form = {"username": "csrf-login", "password": TEST_PASSWORD}
    forged = browser.post("/login", data=form, headers={"Origin": "https://ke-gian.example"}, follow_redirects=False)
    assert forged.status_code == 403 and "diaban_session" not in forged.cookies
    referred = browser.post(
        "/login", data=form, headers={"Referer": "https://ke-gian.example/trang"}, follow_redirects=False
    )
    assert referred.status_code == 403
    sandboxed = browser.post("/login", data=form, headers={"Origin": "null"}, follow_redirects=False)
    assert sandboxed.status_code == 403
    ours = browser.post("/login", data=form, headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert ours.status_code == 303 and "diaban_session" in ours.cookies


def test_exports_write_formulas_as_text(conn: Connection, make_hotspot) -> None:
    hotspot = make_hotspot("10507")
    conn.execute(text("UPDATE hotspots SET commune_code = '=1+2', kind = 'spot' WHERE id = :h"), {"h": hotspot})
    csv_text = export_register(conn, "csv", by="test").content.decode("utf-8-sig")
    assert "'=1+2" in csv_text and ";=1+2" not in csv_text
    # A raw CSV is for scripts, never opened in Excel (README): its text is as it is.
    assert ",=1+2," in export_register(conn, "csv", raw=True, by="test").content.decode("utf-8")
    sheet = load_workbook(io.BytesIO(export_register(conn, "xlsx", by="test").content)).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "=1+2" in c.value]
    assert [(c.value, c.data_type) for c in cells] == [("=1+2", "s")]  # a string cell as it is, never a formula
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_a_control_character_in_a_stored_text_does_not_break_an_excel_export(client, make_user, bearer, conn) -> None:
    """A JSON text may hold a control character (``\\u0001``): a planner's override reason with one made every Excel
    export of the year's classification fail (openpyxl refuses the whole workbook: a 500). It is written as its escape;
    a line break, which a cell holds, stays."""
    planner = bearer(make_user("tham-muu-ky-tu", "planner"))
    draft_year(conn, 2017, actor="tham-muu-ky-tu")
    body = {
        "commune_code": "10507",
        "category": "trong_diem",
        "level": "III",
        "reason": "Tin báo\u0001 mới\ncần xác minh",
    }
    assert client.post("/api/classifications/2017/overrides", json=body, headers=planner).status_code == 200
    answer = client.get("/api/classifications/2017/export?format=xlsx", headers=planner)
    assert answer.status_code == 200, answer.text[:300]
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert "Tin báo\\u0001 mới\ncần xác minh" in [c.value for row in sheet.iter_rows() for c in row]


def test_every_answer_carries_the_security_headers(browser, make_user) -> None:
    make_user("headers-command", "command")
    browser.post("/login", data={"username": "headers-command", "password": TEST_PASSWORD})
    for path in ("/login", "/", "/api/hotspots", "/static/app.css", "/health", "/openapi.json"):
        response = browser.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self' 'nonce-" in policy
        for directive in ("script-src", "style-src"):  # neither inline scripts nor inline styles, bar our nonce's
            sources = policy.split(f"{directive} ")[1].split(";")[0]
            assert "'nonce-" in sources and "unsafe" not in sources, policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"
    page = browser.get("/")
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"]).group(1)
    inline = re.findall(r"<(?:script(?![^>]*\bsrc=)|style)\b[^>]*>", page.text)
    assert any(tag.startswith("<style") for tag in inline) and all(f'nonce="{nonce}"' in tag for tag in inline)
    assert not re.search(r"\sstyle=", page.text)  # no style attribute: the policy refuses them


def test_usernames_are_login_names(conn: Connection, client, db_env, monkeypatch) -> None:
    with pytest.raises(InvalidRequest):
        create_user(conn, "Nguyễn Văn A", "-", "planner", None)
    admin = client.post(
        "/api/users", json={"username": "Hoàng Văn Em", "password": "mat-khau-du-dai", "role": "planner"}
    )
    assert admin.status_code in (403, 422)
    monkeypatch.setenv("DIABAN_DATABASE_URL", db_env["DIABAN_DATABASE_URL"])
    monkeypatch.setattr(sys, "stdin", io.StringIO("mat-khau-du-dai\n"))
    assert main(["users", "add", "Trần Thị B", "--role", "planner", "--password-stdin"]) == 2


def test_an_import_warns_when_free_text_looks_like_a_name(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text(
        "ref,occurred_at,lon,lat,kind,source\n"
        "N1,2025-03-01,106.683,20.86,tip,tố giác của Hoàng Văn Em\n"
        "N2,2025-03-01,106.684,20.86,tip,tin báo quần chúng ở phố Trần Phú\n"
        "N3,2025-03-01,106.685,20.86,tip,CA Lê Chân chuyển đến\n",  # a commune of the database, bare: a place
        encoding="utf-8",
    )
    report = import_incidents(conn, path, imported_by="test")
    assert report.imported == 3  # a warning, not a reject: the user removes the name
    (warning,) = [w for w in report.warnings if "tên người" in w]
    assert "dòng 2)" in warning and "«Nguồn»" in warning  # the column by its Vietnamese name

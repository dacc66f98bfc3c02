"""Planner workflow over the API and in the database: draft, override with reason, approve, immutability,
corrections, exports and the KPI report on a small crafted dataset."""

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema_rs
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

import data
from api.cache import Memo
from gis.reference import load_rules
from gis.services.classification import draft_year, export_classification
from gis.services.incident_import import import_incidents
from gis.services.indicator_import import import_indicators
from gis.store.classifications import override
from models.vocabulary import KPI_NO_DATA, AdminAction, local_today

#: organizing_places given by the table: no test here holds a hotspot register, which would count them (none: unknown).
HEADER = (
    "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route,organizing_places\n"
)


@pytest.fixture
def codes(conn: Connection) -> list[str]:
    return list(conn.execute(text("SELECT code FROM admin_units WHERE valid_to IS NULL ORDER BY code")).scalars())


@pytest.fixture
def as_user(client, make_user, bearer):
    """Log the client in as a user of a role (created once per test); starts as the planner 'tham.muu'.
    The roles "planner-2" and "planner-3" are a second and a third planner, 'tham.muu.2' and 'tham.muu.3' (four eyes)."""
    made: dict[str, dict[str, str]] = {}
    names = {"planner": "tham.muu", "planner-2": "tham.muu.2", "planner-3": "tham.muu.3"}

    def act(role: str, team_id: int | None = None) -> None:
        if role not in made:
            name = names.get(role, f"test-{role}-2")
            made[role] = bearer(make_user(name, role.split("-")[0], team_id))
        client.headers.update(made[role])

    act("planner")
    return act


@pytest.fixture
def indicators(conn: Connection, codes: list[str], tmp_path: Path) -> list[str]:
    """2024: the first 50 communes drug-free, 64 with 0.3 % records; 2025: the first 40 drug-free, 74 not."""
    lines = [
        f"{year},{code},10000,{0 if i < free else 30},0,0,0,0"
        for year, free in ((2024, 50), (2025, 40))
        for i, code in enumerate(codes)
    ]
    path = tmp_path / "ind.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    import_indicators(conn, path, imported_by="test")
    # The police's register of both years is loaded (without it every count is unknown, not zero): one tip in the
    # last commune, loại III in both years.
    register = tmp_path / "inc.csv"
    register.write_text(
        "ref,occurred_at,kind,commune_code\n"
        + "".join(f"T{y},{y}-06-01T09:00:00,tip,{codes[-1]}\n" for y in (2024, 2025))
    )
    import_incidents(conn, register, imported_by="test")
    return codes


def saved_as(response: Any) -> tuple[str, str]:
    """The names a download is saved under: its Vietnamese ``filename*`` (RFC 5987, what browsers use) and the ASCII
    ``filename`` of older clients; an attachment, never shown in the browser."""
    header = response.headers["content-disposition"]
    match = re.fullmatch(r"attachment; filename=\"([ -~]+)\"; filename\*=UTF-8''([A-Za-z0-9%._~-]+)", header)
    assert match, header
    return unquote(match[2]), match[1]


def test_draft_override_approve_then_immutable(client, as_user, conn: Connection, indicators: list[str]) -> None:
    created = client.post("/api/classifications/2025/runs")
    assert created.status_code == 201, created.text
    assert created.json()["counts"] == {"drug_free": 40, "trong_diem_III": 74}
    code = indicators[0]

    no_reason = client.post("/api/classifications/2025/overrides", json={"commune_code": code, "category": "at_risk"})
    blank = client.post(
        "/api/classifications/2025/overrides", json={"commune_code": code, "category": "at_risk", "reason": "   "}
    )
    assert no_reason.status_code == 422 and blank.status_code == 422
    bad_level = client.post(
        "/api/classifications/2025/overrides", json={"commune_code": code, "category": "trong_diem", "reason": "x"}
    )
    assert bad_level.status_code == 422

    ok = client.post(
        "/api/classifications/2025/overrides",
        json={"commune_code": code, "category": "at_risk", "reason": "Có tin báo mới chưa cập nhật"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["method"] == "override" and ok.json()["override_by"] == "tham.muu"

    as_user("command")
    assert client.post("/api/classifications/2025/approve").status_code == 403
    as_user("planner")
    own = client.post("/api/classifications/2025/approve")  # four eyes: an overrider may not approve
    assert own.status_code == 403 and own.json()["code"] == "four_eyes_required"
    assert own.json()["detail"].startswith(
        "Nguyên tắc bốn mắt: tham.muu đã chạy phân loại tạo bản nháp này và đã điều chỉnh kết quả của 1 xã trong bản nháp"
    )
    assert "cần một cán bộ tham mưu khác" in own.json()["detail"]
    as_user("planner-2")
    approved = client.post("/api/classifications/2025/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    snapshot = approved.json()
    assert (snapshot["last_override_by"], snapshot["approved_by"]) == ("tham.muu", "tham.muu.2")
    assert snapshot["last_override_at"] <= snapshot["approved_at"]

    again = client.post("/api/classifications/2025/approve")
    late = client.post(
        "/api/classifications/2025/overrides",
        json={"commune_code": code, "category": "drug_free", "reason": "điều chỉnh sau khi duyệt"},
    )
    for refused in (again, late):
        assert refused.status_code == 409
        assert "đã được phê duyệt" in refused.json()["detail"] and "immutable" in refused.json()["detail"]

    body = client.get("/api/classifications/2025").json()
    assert body["run"]["status"] == "approved" and len(body["features"]) == 114
    props = next(f["properties"] for f in body["features"] if f["id"] == code)
    assert (props["category"], props["method"], props["legal_category"]) == ("at_risk", "override", "drug_free")
    assert {"criteria", "explanation", "level", "indicators", "sources"} <= set(props)
    # A mixture posterior is not the probability of a legal class: no "confidence" is shown anywhere.
    assert "confidence" not in props
    assert props["criteria"][0]["criterion_id"] == "I.a"


def draft_as_read(client, year: int) -> dict[str, Any]:
    """The body the planner page sends to approve or discard a year's draft: its run id and newest override instant,
    as the draft's run names them."""
    run = client.get(f"/api/classifications/{year}/review", params={"draft": True}).json()["run"]
    return {"run_id": run["id"], "last_override_at": run["last_override_at"]}


def test_a_drafts_run_names_its_newest_override(client, as_user, indicators: list[str]) -> None:
    """After an override the draft's run said ``last_override_by/at`` None (set only at approval) though the history
    listed it: a client approving what it read, ``last_override_at: null``, was refused «đã có điều chỉnh khác». The
    draft's run, its review's and its history entry name the newest override; approved with them, it is given."""
    client.post("/api/classifications/2025/runs")
    for code, reason in ((indicators[0], "Tin báo mới chưa có trong số liệu"), (indicators[1], "Đã xác minh lại")):
        client.post(
            "/api/classifications/2025/overrides", json={"commune_code": code, "category": "at_risk", "reason": reason}
        )
    history = client.get("/api/classifications/2025/history").json()
    newest = max(history[0]["overrides"], key=lambda o: o["at"])
    assert len(history[0]["overrides"]) == 2 and newest["at"], history
    for path in ("/api/classifications/2025", "/api/classifications/2025/review"):
        run = client.get(path, params={"draft": True}).json()["run"]
        assert (run["status"], run["last_override_by"], run["last_override_at"]) == ("draft", "tham.muu", newest["at"])
    assert (history[0]["last_override_by"], history[0]["last_override_at"]) == ("tham.muu", newest["at"])
    as_user("planner-2")
    approved = client.post(
        "/api/classifications/2025/approve", json={"run_id": run["id"], "last_override_at": run["last_override_at"]}
    )
    assert approved.status_code == 200, approved.text
    assert (approved.json()["last_override_by"], approved.json()["last_override_at"]) == ("tham.muu", newest["at"])


def test_an_approval_is_of_the_draft_the_approver_read(client, as_user, indicators: list[str]) -> None:
    """The second planner reads the draft; the first then overrides a commune, or runs the year again: the approval of
    what the second planner read is refused (412, Vietnamese), never given to a draft nobody else saw. Read again, it
    is given."""

    def read() -> dict[str, Any]:
        return draft_as_read(client, 2025)

    client.post("/api/classifications/2025/runs")
    as_user("planner-2")
    seen = read()
    as_user("planner")
    reason = "Tin báo mới của công an xã chưa có trong số liệu"
    client.post(
        "/api/classifications/2025/overrides",
        json={"commune_code": indicators[0], "category": "at_risk", "reason": reason},
    )
    as_user("planner-2")
    refused = client.post("/api/classifications/2025/approve", json=seen)
    assert refused.status_code == 412 and refused.json()["code"] == "draft_changed"
    assert refused.json()["message"].startswith("Bản nháp phân loại năm 2025 đã có điều chỉnh khác (lần cuối ngày")
    seen = read()
    as_user("planner")
    client.post("/api/classifications/2025/runs", json={"replace": True})  # the override is gone with the old draft
    as_user("planner-2")
    refused = client.post("/api/classifications/2025/approve", json=seen)
    assert refused.status_code == 412
    assert refused.json()["message"] == (
        "Bản nháp phân loại năm 2025 đã được chạy lại sau khi bạn xem: hãy xem lại kết quả trước khi phê duyệt"
    )
    naive = client.post("/api/classifications/2025/approve", json={**read(), "last_override_at": "2025-12-31T17:00"})
    assert naive.status_code == 422
    assert naive.json()["message"] == (
        "dữ liệu gửi lên không hợp lệ — lần điều chỉnh cuối: phải là thời điểm ISO 8601 có múi giờ"
        " (như 2025-12-31T17:00:00Z)"
    )
    approved = client.post("/api/classifications/2025/approve", json=read())
    assert approved.status_code == 200 and approved.json()["approved_by"] == "tham.muu.2"


def test_a_correction_started_by_mistake_is_discarded_as_read(client, as_user, indicators: list[str]) -> None:
    """A correction run after the approval, with a colleague's override, is discarded only as the planner read it (412
    once overridden since); then the year's result is its approved version again, the approved run untouched, and a
    year with only approved versions has nothing to discard (409). A draft of a year never approved leaves the year
    without a result (404). Commanders may not discard (403)."""

    def read() -> dict[str, Any]:
        return draft_as_read(client, 2025)

    client.post("/api/classifications/2025/runs")
    as_user("planner-2")
    approved = client.post("/api/classifications/2025/approve").json()
    client.post("/api/classifications/2025/runs")  # a correction, version 2
    seen = read()
    as_user("planner")
    override = {"commune_code": indicators[0], "category": "at_risk", "reason": "Tin báo mới của công an xã"}
    assert client.post("/api/classifications/2025/overrides", json=override).status_code == 200
    as_user("command")
    assert client.post("/api/classifications/2025/discard", json=read()).status_code == 403
    as_user("planner-2")
    refused = client.post("/api/classifications/2025/discard", json=seen)
    assert refused.status_code == 412 and refused.json()["message"].endswith(
        "hãy xem lại kết quả trước khi bỏ bản nháp"
    )
    discarded = client.post("/api/classifications/2025/discard", json=read())
    assert discarded.status_code == 200
    assert (discarded.json()["version"], discarded.json()["status"]) == (2, "draft")
    year = client.get("/api/classifications/2025/review", params={"draft": True}).json()["run"]
    assert (year["id"], year["status"], year["approved_at"]) == (approved["id"], "approved", approved["approved_at"])
    again = client.post("/api/classifications/2025/discard", json={"run_id": approved["id"]})
    assert again.status_code == 409
    client.post("/api/classifications/2026/runs")
    first = client.get("/api/classifications/2026/review", params={"draft": True}).json()["run"]
    assert client.post("/api/classifications/2026/discard", json={"run_id": first["id"]}).status_code == 200
    assert client.get("/api/classifications/2026/review", params={"draft": True}).status_code == 404


def test_a_discarded_or_replaced_draft_stays_in_the_years_history_with_its_overrides(
    client, as_user, conn: Connection, indicators: list[str]
) -> None:
    """A draft discarded, and one replaced by a new run, were deleted with their overrides: nothing told who had
    overridden which commune to what before it was thrown away. Both stay in the year's history (newest first), with
    who ended them and when and each override; the year's result, its review, export and KPI are the approved version
    alone, and four eyes still holds on the draft the planner overrides now."""
    first, second = indicators[0], indicators[1]
    client.post("/api/classifications/2025/runs")
    tried = {"commune_code": first, "category": "at_risk", "reason": "Thử xếp lại theo tin báo"}
    assert client.post("/api/classifications/2025/overrides", json=tried).status_code == 200
    as_user("planner-2")
    assert client.post("/api/classifications/2025/discard", json=draft_as_read(client, 2025)).status_code == 200
    client.post("/api/classifications/2025/runs")
    as_user("planner")
    again = {"commune_code": second, "category": "at_risk", "reason": "Lần thử thứ hai"}
    assert client.post("/api/classifications/2025/overrides", json=again).status_code == 200
    assert client.post("/api/classifications/2025/runs", json={"replace": True}).status_code == 201
    assert client.post("/api/classifications/2025/overrides", json=tried).status_code == 200
    refused = client.post("/api/classifications/2025/approve")  # the discarded and replaced drafts took no override
    assert refused.status_code == 403 and refused.json()["code"] == "four_eyes_required"
    as_user("planner-2")
    approved = client.post("/api/classifications/2025/approve", json=draft_as_read(client, 2025)).json()

    as_user("planner")
    history = client.get("/api/classifications/2025/history")
    assert history.status_code == 200, history.text
    versions = history.json()
    # Each version has its own number: an ended draft's is not given again (the three were all version 1).
    assert [(v["version"], v["status"], v["created_by"], v["ended_by"], v["n_overrides"]) for v in versions] == [
        (3, "approved", "tham.muu", None, 1),
        (2, "replaced", "tham.muu.2", "tham.muu", 1),
        (1, "discarded", "tham.muu", "tham.muu.2", 1),
    ]
    assert versions[0]["run_id"] == approved["id"] and versions[0]["approved_by"] == "tham.muu.2"
    discarded, replaced = versions[2], versions[1]
    assert discarded["ended_at"] <= replaced["created_at"] <= replaced["ended_at"] <= versions[0]["created_at"]
    (kept,) = discarded["overrides"]
    assert {k: kept[k] for k in ("commune_code", "from_category", "to_category", "reason", "by")} == {
        "commune_code": first,
        "from_category": "drug_free",
        "to_category": "at_risk",
        "reason": "Thử xếp lại theo tin báo",
        "by": "tham.muu",
    }
    assert kept["name"] and kept["at"] <= discarded["ended_at"]
    assert (
        replaced["overrides"][0]["commune_code"] == second and replaced["overrides"][0]["reason"] == "Lần thử thứ hai"
    )
    # Nothing reads an ended draft as the year's: the classes, the review, the export and the KPI are the approved run's.
    runs = {
        client.get("/api/classifications/2025").json()["run"]["id"],
        client.get("/api/classifications/2025/review", params={"draft": True}).json()["run"]["id"],
        client.get("/api/reports/kpi", params={"year": 2025}).json()["classification"]["id"],
    }
    assert runs == {approved["id"]}
    assert client.get("/api/classifications/2025", params={"version": 3}).json()["run"]["id"] == approved["id"]
    assert client.get("/api/classifications/2025", params={"version": 1}).status_code == 404  # discarded
    assert client.get("/api/classifications/2031/history").json() == []
    # The trail is append-only: the application's role may not change or delete it (nor may the owner: its trigger,
    # tests/db/test_migrations.py).
    for statement in ("UPDATE classification_trail SET ended_by = 'x'", "DELETE FROM classification_trail"):
        with pytest.raises(DBAPIError, match="permission denied for table classification_trail"), conn.begin_nested():
            conn.execute(text(statement))
    assert conn.execute(text("SELECT count(*) FROM classification_trail WHERE year = 2025")).scalar_one() == 2


def test_an_override_overridden_again_stays_in_the_history_with_who_replaced_it(
    client, as_user, conn: Connection, indicators: list[str]
) -> None:
    """A draft holds one override per commune: overriding it again wrote over the first (class, reason, planner, time),
    so a planner's try overridden back by another left nothing. Each override is kept (classification_override_log,
    append-only): the history shows the one standing and, greyed, those a later one replaced, with who replaced them
    and when — in the draft, and after it is discarded."""
    commune = indicators[0]
    client.post("/api/classifications/2025/runs")
    first = {"commune_code": commune, "category": "at_risk", "reason": "Theo tin báo của công an xã"}
    assert client.post("/api/classifications/2025/overrides", json=first).status_code == 200
    as_user("planner-2")
    again = {"commune_code": commune, "category": "drug_free", "reason": "Tin báo chưa được xác minh"}
    assert client.post("/api/classifications/2025/overrides", json=again).status_code == 200

    def history() -> dict:
        (draft,) = client.get("/api/classifications/2025/history").json()
        return draft

    draft = history()
    assert [(o["to_category"], o["by"]) for o in draft["overrides"]] == [("drug_free", "tham.muu.2")]
    (gone,) = draft["replaced_overrides"]
    assert (gone["from_category"], gone["to_category"], gone["reason"], gone["by"]) == (
        "drug_free",
        "at_risk",
        "Theo tin báo của công an xã",
        "tham.muu",
    )
    assert gone["replaced_by"] == "tham.muu.2" and gone["at"] <= gone["replaced_at"] == draft["overrides"][0]["at"]
    assert draft["overrides"][0]["from_category"] == "drug_free"  # the criteria's class, as the trail shows it

    assert client.post("/api/classifications/2025/discard", json=draft_as_read(client, 2025)).status_code == 200
    discarded = history()
    assert discarded["status"] == "discarded" and discarded["replaced_overrides"] == [gone]
    for statement in ("UPDATE classification_override_log SET reason = 'x'", "DELETE FROM classification_override_log"):
        with pytest.raises(DBAPIError, match="permission denied for table classification_override_log"):
            with conn.begin_nested():
                conn.execute(text(statement))


def test_an_override_to_the_class_a_commune_already_has_is_refused_and_not_recorded(
    client, as_user, conn: Connection, indicators: list[str]
) -> None:
    """An override that changes nothing (the class the commune already has in the draft: the criteria's, or an earlier
    override's) was accepted, counted as the planner's override and then barred them from approving (four eyes).
    Refused (422, Vietnamese, naming the commune and its class), and nothing recorded: the planner may still approve."""
    as_user("planner-3")
    client.post("/api/classifications/2025/runs")
    free, key = indicators[0], indicators[-1]
    (name,) = conn.execute(
        text("SELECT full_name FROM admin_units WHERE code = :c AND valid_to IS NULL"), {"c": free}
    ).scalars()
    logged = "SELECT count(*) FROM classification_override_log"
    before = conn.execute(text(logged)).scalar_one()
    as_user("planner")
    same = client.post(
        "/api/classifications/2025/overrides",
        json={"commune_code": free, "category": "drug_free", "reason": "Địa bàn đã ổn định"},
    )
    assert same.status_code == 422 and same.json()["code"] == "override_unchanged", same.text
    assert same.json()["message"] == (
        f"{name} đã là loại «Không có tệ nạn ma túy» trong bản nháp năm 2025: không có gì để sửa"
    )
    same_level = client.post(
        "/api/classifications/2025/overrides",
        json={"commune_code": key, "category": "trong_diem", "level": "III", "reason": "Tin báo mới"},
    )
    assert same_level.status_code == 422 and "loại III" in same_level.json()["message"], same_level.text
    assert conn.execute(text(logged)).scalar_one() == before
    assert client.get("/api/classifications/2025", params={"draft": "true"}).json()["run"]["last_override_by"] is None
    # another level is a change; the same override repeated changes nothing either («… với cùng lý do»)
    as_user("planner-2")
    level = {"commune_code": key, "category": "trong_diem", "level": "II", "reason": "Tin báo mới"}
    assert client.post("/api/classifications/2025/overrides", json=level).status_code == 200
    again = client.post("/api/classifications/2025/overrides", json=level)
    assert again.status_code == 422 and again.json()["code"] == "override_unchanged", again.text
    assert "với cùng lý do" in again.json()["message"]
    # the same class with another reason corrects the reason: the one it replaces stays in the log
    corrected = {**level, "reason": "Tin báo của Công an xã ngày 02/11 về tụ điểm mới"}
    fixed = client.post("/api/classifications/2025/overrides", json=corrected)
    assert fixed.status_code == 200 and fixed.json()["override_reason"] == corrected["reason"], fixed.text
    reasons = conn.execute(
        text("SELECT reason FROM classification_override_log WHERE commune_code = :c ORDER BY id"), {"c": key}
    ).scalars()
    assert list(reasons)[-2:] == ["Tin báo mới", corrected["reason"]]
    as_user("planner")
    approved = client.post("/api/classifications/2025/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["last_override_by"] == "tham.muu.2"


def test_the_planners_refusals_are_shown_in_vietnamese_alone(client, as_user, indicators: list[str]) -> None:
    """What the planner page shows of a refusal (`message`: the confirm of a run again, the line under an override) is
    Vietnamese alone; `detail` keeps the English reason for other clients and the logs (the page showed «… (a draft
    v1 exists for 2025: approve it or replace it)», «(a commune with unknown indicators cannot be drug-free: …)»)."""
    client.post("/api/classifications/2025/runs")
    client.post("/api/classifications/2026/runs")  # no figures for 2026: every commune's data is incomplete
    free = {"commune_code": indicators[0], "category": "drug_free", "reason": "Địa bàn đã ổn định"}
    refusals = {
        "draft_exists": client.post("/api/classifications/2025/runs"),
        "invalid_override": client.post("/api/classifications/2026/overrides", json=free),
        "run_not_found": client.post("/api/classifications/2025/overrides", json={**free, "commune_code": "X1"}),
        "no run": client.get("/api/reports/kpi", params={"year": 2031}),
    }
    as_user("planner-2")
    client.post("/api/classifications/2025/approve")
    refusals["run_approved"] = client.post("/api/classifications/2025/overrides", json=free)
    for what, response in refusals.items():
        body = response.json()
        assert 400 <= response.status_code < 500 and body["detail"].startswith(f"{body['message']} ("), (what, body)
        assert not re.search(r"\([\x00-\x7f]*\)", body["message"]), (what, body["message"])


def test_running_a_year_again_over_a_colleagues_overrides_names_them_first(
    client, as_user, indicators: list[str]
) -> None:
    """The first planner runs 2025 again while the draft holds the second planner's override: the refusal the page
    asks «Thay bản nháp hiện có…?» with (and `classify run` prints) says how many communes were overridden, by whom,
    and that replacing the draft drops them. It said only «đã có bản nháp phiên bản 1; duyệt hoặc thay thế nó», and a
    reviewer's correction was thrown away unseen by the runner's «OK». A draft nobody overrode says nothing of it."""
    assert client.post("/api/classifications/2025/runs").status_code == 201
    plain = client.post("/api/classifications/2025/runs")
    assert plain.status_code == 409 and "điều chỉnh" not in plain.json()["message"], plain.text
    as_user("planner-2")
    fix = {"commune_code": indicators[-1], "category": "trong_diem", "level": "II", "reason": "Theo báo cáo xác minh"}
    assert client.post("/api/classifications/2025/overrides", json=fix).status_code == 200
    as_user("planner")
    again = client.post("/api/classifications/2025/runs")
    assert again.status_code == 409 and again.json()["code"] == "draft_exists"
    assert again.json()["message"] == (
        "năm 2025 đã có bản nháp phiên bản 1, trong đó 1 xã đã được điều chỉnh thủ công bởi tham.muu.2;"
        " duyệt hoặc thay thế nó — thay thế sẽ bỏ các điều chỉnh này khỏi kết quả (vẫn ghi trong lịch sử phiên bản)"
    )


def test_a_year_that_has_not_begun_is_neither_run_nor_approved(
    client, as_user, conn: Connection, indicators: list[str]
) -> None:
    """A year after Hải Phòng's current one has no data: its run (all 114 communes «có nguy cơ», data missing) was
    stored, approved by a third planner, scored by the KPI report and shown on the command map as the newest approved
    year. It is refused in Vietnamese and stores nothing; a draft of such a year stored before is never approved. The
    current year, unfinished, is classified during it."""
    this_year = local_today().year
    for year in (this_year + 1, 2030, 2099):
        refused = client.post(f"/api/classifications/{year}/runs", json={})
        body = refused.json()
        assert refused.status_code == 422 and body["code"] == "year_not_begun", (year, refused.text)
        assert body["message"].startswith(f"Năm {year} chưa bắt đầu (hôm nay là ngày "), body
        assert client.get(f"/api/classifications/{year}/history").json() == []
    current = client.post(f"/api/classifications/{this_year}/runs", json={})
    assert current.status_code == 201, current.text
    conn.execute(
        text("UPDATE classification_runs SET year = :y WHERE id = :id"),
        {"y": this_year + 1, "id": current.json()["id"]},
    )
    as_user("planner-2")
    refused = client.post(f"/api/classifications/{this_year + 1}/approve")
    assert refused.status_code == 422 and refused.json()["code"] == "year_not_begun", refused.text
    assert (
        client.get(f"/api/classifications/{this_year + 1}", params={"draft": True}).json()["run"]["status"] == "draft"
    )


def test_database_refuses_changes_to_an_approved_run(client, as_user, conn: Connection, indicators: list[str]) -> None:
    run_id = client.post("/api/classifications/2025/runs").json()["id"]
    as_user("planner-2")
    assert client.post("/api/classifications/2025/approve").status_code == 200
    for statement in (
        "UPDATE classification_results SET category = 'drug_free', level = NULL WHERE run_id = :r",
        "DELETE FROM classification_results WHERE run_id = :r",
        "UPDATE classification_runs SET note = 'x' WHERE id = :r",
        "DELETE FROM classification_runs WHERE id = :r",
        "INSERT INTO classification_results (run_id, commune_code, legal_category, leaving_drug_free,"
        " category, method, indicators, sources, criteria, explanation) VALUES"
        " (:r, 'X', 'at_risk', false, 'at_risk', 'legal', '{}', '{}', '[]', '')",
    ):
        with pytest.raises(DBAPIError, match="immutable"):
            with conn.begin_nested():
                conn.execute(text(statement), {"r": run_id})


def test_correction_is_a_new_version_referencing_the_old(client, as_user, indicators: list[str]) -> None:
    first = client.post("/api/classifications/2025/runs").json()
    assert client.post("/api/classifications/2025/runs").status_code == 409  # a draft already exists
    as_user("planner-2")
    assert client.post("/api/classifications/2025/approve").status_code == 200
    as_user("planner")
    correction = client.post("/api/classifications/2025/runs", json={"note": "bổ sung số liệu"})
    assert correction.status_code == 201
    assert correction.json()["version"] == 2 and correction.json()["supersedes_id"] == first["id"]
    # Until the correction is approved, readers keep seeing the approved version 1.
    assert client.get("/api/classifications/2025").json()["run"]["version"] == 1
    assert client.get("/api/classifications/2025", params={"version": 2}).json()["run"]["status"] == "draft"
    # The planner works on the correction: asked for the draft first, the classes and the review are version 2's.
    for path in ("/api/classifications/2025", "/api/classifications/2025/review"):
        assert client.get(path, params={"draft": True}).json()["run"]["version"] == 2, path
    as_user("planner-2")
    assert client.post("/api/classifications/2025/approve").status_code == 200
    assert client.get("/api/classifications/2025/review", params={"draft": True}).json()["run"]["version"] == 2
    assert client.get("/api/classifications/2025").json()["run"]["version"] == 2
    assert client.get("/api/classifications/2025", params={"version": 1}).json()["run"]["status"] == "approved"
    assert client.get("/api/classifications/2031").status_code == 404


def test_a_correction_keeps_the_approved_overrides_as_its_runners(client, as_user, indicators: list[str]) -> None:
    """A correction run after approval dropped every approved override unsaid (a walk-through's commune came back to
    the criteria's class, no reason on record). It keeps each one the criteria's class still differs from, now an
    override by the planner who ran the correction, its reason quoting the first; it says which. The planner who
    made the first override may approve the correction (they did not run it); its runner may not."""
    code = indicators[0]
    client.post("/api/classifications/2025/runs")
    as_user("planner-3")
    overridden = client.post(
        "/api/classifications/2025/overrides",
        json={"commune_code": code, "category": "at_risk", "reason": "Tin báo mới của công an xã"},
    )
    assert overridden.status_code == 200, overridden.text
    as_user("planner-2")
    assert client.post("/api/classifications/2025/approve").status_code == 200
    as_user("planner")
    correction = client.post("/api/classifications/2025/runs", json={"note": "bổ sung số liệu"})
    assert correction.status_code == 201, correction.text
    assert correction.json()["carried"] == [code]
    features = client.get("/api/classifications/2025", params={"draft": True}).json()["features"]
    row = next(f["properties"] for f in features if f["id"] == code)
    assert (row["category"], row["method"], row["override_by"]) == ("at_risk", "override", "tham.muu")
    assert re.fullmatch(
        r"Giữ điều chỉnh của phiên bản 1 đã duyệt \(tham\.muu\.3, \d\d/\d\d/\d{4}\): Tin báo mới của công an xã",
        row["override_reason"],
    ), row["override_reason"]
    assert client.post("/api/classifications/2025/approve").status_code == 403  # tham.muu ran it
    as_user("planner-3")
    assert client.post("/api/classifications/2025/approve").status_code == 200
    # The history says which approved version applies: two «Đã phê duyệt» read alike.
    history = client.get("/api/classifications/2025/history").json()
    assert [(v["version"], v["status"], v["in_force_until"]) for v in history] == [
        (2, "approved", None),
        (1, "approved", 2),
    ]


def test_review_lists_disagreements_and_changes_first(client, as_user, indicators: list[str]) -> None:
    client.post("/api/classifications/2024/runs")
    as_user("planner-2")
    assert client.post("/api/classifications/2024/approve").status_code == 200
    client.post("/api/classifications/2025/runs")
    body = client.get("/api/classifications/2025/review").json()
    items = body["items"]
    assert body["n_changed"] == 10  # communes 41–50 were drug-free in 2024
    flagged = [bool(i["disagreement"] or i["changed"]) for i in items]
    assert flagged == sorted(flagged, reverse=True)
    changed = [i for i in items if i["changed"]]
    assert all(i["previous_category"] == "drug_free" and i["category"] == "trong_diem" for i in changed)
    assert any("Thay đổi so với năm trước" in f for f in changed[0]["flags"])


def test_exports(client, as_user, conn: Connection, indicators: list[str]) -> None:
    client.post("/api/classifications/2025/runs")
    machine_file = export_classification(conn, 2025, "csv", raw=True, issuer=None, by="test")
    machine = machine_file.content
    assert not machine.startswith(b"\xef\xbb\xbf"), "for scripts: no BOM"
    # Named apart from the people's CSV of the same version: one had overwritten the other in a downloads folder.
    people = export_classification(conn, 2025, "csv", issuer=None, by="test").name
    assert machine_file.name == people.replace("phân-loại-", "phân-loại-dạng-thô-"), machine_file.name
    raw = list(csv.reader(io.StringIO(machine.decode("utf-8"))))
    header = raw[0]
    assert header[:4] == ["commune_code", "name", "category", "level"] and "override_reason" in header
    assert "I.a.value" in header and "I.a.met" in header and len(raw) == 115
    # Codes and true/false, as the JSON API gives them (were «Có tệ nạn ma túy» and «False»).
    assert {row[header.index("category")] for row in raw[1:]} <= {"drug_free", "at_risk", "trong_diem"}
    assert {row[header.index("incomplete")] for row in raw[1:]} <= {"true", "false"}
    assert {row[header.index("I.a.met")] for row in raw[1:]} <= {"true", "false", ""}
    # The next-year forecast as the review gives it (it was in the API alone), no forecast an empty cell, not 0.
    review = {i["commune_code"]: i for i in client.get("/api/classifications/2025/review?draft=true").json()["items"]}
    forecast = {row[0]: row[header.index("risk_next_year")] for row in raw[1:]}
    assert {code: float(v) if v else None for code, v in forecast.items()} == {
        code: item["risk_next_year"] for code, item in review.items()
    }
    refused = client.get("/api/classifications/2025/export?format=xlsx&raw=true")
    assert refused.status_code == 422 and "dạng thô chỉ có cho CSV và GeoJSON" in refused.json()["message"]
    shown = list(
        csv.reader(
            io.StringIO(export_classification(conn, 2025, "csv", issuer=None, by="test").content.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert shown[0][:5] == ["STT", "Mã đơn vị", "Tên đơn vị", "Phân loại", "Theo tiêu chí"]
    assert "Lý do điều chỉnh" in shown[0] and "Tiêu chí loại I (a): số liệu (cần ≥ 0,5 %)" in shown[0]
    # Criteria are named as the decision names them, not by the rules file's ids (was "Tiêu chí I.dd", "free.users").
    assert (
        "Tiêu chí loại I (đ): đánh giá" in shown[0] and "Tiêu chí không ma túy (1): số liệu (cần = 0 người)" in shown[0]
    )
    assert not [h for h in shown[0] if re.search(r"\.dd|free\.|II\.route|I\.a", h)], shown[0]
    assert "Thiếu dữ liệu" in shown[0] and "incomplete" in header and "possible_level" in header
    assert [row[0] for row in shown[1:4]] == ["1", "2", "3"]
    body = "\n".join(",".join(row) for row in shown[1:])
    assert "True" not in body and "trong_diem" not in body and "legal" not in body, "labels, not codes"
    assert not any(re.search(r"\d[.,]\d{4,}", cell) for row in shown[1:] for cell in row[2:]), "no long floats"
    # GeoJSON for a GIS user: the CSV's columns under their Vietnamese headers, labels for codes, figures as numbers
    # (a share as its percentage), missing as null (was English names, codes and nested criteria, indicators and
    # sources in English); raw=True keeps the machine's.
    geo = json.loads(export_classification(conn, 2025, "geojson", issuer=None, by="test").content)
    assert geo["name"] == "Phân loại địa bàn năm 2025" and "Phiên bản 1 (BẢN NHÁP" in geo["description"]
    assert len(geo["features"]) == 114 and "run" not in geo
    props = geo["features"][-1]["properties"]
    assert list(props)[:4] == ["Mã đơn vị", "Tên đơn vị", "Phân loại", "Theo tiêu chí"] == shown[0][1:5]
    assert list(props) == shown[0][1:], "the same columns as the CSV"
    assert props["Phân loại"] == "Trọng điểm phức tạp về ma túy loại III" and props["Thiếu dữ liệu"] in ("Có", "Không")
    assert props["Tiêu chí loại I (a): số liệu (cần ≥ 0,5 %)"] == 0.3 and props["Lý do điều chỉnh"] is None
    assert not [k for k in props if re.fullmatch(r"[a-z_.]+", k)] and "sources" not in json.dumps(geo)
    machine = json.loads(export_classification(conn, 2025, "geojson", raw=True, issuer=None, by="test").content)
    assert machine["run"]["version"] == 1 and {"category", "criteria", "sources"} <= set(
        machine["features"][0]["properties"]
    )
    sheet = load_workbook(io.BytesIO(export_classification(conn, 2025, "xlsx", issuer=None, by="test").content)).active
    texts = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "CÔNG AN THÀNH PHỐ HẢI PHÒNG" in texts and "Độc lập - Tự do - Hạnh phúc" in texts
    assert any(t.startswith("Hải Phòng, ngày ") for t in texts) and "Mã đơn vị" in texts
    motto = next(c for row in sheet.iter_rows() for c in row if c.value == "Độc lập - Tự do - Hạnh phúc")
    assert motto.column <= 8, f"the motto stands beside the agency header, not in column {motto.column_letter}"
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows and sheet.print_area
    response = client.get("/api/classifications/2025/export", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    # The file's name tells a draft from the approved list, and a province's from the whole (was phan-loai-2025.csv);
    # a browser saves it under its Vietnamese name (RFC 5987), another client under the plain-letter one.
    assert saved_as(response) == ("phân-loại-2025-v1-bản-nháp.csv", "phan-loai-2025-v1-ban-nhap.csv")
    response = client.get("/api/classifications/2025/export", params={"format": "xlsx", "province": "31"})
    assert saved_as(response) == ("phân-loại-2025-v1-bản-nháp-tỉnh-31.xlsx", "phan-loai-2025-v1-ban-nhap-tinh-31.xlsx")
    # The GeoJSON answer matches what the OpenAPI description promises for its media type (schemathesis ST108
    # found it documented as a binary string, which a JSON body never is).
    response = client.get("/api/classifications/2025/export", params={"format": "geojson"})
    media = response.headers["content-type"]
    documented = client.app.openapi()["paths"]["/api/classifications/{year}/export"]["get"]["responses"]["200"]
    errors = jsonschema_rs.validator_for(documented["content"][media]["schema"]).iter_errors(response.json())
    assert not [f"{'/'.join(map(str, e.instance_path))}: {e.message[-120:]}" for e in errors]


def test_kpi_report_on_crafted_year(client, as_user, conn: Connection, indicators: list[str]) -> None:
    for year in (2024, 2025):
        as_user("planner")
        client.post(f"/api/classifications/{year}/runs")
        as_user("planner-2")
        assert client.post(f"/api/classifications/{year}/approve").status_code == 200
    as_user("planner")
    code = indicators[60]
    ids = (
        conn.execute(
            text(
                "INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, first_seen, radius_m, commune_code, version,"
                " centroid) SELECT s, 'spot', 'manual', 0, '{}', f, 50, u.code, 1, ST_PointOnSurface(u.geom)"
                " FROM admin_units u, (VALUES ('eradicated', TIMESTAMPTZ '2024-03-01'), ('recurred', '2023-05-01'),"
                " ('verified', '2025-04-01')) v(s, f) WHERE u.code = :c AND u.valid_to IS NULL RETURNING id"
            ),
            {"c": code},
        )
        .scalars()
        .all()
    )
    conn.execute(
        text(
            "INSERT INTO hotspot_events (hotspot_id, at, actor, event, to_status, details) VALUES"
            " (:a, '2025-02-01', 't', 'transition', 'eradicated', '{}'),"
            " (:b, '2024-02-01', 't', 'transition', 'eradicated', '{}'),"
            " (:b, '2025-06-01', 't', 'recurred', 'recurred', '{}')"
        ),
        {"a": ids[0], "b": ids[1]},
    )
    body = client.get("/api/reports/kpi", params={"year": 2025}).json()
    kpis = {k["key"]: k for k in body["kpis"]}
    assert body["approved"] and body["targets_version"]
    assert kpis["drug_free_share"]["value"] == round(40 / 114, 4)
    assert kpis["drug_free_share"]["target"] == pytest.approx(0.30) and kpis["drug_free_share"]["met"] is True
    assert kpis["problem_communes"]["value"] == 74
    assert kpis["problem_growth"]["value"] == round(10 / 64, 4) and kpis["problem_growth"]["met"] is False
    assert kpis["eradicated"]["value"] == 1 and kpis["eradicated_growth"]["value"] == 0
    assert kpis["recurrences"]["value"] == 1 and kpis["recurrences"]["met"] is False
    assert kpis["new_hotspots"]["value"] == 1
    xlsx = client.get("/api/reports/kpi.xlsx", params={"year": 2025})
    assert saved_as(xlsx) == (
        "báo-cáo-chỉ-tiêu-2025-v1-đã-phê-duyệt.xlsx",
        "bao-cao-chi-tieu-2025-v1-da-phe-duyet.xlsx",
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    texts = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts and "NGƯỜI LẬP BIỂU" in texts
    # Who exported it (the reader, not the server's account), what it covers and the texts it rests on.
    issued = next(t for t in texts if t.startswith("Người xuất: "))
    assert re.fullmatch(
        r"Người xuất: tham\.muu, lúc \d\d/\d\d/\d{4} \d\d:\d\d \(giờ Việt Nam\); phạm vi: Thành phố Hải Phòng; căn cứ: "
        r"Kế hoạch 246/KH-UBND .*; phân loại: Quyết định 28/2025/QĐ-TTg .* \(bộ tiêu chí qd28-2025\.\d+\)",
        issued,
    ), issued
    assert _kpi_cells(sheet, "Tỷ lệ xã, phường, đặc khu không ma túy")[0] == (0.3509, "#,##0.00%")  # 35,09 %
    # A report to print and send on: no row of machine column names under the Vietnamese headers.
    assert not {"stt", "label_vi", "value_shown"} & set(texts), texts


def test_a_team_reads_only_its_own_area_and_cannot_change(client, as_user, make_team, indicators: list[str]) -> None:
    client.post("/api/classifications/2025/runs")
    as_user("team", make_team("Tổ công tác số 1", indicators[:2]))
    body = client.get("/api/classifications/2025").json()
    assert sorted(f["id"] for f in body["features"]) == indicators[:2]
    assert sorted(f["id"] for f in client.get("/api/classifications/2025/map").json()["features"]) == indicators[:2]
    assert client.post("/api/classifications/2025/approve").status_code == 403
    assert client.get("/api/classifications/2025/review").status_code == 403
    assert client.get("/api/reports/kpi", params={"year": 2025}).status_code == 403


def test_a_blank_row_stays_unknown_from_file_to_page(
    client, as_user, conn: Connection, indicators: list[str], tmp_path: Path
) -> None:
    # Commune 0 has a population and nothing else: blank cells are unknown, never zero, so it is not drug-free,
    # it is flagged "thiếu dữ liệu" in the review and the GeoJSON, and it does not count towards the KPI.
    blank, clean = indicators[0], indicators[1]
    lines = [f"2025,{code},10000,0,0,0,0,0" for code in indicators[1:]]
    path = tmp_path / "blank-2025.csv"
    path.write_text(HEADER + f"2025,{blank},10000,,,,,\n" + "\n".join(lines) + "\n", encoding="utf-8")
    import_indicators(conn, path, imported_by="test")
    created = client.post("/api/classifications/2025/runs").json()
    assert created["counts"] == {"at_risk": 1, "drug_free": 113}

    items = {i["commune_code"]: i for i in client.get("/api/classifications/2025/review").json()["items"]}
    assert items[blank]["incomplete"] is True and items[clean]["incomplete"] is False
    assert items[blank]["category"] == "at_risk" and items[blank]["data_status"] == "thiếu dữ liệu"
    assert "loại I (a)" in items[blank]["missing_criteria"] and items[clean]["missing_criteria"] == []
    props = {f["id"]: f["properties"] for f in client.get("/api/classifications/2025").json()["features"]}
    assert props[blank]["incomplete"] is True and props[blank]["data_status"] == "thiếu dữ liệu"
    # users, plants and route unknown: I.a, I.d and I.đ could all hold, so loại I is possible.
    assert props[blank]["possible_level"] == "I" and props[clean]["data_status"] is None

    refused = client.post(
        "/api/classifications/2025/overrides",
        json={"commune_code": blank, "category": "drug_free", "reason": "theo báo cáo miệng"},
    )
    assert refused.status_code == 422 and "thiếu dữ liệu" in refused.json()["detail"]
    as_user("planner-2")
    assert client.post("/api/classifications/2025/approve").status_code == 200
    kpis = {k["key"]: k for k in client.get("/api/reports/kpi", params={"year": 2025}).json()["kpis"]}
    assert kpis["drug_free_share"]["value"] == round(113 / 114, 4)
    assert "1 đơn vị thiếu dữ liệu" in kpis["drug_free_share"]["note"]


def test_an_overrider_may_not_approve_though_another_planner_overrode_after_them(
    client, as_user, conn: Connection, indicators: list[str]
) -> None:
    """Four eyes on every override that stands in the draft: only the last overrider was refused, so a planner whose
    own override came first approved it once a colleague made a later one. (Run by the second planner: the first is
    refused for their override alone.)"""
    as_user("planner-2")
    client.post("/api/classifications/2025/runs")
    for who, code in (("planner", indicators[0]), ("planner-2", indicators[1])):
        as_user(who)
        moved = client.post(
            "/api/classifications/2025/overrides",
            json={"commune_code": code, "category": "at_risk", "reason": "tin báo mới chưa cập nhật"},
        )
        assert moved.status_code == 200, moved.text
    # an hour apart (the test's one transaction gives every request the same now())
    conn.execute(
        text(
            "UPDATE classification_results SET override_at = override_at - interval '1 hour' WHERE override_by = 'tham.muu'"
        )
    )
    as_user("planner")
    refused = client.post("/api/classifications/2025/approve")
    assert refused.status_code == 403 and refused.json()["code"] == "four_eyes_required"
    assert "tham.muu đã điều chỉnh kết quả của 1 xã" in refused.json()["detail"]
    assert "đã chạy" not in refused.json()["detail"]
    as_user("planner-3")
    approved = client.post("/api/classifications/2025/approve")
    assert approved.status_code == 200 and approved.json()["last_override_by"] == "tham.muu.2"


def test_the_planner_who_ran_a_draft_or_a_correction_may_not_approve_it(client, as_user, indicators: list[str]) -> None:
    """Four eyes on the run too: the planner who ran the year (choosing its indicator data and unit basis) approved
    the rules' own result, overridden by nobody, alone. Refused (403, Vietnamese, saying another planner approves),
    a correction too; another planner, who neither ran nor overrode it, approves."""
    client.post("/api/classifications/2025/runs")
    refused = client.post("/api/classifications/2025/approve")
    assert refused.status_code == 403 and refused.json()["code"] == "four_eyes_required"
    assert refused.json()["message"] == (
        "Nguyên tắc bốn mắt: tham.muu đã chạy phân loại tạo bản nháp này, nên không được tự phê duyệt;"
        " cần một cán bộ tham mưu khác xem xét và phê duyệt"
    )
    as_user("planner-2")
    approved = client.post("/api/classifications/2025/approve")
    assert approved.status_code == 200, approved.text
    assert (approved.json()["created_by"], approved.json()["approved_by"]) == ("tham.muu", "tham.muu.2")
    assert client.post("/api/classifications/2025/runs").json()["supersedes_id"] == approved.json()["id"]
    refused = client.post("/api/classifications/2025/approve")  # tham.muu.2 ran the correction
    assert refused.status_code == 403 and refused.json()["message"].startswith(
        "Nguyên tắc bốn mắt: tham.muu.2 đã chạy phân loại tạo bản nháp này"
    )
    as_user("planner")
    corrected = client.post("/api/classifications/2025/approve")
    assert corrected.status_code == 200 and corrected.json()["version"] == 2


def test_four_eyes_can_be_switched_off(client, as_user, indicators: list[str]) -> None:
    """A unit with a single planner (DIABAN_FOUR_EYES=false): who ran and overrode the draft approves it."""
    client.post("/api/classifications/2024/runs")
    client.post(
        "/api/classifications/2024/overrides",
        json={"commune_code": indicators[0], "category": "at_risk", "reason": "Có tin báo mới"},
    )
    client.app.state.four_eyes = False  # DIABAN_FOUR_EYES=false
    approved = client.post("/api/classifications/2024/approve").json()
    assert approved["created_by"] == approved["approved_by"] == approved["last_override_by"] == "tham.muu"


def test_the_map_of_the_classes_holds_each_communes_names_and_class_only(client, as_user, indicators) -> None:
    """What the command page draws: the same communes, geometry and class as the whole answer, without criteria,
    indicators or reasons."""
    client.post("/api/classifications/2025/runs")
    whole = client.get("/api/classifications/2025", params={"simplify_m": 20}).json()
    light = client.get("/api/classifications/2025/map", params={"simplify_m": 20})
    assert light.status_code == 200, light.text
    body = light.json()
    kept = {"code", "name", "full_name", "category", "level", "incomplete"}
    assert body["run"] == whole["run"] and len(body["features"]) == len(whole["features"]) == 114
    assert all(set(f["properties"]) == kept for f in body["features"])
    assert [f["properties"] for f in body["features"]] == [
        {k: f["properties"][k] for k in kept} for f in whole["features"]
    ]
    assert [f["geometry"] for f in body["features"]] == [f["geometry"] for f in whole["features"]]
    assert len(light.content) < len(json.dumps(whole)) / 2


@pytest.mark.parametrize(
    "path",
    [
        "/api/classifications/2025/map?simplify_m=20",
        "/api/classifications/2025?simplify_m=20",
        "/api/classifications/2025/review?draft=true",
    ],
)
def test_the_classes_are_revalidated_and_change_with_an_override_or_an_approval(
    client, as_user, indicators: list[str], scatter_incidents, path: str
) -> None:
    """The command page's map of the classes and the planner page's whole classification and review list carry an
    ETag that a revisit sends back (304, no body; the review list was sent again on every visit: nation-wide 91 KB);
    a new run, an override and an approval change it, a change of anything else the classification does not show
    does not."""

    def category(code: str) -> str:
        answer = client.get(path).json()
        if "items" in answer:
            return next(item["category"] for item in answer["items"] if item["commune_code"] == code)
        return next(f["properties"]["category"] for f in answer["features"] if f["properties"]["code"] == code)

    def etag() -> str:
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        again = client.get(path, headers={"If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304 and again.content == b""
        return answer.headers["ETag"]

    client.post("/api/classifications/2025/runs")
    drafted = etag()
    scatter_incidents(indicators[0], "etag-", 3)
    as_user("command")
    task = {"kind": "conversion", "commune_code": indicators[0], "year": 2025}
    assert client.post("/api/tasks", json=task).status_code == 201
    as_user("planner")
    client.get("/api/classifications/2025/review")
    assert etag() == drafted
    overridden = client.post(
        "/api/classifications/2025/overrides",
        json={"commune_code": indicators[0], "category": "at_risk", "reason": "Có tin báo mới"},
    )
    assert overridden.status_code == 200, overridden.text
    after_override = etag()
    assert after_override != drafted
    assert category(indicators[0]) == "at_risk"
    as_user("planner-2")
    assert client.post("/api/classifications/2025/approve").status_code == 200
    assert etag() not in (drafted, after_override)
    assert client.get(path).json()["run"]["status"] == "approved"


def test_the_planners_classification_follows_a_change_another_worker_committed(
    client, as_user, conn: Connection, indicators: list[str]
) -> None:
    """The planner page reads the whole classification again right after the planner's own override, which another
    worker of the server may have committed: its ETag is keyed on the versions as they are, not as this process
    remembers them (the map of the classes follows such a change within DIABAN_DATA_VERSION_SECONDS)."""
    path = "/api/classifications/2025?simplify_m=20"
    client.post("/api/classifications/2025/runs")
    client.app.state.data_versions = Memo(3600)  # a process that remembers the versions it read
    first = client.get(path)
    override(conn, 2025, indicators[0], "at_risk", None, "Có tin báo mới", actor="tham.muu")  # by another worker
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]
    assert again.json()["features"][0]["properties"]["category"] == "at_risk"


def test_kpi_conversion_of_key_areas_by_hand(client, as_user, conn: Connection, codes: list[str]) -> None:
    """Conversion tasks of 2023, counted by hand: selected 7 (a canceled task withdraws the area, a declined one does
    not), converted in the year 4 (one accepted in January 2024 is not), stable through the 6-month watch 2 of 4."""
    tasks = {  # commune index → (state, day of acceptance)
        0: ("accepted", "2023-03-01"),  # stable
        1: ("accepted", "2023-05-01"),  # a new spot on 01/08/2023, within the watch: relapsed
        2: ("accepted", "2023-06-01"),  # a new spot on 15/01/2024, after the watch (ended 01/12/2023): stable
        3: ("in_progress", None),
        4: ("canceled", None),
        5: ("accepted", "2024-01-10"),  # converted, but not in 2023
        6: ("declined", None),
        7: ("accepted", "2023-04-01"),  # an old spot recurred on 01/07/2023: relapsed
    }
    for i, (state, accepted) in tasks.items():
        task = conn.execute(
            text(
                "INSERT INTO tasks (kind, commune_code, year, state, priority, checklist, version, created_by)"
                " VALUES ('conversion', :c, 2023, :s, 'normal', '[]', 1, 't') RETURNING id"
            ),
            {"c": codes[i], "s": state},
        ).scalar_one()
        if accepted:
            conn.execute(
                text(
                    "INSERT INTO task_events (task_id, at, actor, event, from_state, to_state, details)"
                    " VALUES (:t, CAST(:at AS timestamptz), 't', 'transition', 'completed', 'accepted', '{}')"
                ),
                {"t": task, "at": accepted},
            )
    spots = conn.execute(
        text(
            "INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, first_seen, radius_m, commune_code, version,"
            " centroid) SELECT 'verified', 'spot', 'manual', 0, '{}', f, 50, u.code, 1, ST_PointOnSurface(u.geom)"
            " FROM admin_units u JOIN (VALUES (:c1, TIMESTAMPTZ '2023-08-01'), (:c2, '2024-01-15'),"
            " (:c7, '2022-01-01')) v(c, f) ON u.code = v.c WHERE u.valid_to IS NULL ORDER BY u.code RETURNING id"
        ),
        {"c1": codes[1], "c2": codes[2], "c7": codes[7]},
    ).scalars()
    conn.execute(
        text(
            "INSERT INTO hotspot_events (hotspot_id, at, actor, event, to_status, details)"
            " VALUES (:h, '2023-07-01', 't', 'recurred', 'recurred', '{}')"
        ),
        {"h": list(spots)[-1]},
    )
    assert client.post("/api/classifications/2023/runs").status_code == 201
    body = client.get("/api/reports/kpi", params={"year": 2023}).json()
    kpis = {k["key"]: k for k in body["kpis"]}
    converted, stable = kpis["conversion"], kpis["conversion_stable"]
    assert (converted["value"], converted["target"], converted["met"]) == (round(4 / 7, 4), 0.6, False), converted
    assert converted["label_vi"] == "Tỷ lệ địa bàn được chọn chuyển hóa đã chuyển hóa trong năm"
    assert converted["note"].startswith("4/7 địa bàn")
    assert (stable["value"], stable["target"], stable["met"]) == (0.5, 0.85, False), stable
    assert "2/4 địa bàn đã hết 6 tháng theo dõi" in stable["note"] and "0 địa bàn còn" in stable["note"]
    # 2023 has no indicators at all: every unit is at risk for want of data, and the report says so.
    assert "114 đơn vị chưa đạt tiêu chí trọng điểm và thiếu dữ liệu" in kpis["problem_communes"]["note"]
    sheet = load_workbook(io.BytesIO(client.get("/api/reports/kpi.xlsx", params={"year": 2023}).content)).active
    assert _kpi_cells(sheet, "Tỷ lệ địa bàn được chọn chuyển hóa đã chuyển hóa trong năm")[0] == (0.5714, "#,##0.00%")
    assert _kpi_cells(sheet, "Tỷ lệ địa bàn đã chuyển hóa giữ vững ổn định") == [
        (0.5, "#,##0%"),
        (0.85, '"tối thiểu "#,##0%'),
    ]


def _kpi_cells(sheet: Worksheet, label: str) -> list[tuple[Any, str]]:
    """The result and target of a KPI line of the Excel report, each with its number format (the figures are number
    cells: the committee sums and filters them)."""
    row = next(r for r in sheet.iter_rows() if r[1].value == label)
    return [(c.value, c.number_format) for c in row[2:4]]


def test_a_changed_criteria_file_changes_the_classes_and_the_snapshot_names_its_version(
    conn: Connection, indicators: list[str], tmp_path: Path
) -> None:
    """The unverified loại III threshold lives in the TOML: raised from 0,1 % to 0,5 % (version bumped), the 74
    communes at 0,3 % are no longer loại III, and the run records the rules it was computed with."""
    shipped = draft_year(conn, 2025, actor="test")
    assert shipped["rules_version"] == load_rules().version and shipped["counts"]["trong_diem_III"] == 74
    text_ = data.resource(data.CRITERIA).read_text(encoding="utf-8")
    changed = text_.replace('version = "qd28-2025.2"', 'version = "thu-nghiem.1"').replace(
        'numerator = "users_with_records", denominator = "population", scale = 100, op = ">=", threshold = 0.1 }',
        'numerator = "users_with_records", denominator = "population", scale = 100, op = ">=", threshold = 0.5 }',
    )
    assert (
        changed.count("thu-nghiem.1") == 1
        and changed.count("threshold = 0.1 }") == text_.count("threshold = 0.1 }") - 1
    )
    path = tmp_path / "tieu-chi.toml"
    path.write_text(changed, encoding="utf-8")
    run = draft_year(conn, 2025, actor="test", rules=load_rules(path), replace=True)
    assert run["rules_version"] == "thu-nghiem.1" and run["params"]["rules_source"].startswith("Quyết định 28/2025")
    assert "trong_diem_III" not in run["counts"] and run["counts"]["at_risk"] == 74
    criteria = conn.execute(
        text("SELECT criteria FROM classification_results WHERE run_id = :id AND commune_code = :c"),
        {"id": run["id"], "c": indicators[60]},
    ).scalar_one()
    assert {c["criterion_id"]: c["threshold"] for c in criteria}["III.users"] == 0.5  # the threshold used, kept


def test_an_indicator_table_alone_makes_no_commune_drug_free(client, as_user, conn, indicators, tmp_path) -> None:
    """2023 has an indicator table (no user with records, nothing grown, off the routes) and no incident loaded: the
    police's counts of the year are unknown, not zero, and no commune reads drug-free on the table alone."""
    path = tmp_path / "ind-2023.csv"
    path.write_text(HEADER + "".join(f"2023,{code},10000,0,0,0,0,0\n" for code in indicators), encoding="utf-8")
    import_indicators(conn, path, imported_by="test")
    created = client.post("/api/classifications/2023/runs")
    assert created.status_code == 201, created.text
    assert "drug_free" not in created.json()["counts"]
    review = client.get("/api/classifications/2023/review").json()["items"]
    assert len(review) == 114 and all(item["data_status"] == "thiếu dữ liệu" for item in review)


def _hotspot_kpis(client, year: int) -> dict[str, dict[str, Any]]:
    """The hotspot lines of a year's KPI report, by key."""
    kpis = {k["key"]: k for k in client.get("/api/reports/kpi", params={"year": year}).json()["kpis"]}
    return {key: kpis[key] for key in ("eradicated", "eradicated_growth", "recurrences", "new_hotspots")}


def test_kpi_hotspot_figures_of_a_year_the_records_do_not_cover_are_unknown(
    client, as_user, conn: Connection, codes: list[str]
) -> None:
    """The demo's hotspot records begin on 06/12/2025: 2025's hotspot figures are no year's figures and 2024's are
    none at all — unknown, never 0, and not assessed («phức tạp trở lại: 0 lượt», «Đạt» was the answer)."""
    for year in (2025, 2026):
        assert client.post(f"/api/classifications/{year}/runs").status_code == 201
    spot = conn.execute(
        text(
            "INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, first_seen, radius_m, commune_code, version,"
            " centroid) SELECT 'eradicated', 'spot', 'manual', 0, '{}', TIMESTAMPTZ '2025-12-06 09:00+07', 50, code, 1,"
            " ST_PointOnSurface(geom) FROM admin_units WHERE code = :c AND valid_to IS NULL RETURNING id"
        ),
        {"c": codes[0]},
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO hotspot_events (hotspot_id, at, actor, event, to_status, details)"
            " VALUES (:h, '2025-12-20 10:00+07', 't', 'transition', 'eradicated', '{}')"
        ),
        {"h": spot},
    )
    before = _hotspot_kpis(client, 2025)
    assert all(line["value"] is None and line["met"] is None for line in before.values()), before
    assert "bắt đầu từ ngày 06/12/2025" in before["eradicated"]["note"]
    assert "năm trước không có" not in before["eradicated_growth"]["note"]  # a fact about a year not recorded
    sheet = load_workbook(io.BytesIO(client.get("/api/reports/kpi.xlsx", params={"year": 2025}).content)).active
    recurred = next(r for r in sheet.iter_rows(values_only=True) if r[1] == before["recurrences"]["label_vi"])
    assert recurred[2:5] == (KPI_NO_DATA, 0, KPI_NO_DATA), recurred  # was 0 lượt, «Đạt»
    # 2026 is covered whole: its own figures are known, its growth over 2025 is not.
    after = _hotspot_kpis(client, 2026)
    assert (after["eradicated"]["value"], after["new_hotspots"]["value"], after["recurrences"]["value"]) == (0, 0, 0)
    assert after["eradicated"]["note"] == f"năm trước: {KPI_NO_DATA}"
    assert after["eradicated_growth"]["value"] is None and after["eradicated_growth"]["met"] is None


def test_kpi_and_export_of_a_province_without_units_are_refused(client, as_user, conn: Connection) -> None:
    """Hà Nội is a known province of which the system holds no unit: its KPI report answered Hải Phòng's run with
    zeros («Số địa bàn có tệ nạn ma túy 0», «0/0 đơn vị») and its export a file of headers only."""
    assert client.post("/api/classifications/2025/runs").status_code == 201
    as_user("command")
    for path, params in (
        ("/api/reports/kpi", {"year": 2025, "province": "01"}),
        ("/api/reports/kpi.xlsx", {"year": 2025, "province": "01"}),
        ("/api/classifications/2025/export", {"format": "csv", "province": "01"}),
    ):
        answer = client.get(path, params=params)
        assert answer.status_code == 404, (path, answer.status_code)
        assert "Thành phố Hà Nội (mã 01) chưa có đơn vị hành chính nào trong hệ thống" in answer.json()["message"]
    assert client.get("/api/reports/kpi", params={"year": 2025, "province": "31"}).status_code == 200


def test_the_kpi_report_is_of_the_version_asked_for(client, as_user, conn: Connection) -> None:
    """The planner page's «Báo cáo chỉ tiêu (Excel)» of the version it shows: a correction awaiting approval is not
    the approved version the report was always built on."""
    client.post("/api/classifications/2025/runs")
    as_user("planner-2")
    assert client.post("/api/classifications/2025/approve").status_code == 200
    as_user("planner")
    assert client.post("/api/classifications/2025/runs").json()["version"] == 2  # a correction, a draft
    shown = client.get("/api/reports/kpi", params={"year": 2025}).json()["classification"]
    assert (shown["version"], shown["status"]) == (1, "approved")
    asked = client.get("/api/reports/kpi", params={"year": 2025, "version": 2}).json()
    assert (asked["classification"]["version"], asked["approved"]) == (2, False)
    xlsx = client.get("/api/reports/kpi.xlsx", params={"year": 2025, "version": 2})
    assert saved_as(xlsx)[1] == "bao-cao-chi-tieu-2025-v2-ban-nhap.xlsx"
    missing = client.get("/api/reports/kpi", params={"year": 2025, "version": 7})
    assert missing.status_code == 404 and "phiên bản 7" in missing.json()["message"]


def test_a_review_without_a_previous_approved_year_counts_no_changes(client, as_user, conn: Connection) -> None:
    """No approved 2024: «0 xã thay đổi so với năm trước» was a count of nothing compared."""
    client.post("/api/classifications/2025/runs")
    assert client.get("/api/classifications/2025/review").json()["n_changed"] is None


def test_an_approval_by_a_planner_whose_password_an_administrator_just_reset_says_so(
    client, as_user, make_user, bearer, indicators: list[str]
) -> None:
    """Four eyes around a reset: the administrator resets the second planner's password, logs in with the one-time
    password, makes the forced change and approves the first planner's draft — allowed (nothing tells them apart from
    the planner), but the approval's answer and the year's history name the reset (who, when), as the audit line of
    the own change does. Before, nothing did."""
    assert client.post("/api/classifications/2025/runs").status_code == 201
    as_user("planner-2")  # the second planner exists, with their own password
    as_user("planner")
    admin = bearer(make_user("quan-tri", "admin"))
    planner_2 = next(u["id"] for u in client.get("/api/users", headers=admin).json() if u["username"] == "tham.muu.2")
    given = client.post(f"/api/users/{planner_2}/password", headers=admin).json()["password"]
    login = client.post("/api/auth/token", data={"username": "tham.muu.2", "password": given}).json()
    forced = {"Authorization": f"Bearer {login['access_token']}"}
    change = {"current_password": given, "new_password": "chiem-tai-khoan-1"}
    taken = {
        "Authorization": f"Bearer {client.post('/api/auth/password', json=change, headers=forced).json()['access_token']}"
    }

    approved = client.post("/api/classifications/2025/approve", headers=taken)
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == "tham.muu.2"
    assert approved.json()["approver_password_reset_by"] == "quan-tri"
    assert approved.json()["approver_password_reset_at"] <= approved.json()["approved_at"]
    history = client.get("/api/classifications/2025/history").json()
    assert history[0]["approver_password_reset_by"] == "quan-tri", history[0]
    own = client.get("/api/audit?limit=2", headers=admin).json()
    assert [e["action"] for e in own] == ["change_own_password", "reset_password"]
    assert own[0]["details"]["given_by"] == "quan-tri"
    day = local_today().strftime("%d/%m/%Y")
    assert (
        own[0]["details_text"] == f"thay mật khẩu do quản trị viên quan-tri cấp lại ngày {day}, từ địa chỉ testclient"
    )


def test_an_override_by_a_planner_whose_password_an_administrator_just_reset_says_so(
    client, as_user, make_user, bearer, conn: Connection, indicators: list[str]
) -> None:
    """An override is a decision as an approval is: the administrator resets the second planner's password, makes the
    forced change and overrides a commune as them. The review's item and the year's history name the reset (who,
    when), as for an approval, and so does `classify history`; the first planner's own override is not marked. Before,
    only approvals were."""
    from api.cli.classify import history_lines
    from gis.store.classifications import run_history

    assert client.post("/api/classifications/2025/runs").status_code == 201
    mine = {"commune_code": indicators[1], "category": "at_risk", "reason": "Có tin báo mới"}
    assert client.post("/api/classifications/2025/overrides", json=mine).status_code == 200
    run = client.get("/api/classifications/2025/review").json()["run"]
    assert (run["last_override_by"] is not None, run["last_overrider_password_reset_by"]) == (True, None)
    as_user("planner-2")
    as_user("planner")
    admin = bearer(make_user("quan-tri", "admin"))
    planner_2 = next(u["id"] for u in client.get("/api/users", headers=admin).json() if u["username"] == "tham.muu.2")
    given = client.post(f"/api/users/{planner_2}/password", headers=admin).json()["password"]
    login = client.post("/api/auth/token", data={"username": "tham.muu.2", "password": given}).json()
    change = {"current_password": given, "new_password": "chiem-tai-khoan-3"}
    changed = client.post(
        "/api/auth/password", json=change, headers={"Authorization": f"Bearer {login['access_token']}"}
    )
    taken = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    theirs = {"commune_code": indicators[0], "category": "at_risk", "reason": "Có tụ điểm mới"}
    assert client.post("/api/classifications/2025/overrides", json=theirs, headers=taken).status_code == 200

    items = {i["commune_code"]: i for i in client.get("/api/classifications/2025/review").json()["items"]}
    assert items[indicators[0]]["override_by"] == "tham.muu.2"
    assert items[indicators[0]]["overrider_password_reset_by"] == "quan-tri"
    assert items[indicators[0]]["overrider_password_reset_at"] <= items[indicators[0]]["override_at"]
    assert items[indicators[1]]["overrider_password_reset_by"] is None
    assert items[indicators[2]]["overrider_password_reset_by"] is None  # not overridden
    history = client.get("/api/classifications/2025/history").json()
    overrides = {o["commune_code"]: o for o in history[0]["overrides"]}
    assert overrides[indicators[0]]["overrider_password_reset_by"] == "quan-tri"
    assert overrides[indicators[1]]["overrider_password_reset_by"] is None
    # The draft's line names its newest override (theirs), marked as well: it named the author alone.
    run = client.get("/api/classifications/2025/review").json()["run"]
    assert (run["last_override_by"], run["last_overrider_password_reset_by"]) == ("tham.muu.2", "quan-tri")
    assert (history[0]["last_override_by"], history[0]["last_overrider_password_reset_by"]) == (
        "tham.muu.2",
        "quan-tri",
    )
    lines = [line for line in history_lines(2025, run_history(conn, 2025)) if line.startswith(f"  {indicators[0]} ")]
    day = local_today().strftime("%d/%m/%Y")
    assert lines and lines[0].endswith(f"; mật khẩu người điều chỉnh do quản trị viên quan-tri cấp ngày {day})"), lines


def test_the_passwords_of_a_years_overrides_are_read_in_one_statement(conn: Connection, make_user) -> None:
    """A year's review and history ask of each override whether an administrator had just given its author their
    password: one statement for them all (it was one per override), none when nobody overrode; each answer in its
    place (a reset a year before the override does not count)."""
    from sqlalchemy import event

    from gis.store.audit import record_admin_action
    from gis.store.classifications import overriders_reset

    planner = make_user("tham.muu.moi", "planner")
    record_admin_action(conn, "quan-tri", AdminAction.RESET_PASSWORD.value, user_id=planner)
    now = conn.execute(text("SELECT now()")).scalar_one()
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(conn, "before_cursor_execute", count)
    try:
        asked = [("tham.muu.moi", now), (None, None), ("tham.muu.khac", now), ("tham.muu.moi", now + timedelta(400))]
        answers = overriders_reset(conn, asked)
        nobody = overriders_reset(conn, [(None, None), (float("nan"), None)])  # a review's communes not overridden
    finally:
        event.remove(conn, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert [(a["overrider_password_reset_by"], a["overrider_password_reset_at"]) for a in answers] == [
        ("quan-tri", now),
        (None, None),
        (None, None),
        (None, None),
    ]
    assert nobody == [{"overrider_password_reset_by": None, "overrider_password_reset_at": None}] * 2


def test_an_approval_by_a_planner_account_an_administrator_just_created_says_so(
    client, as_user, make_user, bearer, conn: Connection, indicators: list[str]
) -> None:
    """Four eyes around a new account: the administrator creates a second planner, logs in with the one-time password
    it answers, makes the forced change and approves the first planner's draft. The approval's answer and the year's
    history name who gave that password and when, as for a reset, and so does the own change's audit line; before,
    only a reset was looked for, and an account made for the purpose approved unmarked. An account whose creator set
    no password to change (an operator's own, `users add --no-change-required`) is not marked."""
    from gis.services.admin import create_user

    assert client.post("/api/classifications/2025/runs").status_code == 201
    admin = bearer(make_user("quan-tri", "admin"))
    made = client.post(
        "/api/users", json={"username": "tham.muu.moi", "role": "planner", "national": True}, headers=admin
    )
    assert made.status_code == 201, made.text
    given = made.json()["password"]
    login = client.post("/api/auth/token", data={"username": "tham.muu.moi", "password": given}).json()
    change = {"current_password": given, "new_password": "chiem-tai-khoan-2"}
    changed = client.post(
        "/api/auth/password", json=change, headers={"Authorization": f"Bearer {login['access_token']}"}
    )
    taken = {"Authorization": f"Bearer {changed.json()['access_token']}"}

    approved = client.post("/api/classifications/2025/approve", headers=taken)
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == "tham.muu.moi"
    assert approved.json()["approver_password_reset_by"] == "quan-tri"
    assert approved.json()["approver_password_reset_at"] <= approved.json()["approved_at"]
    assert client.get("/api/classifications/2025/history").json()[0]["approver_password_reset_by"] == "quan-tri"
    own = client.get("/api/audit?limit=2", headers=admin).json()
    assert [e["action"] for e in own] == ["change_own_password", "create_user"]
    day = local_today().strftime("%d/%m/%Y")
    assert own[0]["details_text"] == (
        f"thay mật khẩu do quản trị viên quan-tri cấp khi tạo tài khoản ngày {day}, từ địa chỉ testclient"
    )

    as_user("planner")
    assert client.post("/api/classifications/2024/runs").status_code == 201
    create_user(conn, "van-hanh", "tham.muu.rieng", "x", "planner", None, must_change_password=False)
    own_account = bearer(conn.execute(text("SELECT id FROM users WHERE username = 'tham.muu.rieng'")).scalar_one())
    mine = client.post("/api/classifications/2024/approve", headers=own_account)
    assert mine.status_code == 200, mine.text
    assert mine.json()["approver_password_reset_by"] is None


def test_an_account_created_before_creations_said_whether_its_password_was_given(
    client, as_user, make_user, bearer, conn: Connection, indicators: list[str]
) -> None:
    """A creation audited before its details said ``given`` (an upgraded database, a demo built before): it gave a
    password when its user then made the forced change (an own change of a given password), as a takeover does — the
    approval is marked; an account its creator made to be used as it was (the demo's planners) is not."""
    from gis.store.audit import record_admin_action

    def created(username: str) -> dict[str, str]:
        user_id = make_user(username, "planner")
        record_admin_action(conn, "quan-tri", "create_user", user_id=user_id, details={"role": "planner"})
        return bearer(user_id)

    assert client.post("/api/classifications/2025/runs").status_code == 201
    assert client.post("/api/classifications/2024/runs").status_code == 201
    used_as_made = created("tham.muu.demo")
    taken = created("tham.muu.cu")
    taken_id = conn.execute(text("SELECT id FROM users WHERE username = 'tham.muu.cu'")).scalar_one()
    record_admin_action(conn, "tham.muu.cu", "change_own_password", user_id=taken_id, details={"given": True})

    mine = client.post("/api/classifications/2024/approve", headers=used_as_made)
    assert mine.status_code == 200, mine.text
    assert mine.json()["approver_password_reset_by"] is None
    theirs = client.post("/api/classifications/2025/approve", headers=taken)
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["approver_password_reset_by"] == "quan-tri"


def test_a_draft_whose_year_indicators_were_imported_again_is_not_approved(
    client, as_user, conn: Connection, indicators: list[str], tmp_path: Path
) -> None:
    """The first planner runs 2025, then loads a corrected indicator table of 2025 in which a commune now meets three
    criteria of loại I; the second planner's approval is refused (412 `indicators_changed`, naming the file and who
    loaded it) instead of approving classes that rest on figures the database no longer holds. Run again, the draft
    uses the new figures and is approved. Before, the stale draft was approved as it was. A table of another year, or
    the same figures loaded again (`make demo` run again), changes nothing of 2025's draft."""
    assert client.post("/api/classifications/2025/runs").status_code == 201
    review = client.get("/api/classifications/2025/review", params={"draft": "true"})
    assert review.json()["run"]["indicators_reloaded"] is None
    import_indicators(conn, tmp_path / "ind.csv", imported_by="tham.muu")  # the same figures again: nothing changed
    same = client.get("/api/classifications/2025/review", params={"draft": "true"})
    assert same.json()["run"]["indicators_reloaded"] is None
    review = same
    other = tmp_path / "ind-2024.csv"
    other.write_text(HEADER + f"2024,{indicators[0]},10000,1,0,0,0,0\n", encoding="utf-8")
    import_indicators(conn, other, imported_by="tham.muu")
    fixed = tmp_path / "ind-2025-sua.csv"
    fixed.write_text(HEADER + f"2025,{indicators[0]},10000,80,3000,0,0,3\n", encoding="utf-8")
    import_indicators(conn, fixed, imported_by="tham.muu")
    as_user("planner-2")
    # The page's status line says so, in the review read again (its cached answer was renewed by the import).
    again = client.get(
        "/api/classifications/2025/review",
        params={"draft": "true"},
        headers={"If-None-Match": review.headers["etag"]},
    )
    assert again.status_code == 200
    reloaded = again.json()["run"]["indicators_reloaded"]
    assert (reloaded["file_name"], reloaded["imported_by"]) == ("ind-2025-sua.csv", "tham.muu")
    refused = client.post("/api/classifications/2025/approve")
    assert refused.status_code == 412, refused.text
    assert refused.json()["code"] == "indicators_changed"
    assert "ind-2025-sua.csv" in refused.json()["message"] and "tham.muu" in refused.json()["message"]
    assert client.get("/api/classifications/2025", params={"draft": "true"}).json()["run"]["status"] == "draft"

    as_user("planner")
    assert client.post("/api/classifications/2025/runs", json={"replace": True}).status_code == 201
    as_user("planner-2")
    assert (
        client.get("/api/classifications/2025", params={"draft": "true"}).json()["run"]["indicators_reloaded"] is None
    )
    approved = client.post("/api/classifications/2025/approve")
    assert approved.status_code == 200, approved.text
    classes = client.get("/api/classifications/2025").json()["features"]
    first = next(f["properties"] for f in classes if f["properties"]["code"] == indicators[0])
    assert (first["category"], first["level"]) == ("trong_diem", "I")


def test_an_approval_without_a_recent_reset_names_none(client, as_user, indicators: list[str]) -> None:
    """The mark is the exception: a planner's approval with their own password names no reset."""
    assert client.post("/api/classifications/2025/runs").status_code == 201
    as_user("planner-2")
    approved = client.post("/api/classifications/2025/approve").json()
    assert approved["approver_password_reset_by"] is None and approved["approver_password_reset_at"] is None
    history = client.get("/api/classifications/2025/history").json()
    assert history[0]["approver_password_reset_by"] is None

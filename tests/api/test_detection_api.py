"""Hotspot detection from the command page (`POST /api/hotspots/detection`): the command line's run, over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from gis.services.detection import run_detection
from gis.services.incident_import import import_incidents
from models.vocabulary import DRY_RUN_NOTICE, local_today
from tests.conftest import incident_burst


def _recorded(conn: Connection) -> tuple[int, int]:
    return conn.execute(text("SELECT (SELECT count(*) FROM detection_runs), (SELECT count(*) FROM hotspots)")).one()


def test_command_checks_then_runs_detection_recorded_under_its_name(client, conn: Connection, tmp_path: Path) -> None:
    """A command user looks first (a dry run: the report, «Kiểm tra — chưa ghi gì…», no run number, nothing
    recorded), then runs it: the new hotspot is in the register and the run under the user's name, the report in
    Vietnamese as the command line prints it. A run over a window ending before it is refused (409, nothing written,
    naming the page's button, not the command line's option); a dry run may look there. A window ending after today
    is refused, a check too (422): recorded, a run ending in 2062 (2026 mistyped) refused every run until then."""
    october = datetime(2025, 10, 1, tzinfo=UTC)
    import_incidents(conn, incident_burst(tmp_path, 106.6830, 20.8600, october, 10, "WEB"), imported_by="test")
    before = _recorded(conn)
    looked = client.post("/api/hotspots/detection", json={"dry_run": True})
    assert looked.status_code == 200, looked.text
    report = looked.json()
    assert (report["dry_run"], report["run_id"], report["new"], report["incidents"]) == (True, None, 1, 10)
    assert report["lines"][0] == DRY_RUN_NOTICE and report["lines"][1].startswith("Phát hiện điểm nóng (kiểm tra, ")
    assert _recorded(conn) == before

    ran = client.post("/api/hotspots/detection", json={"days": 30})
    assert ran.status_code == 200, ran.text
    report = ran.json()
    assert (report["dry_run"], report["new"]) == (False, 1) and report["run_id"] is not None
    assert report["lines"][0].startswith(f"Phát hiện điểm nóng (lần chạy #{report['run_id']}, ")
    assert "; mới 1, " in report["lines"][0] and report["lines"][1].startswith("Số cụm giả (do ngẫu nhiên)")
    actor = conn.execute(text("SELECT actor FROM detection_runs WHERE id = :id"), {"id": report["run_id"]})
    assert actor.scalar_one() == "test-command"
    assert _recorded(conn) == (before[0] + 1, before[1] + 1)

    back = client.post("/api/hotspots/detection", json={"end": "2025-09-30"})
    assert back.status_code == 409 and "không được lùi về trước lần chạy gần nhất" in back.json()["message"]
    assert "hãy bấm «Kiểm tra (chưa ghi)»" in back.json()["message"] and "--dry-run" not in back.json()["message"]
    assert client.post("/api/hotspots/detection", json={"end": "2025-09-30", "dry_run": True}).status_code == 200
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    for dry_run in (False, True):
        ahead = client.post("/api/hotspots/detection", json={"end": tomorrow, "dry_run": dry_run})
        assert ahead.status_code == 422 and "chưa đến (hôm nay là ngày" in ahead.json()["message"], ahead.text
    assert _recorded(conn) == (before[0] + 1, before[1] + 1)


def test_a_run_while_another_writes_is_refused_not_held(client, conn: Connection, engine: Engine) -> None:
    """The command line waits for a run writing to finish; a page's request does not hang for it: 409 at once, in
    Vietnamese. A dry run takes no lock and answers."""
    with engine.connect() as other, other.begin() as held:
        run_detection(other, actor="lịch chạy")  # writing, not committed: holds the runs' lock
        refused = client.post("/api/hotspots/detection", json={})
        looked = client.post("/api/hotspots/detection", json={"dry_run": True})
        held.rollback()
    assert refused.status_code == 409, refused.text
    assert refused.json()["message"].startswith("Một lần chạy phát hiện khác đang ghi vào sổ theo dõi")
    assert looked.status_code == 200


def test_a_window_out_of_range_is_refused_by_its_vietnamese_name(client) -> None:
    refused = client.post("/api/hotspots/detection", json={"days": 0})
    assert refused.status_code == 422 and "số ngày" in refused.json()["message"], refused.text
    assert client.post("/api/hotspots/detection", json={"kinds": ["tip"]}).status_code == 422  # not offered here

"""The demo story: hotspots taken from detection to closure with past dates, then a recurrence; and the conversion
programmes that give the KPI report's conversion lines their figures."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Connection, text

from gis.demo.accounts import seed_demo_accounts
from gis.demo.lifecycle import run_lifecycle_demo
from gis.io.scenario_files import write_scenario
from gis.reference import targets_for
from gis.services.hotspots import transition_hotspot
from gis.services.incident_import import import_incidents
from gis.services.tasks import transition_task
from gis.store.hotspots import replay_hotspot, reports_awaiting_command, suppression_task_states
from gis.store.indicators import conversion_kpis
from gis.store.scoping import UNRESTRICTED
from models.domain.access import Principal
from models.domain.coupling import consistent
from models.domain.hotspot_lifecycle import hotspot_lifecycle
from models.domain.kpi import conversion_rows
from models.errors import InvalidRequest
from models.synthetic.scenario import ScenarioConfig, generate_scenario
from tests.conftest import suppression_task

MACHINE = hotspot_lifecycle(180)


@pytest.fixture(scope="module")
def incidents_csv(boundaries_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    scen = generate_scenario(gpd.read_file(boundaries_path), ScenarioConfig(seed=1, years=3, n_incidents=30_000))
    return write_scenario(scen, tmp_path_factory.mktemp("story"))["incidents"]


@pytest.fixture
def commander(conn: Connection, make_user) -> Principal:
    return Principal(id=make_user("story-command", "command"), username="story-command", role="command")


def test_story_closes_two_hotspots_and_reopens_one(
    conn: Connection, incidents_csv: Path, commander, make_team, make_user
) -> None:
    import_incidents(conn, incidents_csv, imported_by="test")
    codes = list(conn.execute(text("SELECT code FROM admin_units WHERE valid_to IS NULL")).scalars())
    team = make_team("Tổ toàn thành", codes)
    make_user("story-team", "team", team)
    lines = run_lifecycle_demo(conn, MACHINE, commander, 180)
    statuses = dict(
        conn.execute(
            text(
                "SELECT status, count(*) FROM hotspots WHERE id IN"
                " (SELECT hotspot_id FROM hotspot_events WHERE to_status = 'closed')"
                " GROUP BY status"
            )
        ).all()
    )
    # The reopened hotspot recurred, then went to its area team with a new suppression task.
    assert statuses == {"closed": 1, "assigned": 1}, lines
    reopened = conn.execute(text("SELECT hotspot_id FROM hotspot_events WHERE event = 'recurred'")).scalar_one()
    assert conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": reopened}).scalar_one() == "assigned"
    for hotspot_id in conn.execute(
        text("SELECT DISTINCT hotspot_id FROM hotspot_events WHERE to_status = 'closed'")
    ).scalars():
        stored = conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar_one()
        assert replay_hotspot(conn, MACHINE, hotspot_id) == stored
    # Each history reads in order: the early run is dated at its window's end, before the field work it led to (it
    # was dated by the transaction, so that «Tạo mới» came first in each history with today's date, then the story).
    backwards = conn.execute(
        text("""SELECT count(*) FROM hotspot_events e
                JOIN hotspot_events f ON f.hotspot_id = e.hotspot_id AND f.id > e.id AND f.at < e.at""")
    ).scalar_one()
    assert backwards == 0
    # Its detection runs in time order, each window ending after the one before (a run of the past after one of the
    # latest window, as `make demo-data` had it, rewrote today's register with dates out of order), and the register
    # tells the story's kinds of change: found, continued, gone quiet, recurred.
    ends = list(conn.execute(text("SELECT window_to FROM detection_runs ORDER BY id")).scalars())
    assert len(ends) == 2 and ends[0] < ends[1]
    told = set(conn.execute(text("SELECT DISTINCT event FROM hotspot_events WHERE run_id IS NOT NULL")).scalars())
    assert {"created", "updated", "dormant", "recurred"} <= told, told
    gap = conn.execute(
        text("""SELECT max(c.at) - max(m.at) FROM hotspot_events c JOIN hotspot_events m USING (hotspot_id)
                               WHERE c.to_status = 'closed' AND m.to_status = 'monitoring'""")
    ).scalar_one()
    assert gap >= timedelta(days=180)
    # The closed hotspots' work went through accepted suppression tasks; the new work is assigned.
    tasks = conn.execute(
        text("SELECT team_id, state, due_date < current_date, hotspot_id FROM tasks WHERE kind = 'suppression'")
    ).all()
    assert tasks and {t[0] for t in tasks} == {team}
    closed_ones = set(conn.execute(text("SELECT hotspot_id FROM hotspot_events WHERE to_status = 'closed'")).scalars())
    assert sorted(t[1] for t in tasks if t[3] in closed_ones) == ["accepted", "accepted", "assigned"]
    assert {t[1] for t in tasks if t[3] not in closed_ones} == {"assigned"}
    assert sum(t[2] for t in tasks if t[1] == "assigned") == 1  # one overdue task to show on the team's page
    # given weeks before its due date, not today: the register said «giao hôm nay» of a task «quá hạn 5 ngày»
    given, due = conn.execute(
        text("""SELECT min(e.at), t.due_date FROM tasks t JOIN task_events e ON e.task_id = t.id
                WHERE t.state = 'assigned' AND t.due_date < current_date GROUP BY t.id""")
    ).one()
    assert (due - given.date()).days >= 20, (given, due)
    for hotspot_id in {t[3] for t in tasks}:
        assert consistent(suppression_task_states(conn, hotspot_id), status_of(conn, hotspot_id))
    # A member of the team reported a spot, which waits for command: the inbox has a team's report to show.
    (report,) = reports_awaiting_command(conn, UNRESTRICTED, 10)
    assert report["actor"] == "story-team" and report["actor_team"] == "Tổ toàn thành", report
    assert f"Điểm nóng #{report['hotspot_id']}: Tổ toàn thành báo cáo, chờ chỉ huy xác minh" in lines
    assert run_lifecycle_demo(conn, MACHINE, commander, 180) == [
        "Câu chuyện demo đã được ghi trước đó (demo story already recorded)",
        "Chuyển hóa địa bàn demo năm 2025–2026 đã có (demo conversion tasks already present)",
    ]


def test_the_demo_recipe_runs_detection_only_in_the_story() -> None:
    """`make demo-data` leaves detection to the story, whose runs go forward in time: a run over the latest window
    before it made the story's run of the past rewrite the register (now refused: the recipe would stop there)."""
    makefile = Path(__file__).resolve().parents[2] / "Makefile"
    recipe = makefile.read_text(encoding="utf-8").split("\ndemo-data:", 1)[1].split("\n\n", 1)[0]
    assert "demo-data lifecycle" in recipe and "hotspots detect" not in recipe


def test_a_scenario_too_short_for_the_story_is_the_users_mistake_and_records_nothing(
    conn: Connection, boundaries_path: Path, tmp_path: Path, commander
) -> None:
    """No incident, or too few hotspots gone quiet before the latest window, is refused as bad input (the command line's
    exit 2), not a bare ValueError (exit 70, "internal error")."""
    with pytest.raises(InvalidRequest, match="chưa có vụ việc"):
        run_lifecycle_demo(conn, MACHINE, commander, 180)
    short = generate_scenario(gpd.read_file(boundaries_path), ScenarioConfig(seed=2, years=1, n_incidents=1_000))
    import_incidents(conn, write_scenario(short, tmp_path)["incidents"], imported_by="test")
    with pytest.raises(InvalidRequest, match="dữ liệu quá ngắn"):
        run_lifecycle_demo(conn, MACHINE, commander, 180)
    assert conn.execute(text("SELECT count(*) FROM tasks")).scalar_one() == 0


def test_demo_records_two_years_of_conversion_once_for_the_kpi_report(
    conn: Connection, incidents_csv: Path, commander
) -> None:
    """A fresh demo had no conversion task, so the KPI report's conversion lines read «—»: the demo records the
    programmes of the data's last two years through the task use cases, each step at its own past date, only once."""
    import_incidents(conn, incidents_csv, imported_by="test")
    seed_demo_accounts(conn, lambda password: "demo-hash")
    run_lifecycle_demo(conn, MACHINE, commander, 180)
    tasks = conn.execute(
        text("SELECT id, year, state, team_id, commune_code FROM tasks WHERE kind = 'conversion' ORDER BY id")
    ).all()
    assert Counter((t.year, t.state) for t in tasks) == {
        (2025, "accepted"): 5,
        (2025, "canceled"): 1,
        (2026, "accepted"): 2,
        (2026, "completed"): 1,
        (2026, "in_progress"): 2,
    }
    assert len({t.commune_code for t in tasks}) == len(tasks)  # a commune is selected once
    for task in tasks:
        in_area = conn.execute(
            text("SELECT 1 FROM team_areas WHERE team_id = :t AND commune_code = :c AND valid_to IS NULL"),
            {"t": task.team_id, "c": task.commune_code},
        ).scalar()
        steps = conn.execute(
            text("""SELECT e.to_state, u.role FROM task_events e JOIN users u ON u.username = e.actor
                    WHERE e.task_id = :t ORDER BY e.at, e.id"""),
            {"t": task.id},
        ).all()
        assert in_area and steps[-1].to_state == task.state, steps  # its history ends where the task is
        # The area's team records its own work; command selects, assigns, accepts or withdraws.
        assert all((role == "team") == (state in ("in_progress", "completed")) for state, role in steps), steps

    targets = targets_for("31")
    decided = conversion_kpis(conn, 2025, targets.watch_months)
    # The withdrawn commune is no longer selected; the one accepted in January was not converted in its year.
    assert (decided["selected"], decided["converted"], decided["watching"]) == (5, 4, 0)
    assert decided["stable"] + decided["relapsed"] == 4
    under_way = conversion_kpis(conn, 2026, targets.watch_months)
    assert (under_way["selected"], under_way["converted"]) == (5, 2)
    # Converted in April: its watch was over by the latest data; the other may still be watched (as of today).
    assert under_way["stable"] + under_way["relapsed"] >= 1
    assert under_way["stable"] + under_way["relapsed"] + under_way["watching"] == 2
    for year, converted_share in ((2025, 0.8), (2026, 0.4)):
        converted, stable = conversion_rows(conversion_kpis(conn, year, targets.watch_months), targets)
        assert converted["value"] == converted_share and 0 <= stable["value"] <= 1, (converted, stable)

    again = run_lifecycle_demo(conn, MACHINE, commander, 180)
    assert again[-1] == "Chuyển hóa địa bàn demo năm 2025–2026 đã có (demo conversion tasks already present)"
    assert conn.execute(text("SELECT count(*) FROM tasks WHERE kind = 'conversion'")).scalar_one() == len(tasks)


def status_of(conn: Connection, hotspot_id: int) -> str:
    return conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar_one()


def test_recorded_time_cannot_be_in_the_future_or_before_the_last_change(
    conn: Connection, make_hotspot, commander
) -> None:
    hotspot_id = make_hotspot("10507")
    future = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(InvalidRequest, match="thời điểm ghi nhận"):
        transition_hotspot(conn, MACHINE, hotspot_id, "verified", "", 1, commander, UNRESTRICTED, at=future)
    past = datetime.now(UTC) - timedelta(days=10)
    with pytest.raises(InvalidRequest, match="thời điểm ghi nhận"):  # before the hotspot was created
        transition_hotspot(conn, MACHINE, hotspot_id, "verified", "", 1, commander, UNRESTRICTED, at=past)
    transition_hotspot(conn, MACHINE, hotspot_id, "verified", "", 1, commander, UNRESTRICTED)
    task_id = suppression_task(conn, commander, hotspot_id, None)
    with pytest.raises(InvalidRequest, match="thời điểm ghi nhận"):  # before the task's latest event
        transition_task(conn, task_id, "canceled", "Trùng kế hoạch", 1, commander, UNRESTRICTED, at=past)

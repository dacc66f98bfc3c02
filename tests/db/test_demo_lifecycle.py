"""The demo story: hotspots taken from detection to closure with past dates, then a recurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Connection, text

from gis.demo.lifecycle import run_lifecycle_demo
from gis.io.scenario_files import write_scenario
from gis.services.hotspots import transition_hotspot
from gis.services.incident_import import import_incidents
from gis.services.tasks import create_task, transition_task
from gis.store.hotspots import replay_hotspot, suppression_task_states
from gis.store.scoping import UNRESTRICTED
from models.domain.access import Principal
from models.domain.coupling import consistent
from models.domain.hotspot_lifecycle import hotspot_lifecycle
from models.errors import InvalidRequest
from models.synthetic.scenario import ScenarioConfig, generate_scenario

MACHINE = hotspot_lifecycle(180)


@pytest.fixture(scope="module")
def incidents_csv(boundaries_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    scen = generate_scenario(gpd.read_file(boundaries_path), ScenarioConfig(seed=1, years=3, n_incidents=30_000))
    return write_scenario(scen, tmp_path_factory.mktemp("story"))["incidents"]


@pytest.fixture
def commander(conn: Connection, make_user) -> Principal:
    return Principal(id=make_user("story-command", "command"), username="story-command", role="command")


def test_story_closes_two_hotspots_and_reopens_one(conn: Connection, incidents_csv: Path, commander, make_team) -> None:
    import_incidents(conn, incidents_csv, imported_by="test")
    codes = list(conn.execute(text("SELECT code FROM admin_units WHERE valid_to IS NULL")).scalars())
    team = make_team("Tổ toàn thành", codes)
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
    gap = conn.execute(
        text("""SELECT max(c.at) - max(m.at) FROM hotspot_events c JOIN hotspot_events m USING (hotspot_id)
                               WHERE c.to_status = 'closed' AND m.to_status = 'monitoring'""")
    ).scalar_one()
    assert gap >= timedelta(days=180)
    # The closed hotspots' work went through accepted suppression tasks; the new work is assigned.
    tasks = conn.execute(text("SELECT team_id, state, due_date < current_date, hotspot_id FROM tasks")).all()
    assert tasks and {t[0] for t in tasks} == {team}
    closed_ones = set(conn.execute(text("SELECT hotspot_id FROM hotspot_events WHERE to_status = 'closed'")).scalars())
    assert sorted(t[1] for t in tasks if t[3] in closed_ones) == ["accepted", "accepted", "assigned"]
    assert {t[1] for t in tasks if t[3] not in closed_ones} == {"assigned"}
    assert sum(t[2] for t in tasks if t[1] == "assigned") == 1  # one overdue task to show on the team's page
    for hotspot_id in {t[3] for t in tasks}:
        assert consistent(suppression_task_states(conn, hotspot_id), status_of(conn, hotspot_id))
    assert run_lifecycle_demo(conn, MACHINE, commander, 180) == [
        "Câu chuyện demo đã được ghi trước đó (demo story already recorded)"
    ]


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
    task_id = create_task(
        conn,
        commander,
        kind="suppression",
        hotspot_id=hotspot_id,
        commune_code=None,
        year=None,
        team_id=None,
        due_date=None,
        priority="normal",
        checklist=[],
    )
    with pytest.raises(InvalidRequest, match="thời điểm ghi nhận"):  # before the task's latest event
        transition_task(conn, task_id, "canceled", "", 1, commander, UNRESTRICTED, at=past)

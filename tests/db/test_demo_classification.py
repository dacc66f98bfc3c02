"""Demo classification seeding: one approved year, one draft year, idempotent."""

import pytest
from sqlalchemy import Connection, text

from gis.demo.classification import seed_demo_classification
from models.domain.classification import FourEyesRefused


def test_seeds_an_approved_and_a_draft_year_once(conn: Connection) -> None:
    first = seed_demo_classification(conn, 2025, 2026, "planner-demo", "planner-demo-2")
    assert first[0] == "Năm 2025: planner-demo chạy, planner-demo-2 đã phê duyệt phiên bản 1" and len(first) == 2
    runs = conn.execute(
        text("SELECT year, status, created_by, approved_by FROM classification_runs ORDER BY year")
    ).all()
    # Four eyes: the approved year was run by one planner and approved by another.
    assert [tuple(r) for r in runs] == [
        (2025, "approved", "planner-demo", "planner-demo-2"),
        (2026, "draft", "planner-demo", None),
    ]
    assert seed_demo_classification(conn, 2025, 2026, "planner-demo", "planner-demo-2") == [
        "Phân loại demo đã có sẵn (demo classification already present)"
    ]
    assert conn.execute(text("SELECT count(*) FROM classification_runs")).scalar_one() == 2


def test_the_demo_planner_may_not_approve_the_year_they_ran(conn: Connection) -> None:
    with pytest.raises(FourEyesRefused):
        seed_demo_classification(conn, 2025, 2026, "planner-demo", "planner-demo")

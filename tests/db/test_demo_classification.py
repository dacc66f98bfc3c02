"""Demo classification seeding: one approved year, one draft year, idempotent."""

from sqlalchemy import Connection, text

from gis.demo.classification import seed_demo_classification


def test_seeds_an_approved_and_a_draft_year_once(conn: Connection) -> None:
    first = seed_demo_classification(conn, 2025, 2026, "planner-demo")
    assert len(first) == 2
    runs = conn.execute(text("SELECT year, status FROM classification_runs ORDER BY year")).all()
    assert [tuple(r) for r in runs] == [(2025, "approved"), (2026, "draft")]
    assert seed_demo_classification(conn, 2025, 2026, "planner-demo") == [
        "Phân loại demo đã có sẵn (demo classification already present)"
    ]
    assert conn.execute(text("SELECT count(*) FROM classification_runs")).scalar_one() == 2

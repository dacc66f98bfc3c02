"""`import_runs` is append-only history (migration 0030): a run starts unfinished, is finished once with its counts,
and nobody — the app role nor the owner — rewrites or deletes it afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from gis.services.incident_import import import_incidents
from gis.store.import_runs import ImportReport, finish_import_run, start_import_run

ROWS = "ref,occurred_at,lon,lat,kind\nLR-1,2025-04-01T10:00:00,106.683,20.86,tip\nLR-2,2025-04-02,106.684,20.861,tip\n"
#: Each would rewrite a finished run: its counts, who, which file, which hash, when; or make it unfinished again.
REWRITES = (
    "UPDATE import_runs SET imported = 99 WHERE id = :i",
    "UPDATE import_runs SET imported_by = 'ai-do' WHERE id = :i",
    "UPDATE import_runs SET file_name = 'khac.csv' WHERE id = :i",
    "UPDATE import_runs SET file_sha256 = repeat('0', 64) WHERE id = :i",
    "UPDATE import_runs SET started_at = started_at - interval '1 day' WHERE id = :i",
    "UPDATE import_runs SET finished = false WHERE id = :i",
    "DELETE FROM import_runs WHERE id = :i",
)


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    """A file of two incidents."""
    path = tmp_path / "vu-viec.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def run_row(conn: Connection, run_id: int | None) -> tuple | None:
    """The stored run: (imported, finished), or None when there is none."""
    row = conn.execute(text("SELECT imported, finished FROM import_runs WHERE id = :i"), {"i": run_id}).one_or_none()
    return None if row is None else tuple(row)


def test_an_import_finishes_its_run_once(conn: Connection, csv: Path) -> None:
    """Through the app role, as the API imports: the run is finished with its counts; a second finish is refused."""
    report = import_incidents(conn, csv, imported_by="test")
    assert run_row(conn, report.import_id) == (2, True)
    with pytest.raises(DBAPIError, match="append-only"), conn.begin_nested():
        finish_import_run(conn, ImportReport(imported=7, import_id=report.import_id))
    assert run_row(conn, report.import_id) == (2, True)


#: Who tries, and what stops them: the app role (as the API imports) by the trigger (a count) or by its privileges
#: (who, which file, which hash, when; a delete); the owner (as `diaban incidents import` connects), who holds every
#: privilege, by the triggers alone.
REFUSED_BY = {"conn": "append-only|permission denied", "owner_conn": "append-only"}


@pytest.mark.parametrize("role", list(REFUSED_BY))
@pytest.mark.parametrize("statement", REWRITES)
def test_neither_the_app_nor_the_owner_rewrites_or_deletes_a_run(
    request: pytest.FixtureRequest, csv: Path, role: str, statement: str
) -> None:
    connection: Connection = request.getfixturevalue(role)
    report = import_incidents(connection, csv, imported_by="test")
    with pytest.raises(DBAPIError, match=REFUSED_BY[role]), connection.begin_nested():
        connection.execute(text(statement), {"i": report.import_id})
    assert run_row(connection, report.import_id) == (2, True)


def test_the_finish_changes_the_counts_only(owner_conn: Connection, csv: Path) -> None:
    """An unfinished run may be finished, with nothing of who, which file or when changed; nor stay unfinished with
    other counts."""
    run_id = start_import_run(owner_conn, "incidents", csv, "test")
    assert run_row(owner_conn, run_id) == (0, False)
    for statement in (
        "UPDATE import_runs SET imported = 5 WHERE id = :i",
        "UPDATE import_runs SET imported = 5, finished = true, file_name = 'khac.csv' WHERE id = :i",
        "UPDATE import_runs SET finished = true, imported_by = 'ai-do' WHERE id = :i",
    ):
        with pytest.raises(DBAPIError, match="append-only"), owner_conn.begin_nested():
            owner_conn.execute(text(statement), {"i": run_id})
    finish_import_run(owner_conn, ImportReport(imported=5, import_id=run_id))
    assert run_row(owner_conn, run_id) == (5, True)


def test_an_interrupted_import_leaves_no_run(engine: Engine, csv: Path) -> None:
    """The run is written in the import's transaction: rolled back, nothing of it stays (and no guard is in the way)."""
    with engine.connect() as conn:
        with conn.begin() as transaction:
            report = import_incidents(conn, csv, imported_by="test")
            assert run_row(conn, report.import_id) == (2, True)
            transaction.rollback()
        assert report.import_id is not None and run_row(conn, report.import_id) is None

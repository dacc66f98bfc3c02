"""Two planners at once on a year's draft, each on their own connection: one runs the year again (replacing the
draft) while the other approves it. Each race is made by holding one transaction open until the other waits on a
lock (pg_stat_activity), never by waiting a while."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from test_tasks import wait_for_a_lock_wait

from gis.services.classification import draft_year
from gis.services.indicator_import import import_indicators
from gis.store.classifications import approve
from gis.store.indicators import indicators_digest
from models.domain.classification import DraftChanged, IndicatorsChanged

YEAR = 2005  # a past year (one to come is refused) no other test classifies


@contextmanager
def committed_draft(engine: Engine, owner_engine: Engine) -> Iterator[dict[str, Any]]:
    """A committed draft of YEAR made by 'tham.muu' (for planners racing on their own connections); every run of YEAR
    removed afterwards, approved ones too, which only the owner may (the freeze lifted meanwhile)."""
    with engine.begin() as conn:
        draft = draft_year(conn, YEAR, actor="tham.muu")
    try:
        yield draft
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("ALTER TABLE classification_runs DISABLE TRIGGER classification_runs_frozen"))
            conn.execute(text("ALTER TABLE classification_results DISABLE TRIGGER classification_results_frozen"))
            conn.execute(text("DELETE FROM classification_runs WHERE year = :year"), {"year": YEAR})
            conn.execute(text("ALTER TABLE classification_runs ENABLE TRIGGER classification_runs_frozen"))
            conn.execute(text("ALTER TABLE classification_results ENABLE TRIGGER classification_results_frozen"))


def test_a_run_again_while_the_draft_is_being_approved_makes_a_correction(engine: Engine, owner_engine: Engine) -> None:
    """The second planner's approval is being written when the first runs the year again with «thay bản nháp»: the run
    waits for the approval, then makes a correction of the approved version — it deleted the draft just approved, which
    the database refused (a 500)."""
    with committed_draft(engine, owner_engine) as draft:
        made: list[dict[str, Any]] = []
        failures: list[Exception] = []

        def run_again() -> None:
            try:
                with engine.begin() as conn:
                    made.append(draft_year(conn, YEAR, actor="tham.muu", replace=True))
            except Exception as error:  # told below, where the test can fail
                failures.append(error)

        with engine.connect() as second, engine.connect() as watch:
            with second.begin():
                approve(second, YEAR, actor="tham.muu.2", seen=(draft["id"], None))
                racing = threading.Thread(target=run_again)
                racing.start()
                wait_for_a_lock_wait(watch)
            racing.join()
        assert failures == []
        assert (made[0]["version"], made[0]["supersedes_id"]) == (2, draft["id"])
        with engine.connect() as conn:
            runs = conn.execute(
                text("SELECT version, status, approved_by FROM classification_runs WHERE year = :y ORDER BY version"),
                {"y": YEAR},
            ).all()
        assert [tuple(r) for r in runs] == [(1, "approved", "tham.muu.2"), (2, "draft", None)]


def _in_its_own_transaction(
    engine: Engine, work: Callable[[Connection], dict[str, Any]]
) -> tuple[Callable[[], None], list[Exception | dict[str, Any]]]:
    """``work`` in a transaction of its own, to run in a thread of its own, and the list that receives its answer or
    its error (told by the test, where it can fail)."""
    outcome: list[Exception | dict[str, Any]] = []

    def run() -> None:
        try:
            with engine.begin() as conn:
                outcome.append(work(conn))
        except Exception as error:
            outcome.append(error)

    return run, outcome


def _second_planners_approval(engine: Engine, draft_id: int) -> tuple[Callable[[], None], list]:
    """The second planner's approval of the draft they read (id ``draft_id``): see :func:`_in_its_own_transaction`."""
    return _in_its_own_transaction(engine, lambda conn: approve(conn, YEAR, actor="tham.muu.2", seen=(draft_id, None)))


def test_an_approval_waiting_for_a_run_again_is_refused_as_changed(engine: Engine, owner_engine: Engine) -> None:
    """The first planner's run again is being written when the second approves the draft they read: the approval waits,
    then is refused because the draft changed — it was refused as «đã được phê duyệt», of a draft."""
    with committed_draft(engine, owner_engine) as draft:
        approve_read, outcome = _second_planners_approval(engine, draft["id"])

        with engine.connect() as first, engine.connect() as watch:
            with first.begin():
                again = draft_year(first, YEAR, actor="tham.muu", replace=True)
                racing = threading.Thread(target=approve_read)
                racing.start()
                wait_for_a_lock_wait(watch)
            racing.join()
        assert len(outcome) == 1 and isinstance(outcome[0], DraftChanged), outcome
        assert "đã được chạy lại sau khi bạn xem" in outcome[0].message
        with engine.connect() as conn:
            status = conn.execute(text("SELECT status FROM classification_runs WHERE id = :id"), {"id": again["id"]})
            assert status.scalar_one() == "draft"


def test_an_approval_waiting_for_an_indicator_import_is_refused_as_reloaded(
    engine: Engine, owner_engine: Engine, tmp_path: Path
) -> None:
    """An import of the year's indicator table is being written when the second planner approves the draft: the
    approval waits for it (hold_indicators), then finds the year's figures changed and is refused — it checked the
    figures' digest before the import committed, then committed itself: a year approved on figures no longer held."""
    table = _indicator_table(engine, tmp_path)
    with committed_draft(engine, owner_engine) as draft:
        approve_read, outcome = _second_planners_approval(engine, draft["id"])

        try:
            with engine.connect() as first, engine.connect() as watch:
                with first.begin():
                    import_indicators(first, table, imported_by="tham.muu")
                    racing = threading.Thread(target=approve_read)
                    racing.start()
                    # Without the lock the approval does not wait: it ends, approved, while the import is still open.
                    while not outcome and not _a_lock_wait(watch):
                        watch.rollback()  # a new snapshot of the activity each time
                racing.join()
            assert len(outcome) == 1 and isinstance(outcome[0], IndicatorsChanged), outcome
            assert "đã được nhập lại" in outcome[0].message
        finally:
            with owner_engine.begin() as conn:
                conn.execute(text("DELETE FROM commune_indicators WHERE year = :y"), {"y": YEAR})


def test_a_run_while_an_indicator_import_is_being_written_waits_and_uses_its_figures(
    engine: Engine, owner_engine: Engine, tmp_path: Path
) -> None:
    """A run of the year while its indicator table is being imported waits for the import (hold_indicators), then
    reads its figures and records their digest: the figures it reads and the digest it records are one state (an
    import committing between the two reads left a draft on the old figures with the new figures' digest)."""
    table = _indicator_table(engine, tmp_path)
    run, made = _in_its_own_transaction(engine, lambda conn: draft_year(conn, YEAR, actor="tham.muu"))

    try:
        with engine.connect() as first, engine.connect() as watch:
            with first.begin():
                import_indicators(first, table, imported_by="tham.muu")
                digest = indicators_digest(first, YEAR)
                racing = threading.Thread(target=run)
                racing.start()
                while not made and not _a_lock_wait(watch):
                    watch.rollback()  # a new snapshot of the activity each time
            racing.join()
        assert len(made) == 1 and isinstance(made[0], dict), made
        assert digest is not None and made[0]["params"]["indicators_digest"] == digest
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM commune_indicators WHERE year = :y"), {"y": YEAR})
            conn.execute(text("DELETE FROM classification_runs WHERE year = :y"), {"y": YEAR})


def _indicator_table(engine: Engine, tmp_path: Path) -> Path:
    """A one-row indicator table of YEAR (the first current commune)."""
    table = tmp_path / "chi-so-2005.csv"
    with engine.connect() as conn:
        code = conn.execute(text("SELECT min(code) FROM admin_units WHERE valid_to IS NULL")).scalar_one()
    table.write_text(
        "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route,"
        f"organizing_places,arrested_offenders\n{YEAR},{code},20000,40,0,0,0,,\n",
        encoding="utf-8",
    )
    return table


def _a_lock_wait(watch: Connection) -> bool:
    """Whether some session of the test database waits on a lock now (wait_for_a_lock_wait, once)."""
    return bool(
        watch.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar()
    )


@pytest.fixture(autouse=True)
def _no_run_of_the_year(engine: Engine) -> None:
    """The year is free: a run of it left by another test would change what these races make."""
    with engine.connect() as conn:
        assert not conn.execute(text("SELECT count(*) FROM classification_runs WHERE year = :y"), {"y": YEAR}).scalar()

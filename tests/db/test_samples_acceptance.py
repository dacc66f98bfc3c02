"""Acceptance on the shipped samples (data/samples/, synthetic): the four formats of one 1,000-row table import
identically, and the 2024 workbook keyed by old communes and addresses classifies 2024 onto today's units with
every ambiguity listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from gis.demo.samples import FORMAT_FILES, LEGACY_FILE, LEGACY_INCIDENT_SHEET, LEGACY_INDICATOR_SHEET
from gis.io.readers import read_table
from gis.services.classification import draft_year
from gis.services.incident_import import import_incidents
from gis.services.indicator_import import import_indicators
from gis.unit_directory import unit_directory

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
STORED = (
    "SELECT ref, occurred_at, kind, substance, quantity_g, arrested, source, commune_code, assignment,"
    " ST_AsText(geom) FROM incidents WHERE import_id = :run ORDER BY ref"
)


def test_the_four_shipped_formats_store_identical_rows(conn: Connection) -> None:
    stored = {}
    for name, file in FORMAT_FILES.items():
        savepoint = conn.begin_nested()
        report = import_incidents(conn, SAMPLES / file, imported_by="test")
        assert (report.imported, report.rejected) == (1000, 0), name
        stored[name] = conn.execute(text(STORED), {"run": report.import_id}).all()
        savepoint.rollback()
    assert all(rows == stored["csv_utf8"] for rows in stored.values())


@pytest.fixture
def year_2024(conn: Connection) -> tuple:
    path = SAMPLES / LEGACY_FILE
    incidents = import_incidents(conn, path, imported_by="test", sheet=LEGACY_INCIDENT_SHEET)
    indicators = import_indicators(conn, path, imported_by="test", sheet=LEGACY_INDICATOR_SHEET)
    return incidents, indicators, draft_year(conn, 2024, actor="planner")


def test_2024_legacy_workbook_classifies_onto_todays_units(conn: Connection, year_2024: tuple) -> None:
    incidents, indicators, run = year_2024
    assert incidents.rejected == 0 and incidents.imported == 300
    assert incidents.by_code + incidents.by_address + incidents.ambiguous == 300
    assert incidents.by_address > 0 and incidents.ambiguous > 0
    results = conn.execute(
        text("SELECT count(*), count(DISTINCT commune_code) FROM classification_results WHERE run_id = :r"),
        {"r": run["id"]},
    ).one()
    assert tuple(results) == (114, 114)  # every current commune, and only current ones
    # Incidents placed in one current commune are counted there by the yearly indicators.
    placed = conn.execute(
        text("SELECT count(*) FROM incidents WHERE import_id = :i AND commune_code IS NOT NULL"),
        {"i": incidents.import_id},
    ).scalar_one()
    assert placed == incidents.by_code + incidents.by_address
    summed = conn.execute(
        text("SELECT count(*) FROM commune_indicators WHERE year = 2024 AND method = 'legacy_sum'")
    ).scalar_one()
    assert summed == indicators.imported > 0


def test_every_ambiguity_of_2024_is_listed_with_its_candidates(conn: Connection, year_2024: tuple) -> None:
    incidents, indicators, run = year_2024
    directory = unit_directory()
    sheet = read_table(SAMPLES / LEGACY_FILE, sheet=LEGACY_INCIDENT_SHEET)
    codes = sheet["mã xã"].where(sheet["mã xã"] != "")
    split_by_code = {
        ref for ref, code in zip(sheet["số hiệu"], codes) if isinstance(code, str) and len(directory.legacy[code]) > 1
    }
    listed = {item["ref"]: item["candidate_codes"] for item in run["ambiguous_incidents"]}
    assert split_by_code <= set(listed)  # every row naming a split old commune by code, and those by address too
    assert set(listed) == set(incidents.flagged.frame()["ref"])
    for ref, candidates in listed.items():
        assert len(candidates) > 1 and ref in incidents.flagged.frame().set_index("ref").index
    # Indicators: every split old commune and every current commune left incomplete is flagged; none is guessed.
    table = read_table(SAMPLES / LEGACY_FILE, sheet=LEGACY_INDICATOR_SHEET)
    split = {c for c in table["mã xã"] if len(directory.legacy[c]) > 1}
    flagged = indicators.flagged.frame()
    assert split <= set(flagged["ref"])
    assert all("not apportioned" in r for r, ref in zip(flagged["reason"], flagged["ref"]) if ref in split)
    stored = set(
        conn.execute(
            text("SELECT commune_code FROM commune_indicators WHERE year = 2024 AND method = 'legacy_sum'")
        ).scalars()
    )
    touched = {c for old in split for c in directory.legacy[old]}
    assert not stored & touched

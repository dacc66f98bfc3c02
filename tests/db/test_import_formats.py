"""One synthetic table saved as an office would save it — CSV UTF-8, CSV ';' Windows-1258, UTF-16 text, .xlsx —
imports to exactly the same stored rows."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import Connection, text

from gis.demo.samples import FORMAT_FILES, SOURCE, sample_incidents, write_format_samples
from gis.services.incident_import import import_incidents

STORED = (
    "SELECT ref, occurred_at, kind, substance, quantity_g, arrested, source, commune_code, assignment,"
    " ST_AsText(geom) AS geom FROM incidents WHERE ref LIKE 'SYN-%' ORDER BY ref"
)


@pytest.fixture(scope="module")
def incidents(boundaries_path: Path) -> pd.DataFrame:
    return sample_incidents(gpd.read_file(boundaries_path), n=1000)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory, incidents: pd.DataFrame) -> dict[str, Path]:
    return write_format_samples(incidents, tmp_path_factory.mktemp("samples"))


def _stored(conn: Connection) -> pd.DataFrame:
    return pd.DataFrame(conn.execute(text(STORED)).mappings().all())


def test_every_format_stores_the_same_rows(conn: Connection, samples: dict[str, Path], incidents: pd.DataFrame) -> None:
    results = {}
    for name in FORMAT_FILES:
        savepoint = conn.begin_nested()
        report = import_incidents(conn, samples[name], imported_by="test")
        assert (report.imported, report.rejected, report.warnings) == (1000, 0, []), (name, report.rejects.head())
        results[name] = _stored(conn)
        savepoint.rollback()
    reference = results.pop("csv_utf8")
    # The reference itself is the generated table: kinds from their Vietnamese names, local times, the source label.
    expected = incidents.sort_values("ref", ignore_index=True)
    assert list(reference["kind"]) == list(expected["kind"])
    assert list(reference["occurred_at"]) == list(expected["occurred_at"].dt.tz_convert("UTC"))
    assert set(reference["source"]) == {SOURCE}
    for name, stored in results.items():
        pd.testing.assert_frame_equal(stored, reference, obj=name)


def test_reimport_in_another_format_adds_nothing(conn: Connection, samples: dict[str, Path]) -> None:
    assert import_incidents(conn, samples["csv_cp1258"], imported_by="test").imported == 1000
    again = import_incidents(conn, samples["xlsx"], imported_by="test")
    assert (again.imported, again.duplicates) == (0, 1000)

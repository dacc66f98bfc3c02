"""Generated files through the importers: whatever the bytes, an import either reports (rows kept, rows rejected
with their line and reason) or refuses the file with a DiabanError, never a traceback.

Fuzzing these importers found four ways to a traceback (a year pandas could not hold in nanoseconds, a count
beyond an integer, a boundary ring GEOS could not build or left open) and two silent misreadings (a bare year as
1 January, a year 0100 stored as given). Each example runs in a savepoint of the test's rolled-back transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from gis.services.boundary_import import import_boundaries
from gis.services.incident_import import import_incidents
from gis.services.indicator_import import import_indicators
from models.domain.indicator_contract import REQUIRED
from models.errors import DiabanError

FUZZ = settings(
    max_examples=examples(20, 80),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

#: Cells that have broken a reader or a contract, or come close: far years, bare years, huge and odd numbers.
_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "2025-03-01",
            "2025-03-01T10:00:00+07:00",
            "01/03/2025",
            "2400-01-01",
            "-268",
            "2024",
            "2025-03",
            "0100-01-01",
            "31/12/9999",
            "106.68",
            "20.86",
            "106,68",
            "1e20",
            "5.6728180998893346e+107",
            "3000000000",
            "-1",
            "nan",
            "inf",
            "tip",
            "drug_use",
            "10507",
            "có",
            "không",
            '"',
            "\x00",
            "=1+1",
            "9" * 300,
        ]
    ),
    st.text(max_size=12),
)


def _mutations(width: int) -> st.SearchStrategy[dict[int, str]]:
    """A valid row's changes: one or two of its cells replaced by odd ones (a whole row of odd cells is rejected for
    its first, and hides what a single one would do)."""
    return st.dictionaries(st.integers(0, width - 1), _CELLS, min_size=1, max_size=2)


def _delimited(header: list[str], rows: list[list[str]], sep: str) -> bytes:
    def quoted(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in f'{sep}"\n\r') else cell

    return "\n".join(sep.join(map(quoted, row)) for row in [header, *rows]).encode("utf-8", "surrogatepass")


def _reported_or_refused(conn: Connection, run: Callable[[], object]) -> None:
    """Run one import in a savepoint: a DiabanError is a refusal, any other exception fails the test."""
    with conn.begin_nested() as savepoint:
        try:
            run()
        except DiabanError:
            pass
        savepoint.rollback()


INCIDENT_HEADERS = [
    ["ref", "occurred_at", "lon", "lat", "kind", "arrested", "quantity_g"],
    ["ref", "occurred_at", "commune_code", "kind"],
    ["ma", "thoi_gian", "kinh_do", "vi_do", "loai"],
]


def test_generated_incident_files_are_reported_or_refused(conn: Connection, tmp_path: Path) -> None:
    @FUZZ
    @given(
        header=st.sampled_from(INCIDENT_HEADERS),
        rows=st.lists(st.lists(_CELLS, min_size=7, max_size=7), min_size=1, max_size=20),
        ragged=st.lists(st.lists(_CELLS, max_size=9), max_size=2),
        sep=st.sampled_from([",", ";", "\t"]),
    )
    def imported(header: list[str], rows: list[list[str]], ragged: list[list[str]], sep: str) -> None:
        path = tmp_path / "incidents.csv"
        path.write_bytes(_delimited(header, [row[: len(header)] for row in rows] + ragged, sep))
        _reported_or_refused(conn, lambda: import_incidents(conn, path, imported_by="fuzz"))

    imported()


def test_generated_indicator_files_are_reported_or_refused(conn: Connection, tmp_path: Path) -> None:
    header = ["commune_code", *REQUIRED]  # year, population, users, plants, cultivation_m2, on_drug_route
    valid = ["", "2025", "30000", "120", "0", "0", "không"]
    codes = conn.execute(text("SELECT code FROM admin_units WHERE valid_to IS NULL ORDER BY code")).scalars().all()

    @FUZZ
    @given(rows=st.lists(_mutations(len(valid)), min_size=1, max_size=20))
    def imported(rows: list[dict[int, str]]) -> None:
        path = tmp_path / "indicators.csv"
        # A commune of its own for each row: a repeated (year, commune) would reject every row after the first.
        lines = [
            [changes.get(i, codes[n] if i == 0 else cell) for i, cell in enumerate(valid)]
            for n, changes in enumerate(rows)
        ]
        path.write_bytes(_delimited(header, lines, ","))
        _reported_or_refused(conn, lambda: import_indicators(conn, path, imported_by="fuzz"))

    imported()


_POINT = st.tuples(st.floats(106.0, 107.0), st.floats(20.5, 21.0)).map(list)
_RING = st.lists(_POINT, max_size=6)
_GEOMETRY = st.one_of(
    st.builds(lambda rings: {"type": "Polygon", "coordinates": rings}, st.lists(_RING, max_size=2)),
    st.builds(
        lambda polygons: {"type": "MultiPolygon", "coordinates": polygons},
        st.lists(st.lists(_RING, max_size=2), max_size=2),
    ),
    st.builds(lambda p: {"type": "Point", "coordinates": p}, _POINT),
    st.none(),
)


def test_generated_boundary_files_are_reported_or_refused(conn: Connection, tmp_path: Path) -> None:
    @FUZZ
    @given(
        features=st.lists(
            st.builds(
                lambda code, geometry: {
                    "type": "Feature",
                    "properties": {"code": code, "name": f"Phường {code}", "kind": "phuong"},
                    "geometry": geometry,
                },
                st.sampled_from(["99901", "99902", "", "9" * 40]),
                _GEOMETRY,
            ),
            max_size=5,
        )
    )
    def imported(features: list[dict]) -> None:
        path = tmp_path / "boundaries.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
        _reported_or_refused(conn, lambda: import_boundaries(conn, path))

    imported()

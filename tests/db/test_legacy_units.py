"""Rows without a point: placed by a current or legacy commune code or an address, never given an invented point;
legacy units split by the 2025 reorganisation kept as ambiguous with their candidates; indicators of old communes
summed onto today's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, text

from gis.services.analyses import heat_surface
from gis.services.incident_import import import_incidents
from gis.services.indicator_import import import_indicators
from gis.store.incidents import incident_frame, incident_points
from gis.store.selection import IncidentSelection

HEADER = "ref,occurred_at,kind,lon,lat,commune_code,address\n"
ROWS = (
    # A legacy code of 2024 lying wholly in one current unit: Phường Quán Toan (11296) → 11602.
    "U1,2024-05-01T10:00:00,tip,,,11296,\n"
    # A legacy code split in 2025: Phường Trần Phú, TP Hải Dương (10528) → 10532 or 10537.
    "U2,2024-05-02T10:00:00,tip,,,10528,\n"
    # 11581 in 2024 is the old Phường Lê Lợi (split in three); after 1 July 2025 it is the current Phường An Dương.
    "U3,2024-05-03T10:00:00,tip,,,11581,\n"
    "U4,2025-09-03T10:00:00,tip,,,11581,\n"
    # Addresses in the old form (ward, district, province) and in the new one (ward, province).
    'U5,2024-06-01T10:00:00,possession,,,,"12 Lê Lợi, Phường Quán Toan, Quận Hồng Bàng, Thành phố Hải Phòng"\n'
    'U6,2025-10-01T10:00:00,possession,,,,"Số 5 ngõ 10, Phường Hồng Bàng, Thành phố Hải Phòng"\n'
    # A point wins over the code given with it.
    "U7,2025-10-02T10:00:00,tip,106.6830,20.8600,11296,\n"
    # Not resolvable, and outside the loaded city: rejected with their reason.
    'U8,2025-10-03T10:00:00,tip,,,,"không rõ"\n'
    'U9,2025-10-04T10:00:00,tip,,,,"Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh"\n'
    "U10,2025-10-05T10:00:00,tip,,,99999,\n"
    # Today's Phường Nguyễn Trãi (10552) by its full name, though an old ward of that name lay elsewhere (in Thành phố
    # Hải Dương, today's 10507); in 2024 the name was that old ward's: refused, not guessed.
    'U11,2025-10-06T10:00:00,tip,,,,"Phường Nguyễn Trãi"\n'
    'U12,2024-10-06T10:00:00,tip,,,,"Phường Nguyễn Trãi"\n'
)


@pytest.fixture
def located(conn: Connection, tmp_path: Path):  # noqa: ANN201
    path = tmp_path / "units.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    return path, import_incidents(conn, path, imported_by="test")


def _stored(conn: Connection) -> dict[str, tuple]:
    rows = conn.execute(
        text(
            "SELECT ref, commune_code, assignment, legacy_code, candidate_codes, geom IS NULL FROM incidents"
            " WHERE ref LIKE 'U%'"
        )
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_codes_and_addresses_place_rows_without_inventing_a_point(conn: Connection, located) -> None:  # noqa: ANN001
    _, report = located
    assert report.summary() == {
        "imported": 8,
        "duplicates": 0,
        "rejected": 4,
        "outside": 0,
        "by_code": 2,
        "by_address": 3,
        "ambiguous": 2,
    }
    assert _stored(conn) == {
        "U1": ("11602", "legacy_code", "11296", None, True),
        "U2": (None, "ambiguous", "10528", ["10532", "10537"], True),
        "U3": (None, "ambiguous", "11581", ["11581", "11593", "11617"], True),
        "U4": ("11581", "code", None, None, True),
        "U5": ("11602", "address", "11296", None, True),
        "U6": ("11311", "address", None, None, True),
        "U7": ("11311", "inside", None, None, False),
        "U11": ("10552", "address", None, None, True),
    }
    # The unit valid at each row's date: the old unit it names before the reorganisation, the current one after.
    periods = dict(conn.execute(text("SELECT ref, period_code FROM incidents WHERE ref LIKE 'U%'")).all())
    assert periods == {"U1": "11296", "U2": "10528", "U3": "11581", "U4": "11581", "U5": "11296", "U6": "11311",
                       "U7": "11311", "U11": "10552"}  # fmt: skip
    rejects = report.rejects.frame().set_index("ref")
    assert list(rejects.index) == ["U8", "U9", "U10", "U12"]
    assert "Phường Nguyễn Trãi, Thành phố Hải Dương" in rejects.loc["U12", "reason"]
    assert "address not resolved" in rejects.loc["U8", "reason"]
    assert "outside the loaded communes" in rejects.loc["U9", "reason"]
    assert "unknown unit code" in rejects.loc["U10", "reason"]
    flagged = report.flagged.frame().set_index("ref")
    assert list(flagged.index) == ["U2", "U3"]
    assert "10532, 10537" in flagged.loc["U2", "reason"] and "Trần Phú" in flagged.loc["U2", "reason"]


def test_a_current_full_name_an_old_ward_elsewhere_bore_is_read_by_the_rows_date(
    conn: Connection, tmp_path: Path
) -> None:
    """A file naming no old code (read as current, `legacy_only`): «Phường Nguyễn Trãi» dated after 1 July 2025 is
    today's 10552; dated 2024 it was the old ward of Thành phố Hải Dương's name, and is refused, not guessed."""
    path = tmp_path / "names.csv"
    path.write_text(
        'ref,occurred_at,kind,address\nN1,2025-10-06,tip,"Phường Nguyễn Trãi"\nN2,2024-10-06,tip,"Phường Nguyễn Trãi"\n',
        encoding="utf-8",
    )
    report = import_incidents(conn, path, imported_by="test")
    stored = conn.execute(text("SELECT ref, commune_code FROM incidents WHERE ref LIKE 'N_'")).all()
    assert [tuple(row) for row in stored] == [("N1", "10552")]
    assert list(report.rejects.frame()["ref"]) == ["N2"]


def test_rows_without_a_point_are_in_no_point_analysis(conn: Connection, located) -> None:  # noqa: ANN001
    everything = IncidentSelection(kinds=("tip", "possession"))
    assert list(conn.execute(text("SELECT ref FROM incidents WHERE id = ANY(:i)"), {"i": list(incident_frame(conn, everything)["id"])}).scalars()) == ["U7"]  # fmt: skip
    surface = heat_surface(conn, everything, cell_m=100, bandwidth_m=200)
    assert (surface.n_incidents, surface.n_without_point) == (1, 7)
    # In a small map box inside today's Phường Quán Toan (11602), only the two rows placed there count.
    x, y = conn.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_units WHERE code = '11602') s"
        )
    ).one()
    assert incident_points(conn, IncidentSelection(bbox=(x - 1e-4, y - 1e-4, x + 1e-4, y + 1e-4))).n_without_point == 2


def test_reimport_is_idempotent(conn: Connection, located) -> None:  # noqa: ANN001
    path, _ = located
    before = _stored(conn)
    again = import_incidents(conn, path, imported_by="test")
    assert (again.imported, again.duplicates, again.rejected, again.ambiguous) == (0, 8, 4, 0)
    assert again.flagged.empty and _stored(conn) == before


def test_outside_points_are_reported_with_line_and_ref_or_refused(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "far.csv"
    path.write_text(
        "ref,occurred_at,kind,lon,lat\nF1,2025-01-01,tip,106.6830,20.8600\nF2,2025-01-01,tip,116.0,20.0\n",
        encoding="utf-8",
    )
    savepoint = conn.begin_nested()
    kept = import_incidents(conn, path, imported_by="test")
    assert (kept.imported, kept.outside, kept.rejected) == (2, 1, 0)
    far = kept.flagged.frame().iloc[0]
    assert (far["line"], far["ref"], far["field"]) == (3, "F2", "lon/lat")
    assert "kept as outside" in far["reason"] and " km " in far["reason"]
    savepoint.rollback()
    refused = import_incidents(conn, path, imported_by="test", outside="reject")
    assert (refused.imported, refused.outside, refused.rejected, refused.duplicates) == (1, 0, 1, 0)
    assert refused.rejects.frame().iloc[0]["ref"] == "F2" and "refused" in refused.rejects.frame().iloc[0]["reason"]
    assert conn.execute(text("SELECT count(*) FROM incidents WHERE ref = 'F2'")).scalar_one() == 0


def test_a_point_outside_is_told_its_distance_to_the_nearest_commune(conn: Connection, tmp_path: Path) -> None:
    """Where the nearest commune by degrees is not the nearest one (a degree of longitude is 7 % shorter than one of
    latitude here), the report gives the geodesic distance to the nearest commune, to 0.1 km as shown."""
    lon, lat = 106.474, 21.095  # 2.4 km from the nearest commune; 2.6 km from the one nearest in degrees
    path = tmp_path / "near.csv"
    path.write_text(f"ref,occurred_at,kind,lon,lat\nN1,2025-01-01,tip,{lon},{lat}\n", encoding="utf-8")
    report = import_incidents(conn, path, imported_by="test")
    truth = conn.execute(
        text(
            "SELECT min(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography))"
            " FROM admin_unit_parts"
        ),
        {"lon": lon, "lat": lat},
    ).scalar_one()
    assert report.outside == 1 and truth > 1_000
    shown = f"{truth / 1000:.1f}".replace(".", ",")  # the decimal comma, as every other figure («117.2 km» was)
    assert f"cách xã gần nhất {shown} km" in report.flagged.frame().iloc[0]["reason"]


INDICATORS = (
    "nam,ma_xa,dan_so,nguoi_co_ho_so,so_cay,dien_tich_m2,tuyen_trong_diem\n"
    # All four old communes of today's Phường Thành Đông (10507): summed.
    "2024,10507,1000,3,0,0,0\n"
    "2024,10510,2000,4,10,1.5,1\n"
    "2024,10519,1500,0,0,0,0\n"
    "2024,10663,500,1,0,0,0\n"
    # A split old commune: reported, not apportioned.
    "2024,10528,800,2,0,0,0\n"
    # Only one of the old communes of today's 11602 (Quán Toan): incomplete, reported, not stored.
    "2024,11296,900,1,0,0,0\n"
    # A current code in 2025: stored as given.
    "2025,10507,5100,9,0,0,0\n"
)


def test_indicators_of_old_communes_are_summed_onto_current_ones(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "ind.csv"
    path.write_text(INDICATORS, encoding="utf-8")
    report = import_indicators(conn, path, imported_by="test")
    assert (report.imported, report.rejected) == (2, 0), report.rejects
    stored = pd.DataFrame(
        conn.execute(
            text(
                "SELECT year, commune_code, population, users_with_records, plants_destroyed, cultivation_m2,"
                " on_drug_route, method, legacy_codes FROM commune_indicators WHERE year IN (2024, 2025)"
                " AND method <> 'legacy_given' ORDER BY year"
            )
        ).all()
    )
    assert stored.values.tolist() == [
        [2024, "10507", 5000, 8, 10, 1.5, True, "legacy_sum", ["10507", "10510", "10519", "10663"]],
        [2025, "10507", 5100, 9, 0, 0.0, False, "direct", None],
    ]
    # Every row of an old commune is also kept as given, for a classification of 2024 on its own units.
    given = conn.execute(
        text("SELECT commune_code, population FROM commune_indicators WHERE method = 'legacy_given' ORDER BY 1")
    ).all()
    assert [tuple(r) for r in given] == [
        ("10507", 1000),
        ("10510", 2000),
        ("10519", 1500),
        ("10528", 800),
        ("10663", 500),
        ("11296", 900),
    ]
    flagged = report.flagged.frame()
    assert list(flagged["ref"]) == ["10528", "11296"]
    assert "10532, 10537" in flagged.iloc[0]["reason"] and "not apportioned" in flagged.iloc[0]["reason"]
    assert "old communes missing" in flagged.iloc[1]["reason"]


def test_cli_json_counts_and_flagged_rows(engine: Engine, db_env: dict, tmp_path: Path) -> None:
    path = tmp_path / "cli.csv"
    path.write_text(HEADER + ROWS.replace("U", "CLI-U"), encoding="utf-8")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "api.cli.main", "incidents", "import", str(path), "--json"],
            env=db_env,
            capture_output=True,
            text=True,
            check=True,
        )
        summary = json.loads(out.stdout)
        assert (summary["by_address"], summary["ambiguous"], summary["by_code"]) == (3, 2, 2)
        listing = tmp_path / "problems.csv"
        subprocess.run(
            [sys.executable, "-m", "api.cli.main", "incidents", "import", str(path), "--rejects", str(listing)],
            env=db_env,
            capture_output=True,
            text=True,
            check=True,
        )
        problems = pd.read_csv(listing, sep=";", encoding="utf-8-sig")  # the Vietnamese export, as Excel reads it
        stored = problems["Lý do"].str.startswith("mã đã có trong cơ sở dữ liệu")
        refs = problems["Số hiệu, mã"]
        assert list(refs[stored]) == [f"CLI-U{i}" for i in (*range(1, 8), 11)]  # each row stored the first time
        assert list(refs[~stored]) == ["CLI-U8", "CLI-U9", "CLI-U10", "CLI-U12"]  # the re-import adds no flagged rows
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM incidents WHERE ref LIKE 'CLI-U%'"))

"""Indicators derived in PostGIS: incidents, hotspots and imports per commune-year, overrides winning."""

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection, text

from gis.services.classification import draft_year
from gis.services.incident_import import import_incidents
from gis.services.indicator_import import import_indicators
from gis.store.indicators import yearly_indicators

HEADER = (
    "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route,"
    "organizing_places,arrested_offenders\n"
)


def inner_point(conn: Connection, code: str) -> tuple[float, float]:
    """A point inside a commune (lon, lat)."""
    row = conn.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_units"
            " WHERE code = :c AND valid_to IS NULL) s"
        ),
        {"c": code},
    ).one()
    return round(row[0], 6), round(row[1], 6)


def add_hotspot(conn: Connection, code: str, kind: str, first: str, last: str | None, status: str = "verified") -> int:
    """Insert a hotspot in a commune with its active period."""
    lon, lat = inner_point(conn, code)
    return conn.execute(
        text(
            "INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, first_seen, last_seen, radius_m, commune_code,"
            " version, centroid) VALUES (:s, :k, 'manual', 0, '{}', :f, :l, 50, :c, 1, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            " RETURNING id"
        ),
        {"s": status, "k": kind, "f": first, "l": last, "c": code, "x": lon, "y": lat},
    ).scalar_one()


@pytest.fixture
def codes(conn: Connection) -> list[str]:
    return list(
        conn.execute(text("SELECT code FROM admin_units WHERE valid_to IS NULL ORDER BY code LIMIT 4")).scalars()
    )


@pytest.fixture
def crafted(conn: Connection, codes: list[str], tmp_path: Path) -> list[str]:
    """A: 3 incidents in 2025 (4 arrested, 1 of them for drug use), 1 in 2024; B: imported overrides; C, D: nothing."""
    a, b, c, d = codes
    (ax, ay), (bx, by) = inner_point(conn, a), inner_point(conn, b)
    incidents = tmp_path / "i.csv"
    incidents.write_text(
        "ref,occurred_at,lon,lat,kind,arrested\n"
        f"T1,2025-02-01T10:00:00+07:00,{ax},{ay},trafficking,2\n"
        f"T2,2025-03-01T10:00:00+07:00,{ax},{ay},drug_use,1\n"
        f"T3,2025-12-31T23:30:00+07:00,{ax},{ay},organizing_use,1\n"
        f"T4,2024-06-01T10:00:00+07:00,{ax},{ay},trafficking,1\n"
        f"T5,2026-01-01T00:30:00+07:00,{ax},{ay},trafficking,9\n"
        f"T6,2025-05-05T10:00:00+07:00,{bx},{by},possession,3\n",
        encoding="utf-8",
    )
    import_incidents(conn, incidents, imported_by="test")
    table = tmp_path / "ind.csv"
    table.write_text(
        HEADER + f"2025,{a},20000,40,0,0,0,,\n2025,{b},10000,0,0,0,1,5,0\n"
        f"2025,{c},5000,0,0,0,0,,\n2025,{d},8000,0,0,0,0,,\n",
        encoding="utf-8",
    )
    import_indicators(conn, table, imported_by="test")
    add_hotspot(conn, a, "organizing_place", "2024-11-01", "2025-01-15")
    add_hotspot(conn, a, "organizing_place", "2025-06-01", None)
    add_hotspot(conn, a, "organizing_place", "2023-01-01", "2024-12-31")  # ended before 2025
    add_hotspot(conn, a, "organizing_place", "2025-03-01", None, status="dismissed")
    add_hotspot(conn, b, "organizing_place", "2025-03-01", None)  # B's imported override (5) wins
    spot = add_hotspot(conn, a, "spot", "2025-01-01", None)
    conn.execute(
        text(
            "INSERT INTO hotspot_events (hotspot_id, at, actor, event, details) VALUES"
            " (:h, '2025-07-01', 'test', 'recurred', '{}'), (:h, '2024-07-01', 'test', 'recurred', '{}')"
        ),
        {"h": spot},
    )
    return codes


def test_derived_indicators_trace_their_sources(conn: Connection, crafted: list[str]) -> None:
    a, b, c, _ = crafted
    frame = yearly_indicators(conn, 2024, 2025).set_index(["commune_code", "year"])
    row = frame.loc[(a, 2025)]
    assert row["n_incidents"] == 3 and row["arrested_offenders"] == 3  # the drug-use arrest is administrative
    assert row["organizing_places"] == 2 and row["active_hotspots"] == 3 and row["recurrences"] == 1
    assert row["per_10k_trafficking"] == pytest.approx(0.5)
    assert row["trend"] == "tăng" and row["incidents_prev_mean"] == 1
    assert row["sources"]["arrested_offenders"].startswith("incidents of kinds trafficking, possession, ")
    assert row["sources"]["arrested_offenders"].endswith(": 2 rows, arrested summed")
    assert row["sources"]["organizing_places"].startswith("hotspots: 2 ")
    assert row["sources"]["population"].startswith("commune_indicators import #")
    overridden = frame.loc[(b, 2025)]
    assert overridden["organizing_places"] == 5 and overridden["arrested_offenders"] == 0
    assert overridden["sources"]["organizing_places"].startswith("override: commune_indicators import #")
    assert overridden["sources"]["arrested_offenders"].startswith("override: ")
    empty = frame.loc[(c, 2025)]
    assert empty["n_incidents"] == 0 and empty["organizing_places"] == 0 and empty["arrested_offenders"] == 0
    assert frame.loc[(a, 2024), "sources"]["population"] == "chưa nhập số liệu (not imported)"


def test_communes_without_incidents_records_or_hotspots_are_drug_free(conn: Connection, crafted: list[str]) -> None:
    a, b, c, d = crafted
    run = draft_year(conn, 2025, actor="planner")
    rows = dict(
        conn.execute(
            text(
                "SELECT commune_code, category || coalesce(level, '') FROM classification_results"
                " WHERE run_id = :r AND commune_code = ANY(:c)"
            ),
            {"r": run["id"], "c": crafted},
        ).all()
    )
    assert rows[c] == "drug_free" and rows[d] == "drug_free"
    # A: 40/20000 = 0.2 % records (III.users), 2 places (I.b), 3/20000 = 0.015 % arrests: loại II needs 3.
    assert rows[a].startswith("trong_diem")
    # B: 5 places (override) meets I.b; nothing else → trọng điểm loại III (at least 1 of the list).
    assert rows[b] == "trong_diemIII"
    criteria = conn.execute(
        text("SELECT criteria FROM classification_results WHERE run_id = :r AND commune_code = :c"),
        {"r": run["id"], "c": b},
    ).scalar_one()
    i_b = next(c for c in criteria if c["criterion_id"] == "I.b")
    assert i_b == {**i_b, "value": 5.0, "threshold": 2.0, "met": True}


def test_criterion_c_counts_drug_crimes_only_and_a_tip_does_not_block_drug_free(
    conn: Connection, codes: list[str], tmp_path: Path
) -> None:
    # Ten drug-use cases (administrative, NĐ 144/2021 Điều 23) among 10,000 residents are not 0.1 % of
    # residents arrested for drug crimes; ten trafficking arrests are. One unverified tip is not a drug incident.
    users, dealers, tipped, unrecorded = codes[:4]
    points = {code: inner_point(conn, code) for code in (users, dealers, tipped, unrecorded)}
    rows = [
        f"U{i},2025-0{1 + i % 9}-10T10:00:00+07:00,{points[users][0]},{points[users][1]},drug_use,1" for i in range(10)
    ]
    rows += [
        f"D{i},2025-0{1 + i % 9}-11T10:00:00+07:00,{points[dealers][0]},{points[dealers][1]},trafficking,1"
        for i in range(10)
    ]
    rows.append(f"TIP,2025-04-01T10:00:00+07:00,{points[tipped][0]},{points[tipped][1]},tip,")
    # A trafficking case whose people arrested were not recorded: (c) unknown there, not 0 (it had read as 0).
    rows.append(f"NA,2025-05-01T10:00:00+07:00,{points[unrecorded][0]},{points[unrecorded][1]},trafficking,")
    incidents = tmp_path / "i.csv"
    incidents.write_text("ref,occurred_at,lon,lat,kind,arrested\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_incidents(conn, incidents, imported_by="test")
    table = tmp_path / "ind.csv"
    # No hotspot register here: the table gives the organising places (none), which it would count.
    table.write_text(HEADER + "".join(f"2025,{c},10000,0,0,0,0,0,\n" for c in codes), encoding="utf-8")
    import_indicators(conn, table, imported_by="test")

    frame = yearly_indicators(conn, 2025, 2025).set_index("commune_code")
    assert frame.loc[users, "arrested_offenders"] == 0 and frame.loc[dealers, "arrested_offenders"] == 10
    assert frame.loc[tipped, "arrested_offenders"] == 0 and pd.isna(frame.loc[unrecorded, "arrested_offenders"])
    assert frame.loc[users, "n_incidents"] == 10 and frame.loc[tipped, "n_incidents"] == 1
    run = draft_year(conn, 2025, actor="planner")
    results = {
        code: (category, {c["criterion_id"]: c["met"] for c in criteria})
        for code, category, criteria in conn.execute(
            text("SELECT commune_code, category, criteria FROM classification_results WHERE run_id = :r"),
            {"r": run["id"]},
        )
    }
    assert results[users][1]["I.c"] is False and results[dealers][1]["I.c"] is True
    assert results[users][0] == "at_risk"  # drug use is still a drug incident: not drug-free
    assert results[tipped][0] == "drug_free"


def test_a_year_before_the_hotspot_register_began_has_no_register_counts(
    conn: Connection, codes: list[str], tmp_path: Path
) -> None:
    """The register's records begin on 06/12/2025 (as in the demo): its organising places, active hotspots and
    recurrences of 2025 are unknown, not 0 (criteria I.b/II.b and drug-free condition 3 were judged on a register that
    did not exist, every such commune read 0 places), unless the indicator table gives the places; the explanation
    says why. 2026, which it covers, counts them."""
    begun, left, given, _ = codes
    add_hotspot(conn, begun, "organizing_place", "2025-12-06", None)
    (x, y) = inner_point(conn, begun)
    incidents = tmp_path / "i.csv"  # the police's register of both years is loaded: its counts are known
    incidents.write_text(
        "ref,occurred_at,lon,lat,kind,arrested\n"
        f"R1,2025-03-01T10:00:00+07:00,{x},{y},tip,\nR2,2026-03-01T10:00:00+07:00,{x},{y},tip,\n",
        encoding="utf-8",
    )
    import_incidents(conn, incidents, imported_by="test")
    table = tmp_path / "ind.csv"
    rows = [f"{year},{code},10000,0,0,0,0,{1 if code == given else ''},\n" for year in (2025, 2026) for code in codes]
    table.write_text(HEADER + "".join(rows), encoding="utf-8")
    import_indicators(conn, table, imported_by="test")

    frame = yearly_indicators(conn, 2025, 2026).set_index(["commune_code", "year"])
    for column in ("organizing_places", "active_hotspots", "recurrences"):
        assert pd.isna(frame.loc[(left, 2025), column]), column
        assert frame.loc[(left, 2025), "sources"][column] == "chưa có số liệu: sổ điểm nóng bắt đầu từ ngày 06/12/2025"
        assert frame.loc[(left, 2026), column] == 0, column  # covered: a true 0
    assert frame.loc[(given, 2025), "organizing_places"] == 1  # the table's figure wins
    assert frame.loc[(begun, 2026), "organizing_places"] == 1 and frame.loc[(begun, 2026), "active_hotspots"] == 1

    run = draft_year(conn, 2025, actor="planner")
    category, incomplete, explanation = conn.execute(
        text(
            "SELECT category, incomplete, explanation FROM classification_results"
            " WHERE run_id = :r AND commune_code = :c"
        ),
        {"r": run["id"], "c": left},
    ).one()
    assert (category, incomplete) == ("at_risk", True)  # was drug_free on 0 places
    assert "sổ điểm nóng bắt đầu từ ngày 06/12/2025" in explanation, explanation

"""A year classified on the units valid that year (earlier boundaries imported with their validity), or
re-expressed on today's units."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Connection, text

from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year
from gis.services.incident_import import import_incidents
from gis.services.indicator_import import import_indicators
from gis.store.classifications import classification_geojson_text, run_results
from gis.store.indicators import yearly_indicators

#: The four old communes that today's Phường Thành Đông (10507) absorbed; their shapes here are invented
#: (quarters of today's unit), their codes real.
OLD = ("10507", "10510", "10519", "10663")


@pytest.fixture
def quarters(boundaries_path: Path) -> dict[str, shapely.Geometry]:
    unit = gpd.read_file(boundaries_path).set_index("code").loc["10507", "geometry"]
    (x0, y0, x1, y1), (cx, cy) = unit.bounds, unit.centroid.coords[0]
    boxes = [(x0, y0, cx, cy), (cx, y0, x1, cy), (x0, cy, cx, y1), (cx, cy, x1, y1)]
    parts = {code: unit.intersection(shapely.box(*b)) for code, b in zip(OLD, boxes)}
    assert all(not p.is_empty for p in parts.values())
    return parts


@pytest.fixture
def year_2024(conn: Connection, tmp_path: Path, quarters: dict) -> None:
    earlier = gpd.GeoDataFrame(
        {"code": list(quarters), "name": [f"Cũ {c}" for c in quarters], "kind": "phuong"},
        geometry=list(quarters.values()),
        crs=4326,
    )
    earlier.to_file(tmp_path / "earlier.geojson", driver="GeoJSON")
    points = {code: part.representative_point().coords[0] for code, part in quarters.items()}
    rows = [f"A{i},2024-0{i + 1}-10T09:00:00,tip,{points['10510'][0]:.7f},{points['10510'][1]:.7f},"
            for i in range(3)]  # fmt: skip
    rows.append(f"B1,2024-05-10T09:00:00,trafficking,{points['10663'][0]:.7f},{points['10663'][1]:.7f},")
    rows.append("C1,2024-06-10T09:00:00,tip,,,10519")  # no point: its old commune by code
    (tmp_path / "inc.csv").write_text("ref,occurred_at,kind,lon,lat,commune_code\n" + "\n".join(rows) + "\n")
    # Incidents first, boundaries after: the import of the earlier units gives them their unit.
    import_incidents(conn, tmp_path / "inc.csv", imported_by="test")
    import_boundaries(conn, tmp_path / "earlier.geojson", valid_from=date(2020, 1, 1), valid_to=date(2025, 7, 1))
    (tmp_path / "ind.csv").write_text(
        "nam,ma_xa,dan_so,nguoi_co_ho_so,so_cay,dien_tich_m2,tuyen_trong_diem\n"
        + "".join(f"2024,{code},{1000 * (i + 1)},{i},0,0,0\n" for i, code in enumerate(OLD))
    )
    import_indicators(conn, tmp_path / "ind.csv", imported_by="test")


def test_a_year_on_its_own_units_and_re_expressed_on_todays(conn: Connection, year_2024: None) -> None:
    period = yearly_indicators(conn, 2024, 2024, "period").reset_index()
    assert sorted(period["commune_code"]) == sorted(OLD)
    by_code = period.set_index("commune_code")
    assert by_code["n_incidents"].to_dict() == {"10507": 0, "10510": 3, "10519": 1, "10663": 1}
    assert by_code["population"].to_dict() == {"10507": 1000, "10510": 2000, "10519": 3000, "10663": 4000}

    today = yearly_indicators(conn, 2024, 2024, "today").reset_index().set_index("commune_code")
    assert len(today) == 114
    assert (today.loc["10507", "n_incidents"], today.loc["10507", "population"]) == (5, 10_000)


def test_the_draft_of_a_year_on_its_own_units_names_and_draws_them(conn: Connection, year_2024: None) -> None:
    run = draft_year(conn, 2024, actor="planner", basis="period")
    assert run["params"]["units"] == "period" and run["params"]["units_valid_on"] == "2024-12-31"
    results = run_results(conn, run["id"])
    assert list(results["commune_code"]) == sorted(OLD) and list(results["name"]) == [f"Cũ {c}" for c in OLD]
    features = json.loads(classification_geojson_text(conn, run["id"]))
    assert sorted(f["id"] for f in features) == sorted(OLD)
    # A page that has today's shapes asks for no current unit's: units no longer current keep theirs (10507 too, an
    # old unit whose code today's Phường Thành Đông took over).
    assert all(f["geometry"] for f in json.loads(classification_geojson_text(conn, run["id"], current_geometry=False)))
    rerun = draft_year(conn, 2024, actor="planner", replace=True)  # re-expressed on today's 114 communes
    assert len(run_results(conn, rerun["id"])) == 114
    today = json.loads(classification_geojson_text(conn, rerun["id"], current_geometry=False))
    assert len(today) == 114 and not [f for f in today if f["geometry"]]


def test_no_units_valid_in_the_year_is_a_clear_error(conn: Connection) -> None:
    with pytest.raises(Exception, match="no boundaries valid on 2019-12-31"):
        yearly_indicators(conn, 2019, 2019, "period")
    assert conn.execute(text("SELECT count(*) FROM admin_units WHERE valid_to IS NOT NULL")).scalar_one() == 0

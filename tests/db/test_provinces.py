"""Provinces: units carry their province, the national boundary file loads whole, KPI reports per province and
national."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from gis.ops.postgres import ManagedCluster
from gis.reference import load_national_targets, load_targets, targets_for
from gis.services.analyses import NoStudyProvince, city_cells, study_province
from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year, require_whole_country
from gis.services.reports import kpi_report
from gis.store.provinces import sole_province
from gis.store.scoping import AreaScope
from models.errors import PermissionDenied
from models.vocabulary import local_today
from tests.conftest import (
    SECOND_PROVINCE,
    SECOND_PROVINCE_FILE,
    SECOND_PROVINCE_UNITS,
    migrated_database,
    second_province_point,
)

HAI_PHONG = "31"


def test_the_hai_phong_file_names_no_province_and_its_units_get_hai_phongs(conn: Connection) -> None:
    rows = conn.execute(
        text("""SELECT u.province_code, p.name, p.full_name, count(*) FROM admin_units u
                LEFT JOIN provinces p ON p.code = u.province_code WHERE u.valid_to IS NULL GROUP BY 1, 2, 3""")
    ).all()
    assert [tuple(r) for r in rows] == [(HAI_PHONG, "Hải Phòng", "Thành phố Hải Phòng", 114)]
    assert sole_province(conn) == HAI_PHONG
    # The 34 provinces of the 2025 reorganisation are known before any of their boundaries is loaded.
    assert conn.execute(text("SELECT count(*) FROM provinces")).scalar_one() == 34


def test_targets_per_province_and_national() -> None:
    assert load_targets().province_code == HAI_PHONG and targets_for(HAI_PHONG) is load_targets()
    national = load_national_targets()
    assert national.province_code is None and targets_for(SECOND_PROVINCE) is national and targets_for(None) is national
    assert national.drug_free_target(2030) == pytest.approx(0.50) and national.drug_free_target(2029) is None
    assert national.max_new_hotspots is None  # not set by the national documents: reported without a target


def test_kpi_reports_per_province_and_national(conn: Connection, second_province_path: Path) -> None:
    import_boundaries(conn, second_province_path)
    conn.execute(text("DELETE FROM classification_runs WHERE year = 2030"))
    # The targets are set for 2030, a year to come that is no longer run (check_year_begun): this year's draft, moved
    # to 2030 as one stored before that was refused.
    run = draft_year(conn, local_today().year, actor="tham-muu")
    conn.execute(text("UPDATE classification_runs SET year = 2030 WHERE id = :id"), {"id": run["id"]})
    national = kpi_report(conn, 2030)
    assert (national["level"], national["province_code"], national["targets_version"]) == (
        "nation",
        None,
        load_national_targets().version,
    )
    shares = {k["key"]: k for k in national["kpis"]}
    assert shares["drug_free_share"]["target"] == pytest.approx(0.50)
    assert f"/{114 + SECOND_PROVINCE_UNITS} đơn vị" in shares["drug_free_share"]["note"]
    lines = {line["province_code"]: line for line in national["provinces"]}
    assert lines[HAI_PHONG]["units"] == 114 and lines[SECOND_PROVINCE]["units"] == SECOND_PROVINCE_UNITS
    assert lines[HAI_PHONG]["target"] == pytest.approx(0.60)  # Hải Phòng's own path in 2030
    assert lines[SECOND_PROVINCE]["target"] == pytest.approx(0.50)  # the national target
    provincial = kpi_report(conn, 2030, HAI_PHONG)
    assert (provincial["level"], provincial["province"], provincial["provinces"]) == (
        "province",
        "Thành phố Hải Phòng",
        [],
    )
    assert provincial["targets_version"] == load_targets().version
    assert f"/{114} đơn vị" in {k["key"]: k for k in provincial["kpis"]}["drug_free_share"]["note"]
    second = kpi_report(conn, 2030, SECOND_PROVINCE)
    assert f"/{SECOND_PROVINCE_UNITS} đơn vị" in {k["key"]: k for k in second["kpis"]}["drug_free_share"]["note"]


def test_a_provincial_user_reads_only_their_provinces_report() -> None:
    from models.domain.access import Principal, report_province

    provincial = Principal(1, "tm-hp", "planner", province_code=HAI_PHONG)
    assert report_province(provincial, None) == HAI_PHONG and report_province(provincial, HAI_PHONG) == HAI_PHONG
    with pytest.raises(PermissionDenied):
        report_province(provincial, SECOND_PROVINCE)
    assert report_province(Principal(2, "bo", "planner"), SECOND_PROVINCE) == SECOND_PROVINCE


def test_diaban_boundaries_import_loads_the_national_file(cluster: ManagedCluster, national_path: Path) -> None:
    """The command itself, into a fresh database (the session's keeps Hải Phòng alone): every unit of the 34
    provinces, kinds taken from names where the file says "other", Trường Sa inside the metric domain. (One load
    of the 3,321 units for the whole suite: it takes a minute on two busy cores.)"""
    name = "national_scratch"
    migrated_database(cluster, name)
    try:
        env = {
            **os.environ,
            "DIABAN_DATABASE_URL": cluster.url(name),
            "DIABAN_OWNER_DATABASE_URL": cluster.owner_url(name),
        }
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "boundaries", "import", str(national_path), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert (summary["inserted"], summary["rejected"], summary["rejects"]) == (3321, 0, [])
        engine = create_engine(cluster.url(name), poolclass=NullPool)
        with engine.connect() as conn:
            per_province = dict(
                conn.execute(
                    text("SELECT province_code, count(*) FROM admin_units WHERE valid_to IS NULL GROUP BY 1")
                ).all()
            )
            assert len(per_province) == 34 and sum(per_province.values()) == 3321 and per_province[HAI_PHONG] == 114
            bac_son, truong_sa = (
                conn.execute(
                    text("SELECT kind FROM admin_units WHERE code = :c AND valid_to IS NULL"), {"c": code}
                ).scalar()
                for code in ("06325", "22736")
            )
            assert (bac_son, truong_sa) == ("xa", "dac_khu")  # "xã Bắc Sơn" came with kind "other"
            assert sole_province(conn) is None
            # The second province's units the other tests load from a small file are the national file's, unchanged.
            again = import_boundaries(conn, SECOND_PROVINCE_FILE)
            assert (again.unchanged, again.inserted, again.updated) == (SECOND_PROVINCE_UNITS, 0, 0)
        engine.dispose()
    finally:
        cluster.drop_database(name)


def test_only_a_nation_wide_planner_runs_the_years_classification_of_several_provinces(
    conn: Connection, second_province_path: Path
) -> None:
    provincial = AreaScope(province_code=HAI_PHONG)
    require_whole_country(conn, provincial, 2030)  # Hải Phòng alone: its planners classify it, as before
    import_boundaries(conn, second_province_path)
    with pytest.raises(PermissionDenied, match=f"{SECOND_PROVINCE_UNITS} đơn vị ngoài tỉnh"):
        require_whole_country(conn, provincial, 2030)
    require_whole_country(conn, AreaScope(), 2030)


def test_gistar_and_emerging_cover_one_province_when_several_are_loaded(conn: Connection, client) -> None:  # noqa: ANN001
    """Nationally one grid over the country would be 51 M cells at 250 m: the study area is one province, the
    user's, a team's, or the one under a nation-wide user's view."""
    assert study_province(conn, AreaScope(), None) is None  # one province: its whole extent, as before
    import_boundaries(conn, SECOND_PROVINCE_FILE)
    lon, lat = second_province_point(conn)
    there = (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    in_hai_phong = (106.66, 20.84, 106.70, 20.88)
    assert study_province(conn, AreaScope(), there) == SECOND_PROVINCE
    assert study_province(conn, AreaScope(), in_hai_phong) == HAI_PHONG
    assert study_province(conn, AreaScope(province_code=SECOND_PROVINCE), in_hai_phong) == SECOND_PROVINCE
    with pytest.raises(NoStudyProvince):
        study_province(conn, AreaScope(), None)
    second = city_cells(conn, 500.0, province=SECOND_PROVINCE)
    hai_phong = city_cells(conn, 500.0, province=HAI_PHONG)
    assert set(second.commune) == set(
        conn.execute(
            text("SELECT code FROM admin_units WHERE province_code = :p AND valid_to IS NULL"), {"p": SECOND_PROVINCE}
        ).scalars()
    )
    assert len(set(hai_phong.commune)) == 114 and not set(hai_phong.commune) & set(second.commune)
    for grid in (second.lattice.grid, hai_phong.lattice.grid):  # one cell is the same cell in every province
        assert grid.x0 % 500 == 0 and grid.y0 % 500 == 0
    # A nation-wide user's Gi* without a view cannot say which province: a clear 422, not a country-wide grid.
    refused = client.get("/api/gistar")
    assert refused.status_code == 422 and refused.json()["code"] == "no_study_province"
    assert "từng tỉnh" in refused.json()["detail"]

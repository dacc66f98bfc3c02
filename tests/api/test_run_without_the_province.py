"""A classification run made before a province's units were loaded holds none of them: a user of that province is told
so (404, «… không gồm đơn vị nào của …: chưa có kết quả phân loại») on the KPI report, the classification export,
the review the planner page shows and the map of the classes (the command page's layer, the planner's map), not a
run with a share «0/0» and every class 0 or an empty map; the national KPI report of a run of fewer units than the
database holds says how many it classified."""

from __future__ import annotations

from sqlalchemy import text

from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year
from models.vocabulary import local_today
from tests.conftest import SECOND_PROVINCE, SECOND_PROVINCE_FILE, TEST_PASSWORD

YEAR = 2020  # a past year: one to come is refused
REFUSAL = f"Phiên bản 1 của năm {YEAR} không gồm đơn vị nào của Tỉnh Quảng Ninh: chưa có kết quả phân loại"


def test_a_province_the_run_holds_no_unit_of_is_refused_and_the_nation_is_told_what_was_classified(
    client, conn, make_user, bearer
) -> None:
    conn.execute(text("DELETE FROM classification_runs WHERE year = :y"), {"y": YEAR})
    draft_year(conn, YEAR, actor="tham-muu")  # Hải Phòng's 114 units
    import_boundaries(conn, SECOND_PROVINCE_FILE)  # then three of Quảng Ninh's
    planner = bearer(make_user("qn-tham-muu", "planner", province_code=SECOND_PROVINCE))
    for path in (
        f"/api/reports/kpi?year={YEAR}",
        f"/api/classifications/{YEAR}/export?format=csv",
        f"/api/classifications/{YEAR}/review?draft=true",
        # The map of the classes (the command page's layer, the planner's map): an empty collection read as a
        # province with no class at all, where the KPI route beside it refused.
        f"/api/classifications/{YEAR}/map?simplify_m=20&current_geometry=false",
        f"/api/classifications/{YEAR}?draft=true&current_geometry=false",
    ):
        refused = client.get(path, headers=planner)
        assert refused.status_code == 404, (path, refused.status_code, refused.text[:300])
        assert refused.json()["message"] == REFUSAL, path

    nation = bearer(make_user("bo-tham-muu", "planner"))
    report = client.get(f"/api/reports/kpi?year={YEAR}", headers=nation)
    assert report.status_code == 200, report.text
    share = next(k for k in report.json()["kpis"] if k["key"] == "drug_free_share")
    assert "; kết quả phân loại chỉ gồm 114/117 đơn vị (3 đơn vị chưa được phân loại); lộ trình:" in share["note"], (
        share["note"]
    )
    hai_phong = bearer(make_user("hp-tham-muu", "planner", province_code="31"))  # the run holds its units: no note
    own = client.get(f"/api/reports/kpi?year={YEAR}", headers=hai_phong).json()
    assert "chưa được phân loại" not in next(k for k in own["kpis"] if k["key"] == "drug_free_share")["note"]


def test_the_command_page_of_a_province_the_run_holds_no_unit_of_opens_and_says_so(client, conn, make_user) -> None:
    """The command page's KPI panel reads the KPI report of this year's run: refused for the province, it refused the
    whole page. The page opens, its panel carrying the refusal's sentence in place of the drug-free share."""
    year = local_today().year
    conn.execute(text("DELETE FROM classification_runs WHERE year = :y"), {"y": year})
    draft_year(conn, year, actor="tham-muu")
    import_boundaries(conn, SECOND_PROVINCE_FILE)
    make_user("qn-chi-huy", "command", province_code=SECOND_PROVINCE)
    client.headers.pop("Authorization", None)
    page = client.post("/login", data={"username": "qn-chi-huy", "password": TEST_PASSWORD})
    assert page.status_code == 200, page.text[:500]
    said = f"Phiên bản 1 của năm {year} không gồm đơn vị nào của Tỉnh Quảng Ninh: chưa có kết quả phân loại"
    assert said in page.text

"""A classification run made before a province's units were loaded holds none of them: a user of that province is told
so (404, «… không gồm đơn vị nào của …: chưa có kết quả phân loại») on the KPI report, the classification export and
the review the planner page shows, not a run with a share «0/0» and every class 0; the national KPI report of a run of
fewer units than the database holds says how many it classified."""

from __future__ import annotations

from sqlalchemy import text

from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year
from tests.conftest import SECOND_PROVINCE, SECOND_PROVINCE_FILE

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
    ):
        refused = client.get(path, headers=planner)
        assert refused.status_code == 404, (path, refused.status_code, refused.text[:300])
        assert refused.json()["message"] == REFUSAL, path

    nation = bearer(make_user("bo-tham-muu", "planner"))
    report = client.get(f"/api/reports/kpi?year={YEAR}", headers=nation)
    assert report.status_code == 200, report.text
    share = next(k for k in report.json()["kpis"] if k["key"] == "drug_free_share")
    assert "; kết quả phân loại chỉ gồm 114/117 đơn vị (3 đơn vị chưa được phân loại)." in share["note"], share["note"]
    hai_phong = bearer(make_user("hp-tham-muu", "planner", province_code="31"))  # the run holds its units: no note
    own = client.get(f"/api/reports/kpi?year={YEAR}", headers=hai_phong).json()
    assert "chưa được phân loại" not in next(k for k in own["kpis"] if k["key"] == "drug_free_share")["note"]

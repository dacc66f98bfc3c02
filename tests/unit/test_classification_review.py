"""Pure parts of the planner workflow: indicator derivation with overrides, override rules, review order, KPIs."""

import numpy as np
import pandas as pd
import pytest

from gis.reference import load_rules, load_targets
from models.domain.classification import InvalidOverride, check_override, review_order
from models.domain.indicators import derive_indicators
from models.domain.kpi import compute_kpis


def test_overrides_win_and_trend_compares_previous_years() -> None:
    imported = pd.DataFrame(
        {
            "year": [2025, 2025],
            "commune_code": ["A", "B"],
            "population": [1000, 2000],
            "users_with_records": [5, 0],
            "plants_destroyed": [0, 0],
            "cultivation_m2": [0.0, 0.0],
            "on_drug_route": [False, True],
            "organizing_places": [np.nan, 7],
            "arrested_offenders": [np.nan, 1],
            "import_id": [3, 3],
        }
    )
    incidents = pd.DataFrame(
        {
            "year": [2023, 2024, 2025, 2025],
            "commune_code": ["A", "A", "A", "B"],
            "kind": ["tip", "tip", "trafficking", "drug_use"],
            "n": [2, 2, 6, 1],
            "arrested": [0, 0, 9, 1],
        }
    )
    hotspots = pd.DataFrame(
        {
            "year": [2025, 2025],
            "commune_code": ["A", "B"],
            "organizing_places": [1, 2],
            "active_hotspots": [2, 2],
            "recurrences": [0, 1],
        }
    )
    out = derive_indicators(["A", "B", "C"], [2023, 2024, 2025], imported, incidents, hotspots, load_rules().derived())
    a, b, c = (out[(out["year"] == 2025) & (out["commune_code"] == x)].iloc[0] for x in "ABC")
    assert (a["arrested_offenders"], a["organizing_places"], a["per_10k_trafficking"]) == (9, 1, 60)
    assert a["trend"] == "tăng" and a["trend_pct"] == 200
    assert (b["organizing_places"], b["arrested_offenders"]) == (7, 1)
    assert b["sources"]["organizing_places"] == "override: commune_indicators import #3"
    assert c["n_incidents"] == 0 and pd.isna(c["population"]) and c["trend"] == "không có vụ việc"
    assert c["sources"]["users_with_records"] == "chưa nhập số liệu (not imported)"


@pytest.mark.parametrize(
    "category, level, reason",
    [("trong_diem", None, "r"), ("at_risk", "I", "r"), ("drug_free", None, " "), ("unknown", None, "r")],
)
def test_invalid_overrides_are_refused(category: str, level: str | None, reason: str) -> None:
    with pytest.raises(InvalidOverride):
        check_override(category, level, reason)


def test_review_puts_disagreements_and_changes_first() -> None:
    results = pd.DataFrame(
        {
            "commune_code": ["A", "B", "C", "D"],
            "category": ["trong_diem", "at_risk", "drug_free", "at_risk"],
            "level": ["I", None, None, None],
            "legal_category": ["trong_diem", "at_risk", "drug_free", "at_risk"],
            "learned_category": ["trong_diem", "at_risk", "at_risk", "at_risk"],
            "leaving_drug_free": [False, False, False, False],
            "method": ["legal"] * 4,
            "incomplete": [False] * 4,
            "criteria": [[]] * 4,
        }
    )
    previous = pd.DataFrame(
        {
            "commune_code": ["A", "B", "D"],
            "category": ["trong_diem", "at_risk", "drug_free"],
            "level": ["II", None, None],
        }
    )
    order = review_order(results, previous)
    # A (level II → I), D (drug-free → at risk) changed, C disagrees; then by severity; B unflagged last.
    assert order["commune_code"].tolist() == ["A", "D", "C", "B"]
    assert order.set_index("commune_code").loc["C", "flags"][0].startswith("Phân loại theo tiêu chí và theo mô hình")


def test_kpi_targets_come_from_the_config_and_interpolate() -> None:
    targets = load_targets()
    assert targets.drug_free_target(2025) == pytest.approx(0.30)
    assert targets.drug_free_target(2026) == pytest.approx(0.375)
    assert targets.drug_free_target(2030) == pytest.approx(0.60) and targets.drug_free_target(2020) is None
    classes = pd.DataFrame({"category": ["drug_free"] * 3 + ["at_risk"] * 7, "level": [None] * 10})
    kpis = {
        k["key"]: k
        for k in compute_kpis(
            2025,
            classes,
            None,
            {"new": 0, "eradicated": 3, "eradicated_previous": 2, "recurred": 0, "open_now": 4},
            targets,
        )
    }
    assert kpis["drug_free_share"]["met"] is True and kpis["problem_growth"]["met"] is None
    assert kpis["eradicated_growth"]["value"] == 0.5 and kpis["eradicated_growth"]["met"] is True

"""Pure parts of the planner workflow: indicator derivation with overrides, override rules, review order, KPIs."""

import re

import numpy as np
import pandas as pd
import pytest

from gis.reference import load_national_targets, load_rules, load_targets
from models.domain.classification import FourEyesRefused, InvalidOverride, check_four_eyes, check_override, review_order
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
    [
        ("trong_diem", None, "Có tin báo mới"),
        ("at_risk", "I", "Có tin báo mới"),
        ("drug_free", None, " "),
        ("unknown", None, "Có tin báo mới"),
        ("at_risk", None, "ok"),  # a reason says what the class rests on: three words at least
        ("at_risk", None, "lý do"),
        ("at_risk", None, "x y 1 2 3"),
    ],
)
def test_invalid_overrides_are_refused(category: str, level: str | None, reason: str) -> None:
    with pytest.raises(InvalidOverride):
        check_override(category, level, reason)


def test_four_eyes_refuse_the_planner_who_ran_the_draft_or_overrode_in_it() -> None:
    """The runner chose the draft's indicator data and unit basis: approving their own draft, overridden by nobody,
    let one planner alone decide a year's trọng điểm communes. Refused, as an overrider is, in Vietnamese; another
    planner, who neither ran nor overrode it, may approve."""
    with pytest.raises(FourEyesRefused) as ran:
        check_four_eyes("tham.muu", "tham.muu", 0, None)
    assert ran.value.code == "four_eyes_required"
    assert ran.value.message == (
        "Nguyên tắc bốn mắt: tham.muu đã chạy phân loại tạo bản nháp này, nên không được tự phê duyệt;"
        " cần một cán bộ tham mưu khác xem xét và phê duyệt"
    )
    with pytest.raises(FourEyesRefused) as both:
        check_four_eyes("tham.muu", "tham.muu", 2, None)
    assert both.value.message.startswith(
        "Nguyên tắc bốn mắt: tham.muu đã chạy phân loại tạo bản nháp này và đã điều chỉnh kết quả của 2 xã"
    )
    with pytest.raises(FourEyesRefused) as overrode:
        check_four_eyes("tham.muu.2", "tham.muu", 1, None)
    assert "đã chạy" not in overrode.value.message
    assert check_four_eyes("tham.muu.2", "tham.muu", 0, None) is None


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
    assert order.set_index("commune_code").loc["C", "flags"][0] == "Kết quả khác nhóm mô hình gợi ý"
    # C overridden to the model's group: settled, no longer a disagreement (it was listed first all the same); the
    # model's «trọng điểm» agrees with A's loại I.
    settled = results.assign(
        category=["trong_diem", "at_risk", "at_risk", "at_risk"], method=["legal", "legal", "override", "legal"]
    )
    flagged = review_order(settled, None).set_index("commune_code")["disagreement"]
    assert not flagged.any(), flagged


NO_CONVERSION = {"selected": 0, "converted": 0, "stable": 0, "relapsed": 0, "watching": 0}
HOTSPOTS = {"new": 0, "eradicated": 0, "eradicated_previous": 0, "recurred": 0, "open_now": 0}


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
            NO_CONVERSION,
        )
    }
    assert kpis["drug_free_share"]["met"] is True and kpis["problem_growth"]["met"] is None
    # The year's target is one step of a path to 2030, said with it (the Excel file named 2025's 30 % alone).
    assert "lộ trình: tối thiểu 30% năm 2025, 45% năm 2027, 60% năm 2030" in kpis["drug_free_share"]["note"]
    assert kpis["eradicated_growth"]["value"] == 0.5 and kpis["eradicated_growth"]["met"] is True
    # Each target says how it binds (the Excel file showed «1%» where the page says «tối đa»); a line without, none.
    bounds = {key: kpi["bound"] for key, kpi in kpis.items() if kpi["bound"]}
    assert bounds == {
        "drug_free_share": "at_least",
        "problem_growth": "below",
        "eradicated_growth": "at_least",
        "recurrences": "at_most",
        "new_hotspots": "at_most",
        "conversion": "at_least",
        "conversion_stable": "at_least",
    }, bounds
    assert all(kpi["bound"] is None for kpi in kpis.values() if kpi["target"] is None and kpi["key"] not in bounds)


def test_the_problem_communes_add_up_from_the_lines_under_them() -> None:
    """Trọng điểm loại I, II, III and the communes with drug problems below that level make up the problem count."""
    categories = ["drug_free"] * 3 + ["trong_diem"] * 3 + ["at_risk"] * 4
    classes = pd.DataFrame({"category": categories, "level": [None] * 3 + ["I", "III", "III"] + [None] * 4})
    kpis = {k["key"]: k for k in compute_kpis(2025, classes, None, HOTSPOTS, load_targets(), NO_CONVERSION)}
    parts = [kpis[key]["value"] for key in ("trong_diem_I", "trong_diem_II", "trong_diem_III", "at_risk")]
    assert parts == [1, 0, 2, 4] and sum(parts) == kpis["problem_communes"]["value"] == 7
    assert kpis["at_risk"]["label_vi"] == "Có tệ nạn ma túy (chưa đến mức trọng điểm)"


@pytest.mark.parametrize("load", [load_targets, load_national_targets])
def test_what_the_kpi_report_prints_from_the_targets_files_is_vietnamese(load) -> None:
    """The labels and the note are printed in the planner's KPI workbook: no English gloss in brackets."""
    targets = load()
    for said in (targets.drug_free_note, *targets.labels_vi.values()):
        english = re.findall(r"\(([A-Za-z0-9 %+;,.'-]+)\)", said)
        assert not [words for words in english if len(re.findall(r"[A-Za-z]{2,}", words)) >= 2], said


def _classes(codes: list[str], problems: int, incomplete: int = 0) -> pd.DataFrame:
    """Final classes of ``codes``: the first ``problems`` at risk (the first ``incomplete`` of them with data
    missing), the others drug-free."""
    return pd.DataFrame(
        {
            "commune_code": codes,
            "category": ["at_risk"] * problems + ["drug_free"] * (len(codes) - problems),
            "level": [None] * len(codes),
            "incomplete": [i < incomplete for i in range(len(codes))],
        }
    )


def test_problem_growth_compares_only_the_same_units() -> None:
    """A year on the 217 old units against one on the 114 new ones: 150 → 80 problem communes is no fall of 47 %."""
    old = _classes([f"O{i}" for i in range(217)], 150)
    new = _classes([f"N{i}" for i in range(114)], 80, incomplete=5)
    kpis = {k["key"]: k for k in compute_kpis(2025, new, old, HOTSPOTS, load_targets(), NO_CONVERSION)}
    growth = kpis["problem_growth"]
    assert growth["value"] is None and growth["met"] is None, growth
    assert "217 → 114 đơn vị" in growth["note"]
    # At risk maybe only for want of data: the count says how many such units it holds.
    assert kpis["problem_communes"]["value"] == 80
    assert "5 đơn vị chưa đạt tiêu chí trọng điểm và thiếu dữ liệu" in kpis["problem_communes"]["note"]
    same = {
        k["key"]: k
        for k in compute_kpis(
            2025, new, _classes(list(new["commune_code"]), 79), HOTSPOTS, load_targets(), NO_CONVERSION
        )
    }
    assert same["problem_growth"]["value"] == round(1 / 79, 4) and same["problem_growth"]["met"] is False


def test_a_growth_from_nothing_says_why_it_has_no_value() -> None:
    """No problem commune and no spot eradicated the year before: the growths have no value, and their notes say it is
    for that, not for want of data (the report's blank reads «chưa đủ số liệu»)."""
    codes = [f"C{i}" for i in range(10)]
    hotspots = {**HOTSPOTS, "eradicated": 4, "eradicated_previous": 0}
    kpis = {
        k["key"]: k
        for k in compute_kpis(2025, _classes(codes, 3), _classes(codes, 0), hotspots, load_targets(), NO_CONVERSION)
    }
    for key, what in (("problem_growth", "địa bàn nào có tệ nạn ma túy"), ("eradicated_growth", "điểm, tụ điểm nào")):
        assert kpis[key]["value"] is None and kpis[key]["met"] is None
        assert kpis[key]["note"].startswith(f"năm trước không có {what}"), kpis[key]["note"]


def test_conversion_kpis_against_the_targets_file() -> None:
    targets = load_targets()
    assert (targets.min_converted_share, targets.min_stable_share, targets.watch_months) == (0.60, 0.85, 6)
    counts = {"selected": 5, "converted": 3, "stable": 2, "relapsed": 1, "watching": 0}
    kpis = {k["key"]: k for k in compute_kpis(2025, _classes(["A"], 0), None, HOTSPOTS, targets, counts)}
    assert (kpis["conversion"]["value"], kpis["conversion"]["met"]) == (0.6, True)  # exactly 60 % meets "≥ 60 %"
    assert (kpis["conversion_stable"]["value"], kpis["conversion_stable"]["met"]) == (round(2 / 3, 4), False)
    none = {k["key"]: k for k in compute_kpis(2025, _classes(["A"], 0), None, HOTSPOTS, targets, NO_CONVERSION)}
    assert none["conversion"]["value"] is None and none["conversion"]["met"] is None  # nothing selected: not 0 %
    assert "chưa có địa bàn nào được chọn" in none["conversion"]["note"]
    national = {
        k["key"]: k for k in compute_kpis(2030, _classes(["A"], 0), None, HOTSPOTS, load_national_targets(), counts)
    }
    assert national["conversion"]["target"] is None and national["conversion"]["met"] is None  # never invented


def test_the_command_lines_history_says_an_administrator_reset_the_approvers_password() -> None:
    """Whoever held the one-time password of an administrator's reset could have approved as that planner: `classify
    history` says the reset beside the approval, as the planner's «Lịch sử phiên bản» does."""
    from datetime import UTC, datetime

    from api.cli.classify import history_lines

    at = datetime(2026, 3, 12, 3, 0, tzinfo=UTC)  # 10:00 in Hải Phòng
    version = {
        "run_id": 3,
        "version": 1,
        "status": "approved",
        "supersedes_id": None,
        "created_by": "tham.muu",
        "created_at": at,
        "approved_by": "tham.muu.2",
        "approved_at": at,
        "approver_password_reset_by": "quan.tri",
        "approver_password_reset_at": at,
        "ended_by": None,
        "ended_at": None,
        "n_overrides": 0,
        "overrides": [],
        "replaced_overrides": [],
        "in_force_until": None,
    }
    assert history_lines(2026, [version])[1] == (
        "Phiên bản 1 (lần chạy #3) — Đã phê duyệt, đang áp dụng: chạy bởi tham.muu, 12/03/2026 10:00; phê duyệt bởi tham.muu.2,"
        " 12/03/2026 10:00; mật khẩu người duyệt do quản trị viên quan.tri cấp ngày 12/03/2026; 0 điều chỉnh"
    )


def test_the_command_lines_history_names_a_replaced_draft_and_a_replaced_override_in_vietnamese() -> None:
    """`diaban classify history` of a draft a new run replaced, holding an override a later one replaced: who replaced
    each and when, in the words of the planner's «Lịch sử phiên bản» (the draft read «thay bằng lần chạy mới bởi», the
    override «đã bị thay bởi», which did not say by what)."""
    from datetime import UTC, datetime

    from api.cli.classify import history_lines

    at = datetime(2026, 3, 12, 3, 0, tzinfo=UTC)  # 10:00 in Hải Phòng
    override = {
        "commune_code": "10507",
        "name": "Phường Hồng Bàng",
        "from_category": "at_risk",
        "from_level": None,
        "to_category": "trong_diem",
        "to_level": "III",
        "reason": "Có tụ điểm mới",
        "by": "tham.muu",
        "at": at,
    }
    version = {
        "run_id": 12,
        "version": 2,
        "status": "replaced",
        "supersedes_id": None,
        "created_by": "tham.muu",
        "created_at": at,
        "approved_by": None,
        "approved_at": None,
        "approver_password_reset_by": None,
        "approver_password_reset_at": None,
        "ended_by": "tham.muu.2",
        "ended_at": at,
        "n_overrides": 0,
        "overrides": [],
        "replaced_overrides": [{**override, "replaced_by": "tham.muu.2", "replaced_at": at}],
    }
    lines = history_lines(2025, [version])
    assert lines[1] == (
        "Phiên bản 2 (lần chạy #12) — Đã thay thế: chạy bởi tham.muu, 12/03/2026 10:00;"
        " thay bằng lần chạy mới của tham.muu.2, 12/03/2026 10:00; 0 điều chỉnh"
    ), lines
    assert lines[2].startswith(
        "  (đã bị thay bằng điều chỉnh sau của tham.muu.2, 12/03/2026 10:00) 10507 Phường Hồng Bàng:"
    )


def test_the_command_lines_review_says_an_administrator_gave_the_overriders_password() -> None:
    """`classify review` marks an override made with a password an administrator had just given its author, as the
    approval is marked: whoever held the one-time password could have made it as that planner."""
    from datetime import UTC, datetime

    from api.cli.classify import review_line

    at = datetime(2026, 3, 12, 3, 0, tzinfo=UTC)  # 10:00 in Hải Phòng
    row = {
        "commune_code": "10507",
        "name": "Phường Hồng Bàng",
        "category": "at_risk",
        "level": None,
        "incomplete": False,
        "data_status": None,
        "missing_criteria": [],
        "learned_category": "drug_free",
        "flags": ["Đã điều chỉnh thủ công"],
        "overrider_password_reset_by": "quan.tri",
        "overrider_password_reset_at": at,
    }
    assert review_line(row) == (
        "  10507 Phường Hồng Bàng: Có tệ nạn ma túy (mô hình: Không có tệ nạn ma túy) — Đã điều chỉnh thủ công;"
        " mật khẩu người điều chỉnh do quản trị viên quan.tri cấp ngày 12/03/2026"
    )
    assert review_line(row | {"overrider_password_reset_by": None}).endswith("— Đã điều chỉnh thủ công")
    # A commune nobody overrode, as a review's frame holds it (NaN, NaT): `classify review` failed, an internal error.
    nothing = {"overrider_password_reset_by": float("nan"), "overrider_password_reset_at": pd.NaT}
    assert review_line(row | nothing).endswith("— Đã điều chỉnh thủ công")

"""Tests of the QĐ 28/2025 legal classification driven by data/criteria/qd28-2025.toml."""

import copy
import re
import tomllib

import numpy as np
import pandas as pd
import pytest

import data
from gis.reference import load_rules
from models.domain.indicators import HOTSPOT_COLUMNS, TREND_LABELS_VI, derive_indicators, rolling_mean
from models.domain.legal_rules import (
    RulesConfigError,
    classify_legal,
    evaluate_criteria,
    parse_rules,
)
from tests.browser.vietnamese_text import foreign_words

RULES = load_rules()
BASE = {
    "population": 10_000,
    "users_with_records": 0,
    "organizing_places": 0,
    "arrested_offenders": 0,
    "plants_destroyed": 0,
    "cultivation_m2": 0,
    "on_drug_route": False,
    "drug_incidents": 0,
}


def table(*rows: dict) -> pd.DataFrame:
    """Indicator table with one commune per row, unspecified indicators at their drug-free value."""
    return pd.DataFrame([{"commune_code": f"C{i}", **BASE, **row} for i, row in enumerate(rows)])


def met_ids(indicators: pd.DataFrame, level: str) -> list[set[str]]:
    """Ids of the criteria of a level met by each commune, in input order."""
    long = evaluate_criteria(indicators, RULES)
    sub = long[(long["level"] == level) & long["met"]]
    return [set(sub.loc[sub["commune_code"] == code, "criterion_id"]) for code in indicators["commune_code"]]


def raw_doc() -> dict:
    """A fresh copy of the shipped criteria document, for mutation in validation tests."""
    with data.resource(data.CRITERIA).open("rb") as handle:
        return copy.deepcopy(tomllib.load(handle))


def test_shipped_rules_are_versioned_and_mark_unverified_values():
    assert RULES.version == "qd28-2025.2"
    assert RULES.effective_date.isoformat() == "2025-08-24"
    assert [lvl.name for lvl in RULES.levels] == ["I", "II", "III"]
    assert all(c.verified for c in RULES.level("I").criteria)
    for name in ("II", "III", "drug_free"):
        assert all(not c.verified and "confirm" in c.note for c in RULES.level(name).criteria)


@pytest.mark.parametrize("population", [1_000, 3_000, 7_000, 23_000, 123_000])
def test_rate_thresholds_are_at_least(population):
    users_at, arrests_at = population * 5 // 1000, population // 1000  # exactly 0.5 % and 0.1 %
    rows = table(
        {"population": population, "users_with_records": users_at},
        {"population": population, "users_with_records": users_at - 1},
        {"population": population, "arrested_offenders": arrests_at},
        {"population": population, "arrested_offenders": arrests_at - 1},
    )
    assert met_ids(rows, "I") == [{"I.a"}, set(), {"I.c"}, set()]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"users_with_records": 50}, {"I.a"}),
        ({"organizing_places": 2}, {"I.b"}),
        ({"organizing_places": 1}, set()),
        ({"arrested_offenders": 10}, {"I.c"}),
        ({"plants_destroyed": 3000}, {"I.d"}),
        ({"plants_destroyed": 2999}, set()),
        ({"cultivation_m2": 750}, {"I.d"}),
        ({"cultivation_m2": 749.5}, set()),
        ({"on_drug_route": True}, set()),
    ],
)
def test_each_loai_i_criterion_alone(row, expected):
    assert met_ids(table(row), "I") == [expected]


def test_two_loai_i_criteria_are_not_enough_three_are():
    rows = table(
        {"users_with_records": 50, "organizing_places": 2},
        {"users_with_records": 50, "organizing_places": 2, "arrested_offenders": 10},
        {"organizing_places": 2, "arrested_offenders": 10, "cultivation_m2": 800},
    )
    result = classify_legal(rows, RULES)
    assert result["level"].tolist()[1:] == ["I", "I"]
    assert result.loc[0, "level"] != "I"
    assert result["met_I"].tolist() == [2, 3, 3]


def test_route_rule_needs_route_and_two_other_loai_ii_criteria():
    two_ii = {"users_with_records": 30, "organizing_places": 1}  # 0.3 % and 1 place: loại II (a), (b)
    rows = table(
        {**two_ii, "on_drug_route": True},
        {**two_ii, "on_drug_route": False},
        {"organizing_places": 1, "on_drug_route": True},  # route itself is not counted
        {"on_drug_route": True},
    )
    assert ["I.dd" in ids for ids in met_ids(rows, "I")] == [True, False, False, False]
    result = classify_legal(rows, RULES)
    assert result["level"].tolist()[:2] == ["II", "III"]


def test_route_rule_completes_loai_i():
    rows = table({"users_with_records": 50, "organizing_places": 2, "on_drug_route": True})
    result = classify_legal(rows, RULES)
    assert (result.loc[0, "level"], result.loc[0, "met_I"]) == ("I", 3)
    assert (
        "(đ) nằm trên tuyến trọng điểm phức tạp về ma túy: có, đạt 2 tiêu chí loại II ≥ 2"
        in result.loc[0, "explanation"]
    )


def test_precedence_and_categories():
    rows = table(
        {"users_with_records": 62, "organizing_places": 2, "arrested_offenders": 12},  # I (also meets II)
        {"users_with_records": 30, "organizing_places": 1, "arrested_offenders": 5},  # II
        {"organizing_places": 1},  # III
        {},  # nothing at all
        {"drug_incidents": 1},  # an incident only
        {"users_with_records": 3},  # 0.03 %: below loại III, not drug-free
    )
    result = classify_legal(rows, RULES)
    assert result["category"].tolist() == ["trong_diem"] * 3 + ["drug_free", "at_risk", "at_risk"]
    assert result["level"].tolist()[:3] == ["I", "II", "III"]
    assert result["level"].iloc[3:].isna().all()
    assert result["category_label_vi"].tolist()[3:5] == ["Không có tệ nạn ma túy", "Có tệ nạn ma túy"]


def test_loai_i_explanation_lists_criteria_in_vietnamese_format():
    rows = table({"users_with_records": 62, "organizing_places": 2, "arrested_offenders": 12})
    text = classify_legal(rows, RULES).loc[0, "explanation"]
    assert text.startswith(
        "Trọng điểm loại I. Đạt 3/5 tiêu chí loại I (cần 3): (a) 0,62 % ≥ 0,5 %; (b) 2 điểm ≥ 2 điểm; (c) 0,12 % ≥ 0,1 %"
    )


def test_at_risk_explanation_names_failed_drug_free_conditions():
    text = classify_legal(table({"plants_destroyed": 0, "drug_incidents": 2}), RULES).loc[0, "explanation"]
    assert text.startswith("Có tệ nạn ma túy.")
    assert "(5) 2 vụ (cần = 0 vụ)" in text


def test_long_format_carries_value_threshold_op():
    long = evaluate_criteria(table({"users_with_records": 62}), RULES)
    row = long.set_index("criterion_id").loc["I.a"]
    assert (row["value"], row["threshold"], row["op"], row["met"], row["missing"]) == (
        pytest.approx(0.62),
        0.5,
        ">=",
        True,
        False,
    )
    assert long.set_index("criterion_id").loc["I.d", "op"] == "AnyOf"
    # What each criterion asks, in the rules' words: its figure alone («0,62 % ≥ 0,5 %») did not say of what.
    assert row["label"] == RULES.level("I").criteria[0].label_vi
    assert row["label"].startswith("Tỷ lệ người nghiện") and long["label"].map(bool).all()


def test_missing_population_is_not_met_and_flagged():
    rows = table(
        {"population": np.nan, "users_with_records": 80, "arrested_offenders": 20, "organizing_places": 2},
        {"population": np.nan},
        {"population": 0, "users_with_records": 5},
    )
    long = evaluate_criteria(rows, RULES).set_index(["commune_code", "criterion_id"])
    assert not long.loc[("C0", "I.a"), "met"] and long.loc[("C0", "I.a"), "missing"]
    assert not long.loc[("C1", "I.a"), "missing"]  # zero users is a zero rate whatever the population
    result = classify_legal(rows, RULES)
    first = result.loc[0]
    assert first["level"] == "III" and first["possible_level"] == "I" and first["incomplete"]
    assert "Thiếu dữ liệu, coi như không đạt: loại I (a), loại I (c)" in first["explanation"]
    assert "Có thể đạt loại I" in first["explanation"]
    # All its counts 0 but its population blank: unknown data, never drug-free (it was), and said so.
    assert result.loc[1, "category"] == "at_risk" and result.loc[1, "incomplete"]
    assert result.loc[1, "explanation"].endswith("Thiếu dân số thực tế cư trú: chưa thể xác định không ma túy.")
    assert not isinstance(result.loc[1, "possible_level"], str)  # no level within reach
    assert result.loc[2, "incomplete"] and result.loc[2, "category"] == "at_risk"


def test_missing_route_flag_is_flagged():
    rows = table({"users_with_records": 50, "organizing_places": 2, "on_drug_route": None})
    rows["on_drug_route"] = rows["on_drug_route"].astype(object)
    result = classify_legal(rows, RULES)
    assert result.loc[0, "possible_level"] == "I"
    assert "loại I (đ)" in result.loc[0, "explanation"]


def test_unknown_inputs_are_never_drug_free():
    # Blank cells of the indicator table stay unknown; every other input is at its drug-free value.
    rows = table(
        {"users_with_records": np.nan},
        {"plants_destroyed": np.nan, "cultivation_m2": np.nan},
        {"on_drug_route": None},
        {"organizing_places": np.nan},
        {},
    )
    rows["on_drug_route"] = rows["on_drug_route"].astype(object)
    result = classify_legal(rows, RULES)
    assert list(result["category"]) == ["at_risk"] * 4 + ["drug_free"]
    assert list(result["incomplete"]) == [True] * 4 + [False]
    for explanation in result["explanation"][:4]:
        assert "Thiếu dữ liệu" in explanation and "chưa thể xác định không ma túy" in explanation


def clean_table(years: int | list[int], codes: list[str]) -> pd.DataFrame:
    """An indicator table as imported: 10,000 residents, nobody with records, nothing grown, off the routes."""
    return pd.DataFrame(
        {
            "year": years,
            "commune_code": codes,
            "population": 10_000,
            "users_with_records": 0,
            "plants_destroyed": 0,
            "cultivation_m2": 0.0,
            "on_drug_route": False,
            "organizing_places": np.nan,
            "arrested_offenders": np.nan,
            "import_id": 1,
        }
    )


def test_ten_drug_use_cases_do_not_meet_criterion_c_and_a_tip_does_not_block_drug_free():
    imported = clean_table(2025, ["U", "D", "T"])
    incidents = pd.DataFrame(
        {
            "year": 2025,
            "commune_code": ["U", "D", "T"],
            "kind": ["drug_use", "trafficking", "tip"],
            "n": [10, 10, 1],
            "arrested": [10, 10, 0],
        }
    )
    hotspots = pd.DataFrame(columns=list(HOTSPOT_COLUMNS))
    frame = derive_indicators(["U", "D", "T"], [2025], imported, incidents, hotspots, RULES.derived())
    assert frame["arrested_offenders"].tolist() == [0, 10, 0] and frame["drug_incidents"].tolist() == [10, 10, 0]
    long = evaluate_criteria(frame, RULES).set_index(["commune_code", "criterion_id"])
    assert not long.loc[("U", "I.c"), "met"] and long.loc[("D", "I.c"), "met"]
    assert classify_legal(frame, RULES)["category"].tolist() == ["at_risk", "trong_diem", "drug_free"]


def test_people_arrested_left_blank_leave_criterion_c_unknown_not_unmet():
    """12 trafficking cases whose people arrested were not recorded (NULL) counted as 0 arrested: criterion (c) read as
    unmet and the commune, meeting (a) and (b), was a settled loại III; its count is unknown now, and so is (c) — the
    class is said incomplete, loại I possible. A tip without the figure does not matter to (c)."""
    imported = clean_table(2025, ["B", "K"]).assign(population=10_000.0, users_with_records=50.0, organizing_places=2.0)
    incidents = pd.DataFrame(
        {
            "year": 2025,
            "commune_code": ["B", "K", "K"],
            "kind": ["trafficking", "trafficking", "tip"],
            "n": [12, 12, 1],
            "arrested": [np.nan, 12.0, np.nan],
        }
    )
    hotspots = pd.DataFrame(columns=list(HOTSPOT_COLUMNS))
    frame = derive_indicators(["B", "K"], [2025], imported, incidents, hotspots, RULES.derived())
    assert np.isnan(frame["arrested_offenders"].iloc[0]) and frame["arrested_offenders"].iloc[1] == 12
    classes = classify_legal(frame, RULES).set_index("commune_code")
    assert bool(classes.loc["B", "incomplete"]) and classes.loc["B", "possible_level"] == "I"
    assert classes.loc["K", "level"] == "I" and not bool(classes.loc["K", "incomplete"])


def test_a_year_without_police_data_is_unknown_not_zero():
    """Two provinces, incidents loaded for 2025 in P1 only: P2's communes and P1's 2024 have their counts unknown (were
    0, so that an indicator table alone read a commune drug-free), P1's 2025 commune without incident a true 0."""
    imported = clean_table([2024, 2024, 2025, 2025, 2025], ["A", "B", "A", "B", "C"])
    incidents = pd.DataFrame({"year": [2025], "commune_code": ["A"], "kind": ["tip"], "n": [1], "arrested": [0]})
    hotspots = pd.DataFrame(columns=list(HOTSPOT_COLUMNS))
    provinces = {"A": "P1", "B": "P1", "C": "P2"}
    frame = derive_indicators(["A", "B", "C"], [2024, 2025], imported, incidents, hotspots, RULES.derived(), provinces)
    rows = frame.set_index(["commune_code", "year"])
    assert rows.loc[("B", 2025), "drug_incidents"] == 0 and rows.loc[("B", 2025), "n_incidents"] == 0
    for unknown in (("A", 2024), ("B", 2024), ("C", 2025)):
        assert np.isnan(rows.loc[unknown, "drug_incidents"]) and np.isnan(rows.loc[unknown, "n_incidents"])
        assert np.isnan(rows.loc[unknown, "organizing_places"])
        # The year's own figures are missing, not the years before it (read «chưa đủ số liệu các năm trước» for 2024
        # with 2024 itself unloaded).
        assert rows.loc[unknown, "trend"] == TREND_LABELS_VI["no_data"] == "chưa có số liệu vụ việc của năm"
        assert "no incident of the year loaded" in rows.loc[unknown, "sources"]["n_incidents"]
    for known in (("A", 2025), ("B", 2025)):  # a year with figures whose year before has none
        assert rows.loc[known, "trend"] == TREND_LABELS_VI["unknown"] == "chưa đủ số liệu các năm trước"
    classes = classify_legal(frame[frame["year"] == 2025], RULES).set_index("commune_code")["category"]
    assert classes["B"] == "drug_free" and classes["C"] != "drug_free"


def test_derived_indicators_name_known_kinds():
    arrests = RULES.indicators["arrested_offenders"].derived
    assert arrests is not None and arrests.sum == "arrested" and "drug_use" not in arrests.kinds
    assert "cultivation" in arrests.to_confirm and "tip" in RULES.indicators["drug_incidents"].derived.to_confirm
    doc = raw_doc()
    doc["indicators"]["arrested_offenders"]["derived"]["kinds"].append("shoplifting")
    with pytest.raises(RulesConfigError, match="derived.kinds must list incident kinds"):
        parse_rules(doc)
    doc = raw_doc()
    doc["indicators"]["drug_incidents"]["derived"]["sum"] = "quantity"
    with pytest.raises(RulesConfigError, match="sum = incidents | arrested"):
        parse_rules(doc)


def test_input_table_validation():
    with pytest.raises(ValueError, match="lacks columns required by rules qd28-2025.2: drug_incidents"):
        classify_legal(table({}).drop(columns="drug_incidents"), RULES)
    with pytest.raises(ValueError, match="several rows"):
        classify_legal(pd.concat([table({}), table({})]), RULES)


def _criterion(doc: dict, level: int, index: int) -> dict:
    """The criterion table at a position of the raw document."""
    return doc["levels"][level]["criteria"][index]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: _criterion(d, 0, 0)["indicator"].update(numerator="userz"),
            r"criterion 'I.a': unknown column 'userz' \(declared indicators: population",
        ),
        (
            lambda d: _criterion(d, 0, 1)["indicator"].update(op="=>"),
            r"criterion 'I.b': unsupported op '=>' \(allowed: >=, >, <=, <, ==, !=\)",
        ),
        (
            lambda d: _criterion(d, 0, 1)["indicator"].update(threshold="2"),
            r"criterion 'I.b': threshold must be a number or boolean",
        ),
        (
            lambda d: _criterion(d, 0, 1)["indicator"].update(treshold=2),
            r"criterion 'I.b': unexpected keys \['treshold'\]",
        ),
        (
            lambda d: _criterion(d, 0, 1).update(indicator={"col": "x"}),
            r"criterion 'I.b': indicator needs one of column",
        ),
        (
            lambda d: _criterion(d, 0, 3)["indicator"].update(any_of=[]),
            r"criterion 'I.d': 'any_of' must be the only key",
        ),
        (
            lambda d: _criterion(d, 0, 4)["indicator"]["all_of"][1].update(count_met="IV"),
            r"criterion 'I.dd': count_met names unknown level 'IV'",
        ),
        (
            lambda d: _criterion(d, 0, 4)["indicator"]["all_of"][1].update(exclude=["I.a"]),
            r"criterion 'I.dd': exclude lists \['I.a'\]",
        ),
        (
            lambda d: _criterion(d, 1, 4).update(indicator={"count_met": "I", "at_least": 1}),
            r"circular count_met references",
        ),
        (lambda d: _criterion(d, 1, 0).update(id="I.a"), r"duplicate criterion ids: I.a"),
        (lambda d: d["levels"][0].update(min_met=6), r"level 'I': min_met must be an integer in 1..5"),
        (lambda d: d.pop("version"), r"criteria file lacks 'version'"),
        (lambda d: d.update(effective_date="24/8/2025"), r"effective_date must be a TOML date"),
        (lambda d: d["indicators"]["drug_incidents"]["derived"].update(sum="quantity"), r"sum = incidents \| arrested"),
        (lambda d: d["levels"][0].update(criteria=[]), r"level 'I' has no criteria"),
        # The first level reached is the class: listed III first, a commune meeting loại I's criteria was loại III.
        (lambda d: d["levels"].reverse(), r"levels must run from the most severe \(I, II, III\), got III, II, I"),
    ],
)
def test_config_validation_errors(mutate, message):
    """Each fault is named in Vietnamese (what start-up and the command line print: ``message``), the keys and values
    of the file quoted «…»; the English detail is the ``reason``, for the log."""
    doc = raw_doc()
    mutate(doc)
    with pytest.raises(RulesConfigError, match=message) as raised:
        parse_rules(doc)
    shown = raised.value.message
    assert shown.startswith("tệp tiêu chí pháp lý không dùng được: ") and raised.value.reason, shown
    assert not foreign_words(re.sub(r"«[^»]*»", " ", shown)), shown


@pytest.mark.parametrize(
    ("row", "criterion", "shown"),
    [
        # 50 / 10,009 = 0.49955 %: three decimals read "0,5 %", which looks like the threshold it misses.
        ({"population": 10_009, "users_with_records": 50}, "I.a", "0,4996 % (cần ≥ 0,5 %)"),
        ({"population": 10_000, "users_with_records": 50}, "I.a", "0,5 % ≥ 0,5 %"),
        ({"population": 10_001, "arrested_offenders": 10}, "I.c", "0,09999 % (cần ≥ 0,1 %)"),
        ({"cultivation_m2": 749.9996}, "I.d", "749,9996 m² (cần ≥ 750 m²)"),
        ({"cultivation_m2": 0.0004}, "free.cultivation", "0,0004 m² (cần = 0 m²)"),
        ({"population": 30_000, "users_with_records": 100}, "I.a", "0,333 % (cần ≥ 0,5 %)"),
    ],
)
def test_a_figure_is_never_shown_rounded_onto_the_other_side_of_its_threshold(row, criterion, shown):
    long = evaluate_criteria(table(row), RULES)
    assert shown in long.loc[long["criterion_id"] == criterion, "detail"].item()


def test_a_criteria_table_given_classifies_as_the_one_evaluated() -> None:
    """The yearly draft evaluates the criteria once and gives them to classify_legal: the same classes, levels and
    explanations as classify_legal evaluating them itself, for communes of every category and with missing data."""
    rows = table(
        {"users_with_records": 60, "organizing_places": 2, "plants_destroyed": 1},
        {"users_with_records": 30},
        {},
        {"users_with_records": np.nan, "population": np.nan},
    )
    given = classify_legal(rows, RULES, evaluate_criteria(rows, RULES))
    pd.testing.assert_frame_equal(given, classify_legal(rows, RULES))
    assert set(given["category"]) == {"trong_diem", "at_risk", "drug_free"}
    # A table of other figures is what is read: the classes follow the criteria given, and of the indicators only
    # whether each commune's population is known (a commune whose population is blank is never drug-free).
    other = evaluate_criteria(table({}, {}, {}, {}), RULES)
    assert classify_legal(rows, RULES, other)["category"].tolist() == ["drug_free"] * 3 + ["at_risk"]


def test_the_trend_is_the_mean_of_the_known_earlier_years_per_commune() -> None:
    """rolling_mean (pandas' grouped rolling) against the per-commune function it replaced, communes not in order,
    years without data (NaN) among them."""
    index = pd.MultiIndex.from_product([["C9", "C1", "C5"], range(2020, 2026)], names=["commune_code", "year"])
    counts = pd.Series([3, np.nan, 4, 0, 2, 7, np.nan, np.nan, 1, 1, 0, 5, 0, 0, 0, 2, np.nan, 9.0], index=index)
    shifted = counts.groupby(level="commune_code").shift(1)
    expected = counts.groupby(level="commune_code").transform(lambda s: s.shift(1).rolling(3, min_periods=1).mean())
    pd.testing.assert_series_equal(rolling_mean(shifted, 3), expected, check_names=False)
    assert rolling_mean(shifted, 3).loc[("C9", 2025)] == (0 + 2 + 4) / 3  # 2022-2024
    assert np.isnan(rolling_mean(shifted, 3).loc[("C1", 2021)])  # 2020 unknown: no mean

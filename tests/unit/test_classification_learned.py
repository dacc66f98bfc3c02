"""Tests of the advisory mixture classification and next-year risk forecast on obvious synthetic data."""

import numpy as np
import pandas as pd
import pytest

from models.forecast.learned import (
    ACTIVITY_COLUMNS,
    classify_learned,
    forecast_risk,
    risk_baselines,
)


def indicators(groups: dict[str, tuple[int, dict]]) -> pd.DataFrame:
    """Indicator table: per group a number of communes sharing (jittered) activity counts."""
    rng = np.random.default_rng(1)
    rows = []
    for name, (n, counts) in groups.items():
        for i in range(n):
            jitter = {k: max(v + (rng.integers(0, 3) if v else 0), 0) for k, v in counts.items()}
            rows.append(
                {"commune_code": f"{name}{i}", "population": 10_000, **dict.fromkeys(ACTIVITY_COLUMNS, 0), **jitter}
            )
    return pd.DataFrame(rows)


def test_mixture_orders_components_by_severity():
    table = indicators(
        {
            "free": (20, {}),
            "mild": (20, {"users_with_records": 8, "n_incidents": 3}),
            "key": (
                10,
                {"users_with_records": 80, "arrested_offenders": 15, "organizing_places": 3, "n_incidents": 25},
            ),
        }
    )
    result = classify_learned(table).set_index("commune_code")
    assert set(result.loc[[f"free{i}" for i in range(20)], "learned_category"]) == {"drug_free"}
    assert set(result.loc[[f"mild{i}" for i in range(20)], "learned_category"]) == {"at_risk"}
    assert set(result.loc[[f"key{i}" for i in range(10)], "learned_category"]) == {"trong_diem"}
    assert set(result["method"]) == {"gmm"} and "confidence" not in result


def test_mixture_is_reproducible():
    table = indicators({"free": (10, {}), "mild": (10, {"n_incidents": 4}), "key": (5, {"users_with_records": 90})})
    pd.testing.assert_frame_equal(classify_learned(table), classify_learned(table))


def test_degenerate_inputs_fall_back_and_unknown_population_is_skipped():
    table = indicators({"free": (3, {}), "busy": (2, {"n_incidents": 5})})
    table.loc[table["commune_code"].str.startswith("busy"), "n_incidents"] = 5
    table.loc[0, "population"] = np.nan
    result = classify_learned(table).set_index("commune_code")
    assert pd.isna(result.loc["free0", "learned_category"])
    assert result.loc[["free1", "free2", "busy0", "busy1"], "learned_category"].tolist() == [
        "drug_free",
        "drug_free",
        "at_risk",
        "at_risk",
    ]
    assert result.loc[["free1", "busy0"], "method"].tolist() == ["fallback", "fallback"]


def history() -> pd.DataFrame:
    """Six years: persistent, never-active, relapsing (clean some years) and clean-only-last-year communes."""
    years = range(2019, 2025)
    patterns = {
        "persist": [1, 1, 1, 1, 1, 1],
        "never": [0, 0, 0, 0, 0, 0],
        "relapse": [1, 0, 1, 1, 0, 1],
        "justclean": [1, 1, 1, 1, 1, 0],
    }
    rows = [
        {
            "commune_code": f"{name}{i}",
            "year": year,
            **dict.fromkeys(ACTIVITY_COLUMNS, 0),
            "n_incidents": 6 * flag,
            "users_with_records": 9 * flag,
        }
        for name, flags in patterns.items()
        for i in range(8)
        for year, flag in zip(years, flags)
    ]
    return pd.DataFrame(rows)


def test_forecast_flags_drug_free_communes_likely_to_relapse():
    result = forecast_risk(history()).set_index("commune_code")
    group = result.index.str.rstrip("0123456789")
    p = result["p_active"].groupby(group).mean()
    assert (result["forecast_year"] == 2025).all()
    assert p["persist"] > 0.8 and p["never"] < 0.2
    assert p["justclean"] > 0.5
    assert result.loc[group == "justclean", "leaving_drug_free"].all()
    assert not result.loc[group == "never", "leaving_drug_free"].any()
    # The last-year baseline cannot see it: it says the just-clean communes stay clean.
    assert not result.loc[group == "justclean", "baseline_last_year_active"].any()


def test_baselines_and_single_outcome_history():
    base = risk_baselines(history())
    assert base.loc["relapse0", "baseline_long_term_active_rate"] == pytest.approx(4 / 6)
    assert base.loc["persist0", "last_year_incidents"] == 6
    assert base.loc["relapse0", "mean_incidents"] == pytest.approx(4)
    quiet = history().assign(n_incidents=0, users_with_records=0)
    assert (forecast_risk(quiet)["p_active"] == 0).all()


def test_missing_figures_stay_missing_in_the_forecast():
    """A blank figure is not 0: a commune whose year has a blank count gets no forecast (and no flag), and a
    commune-year with blanks does not teach the model that the commune was clean (it had been counted as 0)."""
    past = history()
    blank = past["commune_code"].eq("never0") & past["year"].eq(2024)
    past.loc[blank, "users_with_records"] = np.nan
    result = forecast_risk(past).set_index("commune_code")
    assert np.isnan(result.loc["never0", "p_active"]) and not result.loc["never0", "leaving_drug_free"]
    assert pd.isna(result.loc["never0", "baseline_last_year_active"])
    assert result.drop(index="never0")["p_active"].notna().all()
    # Blanks in every relapsing commune's clean years: those years leave the training instead of counting as clean.
    gaps = history()
    relapse_clean = gaps["commune_code"].str.startswith("relapse") & gaps["year"].isin([2020, 2023])
    gaps.loc[relapse_clean, ["n_incidents", "users_with_records"]] = np.nan
    as_zero = gaps.fillna(0.0)
    assert not np.allclose(forecast_risk(gaps)["p_active"], forecast_risk(as_zero)["p_active"], equal_nan=True)


def test_a_count_not_collected_in_a_year_adds_nothing_to_it():
    """Police incidents counted from 2022 on only: the earlier years' activity is that of the indicator figures (as
    before), not unknown for every commune — which had left the whole city without a forecast."""
    past = history()
    past.loc[past["year"] < 2022, "n_incidents"] = np.nan
    result = forecast_risk(past)
    assert result["p_active"].notna().all()
    assert np.allclose(result["p_active"], forecast_risk(past.fillna(0.0))["p_active"])

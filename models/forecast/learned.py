"""Advisory, data-driven views beside the legal classification: mixture clusters and next-year risk.

Neither result is a legal class: the legal one comes from ``models.domain.legal_rules``. These
help planners spot communes whose indicators look unlike their legal class, and communes now
drug-free that are likely to lose that status next year. Naive baselines are always reported beside
the model, since simple baselines are hard to beat on such data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.domain.indicators import rolling_mean
from models.lazy import lazy_module
from models.vocabulary import Category

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: Yearly counts of drug activity per commune; all zero means no drug activity in the year.
ACTIVITY_COLUMNS = (
    "users_with_records",
    "organizing_places",
    "arrested_offenders",
    "plants_destroyed",
    "cultivation_m2",
    "n_incidents",
)
#: Counts turned into rates per 1,000 residents before clustering.
RATE_COLUMNS = ("users_with_records", "arrested_offenders")
CLUSTER_LABELS = (Category.DRUG_FREE, Category.AT_RISK, Category.TRONG_DIEM)
RANDOM_STATE = 0
#: The forecast probability from which a commune without drug activity this year is flagged ``leaving_drug_free``.
LEAVING_THRESHOLD = 0.5
#: What the next-year forecast (:func:`forecast_risk`: ``risk_next_year``, ``leaving_drug_free`` of a run) means, in
#: the planner's words, as the planner page's note says it beside the table (the export's headers say it shortly).
FORECAST_NOTE = (
    "Dự báo năm sau là xác suất xã, phường có hoạt động ma túy được ghi nhận trong năm sau (người sử dụng trái phép"
    " chất ma túy có hồ sơ, điểm tổ chức sử dụng, người phạm tội bị bắt, cây có chứa chất ma túy bị phá, vụ việc về"
    " ma túy), do mô hình hồi quy logistic ước lượng từ số liệu các năm trước của mọi xã (mức hoạt động năm nay,"
    " trung bình 3 năm, xu hướng, số năm liền không có hoạt động). «Có nguy cơ mất trạng thái không ma túy»: năm nay xã"
    f" không ghi nhận hoạt động ma túy nào nhưng xác suất từ {LEAVING_THRESHOLD * 100:.0f}% trở lên. Đây là dự báo để tham"
    " khảo khi lập kế hoạch, không phải loại theo QĐ 28/2025/QĐ-TTg và không thay đổi kết quả phân loại. Năm"
    " nào của xã thiếu số liệu thì mô hình không học từ năm đó (số liệu trống không được tính là 0); «chưa có dự"
    " báo»: số liệu năm nay của xã chưa đủ, hoặc chưa có số liệu các năm trước để mô hình học."
)


def cluster_features(indicators: pd.DataFrame) -> pd.DataFrame:
    """log1p of rates per 1,000 residents and of counts, indexed by commune (NaN if population unknown)."""
    frame = indicators.set_index("commune_code")
    population = frame["population"].astype(float).where(frame["population"] > 0)
    rates = {f"{c}_per_1000": frame[c].astype(float) * 1000 / population for c in RATE_COLUMNS}
    counts = {c: frame[c].astype(float) for c in ACTIVITY_COLUMNS if c not in RATE_COLUMNS}
    return np.log1p(pd.DataFrame({**rates, **counts}))


def classify_learned(indicators: pd.DataFrame, random_state: int = RANDOM_STATE) -> pd.DataFrame:
    """Cluster communes into drug_free < at_risk < trong_diem by a severity-ordered Gaussian mixture."""
    # Severity of a component = mean of its scaled feature means. Communes with unknown population get no
    # cluster. With fewer distinct rows than components the mixture is not identifiable: all-zero rows become
    # 'drug_free', others 'at_risk'. No confidence is given: a mixture posterior is not the probability of a
    # legal class (the planner page had shown "100 %" on all 114 communes while disagreeing with 77).
    from sklearn.mixture import (
        GaussianMixture,  # here: scikit-learn adds ~170 MB to every server process that imports it
    )
    from sklearn.preprocessing import StandardScaler

    features = cluster_features(indicators)
    complete = features.dropna()
    result = pd.DataFrame(index=features.index, columns=["learned_category", "method"], dtype=object)
    if complete.empty:
        return result.reset_index()
    scaled = StandardScaler().fit_transform(complete)
    if len(np.unique(scaled, axis=0)) < len(CLUSTER_LABELS):
        zero = complete.eq(0).all(axis=1)
        result.loc[complete.index, "learned_category"] = np.where(zero, "drug_free", "at_risk")
        result.loc[complete.index, "method"] = "fallback"
        return result.reset_index()
    mixture = GaussianMixture(len(CLUSTER_LABELS), covariance_type="diag", n_init=3, random_state=random_state)
    posterior = mixture.fit(scaled).predict_proba(scaled)
    rank = np.argsort(np.argsort(mixture.means_.mean(axis=1)))  # component -> severity rank
    result.loc[complete.index, "learned_category"] = np.asarray(CLUSTER_LABELS)[rank[posterior.argmax(axis=1)]]
    result.loc[complete.index, "method"] = "gmm"
    return result.reset_index()


def _yearly_panel(history: pd.DataFrame) -> pd.DataFrame:
    """Complete commune × year panel of activity counts. A commune's blank figure, or its year missing, stays missing
    (NaN), never 0: ``active`` is 1 when a known count is above 0, 0 when every count is known and 0, missing
    otherwise. A count no commune has in a year that has others (police incidents before their records begin) was
    not collected that year: the year's activity is that of the counts collected (it adds nothing to them)."""
    years = range(int(history["year"].min()), int(history["year"].max()) + 1)
    grid = pd.MultiIndex.from_product([history["commune_code"].unique(), years], names=["commune_code", "year"])
    panel = history.set_index(["commune_code", "year"])[list(ACTIVITY_COLUMNS)].astype(float).reindex(grid)
    collected = panel.notna().groupby(level="year").transform("any")
    not_collected = ~collected & collected.any(axis=1).to_numpy()[:, None]
    panel = panel.mask(not_collected, 0.0)
    counts = panel[list(ACTIVITY_COLUMNS)]
    known_zero = counts.notna().all(axis=1)
    panel["active"] = np.where(counts.gt(0).any(axis=1), 1.0, np.where(known_zero, 0.0, np.nan))
    return panel


def _lagged_features(panel: pd.DataFrame) -> pd.DataFrame:
    """Features known at the end of each year: level, 3-year mean, trend and clean streak; missing where the year's
    figures are (such a commune-year neither trains the model nor gets a forecast)."""
    counts = panel[list(ACTIVITY_COLUMNS)]
    level = np.log1p(counts.sum(axis=1, min_count=len(ACTIVITY_COLUMNS))).rename("level")
    by_commune = level.groupby(level="commune_code")
    active = panel["active"]
    streak_id = active.groupby(level="commune_code").cumsum()  # a clean streak shares the count of the last active year
    clean_streak = (1 - active).groupby([active.index.get_level_values("commune_code"), streak_id.to_numpy()]).cumsum()
    # No year two back (the history's first two years): no trend, 0; a year two back without figures: unknown.
    first_years = panel.index.get_level_values("year") < panel.index.get_level_values("year").min() + 2
    return pd.DataFrame(
        {
            "active": active,
            "level": level,
            "incidents": np.log1p(panel["n_incidents"]),
            "mean_3y": rolling_mean(level, 3),
            "trend": (level - by_commune.shift(2)).where(~first_years, 0.0) / 2,
            "ever_active": active.groupby(level="commune_code").cummax(),
            "clean_years": clean_streak.clip(upper=5),
        }
    )


def risk_baselines(history: pd.DataFrame) -> pd.DataFrame:
    """Naive forecasts per commune: last year's status and counts, and long-term means."""
    panel = _yearly_panel(history)
    last_year = panel.index.get_level_values("year").max()
    grouped = panel.groupby(level="commune_code")
    last = panel.xs(last_year, level="year")
    return pd.DataFrame(
        {
            "baseline_last_year_active": last["active"].astype("boolean"),
            "last_year_incidents": last["n_incidents"],
            "baseline_long_term_active_rate": grouped["active"].mean(),
            "mean_incidents": grouped["n_incidents"].mean(),
        }
    ).rename_axis("commune_code")


def forecast_risk(history: pd.DataFrame, threshold: float = LEAVING_THRESHOLD) -> pd.DataFrame:
    """Probability that each commune has drug activity next year, flagging drug-free communes at risk; missing (NaN,
    not flagged) for a commune whose figures of the year are incomplete."""
    # history: one row per commune and year with commune_code, year and the ACTIVITY_COLUMNS counts.
    # A logistic regression learns "active next year" from the lagged features of every earlier year;
    # if the history holds a single outcome, that outcome's rate is the forecast.
    panel = _yearly_panel(history)
    features = _lagged_features(panel)
    last_year = panel.index.get_level_values("year").max()
    target = panel["active"].groupby(level="commune_code").shift(-1)
    train = features.index.get_level_values("year") < last_year
    known = train & features.notna().all(axis=1) & target.notna()  # a year or its next without figures: left out
    x_train, y_train = features[known], target[known]
    current = features.xs(last_year, level="year")
    forecastable = current.notna().all(axis=1).to_numpy()
    probability = np.full(len(current), np.nan)
    if y_train.nunique() < 2:
        probability[forecastable] = y_train.mean() if len(y_train) else np.nan
    elif forecastable.any():
        from sklearn.linear_model import LogisticRegression  # here, as in classify_learned
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression(random_state=RANDOM_STATE))
        model.fit(x_train, y_train.astype(int))
        probability[forecastable] = model.predict_proba(current[forecastable])[:, 1]
    drug_free_now = current["active"].eq(0)
    result = pd.DataFrame(
        {
            "forecast_year": last_year + 1,
            "p_active": probability,
            "drug_free_now": drug_free_now,
            "leaving_drug_free": drug_free_now & (probability >= threshold),
        },
        index=current.index,
    )
    return result.join(risk_baselines(history)).reset_index()

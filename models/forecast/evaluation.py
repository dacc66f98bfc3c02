"""Held-out-year evaluation of next-year commune forecasts on SYNTHETIC scenarios, beside naive baselines.

For each seed a scenario is generated over the given communes; for every held-out year t (from the
third year on) each method scores communes from the years before t only, and the scores are judged
on year t's incidents with hit rate, PAI and PEI at 1 / 5 / 10 % of the area (models.forecast.metrics).
Methods: the learned density forecast and the learned risk probability, and the baselines last
year's class, last year's counts, long-term counts, time-decayed counts and a KDE of last year's
incidents. Only what a deployment has enters: the recorded incidents, the imported yearly figures and
the hotspots clustering would detect — never the generator's planted hotspots. The patrollable-grid
evaluation with the SEPP model is models.forecast.grid_evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.ndimage import gaussian_filter

from models.analytics.background import background_threshold
from models.analytics.clusters import summarise_clusters
from models.analytics.dbscan import dbscan
from models.domain.classification import SEVERITY
from models.domain.indicators import derive_indicators
from models.domain.legal_rules import LegalRules, classify_legal
from models.forecast.density import forecast_density
from models.forecast.learned import forecast_risk
from models.forecast.metrics import DEFAULT_COVERAGES, forecast_scores
from models.numbers import vn_number, vn_percent
from models.synthetic.scenario import WORK_CRS, ScenarioConfig, generate_scenario
from models.vocabulary import LOCAL_TZ, HotspotKind

MODEL = "learned: density (Poisson)"
BASELINES = ("last year's class", "last year's counts", "long-term counts", "time-decayed counts", "KDE (last year)")
METHODS = (MODEL, "learned: risk probability", *BASELINES)
#: Each method by its Vietnamese name, as the command line prints the tables and verdicts.
METHOD_LABELS = {
    MODEL: "Mô hình học: mật độ (Poisson)",
    "learned: risk probability": "Mô hình học: xác suất rủi ro",
    BASELINES[0]: "Phân loại năm trước",
    BASELINES[1]: "Số vụ năm trước",
    BASELINES[2]: "Số vụ dài hạn",
    BASELINES[3]: "Số vụ giảm dần theo thời gian",
    BASELINES[4]: "Mật độ KDE (năm trước)",
}
#: How to read the measures, in plain words, printed before the tables (``diaban classify evaluate``): a planner
#: quoting «PAI@5 % 10,90» to a superior must be able to say what it is.
GLOSSARY = (
    "Cách đọc: «tỷ lệ trúng@5 %» là phần vụ việc của kỳ kiểm tra nằm trong 5 % diện tích được dự báo cao nhất;"
    " «PAI» là tỷ lệ trúng chia cho phần diện tích đó (1 = không hơn chọn ngẫu nhiên, càng cao càng tốt: PAI 10 là vùng"
    " chiếm 5 % diện tích chứa 50 % số vụ); «PEI» là PAI so với PAI cao nhất có thể trên cùng diện tích"
    " (1 = tốt nhất có thể)."
)
KDE_CELL_M, KDE_BANDWIDTH_M = 250.0, 750.0
#: Clustering radius of the hotspots a deployment would detect (as `diaban hotspots detect`).
EPS_M = 100.0
#: Mean age (years) of the weights of the time-decayed counts.
DECAY_YEARS = 1.0


def scenario_panel(
    communes: gpd.GeoDataFrame, config: ScenarioConfig, rules: LegalRules
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Derived indicators per commune-year of a synthetic scenario, and its incidents with x, y, year, commune."""
    scenario = generate_scenario(communes, config)
    projected = communes.to_crs(WORK_CRS).reset_index(drop=True)
    inc = scenario.incidents
    points = gpd.GeoDataFrame(inc, geometry=gpd.points_from_xy(inc["lon"], inc["lat"]), crs=4326).to_crs(WORK_CRS)
    tree = shapely.STRtree(projected.geometry.to_numpy())
    which, owner = tree.query(points.geometry.to_numpy(), predicate="within")
    commune = np.full(len(points), -1)
    commune[which] = owner
    located = pd.DataFrame(
        {
            "x": points.geometry.x.to_numpy(),
            "y": points.geometry.y.to_numpy(),
            "year": inc["occurred_at"].dt.tz_convert(LOCAL_TZ).dt.year.to_numpy(),
            "commune_code": projected["code"].astype(str).to_numpy()[commune],
            "kind": inc["kind"].to_numpy(),
            "arrested": inc["arrested"].to_numpy(),
        }
    )[commune >= 0]
    incidents = located.groupby(["year", "commune_code", "kind"], as_index=False).agg(
        n=("x", "size"), arrested=("arrested", "sum")
    )
    years = sorted(scenario.indicators["year"].unique())
    panel = derive_indicators(
        projected["code"].astype(str),
        years,
        scenario.indicators.assign(import_id=np.nan),
        incidents,
        detected_activity(located, years),
        rules.derived(),
    )
    return panel, located


def detected_activity(located: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Hotspots a deployment would have found per commune-year: DBSCAN clusters of each year's incidents
    (100 m, min_samples from the background), organising places by the kind rule; no recurrence without a
    register history. Never the generator's planted hotspots."""
    rows = []
    for year in years:
        inc = located[located["year"] == year]
        if inc.empty:
            continue
        x, y = inc["x"].to_numpy(), inc["y"].to_numpy()
        labels = dbscan(x, y, EPS_M, background_threshold(x, y, EPS_M).min_samples)
        if labels.max() < 0:
            continue
        clusters = summarise_clusters(x, y, labels, kinds=inc["kind"].to_numpy())
        member = labels >= 0
        commune = pd.Series(inc["commune_code"].to_numpy()[member]).groupby(labels[member]).agg(lambda c: c.mode()[0])
        rows.append(
            pd.DataFrame(
                {
                    "year": year,
                    "commune_code": commune.reindex(clusters["cluster"]).to_numpy(),
                    "organizing_places": clusters["hotspot_kind"]
                    .eq(HotspotKind.ORGANIZING_PLACE)
                    .astype(int)
                    .to_numpy(),
                    "active_hotspots": 1,
                    "recurrences": 0,
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=["year", "commune_code", "organizing_places", "active_hotspots", "recurrences"])
    return pd.concat(rows).groupby(["year", "commune_code"], as_index=False).sum()


def kde_scores(located: pd.DataFrame, communes: gpd.GeoDataFrame) -> pd.Series:
    """Mean Gaussian KDE intensity of the given incidents over each commune (grid of KDE_CELL_M cells)."""
    projected = communes.to_crs(WORK_CRS).reset_index(drop=True)
    x0, y0, x1, y1 = projected.total_bounds
    nx, ny = int((x1 - x0) // KDE_CELL_M) + 1, int((y1 - y0) // KDE_CELL_M) + 1
    ix = np.clip(((located["x"] - x0) // KDE_CELL_M).astype(int), 0, nx - 1)
    iy = np.clip(((located["y"] - y0) // KDE_CELL_M).astype(int), 0, ny - 1)
    grid = np.bincount(iy * nx + ix, minlength=nx * ny).reshape(ny, nx).astype(float)
    density = gaussian_filter(grid, KDE_BANDWIDTH_M / KDE_CELL_M, mode="constant")
    cy, cx = np.mgrid[0:ny, 0:nx]
    centres = shapely.points(x0 + (cx.ravel() + 0.5) * KDE_CELL_M, y0 + (cy.ravel() + 0.5) * KDE_CELL_M)
    tree = shapely.STRtree(projected.geometry.to_numpy())
    cell, owner = tree.query(centres, predicate="within")
    means = pd.Series(density.ravel()[cell]).groupby(owner).mean()
    # Communes smaller than a cell take the value of the cell under their representative point.
    rep = shapely.point_on_surface(projected.geometry.to_numpy())
    rx = np.clip(((shapely.get_x(rep) - x0) // KDE_CELL_M).astype(int), 0, nx - 1)
    ry = np.clip(((shapely.get_y(rep) - y0) // KDE_CELL_M).astype(int), 0, ny - 1)
    fallback = pd.Series(density[ry, rx])
    return means.reindex(fallback.index).fillna(fallback).set_axis(projected["code"].astype(str))


def held_out_scores(
    panel: pd.DataFrame, located: pd.DataFrame, communes: gpd.GeoDataFrame, year: int, rules: LegalRules
) -> dict[str, pd.Series]:
    """Each method's score per commune for ``year``, from the years before it only."""
    history = panel[panel["year"] < year]
    area = communes.set_index(communes["code"].astype(str))["area_km2"].astype(float)
    last = history[history["year"] == year - 1].set_index("commune_code")
    legal = classify_legal(last.reset_index(), rules).set_index("commune_code")
    by_year = history.pivot(index="commune_code", columns="year", values="n_incidents")
    return {
        MODEL: forecast_density(history, area),
        "learned: risk probability": forecast_risk(history).set_index("commune_code")["p_active"],
        "last year's class": pd.Series(
            [SEVERITY[(c, lv if c == "trong_diem" else None)] for c, lv in zip(legal["category"], legal["level"])],
            index=legal.index,
        ),
        "last year's counts": last["n_incidents"] / area.reindex(last.index),
        "long-term counts": by_year.mean(axis=1) / area.reindex(by_year.index),
        "time-decayed counts": (by_year * np.exp(-(year - 1 - by_year.columns.to_numpy()) / DECAY_YEARS)).sum(axis=1)
        / area.reindex(by_year.index),
        "KDE (last year)": kde_scores(located[located["year"] == year - 1], communes),
    }


def evaluate_forecasts(
    communes: gpd.GeoDataFrame,
    seeds: Sequence[int],
    rules: LegalRules,
    *,
    years: int = 5,
    n_incidents: int = 30_000,
    coverages: tuple[float, ...] = DEFAULT_COVERAGES,
) -> pd.DataFrame:
    """Mean hit rate, PAI and PEI per method and coverage over seeds and held-out years (long table)."""
    # communes: code, kind, geometry (+ area_km2, computed in the metric CRS when absent).
    communes = (
        communes.assign(area_km2=communes.to_crs(WORK_CRS).area / 1e6) if "area_km2" not in communes else communes
    )
    codes = communes["code"].astype(str)
    area = communes["area_km2"].astype(float).to_numpy()
    rows = []
    for seed in seeds:
        config = ScenarioConfig(seed=seed, years=years, n_incidents=n_incidents, end=date(2025, 12, 31))
        panel, located = scenario_panel(communes, config, rules)
        observed = panel.pivot(index="commune_code", columns="year", values="n_incidents")
        for year in sorted(panel["year"].unique())[2:]:
            counts = observed[year].reindex(codes).to_numpy()
            for method, score in held_out_scores(panel, located, communes, year, rules).items():
                metrics = forecast_scores(score.reindex(codes).fillna(0).to_numpy(), counts, area, coverages)
                rows.append(metrics.assign(method=method, seed=seed, year=year))
    return pd.concat(rows, ignore_index=True)


def summary_table(long: pd.DataFrame) -> pd.DataFrame:
    """Methods × (hit rate, PAI, PEI at each coverage), averaged over seeds and held-out years."""
    mean = long.groupby(["method", "coverage"])[["hit_rate", "pai", "pei"]].mean().unstack("coverage")
    mean.columns = [f"{metric}@{coverage:.0%}" for metric, coverage in mean.columns]
    return mean.reindex([m for m in METHODS if m in mean.index])


def verdict(table: pd.DataFrame, coverage: float = 0.05) -> str:
    """Whether the learned model's mean PAI at ``coverage`` is above every baseline's, with its margin over each (the
    paired intervals, printed after, say whether it is ahead for sure), in Vietnamese
    (the command line's words and numbers: «1,60 (+9,30; +581,2 %)», a semicolon where the decimal comma is)."""
    column = f"pai@{coverage:.0%}"
    model = table.loc[MODEL, column]
    baselines = table.loc[list(BASELINES), column]
    margins = "; ".join(
        f"{METHOD_LABELS[name]} {vn_number(value, fixed=True)} ({vn_number(model - value, fixed=True, sign=True)};"
        f" {vn_percent(model / value - 1, sign=True)})"
        for name, value in baselines.items()
    )
    beaten = bool((model > baselines).all())
    at = f"ở mức {vn_percent(coverage, 0)}"
    # Ahead on the means is not ahead for sure: said as means, the intervals (printed next) judge. «vượt mọi mô hình
    # chuẩn» had stood above a leaderboard with no interval above 0 at the same coverage.
    head = (
        f"có PAI trung bình cao hơn mọi mô hình chuẩn {at}" if beaten else f"KHÔNG vượt mọi mô hình chuẩn theo PAI {at}"
    )
    best = baselines.idxmax()
    if beaten:
        shortfall = " Trung bình cao hơn chưa chắc hơn thật: xem khoảng tin cậy bên dưới."
    elif baselines.max() == model:  # a tie is no loss: «Thua … 0,00 (+0,0 %)» read as one
        shortfall = f" Ngang {METHOD_LABELS[best]} ({vn_number(model, fixed=True)})."
    else:
        shortfall = (
            f" Thua {METHOD_LABELS[best]} {vn_number(baselines.max() - model, fixed=True)} "
            f"({vn_percent(model / baselines.max() - 1, sign=True)})."
        )
    return f"{METHOD_LABELS[MODEL]} {head}: {vn_number(model, fixed=True)} so với {margins}.{shortfall}"

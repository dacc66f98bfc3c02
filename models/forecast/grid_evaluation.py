"""Held-out evaluation of short-horizon forecasts on a patrollable grid, on SYNTHETIC scenarios.

The city's land is cut into CELL_M cells (a patrol's beat); for every held-out period of the last
year of each scenario, each method scores every cell from the incidents before the period only, and
the scores are judged on the period's incidents with hit rate, PAI and PEI at 1 / 5 / 10 % of the
land (models.forecast.metrics; ties split pro rata). Every method sees only what a deployment has:
the recorded incidents (with their geocoding noise), never the generator's planted hotspots.

Methods: the grid SEPP (models.forecast.sepp) and the baselines last period's counts, long-term
counts, time-decayed counts, a KDE of the last quarter and prospective hotspotting (Bowers et al.:
events of the last 8 weeks within 400 m, weights 1/(1+d)·1/(1+t), d in cells, t in weeks).
Paired differences model − baseline come with bootstrap intervals over seeds × periods
(models.forecast.intervals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.ndimage import convolve, gaussian_filter

from models.analytics.grid import GridSpec
from models.analytics.lattice import Lattice, cells_in_polygons
from models.forecast.metrics import DEFAULT_COVERAGES, forecast_scores
from models.forecast.sepp import fit_sepp, forecast_sepp
from models.synthetic.scenario import WORK_CRS, ScenarioConfig, generate_scenario

CELL_M = 200.0
HORIZON_WEEKS = 4
HELD_OUT_WEEKS = 52
MODEL = "SEPP: grid ETAS (recency + near-repeat)"
BASELINES = (
    "last period's counts",
    "long-term counts",
    "time-decayed counts",
    "KDE (last 13 weeks)",
    "prospective hotspotting",
)
METHODS = (MODEL, *BASELINES)
#: Each method by its Vietnamese name, as the command line prints the leaderboard.
METHOD_LABELS = {
    MODEL: "SEPP: ETAS theo lưới (gần đây + lặp lại gần)",
    BASELINES[0]: "Số vụ kỳ trước",
    BASELINES[1]: "Số vụ dài hạn",
    BASELINES[2]: "Số vụ giảm dần theo thời gian",
    BASELINES[3]: "Mật độ KDE (13 tuần gần nhất)",
    BASELINES[4]: "Điểm nóng tiên liệu theo vụ gần",
}
#: Mean age (weeks) of the exponential weights of the time-decayed counts.
DECAY_WEEKS = 8.0
KDE_WEEKS, KDE_SIGMA_M = 13, 200.0
PH_WEEKS, PH_RADIUS_M = 8, 400.0


@dataclass(frozen=True)
class GridData:
    """A scenario's land cells and its incidents as (week, cell position) pairs."""

    lattice: Lattice
    week: np.ndarray
    cell: np.ndarray
    weeks: int


def scenario_grid(communes: gpd.GeoDataFrame, config: ScenarioConfig, cell_m: float = CELL_M) -> GridData:
    """Generate a scenario and lay its incidents on the land cells of a grid anchored on the communes."""
    scenario = generate_scenario(communes, config)
    projected = communes.to_crs(WORK_CRS)
    xmin, ymin, xmax, ymax = projected.total_bounds
    x0, y0 = np.floor(xmin / cell_m) * cell_m, np.floor(ymin / cell_m) * cell_m
    grid = GridSpec.from_bounds(x0, y0, xmax, ymax, cell_m)
    lattice, _ = cells_in_polygons(grid, projected.geometry.to_numpy(), projected["code"].to_numpy())
    inc = scenario.incidents
    x, y = Transformer.from_crs(4326, WORK_CRS, always_xy=True).transform(inc["lon"].to_numpy(), inc["lat"].to_numpy())
    day = (inc["occurred_at"].dt.tz_localize(None) - pd.Timestamp(config.begin)).dt.days.to_numpy()
    position = lattice.position(grid.flat_index(x, y))
    land = position >= 0  # points recorded at sea (geocoding noise) are not on any patrollable cell
    return GridData(lattice, (day[land] // 7).astype(np.int64), position[land], int(day.max() // 7 + 1))


def _on_grid(data: GridData, values: np.ndarray) -> np.ndarray:
    """Per-cell values as a (ny, nx) array (0 off the land)."""
    return data.lattice.to_grid(values, 0.0)


def _off_grid(data: GridData, surface: np.ndarray) -> np.ndarray:
    """A (ny, nx) surface read back at the land cells."""
    return surface.ravel()[data.lattice.cells]


def _counts(data: GridData, first: int, stop: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Events (or summed weights) per cell in weeks first..stop−1."""
    inside = (data.week >= first) & (data.week < stop)
    w = None if weights is None else weights[inside]
    return np.bincount(data.cell[inside], weights=w, minlength=data.lattice.n).astype(float)


def prospective_hotspotting(data: GridData, origin: int) -> np.ndarray:
    """Σ 1/(1+d)·1/(1+t) over the events of the PH_WEEKS weeks before ``origin`` within PH_RADIUS_M."""
    reach = int(PH_RADIUS_M // data.lattice.grid.cell)
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    d = np.hypot(dx, dy)
    kernel = np.where(d <= reach + 1e-9, 1 / (1 + d), 0.0)
    score = np.zeros(data.lattice.grid.shape)
    for age in range(PH_WEEKS):
        week = origin - 1 - age
        recent = _counts(data, week, week + 1)
        if recent.any():
            score += convolve(_on_grid(data, recent), kernel, mode="constant") / (1 + age)
    return _off_grid(data, score)


def baseline_scores(data: GridData, origin: int, horizon: int) -> dict[str, np.ndarray]:
    """Each baseline's score per land cell from the weeks before ``origin``."""
    ages = origin - data.week - 0.5
    kde = gaussian_filter(
        _on_grid(data, _counts(data, origin - KDE_WEEKS, origin)), KDE_SIGMA_M / data.lattice.grid.cell
    )
    return {
        "last period's counts": _counts(data, origin - horizon, origin),
        "long-term counts": _counts(data, 0, origin),
        "time-decayed counts": _counts(data, 0, origin, np.exp(-np.maximum(ages, 0) / DECAY_WEEKS)),
        "KDE (last 13 weeks)": _off_grid(data, kde),
        "prospective hotspotting": prospective_hotspotting(data, origin),
    }


def active_cells(data: GridData) -> tuple[Lattice, np.ndarray]:
    """The cells within one cell of any incident (the only ones the SEPP can score above 0), as a sub-lattice,
    and their positions among the land cells."""
    grid = data.lattice.grid
    seen = _on_grid(data, np.bincount(data.cell, minlength=data.lattice.n).astype(float)) > 0
    ring = convolve(seen.astype(float), np.ones((3, 3)), mode="constant") > 0
    sub = Lattice.from_mask(grid, ring & (_on_grid(data, np.ones(data.lattice.n)) > 0))
    return sub, data.lattice.position(sub.cells)


def evaluate_seed(
    data: GridData,
    horizon: int = HORIZON_WEEKS,
    held_out: int = HELD_OUT_WEEKS,
    coverages: tuple[float, ...] = DEFAULT_COVERAGES,
) -> pd.DataFrame:
    """Metrics of every method for each held-out period of one scenario (long table: method, period, coverage)."""
    sub, where = active_cells(data)
    local = np.full(data.lattice.n, -1)
    local[where] = np.arange(where.size)
    weekly = np.zeros((data.weeks, sub.n))
    np.add.at(weekly, (data.week, local[data.cell]), 1.0)
    origins = range(data.weeks - held_out, data.weeks - horizon + 1, horizon)
    model = fit_sepp(weekly[: origins[0]], sub)  # refitted once a year, like a deployment would
    areas = np.ones(data.lattice.n)
    rows = []
    for period, origin in enumerate(origins):
        observed = _counts(data, origin, origin + horizon)
        sepp = np.zeros(data.lattice.n)
        sepp[where] = forecast_sepp(model, weekly[:origin], sub, horizon)
        for method, score in {MODEL: sepp, **baseline_scores(data, origin, horizon)}.items():
            rows.append(forecast_scores(score, observed, areas, coverages).assign(method=method, period=period))
    out = pd.concat(rows, ignore_index=True)
    return out.assign(omega=model.omega, theta_self=model.theta_self, theta_near=model.theta_near)


def evaluate_grid(
    communes: gpd.GeoDataFrame,
    seeds: Sequence[int],
    *,
    years: int = 3,
    n_incidents: int = 30_000,
    horizon: int = HORIZON_WEEKS,
    coverages: tuple[float, ...] = DEFAULT_COVERAGES,
) -> pd.DataFrame:
    """Long table of metrics per seed, held-out period, method and coverage on realistic synthetic scenarios."""
    tables = []
    for seed in seeds:
        config = ScenarioConfig.realistic(seed=seed, years=years, n_incidents=n_incidents, end=date(2025, 12, 31))
        tables.append(evaluate_seed(scenario_grid(communes, config), horizon, coverages=coverages).assign(seed=seed))
    return pd.concat(tables, ignore_index=True)

"""SYNTHETIC drug-incident scenarios over the real communes, for demos, tests and benchmarks.

A seeded generator: background incidents weighted by a synthetic population, plus planted spots and
dens with known start, eradication and recurrence dates, over several years and any size from 1,000
to 10 million incidents. Outputs: incidents in the import contract, the ground truth of planted
hotspots and a synthetic yearly indicator table. All of it is invented and labelled "synthetic".

Timeline of a hotspot (local dates, UTC+07:00): incidents from ``start``; if eradicated, none from
``eradicated_at`` until ``recurred_at`` (or ever again); "quiet" hotspots stop without eradication at
least 90 days before the final window. The final window is the last ``active_window_days`` days up to
and including ``end``; ``active_at_end`` means the hotspot has incidents in that window, and every
active hotspot gets at least ``min_window_incidents`` there, so density-based detection can find it.
Truth and indicator tables carry an extra ``source`` column ("synthetic") so they cannot pass as real.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import Transformer

from models.lazy import lazy_module
from models.synthetic.attributes import BACKGROUND, DEN, SPOT, draw_details, draw_kinds
from models.synthetic.population import CommuneProfile, build_indicators, build_profile
from models.synthetic.sampling import (
    gaussian_in_polygons,
    spaced_centres,
    uniform_in_polygons,
)
from models.vocabulary import LOCAL_TZ, IncidentKind

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
else:
    pd = lazy_module("pandas")

WORK_CRS = "EPSG:32648"
KINDS = IncidentKind.values()
SOURCE = "synthetic"
INCIDENT_COLUMNS = ("ref", "occurred_at", "lon", "lat", "kind", "substance", "quantity_g", "arrested", "source")

#: Relative frequency of each local hour of the day (evening peak).
HOUR_WEIGHTS = np.array([3, 2, 1.5, 1, 1, 1, 1.5, 2, 3, 3.5, 4, 4, 4, 4, 4, 4.5, 5, 6, 7, 8, 8, 7, 6, 4.5])
#: Mild yearly seasonality of background incidents, peaking around Tết (day of year 35).
SEASONAL_AMPLITUDE, SEASONAL_PEAK_DOY = 0.15, 35

# Hotspot timeline rules (days).
MIN_ACTIVE_DAYS = 56  # a hotspot lives at least 8 weeks before eradication or going quiet
QUIET_MARGIN_DAYS = 90  # quiet hotspots stop at least this long before the final window
RECUR_GAP_DAYS = (90, 365)  # recurrence 3-12 months after eradication
RECUR_BEFORE_END_DAYS = 30  # recurrences start at least a month before the end
MIN_HISTORY_INCIDENTS = 4  # incidents of each hotspot outside the final window, at least
LATEST_START_DAYS = 180  # hotspots start at least this long before the end (and 90 days before the window)
CENTRE_INSET_M = 150.0  # hotspot centres lie this far inside their commune where possible


@dataclass(frozen=True)
class ScenarioConfig:
    """Parameters of one synthetic scenario; the same config and communes give identical outputs.

    Impossible values are refused with a ``ValueError`` naming each one.

    Attributes
    ----------
    seed : int
        Seed of the random generator (>= 0).
    years : int
        Calendar years of incidents, ending on ``end``.
    n_incidents : int
        Incidents to generate, 1,000 to 10,000,000.
    end : date
        Last day of the scenario (local date).
    share_in_hotspots : float
        Share of the incidents (before self-excitation) that belong to planted hotspots, in (0, 1).
    n_hotspots : int, optional
        Planted hotspots; by default one per 1,000 incidents, clipped to 10..2,000.
    den_share : float
        Share of the planted hotspots that are dens (the others are spots).
    eradicated_share, quiet_share : float
        Shares of the planted hotspots eradicated before the final window, and stopping without eradication at
        least 90 days before it (their sum at most 1).
    recurring_share : float
        Share of the eradicated hotspots that recur.
    active_window_days : int
        Length of the final window (7..120 days) that defines ``active_at_end``.
    min_window_incidents : int
        Incidents every hotspot active at the end has at least in the final window.
    radius_m : (float, float)
        Range of a hotspot's radius in metres (drawn uniformly; its incidents scatter with σ = radius / 2).
    min_spacing_m : float
        Least distance between two planted hotspot centres.
    drug_free_share : float
        Expected share of commune-years with no drug activity.
    route_share : float
        Share of the communes (among those with drug activity) on a drug route.
    cultivation_share : float
        Share of the rural communes with drug activity that cultivate.
    self_excitation, excitation_days, excitation_m : float
        Self-excitation (a Hawkes process): each incident has Poisson(``self_excitation``) direct offspring, a mean
        ``excitation_days`` later and a Gaussian ``excitation_m`` away (repeat and near-repeat victimisation,
        retaliation, a market drawing buyers for a while); offspring are then ``self_excitation`` of all incidents.
    displacement_share, displacement_m : float, (float, float)
        Displacement: this share of the eradicated, non-recurring hotspots opens again 2–8 weeks after its
        eradication, in the same commune, ``displacement_m`` metres away (drawn uniformly).
    geocode_noise_m, centroid_share : float
        Geocoding noise: Gaussian jitter (σ in metres) of the recorded point, and the share of incidents recorded
        at their commune's centre.
    """

    seed: int = 0
    years: int = 3
    n_incidents: int = 30_000
    end: date = date(2026, 10, 31)
    share_in_hotspots: float = 0.4
    n_hotspots: int | None = None
    den_share: float = 0.35
    eradicated_share: float = 0.3
    recurring_share: float = 1 / 3
    quiet_share: float = 0.15
    active_window_days: int = 90
    min_window_incidents: int = 12
    radius_m: tuple[float, float] = (40.0, 120.0)
    min_spacing_m: float = 400.0
    drug_free_share: float = 0.32
    route_share: float = 0.10
    cultivation_share: float = 0.08
    self_excitation: float = 0.0
    excitation_days: float = 10.0
    excitation_m: float = 75.0
    displacement_share: float = 0.0
    displacement_m: tuple[float, float] = (300.0, 800.0)
    geocode_noise_m: float = 0.0
    centroid_share: float = 0.0

    @classmethod
    def realistic(cls, **overrides: object) -> ScenarioConfig:
        """A scenario with self-excitation, displacement and geocoding noise (forecast evaluations)."""
        defaults: dict[str, object] = {
            "self_excitation": 0.3,
            "displacement_share": 0.5,
            "geocode_noise_m": 25.0,
            "centroid_share": 0.02,
        }
        return cls(**{**defaults, **overrides})  # type: ignore[arg-type]

    @property
    def hotspot_count(self) -> int:
        """The number of planted hotspots (filled in by __post_init__ when not given)."""
        assert self.n_hotspots is not None
        return self.n_hotspots

    def __post_init__(self) -> None:
        """Fill the default hotspot count and reject impossible parameters early."""
        if self.n_hotspots is None:
            object.__setattr__(self, "n_hotspots", int(np.clip(self.n_incidents // 1_000, 10, 2_000)))
        problems = [
            (self.seed < 0, "seed must be >= 0"),
            (not 1_000 <= self.n_incidents <= 10_000_000, "n_incidents must be 1,000..10,000,000"),
            (self.years < 1, "years must be >= 1"),
            (not 0 < self.share_in_hotspots < 1, "share_in_hotspots must be in (0, 1)"),
            (self.hotspot_count < 1, "n_hotspots must be >= 1"),
            (self.eradicated_share + self.quiet_share > 1, "eradicated_share + quiet_share must be <= 1"),
            (not 7 <= self.active_window_days <= 120, "active_window_days must be 7..120"),
            (not 0 < self.radius_m[0] <= self.radius_m[1], "radius_m must be (low, high) with 0 < low <= high"),
            (not 0 <= self.self_excitation < 0.9, "self_excitation must be in [0, 0.9)"),
            (not 0 <= self.displacement_share <= 1, "displacement_share must be in [0, 1]"),
            (not 0 <= self.centroid_share < 1 or self.geocode_noise_m < 0, "geocoding noise out of range"),
        ]
        errors = [message for failed, message in problems if failed]
        if errors:
            raise ValueError("; ".join(errors))

    @property
    def begin(self) -> date:
        """First day of the scenario: `years` calendar years before `end`, exclusive."""
        return (pd.Timestamp(self.end) - pd.DateOffset(years=self.years)).date() + timedelta(days=1)

    @property
    def window_start(self) -> date:
        """First day of the final window used to define `active_at_end`."""
        return self.end - timedelta(days=self.active_window_days - 1)


@dataclass
class Scenario:
    """A generated scenario: incidents (import contract), planted-hotspot truth and yearly indicators.

    Attributes
    ----------
    config : ScenarioConfig
        What it was generated from.
    incidents : pandas.DataFrame
        The incidents in the import contract (``ref``, ``occurred_at`` in local time, ``lon``, ``lat``, ``kind``,
        …, ``source`` = "synthetic").
    truth : pandas.DataFrame
        One row per planted hotspot: ``hotspot_id``, ``kind`` (spot | den), ``commune_code``, ``lon``, ``lat``, its
        metric centre ``x``, ``y`` and ``radius_m``, its timeline ``start``, ``eradicated_at``, ``recurred_at``
        (NaT when none), ``intensity_per_week``, ``n_incidents``, ``active_at_end`` and ``source``.
    indicators : pandas.DataFrame
        Yearly indicators per commune (the indicator import's columns), synthetic.
    """

    config: ScenarioConfig
    incidents: pd.DataFrame
    truth: pd.DataFrame
    indicators: pd.DataFrame


@dataclass(frozen=True)
class _Hotspots:
    """Planted hotspots in working coordinates with their timelines as day indices."""

    x: np.ndarray
    y: np.ndarray
    commune: np.ndarray
    is_den: np.ndarray
    radius: np.ndarray
    start: np.ndarray
    stop: np.ndarray  # first day without incidents after the first run (n_days if never stopped)
    recur: np.ndarray  # first day of the recurrence (n_days if none)
    eradicated: np.ndarray
    counts: np.ndarray


def generate_scenario(communes: gpd.GeoDataFrame, config: ScenarioConfig) -> Scenario:
    """Generate a seeded SYNTHETIC incident scenario over real or made-up communes.

    Background incidents weighted by a synthetic population, plus planted spots and dens with known start,
    eradication and recurrence dates; everything is invented and labelled ``synthetic``.

    Parameters
    ----------
    communes : geopandas.GeoDataFrame
        Polygons in any CRS with a ``code`` and a ``kind`` (phuong | xa | dac_khu) column.
    config : ScenarioConfig
        Seed, years, number of incidents and the planting rules; the same config and communes give
        identical outputs.

    Returns
    -------
    Scenario
        ``incidents`` in the import contract (ref, occurred_at in local time, lon, lat, kind, …), ``truth``
        (one row per planted hotspot with its metric centre ``x``, ``y``, ``radius_m`` and timeline) and
        yearly ``indicators`` per commune.
    """
    rng = np.random.default_rng(config.seed)
    projected = communes.to_crs(WORK_CRS)
    geoms = np.asarray(projected.geometry.values, dtype=object)
    shapely.prepare(geoms)
    codes = projected["code"].astype(str).to_numpy()
    days = pd.date_range(config.begin, config.end, freq="D")
    years = np.arange(days[0].year, days[-1].year + 1)
    year_of_day = (days.year - years[0]).to_numpy()
    area_km2 = shapely.area(geoms) / 1e6
    profile = build_profile(
        codes,
        projected["kind"].to_numpy(),
        area_km2,
        years,
        rng,
        drug_free_share=config.drug_free_share,
        route_share=config.route_share,
        cultivation_share=config.cultivation_share,
    )
    # Offspring make up self_excitation of all incidents on average: the rest is drawn first.
    n_base = round(config.n_incidents * (1 - config.self_excitation))
    spots = _plant_hotspots(rng, config, geoms, profile, len(days), n_base)
    owner, day, x, y = _hotspot_incidents(rng, config, geoms, spots, len(days))
    n_background = n_base - len(owner)
    bg_day, bg_commune, bg_x, bg_y = _background_incidents(rng, geoms, profile, days, year_of_day, n_background)

    origin = np.concatenate([np.full(n_background, BACKGROUND), np.where(spots.is_den[owner], DEN, SPOT)])
    commune = np.concatenate([bg_commune, spots.commune[owner]])
    day = np.concatenate([bg_day, day])
    x, y = np.concatenate([bg_x, x]), np.concatenate([bg_y, y])
    if config.self_excitation > 0:
        origin, commune, day, x, y = _offspring(rng, config, geoms, len(days), origin, commune, day, x, y)
    x, y = _geocoding_noise(rng, config, geoms, commune, x, y)
    kind = draw_kinds(rng, origin, profile.cultivating[commune])
    seconds = day * 86_400 + rng.choice(24, size=len(day), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()) * 3_600
    seconds += rng.integers(0, 60, size=len(day)) * 60
    order = np.argsort(seconds, kind="stable")
    incidents = _incident_table(rng, config, seconds[order], x[order], y[order], kind[order])

    flat = year_of_day[day] * len(codes) + commune
    shape = (len(years), len(codes))
    per_year = np.bincount(flat, minlength=shape[0] * shape[1]).reshape(shape)
    cultivation = np.bincount(flat[kind == KINDS.index("cultivation")], minlength=per_year.size).reshape(shape)
    places = _den_years(spots, year_of_day, shape)
    places[-1] = np.nan  # the scenario's last year: the hotspot register, detected from its incidents, counts them
    indicators = build_indicators(profile, per_year, cultivation, np.bincount(year_of_day), rng, places)
    indicators["source"] = SOURCE
    truth = _truth_table(config, spots, codes, pd.Timestamp(config.begin), len(days))
    return Scenario(config, incidents, truth, indicators)


def _den_years(spots: _Hotspots, year_of_day: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Planted dens (organising places) active during each year, per year and commune (``shape``): the synthetic
    official count the indicator table gives for the years before the hotspot register began, which cannot count
    them (models.domain.indicators.register_gap)."""
    n_days = len(year_of_day)
    first = np.searchsorted(year_of_day, np.arange(shape[0]))  # each year's first day index
    end = np.append(first[1:], n_days)
    dens = np.flatnonzero(spots.is_den)
    active = ((spots.start[dens, None] < end) & (spots.stop[dens, None] > first)) | (
        (spots.recur[dens, None] < end) & (spots.recur[dens, None] < n_days)
    )
    counts = np.zeros(shape)
    for year in range(shape[0]):
        np.add.at(counts[year], spots.commune[dens][active[:, year]], 1)
    return counts


def _plant_hotspots(
    rng: np.random.Generator, cfg: ScenarioConfig, geoms: np.ndarray, profile: CommuneProfile, n_days: int, n_base: int
) -> _Hotspots:
    """Place spaced hotspot centres, draw their timelines and share the hotspot incidents among them."""
    n = cfg.hotspot_count
    inner = shapely.buffer(geoms, -CENTRE_INSET_M)
    inner = np.where(shapely.is_empty(inner), geoms, inner)
    shapely.prepare(inner)
    x, y, commune = spaced_centres(rng, inner, profile.hotspot_weights(), n, cfg.min_spacing_m)
    is_den = rng.random(n) < cfg.den_share
    radius = rng.uniform(*cfg.radius_m, size=n)

    window_start = n_days - cfg.active_window_days
    u = rng.random(n)
    eradicated = u < cfg.eradicated_share
    recurs = u < cfg.eradicated_share * cfg.recurring_share
    quiet = ~eradicated & (u < cfg.eradicated_share + cfg.quiet_share)
    latest_start = np.where(
        quiet,
        window_start - QUIET_MARGIN_DAYS - MIN_ACTIVE_DAYS,
        n_days - max(LATEST_START_DAYS, cfg.active_window_days + 90),
    )
    if latest_start.min() <= 0:
        raise ValueError("scenario too short for the hotspot timelines: increase years")
    start = (rng.random(n) * latest_start).astype(np.int64)
    gap = rng.integers(RECUR_GAP_DAYS[0], RECUR_GAP_DAYS[1] + 1, size=n)
    gap = np.minimum(gap, n_days - RECUR_BEFORE_END_DAYS - MIN_ACTIVE_DAYS - start)
    low = start + MIN_ACTIVE_DAYS
    high = np.select(
        [recurs, eradicated, quiet],
        [n_days - RECUR_BEFORE_END_DAYS - gap, window_start, window_start - QUIET_MARGIN_DAYS],
        n_days,
    )
    stop = np.where(eradicated | quiet, low + (rng.random(n) * (high - low)).astype(np.int64), n_days)
    recur = np.where(recurs, stop + gap, n_days)
    if cfg.displacement_share > 0:
        moved = _displaced(rng, cfg, geoms, x, y, commune, stop, eradicated & ~recurs, window_start)
        x, y, commune = (np.concatenate([a, b]) for a, b in zip((x, y, commune), moved[:3]))
        start = np.concatenate([start, moved[3]])
        stop = np.concatenate([stop, np.full(moved[3].size, n_days)])
        recur = np.concatenate([recur, np.full(moved[3].size, n_days)])
        is_den = np.concatenate([is_den, is_den[moved[4]]])
        radius = np.concatenate([radius, radius[moved[4]]])
        eradicated = np.concatenate([eradicated, np.zeros(moved[3].size, bool)])
        recurs = np.concatenate([recurs, np.zeros(moved[3].size, bool)])
        n = x.size

    active_days = (stop - start) + (n_days - recur)
    active = (stop == n_days) | recurs
    minimum = np.where(active, cfg.min_window_incidents, 0) + MIN_HISTORY_INCIDENTS
    budget = round(n_base * cfg.share_in_hotspots)
    if budget < minimum.sum():
        raise ValueError(f"{budget} hotspot incidents cannot feed {n} hotspots: lower n_hotspots")
    weight = np.exp(0.6 * rng.standard_normal(n)) * active_days
    counts = minimum + rng.multinomial(budget - minimum.sum(), weight / weight.sum())
    return _Hotspots(x, y, commune, is_den, radius, start, stop, recur, eradicated, counts)


def _displaced(
    rng: np.random.Generator,
    cfg: ScenarioConfig,
    geoms: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    commune: np.ndarray,
    stop: np.ndarray,
    candidates: np.ndarray,
    window_start: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hotspots displaced by an eradication: x, y, commune, start day and the index of the eradicated one.

    The new place lies displacement_m away in the same commune and opens 2–8 weeks after the eradication;
    it needs 4 weeks of history before the final window (else it is not planted).
    """
    chosen = np.flatnonzero(candidates & (rng.random(candidates.size) < cfg.displacement_share))
    distance = rng.uniform(*cfg.displacement_m, size=chosen.size)
    angle = rng.uniform(0, 2 * np.pi, size=chosen.size)
    nx, ny = x[chosen] + distance * np.cos(angle), y[chosen] + distance * np.sin(angle)
    start = stop[chosen] + rng.integers(14, 57, size=chosen.size)
    inside = np.array([shapely.contains_xy(geoms[c], px, py) for c, px, py in zip(commune[chosen], nx, ny)], bool)
    keep = inside & (start + 28 <= window_start)
    return nx[keep], ny[keep], commune[chosen][keep], start[keep].astype(np.int64), chosen[keep]


def _offspring(
    rng: np.random.Generator,
    cfg: ScenarioConfig,
    geoms: np.ndarray,
    n_days: int,
    origin: np.ndarray,
    commune: np.ndarray,
    day: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Generations of self-excited incidents: each incident begets Poisson(self_excitation) offspring of its kind
    of place (origin), later by an exponential delay and near it (Gaussian, kept inside its commune)."""
    parents = np.arange(day.size)
    while parents.size:
        born = rng.poisson(cfg.self_excitation, parents.size)
        parent = np.repeat(parents, born)
        child_day = day[parent] + np.ceil(rng.exponential(cfg.excitation_days, parent.size)).astype(np.int64)
        parent, child_day = parent[child_day < n_days], child_day[child_day < n_days]
        sigma = np.full(parent.size, cfg.excitation_m)
        cx, cy = gaussian_in_polygons(rng, geoms, commune[parent], x[parent], y[parent], sigma)
        first_child = day.size
        origin, commune = np.r_[origin, origin[parent]], np.r_[commune, commune[parent]]
        day, x, y = np.r_[day, child_day], np.r_[x, cx], np.r_[y, cy]
        parents = np.arange(first_child, day.size)
    return origin, commune, day, x, y


def _geocoding_noise(
    rng: np.random.Generator, cfg: ScenarioConfig, geoms: np.ndarray, commune: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Recorded points: jittered by geocode_noise_m, and a centroid_share recorded at the commune's centre."""
    if cfg.geocode_noise_m > 0:
        x = x + rng.normal(0, cfg.geocode_noise_m, x.size)
        y = y + rng.normal(0, cfg.geocode_noise_m, y.size)
    if cfg.centroid_share > 0:
        centre = shapely.point_on_surface(geoms)
        at_centre = rng.random(x.size) < cfg.centroid_share
        x = np.where(at_centre, shapely.get_x(centre)[commune], x)
        y = np.where(at_centre, shapely.get_y(centre)[commune], y)
    return x, y


def _hotspot_incidents(
    rng: np.random.Generator, cfg: ScenarioConfig, geoms: np.ndarray, spots: _Hotspots, n_days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Incidents of planted hotspots: owner, day index and Gaussian position (sigma = radius / 2)."""
    window_start = n_days - cfg.active_window_days
    recurred = spots.recur < n_days
    active = (spots.stop == n_days) | recurred
    window_from = np.maximum(window_start, np.where(recurred, spots.recur, spots.start))
    window_days = np.where(active, n_days - window_from, 0)
    active_days = (spots.stop - spots.start) + (n_days - spots.recur)
    in_window = np.where(
        active,
        np.clip(
            np.rint(spots.counts * window_days / active_days),
            cfg.min_window_incidents,
            spots.counts - MIN_HISTORY_INCIDENTS,
        ),
        0,
    ).astype(np.int64)
    first_len = np.minimum(spots.stop, window_start) - spots.start
    second_from = np.minimum(spots.recur, window_start)
    hist_owner, hist_day = _days_in_segments(
        rng, spots.counts - in_window, spots.start, first_len, second_from, window_start - second_from
    )
    zero = np.zeros_like(window_from)
    win_owner, win_day = _days_in_segments(rng, in_window, window_from, window_days, zero, zero)
    owner = np.concatenate([hist_owner, win_owner])
    sigma = spots.radius[owner] / 2
    x, y = gaussian_in_polygons(rng, geoms, spots.commune[owner], spots.x[owner], spots.y[owner], sigma)
    return owner, np.concatenate([hist_day, win_day]), x, y


def _days_in_segments(
    rng: np.random.Generator,
    counts: np.ndarray,
    a_from: np.ndarray,
    a_len: np.ndarray,
    b_from: np.ndarray,
    b_len: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """counts[i] uniform day indices over the union of segments [a_from, +a_len) and [b_from, +b_len)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    u = rng.random(len(owner)) * (a_len + b_len)[owner]
    first = u < a_len[owner]
    day = np.where(first, a_from[owner] + u, b_from[owner] + u - a_len[owner])
    return owner, np.floor(day).astype(np.int64)


def _background_incidents(
    rng: np.random.Generator,
    geoms: np.ndarray,
    profile: CommuneProfile,
    days: pd.DatetimeIndex,
    year_of_day: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Background incidents: seasonal day, commune weighted by that year's population, uniform point."""
    season = 1 + SEASONAL_AMPLITUDE * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - SEASONAL_PEAK_DOY) / 365.25)
    day = rng.choice(len(days), size=n, p=season / season.sum())
    commune = np.empty(n, dtype=np.int64)
    weights = profile.background_weights()
    year = year_of_day[day]
    for index in range(len(weights)):
        mask = year == index
        commune[mask] = rng.choice(len(geoms), size=int(mask.sum()), p=weights[index])
    x, y = uniform_in_polygons(rng, geoms, commune)
    return day, commune, x, y


def _incident_table(
    rng: np.random.Generator,
    cfg: ScenarioConfig,
    seconds: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    kind: np.ndarray,
) -> pd.DataFrame:
    """Assemble the incident contract table from time-sorted arrays (refs follow time order)."""
    n = len(kind)
    substance, quantity, arrested = draw_details(rng, kind)
    lon, lat = Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True).transform(x, y)
    start = np.datetime64(cfg.begin, "s")
    when = pd.DatetimeIndex(start + seconds.astype("timedelta64[s]")).tz_localize(LOCAL_TZ)
    width = len(str(n))
    numbers = np.char.zfill(np.arange(1, n + 1).astype(str), width)
    return pd.DataFrame(
        {
            "ref": np.char.add(f"SYN-{cfg.seed}-", numbers).astype(object),
            "occurred_at": when,
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "kind": np.array(KINDS, dtype=object)[kind],
            "substance": substance,
            "quantity_g": quantity,
            "arrested": arrested,
            "source": SOURCE,
        },
        columns=list(INCIDENT_COLUMNS),
    )


def _truth_table(
    cfg: ScenarioConfig, spots: _Hotspots, codes: np.ndarray, begin: pd.Timestamp, n_days: int
) -> pd.DataFrame:
    """One row per planted hotspot with its place, timeline and realised incident count."""
    lon, lat = Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True).transform(spots.x, spots.y)
    recurred = spots.recur < n_days
    active_days = (spots.stop - spots.start) + (n_days - spots.recur)
    width = max(4, len(str(len(spots.x))))
    return pd.DataFrame(
        {
            "hotspot_id": [f"SYN-{cfg.seed}-H{i:0{width}d}" for i in range(1, len(spots.x) + 1)],
            "kind": np.where(spots.is_den, "den", "spot"),
            "commune_code": codes[spots.commune],
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "x": np.round(spots.x, 1),
            "y": np.round(spots.y, 1),
            "radius_m": np.round(spots.radius, 1),
            "start": begin + pd.to_timedelta(spots.start, unit="D"),
            "eradicated_at": (begin + pd.to_timedelta(spots.stop, unit="D")).where(spots.eradicated),
            "recurred_at": (begin + pd.to_timedelta(spots.recur, unit="D")).where(recurred),
            "intensity_per_week": np.round(spots.counts / (active_days / 7), 2),
            "n_incidents": spots.counts,
            "active_at_end": (spots.stop == n_days) | recurred,
            "source": SOURCE,
        }
    )

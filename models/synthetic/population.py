"""SYNTHETIC commune profiles (population, risk, clean years, routes, cultivation) and yearly indicators.

Every number here is invented for demos and tests: the real population table is an official input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from models.lazy import lazy_module
from models.vocabulary import UnitKind

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: Median synthetic density (people per km²) and its log-spread per commune kind.
DENSITY_BY_KIND = {UnitKind.PHUONG: (2_200.0, 0.5), UnitKind.XA: (1_000.0, 0.35), UnitKind.DAC_KHU: (150.0, 0.2)}
#: Relative chance of a commune kind being "clean-prone" (rural communes are cleaner).
CLEAN_PRONE_WEIGHT = {UnitKind.PHUONG: 1.0, UnitKind.XA: 3.0, UnitKind.DAC_KHU: 2.0}
#: Chance that a clean-prone commune is fully drug-free in a given year.
CLEAN_YEAR_PROBABILITY = 0.85
#: Synthetic yearly population growth.
GROWTH_PER_YEAR = 0.01
#: Users with records as a share of population at the median / maximum relative incident rate.
USERS_RATE_MEDIAN, USERS_RATE_MAX = 0.002, 0.010
#: Plants destroyed per cultivating commune-year (log-normal median, spread) and plants per m².
PLANTS_MEDIAN, PLANTS_SIGMA, PLANTS_PER_M2 = 1_500.0, 1.0, (2.0, 6.0)


@dataclass(frozen=True)
class CommuneProfile:
    """Synthetic per-commune attributes; arrays are aligned with the communes table (years × communes)."""

    codes: np.ndarray
    years: np.ndarray
    population: np.ndarray  # (n_years, n_communes) int
    risk: np.ndarray  # (n_communes,) relative drug-activity multiplier
    clean_prone: np.ndarray  # (n_communes,) bool: never hosts a hotspot
    clean: np.ndarray  # (n_years, n_communes) bool: no drug activity at all that year
    on_route: np.ndarray  # (n_communes,) bool
    cultivating: np.ndarray  # (n_communes,) bool

    def background_weights(self) -> np.ndarray:
        """Per-year probability of a background incident falling in each commune (population × risk)."""
        w = self.population * self.risk[None, :] * ~self.clean
        return w / w.sum(axis=1, keepdims=True)

    def hotspot_weights(self) -> np.ndarray:
        """Probability of a planted hotspot centre in each commune (populated, never clean-prone)."""
        w = self.population.mean(axis=0) * self.risk * ~self.clean_prone
        return w / w.sum()


def build_profile(
    codes: np.ndarray,
    kinds: np.ndarray,
    area_km2: np.ndarray,
    years: np.ndarray,
    rng: np.random.Generator,
    *,
    drug_free_share: float,
    route_share: float,
    cultivation_share: float,
) -> CommuneProfile:
    """Draw a synthetic population and drug profile for each commune (denser wards, tiny islands)."""
    n = len(codes)
    median = np.array([DENSITY_BY_KIND[k][0] for k in kinds])
    spread = np.array([DENSITY_BY_KIND[k][1] for k in kinds])
    base = area_km2 * median * np.exp(spread * rng.standard_normal(n))
    growth = (1 + GROWTH_PER_YEAR) ** (years - years[0])
    noise = np.exp(0.005 * rng.standard_normal((len(years), n)))
    population = np.maximum(np.rint(base[None, :] * growth[:, None] * noise), 100).astype(np.int64)
    risk = np.exp(0.5 * rng.standard_normal(n))

    prone_weight = np.array([CLEAN_PRONE_WEIGHT[k] for k in kinds]) / np.sqrt(base)
    n_prone = min(n - 1, round(n * min(1.0, drug_free_share / CLEAN_YEAR_PROBABILITY)))
    clean_prone = _choose(rng, n, n_prone, prone_weight)
    clean = clean_prone[None, :] & (rng.random((len(years), n)) < CLEAN_YEAR_PROBABILITY)

    active = np.flatnonzero(~clean_prone)
    on_route = np.zeros(n, dtype=bool)
    on_route[rng.choice(active, size=min(len(active), round(n * route_share)), replace=False)] = True
    rural = np.flatnonzero(~clean_prone & (kinds == "xa"))
    cultivating = np.zeros(n, dtype=bool)
    if len(rural) and cultivation_share > 0:
        size = min(len(rural), max(1, round(len(rural) * cultivation_share)))
        cultivating[rng.choice(rural, size=size, replace=False)] = True
    return CommuneProfile(codes, years, population, risk, clean_prone, clean, on_route, cultivating)


def build_indicators(
    profile: CommuneProfile,
    incidents: np.ndarray,
    cultivation_incidents: np.ndarray,
    days_in_year: np.ndarray,
    rng: np.random.Generator,
    organizing_places: np.ndarray,
) -> pd.DataFrame:
    """Yearly indicator table per commune; users with records follow each commune-year's incident rate;
    ``organizing_places`` per year and commune as given (NaN: left to the hotspot register)."""
    pop = profile.population
    rate = incidents / pop / days_in_year[:, None]
    positive = rate[rate > 0]
    relative = rate / (np.median(positive) if len(positive) else 1.0)
    users_rate = USERS_RATE_MEDIAN * relative**0.7 * np.exp(0.2 * rng.standard_normal(pop.shape))
    users = np.rint(pop * np.minimum(users_rate, USERS_RATE_MAX)).astype(np.int64)

    plants = np.rint(PLANTS_MEDIAN * np.exp(PLANTS_SIGMA * rng.standard_normal(pop.shape)))
    plants = np.where(cultivation_incidents > 0, plants, 0).astype(np.int64)
    per_m2 = rng.uniform(*PLANTS_PER_M2, size=pop.shape)
    n_years, n = pop.shape
    return pd.DataFrame(
        {
            "year": np.repeat(profile.years, n),
            "commune_code": np.tile(profile.codes, n_years),
            "population": pop.ravel(),
            "users_with_records": users.ravel(),
            "plants_destroyed": plants.ravel(),
            "cultivation_m2": np.round(plants / per_m2, 1).ravel(),
            "on_drug_route": np.tile(profile.on_route, n_years),
            "organizing_places": organizing_places.ravel(),
            "arrested_offenders": np.full(n_years * n, np.nan),
        }
    )


def _choose(rng: np.random.Generator, n: int, k: int, weight: np.ndarray) -> np.ndarray:
    """Boolean mask of k items drawn without replacement with probability proportional to weight."""
    mask = np.zeros(n, dtype=bool)
    if k > 0:
        mask[rng.choice(n, size=k, replace=False, p=weight / weight.sum())] = True
    return mask

"""How many incidents make a cluster rather than chance, controlled per map, and a Monte-Carlo test of each cluster.

Under a Poisson background of intensity λ (incidents per m² over the window), an eps-disc around
an incident holds N ~ Poisson(μ = λ·π·eps²) *other* incidents. DBSCAN makes the incident a core
point when N + 1 ≥ min_samples, i.e. with probability P(N ≥ min_samples − 1). Every spurious
cluster holds at least one core point, so with n incidents on the map

    expected spurious clusters ≤ n · P(N ≥ min_samples − 1),

and min_samples is the smallest value (never below ``floor``) that keeps this bound under the
map's budget (SPURIOUS_PER_MAP). λ is the ``quantile`` of incidents per km² over occupied 1 km
cells — a dense urban background, barely moved by the few cells that hold hotspots.

A uniform bound cannot see a background denser than that quantile, so each cluster is also tested
by Monte Carlo against the background around it: the incidents DBSCAN leaves as noise, binned on
1 km cells, are redrawn as an inhomogeneous Poisson process, clustered with the same settings, and
a cluster's p-value is the share of simulated maps whose largest chance cluster near it (its cell
and the 8 around) is at least as large. The mean number of chance clusters per simulated map is the
"expected spurious clusters on this map" figure shown to users.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import poisson

from models.analytics.dbscan import dbscan
from models.analytics.detection import SIMULATIONS, SPURIOUS_PER_MAP
from models.analytics.grid import GridSpec

BACKGROUND_CELL_M = 1000.0


def core_probability(min_samples: int, expected_neighbours: float) -> float:
    """P(a background incident is a core point) = P(N ≥ min_samples − 1), N ~ Poisson(expected_neighbours)."""
    return float(poisson.sf(min_samples - 2, expected_neighbours))


@dataclass(frozen=True)
class BackgroundThreshold:
    """min_samples for a map and what it implies under the background model."""

    min_samples: int
    intensity_per_km2: float
    expected_neighbours: float
    core_probability: float
    expected_spurious: float


def background_threshold(
    x: np.ndarray,
    y: np.ndarray,
    eps_m: float,
    floor: int = 5,
    quantile: float = 0.9,
    spurious: float = SPURIOUS_PER_MAP,
    cell_m: float = BACKGROUND_CELL_M,
    min_samples: int | None = None,
) -> BackgroundThreshold:
    """The smallest min_samples (≥ ``floor``) whose bound on expected spurious clusters is ≤ ``spurious``;
    with ``min_samples`` given, the bound that value implies."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size == 0:
        return BackgroundThreshold(min_samples or floor, 0.0, 0.0, 0.0, 0.0)
    counts = GridSpec.from_points(x, y, cell_m).counts(x, y).ravel()
    per_km2 = float(np.quantile(counts[counts > 0], quantile) / (cell_m * cell_m / 1e6))
    mu = per_km2 / 1e6 * np.pi * eps_m * eps_m
    if min_samples is None:
        per_point = min(spurious / x.size, 1.0)
        # ppf(1 − a) = q is the least q with P(N ≤ q) ≥ 1 − a, so P(N ≥ q + 1) ≤ a: min_samples − 1 = q + 1.
        min_samples = max(floor, int(poisson.ppf(1 - per_point, mu)) + 2)
    p_core = core_probability(min_samples, mu)
    return BackgroundThreshold(min_samples, per_km2, float(mu), p_core, x.size * p_core)


def auto_min_samples(x: np.ndarray, y: np.ndarray, eps_m: float, floor: int = 5, **kwargs: float) -> int:
    """The smallest DBSCAN ``min_samples`` at which the background alone makes fewer than one spurious cluster per map.

    Parameters
    ----------
    x, y : array_like of float
        Incident coordinates in metres (EPSG:32648), typically those of the detection window.
    eps_m : float
        The DBSCAN radius the answer is for.
    floor : int, default 5
        Smallest answer (also the answer when there are no incidents).
    **kwargs
        ``quantile``, ``spurious`` (expected spurious clusters allowed per map, default 0.05) and ``cell_m``
        of :func:`background_threshold`.

    Returns
    -------
    int
        ``min_samples`` for :func:`models.analytics.dbscan.dbscan`.

    References
    ----------
    Ester, M., Kriegel, H.-P., Sander, J. and Xu, X. (1996). A density-based algorithm for discovering clusters
    in large spatial databases with noise. *Proceedings of KDD-96*, 226-231.
    """
    return background_threshold(x, y, eps_m, floor, **kwargs).min_samples  # type: ignore[arg-type]


@dataclass(frozen=True)
class ClusterTest:
    """Monte-Carlo p-value per cluster label (0..k−1) and the mean number of chance clusters per map."""

    p_value: np.ndarray
    expected_spurious: float
    simulations: int


def _neighbourhood_max(grid: GridSpec, cells: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per grid cell, the largest size among clusters centred in it or in the 8 cells around (0 if none)."""
    best = np.zeros(grid.shape)
    np.maximum.at(best.ravel(), cells, sizes)
    padded = np.pad(best, 1)
    return np.max(
        [padded[1 + dy : 1 + dy + grid.ny, 1 + dx : 1 + dx + grid.nx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0
    )


def cluster_significance(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray,
    eps_m: float,
    min_samples: int,
    simulations: int = SIMULATIONS,
    cell_m: float = BACKGROUND_CELL_M,
    seed: int = 0,
) -> ClusterTest:
    """Test each DBSCAN cluster against simulated background maps (see the module docstring)."""
    x, y, labels = np.asarray(x, float), np.asarray(y, float), np.asarray(labels)
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    if labels.size == 0:
        return ClusterTest(np.zeros(0), 0.0, simulations)
    grid = GridSpec.from_points(x, y, cell_m)
    noise = labels < 0
    intensity = grid.counts(x[noise], y[noise]).ravel()
    clustered = labels >= 0
    sizes = np.bincount(labels[clustered], minlength=n_clusters)
    cx = np.bincount(labels[clustered], weights=x[clustered], minlength=n_clusters) / np.maximum(sizes, 1)
    cy = np.bincount(labels[clustered], weights=y[clustered], minlength=n_clusters) / np.maximum(sizes, 1)
    home = grid.flat_index(cx, cy)
    rng = np.random.default_rng(seed)
    exceed = np.zeros(n_clusters)
    spurious = 0
    cell_x, cell_y = grid.centres()
    for _ in range(simulations):
        per_cell = rng.poisson(intensity)
        which = np.repeat(np.arange(per_cell.size), per_cell)
        sx = cell_x.ravel()[which] + (rng.random(which.size) - 0.5) * cell_m
        sy = cell_y.ravel()[which] + (rng.random(which.size) - 0.5) * cell_m
        chance = dbscan(sx, sy, eps_m, min_samples) if which.size else np.zeros(0, int)
        k = int(chance.max()) + 1 if chance.size else 0
        spurious += k
        if k == 0 or n_clusters == 0:
            continue
        member = chance >= 0
        s_size = np.bincount(chance[member], minlength=k)
        s_x = np.bincount(chance[member], weights=sx[member], minlength=k) / s_size
        s_y = np.bincount(chance[member], weights=sy[member], minlength=k) / s_size
        local = _neighbourhood_max(grid, grid.flat_index(s_x, s_y), s_size).ravel()
        exceed += local[home] >= sizes
    return ClusterTest((exceed + 1) / (simulations + 1), spurious / simulations, simulations)

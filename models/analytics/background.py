"""How many incidents make a cluster rather than chance: DBSCAN's min_samples from background density.

Under a Poisson background of intensity λ (incidents per m² over the window), an eps-disc holds
N ~ Poisson(λ·π·eps²) other incidents. A core point needs min_samples incidents in its disc (itself
included), so min_samples = 1 + the (1 − alpha) quantile of N keeps background from forming
clusters by chance. λ is the `quantile` of incidents per km² over occupied 1 km cells — a dense
urban background, barely moved by the few cells that hold hotspots.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import poisson

from models.analytics.grid import GridSpec


def auto_min_samples(
    x: np.ndarray,
    y: np.ndarray,
    eps_m: float,
    floor: int = 5,
    quantile: float = 0.9,
    alpha: float = 1e-3,
    cell_m: float = 1000.0,
) -> int:
    """The smallest min_samples at which background alone rarely makes a core point (never below `floor`)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size == 0:
        return floor
    counts = GridSpec.from_points(x, y, cell_m).counts(x, y).ravel()
    per_m2 = np.quantile(counts[counts > 0], quantile) / (cell_m * cell_m)
    expected = per_m2 * np.pi * eps_m * eps_m
    return max(floor, int(poisson.ppf(1 - alpha, expected)) + 1)

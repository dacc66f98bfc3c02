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
    """The smallest DBSCAN ``min_samples`` at which the background alone rarely makes a core point.

    The background intensity λ is the ``quantile`` of incidents per m² over the occupied ``cell_m`` cells;
    an ``eps_m`` disc then holds N ~ Poisson(λ π eps²) other incidents, and the answer is
    1 + the (1 − ``alpha``) quantile of N, never below ``floor``.

    Parameters
    ----------
    x, y : array_like of float
        Incident coordinates in metres (EPSG:32648), typically those of the detection window.
    eps_m : float
        The DBSCAN radius the answer is for.
    floor : int, default 5
        Smallest answer (also the answer when there are no incidents).
    quantile : float, default 0.9
        Which occupied cell's density stands for the background: a dense urban one, barely moved by the
        few cells that hold hotspots.
    alpha : float, default 1e-3
        Chance that a background point becomes core.
    cell_m : float, default 1000
        Side of the cells over which the background density is counted.

    Returns
    -------
    int
        ``min_samples`` for :func:`models.analytics.dbscan.dbscan`.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size == 0:
        return floor
    counts = GridSpec.from_points(x, y, cell_m).counts(x, y).ravel()
    per_m2 = np.quantile(counts[counts > 0], quantile) / (cell_m * cell_m)
    expected = per_m2 * np.pi * eps_m * eps_m
    return max(floor, int(poisson.ppf(1 - alpha, expected)) + 1)

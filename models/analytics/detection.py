"""The settings of a hotspot detection run (pure, light: the command line reads its defaults for its help)."""

from __future__ import annotations

from dataclasses import dataclass

#: Expected spurious (background-only) clusters one detection map may carry.
SPURIOUS_PER_MAP = 0.05
#: Simulated background maps of the Monte-Carlo test (smallest p-value 1/(B + 1)).
SIMULATIONS = 99
#: Clusters whose Monte-Carlo p-value exceeds this are chance, not hotspots.
CLUSTER_ALPHA = 0.05
#: The longest window a run may look at, in days: ten years, far past any hotspot's life (a run's default is 90
#: days); the command line's refusal names it (it had named the span of every accepted day, «từ 1 đến 40.542»).
MAX_WINDOW_DAYS = 3650


@dataclass(frozen=True)
class DetectionParams:
    """DBSCAN and matching settings. Defaults: incidents within 100 m of each other over the last 90
    days — the scale of a street corner or a house, patrollable by one team — with at least 5 of them,
    more where the background is dense enough that chance clusters would exceed the map's budget
    (`min_samples=None`), and each cluster tested by Monte Carlo against the background around it
    (see models.analytics.background)."""

    eps_m: float = 100.0
    min_samples: int | None = None
    window_days: int = 90
    kinds: tuple[str, ...] = ()
    match_m: float = 150.0
    recurrence_m: float = 300.0
    #: A lone cluster continues a lone hotspot this close (a den that moved down the street).
    drift_m: float = 300.0
    #: Windows without a cluster after which a detected or verified hotspot goes dormant.
    dormant_windows: int = 2
    #: Budget of chance clusters per map that sets the automatic min_samples (models.analytics.background).
    spurious_per_map: float = SPURIOUS_PER_MAP
    #: Simulated background maps of the Monte-Carlo test of each cluster (0: no test) and its level.
    simulations: int = SIMULATIONS
    cluster_alpha: float = CLUSTER_ALPHA

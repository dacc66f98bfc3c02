"""The settings of a hotspot detection run (pure, light: the command line reads its defaults for its help)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DetectionParams:
    """DBSCAN and matching settings. Defaults: incidents within 100 m of each other over the last 90
    days — the scale of a street corner or a house, patrollable by one team — with at least 5 of them,
    more where the background is dense enough to make 5 by chance (`min_samples=None`: see
    models.analytics.background)."""

    eps_m: float = 100.0
    min_samples: int | None = None
    window_days: int = 90
    kinds: tuple[str, ...] = ()
    match_m: float = 150.0
    recurrence_m: float = 300.0

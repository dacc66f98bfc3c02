"""Emerging Hot Spot Analysis (ArcGIS semantics): Gi* per time step plus a Mann-Kendall trend per cell.

Each cell's series of hot (+1) / cold (−1) / not significant (0) states and the trend of its Gi*
z-scores sort it into one of 17 outcomes: eight hot patterns, their cold mirrors and ``no_pattern``
(rules in the domain brief, section "Hotspot analysis").  Patterns that depend on the final step
win over the *historical* ones when both could apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
from scipy import sparse

from models.analytics.gistar import gi_star_z, significance_bins, two_sided_p
from models.analytics.grid import GridSpec
from models.analytics.lattice import Lattice
from models.vocabulary import EMERGING_NO_PATTERN, EMERGING_SIDES, EMERGING_STEMS

#: Pattern stems in priority order (first matching wins).
STEMS: tuple[str, ...] = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "oscillating",
    "sporadic",
    "historical",
)
HOT_PATTERNS: tuple[str, ...] = tuple(f"{s}_hot_spot" for s in STEMS)
COLD_PATTERNS: tuple[str, ...] = tuple(f"{s}_cold_spot" for s in STEMS)
NO_PATTERN = "no_pattern"
#: The command map's emerging layer (``GET /api/emerging`` by default): 12 steps of a month each, ending at the latest
#: incident, on 500 m cells; its legend states them (maps.styles.emerging_legend).
MAP_STEPS, MAP_CELL_M = 12, 500.0
MAP_STEP: Literal["week", "month"] = "month"
PATTERNS: tuple[str, ...] = (*HOT_PATTERNS, *COLD_PATTERNS, NO_PATTERN)

if tuple(EMERGING_STEMS) != STEMS:
    raise ValueError("models.vocabulary.EMERGING_STEMS must name the pattern stems in STEMS' order")


def _side_texts(which: int) -> dict[str, str]:
    """Per pattern code, its label (which=0) or its meaning (which=1), hot and cold patterns in their own words."""
    texts = {}
    for side, (cell, word, other) in EMERGING_SIDES.items():
        for stem, entry in EMERGING_STEMS.items():
            texts[f"{stem}_{side}_spot"] = (
                f"{cell} {entry[0]}" if which == 0 else entry[1].format(side=word, other=other)
            )
    return texts | {NO_PATTERN: EMERGING_NO_PATTERN[which]}


#: Vietnamese label of each pattern code, e.g. new_hot_spot → "Ô nóng mới" (models.vocabulary.EMERGING_STEMS).
PATTERN_LABELS_VI = MappingProxyType({code: _side_texts(0)[code] for code in PATTERNS})
#: What each pattern means, in plain words (the map's tooltip and the command page's «Hướng dẫn»).
PATTERN_MEANINGS_VI = MappingProxyType({code: _side_texts(1)[code] for code in PATTERNS})


@dataclass(frozen=True)
class MannKendall:
    """Mann-Kendall S, normal score z (continuity- and tie-corrected) and two-sided p per series."""

    s: np.ndarray
    z: np.ndarray
    p: np.ndarray

    def trend(self, alpha: float) -> np.ndarray:
        """+1 significantly rising, −1 significantly falling, 0 otherwise."""
        return np.where(self.p < alpha, np.sign(self.s), 0).astype(np.int8)


@dataclass(frozen=True)
class EmergingResult:
    """Pattern code per cell, per-step Gi* z and bins (T, …), the trend test and the no-neighbour flag."""

    pattern: np.ndarray
    z: np.ndarray
    bins: np.ndarray
    trend: MannKendall
    no_neighbours: np.ndarray


#: The global population each bin's Gi* is compared with: its own time step, or every bin of the cube.
GlobalWindow = Literal["step", "cube"]
#: The bins one false-discovery-rate correction covers: each time step apart, or the whole cube.
FdrFamily = Literal["step", "cube"]


@dataclass(frozen=True)
class EmergingOptions:
    """How the space-time Gi* behind the patterns is computed (see the README, "Emerging hot spots").

    ``neighbour_steps``: previous time steps of the same neighbourhood included in each bin's
    neighbourhood (ArcGIS "neighborhood time step", default 1 there); ``global_window``: what each
    bin is compared with (ArcGIS default: the entire cube); ``fdr_family``: which bins one FDR
    correction covers; ``locations``: the study-area cells — every land cell plus cells with data,
    or only the cells with at least one incident in some step (ArcGIS without an analysis mask).
    """

    neighbour_steps: int = 0
    global_window: GlobalWindow = "step"
    fdr_family: FdrFamily = "step"
    locations: Literal["land", "with_data"] = "land"

    @classmethod
    def preset(cls, mode: Literal["diaban", "arcgis"]) -> EmergingOptions:
        """``diaban``: per-step Gi* over the land (each month on its own); ``arcgis``: ArcGIS Pro's defaults."""
        if mode == "arcgis":
            return cls(neighbour_steps=1, global_window="cube", fdr_family="cube", locations="with_data")
        return cls()


def mann_kendall(series: np.ndarray) -> MannKendall:
    """Mann-Kendall trend test of each row of ``series`` (cells, T), vectorised over rows."""
    x = np.asarray(series, float)
    rows, t = x.shape
    s = np.zeros(rows)
    for lag in range(1, t):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    ranked = np.sort(x, axis=1)
    group = np.cumsum(np.c_[np.ones((rows, 1), bool), ranked[:, 1:] != ranked[:, :-1]], axis=1) - 1
    sizes = np.bincount((np.arange(rows)[:, None] * t + group).ravel(), minlength=rows * t).reshape(rows, t)
    ties = (sizes * (sizes - 1) * (2 * sizes + 5)).sum(axis=1)
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    return MannKendall(s=s, z=z, p=two_sided_p(z))


def _hot_pattern(state: np.ndarray, trend: np.ndarray, share: float) -> np.ndarray:
    """Index into STEMS of each row's hot pattern (−1 for none) from states (cells, T) and trend."""
    hot, cold = state > 0, state < 0
    t = state.shape[1]
    n_hot = hot.sum(axis=1)
    final = hot[:, -1]
    mostly = n_hot >= share * t - 1e-9
    run = np.where(hot.all(axis=1), t, np.argmax(~hot[:, ::-1], axis=1))  # length of the final hot run
    conditions = [
        final & (n_hot == 1),
        final & (run >= 2) & (n_hot == run) & ~mostly,
        final & mostly & (trend > 0),
        final & mostly & (trend == 0),
        final & mostly & (trend < 0),
        final & ~mostly & cold.any(axis=1),
        final & ~mostly,
        ~final & mostly,
    ]
    return np.select(conditions, list(range(len(STEMS))), -1)


def classify_patterns(state: np.ndarray, trend: np.ndarray, share: float = 0.9) -> np.ndarray:
    """Pattern code per row of ``state`` (cells, T; +1 hot, −1 cold, 0 neither) given trend ±1/0 of z."""
    state = np.asarray(state)
    trend = np.asarray(trend)
    hot = _hot_pattern(state, trend, share)
    cold = _hot_pattern(-state, -trend, share)
    historical = len(STEMS) - 1
    codes = np.array(PATTERNS, dtype=object)
    return np.select(
        [(hot >= 0) & (hot < historical), (cold >= 0) & (cold < historical), hot == historical, cold == historical],
        [codes[hot], codes[len(STEMS) + cold], codes[hot], codes[len(STEMS) + cold]],
        NO_PATTERN,
    )


def spacetime_gistar(
    cube: np.ndarray, weights: sparse.csr_matrix, options: EmergingOptions, fdr: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Space-time Gi* z and bins (T, n) of a count cube over a lattice, and the spatial no-neighbour flag (n,).

    A bin's neighbourhood is its spatial neighbourhood (itself included) at its own step and the
    ``neighbour_steps`` steps before; with no previous step (or none asked for) a cell without spatial
    neighbours has no statistic.
    """
    x = np.asarray(cube, float)
    steps, n = x.shape
    k = options.neighbour_steps
    card_space = np.asarray(weights.sum(axis=1)).ravel()
    spatial = (weights @ x.T).T  # (T, n): neighbourhood sums per step
    cumulative = np.cumsum(np.vstack([np.zeros((1, n)), spatial]), axis=0)
    first = np.maximum(np.arange(steps) - k, 0)
    lag = cumulative[1:] - cumulative[first]
    card = card_space[None, :] * (np.arange(steps) - first + 1)[:, None]
    if options.global_window == "cube":
        z = gi_star_z(lag, card, x.mean(), x.std(), x.size)
    else:
        z = np.stack([gi_star_z(lag[t], card[t], x[t].mean(), x[t].std(), n) for t in range(steps)])
    tested = ~np.isnan(z)
    p = np.where(tested, two_sided_p(np.nan_to_num(z)), np.nan)
    bins = np.zeros(z.shape, np.int8)
    if options.fdr_family == "cube":
        bins[tested] = significance_bins(z[tested], p[tested], fdr)
    else:
        for t in range(steps):
            bins[t, tested[t]] = significance_bins(z[t, tested[t]], p[t, tested[t]], fdr)
    return z, bins, card_space <= 1


def emerging_lattice(
    cube: np.ndarray,
    weights: sparse.csr_matrix,
    options: EmergingOptions = EmergingOptions(),
    fdr: bool = True,
    trend_alpha: float = 0.05,
    share: float = 0.9,
) -> EmergingResult:
    """Emerging hot-spot pattern of each lattice cell from its (T, n) counts; hot/cold = Gi* bin at ≥ 90 %."""
    z, bins, no_neighbours = spacetime_gistar(cube, weights, options, fdr)
    trend = mann_kendall(np.nan_to_num(z.T))
    pattern = classify_patterns(np.sign(bins.T), trend.trend(trend_alpha), share)
    return EmergingResult(pattern=pattern, z=z, bins=bins, trend=trend, no_neighbours=no_neighbours)


def emerging_hotspots(
    cube: np.ndarray,
    mask: np.ndarray | None = None,
    distance_cells: float = 1.5,
    contiguity: Literal["distance", "queen"] = "distance",
    fdr: bool = True,
    trend_alpha: float = 0.05,
    share: float = 0.9,
    options: EmergingOptions = EmergingOptions(),
) -> EmergingResult:
    """Emerging hot-spot pattern of each cell of a space-time cube of counts, as ArcGIS computes it.

    Each time step gets its own Gi* (:func:`models.analytics.gistar.gistar`); a cell is hot (cold) in a step
    when its bin is positive (negative) at 90 % confidence or more. The Mann-Kendall trend of its Gi* z-scores
    and its series of hot / cold steps sort it into one of 17 patterns (``PATTERNS``; Vietnamese labels in
    ``PATTERN_LABELS_VI``): new, consecutive, intensifying, persistent, diminishing, oscillating, sporadic
    or historical hot spot, the same eight cold spots, or ``no_pattern``.

    Parameters
    ----------
    cube : ndarray, shape (T, ny, nx)
        Counts per time step (oldest first) and cell, e.g. ``GridSpec.counts`` of each month.
    mask, distance_cells, contiguity, fdr
        As for :func:`models.analytics.gistar.gistar`, applied at every step.
    trend_alpha : float, default 0.05
        Significance level of the Mann-Kendall trend test.
    share : float, default 0.9
        Share of the steps a cell must be hot in to count as "mostly" hot (ArcGIS: 90 %).
    options : EmergingOptions, optional
        The ArcGIS-parity choices: neighbourhood time step, locations with data, the FDR family (see
        :class:`EmergingOptions`; the README lists the pattern precedence).

    Returns
    -------
    EmergingResult
        ``pattern`` code per cell (ny, nx; ``no_pattern`` outside the mask), the per-step ``z`` and ``bins``
        (T, ny, nx) and the ``trend`` test (Mann-Kendall S, z and p per cell).

    References
    ----------
    Esri. How Emerging Hot Spot Analysis works. ArcGIS Pro documentation, Space Time Pattern Mining toolbox.

    Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245-259.

    Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. London: Griffin.
    """
    cube = np.asarray(cube, float)
    steps, ny, nx = cube.shape
    inside = np.ones((ny, nx), bool) if mask is None else np.asarray(mask, bool)
    if options.locations == "with_data":
        inside = inside & (cube.sum(axis=0) > 0)
    lattice = Lattice.from_mask(GridSpec(0.0, 0.0, 1.0, nx, ny), inside)
    flat = cube.reshape(steps, -1)[:, lattice.cells]
    result = emerging_lattice(flat, lattice.weights(distance_cells, contiguity), options, fdr, trend_alpha, share)
    return EmergingResult(
        pattern=lattice.to_grid(result.pattern, NO_PATTERN),
        z=np.stack([lattice.to_grid(step) for step in result.z]),
        bins=np.stack([lattice.to_grid(step, 0) for step in result.bins]).astype(np.int8),
        trend=MannKendall(
            lattice.to_grid(result.trend.s, 0.0),
            lattice.to_grid(result.trend.z, 0.0),
            lattice.to_grid(result.trend.p, 1.0),
        ),
        no_neighbours=lattice.to_grid(result.no_neighbours, False).astype(bool),
    )

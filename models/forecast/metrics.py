"""Forecast quality for area units (cells or communes): hit rate, PAI and PEI at an area coverage.

Selection: units are taken in decreasing score until the covered area reaches ``coverage`` × total
area. The unit that crosses the target contributes the proportional share of its area and of its
observed count, so every forecast is compared on exactly the same area; units with equal scores are
one block, and a block crossing the target contributes the same share of each unit (the expected
value over the orders of the tie: the input's row order never matters). With that rule the best
possible selection is the greedy one by observed density (count / area), which makes PEI an exact
ratio to the optimum.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

DEFAULT_COVERAGES = (0.01, 0.05, 0.10)


def _arrays(
    scores: npt.ArrayLike, counts: npt.ArrayLike, areas: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate aligned inputs as float arrays."""
    s, n, a = (np.asarray(x, dtype=float).ravel() for x in (scores, counts, areas))
    if not len(s) == len(n) == len(a) or len(s) == 0:
        raise ValueError(f"scores, counts and areas must be non-empty and aligned, got {len(s)}, {len(n)}, {len(a)}")
    if np.isnan(s).any() or np.isnan(n).any() or (n < 0).any():
        raise ValueError("scores and counts must be finite and counts non-negative")
    if not (a > 0).all():
        raise ValueError("every area must be positive")
    return s, n, a


def _captured(keys: np.ndarray, counts: np.ndarray, areas: np.ndarray, coverage: float) -> float:
    """Events captured by taking units in decreasing ``keys`` up to ``coverage`` of the area.

    Units with equal keys form one block taken together: where the target area ends inside a block,
    each of its units contributes the same share of its area and of its count (the expected value
    over every order of the tie), so the result never depends on the row order of the input.
    """
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}")
    order = np.argsort(-keys, kind="stable")
    block_keys, start = np.unique(-keys[order], return_index=True)
    block = np.repeat(np.arange(block_keys.size), np.diff(np.append(start, keys.size)))
    block_area = np.bincount(block, weights=areas[order])
    block_count = np.bincount(block, weights=counts[order])
    target = coverage * areas.sum()
    before = np.concatenate(([0.0], np.cumsum(block_area)[:-1]))
    share = np.clip((target - before) / block_area, 0.0, 1.0)
    return float((share * block_count).sum())


def hit_rate(scores: npt.ArrayLike, counts: npt.ArrayLike, areas: npt.ArrayLike, coverage: float) -> float:
    """Hit rate: the share n/N of next-period events inside the top-scored ``coverage`` of the area.

    Parameters
    ----------
    scores : array_like, shape (k,)
        Forecast score per area unit (cell or commune); higher means more expected.
    counts : array_like, shape (k,)
        Events observed per unit in the period being forecast (non-negative).
    areas : array_like, shape (k,)
        Area of each unit (positive, any unit).
    coverage : float in (0, 1]
        Share of the total area selected, units taken in decreasing score; the unit crossing the target
        contributes the proportional share of its area and events.

    Returns
    -------
    float
        n / N, NaN when N = 0.
    """
    s, n, a = _arrays(scores, counts, areas)
    total = n.sum()
    return _captured(s, n, a, coverage) / total if total > 0 else float("nan")


def pai(scores: npt.ArrayLike, counts: npt.ArrayLike, areas: npt.ArrayLike, coverage: float) -> float:
    """Predictive Accuracy Index: the hit rate over the area share, (n/N) / (a/A).

    Parameters
    ----------
    scores, counts, areas, coverage
        As for :func:`hit_rate`; a/A equals ``coverage`` exactly (partial last unit).

    Returns
    -------
    float
        PAI; 1 is no better than chance, NaN when N = 0.

    References
    ----------
    Chainey, S., Tompson, L. and Uhlig, S. (2008). The utility of hotspot mapping for predicting spatial
    patterns of crime. *Security Journal* 21(1-2), 4-28.
    """
    return hit_rate(scores, counts, areas, coverage) / coverage


def pei(scores: npt.ArrayLike, counts: npt.ArrayLike, areas: npt.ArrayLike, coverage: float) -> float:
    """Predictive Efficiency Index: the PAI over the PAI of the best possible selection of the same area.

    Parameters
    ----------
    scores, counts, areas, coverage
        As for :func:`hit_rate`. With the partial-unit rule the best selection is the greedy one by
        observed density (count / area), so the ratio is exact.

    Returns
    -------
    float
        PEI in [0, 1]; NaN when no events fall in the best selection.

    References
    ----------
    Hunt, J. M. (2016). *Do crime hot spots move? Exploring the effects of the modifiable areal unit problem
    and modifiable temporal unit problem on crime hot spot stability.* PhD thesis, American University.

    Chainey, S., Tompson, L. and Uhlig, S. (2008). The utility of hotspot mapping for predicting spatial
    patterns of crime. *Security Journal* 21(1-2), 4-28 (the PAI).
    """
    s, n, a = _arrays(scores, counts, areas)
    best = _captured(n / a, n, a, coverage)
    return _captured(s, n, a, coverage) / best if best > 0 else float("nan")


def forecast_scores(
    scores: npt.ArrayLike,
    counts: npt.ArrayLike,
    areas: npt.ArrayLike,
    coverages: tuple[float, ...] = DEFAULT_COVERAGES,
) -> pd.DataFrame:
    """Hit rate, PAI and PEI at several area coverages, for reports beside baselines.

    Parameters
    ----------
    scores, counts, areas
        As for :func:`hit_rate`.
    coverages : tuple of float, default (0.01, 0.05, 0.10)
        Area shares to evaluate.

    Returns
    -------
    pandas.DataFrame
        One row per coverage: ``coverage``, ``hit_rate``, ``pai``, ``pei``.
    """
    return pd.DataFrame(
        {
            "coverage": coverages,
            "hit_rate": [hit_rate(scores, counts, areas, c) for c in coverages],
            "pai": [pai(scores, counts, areas, c) for c in coverages],
            "pei": [pei(scores, counts, areas, c) for c in coverages],
        }
    )

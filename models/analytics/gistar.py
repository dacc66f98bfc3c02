"""Getis-Ord Gi* hot-spot statistic on a grid of counts, as ArcGIS *Hot Spot Analysis* computes it.

Binary weights (a cell's neighbours within a distance band, or queen contiguity, always including
the cell itself) make every sum a convolution, so the z-scores equal
``esda.G_Local(y, w, star=True, transform='B').Zs`` without any per-cell loop.  Bins −3..+3 mark
99/95/90 % confidence, optionally with the Benjamini–Hochberg false discovery rate correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.signal import fftconvolve
from scipy.stats import norm

#: Confidence bins: (bin magnitude, two-sided significance level).
CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((1, 0.10), (2, 0.05), (3, 0.01))


@dataclass(frozen=True)
class GiStarResult:
    """Per-cell Gi* z-score, two-sided p-value and bin −3..+3 (NaN / 1 / 0 outside the mask)."""

    z: np.ndarray
    p: np.ndarray
    bin: np.ndarray


def neighbourhood(distance_cells: float = 1.5, contiguity: Literal["distance", "queen"] = "distance") -> np.ndarray:
    """Binary kernel of the cells whose centres lie within ``distance_cells`` (inclusive) of the middle one."""
    if contiguity == "queen":
        return np.ones((3, 3))
    if distance_cells < 0:
        raise ValueError("distance_cells must be non-negative")
    r = int(np.floor(distance_cells + 1e-9))
    dx, dy = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    return (dx * dx + dy * dy <= distance_cells**2 + 1e-9).astype(float)


def _convolve(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each cell's neighbourhood (kernels are symmetric)."""
    return fftconvolve(values, kernel, mode="same")


def bh_critical_p(p: np.ndarray, alpha: float) -> float:
    """Largest p-value rejected by Benjamini–Hochberg at false discovery rate ``alpha`` (−1 if none)."""
    ranked = np.sort(np.asarray(p, float).ravel())
    passed = np.flatnonzero(ranked <= alpha * np.arange(1, ranked.size + 1) / ranked.size)
    return float(ranked[passed[-1]]) if passed.size else -1.0


def significance_bins(z: np.ndarray, p: np.ndarray, fdr: bool = True) -> np.ndarray:
    """ArcGIS confidence bins −3..+3 for the given z and p (FDR: critical p per level over all cells given)."""
    magnitude = np.zeros(z.shape, np.int8)
    for level, alpha in CONFIDENCE_LEVELS:
        critical = bh_critical_p(p, alpha) if fdr else alpha
        magnitude[p <= critical] = level
    return (np.sign(z) * magnitude).astype(np.int8)


def gistar(
    counts: np.ndarray,
    mask: np.ndarray | None = None,
    distance_cells: float = 1.5,
    contiguity: Literal["distance", "queen"] = "distance",
    fdr: bool = True,
) -> GiStarResult:
    """Getis-Ord Gi* z-score, p-value and confidence bin of each cell of a grid of counts.

    Equal to ``esda.G_Local(y, w, star=True, transform="B").Zs`` for binary weights that include the
    cell itself, and to ArcGIS *Hot Spot Analysis (Getis-Ord Gi*)* with a fixed distance band.

    Parameters
    ----------
    counts : ndarray, shape (ny, nx)
        Incidents (or any non-negative value) per cell, e.g. ``GridSpec.counts(x, y)``.
    mask : ndarray of bool, shape (ny, nx), optional
        The study area: cells outside take no part in the mean, the variance or any neighbourhood
        (e.g. the sea). Default: every cell.
    distance_cells : float, default 1.5
        Neighbourhood radius in cells, centre to centre, inclusive (1.5 = the 8 touching cells).
    contiguity : {"distance", "queen"}, default "distance"
        ``"queen"`` ignores ``distance_cells`` and takes the 3 × 3 block.
    fdr : bool, default True
        Benjamini-Hochberg false discovery rate correction of the bins (ArcGIS's "Apply FDR correction").

    Returns
    -------
    GiStarResult
        ``z`` and ``p`` (two-sided) per cell, NaN / 1 outside the mask, and ``bin`` −3..+3: hot (+) or
        cold (−) at 90 / 95 / 99 % confidence, 0 not significant.

    Raises
    ------
    ValueError
        If the mask does not have the shape of ``counts`` or holds fewer than two cells.

    References
    ----------
    Getis, A. and Ord, J. K. (1992). The analysis of spatial association by use of distance statistics.
    *Geographical Analysis* 24(3), 189-206.

    Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics: distributional issues and an
    application. *Geographical Analysis* 27(4), 286-306.

    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate: a practical and powerful
    approach to multiple testing. *Journal of the Royal Statistical Society B* 57(1), 289-300.
    """
    x = np.asarray(counts, float)
    inside = np.ones(x.shape, bool) if mask is None else np.asarray(mask, bool)
    if inside.shape != x.shape:
        raise ValueError("mask must have the shape of counts")
    n = int(inside.sum())
    if n < 2:
        raise ValueError("Gi* needs at least two cells in the study area")
    kernel = neighbourhood(distance_cells, contiguity)
    xm = np.where(inside, x, 0.0)
    mean = xm.sum() / n
    sd = np.sqrt(max((xm * xm).sum() / n - mean * mean, 0.0))
    card = np.rint(_convolve(inside.astype(float), kernel))  # neighbours incl. self, exact integers
    lag = _convolve(xm, kernel)
    spread = sd * np.sqrt(np.clip(n * card - card * card, 0, None) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(spread > 0, (lag - mean * card) / spread, 0.0)
    z = np.where(inside, z, np.nan)
    p = np.where(inside, 2 * norm.sf(np.abs(np.nan_to_num(z))), 1.0)
    bins = np.zeros(x.shape, np.int8)
    bins[inside] = significance_bins(z[inside], p[inside], fdr)
    return GiStarResult(z=z, p=p, bin=bins)

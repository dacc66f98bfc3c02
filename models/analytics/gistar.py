"""Getis-Ord Gi* hot-spot statistic on a grid of counts, as ArcGIS *Hot Spot Analysis* computes it.

Binary weights (a cell's neighbours within a distance band, or queen contiguity, always including
the cell itself) over the cells of a study area (``models.analytics.lattice``): the z-scores equal
``esda.G_Local(y, w, star=True, transform='B').Zs``. Bins −3..+3 mark 99/95/90 % confidence,
optionally with the Benjamini–Hochberg false discovery rate correction.

A cell with no neighbour but itself has no local statistic (its "z" would only compare the cell
with the city mean): like ArcGIS ("feature has no neighbours") it is flagged, gets no z, p or bin
and is left out of the FDR family. For sparse counts, where the normal approximation is poor,
conditional-permutation pseudo p-values (esda's ``p_sim``) are available.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.special import erfc

from models.analytics.grid import GridSpec
from models.analytics.lattice import Lattice, neighbourhood

__all__ = ["CONFIDENCE_LEVELS", "GiStarResult", "bh_critical_p", "gistar", "gistar_lattice", "neighbourhood"]

#: Confidence bins: (bin magnitude, two-sided significance level).
#: The command map's Gi* cells (``GET /api/gistar`` by default), stated by its legend (maps.styles.gistar_legend).
MAP_CELL_M = 250.0
CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((1, 0.10), (2, 0.05), (3, 0.01))


@dataclass(frozen=True)
class GiStarResult:
    """Per-cell Gi* z-score, two-sided p-value, bin −3..+3 and the no-neighbour flag.

    z and p are NaN for cells without neighbours (and, on a grid, NaN / 1 outside the study area).
    ``p_sim`` holds the one-sided conditional-permutation pseudo p-values when permutations were asked
    for (then ``p`` = min(1, 2·p_sim), the two-sided value the bins use), else None.
    """

    z: np.ndarray
    p: np.ndarray
    bin: np.ndarray
    no_neighbours: np.ndarray
    p_sim: np.ndarray | None = None


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided p-value of standard normal scores: 2·P(Z > |z|) = erfc(|z|/√2), as scipy.stats.norm.sf gives it
    (scipy.special is already loaded; scipy.stats would add ~40 MB to every server process)."""
    return erfc(np.abs(z) / np.sqrt(2.0))


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


def gi_star_z(lag: np.ndarray, card: np.ndarray, mean: float, sd: float, n: int) -> np.ndarray:
    """Gi* z from neighbourhood sums and sizes and the global mean, sd and count (NaN without neighbours)."""
    spread = sd * np.sqrt(np.clip(n * card - card * card, 0, None) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(spread > 0, (lag - mean * card) / spread, 0.0)
    return np.where(card > 1, z, np.nan)


#: Random keys sorted per chunk of rows at most, when rows are drawn as the first ``k`` of a random order.
_KEYS_PER_CHUNK = 4_000_000


def _draw_distinct(rng: np.random.Generator, n: int, k: int, size: int) -> np.ndarray:
    """``size`` rows of ``k`` distinct integers in 0..n-1.

    Drawn with repeats and the rows holding one drawn again while that is likely to end (k² ≤ n: a row is free of
    repeats with probability about exp(−k²/2n) ≥ 0.6); else each row is the first ``k`` of a random order of the
    ``n`` (random keys, in chunks of rows). A neighbourhood near the size of the study area (5 km cells, a distance
    of 10 cells) had drawn again without end, holding a server's analysis slot for good (found by fuzzing)."""
    if k * k > n:
        rows = max(1, _KEYS_PER_CHUNK // n)
        return (
            np.concatenate(
                [rng.random((min(rows, size - start), n)).argsort(axis=1)[:, :k] for start in range(0, size, rows)]
            )
            if size
            else np.empty((0, k), np.int64)
        )
    draws = rng.integers(0, n, (size, k))
    while k > 1:
        ordered = np.sort(draws, axis=1)
        again = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not again.any():
            break
        draws[again] = rng.integers(0, n, (int(again.sum()), k))
    return draws


def permutation_p(
    x: np.ndarray, lag: np.ndarray, card: np.ndarray, permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Conditional-permutation pseudo p-values (esda ``p_sim``, one-sided towards the observed side).

    Under conditional randomisation a cell keeps its own value and its ``card − 1`` neighbours are a
    random draw from the other cells' values, so cells sharing (value, card) share one null
    distribution: it is drawn once per such group, which makes the test cheap on sparse counts.
    Ties with the observed sum count on both sides. esda counts them only upwards, so with sparse
    counts a neighbourhood holding nothing (the smallest possible sum, tied with most draws) gets
    p_sim = 1/(P+1) there and reads as a significant cold spot; here it is not significant.
    """
    n = x.size
    p_sim = np.full(n, np.nan)
    tested = card > 1
    groups = np.unique(np.column_stack([x[tested], card[tested]]), axis=0)
    for value, k in groups:
        members = np.flatnonzero(tested & (x == value) & (card == k))
        others = np.delete(x, members[0])  # every value but one occurrence of this cell's own
        null = value + others[_draw_distinct(rng, n - 1, int(k) - 1, permutations)].sum(axis=1)
        null.sort()
        upper = permutations - np.searchsorted(null, lag[members] - 1e-9, side="left")  # null ≥ observed
        lower = np.searchsorted(null, lag[members] + 1e-9, side="right")  # null ≤ observed
        p_sim[members] = (np.minimum(upper, lower) + 1.0) / (permutations + 1.0)
    return p_sim


def gistar_lattice(
    values: np.ndarray, weights: sparse.csr_matrix, fdr: bool = True, permutations: int = 0, seed: int = 0
) -> GiStarResult:
    """Gi* of every cell of a study area from its values (n,) and binary neighbourhood matrix (self included)."""
    x = np.asarray(values, float)
    n = x.size
    if n < 2:
        raise ValueError("Gi* needs at least two cells in the study area")
    mean = x.mean()
    sd = np.sqrt(max((x * x).mean() - mean * mean, 0.0))
    card = np.asarray(weights.sum(axis=1)).ravel()
    lag = weights @ x
    z = gi_star_z(lag, card, mean, sd, n)
    no_neighbours = card <= 1
    p_sim = permutation_p(x, lag, card, permutations, np.random.default_rng(seed)) if permutations else None
    if p_sim is None:
        p = np.where(no_neighbours, np.nan, two_sided_p(np.nan_to_num(z)))
    else:
        p = np.minimum(1.0, 2 * p_sim)
    bins = np.zeros(n, np.int8)
    tested = ~no_neighbours
    bins[tested] = significance_bins(z[tested], p[tested], fdr)
    return GiStarResult(z=z, p=p, bin=bins, no_neighbours=no_neighbours, p_sim=p_sim)


def gistar(
    counts: np.ndarray,
    mask: np.ndarray | None = None,
    distance_cells: float = 1.5,
    contiguity: Literal["distance", "queen"] = "distance",
    fdr: bool = True,
    permutations: int = 0,
    seed: int = 0,
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
    permutations : int, default 0
        When > 0, conditional-permutation p-values (each cell's neighbours drawn from the other cells) replace
        the normal approximation, for sparse counts; cells without neighbours are flagged, never scored alone.
    seed : int, default 0
        Random seed of the permutations.

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
    lattice = Lattice.from_mask(GridSpec(0.0, 0.0, 1.0, x.shape[1], x.shape[0]), inside)
    result = gistar_lattice(
        x.ravel()[lattice.cells], lattice.weights(distance_cells, contiguity), fdr, permutations, seed
    )
    return GiStarResult(
        z=lattice.to_grid(result.z),
        p=lattice.to_grid(result.p, 1.0),
        bin=lattice.to_grid(result.bin, 0).astype(np.int8),
        no_neighbours=lattice.to_grid(result.no_neighbours, False).astype(bool),
        p_sim=None if result.p_sim is None else lattice.to_grid(result.p_sim),
    )

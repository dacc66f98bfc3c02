"""Gi* z-scores must equal esda's G_Local(star=True, transform='B'); bins follow ArcGIS with FDR."""

import warnings

import numpy as np
import pytest
from esda import G_Local
from libpysal.weights import DistanceBand, lat2W

from models.analytics.gistar import (
    bh_critical_p,
    gistar,
    neighbourhood,
    significance_bins,
)


def esda_z(counts: np.ndarray, mask: np.ndarray, distance: float) -> np.ndarray:
    """esda Gi* z over the masked cells with a binary distance band on cell centres."""
    iy, ix = np.nonzero(mask)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = DistanceBand(
            np.column_stack([ix, iy]).astype(float), threshold=distance, binary=True, silence_warnings=True
        )
        return G_Local(counts[mask].astype(float), w, transform="B", star=True, permutations=0).Zs


@pytest.mark.parametrize("distance", [1.0, 1.5, 2.3, 3.7])
def test_matches_esda_on_distance_band(distance: float) -> None:
    rng = np.random.default_rng(int(distance * 10))
    counts = rng.poisson(2.0, (17, 23)) * (rng.random((17, 23)) < 0.6)
    counts[5:8, 10:13] += 9
    mask = np.ones(counts.shape, bool)
    result = gistar(counts, mask, distance)
    np.testing.assert_allclose(result.z[mask], esda_z(counts, mask, distance), atol=1e-6)


def test_matches_esda_inside_irregular_mask() -> None:
    rng = np.random.default_rng(3)
    counts = rng.poisson(1.5, (20, 20))
    yy, xx = np.mgrid[:20, :20]
    mask = (xx - 9.5) ** 2 + (yy - 9.5) ** 2 < 81
    counts[~mask] = 1000  # outside cells must be ignored entirely
    result = gistar(counts, mask, 2.0)
    np.testing.assert_allclose(result.z[mask], esda_z(counts, mask, 2.0), atol=1e-6)
    assert np.isnan(result.z[~mask]).all() and (result.bin[~mask] == 0).all()


def test_queen_matches_lat2w() -> None:
    rng = np.random.default_rng(4)
    counts = rng.poisson(3.0, (12, 15)).astype(float)
    w = lat2W(12, 15, rook=False)  # ids run row by row, like a C-order ravel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = G_Local(counts.ravel(), w, transform="B", star=True, permutations=0).Zs
    np.testing.assert_allclose(gistar(counts, None, contiguity="queen").z.ravel(), ref, atol=1e-6)


def test_neighbourhood_kernel() -> None:
    assert neighbourhood(1.0).sum() == 5
    assert neighbourhood(1.5).sum() == 9
    assert neighbourhood(2.0).sum() == 13
    assert neighbourhood(contiguity="queen").sum() == 9


def test_planted_hotspot_is_hot_with_fdr() -> None:
    rng = np.random.default_rng(0)
    counts = rng.poisson(1.0, (40, 40)).astype(float)
    counts[18:22, 18:22] += 12
    result = gistar(counts, None, 2.0, fdr=True)
    assert (result.bin[19:21, 19:21] == 3).all()
    assert (result.bin >= 0).sum() > 0 and result.bin.min() >= -3 and result.bin.max() <= 3
    assert (np.abs(gistar(counts, None, 2.0, fdr=False).bin) > 0).sum() >= (np.abs(result.bin) > 0).sum()


def test_bins_without_fdr_follow_confidence_levels() -> None:
    z = np.array([3.0, 2.0, 1.7, 1.0, -2.7, -1.7])
    p = np.array([0.002, 0.04, 0.09, 0.3, 0.007, 0.09])
    np.testing.assert_array_equal(significance_bins(z, p, fdr=False), [3, 2, 1, 0, -3, -1])


def test_benjamini_hochberg_critical_value() -> None:
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    assert bh_critical_p(p, 0.05) == 0.008
    assert bh_critical_p(np.array([0.5, 0.9]), 0.05) == -1.0


def test_constant_counts_give_zero_z() -> None:
    result = gistar(np.full((5, 5), 2.0), None, 1.5)
    assert (result.z == 0).all() and (result.bin == 0).all()


def test_a_cell_without_neighbours_is_flagged_not_scored() -> None:
    # Nine incidents on a cell with no study-area neighbour: its self-only "z" (≈ 10) would only compare it
    # with the city mean. Like ArcGIS, it is flagged and left out of the statistics' bins and the FDR family.
    counts = np.zeros((20, 20))
    counts[2:6, 2:6] = np.random.default_rng(1).poisson(1.0, (4, 4))
    counts[15, 15] = 9
    mask = np.zeros(counts.shape, bool)
    mask[0:10, 0:10] = True
    mask[15, 15] = True
    result = gistar(counts, mask, 1.5)
    assert result.no_neighbours[15, 15] and result.no_neighbours.sum() == 1
    assert np.isnan(result.z[15, 15]) and np.isnan(result.p[15, 15]) and result.bin[15, 15] == 0
    np.testing.assert_allclose(result.z[0:10, 0:10], esda_z(counts, mask, 1.5)[:100].reshape(10, 10), atol=1e-6)


def test_permutation_p_values_agree_with_esda_where_esda_is_sound() -> None:
    rng = np.random.default_rng(5)
    counts = rng.poisson(0.3, (15, 15)).astype(float)
    counts[6:9, 6:9] += rng.poisson(2, (3, 3))
    mask = np.ones(counts.shape, bool)
    iy, ix = np.nonzero(mask)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = DistanceBand(np.column_stack([ix, iy]).astype(float), threshold=1.5, binary=True, silence_warnings=True)
        ref = G_Local(counts[mask], w, transform="B", star=True, permutations=9999, seed=1)
    ours = gistar(counts, mask, 1.5, permutations=9999, seed=2)
    # In the upper tail both count the draws at least as large as the observed neighbourhood sum.
    upper = (ours.z[mask] > 0) & (ref.p_sim < 0.25)
    assert upper.sum() > 20
    np.testing.assert_allclose(ours.p_sim[mask][upper], ref.p_sim[upper], atol=0.02)
    np.testing.assert_allclose(ours.p[mask], np.minimum(1, 2 * ours.p_sim[mask]))


def test_permutations_do_not_call_an_empty_neighbourhood_a_cold_spot() -> None:
    # Sparse counts: most neighbourhoods hold nothing, the smallest possible sum. esda's folded p_sim counts
    # ties upwards only and gives them 1/(P+1); counting ties both ways they are not significant.
    counts = np.zeros((30, 30))
    counts[10:13, 10:13] = 4
    result = gistar(counts, None, 1.5, fdr=False, permutations=999, seed=0)
    assert (result.bin >= 0).all() and (result.bin[10:13, 10:13] > 0).all()
    assert result.p_sim[25, 25] > 0.5


def test_a_neighbourhood_nearly_as_large_as_the_study_area_is_drawn_without_repeats_and_ends() -> None:
    """k distinct of n with k² > n: drawing again the rows with a repeat had gone on without end (n − 1 of n: no row
    is ever free of repeats), holding a server's analysis slot for good."""
    from models.analytics.gistar import _draw_distinct

    rng = np.random.default_rng(0)
    for n, k in ((40, 39), (1000, 317), (50, 50)):
        rows = _draw_distinct(rng, n, k, 999)
        assert rows.shape == (999, k) and rows.min() >= 0 and rows.max() < n
        assert (np.diff(np.sort(rows, axis=1), axis=1) > 0).all()

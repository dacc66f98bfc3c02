"""Sparse study-area lattices: neighbourhood sums equal a dense convolution, positions and grids round-trip."""

import numpy as np
from scipy.signal import convolve2d

from models.analytics.grid import GridSpec
from models.analytics.lattice import Lattice, neighbourhood


def test_weights_sum_like_a_dense_convolution_inside_an_irregular_area() -> None:
    rng = np.random.default_rng(7)
    grid = GridSpec(0.0, 0.0, 100.0, 31, 17)
    mask = rng.random(grid.shape) < 0.55
    values = rng.poisson(2.0, grid.shape) * mask
    lattice = Lattice.from_mask(grid, mask)
    for distance in (1.0, 1.5, 2.3):
        w = lattice.weights(distance)
        kernel = neighbourhood(distance)
        dense_lag = convolve2d(values, kernel, mode="same")[mask]
        dense_card = convolve2d(mask.astype(float), kernel, mode="same")[mask]
        np.testing.assert_allclose(w @ values.ravel()[lattice.cells], dense_lag)
        np.testing.assert_allclose(np.asarray(w.sum(axis=1)).ravel(), dense_card)
    # A neighbour across the grid's east edge is not the next row's first cell.
    edge = Lattice.from_mask(GridSpec(0, 0, 1, 3, 2), np.array([[0, 0, 1], [1, 0, 0]], bool))
    assert np.asarray(edge.weights(1.5).sum(axis=1)).ravel().tolist() == [1, 1]


def test_positions_union_and_grid_round_trip() -> None:
    grid = GridSpec(0.0, 0.0, 10.0, 4, 3)
    lattice = Lattice.from_flat(grid, np.array([5, 1, 5, -1, 11]))
    assert lattice.cells.tolist() == [1, 5, 11]
    assert lattice.position(np.array([5, 2, 11, -1])).tolist() == [1, -1, 2, -1]
    assert lattice.union(np.array([2, -1])).cells.tolist() == [1, 2, 5, 11]
    back = lattice.to_grid(np.array([1.0, 2.0, 3.0]))
    assert back.shape == (3, 4) and back.ravel()[5] == 2.0 and np.isnan(back.ravel()[0])

"""The grid SEPP recovers the parameters it was simulated with; bootstrap intervals of paired differences."""

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from models.analytics.grid import GridSpec
from models.analytics.lattice import Lattice
from models.forecast.intervals import bootstrap_mean, leaderboard
from models.forecast.sepp import decayed, fit_sepp, forecast_sepp, smooth


def simulate(mu: np.ndarray, theta: float, omega: float, weeks: int, seed: int) -> np.ndarray:
    """Weekly counts of a per-cell discrete Hawkes process: λ = μ + θ (1 − e^{−ω}) R (no near-repeat)."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((weeks, mu.size))
    r = np.zeros(mu.size)
    for w in range(weeks):
        if w:
            r = np.exp(-omega) * r + counts[w - 1]
        counts[w] = rng.poisson(mu + theta * (1 - np.exp(-omega)) * r)
    return counts


def test_em_recovers_the_self_excitation_of_a_simulated_process() -> None:
    lattice = Lattice.from_mask(GridSpec(0, 0, 200, 40, 40), np.ones((40, 40), bool))
    mu = np.full(lattice.n, 0.02)
    mu[lattice.position(np.array([410, 411, 450, 451]))] = 0.6  # a persistent hotspot
    counts = simulate(mu, theta=0.4, omega=0.5, weeks=200, seed=1)
    model = fit_sepp(counts, lattice, training_weeks=200)
    assert model.omega == 0.5
    assert abs(model.theta_self - 0.4) < 0.08 and model.theta_near < 0.08
    assert abs(model.mu.sum() - mu.sum()) / mu.sum() < 0.15
    # The forecast adds what the last weeks still trigger to the background.
    expected = forecast_sepp(model, counts, lattice, 4)
    assert expected.argmax() in lattice.position(np.array([410, 411, 450, 451]))
    np.testing.assert_allclose(decayed(np.array([[1.0], [0.0], [0.0]]), np.log(2))[:, 0], [0, 1, 0.5])


def test_smoothing_over_the_cells_box_is_the_whole_grids_to_the_bit() -> None:
    """The background's smoothing filters only the box around the lattice's cells: the same values, bit for bit, as
    the Gaussian over the whole grid, cells on the box's edges and a lone cell far from the others included."""
    rng = np.random.default_rng(2)
    grid = GridSpec(0, 0, 200, 120, 90)
    mask = np.zeros(grid.shape, bool)
    mask[30:70, 20:55] = rng.random((40, 35)) < 0.6
    mask[85, 5] = True
    lattice = Lattice.from_mask(grid, mask)
    values = rng.random(lattice.n) * (rng.random(lattice.n) < 0.3)
    for sigma in (0.5, 1.0, 2.0, 3.5):
        whole = gaussian_filter(lattice.to_grid(values, 0.0), sigma, mode="constant").ravel()[lattice.cells]
        assert smooth(lattice, values, sigma).tobytes() == whole.tobytes()


def test_bootstrap_interval_of_paired_differences() -> None:
    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_product([range(8), range(13)], names=["seed", "period"])
    ahead = pd.Series(0.5 + rng.normal(0, 1, len(index)), index=index)
    low, high = bootstrap_mean(ahead)
    assert 0 < low < 0.5 < high
    rows = []
    for (seed, period), diff in ahead.items():
        rows += [
            {"method": "m", "seed": seed, "period": period, "coverage": 0.05, "pai": 10 + diff},
            {"method": "b", "seed": seed, "period": period, "coverage": 0.05, "pai": 10.0},
            {"method": "c", "seed": seed, "period": period, "coverage": 0.05, "pai": 10 + diff + rng.normal(0, 0.01)},
        ]
    board = leaderboard(pd.DataFrame(rows), "m", ["b", "c"]).set_index("baseline")
    assert board.loc["b", "ahead"] and not board.loc["c", "ahead"]
    assert abs(board.loc["b", "difference"] - ahead.mean()) < 1e-12

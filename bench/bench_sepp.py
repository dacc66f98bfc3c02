"""Benchmark: the grid SEPP's EM over the entries holding events (models.forecast.sepp) against the same EM over
every (week, cell) entry, on one realistic SYNTHETIC scenario's patrollable grid.

Run: ``.venv/bin/python bench/bench_sepp.py [--quick]`` (prints both times, the ratio and the largest parameter
difference; one ω and one background smoothing, as inside one step of fit_sepp).
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import geopandas as gpd
import numpy as np

from gis.settings import DataSettings
from models.forecast.grid_evaluation import HELD_OUT_WEEKS, active_cells, scenario_grid
from models.forecast.sepp import EM_ITERATIONS, TRAINING_WEEKS, decayed, fit_one, neighbour_mean, smooth
from models.synthetic.scenario import ScenarioConfig

OMEGA, SIGMA = 0.5, 1.5


def dense_em(counts: np.ndarray, lattice, near, first: int) -> tuple[float, float, np.ndarray]:  # noqa: ANN001
    """The textbook EM: intensities and shares on every (week, cell) entry."""
    r_self = decayed(counts, OMEGA)
    r_near = (near @ r_self.T).T
    k = 1 - np.exp(-OMEGA)
    n = counts[first:]
    a, b = k * r_self[first:], k * r_near[first:]
    mu = np.maximum(n.mean(axis=0), 1e-12) * 0.5
    theta_self = theta_near = 0.1
    for _ in range(EM_ITERATIONS):
        share = n / (mu[None, :] + theta_self * a + theta_near * b)
        mu = np.maximum(smooth(lattice, (share * mu[None, :]).sum(axis=0), SIGMA) / n.shape[0], 1e-12)
        theta_self = float((share * theta_self * a).sum() / a.sum())
        theta_near = float((share * theta_near * b).sum() / b.sum())
    return theta_self, theta_near, mu


def main() -> None:
    """Time both EMs on the same counts and print the speed-up and the agreement."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 incidents instead of 30,000")
    n = 10_000 if parser.parse_args().quick else 30_000
    communes = gpd.read_file(DataSettings().boundaries)
    data = scenario_grid(communes, ScenarioConfig.realistic(seed=1, years=3, n_incidents=n, end=date(2025, 12, 31)))
    sub, where = active_cells(data)
    local = np.full(data.lattice.n, -1)
    local[where] = np.arange(where.size)
    weekly = np.zeros((data.weeks, sub.n))
    np.add.at(weekly, (data.week, local[data.cell]), 1.0)
    counts = weekly[: data.weeks - HELD_OUT_WEEKS]
    first = max(counts.shape[0] - TRAINING_WEEKS, 1)
    near = neighbour_mean(sub)
    print(
        f"{n:,} incidents, {sub.n:,} cells near an incident × {counts.shape[0] - first} weeks, {EM_ITERATIONS} iterations"
    )
    t = time.perf_counter()
    ours = fit_one(counts, sub, near, OMEGA, first, SIGMA)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    theta_self, theta_near, mu = dense_em(counts, sub, near, first)
    t_dense = time.perf_counter() - t
    print(f"events-only EM {t_ours:8.3f} s")
    print(f"dense EM       {t_dense:8.3f} s")
    print(f"speed-up       {t_dense / t_ours:8.1f}x")
    print(
        f"max |Δθ| {max(abs(ours.theta_self - theta_self), abs(ours.theta_near - theta_near)):.2e},"
        f" max |Δμ| {np.abs(ours.mu - mu).max():.2e}"
    )


if __name__ == "__main__":
    main()

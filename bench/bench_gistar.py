"""Benchmark: grid Gi* (models.analytics.gistar) against esda.G_Local(star=True, transform='B') on a count grid.

Run: ``.venv/bin/python bench/bench_gistar.py [--quick]`` (prints both times, ratio and max |Δz|).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from esda import G_Local
from libpysal.weights import DistanceBand

from models.analytics.gistar import gistar

DISTANCE_CELLS = 3.0


def count_grid(size: int, seed: int = 0) -> np.ndarray:
    """A size×size grid of Poisson counts with a few planted hot blocks."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(0.8, (size, size)).astype(float)
    for cy, cx in rng.integers(5, size - 5, (size // 10, 2)):
        counts[cy - 3 : cy + 3, cx - 3 : cx + 3] += rng.poisson(4.0, (6, 6))
    return counts


def run_ours(counts: np.ndarray) -> tuple[np.ndarray, float]:
    """z-scores and seconds for models.analytics.gistar."""
    t = time.perf_counter()
    z = gistar(counts, None, DISTANCE_CELLS).z
    return z, time.perf_counter() - t


def run_esda(counts: np.ndarray) -> tuple[np.ndarray, float, float]:
    """z-scores, seconds to build the weights and seconds for G_Local (analytical only)."""
    iy, ix = np.indices(counts.shape).reshape(2, -1)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = DistanceBand(
            np.column_stack([ix, iy]).astype(float), threshold=DISTANCE_CELLS, binary=True, silence_warnings=True
        )
        t_w = time.perf_counter() - t
        t = time.perf_counter()
        z = G_Local(counts.ravel(), w, transform="B", star=True, permutations=0).Zs
    return z.reshape(counts.shape), t_w, time.perf_counter() - t


def main() -> None:
    """Time both on the same grid and print the speed-up and the largest z difference."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100×100 grid instead of 200×200")
    size = 100 if parser.parse_args().quick else 200
    counts = count_grid(size)
    print(f"{size}x{size} grid, distance band {DISTANCE_CELLS:g} cells")
    ours, t_ours = run_ours(counts)
    ref, t_w, t_g = run_esda(counts)
    print(f"ours     {t_ours:8.4f} s")
    print(f"esda     {t_w + t_g:8.4f} s  (weights {t_w:.3f} s + G_Local {t_g:.3f} s)")
    print(f"speed-up {(t_w + t_g) / t_ours:8.1f}x  (G_Local alone {t_g / t_ours:.1f}x)")
    print(f"max |dz| {np.max(np.abs(ours - ref)):.2e}")


if __name__ == "__main__":
    main()

"""Benchmark: binned FFT kernel density (models.analytics.kde) against sklearn's KernelDensity.

Run: ``.venv/bin/python bench/bench_heat.py [--quick]`` (targets: ≥ 50× faster, max error < 1 % of peak).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from common import import_as_owner, incident_csv, plain_copy_seconds, prepared_engine, timed
from sklearn.neighbors import KernelDensity

from gis.ops.postgres import temporary_cluster
from gis.services.analyses import heat_surface
from gis.store.incidents import IncidentSelection
from models.analytics.grid import GridSpec
from models.analytics.kde import kde_grid

AREA_M = 20_000.0
BANDWIDTH_M = 500.0
KERNEL = "gaussian"


def incident_points(n: int, seed: int = 0) -> np.ndarray:
    """n UTM-like points: half around 40 Gaussian hotspots, half uniform over the area."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, AREA_M, (40, 2))
    which = rng.integers(0, 40, n // 2)
    clustered = centres[which] + rng.normal(0, 300, (n // 2, 2))
    pts = np.vstack([clustered, rng.uniform(0, AREA_M, (n - n // 2, 2))])
    return pts + [600_000.0, 2_300_000.0]


def area_grid(size: int) -> GridSpec:
    """A size×size grid over the study area."""
    return GridSpec(600_000.0, 2_300_000.0, AREA_M / size, size, size)


def run_ours(pts: np.ndarray, grid: GridSpec) -> tuple[np.ndarray, float]:
    """Density grid and seconds for models.analytics.kde.kde_grid."""
    return timed(lambda: kde_grid(pts[:, 0], pts[:, 1], grid, BANDWIDTH_M, KERNEL))


def run_sklearn(pts: np.ndarray, grid: GridSpec) -> tuple[np.ndarray, float]:
    """Density grid and seconds for sklearn KernelDensity evaluated at the cell centres."""
    cx, cy = grid.centres()
    centres = np.column_stack([cx.ravel(), cy.ravel()])
    model = KernelDensity(bandwidth=BANDWIDTH_M, kernel=KERNEL)
    return timed(lambda: np.exp(model.fit(pts).score_samples(centres)).reshape(grid.shape))


def compare(n: int) -> None:
    """Print both times, the speed-up and the error relative to the peak on a 100×100 grid."""
    pts, grid = incident_points(n), area_grid(100)
    ours, t_ours = run_ours(pts, grid)
    ref, t_ref = run_sklearn(pts, grid)
    print(f"{n:,} points on 100x100, {KERNEL} h={BANDWIDTH_M:g} m")
    print(f"ours     {t_ours:8.4f} s")
    print(f"sklearn  {t_ref:8.2f} s")
    print(f"speed-up {t_ref / t_ours:8.0f}x (target >= 50x)")
    print(f"max |diff| / peak {np.abs(ours - ref).max() / ref.max():.3%} (target < 1%)")


def scale(n: int, size: int) -> None:
    """Print our time alone on a large input."""
    _, t = run_ours(incident_points(n), area_grid(size))
    print(f"ours on {n:,} points, {size}x{size} grid: {t:.3f} s")


def against_copy(n: int) -> None:
    """The whole heat-map request path from PostGIS (select, project, KDE) beside a plain COPY of the data."""
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        csv_path = incident_csv(n, Path(tmp))
        engine = prepared_engine(cluster)
        copy_s = plain_copy_seconds(cluster, csv_path)
        import_as_owner(cluster, csv_path)  # yearly partitions, as deployed
        with engine.connect() as conn:
            start = time.perf_counter()
            surface = heat_surface(conn, IncidentSelection(), cell_m=100.0, bandwidth_m=200.0)
            heat_s = time.perf_counter() - start
        engine.dispose()
    print(
        f"{n:,} incidents in PostGIS: heat surface {surface.grid.nx}x{surface.grid.ny} cells from the database"
        f" {heat_s:.2f} s; plain COPY of the same incidents {copy_s:.2f} s; ratio {heat_s / copy_s:.2f}x"
        f" (target <= 1x)"
    )


def main() -> None:
    """Run the comparison, then the large-scale timing."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 points in the comparison")
    quick = parser.parse_args().quick
    compare(20_000 if quick else 100_000)
    scale(1_000_000, 500)
    against_copy(100_000 if quick else 1_000_000)


if __name__ == "__main__":
    main()

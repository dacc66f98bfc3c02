"""Benchmark: grid DBSCAN (models.analytics.dbscan) against sklearn's ball-tree DBSCAN on planted hotspots.

Run: ``.venv/bin/python bench/bench_hotspots.py [--quick]`` (targets: ≥ 10× faster, ARI ≥ 0.99).
"""

from __future__ import annotations

import argparse

import numpy as np
from common import timed
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from models.analytics.dbscan import dbscan

EPS_M = 50.0
MIN_SAMPLES = 20
AREA_M = 30_000.0
CLUSTER_SIZE = 1_000


def planted_points(n: int, seed: int = 0) -> np.ndarray:
    """n UTM-like points: half in Gaussian clusters (σ 20–80 m), half uniform over 30×30 km."""
    rng = np.random.default_rng(seed)
    n_clustered = n // 2
    k = max(1, n_clustered // CLUSTER_SIZE)
    centres = rng.uniform(1_000, AREA_M - 1_000, (k, 2))
    sigma = rng.uniform(20, 80, k)
    which = rng.integers(0, k, n_clustered)
    clustered = centres[which] + rng.normal(size=(n_clustered, 2)) * sigma[which, None]
    uniform = rng.uniform(0, AREA_M, (n - n_clustered, 2))
    pts = np.vstack([clustered, uniform]) + [600_000.0, 2_300_000.0]
    return pts[rng.permutation(n)]


def run_ours(pts: np.ndarray, repeat: int = 3) -> tuple[np.ndarray, list[float]]:
    """Labels and the seconds of each of ``repeat`` runs of models.analytics.dbscan (the first one is cold)."""
    runs = [timed(lambda: dbscan(pts[:, 0], pts[:, 1], EPS_M, MIN_SAMPLES)) for _ in range(repeat)]
    return runs[-1][0], [t for _, t in runs]


def run_sklearn(pts: np.ndarray) -> tuple[np.ndarray, float]:
    """Labels and seconds for sklearn DBSCAN with a ball tree."""
    model = DBSCAN(eps=EPS_M, min_samples=MIN_SAMPLES, algorithm="ball_tree")
    return timed(lambda: model.fit_predict(pts))


def main() -> None:
    """Time both implementations on the same points and print speed-up and agreement."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 points instead of 1,000,000")
    n = 100_000 if parser.parse_args().quick else 1_000_000
    pts = planted_points(n)
    print(f"{n:,} points, eps={EPS_M:g} m, min_samples={MIN_SAMPLES}")
    ours, times = run_ours(pts)
    t_ours = min(times)
    print(
        f"ours     {t_ours:8.2f} s  best of {len(times)} (first, cold: {times[0]:.2f} s)  "
        f"clusters={ours.max() + 1}  noise={np.mean(ours < 0):.1%}"
    )
    ref, t_ref = run_sklearn(pts)
    print(f"sklearn  {t_ref:8.2f} s  clusters={ref.max() + 1}  noise={np.mean(ref < 0):.1%}")
    print(f"speed-up {t_ref / t_ours:8.1f}x (target >= 10x; {t_ref / times[0]:.1f}x against our cold run)")
    print(
        f"ARI      {adjusted_rand_score(ref, ours):.6f} (target >= 0.99); identical labels: {np.array_equal(ref, ours)}"
    )


if __name__ == "__main__":
    main()

"""Planted-truth quality of hotspot detection on a large synthetic scenario, through the real path.

Run: ``.venv/bin/python bench/bench_planted.py [--incidents N]``. Imports a scenario into a throwaway
PostGIS, runs detection over the last 90 days and prints recall and precision against the planted
active hotspots (centroids within 150 m), quiet hotspots wrongly reported active, and the timings.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from common import import_as_owner, prepared_engine
from sqlalchemy import text

from gis.io.scenario_files import write_scenario
from gis.ops.postgres import temporary_cluster
from gis.services.detection import run_detection
from gis.settings import DataSettings
from models.synthetic.scenario import ScenarioConfig, generate_scenario

MATCH_M = 150.0


def nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each point of a to the nearest point of b."""
    from scipy.spatial import cKDTree

    return cKDTree(b).query(a)[0] if len(b) else np.full(len(a), np.inf)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=5)
    args = parser.parse_args()
    scenario = generate_scenario(
        gpd.read_file(DataSettings().boundary_file()),
        ScenarioConfig(seed=21, years=args.years, n_incidents=args.incidents),
    )
    truth = scenario.truth
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        csv_path = write_scenario(scenario, Path(tmp))["incidents"]
        engine = prepared_engine(cluster)
        import_as_owner(cluster, csv_path)  # yearly partitions, as deployed
        start = time.perf_counter()
        with engine.begin() as conn:
            report = run_detection(conn, actor="bench")
            found = np.array(
                conn.execute(
                    text(
                        "SELECT ST_X(ST_Transform(centroid, 32648)), ST_Y(ST_Transform(centroid, 32648)) FROM hotspots"
                    )
                ).all(),
                dtype=float,
            ).reshape(-1, 2)
        detect_s = time.perf_counter() - start
        engine.dispose()
    active = truth[truth["active_at_end"]][["x", "y"]].to_numpy()
    quiet = truth[~truth["active_at_end"]][["x", "y"]].to_numpy()
    recall = float((nearest(active, found) <= MATCH_M).mean())
    precision = float((nearest(found, active) <= MATCH_M).mean())
    false_active = int((nearest(quiet, found) <= MATCH_M).sum())
    print(
        f"{args.incidents:,} incidents over {args.years} years; planted hotspots {len(truth)}"
        f" ({len(active)} active at the end, {len(quiet)} quiet)"
    )
    print(
        f"detection over {report.window_from:%Y-%m-%d}..{report.window_to:%Y-%m-%d}: {report.incidents:,}"
        f" incidents, {report.clusters} hotspots in {detect_s:.2f} s"
    )
    print(
        f"recall {recall:.3f} (target >= 0.95), precision {precision:.3f} (target >= 0.90),"
        f" quiet hotspots reported active: {false_active}"
    )


if __name__ == "__main__":
    main()

"""Benchmark: what an analysis request costs against its work units (cells × steps × neighbourhood), and what the
refusal of a too costly one costs instead.

Each configuration runs the whole route (the default ones the command page sends, the issue-15 requests that
took minutes and gigabytes) with the limit lifted, on the synthetic city; it prints the work units, seconds,
peak Python memory (tracemalloc: numpy arrays included) and answer size; then the same heavy requests under
the configured limit, refused, with the time ratio. Run: ``.venv/bin/python bench/bench_analysis_cost.py``
(``--incidents N``; ``--heavy`` also computes the two issue-15 requests, minutes and gigabytes each).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from common import import_as_owner, incident_csv, prepared_engine
from fastapi.testclient import TestClient

from api.app import create_app
from gis.ops.postgres import temporary_cluster
from gis.services.analyses import MAX_COST
from gis.store.accounts import create_user
from gis.store.sessions import open_session

#: (label, path and query) — the command page's defaults first, then larger ones up to the issue's.
CONFIGS = [
    ("Gi* default (page)", "/api/gistar"),
    ("Gi* 100 m", "/api/gistar?cell_m=100"),
    ("Gi* 100 m, d=3", "/api/gistar?cell_m=100&distance_cells=3"),
    ("Gi* 250 m, d=10", "/api/gistar?distance_cells=10"),
    ("Gi* 500 m, all cells", "/api/gistar?cell_m=500&all_cells=true"),
    ("Gi* 250 m, all cells", "/api/gistar?all_cells=true"),
    ("emerging default (page)", "/api/emerging"),
    ("emerging 500 m, 36 steps", "/api/emerging?steps=36"),
    ("emerging 250 m, 24 steps", "/api/emerging?cell_m=250&steps=24"),
    ("heat default (PNG)", "/api/heat?format=overlay"),
    ("heat 500 m GeoJSON", "/api/heat?format=geojson&cell_m=500"),
    ("heat 200 m GeoJSON", "/api/heat?format=geojson&cell_m=200"),
]
HEAVY = [
    ("Gi* 100 m, d=3, all cells", "/api/gistar?cell_m=100&distance_cells=3&all_cells=true"),
    ("Gi* issue 15 (50 m, d=10, all cells)", "/api/gistar?cell_m=50&distance_cells=10&all_cells=true"),
    ("emerging issue 15 (100 m, 60 steps)", "/api/emerging?cell_m=100&steps=60"),
]


def measure(client: TestClient, headers: dict[str, str], path: str) -> tuple[int, float, int, str]:
    """Status, seconds, answer bytes and the refusal's detail."""
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    seconds = time.perf_counter() - start
    detail = response.json().get("detail", "") if response.status_code >= 400 else ""
    return response.status_code, seconds, len(response.content), detail


def peak_mb(client: TestClient, headers: dict[str, str], path: str) -> float:
    """Peak MB allocated during the request (a second run: tracemalloc slows Python code several times)."""
    tracemalloc.start()
    client.get(path, headers=headers)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=30_000)
    parser.add_argument("--heavy", action="store_true", help="also compute the issue's two requests (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        engine = prepared_engine(cluster)
        import_as_owner(cluster, incident_csv(args.incidents, Path(tmp)))  # yearly partitions, as deployed
        with engine.begin() as conn:
            user = create_user(conn, "bench-command", "-", "command", None)
            session = open_session(conn, user, 600)
        app = create_app(engine)
        app.state.cache.max_bytes = 0  # every request computes
        from api.security import create_access_token

        headers = {"Authorization": f"Bearer {create_access_token(user, session, app.state.auth.secret_key, 600)}"}
        with TestClient(app) as client:
            print(f"{args.incidents:,} synthetic incidents; limit lifted for the measurements")
            print(f"{'request':40} {'status':>6} {'s':>8} {'peak MB':>8} {'answer MB':>9}")
            app.state.max_analysis_cost = 10**15
            computed = {}
            for label, path in CONFIGS + (HEAVY if args.heavy else []):
                status, seconds, size, _ = measure(client, headers, path)
                computed[label] = seconds
                peak = peak_mb(client, headers, path) if label not in dict(HEAVY) else float("nan")
                print(f"{label:40} {status:>6} {seconds:>8.2f} {peak:>8.0f} {size / 2**20:>9.1f}", flush=True)
            app.state.max_analysis_cost = MAX_COST
            print(f"\nunder the limit ({MAX_COST:,} work units):")
            for label, path in CONFIGS + HEAVY:
                status, seconds, _, detail = measure(client, headers, path)
                ratio = (
                    f"  refused {computed[label] / seconds:,.0f}x faster" if status == 422 and label in computed else ""
                )
                print(f"{label:40} {status:>6} {seconds:>8.3f}{ratio}")
                if detail and label == HEAVY[-1][0]:
                    print(f"  → {detail}")
        engine.dispose()


if __name__ == "__main__":
    main()

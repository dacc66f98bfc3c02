"""Benchmark (not a test): what read routing to a replica costs, in one run on a throwaway primary and its hot standby.

1. **Read-your-writes at a write**: a committed write (a hotspot inserted) alone, and followed by the statement the
   server then runs to remember where the write is (``pg_current_wal_lsn()`` in autocommit, as api.deps runs it):
   ms per write and the ratio.
2. **Routing a read**: :meth:`Replicas.choose` for a user with a remembered write (no statement: the replica's
   position comes from the background check): µs per call.
3. **A read over the app**: a communes vector tile (``GET /tiles/communes/12/3261/1805.mvt``, built by PostGIS on
   every request; TestClient, sequential) from the primary alone and routed to the
   replica (its connection checked out beside the request's primary connection): ms per request and the ratio.
   Both servers run on this machine, so this is the overhead of routing, not the capacity a replica adds.

Run: ``.venv/bin/python bench/bench_replicas.py [--writes 2000] [--reads 500]``.
"""

from __future__ import annotations

import argparse
import os
import time

from common import prepared_engine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.security import hash_password
from gis.ops.postgres import temporary_cluster
from gis.store.accounts import create_user
from gis.store.db import app_engine
from gis.store.replicas import Replicas, wal_position

_INSERT = text("""
INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, commune_code, version, centroid)
SELECT 'detected', 'spot', 'manual', 0, '{}', 100, code, 1, ST_PointOnSurface(geom)
FROM admin_units WHERE valid_to IS NULL ORDER BY code LIMIT 1""")


def write_ms(engine: Engine, writes: int, remember: bool) -> float:
    """Milliseconds per committed write, with or without reading the WAL position after the commit."""
    with engine.connect() as conn:
        start = time.perf_counter()
        for _ in range(writes):
            with conn.begin():
                conn.execute(_INSERT)
            if remember:  # as api.deps does after a write: one statement in autocommit
                conn.execution_options(isolation_level="AUTOCOMMIT")
                wal_position(conn)
                conn.commit()  # nothing to commit: psycopg sends nothing in autocommit
                conn.execution_options(isolation_level=conn.default_isolation_level)
        return (time.perf_counter() - start) * 1000 / writes


#: A read-only route that runs its statement on every request (the communes layer is not in the response cache).
READ = "/tiles/communes/12/3261/1805.mvt"


def read_ms(engine: Engine, replicas: Replicas | None, reads: int, password: str) -> float:
    """Milliseconds per sequential read of a logged-in command user."""
    with TestClient(create_app(engine, replicas=replicas)) as client:
        token = client.post("/api/auth/token", data={"username": "bench-command", "password": password}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        for _ in range(20):  # warm: pools, sessions, plans
            assert client.get(READ).status_code == 200
        start = time.perf_counter()
        for _ in range(reads):
            client.get(READ)
        return (time.perf_counter() - start) * 1000 / reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with temporary_cluster("diaban-bench-replicas-") as cluster:
        engine = prepared_engine(cluster)
        password = "bench-password"
        with engine.begin() as conn:
            create_user(conn, "bench-command", hash_password(password), "command", None)
        standby = cluster.make_standby(cluster.home.parent / "standby")
        standby.start()
        try:
            write_ms(engine, 200, True)  # warm
            plain = write_ms(engine, args.writes, remember=False)
            remembered = write_ms(engine, args.writes, remember=True)
            print(f"write: {plain:.3f} ms alone, {remembered:.3f} ms with its WAL position: ×{remembered / plain:.2f}")

            primary = app_engine(cluster.url(), pool_size=8)
            replicas = Replicas.connect(primary, [standby.url()], max_lag_s=5.0, check_s=1.0, pool_size=8)
            replicas.note_write(1, 1)
            calls = 100_000
            start = time.perf_counter()
            for _ in range(calls):
                replicas.choose(replicas.last_write(1))
            print(f"choose: {(time.perf_counter() - start) * 1e6 / calls:.2f} µs per read")

            for _ in range(2):  # alternated, so that neither gains from going second on a shared machine
                alone = read_ms(primary, None, args.reads, password)
                routed = read_ms(primary, replicas, args.reads, password)
                share = replicas.served.get(replicas.replicas[0].name, 0) / max(1, sum(replicas.served.values()))
                print(
                    f"GET {READ}: {alone:.2f} ms from the primary alone, {routed:.2f} ms routed "
                    f"({share:.0%} from the replica): ×{routed / alone:.2f}"
                )
            replicas.dispose()
            primary.dispose()
        finally:
            standby.stop("immediate")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

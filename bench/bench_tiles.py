"""Benchmark (not a test): our incident tiles over HTTP against the floor of the same SQL sent straight through
psycopg, and against tipg serving the same table, in one run.

Four servers of the same tiles, cache off on ours (``DIABAN_CACHE_MB=0``: every tile built by PostgreSQL):

1. **SQL floor**: the tile statement our server runs for the logged-in user (gis.store.tiles, in that user's area
   scope: the command user ``chihuy`` sees one province; at street zoom with its access-log line, as ours writes
   it, and without), sent by ``--connections`` psycopg connections in threads, autocommit. The
   street-zoom SELECT alone is planned with parallel workers once psycopg prepares it (29 tiles/s on one
   connection against 785 with ``max_parallel_workers_per_gather=0``, measured at 1M incidents); the statement
   with its access line writes, so it never is.
2. **diaban**: ``diaban serve`` with ``--workers`` processes, ``--connections`` concurrent HTTP clients (aiohttp), logged in.
3. **The thinnest HTTP server** of the same statement (bench/thin_tiles.py: uvicorn, a bare ASGI function and async
   psycopg; no authentication, framework or thread): what HTTP itself costs on top of the floor, so the gap is split
   into what any HTTP server pays and what ours adds.
4. **tipg**: the same table through tipg (installed on first use into .venv-tipg, see bench_api), asked for the same
   fields as ours: none at zoom 15 (ours sends bare points; tipg is given ``properties=id``, its smallest answer).

Each is measured at zoom 15 (single points) and at zooms 12–14 (ours: counts on a grid; tipg has no such layer, so
it is not compared there), with ``--connections`` clients and with one (sequential: the latency a tile adds on top
of its statement). Ratios are printed against the floor and against tipg, and beside each rate where the machine's
CPU went per tile (common.cpu_split): our server's processes, PostgreSQL, and the load client (psycopg threads for
the floor, aiohttp for HTTP), which shares the 2 cores with the rest. The floor costs PostgreSQL and a thin client
only; what our server adds on top is the gap.

``--baseline DIR`` also serves the tiles from another checkout of diaban (``git worktree add DIR main``, or ``git
archive``), measured in each row in the order ours, baseline, baseline, ours (each rate the mean of its two): a
before/after comparison under the same load, which a load drifting during the row does not tilt.

Run: ``.venv/bin/python bench/bench_tiles.py [--incidents 1000000] [--seconds 10] [--url URL] [--baseline DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from bench_api import ROOT, login, ours, run_load, server, tile_list, tile_requests, tipg
from common import CpuSplit, cpu_split, import_as_owner, incident_csv, prepared_engine
from sqlalchemy import create_engine

from api.security import hash_password
from gis.demo.accounts import seed_demo_accounts
from gis.ops.postgres import libpq_url, temporary_cluster
from gis.store.access_log import AccessLine
from gis.store.accounts import principal_by_username
from gis.store.scoping import AreaScope
from gis.store.selection import Where
from gis.store.tiles import incident_tile_statement

Tile = tuple[int, int, int]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sql_floor(
    url: str, scope: AreaScope, tiles: list[Tile], seconds: float, connections: int, logged: bool
) -> tuple[float, CpuSplit]:
    """Tiles per second of the tile statement in ``scope`` sent by ``connections`` psycopg connections (autocommit),
    and the CPU per tile."""
    line = AccessLine("bench", "command", "GET /tiles/incidents/{z}/{x}/{y}.mvt", {}, "127.0.0.1")
    done = [0] * connections
    stop = time.perf_counter() + seconds

    def work(k: int) -> None:
        rng = random.Random(k)
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            while time.perf_counter() < stop:
                z, x, y = rng.choice(tiles)
                sql, params = incident_tile_statement(z, x, y, scope, access=line if logged else None)
                conn.execute(*Where([sql], params).pyformat()).fetchone()  # :name → %(name)s, as SQLAlchemy sends
                done[k] += 1

    def run() -> int:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(done)

    started = time.perf_counter()
    split = cpu_split(run)
    return sum(done) / (time.perf_counter() - started), split


def http_rate(
    base: str, template: str, token: str | None, tiles: list[Tile], seconds: float, users: int, server_pid: int
) -> tuple[float, CpuSplit]:
    """Tiles per second over HTTP with ``users`` concurrent clients and no pause, and the CPU per tile (``server_pid``:
    the server's supervisor); errors are fatal."""
    tokens = {"chihuy": token} if token else {}
    result: dict = {}

    def run() -> int:
        result.update(
            asyncio.run(
                run_load(base, tokens, tile_requests(tiles, template, "chihuy" if token else None), seconds, users, 0)
            )
        )
        return sum(len(v) for v in result["latencies"].values())

    split = cpu_split(run, server_pid)
    if result["errors"]:
        raise RuntimeError(f"{base}: {result['errors']} errors")
    return sum(len(v) for v in result["latencies"].values()) / result["elapsed"], split


def thinnest(port: int, url: str, workers: int, scope: AreaScope) -> contextlib.AbstractContextManager:
    """bench/thin_tiles.py under uvicorn with ``workers`` processes, on the database at ``url``."""
    env = {
        **os.environ,
        "THIN_DATABASE_URL": url,
        "THIN_SCOPE_PROVINCE": scope.province_code or "",
        "PYTHONPATH": f"{ROOT / 'bench'}{os.pathsep}{ROOT}",
    }
    command = ["-m", "uvicorn", "thin_tiles:app", "--port", str(port), "--workers", str(workers), "--no-access-log"]
    return server([sys.executable, *command], env, port, cwd=ROOT / "bench")


def measure(url: str, args: argparse.Namespace) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        seed_demo_accounts(conn, hash_password)
        scope = AreaScope.of(principal_by_username(conn, "chihuy"))  # the floor runs what ours runs for this user
    engine.dispose()
    sets = {
        "zoom 15 (points)": tile_list(2000, seed=1, zooms=(15, 15)),
        "zooms 12-14 (grid)": tile_list(2000, zooms=(12, 14)),
    }
    ours_port, tipg_port, thin_port = free_port(), free_port(), free_port()
    ours_tile = "/tiles/incidents/{z}/{x}/{y}.mvt"
    tipg_tile = "/collections/public.incidents/tiles/WebMercatorQuad/{z}/{x}/{y}?properties=id"
    load = os.getloadavg()
    print(f"load average before {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores", flush=True)
    baseline_port = free_port()
    with contextlib.ExitStack() as servers:
        served = servers.enter_context(ours(ours_port, url, args.workers, cache_mb=0)).pid
        theirs_pid = servers.enter_context(tipg(tipg_port, url, args.workers)).pid
        thin_pid = servers.enter_context(thinnest(thin_port, url, args.workers, scope)).pid
        if args.baseline:
            baseline = servers.enter_context(ours(baseline_port, url, args.workers, cache_mb=0, root=args.baseline)).pid
        base = f"http://127.0.0.1:{ours_port}"
        token = login(base, "chihuy")
        other = f"http://127.0.0.1:{tipg_port}"
        before = f"http://127.0.0.1:{baseline_port}"
        before_token = login(before, "chihuy") if args.baseline else None
        for title, tiles in sets.items():
            for users in (args.connections, 1):
                floor, floor_cpu = sql_floor(url, scope, tiles, args.seconds, users, logged=True)
                bare, _ = sql_floor(url, scope, tiles, args.seconds, users, logged=False)
                mine, mine_cpu = http_rate(base, ours_tile, token, tiles, args.seconds, users, served)
                thin, thin_cpu = http_rate(
                    f"http://127.0.0.1:{thin_port}", "/{z}/{x}/{y}.mvt", None, tiles, args.seconds, users, thin_pid
                )
                if args.baseline:  # ours, baseline, baseline, ours: a load that drifts during the row favours neither
                    then = (
                        sum(
                            http_rate(before, ours_tile, before_token, tiles, args.seconds, users, baseline)[0]
                            for _ in "ab"
                        )
                        / 2
                    )
                    mine = (mine + http_rate(base, ours_tile, token, tiles, args.seconds, users, served)[0]) / 2
                print(
                    f"{title}, {users} connection{'s' if users > 1 else ''}: SQL floor {floor:,.0f} tiles/s"
                    f" (the SELECT alone, without the access line: {bare:,.0f}; PostgreSQL may send it through"
                    f" parallel workers, which a statement that writes never uses), diaban over HTTP {mine:,.0f} tiles/s"
                    f" = {mine / floor:.2f}x the floor (goal >= 0.8x); per tile {1000 / mine * users:.1f} ms vs"
                    f" {1000 / floor * users:.1f} ms\n  floor {floor_cpu}\n  diaban {mine_cpu}\n"
                    f"  thinnest HTTP server of the statement {thin:,.0f} tiles/s = {thin / floor:.2f}x the floor"
                    f" (what HTTP alone leaves); diaban / thinnest = {mine / thin:.2f}x\n  thinnest {thin_cpu}",
                    flush=True,
                )
                if args.baseline:
                    print(
                        f"  baseline ({args.baseline}) {then:,.0f} tiles/s = {then / floor:.2f}x the floor:"
                        f" this checkout / baseline = {mine / then:.2f}x",
                        flush=True,
                    )
                if title.startswith("zoom 15"):
                    theirs, theirs_cpu = http_rate(other, tipg_tile, None, tiles, args.seconds, users, theirs_pid)
                    print(
                        f"  tipg {theirs:,.0f} tiles/s: diaban / tipg = {mine / theirs:.2f}x (goal >= 2x)\n"
                        f"  tipg {theirs_cpu}",
                        flush=True,
                    )
    load = os.getloadavg()
    print(f"load average after {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--url", help="an already loaded database with the communes (skips the set-up)")
    parser.add_argument("--baseline", type=Path, help="another checkout of diaban, served and measured alongside")
    args = parser.parse_args()
    if args.url:
        measure(args.url, args)
        return
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        prepared_engine(cluster).dispose()
        import_as_owner(cluster, incident_csv(args.incidents, Path(tmp)))
        measure(cluster.url(), args)


if __name__ == "__main__":
    main()

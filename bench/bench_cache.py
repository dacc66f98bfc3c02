"""Benchmark (not a test): where the map response cache shared by several app servers should live — Redis (Debian's
``redis-server``) or a PostgreSQL UNLOGGED table — against the in-process LRU, in one run.

Every backend stores the same bodies under the same 32-byte keys: a typical incident tile (8 KiB) and a heat overlay
(150 KiB, a PNG in base64 inside JSON). ``--processes`` processes (the app server workers of several machines) each
run ``--ops`` gets of present keys, then as many sets of new keys, on their own connection (Redis: redis-py over TCP
loopback; PostgreSQL: psycopg over TCP loopback, autocommit, the statement prepared after its fifth use as the app's
driver does). Printed per backend and body: median and p95 latency of a get and a set, gets per second over all
processes, and the ratios PostgreSQL / Redis. Then what the cross-server lock adds to a miss (see miss_path).

The two-level question (keep the in-process LRU in front of the shared store?) is answered by the in-process line:
a hit there costs a dictionary look-up, not a round trip.

Run: ``.venv/bin/python bench/bench_cache.py [--processes 1 2 4] [--ops 2000]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.cache import CachedResponse, RedisStore, ResponseCache  # noqa: E402
from gis.ops.postgres import libpq_url, temporary_cluster  # noqa: E402
from gis.ops.redis import temporary_redis  # noqa: E402

BODIES = {"tile 8 KiB": 8 * 1024, "heat 150 KiB": 150 * 1024}
#: The alternative measured against Redis: what a PostgreSQL-backed store would run (owner role: it creates it).
PG_TABLE = """CREATE UNLOGGED TABLE IF NOT EXISTS bench_response_cache (
    key bytea PRIMARY KEY, value bytea NOT NULL, expires_at timestamptz NOT NULL)"""
PG_GET = "SELECT value FROM bench_response_cache WHERE key = %s AND expires_at > now()"
PG_SET = """INSERT INTO bench_response_cache (key, value, expires_at) VALUES (%s, %s, now() + interval '1 hour')
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"""


def _keys(prefix: str, n: int) -> list[bytes]:
    return [f"{prefix}:{i}".encode().ljust(32, b".") for i in range(n)]


def _timed_loop(op: Callable[[bytes], object], keys: list[bytes]) -> list[float]:
    times = []
    for key in keys:
        start = time.perf_counter()
        op(key)
        times.append(time.perf_counter() - start)
    return times


def _worker(backend: str, target: str, size: int, ops: int, rank: int, out: mp.Queue) -> None:
    """One process: ``ops`` gets of keys stored beforehand, then ``ops`` sets of fresh keys; latencies to ``out``."""
    body = os.urandom(size)
    present = _keys(f"p{size}", 64)
    fresh = _keys(f"w{size}-{rank}-{time.time_ns()}", ops)
    reads = [present[i % len(present)] for i in range(ops)]
    if backend == "redis":
        store = RedisStore(target, timeout_s=10)
        gets = _timed_loop(store.get, reads)
        sets = _timed_loop(lambda key: store.set(key, body), fresh)
    elif backend == "postgresql":
        with psycopg.connect(target, autocommit=True) as conn:
            gets = _timed_loop(lambda key: conn.execute(PG_GET, (key,)).fetchone(), reads)
            sets = _timed_loop(lambda key: conn.execute(PG_SET, (key, body)), fresh)
    else:
        cache = ResponseCache(256 * 2**20)
        value = CachedResponse(body, "application/octet-stream")
        for key in present:
            cache.get_or_build(key, lambda: value)
        gets = _timed_loop(lambda key: cache.get_or_build(key, lambda: value), reads)
        sets = _timed_loop(lambda key: cache.get_or_build(key, lambda: value), fresh)
    out.put((gets, sets))


def _prefill(backend: str, target: str, size: int) -> None:
    body = os.urandom(size)
    if backend == "redis":
        store = RedisStore(target, timeout_s=10)
        for key in _keys(f"p{size}", 64):
            store.set(key, body)
    elif backend == "postgresql":
        with psycopg.connect(target, autocommit=True) as conn:
            for key in _keys(f"p{size}", 64):
                conn.execute(PG_SET, (key, body))


def measure(backend: str, target: str, size: int, processes: int, ops: int) -> dict[str, float]:
    """Median and p95 of get and set (µs) and gets per second over ``processes`` processes running at once."""
    _prefill(backend, target, size)
    out: mp.Queue = mp.Queue()
    workers = [mp.Process(target=_worker, args=(backend, target, size, ops, r, out)) for r in range(processes)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    wall = time.perf_counter() - start
    for w in workers:
        w.join()
    gets = sorted(t for g, _ in results for t in g)
    sets = sorted(t for _, s in results for t in s)
    return {
        "get_p50": statistics.median(gets) * 1e6,
        "get_p95": gets[int(len(gets) * 0.95)] * 1e6,
        "set_p50": statistics.median(sets) * 1e6,
        "set_p95": sets[int(len(sets) * 0.95)] * 1e6,
        "gets_per_s": len(gets) / sum(sum(g) for g, _ in results) * processes,
        "wall_s": wall,
    }


def miss_path(redis_url: str, size: int, ops: int) -> tuple[float, float]:
    """Median µs of a miss through the shared level with its lock (get, SET NX, set, DEL: what a server does for a
    key nobody has computed) and without (get, set), the computation itself free: what the lock adds to a miss."""
    body = CachedResponse(os.urandom(size), "application/octet-stream")
    cache, store = ResponseCache(0, RedisStore(redis_url, timeout_s=10)), RedisStore(redis_url, timeout_s=10)
    stamp = time.time_ns()
    locked = _timed_loop(lambda key: cache.lookup(key, lambda: body), _keys(f"m{stamp}", ops))
    plain = _timed_loop(lambda key: store.get(key) or store.set(key, body.body), _keys(f"n{stamp}", ops))
    return statistics.median(locked) * 1e6, statistics.median(plain) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--ops", type=int, default=2000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with temporary_redis() as redis_url, temporary_cluster() as cluster:
        owner = libpq_url(cluster.owner_url())
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(PG_TABLE)
        targets = {"in-process": "", "redis": redis_url, "postgresql": owner}
        print(
            f"{'body':<13} {'procs':>5} {'backend':<11} {'get p50':>8} {'get p95':>8} {'set p50':>8} {'set p95':>8}"
            f" {'gets/s':>9}   (µs; gets/s over all processes)"
        )
        for label, size in BODIES.items():
            for processes in args.processes:
                rows = {b: measure(b, t, size, processes, args.ops) for b, t in targets.items()}
                for backend, r in rows.items():
                    print(
                        f"{label:<13} {processes:>5} {backend:<11} {r['get_p50']:>8.0f} {r['get_p95']:>8.0f}"
                        f" {r['set_p50']:>8.0f} {r['set_p95']:>8.0f} {r['gets_per_s']:>9.0f}"
                    )
                pg, rd = rows["postgresql"], rows["redis"]
                print(
                    f"{'':<13} {'':>5} {'pg / redis':<11} {pg['get_p50'] / rd['get_p50']:>7.1f}x"
                    f" {pg['get_p95'] / rd['get_p95']:>7.1f}x {pg['set_p50'] / rd['set_p50']:>7.1f}x"
                    f" {pg['set_p95'] / rd['set_p95']:>7.1f}x {rd['gets_per_s'] / pg['gets_per_s']:>8.1f}x"
                )
        for label, size in BODIES.items():
            locked, plain = miss_path(redis_url, size, args.ops)
            print(f"{label}: a miss with the cross-server lock {locked:.0f} µs, without {plain:.0f} µs (median)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

"""Load benchmark of the API (not a test): 100 concurrent users on loopback, then our incident tiles
against tipg serving the same table, measured in the same run.

Phases, all against 1,000,000 synthetic incidents on a throwaway PostGIS (or ``--url``, a database
already loaded by an earlier run or by hand):

1. **Users**: 100 concurrent users, each sending a request, reading the answer, then pausing
   (``--think`` seconds on average, uniform 0.5–1.5×, like locust's ``between``): map tiles, hotspots in
   a view, heat maps of random views, task lists and task comments by the teams. Reported twice: the
   first ``--warmup`` seconds of a freshly started server (nothing cached, database connections being
   opened), then the following ``--seconds``.
2. **Saturation**: the same mix with no pause at all, for the throughput ceiling of this machine, ``--saturation-runs``
   times (3): runs of one code varied by a fifth on 2 cores, so each is printed and the run of median throughput named.
3. **Tiles vs tipg**: the same random tiles, 100 connections with no pause, against our server (cache
   warm from the phases above), our server with the cache off (``DIABAN_CACHE_MB=0``) and tipg over the
   same table; throughput ratios printed for zooms 12–15 (where we count incidents on a grid and tipg
   sends every point) and for zoom 15 alone (single points in both).

Worker memory (RSS of each worker process) is printed at start, after phases 1–2 and at the end, CLI start-up
(``diaban --help``) before, and the load average beside each.

The load client (aiohttp) shares the machine's cores with the servers and PostgreSQL. tipg is installed
on first use into its own virtual environment (.venv-tipg/: its pinned dependencies differ from ours).

Run: ``.venv/bin/python bench/bench_api.py [--incidents 1000000] [--seconds 40] [--think 1.0] [--url URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import numpy as np
from common import import_as_owner, incident_csv, prepared_engine
from sqlalchemy import Engine, create_engine, text

from api.security import hash_password
from gis.demo.accounts import DEMO_PASSWORD, seed_demo_accounts
from gis.ops.postgres import temporary_cluster
from gis.services.detection import run_detection
from gis.services.hotspots import transition_hotspot
from gis.services.tasks import create_task
from gis.store.accounts import principal_by_username
from gis.store.scoping import UNRESTRICTED
from gis.store.tasks import suggest_assignees
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE
from models.vocabulary import HOTSPOT_TASKABLE, TASK_CLOSED, codes

ROOT = Path(__file__).resolve().parents[1]
TIPG_VENV = ROOT / ".venv-tipg"
CITY = (106.35, 20.70, 106.85, 21.00)  # lon/lat box of the dense part of the city
BENCH_SECRET = "bench-only-signing-key-not-for-real-use"
Request = tuple[str, str | None, str, str, dict | None]  # kind, token name, method, url, json body
Tile = tuple[int, int, int]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tile_list(n: int, seed: int = 0, zooms: tuple[int, int] = (12, 15)) -> list[Tile]:
    """Random tiles over the city at zooms ``zooms`` (inclusive; street zooms 12–15 by default)."""
    rng = random.Random(seed)
    tiles = []
    for _ in range(n):
        z = rng.randint(*zooms)
        lon, lat = rng.uniform(CITY[0], CITY[2]), rng.uniform(CITY[1], CITY[3])
        x = int((lon + 180) / 360 * 2**z)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
        tiles.append((z, x, y))
    return tiles


def seed_tasks(engine: Engine, limit: int = 200) -> None:
    """Demo accounts, and a suppression task for each of the largest hotspots that has none and may get one (detected,
    verified first; a dormant or closed one may not), for its area's team."""
    with engine.begin() as conn:
        seed_demo_accounts(conn, hash_password)
        actor = principal_by_username(conn, "chihuy")
        for hotspot_id, commune, status, version in conn.execute(
            text(
                "SELECT h.id, h.commune_code, h.status, h.version FROM hotspots h WHERE NOT EXISTS"
                " (SELECT 1 FROM tasks t WHERE t.hotspot_id = h.id) AND h.status = ANY(:open)"
                " ORDER BY h.n_incidents DESC LIMIT :n"
            ),
            {"n": limit, "open": ["detected", *HOTSPOT_TASKABLE]},
        ).all():
            teams = suggest_assignees(conn, commune) if commune else []
            if teams:
                if status == "detected":  # a hotspot is verified before it gets a task
                    transition_hotspot(
                        conn, HOTSPOT_LIFECYCLE, hotspot_id, "verified", "", version, actor, UNRESTRICTED
                    )
                create_task(
                    conn,
                    actor,
                    kind="suppression",
                    hotspot_id=hotspot_id,
                    commune_code=None,
                    year=None,
                    team_id=teams[0]["team_id"],
                    due_date=date.today() + timedelta(days=30),
                    priority="normal",
                    checklist=[],
                )


def team_tasks(engine: Engine) -> dict[str, list[int]]:
    """Open task ids of each demo team login (a closed task refuses a note: models.domain.task_lifecycle)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT u.username, t.id FROM tasks t JOIN users u ON u.team_id = t.team_id"
                " WHERE u.role = 'team' AND t.state <> ALL(:closed)"
            ),
            {"closed": list(codes(TASK_CLOSED))},
        ).all()
    tasks: dict[str, list[int]] = {}
    for username, task_id in rows:
        tasks.setdefault(username, []).append(task_id)
    return tasks


@contextlib.contextmanager
def server(cmd: list[str], env: dict[str, str], port: int, cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    """A server process, up once its port answers, stopped afterwards (its output goes to a file: a pipe
    nobody reads would fill up and block the server)."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            deadline = time.time() + 90
            while True:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(log.read().decode()[-2000:])
                if time.time() > deadline:
                    raise RuntimeError(f"{cmd[0]} did not start")
                time.sleep(0.3)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def ours(
    port: int, url: str, workers: int, cache_mb: float | None = None, root: Path = ROOT
) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """Our app as deployed, ``diaban serve`` with ``workers`` processes, from the source tree ``root`` (another
    checkout: a before/after comparison in one run). It runs in ``root``: ``python -m`` puts the working directory
    before PYTHONPATH, so started from this checkout a baseline would have served this checkout's code."""
    env = {**os.environ, "DIABAN_DATABASE_URL": url, "DIABAN_SECRET_KEY": BENCH_SECRET, "PYTHONPATH": str(root)}
    if cache_mb is not None:
        env["DIABAN_CACHE_MB"] = str(cache_mb)
    command = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return server([sys.executable, "-m", "api.cli", *command], env, port, cwd=root)


def tipg(port: int, url: str, workers: int) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """tipg (its own virtual environment, created on first use) over the same database."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "tipg>=1.0", "uvicorn"], check=True)
    env = {
        **os.environ,
        "DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
        "TIPG_TABLE_CONFIG__public_incidents__geomcol": "geom",
    }
    return server(
        [
            str(python),
            "-m",
            "uvicorn",
            "tipg.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env,
        port,
    )


async def run_load(
    base: str,
    tokens: dict[str, str],
    pick: Callable[[random.Random], Request],
    seconds: float,
    users: int,
    think: float,
) -> dict:
    """``users`` concurrent loops: request, read the answer, pause ~``think`` s; latencies and errors per kind."""
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def user(seed: int) -> None:
            rng = random.Random(seed)
            await asyncio.sleep(rng.uniform(0, think))  # users arrive spread over one pause, not all at once
            while time.perf_counter() < stop:
                kind, who, method, url, body = pick(rng)
                headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
                started = time.perf_counter()
                try:
                    async with session.request(method, url, json=body, headers=headers) as response:
                        await response.read()
                        ok = response.status < 400
                except (TimeoutError, aiohttp.ClientError):
                    ok = False
                latencies.setdefault(kind, []).append(time.perf_counter() - started)
                if not ok:
                    errors[kind] = errors.get(kind, 0) + 1
                if think:
                    await asyncio.sleep(think * rng.uniform(0.5, 1.5))

        started = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(users)))
        elapsed = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    """Resident memory (MB) of each process started under ``master`` (Linux /proc): its workers, and the small
    helper process of multiprocessing."""
    rss = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:  # the process ended meanwhile
            continue
        if int(fields["PPid"]) == master.pid and "VmRSS" in fields:
            rss.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(rss)


def cli_start_seconds(repeat: int = 5) -> float:
    """Median wall time of ``diaban --help`` in a fresh interpreter (the CLI's start-up)."""
    times = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "api.cli.main", "--help"], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def load_average() -> str:
    """The machine's load average (1, 5, 15 min) and cores, printed beside every figure."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def report(title: str, result: dict) -> float:
    """Print rps, p50/p95/p99 and errors, overall and per kind; return requests per second."""
    every = np.concatenate([np.array(v) for v in result["latencies"].values()]) * 1000
    rps = every.size / result["elapsed"]
    print(
        f"{title}: {every.size:,} requests in {result['elapsed']:.1f} s = {rps:,.0f} req/s;"
        f" p50 {np.percentile(every, 50):.0f} ms, p95 {np.percentile(every, 95):.0f} ms,"
        f" p99 {np.percentile(every, 99):.0f} ms; errors {sum(result['errors'].values())}",
        flush=True,
    )
    for kind, values in sorted(result["latencies"].items()):
        v = np.array(values) * 1000
        print(
            f"  {kind:<12} {v.size:>7,} req  p50 {np.percentile(v, 50):6.0f} ms  p95 {np.percentile(v, 95):6.0f} ms"
            f"  p99 {np.percentile(v, 99):6.0f} ms  errors {result['errors'].get(kind, 0)}",
            flush=True,
        )
    return rps


def _rate_p95(result: dict) -> tuple[float, float]:
    """Requests per second and p95 latency (ms) of a load run."""
    every = np.concatenate([np.array(v) for v in result["latencies"].values()])
    return every.size / result["elapsed"], float(np.percentile(every, 95)) * 1000


def login(base: str, username: str) -> str:
    """A bearer token of a demo user."""
    import httpx

    response = httpx.post(f"{base}/api/auth/token", data={"username": username, "password": DEMO_PASSWORD}, timeout=60)
    response.raise_for_status()
    return response.json()["access_token"]


def mixed_requests(tiles: list[Tile], tasks: dict[str, list[int]]) -> Callable[[random.Random], Request]:
    """What the pages ask for: command maps (tiles, hotspots and heat of a view) and team task work."""
    teams = sorted(tasks)

    def pick(rng: random.Random) -> Request:
        lon, lat = rng.uniform(CITY[0], CITY[2] - 0.05), rng.uniform(CITY[1], CITY[3] - 0.05)
        bbox = f"{lon:.4f},{lat:.4f},{lon + 0.05:.4f},{lat + 0.05:.4f}"
        choice = rng.random()
        if choice < 0.45:
            z, x, y = rng.choice(tiles)
            return "tile", "chihuy", "GET", f"/tiles/incidents/{z}/{x}/{y}.mvt", None
        if choice < 0.60:
            return "hotspots", "chihuy", "GET", f"/api/hotspots?bbox={bbox}", None
        if choice < 0.70:
            return "heat", "chihuy", "GET", f"/api/heat?format=overlay&bbox={bbox}&cell_m=100", None
        team = rng.choice(teams)
        if choice < 0.90:
            return "task-list", team, "GET", "/api/tasks/mine?limit=50", None
        return (
            "task-update",
            team,
            "POST",
            f"/api/tasks/{rng.choice(tasks[team])}/comments",
            {"note": "tiến độ: đang xác minh"},
        )

    return pick


def tile_requests(tiles: list[Tile], template: str, who: str | None) -> Callable[[random.Random], Request]:
    """Only tiles, from the same list, at a server's tile URL."""

    def pick(rng: random.Random) -> Request:
        z, x, y = rng.choice(tiles)
        return "tile", who, "GET", template.format(z=z, x=x, y=y), None

    return pick


def measure(url: str, args: argparse.Namespace) -> None:
    """Every phase against the loaded database at ``url``."""
    engine = create_engine(url)
    seed_tasks(engine)
    tasks = team_tasks(engine)
    engine.dispose()
    tiles = tile_list(2000)
    ours_port, cold_port, tipg_port = free_port(), free_port(), free_port()
    print(f"CLI start-up (diaban --help): {cli_start_seconds():.2f} s (goal < 1 s); {load_average()}", flush=True)
    with (
        ours(ours_port, url, args.workers) as served,
        ours(cold_port, url, args.workers, cache_mb=0),
        tipg(tipg_port, url, args.workers) as theirs,
    ):
        print(f"{load_average()}; worker RSS at start: diaban {worker_rss_mb(served)} MB", flush=True)
        base = f"http://127.0.0.1:{ours_port}"
        tokens = {name: login(base, name) for name in ["chihuy", *tasks]}
        mix = mixed_requests(tiles, tasks)
        report(
            f"diaban, {args.users} users pausing ~{args.think:g} s, first {args.warmup:g} s after start (cold)",
            asyncio.run(run_load(base, tokens, mix, args.warmup, args.users, args.think)),
        )
        report(
            f"diaban, {args.users} users pausing ~{args.think:g} s, the next {args.seconds:g} s",
            asyncio.run(run_load(base, tokens, mix, args.seconds, args.users, args.think)),
        )
        saturation = [
            asyncio.run(run_load(base, tokens, mix, args.tile_seconds, args.users, 0))
            for _ in range(args.saturation_runs)
        ]
        for i, result in enumerate(saturation, 1):
            report(f"diaban, {args.users} users without pause (saturation), run {i}", result)
        rates_p95 = sorted(_rate_p95(result) for result in saturation)
        print(
            f"saturation, median of {len(saturation)} runs: {rates_p95[len(rates_p95) // 2][0]:.0f} req/s,"
            f" p95 {rates_p95[len(rates_p95) // 2][1]:.0f} ms (runs: "
            + ", ".join(f"{rate:.0f} req/s p95 {p95:.0f} ms" for rate, p95 in rates_p95)
            + "; goal p95 < 500 ms)",
            flush=True,
        )
        print(
            f"{load_average()}; worker RSS after the users and saturation phases: diaban"
            f" {[round(r) for r in worker_rss_mb(served)]} MB (goal < 250 MB each)",
            flush=True,
        )
        ours_tile = "/tiles/incidents/{z}/{x}/{y}.mvt"
        tipg_tile = "/collections/public.incidents/tiles/WebMercatorQuad/{z}/{x}/{y}"
        cold, other = f"http://127.0.0.1:{cold_port}", f"http://127.0.0.1:{tipg_port}"
        # Zooms 12–15: we count incidents on a grid below zoom 15 where tipg sends every point; zoom 15 alone:
        # single points in both, so that ratio is the cost of the same tiles.
        for title, chosen, servers in (
            (
                "zooms 12-15",
                tiles,
                (
                    ("diaban (cache on)", base, ours_tile, "chihuy"),
                    ("diaban (cache off)", cold, ours_tile, "chihuy"),
                    ("tipg", other, tipg_tile, None),
                ),
            ),
            (
                "zoom 15, points in both",
                tile_list(2000, seed=1, zooms=(15, 15)),
                (("diaban (cache off)", cold, ours_tile, "chihuy"), ("tipg", other, tipg_tile, None)),
            ),
        ):
            rates = {
                name: report(
                    f"incident tiles, {title}: {name}",
                    asyncio.run(
                        run_load(
                            server_base, tokens, tile_requests(chosen, template, who), args.tile_seconds, args.users, 0
                        )
                    ),
                )
                for name, server_base, template, who in servers
            }
            tipg_rate = rates.pop("tipg")
            for name, rate in rates.items():
                print(
                    f"tile throughput ratio, {title}: {name} / tipg = {rate / tipg_rate:.2f}x"
                    " (same tiles, same concurrency)",
                    flush=True,
                )
        print(
            f"{load_average()}; worker RSS after every phase: diaban {[round(r) for r in worker_rss_mb(served)]} MB,"
            f" tipg {[round(r) for r in worker_rss_mb(theirs)]} MB",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--warmup", type=float, default=20.0, help="first phase, from a freshly started server (s)")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause of a user between requests (s)")
    parser.add_argument("--tile-seconds", type=float, default=15.0)
    parser.add_argument(
        "--saturation-runs",
        type=int,
        default=3,
        help="saturation phase repeated (one code varied from 160 to 257 req/s on 2 cores): the median run is named",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--url", help="an already loaded database (skips the set-up)")
    args = parser.parse_args()
    if args.url:
        measure(args.url, args)
        return
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        engine = prepared_engine(cluster)
        import_as_owner(cluster, incident_csv(args.incidents, Path(tmp)))  # yearly partitions, as deployed
        with engine.begin() as conn:
            run_detection(conn, actor="bench")
        engine.dispose()
        measure(cluster.url(), args)


if __name__ == "__main__":
    main()

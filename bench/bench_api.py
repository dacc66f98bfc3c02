"""Load benchmark of the API (not a test): 100 concurrent users on loopback, then our incident tiles
against tipg serving the same table, measured in the same run.

Run: ``.venv/bin/python bench/bench_api.py [--incidents 1000000] [--seconds 40]``. tipg is installed on
first use into its own virtual environment (.venv-tipg/: its pinned dependencies differ from ours).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np
from common import incident_csv, prepared_engine
from sqlalchemy import text

from api.security import hash_password
from gis.accounts import principal_by_username
from gis.cluster import temporary_cluster
from gis.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from gis.hotspot_detection import run_detection
from gis.incident_import import import_incidents
from gis.task_queries import suggest_assignees
from gis.task_store import create_task

ROOT = Path(__file__).resolve().parents[1]
TIPG_VENV = ROOT / ".venv-tipg"
USERS = 100
CITY = (106.35, 20.70, 106.85, 21.00)  # lon/lat box of the dense part of the city


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tile_list(n: int, seed: int = 0) -> list[tuple[int, int, int]]:
    """Random tiles over the city at street zooms 12–15."""
    rng = random.Random(seed)
    tiles = []
    for _ in range(n):
        z = rng.randint(12, 15)
        lon, lat = rng.uniform(CITY[0], CITY[2]), rng.uniform(CITY[1], CITY[3])
        x = int((lon + 180) / 360 * 2**z)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
        tiles.append((z, x, y))
    return tiles


def seed_tasks(engine, limit: int = 200) -> list[int]:
    """Suppression tasks for the largest hotspots, each assigned to its area's team."""
    with engine.begin() as conn:
        seed_demo_accounts(conn, hash_password)
        actor = principal_by_username(conn, "chihuy")
        ids = []
        for hotspot_id, commune in conn.execute(text(
                "SELECT id, commune_code FROM hotspots ORDER BY n_incidents DESC LIMIT :n"), {"n": limit}).all():
            teams = suggest_assignees(conn, commune) if commune else []
            if teams:
                ids.append(create_task(conn, actor, kind="suppression", hotspot_id=hotspot_id, commune_code=None,
                                       year=None, team_id=teams[0]["team_id"], due_date=date.today() + timedelta(days=30),
                                       priority="normal", checklist=[]))
        return ids


def start(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    """Start a server and wait until its port answers."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode()[-2000:])
        time.sleep(0.3)
    raise RuntimeError(f"{cmd[0]} did not start")


async def run_load(base: str, token: str, tasks: list[int], seconds: float, users: int, requests: list) -> dict:
    """`users` concurrent loops picking requests until time is up; latencies and errors."""
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    stop = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        async def user(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < stop:
                kind, method, url, body = rng.choice(requests)(rng)
                t = time.perf_counter()
                try:
                    response = await client.request(method, url, json=body)
                    ok = response.status_code < 400
                except httpx.HTTPError:
                    ok = False
                latencies.setdefault(kind, []).append(time.perf_counter() - t)
                if not ok:
                    errors[kind] = errors.get(kind, 0) + 1
        started = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(users)))
        elapsed = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def report(title: str, result: dict) -> float:
    """Print rps, p50/p95/p99 and errors; return requests per second."""
    every = np.concatenate([np.array(v) for v in result["latencies"].values()]) * 1000
    rps = every.size / result["elapsed"]
    print(f"{title}: {every.size:,} requests in {result['elapsed']:.1f} s = {rps:,.0f} req/s;"
          f" p50 {np.percentile(every, 50):.0f} ms, p95 {np.percentile(every, 95):.0f} ms,"
          f" p99 {np.percentile(every, 99):.0f} ms; errors {sum(result['errors'].values())}")
    for kind, values in sorted(result["latencies"].items()):
        v = np.array(values) * 1000
        print(f"  {kind:<12} {v.size:>7,} req  p50 {np.percentile(v, 50):6.0f} ms  p95 {np.percentile(v, 95):6.0f} ms"
              f"  errors {result['errors'].get(kind, 0)}")
    return rps


def tipg_python() -> Path:
    """tipg's own interpreter, created on first use."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "tipg>=1.0", "uvicorn"], check=True)
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--tile-seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    tiles = tile_list(2000)
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        engine = prepared_engine(cluster)
        with engine.begin() as conn:
            import_incidents(conn, incident_csv(args.incidents, Path(tmp)), imported_by="bench")
            run_detection(conn, actor="bench")
        task_ids = seed_tasks(engine)
        engine.dispose()
        url = cluster.url()
        env = {**os.environ, "DIABAN_DATABASE_URL": url, "DIABAN_SECRET_KEY": "bench-only-secret"}
        ours_port, tipg_port = free_port(), free_port()
        ours = start([sys.executable, "-m", "uvicorn", "api.asgi:app", "--host", "127.0.0.1", "--port", str(ours_port),
                      "--workers", str(args.workers), "--log-level", "warning"], {**env, "PYTHONPATH": str(ROOT)},
                     ours_port)
        tipg = start([str(tipg_python()), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port",
                      str(tipg_port), "--workers", str(args.workers), "--log-level", "warning"],
                     {**os.environ, "DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
                      "TIPG_TABLE_CONFIG__public_incidents__geomcol": "geom"}, tipg_port)
        try:
            base = f"http://127.0.0.1:{ours_port}"
            token = httpx.post(f"{base}/api/auth/token", data={"username": "chihuy", "password": DEMO_PASSWORD}).json()["access_token"]

            def mixed(rng: random.Random) -> tuple:
                lon, lat = rng.uniform(CITY[0], CITY[2] - 0.05), rng.uniform(CITY[1], CITY[3] - 0.05)
                bbox = f"{lon:.4f},{lat:.4f},{lon + 0.05:.4f},{lat + 0.05:.4f}"
                choice = rng.random()
                if choice < 0.45:
                    z, x, y = rng.choice(tiles)
                    return "tile", "GET", f"/tiles/incidents/{z}/{x}/{y}.mvt", None
                if choice < 0.60:
                    return "hotspots", "GET", f"/api/hotspots?bbox={bbox}", None
                if choice < 0.70:
                    return "heat", "GET", f"/api/heat?bbox={bbox}&cell_m=100", None
                if choice < 0.90:
                    return "task-list", "GET", "/api/tasks?limit=50", None
                return "task-update", "POST", f"/api/tasks/{rng.choice(task_ids)}/comments", {"note": "tiến độ: đang xác minh"}

            result = asyncio.run(run_load(base, token, task_ids, args.seconds, USERS, [mixed]))
            report(f"diaban, {USERS} users, mixed map/tile/task load", result)

            def our_tile(rng: random.Random) -> tuple:
                z, x, y = rng.choice(tiles)
                return "tile", "GET", f"/tiles/incidents/{z}/{x}/{y}.mvt", None

            def tipg_tile(rng: random.Random) -> tuple:
                z, x, y = rng.choice(tiles)
                return "tile", "GET", f"/collections/public.incidents/tiles/WebMercatorQuad/{z}/{x}/{y}", None

            ours_rps = report("diaban incident tiles", asyncio.run(
                run_load(base, token, task_ids, args.tile_seconds, USERS, [our_tile])))
            tipg_rps = report("tipg incident tiles", asyncio.run(
                run_load(f"http://127.0.0.1:{tipg_port}", token, task_ids, args.tile_seconds, USERS, [tipg_tile])))
            print(f"tile throughput ratio diaban / tipg: {ours_rps / tipg_rps:.2f}x (same tiles, same concurrency)")
        finally:
            for proc in (ours, tipg):
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    main()

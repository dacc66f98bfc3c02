"""National benchmark (not a test): 1,000 users of 34 provinces against two app servers and a read replica, and
against one server alone, in the same run.

Set-up (kept under ``--home`` between runs; ``--fresh`` rebuilds it):

- a managed cluster with the national boundary file's 3,321 units and ``--incidents`` generated incidents over the
  last ``--years`` years (10,000,000 over 5 by default): drawn by PostGIS inside each unit (``ST_GeneratePoints``),
  with per-unit rates spread log-normally, six in ten incidents pulled around three centres per unit (hotspots to
  find), written as one CSV file and loaded by ``import_incidents`` itself (the owner's role, as
  ``diaban incidents import`` does);
- hotspots detected over the last 90 days; accounts: the ministry's command (whole country), a command and a planner
  limited to each province, a field team per ten communes of a province; a suppression task for each team's
  largest hotspots.

Each configuration is served through nginx with the committed ``deploy/nginx/diaban.conf``:

- **one**: one ``diaban serve`` process on the primary, its own in-process cache;
- **two+replica**: two ``diaban serve`` processes sharing a Redis cache, their reads routed to a hot standby made by
  ``pg_basebackup -R`` from the primary (``DIABAN_REPLICA_URLS``).

Each is started fresh and loaded for ``--warmup`` seconds (not reported), then ``--seconds`` measured: ``--users``
users, each with its own cookies (the read-your-writes cookie is per browser), sharing ``--connections`` client
connections (bounded), each sending a request, reading the answer and pausing ``--think`` seconds on average
(uniform 0.5–1.5×). Field teams read their task lists, comment on their tasks and look at tiles of their area;
provincial command looks at tiles, hotspots and heat of views in their province and at its KPI report; planners
read the KPI report and hotspots; the ministry reads the national report and country-wide tiles.

Everything runs on this machine: the servers, both PostgreSQL instances, Redis, nginx and the load client share its
cores, so the figures say what a second server and a replica cost or give *here*, not what they give on machines
of their own.

Run: ``.venv/bin/python bench/bench_national.py [--incidents 10000000] [--users 1000] [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
from bench_api import load_average, report, server
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from api.security import hash_password
from gis.ops.nginx import temporary_nginx
from gis.ops.postgres import APP_ROLE, ManagedCluster
from gis.ops.redis import free_port, temporary_redis
from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year
from gis.services.detection import run_detection
from gis.services.hotspots import transition_hotspot
from gis.services.incident_import import import_incidents
from gis.services.tasks import create_task
from gis.settings import DataSettings
from gis.store.accounts import create_team, create_user, principal_by_username
from gis.store.db import migrate
from gis.store.scoping import UNRESTRICTED
from gis.store.tasks import suggest_assignees
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE
from models.vocabulary import HotspotStatus, IncidentKind, Role, TaskKind, TaskPriority, local_today

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "deploy" / "nginx" / "diaban.conf"
SECRET = "bench-national-signing-key-not-for-real-use"
PASSWORD = "bench-national-password"
MINISTRY = "bo-chihuy"
#: Communes per field team: a provincial police force splits its communes among its teams.
TEAM_COMMUNES = 10
#: Tasks given to each team, on the largest hotspots of its area.
TASKS_PER_TEAM = 3


def generate_incidents(cluster: ManagedCluster, rows: int, years: int, path: Path, seed: int = 42) -> None:
    """Write ``rows`` generated incidents of the last ``years`` years inside the current units to a CSV file.

    Points are drawn uniformly in each unit's box and kept when inside it (shapely's vectorised test, about 1 µs a
    point): PostGIS's ST_GeneratePoints took 400 µs a point over these boundaries, 70 minutes for 10 M.
    """
    engine = create_engine(cluster.owner_url(), poolclass=NullPool)
    with engine.connect() as conn:
        units = conn.execute(
            text("SELECT code, ST_AsBinary(geom) FROM admin_units WHERE valid_to IS NULL ORDER BY code")
        ).all()
    engine.dispose()
    rng = np.random.default_rng(seed)
    weights = rng.lognormal(0.0, 0.9, len(units))
    counts = np.maximum(1, np.round(rows * weights / weights.sum())).astype(int)
    kinds = np.array([k.value for k in IncidentKind])
    now = time.time() - 3600
    written = 0
    with pacsv.CSVWriter(str(path), _SCHEMA) as out:
        for (_, wkb), n in zip(units, counts, strict=True):
            polygon = shapely.from_wkb(bytes(wkb))
            shapely.prepare(polygon)
            x, y = _inside(polygon, n + 3, rng)
            centre = rng.integers(0, 3, n)
            pulled = rng.random(n) < 0.6  # six in ten around one of three centres: hotspots to find
            cx, cy = x[n + centre], y[n + centre]
            x, y = x[:n], y[:n]
            x = np.where(pulled, cx + (x - cx) * 0.03, x)
            y = np.where(pulled, cy + (y - cy) * 0.03, y)
            seconds = now - rng.random(n) * years * 365.25 * 86400 + 7 * 3600  # local (UTC+7) wall time
            when = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
            refs = np.char.add("VN-", np.arange(written + 1, written + n + 1).astype(str))
            columns = [
                refs,
                np.char.replace(when, "T", " "),
                np.round(x, 6),
                np.round(y, 6),
                kinds[rng.integers(0, len(kinds), n)],
                np.round(rng.random(n) * 20, 2),
                rng.integers(0, 3, n),
                np.full(n, "dữ liệu tổng hợp (synthetic)"),
            ]
            out.write_table(pa.table([pa.array(c) for c in columns], schema=_SCHEMA))
            written += n


_SCHEMA = pa.schema(
    [
        ("ref", pa.string()),
        ("occurred_at", pa.string()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("kind", pa.string()),
        ("quantity_g", pa.float64()),
        ("arrested", pa.int64()),
        ("source", pa.string()),
    ]
)


def _inside(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points drawn uniformly inside ``polygon``."""
    x0, y0, x1, y1 = polygon.bounds
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    found = 0
    while found < n:
        batch = max(64, int((n - found) * 1.5 * (x1 - x0) * (y1 - y0) / max(polygon.area, 1e-12)))
        x, y = rng.uniform(x0, x1, batch), rng.uniform(y0, y1, batch)
        keep = shapely.contains_xy(polygon, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        found += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def load_country(cluster: ManagedCluster, args: argparse.Namespace) -> None:
    """Schema, the national units, the incidents, detection, accounts and tasks (the slow part, done once)."""
    national = DataSettings().national_boundaries
    if national is None or not national.exists():
        sys.exit("the national boundary file is missing (../shared/data/vietnam/communes.geojson.gz)")
    owner = create_engine(cluster.owner_url(), poolclass=NullPool)
    migrate(owner, app_role=APP_ROLE)
    started = time.perf_counter()
    with owner.begin() as conn:
        if not conn.execute(text("SELECT count(*) FROM admin_units")).scalar_one():  # not kept from an earlier try
            import_boundaries(conn, national)
    print(f"boundaries: 3,321 units in {time.perf_counter() - started:.0f} s; {load_average()}", flush=True)
    with owner.connect() as conn:
        loaded = conn.execute(text("SELECT count(*) FROM import_runs")).scalar_one()
    if not loaded:  # an earlier try that stopped after the import keeps its rows (one transaction each step)
        csv_path = cluster.home.parent / "incidents.csv"
        started = time.perf_counter()
        generate_incidents(cluster, args.incidents, args.years, csv_path)
        print(f"generated {args.incidents:,} incidents in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        with owner.begin() as conn:
            result = import_incidents(conn, csv_path, imported_by="bench")
        with owner.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        csv_path.unlink()
        print(
            f"imported {result.imported:,} ({result.rejected:,} rejected, {result.outside:,} outside) in"
            f" {time.perf_counter() - started:.0f} s; {load_average()}",
            flush=True,
        )
    owner.dispose()
    engine = create_engine(cluster.url(), poolclass=NullPool)
    started = time.perf_counter()
    with engine.begin() as conn:
        detected = run_detection(conn, actor="bench")
    print(
        f"detection over the last 90 days: {time.perf_counter() - started:.0f} s, {detected.new} hotspots", flush=True
    )
    started = time.perf_counter()
    with engine.begin() as conn:  # the year's draft classification, which the KPI reports read
        draft_year(conn, local_today().year, actor="bench")
    print(f"classification draft of {local_today().year}: {time.perf_counter() - started:.0f} s", flush=True)
    with engine.begin() as conn:
        seed_accounts(conn)
    with engine.begin() as conn:
        seed_tasks(conn)
    engine.dispose()


def seed_accounts(conn: Connection) -> None:
    """The ministry, each province's command and planner, a team per TEAM_COMMUNES communes of a province."""
    hashed = hash_password(PASSWORD)
    create_user(conn, MINISTRY, hashed, Role.COMMAND, None)
    units = conn.execute(
        text("SELECT province_code, code FROM admin_units WHERE valid_to IS NULL ORDER BY province_code, code")
    ).all()
    by_province: dict[str, list[str]] = {}
    for province, code in units:
        by_province.setdefault(province, []).append(code)
    for province, codes in by_province.items():
        create_user(conn, f"chihuy-{province}", hashed, Role.COMMAND, None, province_code=province)
        create_user(conn, f"thammuu-{province}", hashed, Role.PLANNER, None, province_code=province)
        for k in range(0, len(codes), TEAM_COMMUNES):
            team = create_team(conn, f"Tổ {province}-{k // TEAM_COMMUNES + 1:02d}", codes[k : k + TEAM_COMMUNES])
            create_user(conn, f"to-{province}-{k // TEAM_COMMUNES + 1:02d}", hashed, Role.TEAM, team)


def seed_tasks(conn: Connection) -> None:
    """Each team's largest detected hotspots verified and given to it as suppression tasks."""
    actor = principal_by_username(conn, MINISTRY)
    rows = conn.execute(
        text("""
        SELECT id, commune_code, version FROM (
          SELECT h.id, h.commune_code, h.version,
                 row_number() OVER (PARTITION BY ta.team_id ORDER BY h.n_incidents DESC) AS rank
          FROM hotspots h JOIN team_areas ta ON ta.commune_code = h.commune_code AND ta.valid_to IS NULL
          WHERE h.status = :detected) ranked
        WHERE rank <= :n"""),
        {"detected": HotspotStatus.DETECTED, "n": TASKS_PER_TEAM},
    ).all()
    for hotspot_id, commune, version in rows:
        transition_hotspot(
            conn, HOTSPOT_LIFECYCLE, hotspot_id, HotspotStatus.VERIFIED, "", version, actor, UNRESTRICTED
        )
        create_task(
            conn,
            actor,
            kind=TaskKind.SUPPRESSION,
            hotspot_id=hotspot_id,
            commune_code=None,
            year=None,
            team_id=suggest_assignees(conn, commune)[0]["team_id"],
            due_date=date.today() + timedelta(days=30),
            priority=TaskPriority.NORMAL,
            checklist=[],
        )


@dataclass
class Account:
    """A login and what its requests are about: its role, its province's (or team's) communes and its tasks."""

    username: str
    role: str
    points: list[tuple[float, float]]
    tasks: list[int] = field(default_factory=list)
    token: str = ""


def accounts(engine: Engine) -> list[Account]:
    """Every benchmark login with the lon/lat points of the communes it looks at."""
    with engine.connect() as conn:
        points: dict[str, tuple[float, float]] = {}
        province_of: dict[str, str] = {}
        for code, province, lon, lat in conn.execute(
            text("""SELECT code, province_code, ST_X(p), ST_Y(p) FROM
                    (SELECT code, province_code, ST_PointOnSurface(geom) AS p FROM admin_units
                     WHERE valid_to IS NULL) u""")
        ):
            points[code] = (lon, lat)
            province_of[code] = province
        team_area: dict[int, list[str]] = {}
        for team_id, code in conn.execute(text("SELECT team_id, commune_code FROM team_areas WHERE valid_to IS NULL")):
            team_area.setdefault(team_id, []).append(code)
        tasks: dict[int, list[int]] = {}
        for team_id, task_id in conn.execute(text("SELECT team_id, id FROM tasks WHERE team_id IS NOT NULL")):
            tasks.setdefault(team_id, []).append(task_id)
        users = conn.execute(
            text(
                "SELECT username, role, team_id, province_code FROM users WHERE username LIKE 'to-%'"
                " OR username LIKE 'chihuy-%' OR username LIKE 'thammuu-%' OR username = :m ORDER BY username"
            ),
            {"m": MINISTRY},
        ).all()
    out = []
    for username, role, team_id, province in users:
        if team_id is not None:
            chosen = [points[c] for c in team_area.get(team_id, [])]
        elif province is not None:
            chosen = [p for c, p in points.items() if province_of[c] == province]
        else:
            chosen = list(points.values())
        out.append(Account(username, role, chosen, tasks.get(team_id, []) if team_id else []))
    return out


def users_of(every: list[Account], n: int, seed: int = 0) -> list[Account]:
    """``n`` simulated users: 70 % field teams, 22 % provincial command, 6 % planners, 2 % the ministry (several
    users may share a login, as officers on shift share a team's phone)."""
    rng = random.Random(seed)
    by_kind = {
        "team": [a for a in every if a.role == Role.TEAM],
        "command": [a for a in every if a.role == Role.COMMAND and a.username != MINISTRY],
        "planner": [a for a in every if a.role == Role.PLANNER],
        "ministry": [a for a in every if a.username == MINISTRY],
    }
    shares = (("team", 0.70), ("command", 0.22), ("planner", 0.06), ("ministry", 0.02))
    chosen = []
    for kind, share in shares:
        count = max(1, round(n * share))
        chosen += [by_kind[kind][i % len(by_kind[kind])] for i in range(count)]
    rng.shuffle(chosen)
    return chosen[:n]


def _tile(lon: float, lat: float, z: int) -> str:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return f"/tiles/incidents/{z}/{int((lon + 180) / 360 * n)}/{int(y)}.mvt"


def _view(rng: random.Random, account: Account) -> str:
    lon, lat = rng.choice(account.points)
    lon, lat = lon + rng.uniform(-0.03, 0.0), lat + rng.uniform(-0.03, 0.0)
    return f"{lon:.4f},{lat:.4f},{lon + 0.05:.4f},{lat + 0.05:.4f}"


def pick(rng: random.Random, account: Account, year: int) -> tuple[str, str, str, dict | None]:
    """One request of this user's role: kind, method, path, JSON body."""
    choice = rng.random()
    if account.role == Role.TEAM:
        if choice < 0.45:
            return "task-list", "GET", "/api/tasks/mine?limit=50", None
        if choice < 0.60 and account.tasks:
            body = {"note": "tiến độ: đang xác minh"}
            return "task-update", "POST", f"/api/tasks/{rng.choice(account.tasks)}/comments", body
        return "tile", "GET", _tile(*rng.choice(account.points), rng.randint(14, 15)), None
    if account.username == MINISTRY:
        if choice < 0.4:
            return "kpi", "GET", f"/api/reports/kpi?year={year}", None
        return "tile", "GET", _tile(*rng.choice(account.points), rng.randint(6, 9)), None
    if account.role == Role.PLANNER:
        if choice < 0.5:
            return "kpi", "GET", f"/api/reports/kpi?year={year}", None
        if choice < 0.8:
            return "hotspots", "GET", f"/api/hotspots?bbox={_view(rng, account)}", None
        return "tile", "GET", _tile(*rng.choice(account.points), rng.randint(10, 15)), None
    if choice < 0.45:
        return "tile", "GET", _tile(*rng.choice(account.points), rng.randint(10, 15)), None
    if choice < 0.70:
        return "hotspots", "GET", f"/api/hotspots?bbox={_view(rng, account)}", None
    if choice < 0.85:
        return "heat", "GET", f"/api/heat?format=overlay&bbox={_view(rng, account)}&cell_m=100", None
    return "kpi", "GET", f"/api/reports/kpi?year={year}", None


async def run_users(base: str, users: list[Account], seconds: float, think: float, connections: int) -> dict:
    """Every user's loop for ``seconds``: latencies and errors per kind, and the statuses of the errors."""
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    statuses: dict[str, int] = {}
    year = local_today().year
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=60)

    async def user(seed: int, account: Account) -> None:
        rng = random.Random(seed)
        headers = {"Authorization": f"Bearer {account.token}"}
        async with aiohttp.ClientSession(base, connector=connector, connector_owner=False, timeout=timeout) as session:
            await asyncio.sleep(rng.uniform(0, think))  # arrivals spread over one pause
            while time.perf_counter() < stop:
                kind, method, url, body = pick(rng, account, year)
                started = time.perf_counter()
                try:
                    async with session.request(method, url, json=body, headers=headers) as response:
                        await response.read()
                        status = str(response.status)
                except (TimeoutError, aiohttp.ClientError) as error:
                    status = type(error).__name__
                latencies.setdefault(kind, []).append(time.perf_counter() - started)
                if not status.isdigit() or int(status) >= 400:
                    errors[kind] = errors.get(kind, 0) + 1
                    statuses[f"{kind} {status}"] = statuses.get(f"{kind} {status}", 0) + 1
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))

    started = time.perf_counter()
    try:
        await asyncio.gather(*(user(i, account) for i, account in enumerate(users)))
    finally:
        await connector.close()
    return {"latencies": latencies, "errors": errors, "statuses": statuses, "elapsed": time.perf_counter() - started}


def app_server(port: int, url: str, extra: dict[str, str]) -> contextlib.AbstractContextManager:
    """One ``diaban serve`` process (one worker) on ``port`` over the database at ``url``."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DIABAN_DATABASE_URL": url,
        "DIABAN_SECRET_KEY": SECRET,
        "DIABAN_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "DIABAN_LOG_LEVEL": "WARNING",
        **extra,
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "1"]
    return server(command, env, port)


@contextlib.contextmanager
def deployment(name: str, cluster: ManagedCluster, standby: ManagedCluster) -> Iterator[str]:
    """The configuration ``name`` started, behind nginx; the front's URL."""
    with contextlib.ExitStack() as stack:
        extra: dict[str, str] = {}
        count = 1
        if name == "two+replica":
            extra = {
                "DIABAN_CACHE_URL": stack.enter_context(temporary_redis()),
                "DIABAN_REPLICA_URLS": standby.url(),
            }
            count = 2
        ports = [free_port() for _ in range(count)]
        for port in ports:
            stack.enter_context(app_server(port, cluster.url(), extra))
        front = stack.enter_context(
            temporary_nginx(SITE, [f"127.0.0.1:{p}" for p in ports], free_port(), worker_connections=4096)
        )
        yield front


def log_in(base: str, every: list[Account]) -> None:
    """A token for each login (one sign-in each, before the clock starts)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        for account in every:
            response = client.post("/api/auth/token", data={"username": account.username, "password": PASSWORD})
            response.raise_for_status()
            account.token = response.json()["access_token"]


def cluster_at(home: Path, fresh: bool, args: argparse.Namespace) -> ManagedCluster:
    """The benchmark's cluster under ``home``, loaded once (again with ``fresh``)."""
    if fresh and home.exists():
        with contextlib.suppress(Exception):
            ManagedCluster(home / "db").stop("immediate")
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o755)
    cluster = ManagedCluster(home / "db")
    cluster.start()
    done = home / "loaded"
    if not done.exists():
        load_country(cluster, args)
        done.write_text(f"{args.incidents} incidents over {args.years} years\n")
    else:
        print(f"reusing the loaded cluster at {home} ({done.read_text().strip()}); --fresh rebuilds it", flush=True)
        owner = create_engine(cluster.owner_url(), poolclass=NullPool)
        migrate(owner, app_role=APP_ROLE)  # to this checkout's schema (the servers refuse an older one)
        owner.dispose()
    return cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=10_000_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=200, help="client connections the users share")
    parser.add_argument("--think", type=float, default=10.0, help="mean pause of a user between requests (s)")
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=1, help="each configuration this many times, alternated")
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "diaban-bench-national")
    parser.add_argument("--fresh", action="store_true", help="rebuild the loaded cluster")
    parser.add_argument("--load-only", action="store_true", help="build the loaded cluster and stop")
    parser.add_argument("--only", choices=("one", "two+replica"), help="run one configuration only")
    args = parser.parse_args()
    print(f"{load_average()}", flush=True)
    cluster = cluster_at(args.home, args.fresh, args)
    if args.load_only:
        cluster.stop()
        return
    standby_home = args.home / "standby"
    if standby_home.exists():
        with contextlib.suppress(Exception):
            ManagedCluster(standby_home, standby=True).stop("immediate")
        shutil.rmtree(standby_home)
    started = time.perf_counter()
    standby = cluster.make_standby(standby_home)
    standby.start()
    print(f"hot standby by pg_basebackup in {time.perf_counter() - started:.0f} s; {load_average()}", flush=True)
    try:
        engine = create_engine(cluster.url(), poolclass=NullPool)
        with engine.connect() as conn:
            incidents = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
            units = conn.execute(text("SELECT count(*) FROM admin_units WHERE valid_to IS NULL")).scalar_one()
        every = accounts(engine)
        engine.dispose()
        users = users_of(every, args.users)
        print(
            f"{units:,} units, {incidents:,} incidents, {len(every)} logins, {len(users)} users sharing"
            f" {args.connections} connections, pausing ~{args.think:g} s",
            flush=True,
        )
        order = [name for name in ("one", "two+replica") if args.only in (None, name)] * args.rounds
        if args.rounds > 1:  # alternate which goes first, so that neither gains from a warmer page cache
            order = [name for r in range(args.rounds) for name in (order[:2] if r % 2 == 0 else order[1::-1])]
        for name in order:
            with deployment(name, cluster, standby) as front:
                log_in(front, every)
                asyncio.run(run_users(front, users, args.warmup, args.think, args.connections))
                result = asyncio.run(run_users(front, users, args.seconds, args.think, args.connections))
                report(f"{name}: {len(users)} users, {args.seconds:g} s after {args.warmup:g} s of warm-up", result)
                if result["statuses"]:
                    print(f"  errors by status: {dict(sorted(result['statuses'].items()))}", flush=True)
                print(f"  {load_average()}", flush=True)
    finally:
        standby.stop("immediate")
        cluster.stop()


if __name__ == "__main__":
    main()

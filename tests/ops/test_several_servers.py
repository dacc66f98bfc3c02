"""Several app servers behind nginx, on the real engines started here: two `diaban serve` processes (one with two
workers) on the session's cluster, a Redis they share as their response cache, and nginx configured by the
committed deploy/nginx/diaban.conf.

Each test waits on conditions (a port that answers, a status that changes), never on a fixed delay, and is bounded:
the servers trust their remembered sessions and data versions for 1 s here (DIABAN_SESSION_CHECK_SECONDS,
DIABAN_DATA_VERSION_SECONDS), so a change made elsewhere shows within that and the waits below end in about as long.
The test that kills a server runs last in the module (the others need both).
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from api.cache import SOURCE_HEADER, CacheSource
from api.security import hash_password
from gis.demo.accounts import DEMO_PASSWORD, seed_demo_accounts
from gis.ops.nginx import listening, temporary_nginx
from gis.ops.nginx import nginx_binary as find_nginx
from gis.ops.postgres import ManagedCluster
from gis.ops.redis import free_port, temporary_redis
from gis.services.boundary_import import import_boundaries
from gis.services.incident_import import import_incidents
from tests.conftest import migrated_database

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx" / "diaban.conf"
SAMPLE = ROOT / "data" / "samples" / "synthetic-incidents-comma-utf8.csv"
DB = "several_servers"
#: Bound of every wait below: a server's start on a loaded 2-core machine, a change showing through the 1 s memories.
DEADLINE_S = 90.0
#: The centre of Hải Phòng, where the sample has incidents, and the zoom-12 tile around it.
CENTRE = (106.68, 20.86)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


TILE = "/tiles/incidents/{}/{}/{}.mvt".format(*_tile(*CENTRE, 12))


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Return once ``condition()`` holds; fail after DEADLINE_S (polled every 20 ms)."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class AppServer:
    """A `diaban serve` subprocess (the leader of its own process group: its workers go with it)."""

    url: str
    process: subprocess.Popen
    announced: threading.Event

    def kill(self) -> None:
        """SIGKILL the server and its workers at once, as a crashed machine would stop."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)


def start_server(env: dict[str, str], workers: int) -> AppServer:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    announced = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("diaban đang phục vụ tại"):
                announced.set()
            else:
                sys.stderr.write(f"[server {port}] {line}")

    threading.Thread(target=read, daemon=True).start()
    return AppServer(f"http://127.0.0.1:{port}", process, announced)


@pytest.fixture(scope="module")
def city(cluster: ManagedCluster, boundaries_path: Path) -> Iterator[str]:
    """A scratch database with the communes, the sample's 1,000 incidents and the demo accounts; its app URL."""
    migrated_database(cluster, DB)
    owner = create_engine(cluster.owner_url(DB))
    with owner.begin() as conn:
        import_boundaries(conn, boundaries_path)
        import_incidents(conn, SAMPLE, imported_by="test")
        seed_demo_accounts(conn, hash_password, n_areas=4)
    owner.dispose()
    yield cluster.url(DB)
    cluster.drop_database(DB)


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    binary = find_nginx()
    if binary is None:
        pytest.skip("nginx is not installed (make test-system-deps installs Debian's nginx-light)")
    return binary


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test-system-deps installs Debian's redis-server)")
    with temporary_redis() as url:
        yield url


@pytest.fixture(scope="module")
def servers(city: str, cluster: ManagedCluster, redis_url: str, nginx_binary: str) -> Iterator[list[AppServer]]:
    """Server A (two workers) and server B (one), sharing the database, the signing key and the Redis cache."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DIABAN_DATABASE_URL": city,
        "DIABAN_OWNER_DATABASE_URL": cluster.owner_url(DB),
        "DIABAN_SECRET_KEY": "several-servers-test-key-of-enough-length",
        "DIABAN_CACHE_URL": redis_url,
        "DIABAN_CACHE_LOCK_SECONDS": "3",
        "DIABAN_CACHE_TIMEOUT_SECONDS": "10",  # a loaded test machine is no Redis outage
        "DIABAN_WARM_CONNECTIONS": "2",
        "DIABAN_SESSION_CHECK_SECONDS": "1",
        "DIABAN_DATA_VERSION_SECONDS": "1",
        "DIABAN_LOG_LEVEL": "WARNING",
    }
    started = [start_server(env, workers=2), start_server(env, workers=1)]
    try:
        for server in started:
            wait_for(lambda s=server: s.announced.is_set() or s.process.poll() is not None, "a server to announce")
            assert server.announced.is_set(), f"server exited with {server.process.returncode}"
        yield started
    finally:
        for server in started:
            if server.process.poll() is None:
                server.kill()


@pytest.fixture(scope="module")
def front(servers: list[AppServer], nginx_binary: str) -> Iterator[str]:
    """nginx with the committed site configuration, its upstream the two servers, on a free port; its URL."""
    upstreams = [s.url.removeprefix("http://") for s in servers]
    with temporary_nginx(NGINX_CONF, upstreams, free_port(), timeout_s=DEADLINE_S) as url:
        yield url


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module (a client per request spends most of its time building an SSL context)."""
    with httpx.Client(timeout=30) as client:
        yield client


def login(http: httpx.Client, base: str, username: str = "chihuy", address: str = "192.0.2.1") -> dict[str, str]:
    """A bearer header for ``username``, logging in from ``address`` (the servers trust X-Forwarded-For of 127.0.0.1)."""
    response = http.post(
        f"{base}/api/auth/token",
        data={"username": username, "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": address},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_write_through_a_is_read_back_through_b(http: httpx.Client, servers: list[AppServer], front: str) -> None:
    a, b = servers
    auth = login(http, front)
    created = http.post(
        f"{a.url}/api/hotspots",
        json={"lon": CENTRE[0], "lat": CENTRE[1], "note": "tin báo qua máy chủ A"},
        headers=auth,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    hotspot_id = created.json()["properties"]["id"]
    read = http.get(f"{b.url}/api/hotspots/{hotspot_id}", headers=auth, timeout=30)
    assert read.status_code == 200 and read.json()["properties"]["note"] == "tin báo qua máy chủ A"
    listed = http.get(f"{front}/api/hotspots", headers=auth, timeout=30)
    assert hotspot_id in [f["properties"]["id"] for f in listed.json()["features"]]


def test_a_session_ended_on_a_is_refused_on_b(http: httpx.Client, servers: list[AppServer], front: str) -> None:
    a, b = servers
    auth = login(http, a.url)
    assert http.get(f"{b.url}/api/auth/me", headers=auth, timeout=30).status_code == 200  # B now remembers it
    assert http.post(f"{a.url}/api/auth/logout", headers=auth, timeout=30).status_code == 204
    assert (
        http.get(f"{a.url}/api/auth/me", headers=auth, timeout=30).status_code == 401
    )  # A at once (neither of its workers had it in memory)
    wait_for(
        lambda: http.get(f"{b.url}/api/auth/me", headers=auth, timeout=30).status_code == 401,
        "B to refuse the ended session (DIABAN_SESSION_CHECK_SECONDS)",
    )
    assert http.get(f"{front}/api/auth/me", headers=auth, timeout=30).status_code == 401


def test_an_account_locked_through_a_is_locked_on_b(http: httpx.Client, servers: list[AppServer]) -> None:
    a, b = servers
    for _ in range(5):  # DIABAN_MAX_FAILED_LOGINS
        refused = http.post(
            f"{a.url}/api/auth/token",
            data={"username": "thammuu", "password": "sai"},
            headers={"X-Forwarded-For": "198.51.100.7"},
            timeout=30,
        )
        assert refused.status_code == 401
    right = http.post(
        f"{b.url}/api/auth/token",
        data={"username": "thammuu", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.8"},
        timeout=30,
    )
    assert right.status_code == 401  # locked, whichever server is asked and from whatever address


def test_a_page_login_through_nginx_on_another_port_is_not_taken_for_cross_site(front: str) -> None:
    """nginx listens here on a free port, not 80: the site file sent ``Host $host``, which drops the port, so the
    login form's Origin (http://127.0.0.1:<port>) never matched and every page login was refused (403). (Not the
    module's client: the session cookie would follow its other requests.)"""
    assert not front.endswith((":80", ":443"))
    response = httpx.post(
        f"{front}/login",
        data={"username": "chihuy", "password": DEMO_PASSWORD},
        headers={"Origin": front, "Referer": f"{front}/login", "X-Forwarded-For": "192.0.2.9"},
        timeout=30,
    )
    assert response.status_code == 303, response.text[:300]
    assert response.headers["location"] == "/" and "diaban_session" in response.cookies
    elsewhere = httpx.post(
        f"{front}/login",
        data={"username": "chihuy", "password": DEMO_PASSWORD},
        headers={"Origin": "http://127.0.0.1:1", "X-Forwarded-For": "192.0.2.9"},
        timeout=30,
    )
    assert elsewhere.status_code == 403  # another site's form (here: another port) is still refused


def _new_incidents(path: Path, n: int) -> Path:
    """``n`` incidents at the centre, today, with fresh references."""
    with SAMPLE.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        stamp = time.strftime("%d/%m/%Y %H:%M", time.localtime(time.time() - 3600))
        for i in range(n):
            out.writerow([f"MOI-{time.monotonic_ns()}-{i}", stamp, "Tin báo, tố giác", *CENTRE, "", "", 0, "thử"])
    return path


def test_a_tile_computed_by_a_is_a_hit_on_b_and_an_import_makes_both_recompute(
    http: httpx.Client, servers: list[AppServer], cluster: ManagedCluster, tmp_path: Path
) -> None:
    a, b = servers
    auth = login(http, a.url)
    first = http.get(f"{a.url}{TILE}", headers=auth, timeout=30)
    assert first.status_code == 200 and first.headers[SOURCE_HEADER] == CacheSource.BUILT
    second = http.get(f"{b.url}{TILE}", headers=auth, timeout=30)
    assert second.headers[SOURCE_HEADER] == CacheSource.SHARED and second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]  # the same validator on every server

    owner = create_engine(cluster.owner_url(DB))
    with owner.begin() as conn:  # what `diaban incidents import` does, from neither server
        report = import_incidents(conn, _new_incidents(tmp_path / "new.csv", 25), imported_by="test")
    owner.dispose()
    assert report.imported == 25, report
    for server in (a, b):
        wait_for(
            lambda s=server: http.get(f"{s.url}{TILE}", headers=auth, timeout=30).content != first.content,
            "the import to show in the tile (DIABAN_DATA_VERSION_SECONDS)",
        )
    for server in (a, b, a, b):  # and the old body never comes back, from the process or from Redis
        again = http.get(f"{server.url}{TILE}", headers=auth, timeout=30)
        assert again.status_code == 200 and again.content != first.content


def test_killing_one_server_during_a_read_load_loses_no_request(
    http: httpx.Client, servers: list[AppServer], front: str
) -> None:
    """Last in the module: server A stays dead.

    nginx retries on server B every request A had not begun to answer. One A had begun, its header passed on to the
    client, nginx cannot retry: the body is cut off (1 request of 600 in one of 17 runs, when the kill fell between
    the two writes of a response). Such a request is sent again, as a user would reload, and must then succeed; at
    most the 4 requests in flight can be cut off."""
    a, b = servers
    auth = login(http, front)
    paths = [TILE, "/api/hotspots", "/api/auth/me", "/health"] + [
        "/tiles/incidents/{}/{}/{}.mvt".format(*_tile(CENTRE[0] + dx, CENTRE[1] + dy, 13))
        for dx in (-0.05, 0, 0.05)
        for dy in (-0.05, 0.05)
    ]
    total, killed_at = 600, 100
    done, statuses, cut_off, lock = [0], [], [0], threading.Lock()
    killed = threading.Event()

    def one(i: int) -> None:
        url = f"{front}{paths[i % len(paths)]}"
        try:
            response = http.get(url, headers=auth, timeout=60)
        except httpx.RemoteProtocolError:  # the body of an answer begun by A, cut off by the kill
            with lock:
                cut_off[0] += 1
            response = http.get(url, headers=auth, timeout=60)
        with lock:
            statuses.append(response.status_code)
            done[0] += 1
            if done[0] == killed_at:
                killed.set()

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(one, i) for i in range(total)]
        killed.wait(DEADLINE_S)
        a.kill()
        after = done[0]
        for future in futures:
            future.result()
    assert not listening(int(a.url.rsplit(":", 1)[1]))
    assert total - after >= 300, "the server was killed too late in the load to test anything"
    assert [s for s in statuses if s != 200] == []
    assert cut_off[0] <= 4
    assert http.get(f"{b.url}/health", timeout=30).status_code == 200

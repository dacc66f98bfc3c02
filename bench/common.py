"""Shared benchmark set-up: a synthetic incident file and a plain COPY baseline on a real PostGIS."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from gis.io.scenario_files import write_scenario
from gis.ops.postgres import APP_ROLE, ManagedCluster
from gis.services.boundary_import import import_boundaries
from gis.settings import DataSettings
from gis.store.db import migrate
from models.synthetic.scenario import ScenarioConfig, generate_scenario

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Result and wall-clock seconds of one call."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


_HZ = os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """CPU seconds every core has spent busy since boot (/proc/stat: all but idle and iowait)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _HZ


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its direct children (a server's supervisor and workers), Linux /proc."""
    pids = [str(pid), *Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _HZ


@dataclass
class CpuSplit:
    """Where the machine's CPU went during a measurement, per request (ms): this benchmark process (the load
    client), a server's processes, and the rest: PostgreSQL and the kernel's own work (loopback TCP, counted by no
    process), on a machine doing nothing else."""

    client_ms: float
    server_ms: float
    rest_ms: float

    def __str__(self) -> str:
        server = f"server {self.server_ms:.2f} + " if self.server_ms else ""
        return f"CPU per request: {server}PostgreSQL, kernel, rest {self.rest_ms:.2f} + client {self.client_ms:.2f} ms"


def cpu_split(run: Callable[[], int], server_pid: int | None = None) -> CpuSplit:
    """Run ``run`` (it returns the number of requests it made) and split the machine's busy CPU time per request
    between this process, the server ``server_pid`` (with its workers) and everything else."""
    machine, own, server = _machine_busy_s(), os.times(), _tree_cpu_s(server_pid) if server_pid else 0.0
    requests = max(run(), 1)
    after = os.times()
    client = after.user + after.system - own.user - own.system
    served = _tree_cpu_s(server_pid) - server if server_pid else 0.0
    rest = _machine_busy_s() - machine - client - served
    return CpuSplit(*(1000 * seconds / requests for seconds in (client, served, rest)))


def incident_csv(rows: int, out_dir: Path, seed: int = 11) -> Path:
    """A synthetic incident CSV of `rows` rows over the Hải Phòng communes."""
    communes = gpd.read_file(DataSettings().boundary_file())
    scenario = generate_scenario(communes, ScenarioConfig(seed=seed, years=3, n_incidents=rows))
    return write_scenario(scenario, out_dir)["incidents"]


def prepared_engine(cluster: ManagedCluster) -> Engine:
    """The app role's engine on the cluster's database, migrated by the owner role, with the real communes loaded."""
    owner = create_engine(cluster.owner_url(), poolclass=NullPool)
    migrate(owner, app_role=APP_ROLE)
    owner.dispose()
    engine = create_engine(cluster.url())
    with engine.begin() as conn:
        import_boundaries(conn, DataSettings().boundary_file())
    return engine


def plain_copy_seconds(cluster: ManagedCluster, csv_path: Path) -> float:
    """Time of a plain COPY of the file into an unindexed table with the contract's columns (as the owner role: the
    app role may not create tables)."""
    engine = create_engine(cluster.owner_url(), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE UNLOGGED TABLE plain_copy (ref text, occurred_at timestamptz, lon float8,"
                " lat float8, kind text, substance text, quantity_g float8, arrested int, source text)"
            )
        )
        raw = conn.connection.driver_connection
        start = time.perf_counter()
        with (
            raw.cursor() as cur,
            open(csv_path, "rb") as fh,
            cur.copy("COPY plain_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - start
        conn.execute(text("DROP TABLE plain_copy"))
    engine.dispose()
    return elapsed


def import_as_owner(cluster: ManagedCluster, csv_path: Path) -> None:
    """Import the file as `diaban incidents import` does (the owner's role, which may create and attach the yearly
    partitions; the app role's rows would all land in the default partition), then gather the statistics that
    autovacuum would gather a minute later (freshly attached partitions have none, and without them the planner
    sends a street-zoom tile through parallel workers: 40 ms instead of 0.5 ms, measured)."""
    from gis.services.incident_import import import_incidents

    engine = create_engine(cluster.owner_url(), poolclass=NullPool)
    with engine.begin() as conn:
        import_incidents(conn, csv_path, imported_by="bench")
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE incidents"))
    engine.dispose()

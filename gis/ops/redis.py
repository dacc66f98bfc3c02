"""A throwaway Redis server (Debian's ``redis-server``) on a loopback port, for the tests and benchmarks of the shared
response cache; production runs Redis as a system service (see the README's deployment section)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.errors import Unavailable

#: What the throwaway server may hold, and how it makes room: the least recently used keys go first (as in production).
_MAX_MEMORY = "256mb"


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def temporary_redis(port: int | None = None, timeout_s: float = 10.0) -> Iterator[str]:
    """A Redis server without persistence on a loopback port (a free one by default), its URL yielded; stopped and
    removed afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("chưa cài redis-server (apt-get install redis-server)", "redis-server is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="diaban-redis-"))
    port = port or free_port()
    # no RDB snapshots, no append-only file: a cache that a restart may lose
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    args += ["--maxmemory", _MAX_MEMORY, "--maxmemory-policy", "allkeys-lru"]
    server = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while not _answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise Unavailable("redis-server không khởi động được", "redis-server did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)

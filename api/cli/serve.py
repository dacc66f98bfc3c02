"""`diaban serve`: uvicorn on a port this process binds, in one process or in ``--workers`` processes.

With several workers uvicorn's own supervisor runs them (it restarts a worker that dies), each builds the app from
``api.asgi`` and warms its own pool; the schema is brought to its head once, here, before any worker starts, so
that workers never race to migrate. The address is printed once every worker has warmed its connections.

Each worker listens on a socket of its own bound to the same port (SO_REUSEPORT), so the kernel spreads new
connections evenly over the workers. On one shared socket the worker that waited longest in ``accept`` took the
next connection whatever its load: 100 users connecting at once went 80/20, 81/19 and 81/19 in three runs of
bench/bench_api.py's saturation phase (53/47, 52/48 and 53/47 on sockets of their own), and the worker with more
users answered them more slowly (issue 18).
"""

from __future__ import annotations

import errno
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from models.errors import Unavailable

#: How long a worker may take to start and warm its connections before the server gives up on announcing it.
_WORKER_START_S = 120.0


def serve(host: str, port: int, workers: int, forwarded_allow_ips: str) -> None:
    """Serve diaban on host:port until interrupted; print where once the port is held and connections are warm."""
    from api.app import create_app
    from gis.settings import ApiSettings
    from gis.store.db import get_engine

    settings = ApiSettings()
    # Reachable and migrated, or one clear error.
    engine = get_engine(statement_timeout_s=settings.statement_timeout_s, parallel_workers=settings.parallel_workers)
    # Built here even for workers: a broken setting (criteria file, basemap, key) stops the command with its own
    # message and exit code, before any worker starts.
    app = create_app(engine, settings.warm_connections, server_process=True)
    listener = bind_listener(host, port)
    port = listener.getsockname()[1]  # the one the system chose for --port 0
    address = f"http://{host}:{port}"
    if workers <= 1:
        config = uvicorn.Config(app, log_level="warning", forwarded_allow_ips=forwarded_allow_ips)
        _AnnouncedServer(config, address).run(sockets=[listener])
        return
    engine.dispose()  # the workers are new processes with their own pools
    listener.close()  # the port is free (nobody else listens on it): the workers bind their own sockets to it
    config = uvicorn.Config(
        "api.asgi:app", workers=workers, log_level="warning", forwarded_allow_ips=forwarded_allow_ips
    )
    supervisor = _AnnouncedWorkers(config, host, port, address)
    supervisor.run()
    if not supervisor.announced:
        raise Unavailable(
            "các tiến trình phục vụ không khởi động được (xem nhật ký ở trên)", "the server workers did not start"
        )


class _AnnouncedServer(uvicorn.Server):
    """Says where it serves once the port is held and the connections are warm, not before."""

    def __init__(self, config: uvicorn.Config, address: str) -> None:
        super().__init__(config)
        self.address = address

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(f"diaban đang phục vụ tại {self.address}", flush=True)


class _AnnouncedWorkers(Multiprocess):
    """uvicorn's supervisor of worker processes, each on its own socket bound to the port (SO_REUSEPORT), saying
    where it serves once every worker has started.

    uvicorn reads ``sockets`` once for each worker it starts (at start, on a restart after a crash, on SIGHUP or
    SIGTTIN); here every read binds a new socket, which the worker's start hands to the child process. The
    supervisor then closes its own copy: a worker that dies takes its socket with it, and the kernel stops sending
    connections there, rather than to a socket nobody accepts on."""

    def __init__(self, config: uvicorn.Config, host: str, port: int, address: str) -> None:
        self.host, self.port = host, port
        self._handed: list[socket.socket] = []
        super().__init__(config, [])
        self.address = address
        self.announced = False

    @property
    def sockets(self) -> list[socket.socket]:
        """A new socket for the worker about to start."""
        listener = bind_listener(self.host, self.port, reuse_port=True)
        self._handed.append(listener)
        return [listener]

    @sockets.setter
    def sockets(self, _shared: list[socket.socket]) -> None:
        """uvicorn's constructor stores the sockets its workers share; here none is shared."""

    def _close_handed(self) -> None:
        """Close the supervisor's copies of the sockets given to workers started since the last call."""
        while self._handed:
            self._handed.pop().close()

    def init_processes(self) -> None:
        super().init_processes()
        self._close_handed()
        if all(process.wait_until_ready(_WORKER_START_S, self.should_exit) for process in self.processes):
            self.announced = True
            print(f"diaban đang phục vụ tại {self.address} ({len(self.processes)} tiến trình)", flush=True)

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        self._close_handed()

    def handle_signals(self) -> None:
        super().handle_signals()
        self._close_handed()


def bind_listener(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to host:port (the server listens on it); a busy port is one clear line, exit 1.

    With ``reuse_port`` other sockets of this user with the option may be bound to the port too: the workers'.
    Without it the bind fails while any socket listens there, so a second server is refused, not joined."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise Unavailable(
            f"không mở được cổng {port} trên {host} ({_why_not_bound(exc)})",
            f"cannot bind {host}:{port}: {exc.strerror or exc}",
        ) from None
    return listener


def _why_not_bound(exc: OSError) -> str:
    """What to fix when the server cannot listen, in Vietnamese: the address (no such address, or none of this
    machine's: it was said to be a busy port), the port (busy, or reserved to the administrator), else both to check
    (the system's own reason goes to the debug log)."""
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return "địa chỉ không hợp lệ hoặc không thuộc máy này: sửa --host hoặc DIABAN_HOST"
    if exc.errno == errno.EADDRINUSE:
        return "cổng đang bận: chọn --port khác"
    if exc.errno == errno.EACCES:
        return "cổng dưới 1024 cần quyền quản trị: chọn --port khác"
    return "kiểm tra --host và --port"

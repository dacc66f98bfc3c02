"""`diaban serve`: uvicorn on a port this process binds, in one process or in ``--workers`` processes.

With several workers uvicorn's own supervisor runs them (it restarts a worker that dies), each builds the app from
``api.asgi`` and warms its own pool; the schema is brought to its head once, here, before any worker starts, so
that workers never race to migrate. The address is printed once every worker has warmed its connections.
"""

from __future__ import annotations

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
    app = create_app(engine, settings.warm_connections)
    listener = bind_listener(host, port)
    address = f"http://{host}:{port}"
    if workers <= 1:
        config = uvicorn.Config(app, log_level="warning", forwarded_allow_ips=forwarded_allow_ips)
        _AnnouncedServer(config, address).run(sockets=[listener])
        return
    engine.dispose()  # the workers are new processes with their own pools
    config = uvicorn.Config(
        "api.asgi:app", workers=workers, log_level="warning", forwarded_allow_ips=forwarded_allow_ips
    )
    supervisor = _AnnouncedWorkers(config, [listener], address)
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
    """uvicorn's supervisor of worker processes, saying where it serves once every worker has started."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], address: str) -> None:
        super().__init__(config, sockets)
        self.address = address
        self.announced = False

    def init_processes(self) -> None:
        super().init_processes()
        if all(process.wait_until_ready(_WORKER_START_S, self.should_exit) for process in self.processes):
            self.announced = True
            print(f"diaban đang phục vụ tại {self.address} ({len(self.processes)} tiến trình)", flush=True)


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (the server listens on it); a busy port is one clear line, exit 1."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise Unavailable(
            f"không mở được cổng {port} trên {host}: {exc.strerror or exc} (cổng đang bận? chọn --port khác)",
            f"cannot bind {host}:{port}",
        ) from None
    return listener

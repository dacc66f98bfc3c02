"""Which requests the committed nginx site (deploy/nginx/diaban.conf) sends to a second server after the first
failed under them: real nginx in front of two loopback servers that read a request and close the connection
without an answer, as a server that applied a write and died before it answered (nginx's ``error``).

A read is retried (the next server may answer it); a PUT or DELETE is not: nginx holds them idempotent and retried
them, but our handlers write an audit line each time (a role change, a revocation of sessions, recorded twice)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from gis.ops.nginx import nginx_binary, temporary_nginx
from gis.ops.redis import free_port

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "diaban.conf"


class _Dying(socketserver.StreamRequestHandler):
    """Read one request (head and body), note its method, close without answering."""

    def handle(self) -> None:
        head = self.rfile.readline()
        length = 0
        while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        self.rfile.read(length)
        self.server.received.append(head.split(b" ", 1)[0].decode())  # type: ignore[attr-defined]


@dataclass
class Dying:
    """Two servers that die under every request: their ``host:port`` and the methods they received, in order."""

    upstreams: list[str]
    received: list[str] = field(default_factory=list)

    def through_front(self, method: str, path: str) -> int:
        """The status of one request sent through a fresh nginx (no memory of servers that failed before)."""
        with temporary_nginx(NGINX_CONF, self.upstreams, free_port()) as url:
            return httpx.request(method, url + path, json={"role": "team"}, timeout=30).status_code


@pytest.fixture
def dying() -> Iterator[Dying]:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (make test-system-deps installs Debian's nginx-light)")
    servers = [socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Dying) for _ in range(2)]
    both = Dying([f"127.0.0.1:{s.server_address[1]}" for s in servers])
    for server in servers:
        server.daemon_threads = True
        server.received = both.received  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield both
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_read_whose_server_died_is_retried_on_the_next(dying: Dying) -> None:
    assert dying.through_front("GET", "/api/hotspots") == 502  # both died under it
    assert dying.received == ["GET", "GET"]


@pytest.mark.parametrize(("method", "path"), [("PUT", "/api/users/7/role"), ("DELETE", "/api/users/7/sessions")])
def test_a_put_or_delete_that_may_have_been_applied_is_never_sent_again(dying: Dying, method: str, path: str) -> None:
    assert dying.through_front(method, path) == 502
    assert dying.received == [method]


def test_a_post_that_may_have_been_applied_is_never_sent_again(dying: Dying) -> None:
    assert dying.through_front("POST", "/api/hotspots") == 502
    assert dying.received == ["POST"]

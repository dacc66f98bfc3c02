"""The committed nginx site file, made into a loopback front for the tests and benchmarks of several servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from gis.ops.nginx import front_site
from models.errors import Unavailable

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "diaban.conf"


def test_the_committed_site_gets_our_servers_and_port_and_keeps_the_rest() -> None:
    committed = SITE.read_text()
    site = front_site(committed, ["127.0.0.1:8101", "127.0.0.1:8102"], 8080)
    assert "listen 127.0.0.1:8080;" in site and "listen 80;" not in site
    servers = [line.strip() for line in site.splitlines() if line.strip().startswith("server 1")]
    assert servers == [
        "server 127.0.0.1:8101 max_fails=1 fail_timeout=10s;",
        "server 127.0.0.1:8102 max_fails=1 fail_timeout=10s;",
    ]
    assert "10.0.0.11" not in site
    for kept in ("proxy_next_upstream error timeout http_502 http_503;", "X-Forwarded-For $remote_addr", "keepalive"):
        assert kept in site


def test_a_site_file_without_the_lines_to_replace_is_refused() -> None:
    with pytest.raises(Unavailable):
        front_site("server { listen 8080; }\n", ["127.0.0.1:8101"], 8080)

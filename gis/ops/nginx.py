"""A throwaway nginx (Debian's ``nginx``) in front of app servers on loopback, configured by the committed site file
(``deploy/nginx/diaban.conf``) with only its upstream servers and listen address replaced: the tests and benchmarks of
several servers run the very configuration the README tells an administrator to install."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.errors import Unavailable

#: The temporary files nginx writes (request bodies, buffered answers) go under the throwaway home.
_TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_binary() -> str | None:
    """Path of the nginx binary (Debian puts it in /usr/sbin, often not on a user's PATH), or None."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


def front_site(site: str, upstreams: list[str], port: int) -> str:
    """The site file with its ``server`` lines replaced by ``upstreams`` (``host:port`` each) and listening on
    127.0.0.1:``port``; Unavailable when the file no longer has the lines it replaces."""
    servers = "".join(f"    server {u} max_fails=1 fail_timeout=10s;\n" for u in upstreams)
    site, replaced = re.subn(r"(?m)^    server [\d.:]+ .*\n", "", site)
    site = site.replace("    keepalive", servers + "    keepalive", 1)
    site, listened = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    if replaced == 0 or listened != 1:
        raise Unavailable(
            "tệp cấu hình nginx không còn các dòng upstream/listen cần thay",
            "the nginx site file lacks the upstream server or listen lines",
        )
    return site


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def temporary_nginx(
    site_file: Path, upstreams: list[str], port: int, worker_connections: int = 256, timeout_s: float = 30.0
) -> Iterator[str]:
    """nginx serving ``site_file`` (see :func:`front_site`) on 127.0.0.1:``port`` in the foreground of a child
    process; its URL yielded; stopped and removed afterwards."""
    binary = nginx_binary()
    if binary is None:
        raise Unavailable("chưa cài nginx (apt-get install nginx-light)", "nginx is not installed")
    home = Path(tempfile.mkdtemp(prefix="diaban-nginx-"))
    (home / "diaban.conf").write_text(front_site(site_file.read_text(), upstreams, port))
    temp = "".join(f"    {kind}_temp_path {home}/{kind};\n" for kind in _TEMP_KINDS)
    (home / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {home}/nginx.pid;\nerror_log {home}/error.log warn;\n"
        + f"events {{ worker_connections {worker_connections}; }}\n"
        + f"http {{\n    access_log off;\n{temp}    include {home}/diaban.conf;\n}}\n"
    )
    nginx = subprocess.Popen([binary, "-p", str(home), "-c", str(home / "nginx.conf")], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout_s
        while not listening(port):
            if nginx.poll() is not None or time.monotonic() > deadline:
                message = nginx.stderr.read().decode() if nginx.poll() is not None and nginx.stderr else ""
                raise Unavailable("nginx không khởi động được", f"nginx did not start: {message[-500:]}")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        nginx.terminate()
        nginx.wait(30)
        shutil.rmtree(home, ignore_errors=True)

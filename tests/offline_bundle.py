"""The offline bundle as the operator handles it (README, *Installing on a closed network*): extracted after the
transfer, then its install.sh run with pip's index off and, when this machine lets us, without any network."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path


def extract(archive: Path, into: Path) -> Path:
    """The bundle's folder, extracted from ``archive`` under ``into``."""
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    (folder,) = into.iterdir()
    return folder


def without_network(cmd: list[str | Path]) -> list[str | Path]:
    """``cmd`` in a network namespace of its own (only a loopback, down) when we can make one: root with unshare."""
    unshare = shutil.which("unshare")
    if unshare and os.geteuid() == 0 and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", *cmd]
    return cmd


def install(folder: Path, dest: Path) -> subprocess.CompletedProcess[str]:
    """`sh install.sh DEST` of the bundle in ``folder`` for this interpreter, pip's index off, without network."""
    env = {**os.environ, "PIP_NO_INDEX": "1", "PYTHON": sys.executable}
    cmd = without_network(["sh", folder / "install.sh", dest])
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, env=env)

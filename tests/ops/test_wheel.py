"""A non-editable wheel install works without the checkout: migrations, CLI and pages with every script and style.

The wheel is built from a copy of the sources (as `make wheel` builds it) and installed with pip into a fresh venv
under tmp. The installed `diaban` then runs from an empty directory, with the checkout off the path: its migrations
create a new database of the session cluster, its CLI makes a command user, its server serves the login form, the
command page, and every script, stylesheet and stylesheet image the page names — all 200 with a body.

Third-party dependencies are not installed a second time: pip keeps nothing in its cache here (the registry's
proxy answers without caching headers), so a full install downloaded ~40 MB on every run and took 35-45 s
(measured twice). pip installs the wheel alone (``--no-deps --no-index``); afterwards a ``.pth`` file lets the venv
see this environment's site-packages for numpy, FastAPI and the rest. Our packages and their data come only from
the wheel, which the test asserts by the module paths; that every module we import is a declared dependency is
tests/unit/test_dependencies.py's check.

With DIABAN_TEST_PYPI=1 every test also runs against an install from the offline bundle (`make bundle`): the same
wheel and all its dependencies downloaded from PyPI (~200 MB, about a minute) by scripts/bundle.sh, then the
bundle's install.sh into another fresh venv with pip's index off and, as root with unshare, in a namespace without
network. It is off by default: `make test` downloads nothing. (tests/ops/test_offline_bundle.py checks the scripts on
a fake bundle, offline.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import httpx
import psycopg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from offline_bundle import extract, install

from gis.ops.postgres import ManagedCluster
from gis.store.db import MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]
#: What the wheel is built from: the project file, the README it names as its description, and the packages.
SOURCES = ("pyproject.toml", "README.md", "api", "gis", "maps", "models", "data")
LAYERS = ("api", "gis", "maps", "models", "data")
VENDOR = ROOT / "maps" / "static" / "vendor"
DATABASE = "diaban_wheel"
USERNAME, PASSWORD = "wheel-chihuy", "mật-khẩu-gói-wheel"
#: The scripts and styles the command page cannot work without: they must be among those it names.
REQUIRED = {
    "/static/vendor/leaflet/leaflet.js",
    "/static/vendor/leaflet/leaflet.css",
    "/static/vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js",
    "/static/app.css",
    "/static/js/common.js",
    "/static/js/command.js",
}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")
#: The install from the offline bundle downloads from PyPI: only when asked (see the module docstring).
BUNDLE = pytest.param(
    "bundle",
    marks=pytest.mark.skipif(
        os.environ.get("DIABAN_TEST_PYPI") != "1", reason="downloads from PyPI: set DIABAN_TEST_PYPI=1 to run it"
    ),
)


def _run(*cmd: str | Path, timeout: float = 300, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs)


def _install_bundle(wheel: Path, tmp: Path) -> Path:
    """The offline bundle of ``wheel`` built as `make bundle` builds it, extracted and installed by its install.sh."""
    built = _run(ROOT / "scripts" / "bundle.sh", sys.executable, wheel, tmp / "bundle", timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    (archive,) = (tmp / "bundle").glob("*.tar.gz")
    env = tmp / "venv"
    installed = install(extract(archive, tmp / "carried"), env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env


@pytest.fixture(scope="module", params=["wheel", BUNDLE])
def venv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed: alone, its deps seen through a .pth file (see the module docstring),
    or with every dependency from the offline bundle."""
    if not (VENDOR / "leaflet" / "leaflet.js").is_file():
        pytest.fail(f"{VENDOR} is not built: run `make venv` (npm ci) before packaging")
    tmp = tmp_path_factory.mktemp("wheel")
    (tmp / "src").mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp / "src" / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, tmp / "src" / name)
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", tmp / "dist", tmp / "src")
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp / "dist").glob("diaban-*.whl")
    if request.param == "bundle":
        return _install_bundle(wheel, tmp)

    env = tmp / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", env)
    assert made.returncode == 0, made.stderr
    python = env / "bin" / "python"
    installed = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # Only now (pip would otherwise see the editable diaban of this environment as already installed).
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    here = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (Path(site) / "_diaban_test_deps.pth").write_text("\n".join(here) + "\n")
    return env


@pytest.fixture(scope="module")
def database(cluster: ManagedCluster, venv: Path) -> Iterator[str]:
    """URL of a new, empty database on the session cluster for ``venv``'s install, as its owner (who may migrate
    it; dropped afterwards)."""
    cluster.drop_database(DATABASE)
    cluster.create_database(DATABASE)
    yield cluster.owner_url(DATABASE)
    cluster.drop_database(DATABASE)


@pytest.fixture(scope="module")
def installed_env(venv: Path, database: str) -> dict[str, str]:
    """Environment of the installed commands: no checkout on the path, a home of their own, the new database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIABAN_", "PYTHON", "XDG_"))}
    return {
        **env,
        "HOME": str(venv.parent / "user"),
        "DIABAN_DATABASE_URL": database,
        "DIABAN_WARM_CONNECTIONS": "2",
    }


@pytest.fixture(scope="module")
def cwd(venv: Path) -> Path:
    """An empty working directory outside the checkout."""
    path = venv.parent / "cwd"
    path.mkdir()
    return path


def test_code_and_settings_come_from_the_wheel(venv: Path, installed_env: dict[str, str], cwd: Path) -> None:
    probe = (
        "import json, api, data, gis, maps, models;"
        "from gis.store.db import MIGRATIONS; from maps.assets import STATIC_DIR;"
        "from gis.settings import DatabaseSettings, DataSettings; from models.errors import InvalidInput\n"
        "try: DataSettings().boundary_file()\n"
        "except InvalidInput as exc: refused = str(exc)\n"
        "print(json.dumps({'modules': [m.__file__ for m in (api, data, gis, maps, models)],"
        "'data': [str(MIGRATIONS), str(STATIC_DIR)], 'home': str(DatabaseSettings().home),"
        "'boundaries': DataSettings().boundaries, 'refused': refused}))"
    )
    result = _run(venv / "bin" / "python", "-c", probe, env=installed_env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    for path in found["modules"] + found["data"]:
        assert Path(path).is_relative_to(venv), f"{path} is not from the installed wheel"
    assert found["home"] == str(Path(installed_env["HOME"]) / ".local" / "share" / "diaban")
    # An install has no boundary file of its own: commands that need one say which setting to make.
    assert found["boundaries"] is None and "DIABAN_BOUNDARIES" in found["refused"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Assets(HTMLParser):
    """The ``<script src>`` and ``<link href>`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        self.urls += [value for name, value in attrs if name == wanted and value and not value.startswith("data:")]


@pytest.fixture(scope="module")
def server(venv: Path, installed_env: dict[str, str], cwd: Path, database: str) -> Iterator[str]:
    """The installed `diaban serve` on a free port, after the installed CLI migrated and made a command user."""
    added = _run(
        venv / "bin" / "diaban",
        *("users", "add", USERNAME, "--role", "command", "--password-stdin", "--no-change-required"),
        input=PASSWORD + "\n",
        env=installed_env,
        cwd=cwd,
    )
    assert added.returncode == 0, added.stderr
    port = _free_port()
    log = (venv.parent / "serve.log").open("w")
    process = subprocess.Popen(
        [venv / "bin" / "diaban", "serve", "--port", str(port)],
        env=installed_env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (venv.parent / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the installed server did not answer /health within 120 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_installed_migrations_reach_the_head(server: str, database: str) -> None:
    """The installed CLI's first command migrated the new database to the checkout's head revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as conn:
        stored = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert stored is not None and stored[0] == ScriptDirectory.from_config(config).get_current_head()


def test_installed_server_serves_the_command_page_with_its_scripts(server: str, installed_env: dict[str, str]) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        assert client.get("/login").status_code == 200
        login = client.post("/login", data={"username": USERNAME, "password": PASSWORD})
        assert login.status_code == 303, login.text
        page = client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        parser = _Assets()
        parser.feed(page.text)
        paths = {u.split("?")[0] for u in parser.urls}  # without their versions (maps.assets.static_url)
        assert REQUIRED <= paths, f"the command page names {parser.urls}"
        assert all(u.startswith("/") and not u.startswith("//") for u in parser.urls), "the pages load nothing remote"
        stylesheets = [u for u in parser.urls if u.split("?")[0].endswith(".css")]
        images = []
        for url in parser.urls:
            answer = client.get(url)
            assert answer.status_code == 200 and answer.content, f"{url}: {answer.status_code}"
            if url in stylesheets:
                images += [urljoin(url, ref) for ref in CSS_URL.findall(answer.text) if not ref.startswith("data:")]
        assert "/static/vendor/leaflet/images/layers.png" in images
        for url in images:
            answer = client.get(url)
            assert answer.status_code == 200 and answer.content, f"{url} (named in a stylesheet): {answer.status_code}"
    # The token signing key went to the install's default home (outside any checkout).
    assert (Path(installed_env["HOME"]) / ".local" / "share" / "diaban" / "secret_key").is_file()

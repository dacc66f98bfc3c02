"""The offline bundle's build and install scripts, on a tiny fake bundle: nothing is downloaded.

`scripts/bundle.sh` packs a fake `diaban` wheel (one module, one console script, no dependencies) with pip's index
off; the archive's manifest, pins and Debian list are checked, then the bundle's `install.sh` installs it into a
fresh venv (as the operator runs it: `sh install.sh DIR`, in a namespace without network when we can make one) and
refuses, before touching DIR, a bundle with a changed or added file, a machine missing a Debian package, and
another Python. The real bundle — every dependency from PyPI, installed without a network and served — is
tests/ops/test_wheel.py's ``bundle`` case, run only with DIABAN_TEST_PYPI=1.
"""

from __future__ import annotations

import base64
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from offline_bundle import extract, install

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
NAME = f"diaban-0.1.0-offline-cp{sys.version_info[0]}{sys.version_info[1]}"

#: The fake project: `diaban --help` prints a line, as the real CLI's help would.
MODULE = "import sys\n\n\ndef main() -> None:\n    print('diaban giả', sys.argv[1:])\n"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _fake_wheel(folder: Path) -> Path:
    """A valid wheel named diaban 0.1.0 with one module and its `diaban` console script."""
    info = "diaban-0.1.0.dist-info"
    files = {
        "fake_diaban.py": MODULE.encode(),
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: diaban\nVersion: 0.1.0\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": b"[console_scripts]\ndiaban = fake_diaban:main\n",
    }
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    path = folder / "diaban-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake bundle as `make bundle` writes it, built with pip's index off."""
    tmp = tmp_path_factory.mktemp("bundle")
    wheel = _fake_wheel(tmp)
    built = _run(SCRIPTS / "bundle.sh", sys.executable, wheel, tmp / "dist", env={**os.environ, "PIP_NO_INDEX": "1"})
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = (tmp / "dist").glob("*.tar.gz")
    return path


@pytest.fixture
def bundle(archive: Path, tmp_path: Path) -> Path:
    """A fresh copy of the bundle's folder, as the operator extracts it after the transfer."""
    return extract(archive, tmp_path)


def _reseal(bundle: Path) -> None:
    """Recompute SHA256SUMS after a deliberate change, so that only the change under test is refused."""
    files = sorted(
        p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file() and p.name != "SHA256SUMS"
    )
    sums = subprocess.run(["sha256sum", *files], cwd=bundle, capture_output=True, text=True, check=True)
    (bundle / "SHA256SUMS").write_text(sums.stdout)


def test_the_archive_carries_its_checksum_pins_debian_list_and_a_manifest_of_every_file(archive: Path) -> None:
    assert archive.name.startswith(NAME)
    checked = subprocess.run(["sha256sum", "--check", f"{archive.name}.sha256"], cwd=archive.parent)
    assert checked.returncode == 0
    with tarfile.open(archive) as tar:
        members = {m.name.partition("/")[2]: m for m in tar.getmembers() if m.isfile()}
        read = {name: tar.extractfile(m).read().decode() for name, m in members.items() if "wheels/" not in name}  # type: ignore[union-attr]
    assert set(members) == {
        "SHA256SUMS",
        "install.sh",
        "requirements.txt",
        "python-target.txt",
        "debian-packages.txt",
        "wheels/diaban-0.1.0-py3-none-any.whl",
    }
    listed = {line.split("  ", 1)[1] for line in read["SHA256SUMS"].splitlines()}
    assert listed == set(members) - {"SHA256SUMS"}
    assert read["requirements.txt"] == "diaban==0.1.0\n"
    assert read["python-target.txt"].split()[0] == platform.python_version()
    assert read["install.sh"] == (SCRIPTS / "offline-install.sh").read_text()
    # The run-time list of scripts/system-deps.sh, one source: PostGIS and the venv, not the build's npm.
    debian = read["debian-packages.txt"].split()
    assert debian == _run(SCRIPTS / "system-deps.sh", "list").stdout.split()
    assert {"postgresql-15-postgis-3", "python3-venv"} <= set(debian) and "npm" not in debian


def test_install_makes_a_venv_from_the_bundle_alone(bundle: Path, tmp_path: Path) -> None:
    dest = tmp_path / "cài đặt"
    installed = install(bundle, dest)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"Đã cài xong diaban==0.1.0 vào {dest}" in installed.stdout
    ran = _run(dest / "bin" / "diaban", "--help")
    assert ran.returncode == 0 and "diaban giả" in ran.stdout


def _refused(bundle: Path, dest: Path, message: str) -> None:
    result = install(bundle, dest)
    assert result.returncode != 0 and message in result.stderr, result.stdout + result.stderr
    assert not dest.exists()


def test_a_damaged_wheel_is_refused(bundle: Path, tmp_path: Path) -> None:
    wheel = next((bundle / "wheels").iterdir())
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 1
    wheel.write_bytes(bytes(data))
    _refused(bundle, tmp_path / "venv", "có tệp bị hỏng hoặc bị thiếu")


def test_a_wheel_not_in_the_manifest_is_refused(bundle: Path, tmp_path: Path) -> None:
    (bundle / "wheels" / "extra-1.0-py3-none-any.whl").write_bytes(b"not ours")
    _refused(bundle, tmp_path / "venv", "tệp wheels/extra-1.0-py3-none-any.whl không có trong SHA256SUMS")


def test_a_missing_debian_package_is_named(bundle: Path, tmp_path: Path) -> None:
    if shutil.which("dpkg-query") is None:
        pytest.skip("not a Debian machine: install.sh cannot ask dpkg")
    with (bundle / "debian-packages.txt").open("a") as packages:
        packages.write("diaban-no-such-package\n")
    _reseal(bundle)
    _refused(bundle, tmp_path / "venv", "máy này thiếu các gói Debian: diaban-no-such-package.")


def test_another_python_is_refused(bundle: Path, tmp_path: Path) -> None:
    (bundle / "python-target.txt").write_text("3.99.0 x86_64\n")
    _reseal(bundle)
    _refused(bundle, tmp_path / "venv", "gói này dành cho Python 3.99.0 x86_64")

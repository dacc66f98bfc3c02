"""Every third-party module the shipped packages import is a declared dependency of the project.

A module that only arrives with a test extra or through another package's requirements works in the
development venv and breaks a `pip install diaban` (tests/ops/test_wheel.py borrows the installed
dependencies, so it cannot see this): hence the check here, on the import statements themselves.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("api", "gis", "maps", "models", "data")


def _imported_top_levels() -> dict[str, str]:
    """Top-level module → first file importing it, over the shipped packages, lazy imports included."""
    found: dict[str, str] = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    providers = packages_distributions()
    missing = []
    for module, where in sorted(_imported_top_levels().items()):
        if module in sys.stdlib_module_names or module in LAYERS or module == "__future__":
            continue
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists & declared:
            missing.append(f"{module} (imported by {where}; provided by {sorted(dists) or 'nothing installed'})")
    assert not missing, "imported but not in [project] dependencies:\n" + "\n".join(missing)

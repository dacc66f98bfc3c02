"""Packaged reference data of diaban: legal criteria, KPI targets and synthetic sample files.

Installed with the code (package data) and read through ``importlib.resources``, so a wheel install
finds them as a checkout does. Only :mod:`gis.reference` reads them; the domain parses what it is given.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

#: The criteria of QĐ 28/2025, Hải Phòng's and the country's KPI targets, relative to this package.
CRITERIA = "criteria/qd28-2025.toml"
TARGETS = "targets/haiphong-kpi.toml"
NATIONAL_TARGETS = "targets/national-kpi.toml"


def resource(relative: str) -> Traversable:
    """A packaged file by its path relative to this package."""
    return files(__name__).joinpath(relative)


def read_toml(relative: str) -> dict[str, Any]:
    """A packaged TOML file, parsed."""
    return tomllib.loads(resource(relative).read_text(encoding="utf-8"))

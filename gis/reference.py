"""The reference data the application runs with: legal criteria and KPI targets, read once.

The files are package data (``data/``); a deployment may point at other versions with
``DIABAN_CRITERIA_FILE`` / ``DIABAN_TARGETS_FILE``. Parsing and validation are pure (models.domain);
this module only reads.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import data
from gis.settings import ReferenceSettings
from models.domain.kpi import KpiTargets, parse_targets
from models.domain.legal_rules import LegalRules, parse_rules


def _read(path: Path | None, packaged: str) -> dict:
    if path is None:
        return data.read_toml(packaged)
    with open(path, "rb") as handle:
        return tomllib.load(handle)


@cache
def load_rules(path: Path | None = None) -> LegalRules:
    """The legal criteria: ``path``, else DIABAN_CRITERIA_FILE, else the packaged QĐ 28/2025 file (cached)."""
    return parse_rules(_read(path or ReferenceSettings().criteria_file, data.CRITERIA))


@cache
def load_targets(path: Path | None = None) -> KpiTargets:
    """The KPI targets: ``path``, else DIABAN_TARGETS_FILE, else the packaged Hải Phòng file (cached)."""
    return parse_targets(_read(path or ReferenceSettings().targets_file, data.TARGETS))

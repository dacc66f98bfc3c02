"""The reference data the application runs with: legal criteria and KPI targets, read once.

The files are package data (``data/``); a deployment may point at other versions with
``DIABAN_CRITERIA_FILE`` / ``DIABAN_TARGETS_FILE`` (a province's targets, Hải Phòng's by default) /
``DIABAN_NATIONAL_TARGETS_FILE`` (the country's). Parsing and validation are pure (models.domain);
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
from models.errors import InvalidInput


def _read(path: Path | None, packaged: str) -> dict:
    """The TOML of a configured file, else of the packaged one; a file that is missing or not TOML is a clear error
    naming it (a server started with it stops with that line, not a traceback)."""
    if path is None:
        return data.read_toml(packaged)
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(
            f"không đọc được tệp tham chiếu {path}: tệp không có hoặc không đúng dạng TOML",
            f"cannot read the reference file {path}: {exc}",
        ) from exc


@cache
def load_rules(path: Path | None = None) -> LegalRules:
    """The legal criteria: ``path``, else DIABAN_CRITERIA_FILE, else the packaged QĐ 28/2025 file (cached)."""
    return parse_rules(_read(path or ReferenceSettings().criteria_file, data.CRITERIA))


def criteria_basis(rules_version: str) -> str:
    """The text a classification of criteria ``rules_version`` rests on, as a report names it: the criteria file's
    source («Quyết định 28/2025/QĐ-TTg …») when the run was computed with the file in force; a run of an earlier
    version by that version alone (its file's source is not kept with the run)."""
    rules = load_rules()
    if rules.version == rules_version:
        return f"{rules.source} (bộ tiêu chí {rules_version})"
    return f"bộ tiêu chí {rules_version}"


@cache
def load_targets(path: Path | None = None) -> KpiTargets:
    """A province's KPI targets: ``path``, else DIABAN_TARGETS_FILE, else the packaged Hải Phòng file (cached)."""
    return parse_targets(_read(path or ReferenceSettings().targets_file, data.TARGETS))


@cache
def load_national_targets(path: Path | None = None) -> KpiTargets:
    """The country's KPI targets (NQ 163/2024/QH15: ≥ 50 % drug-free by 2030): ``path``, else
    DIABAN_NATIONAL_TARGETS_FILE, else the packaged file (cached)."""
    return parse_targets(_read(path or ReferenceSettings().national_targets_file, data.NATIONAL_TARGETS))


def targets_for(province_code: str | None) -> KpiTargets:
    """The targets a report of a province (None: the country) is measured against: the province's own file when it
    is that province's, else the national targets."""
    provincial = load_targets()
    if province_code is not None and provincial.province_code == province_code:
        return provincial
    return load_national_targets()

"""Validation of the yearly commune indicators table (population, records, cultivation, route, overrides)."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from models.domain.incident_contract import ContractError, ValidationResult
from models.domain.personal_names import name_like_rows, name_warning
from models.domain.row_checks import (
    Rejects,
    parse_numbers,
    reject_structural,
    reject_unstorable,
    text_column,
)

REQUIRED = (
    "year",
    "commune_code",
    "population",
    "users_with_records",
    "plants_destroyed",
    "cultivation_m2",
    "on_drug_route",
)
OVERRIDES = ("organizing_places", "arrested_offenders")
#: Optional provenance label of each row (e.g. "synthetic", or the issuing office).
SOURCE = "source"
_COUNTS = ("population", "users_with_records", "plants_destroyed") + OVERRIDES
_TRUE = {"1", "true", "yes", "y", "co", "có", "x"}
_FALSE = {"0", "false", "no", "n", "khong", "không", ""}


def validate_indicators(
    raw: pd.DataFrame, known_codes: Collection[str], min_year: int = 2000, max_year: int = 2100
) -> ValidationResult:
    """Check indicator rows; unknown communes, bad numbers and repeated (year, commune) are rejected."""
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ContractError(f"thiếu cột bắt buộc (missing required columns): {', '.join(missing)}")
    unknown = sorted(set(raw.columns) - set(REQUIRED) - set(OVERRIDES) - {SOURCE, "line", "_error"})
    warnings = [f"bỏ qua các cột không xác định (ignored unknown columns): {', '.join(unknown)}"] if unknown else []
    raw = raw.reset_index(drop=True)
    raw["commune_code"] = text_column(raw, "commune_code")
    rej = Rejects(raw, ref_column="commune_code")
    reject_structural(raw, rej)
    reject_unstorable(raw, rej, (SOURCE,))

    year_t = text_column(raw, "year")
    year, bad_year = parse_numbers(year_t)
    bad_year |= (
        year.isna().to_numpy() | ~year.between(min_year, max_year).to_numpy() | (year.fillna(0) % 1 != 0).to_numpy()
    )
    rej.add(
        bad_year, "year", f"năm không hợp lệ (year must be an integer in {min_year}–{max_year}: {{}})", values=year_t
    )

    code = raw["commune_code"]
    rej.add(
        ~code.isin(set(known_codes)).to_numpy(),
        "commune_code",
        "mã xã không có trong ranh giới hiện hành (unknown commune code: {})",
        values=code,
    )

    values: dict[str, pd.Series] = {}
    for name in _COUNTS + ("cultivation_m2",):
        t = text_column(raw, name)
        v, bad = parse_numbers(t)
        must_be_int = name in _COUNTS
        not_int = must_be_int & ~v.isna().to_numpy() & (v.fillna(0) % 1 != 0).to_numpy()
        rej.add(
            bad | not_int,
            name,
            f"{name} phải là số{' nguyên' if must_be_int else ''} (not a valid number: {{}})",
            values=t,
        )
        rej.add((v < 0).to_numpy(), name, f"{name} âm (negative value: {{}})", values=t)
        values[name] = v

    route_t = text_column(raw, "on_drug_route").str.lower()
    bad_route = ~route_t.isin(_TRUE | _FALSE)
    rej.add(
        bad_route.to_numpy(),
        "on_drug_route",
        "on_drug_route phải là 0/1 hoặc có/không (expected 0/1, true/false: {})",
        values=route_t,
    )

    key = year.astype(str) + "|" + code
    repeated = key.duplicated(keep="first").to_numpy() & ~rej.bad
    rej.add(repeated, "commune_code", "trùng năm và mã xã với một dòng trước (duplicate year and commune)")

    ok = ~rej.bad
    valid = pd.DataFrame(
        {
            "line": raw["line"].to_numpy()[ok],
            "year": year.to_numpy()[ok].astype("int64"),
            "commune_code": code.to_numpy()[ok],
        }
    )
    for name, series in values.items():
        valid[name] = series.to_numpy()[ok]
    for name in ("users_with_records", "plants_destroyed", "cultivation_m2"):
        valid[name] = np.nan_to_num(valid[name].astype(float))
    for name in _COUNTS:
        valid[name] = (
            valid[name].astype("Int64") if name in ("population",) + OVERRIDES else valid[name].astype("int64")
        )
    valid["on_drug_route"] = route_t.isin(_TRUE).to_numpy()[ok]
    valid[SOURCE] = text_column(raw, SOURCE).replace("", None).to_numpy()[ok]
    named = name_like_rows(valid[SOURCE])
    if named.any():
        warnings.append(name_warning(SOURCE, valid["line"].to_numpy()[named]))
    return ValidationResult(valid=valid, rejects=rej.frame(), warnings=warnings)

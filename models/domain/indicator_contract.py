"""Validation of the yearly commune indicators table (population, records, cultivation, route, overrides).

A blank cell is *unknown*, never zero or "no": it stays missing (pandas NA) into the table and the
criteria, which report it and never count a commune with unknown inputs as drug-free.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from models.domain.personal_names import listed_lines, name_like_rows, name_warning
from models.domain.row_checks import (
    COUNT_MAX,
    UNIT_ALIASES,
    ContractError,
    Rejects,
    ValidationResult,
    canonical_columns,
    column_header,
    compose_address,
    field_of,
    header_key,
    missing_columns,
    parse_numbers,
    pass_over_rows,
    reject_structural,
    reject_unstorable,
    text_column,
    unknown_columns_warning,
    unknown_marks,
    unknown_marks_warning,
)
from models.numbers import vn_number
from models.vocabulary import INDICATOR_FIELD_LABELS

REQUIRED = (
    "year",
    "population",
    "users_with_records",
    "plants_destroyed",
    "cultivation_m2",
    "on_drug_route",
)
OVERRIDES = ("organizing_places", "arrested_offenders")
#: The commune: its code (current, or a legacy code for years before the 2025 reorganisation), or its names.
UNIT = ("commune_code", "address", "commune", "district", "province")
#: Optional provenance label of each row (e.g. "synthetic", or the issuing office).
SOURCE = "source"
#: A form may count the people with a management record in two columns, addicts («Người nghiện có hồ sơ») and those
#: using drugs without being addicted («Người sử dụng trái phép có hồ sơ»). Criterion (a) of QĐ 28/2025 counts both:
#: this second column is added to the first, never stored alone — read alone, a commune's figure was the addicts only.
USERS_PART = "other_users_with_records"
#: Every column the contract reads.
COLUMNS = REQUIRED + OVERRIDES + UNIT + (SOURCE, USERS_PART)
_COUNTS = ("population", "users_with_records", "plants_destroyed") + OVERRIDES
#: Header names accepted for each column (keys as `row_checks.header_key` writes them); see the README.
ALIASES: dict[str, str] = {
    "nam": "year",
    **UNIT_ALIASES,
    **dict.fromkeys(("dan_so", "so_dan", "dan_so_thuong_tru"), "population"),
    **dict.fromkeys(
        (
            "nguoi_nghien_va_su_dung_co_ho_so",
            "so_nguoi_co_ho_so",
            "nguoi_co_ho_so",
            "nguoi_co_ho_so_quan_ly",
            "nguoi_nghien",
            # A form's group «Số người nghiện» (or «… nghiện, sử dụng»), its sub-header «Có hồ sơ» joined to it.
            "so_nguoi_nghien_co_ho_so",
            "nguoi_nghien_co_ho_so",
            "so_nguoi_nghien_co_ho_so_quan_ly",
            "so_nguoi_nghien_su_dung_co_ho_so",
            "so_nguoi_nghien_va_su_dung_co_ho_so",
            "so_nguoi_nghien_su_dung_co_ho_so_quan_ly",
            "so_nguoi_nghien_va_su_dung_co_ho_so_quan_ly",
            # A group «Số người có hồ sơ (quản lý)» over «Nghiện» and «Sử dụng»: the addicts' column.
            "so_nguoi_co_ho_so_nghien",
            "so_nguoi_co_ho_so_quan_ly_nghien",
        ),
        "users_with_records",
    ),
    **dict.fromkeys(
        (
            f"{number}{stem}{record}"
            for number in ("", "so_")
            for stem in (
                "nguoi_su_dung",
                "nguoi_su_dung_trai_phep",
                "nguoi_su_dung_ma_tuy",
                "nguoi_su_dung_trai_phep_chat_ma_tuy",
                "nguoi_su_dung_khong_nghien",
            )
            for record in ("", "_co_ho_so", "_co_ho_so_quan_ly")
        ),
        USERS_PART,
    ),
    **dict.fromkeys(
        (
            "so_nguoi_co_ho_so_su_dung",
            "so_nguoi_co_ho_so_quan_ly_su_dung",
            "so_nguoi_co_ho_so_quan_ly_su_dung_trai_phep",
        ),
        USERS_PART,
    ),
    **dict.fromkeys(("so_cay_bi_pha_huy", "so_cay_pha_huy", "cay_bi_pha_huy", "so_cay"), "plants_destroyed"),
    **dict.fromkeys(("dien_tich_trong_m2", "dien_tich_m2", "dien_tich_trong"), "cultivation_m2"),
    **dict.fromkeys(("tren_tuyen_trong_diem", "tuyen_trong_diem", "tren_tuyen"), "on_drug_route"),
    **dict.fromkeys(("so_diem_to_chuc_chua_chap", "diem_to_chuc_su_dung", "so_diem_to_chuc"), "organizing_places"),
    **dict.fromkeys(("so_doi_tuong_bi_bat", "doi_tuong_bi_bat", "so_nguoi_bi_bat"), "arrested_offenders"),
    **dict.fromkeys(("nguon", "don_vi_bao_cao"), "source"),
}
#: Why a row repeating the year and commune of an earlier valid row is refused (the line of the row kept).
REPEATED_UNIT = "trùng năm và xã với dòng {0} (same year and commune as line {0})"
_TRUE = {"1", "true", "yes", "y", "co", "có", "x"}
_FALSE = {"0", "false", "no", "n", "khong", "không"}


def validate_indicators(
    raw: pd.DataFrame,
    known_codes: Collection[str] | None = None,
    min_year: int = 2000,
    max_year: int = 2100,
    places: Collection[str] = (),
    this_year: int | None = None,
) -> ValidationResult:
    """Check indicator rows; bad numbers and repeated (year, commune) are rejected, as are codes not in
    `known_codes` when it is given (the importer resolves legacy codes and names itself). ``places``: the known
    places' names, which the warning about names lets pass (models.domain.personal_names). ``this_year``: the current
    year (local); a later one has not begun, so its figures are a typing mistake and refused."""
    raw, warnings = pass_over_rows(raw)
    headers = {field_of(column_header(c), ALIASES, set(COLUMNS)): column_header(c) for c in raw.columns}
    raw = canonical_columns(raw, ALIASES, COLUMNS, INDICATOR_FIELD_LABELS)
    if USERS_PART in raw and "users_with_records" in raw:
        _check_addicts_column(headers["users_with_records"], headers[USERS_PART])
    missing = [f"«{INDICATOR_FIELD_LABELS[c]}»" for c in REQUIRED if c not in raw.columns]
    if not set(UNIT) & set(raw.columns):
        missing.append(f"«{INDICATOR_FIELD_LABELS['commune_code']}» (hoặc tên xã, huyện, tỉnh)")
    if missing:
        raise missing_columns(missing, raw.columns, INDICATOR_FIELD_LABELS)
    warnings += unknown_columns_warning(raw.columns, COLUMNS)
    raw = raw.reset_index(drop=True)
    raw["commune_code"] = text_column(raw, "commune_code")
    address = compose_address(raw)
    raw["_unit"] = raw["commune_code"].where(raw["commune_code"] != "", address)
    rej = Rejects(raw, ref_column="_unit")
    reject_structural(raw, rej)
    reject_unstorable(raw, rej, (SOURCE,))

    year_t = text_column(raw, "year")
    year, bad_year = parse_numbers(year_t)
    bad_year |= (
        year.isna().to_numpy() | ~year.between(min_year, max_year).to_numpy() | (year.fillna(0) % 1 != 0).to_numpy()
    )
    rej.add(
        bad_year,
        "year",
        f"năm không hợp lệ: «{{}}», cần số nguyên từ {min_year} đến {max_year} (year must be an integer in {min_year}–{max_year})",
        values=year_t,
    )
    if this_year is not None:
        rej.add(
            ~bad_year & (year > this_year).to_numpy(),
            "year",
            f"năm «{{}}» chưa bắt đầu: số liệu năm chỉ có đến năm {this_year} (year has not begun)",
            values=year_t,
        )

    code = raw["commune_code"]
    rej.add(
        ((code == "") & (address == "")).to_numpy(),
        "commune_code",
        "thiếu mã xã hoặc tên xã (commune code or names required)",
    )
    if known_codes is not None:
        rej.add(
            ~code.isin(set(known_codes)).to_numpy() & (code != "").to_numpy() | (code == "").to_numpy(),
            "commune_code",
            "mã xã không có trong ranh giới hiện hành: «{}» (unknown commune code)",
            values=code,
        )

    values: dict[str, pd.Series] = {}
    unknown_rows = np.zeros(len(raw), dtype=bool)
    for name in _COUNTS + ("cultivation_m2",) + ((USERS_PART,) if USERS_PART in raw else ()):
        t, marked = unknown_marks(text_column(raw, name))
        unknown_rows |= marked
        must_be_int = name in _COUNTS
        v, bad = parse_numbers(t, whole=must_be_int)
        not_int = must_be_int & ~v.isna().to_numpy() & (v.fillna(0) % 1 != 0).to_numpy()
        rej.add(
            bad | not_int,
            name,
            f"{INDICATOR_FIELD_LABELS[name]} phải là số{' nguyên' if must_be_int else ''}: «{{}}»,"
            f" ví dụ {'120' if must_be_int else '1500,5'} ({name}: not a valid number)",
            values=t,
        )
        rej.add((v < 0).to_numpy(), name, f"{INDICATOR_FIELD_LABELS[name]} âm: {{}} ({name}: negative value)", values=t)
        if must_be_int:
            rej.add(
                (v > COUNT_MAX).to_numpy(),
                name,
                f"{INDICATOR_FIELD_LABELS[name]} quá lớn: {{}} ({name}: above {COUNT_MAX:,})",
                values=t,
            )
        values[name] = v
    # «-» in the route column is «not given» as in a figure's: unknown, not a refusal of the commune's whole row.
    route_t, marked = unknown_marks(text_column(raw, "on_drug_route").str.lower())
    unknown_rows |= marked
    if unknown_rows.any():
        warnings.append(unknown_marks_warning(raw["line"].to_numpy()[unknown_rows]))
    if USERS_PART in values:
        warnings.append(_added_users(values, headers, raw["line"].to_numpy()))
    # Rates are per resident: a population of 0 cannot be a denominator (blank = unknown is allowed).
    rej.add(
        (values["population"] == 0).to_numpy(),
        "population",
        "dân số phải lớn hơn 0, để trống nếu chưa biết: {} (population must be > 0, leave blank if unknown)",
        values=text_column(raw, "population"),
    )

    # No commune has more people with records than residents: the two columns swapped, or another unit's figure. The
    # criteria's rates would pass 100 % (a commune of 1.000 with 2.000 records was stored and classified on it).
    # (Only figures not refused above: a population of 0 or below, a count past COUNT_MAX.)
    users, population = values["users_with_records"], values["population"]
    rej.add(
        ((users > population) & (population > 0) & (users <= COUNT_MAX)).fillna(False).to_numpy(),
        "users_with_records",
        f"{INDICATOR_FIELD_LABELS['users_with_records']} nhiều hơn dân số: {{}}, có lẽ hai cột bị đổi chỗ"
        " (users_with_records above population)",
        values=pd.Series([f"{vn_number(u)} > {vn_number(p)}" for u, p in zip(users, population)], index=raw.index),
    )

    bad_route = ~route_t.isin(_TRUE | _FALSE) & route_t.ne("")
    rej.add(
        bad_route.to_numpy(),
        "on_drug_route",
        f"{INDICATOR_FIELD_LABELS['on_drug_route']} phải là 0/1 hoặc có/không: «{{}}» (on_drug_route: expected 0/1, true/false)",
        values=route_t,
    )

    # A repeat names the line of the row kept: the first valid one of its year and commune (a refused row keeps none).
    key = (year.astype(str) + "|" + raw["_unit"])[~rej.bad]
    kept_line = raw["line"][~rej.bad].groupby(key.to_numpy(), sort=False).transform("first")
    repeated = np.zeros(len(raw), dtype=bool)
    repeated[np.flatnonzero(~rej.bad)[key.duplicated(keep="first").to_numpy()]] = True
    rej.add(
        repeated,
        "commune_code",
        REPEATED_UNIT,
        values=kept_line.reindex(raw.index, fill_value=0),
    )

    ok = ~rej.bad
    valid = pd.DataFrame(
        {
            "line": raw["line"].to_numpy()[ok],
            "year": year.to_numpy()[ok].astype("int64"),
            "commune_code": code.to_numpy()[ok],
            "address": address.to_numpy()[ok],
        }
    )
    for name, series in values.items():
        valid[name] = series.to_numpy()[ok]
    for name in _COUNTS:
        valid[name] = valid[name].astype("Int64")
    valid["cultivation_m2"] = valid["cultivation_m2"].astype("Float64")
    route = pd.Series(pd.NA, index=raw.index, dtype="boolean").mask(route_t.isin(_TRUE), True)
    valid["on_drug_route"] = route.mask(route_t.isin(_FALSE), False).to_numpy()[ok]
    valid[SOURCE] = text_column(raw, SOURCE).replace("", None).to_numpy()[ok]
    named = name_like_rows(valid[SOURCE], places)
    if named.any():
        warnings.append(name_warning(INDICATOR_FIELD_LABELS[SOURCE], valid["line"].to_numpy()[named]))
    return ValidationResult(valid=valid, rejects=rej.frame(), warnings=warnings)


def _check_addicts_column(addicts: str, users: str) -> None:
    """Refuse adding the users' column to a column that already counts them («Người nghiện và sử dụng có hồ sơ»,
    «Số người có hồ sơ»): they would be counted twice."""
    key = header_key(addicts)
    if "nghien" not in key or "su_dung" in key:
        raise ContractError(
            f"cột «{addicts}» đã gồm mọi người có hồ sơ, cộng thêm cột «{users}» sẽ đếm trùng: hãy bỏ một trong hai"
            " cột",
            "users counted twice",
        )


def _added_users(values: dict[str, pd.Series], headers: dict[str | None, str], lines: np.ndarray) -> str:
    """Add the users' column to the addicts' one (criterion (a) counts both) and say so; a row where either is unknown
    has an unknown sum (never the other part alone), and the warning names its lines."""
    addicts, users = values["users_with_records"], values.pop(USERS_PART)
    values["users_with_records"] = addicts + users
    partial = (addicts.isna() ^ users.isna()).to_numpy()
    unknown = f"; dòng {listed_lines(lines[partial])}: một cột trống nên tổng chưa biết" if partial.any() else ""
    return (
        f"số người nghiện và sử dụng có hồ sơ = cột «{headers['users_with_records']}» + cột «{headers[USERS_PART]}»"
        f" (tiêu chí (a) tính cả hai){unknown}"
    )

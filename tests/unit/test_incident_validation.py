"""Every rejection class of the incident contract, on in-memory rows (no database needed); the Vietnamese column
names of both import contracts."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from gis.io.readers import read_table
from models.domain import indicator_contract as indicators
from models.domain.incident_contract import (
    ALIASES,
    COLUMNS,
    check_header,
    validate_incidents,
)
from models.domain.row_checks import ContractError, header_key
from models.errors import InvalidInput
from models.vocabulary import INCIDENT_FIELD_LABELS, INDICATOR_FIELD_LABELS
from tests.form_workbooks import BLANK_ROWS, RECORD_ROWS, TOTALS_ROW, indicator_form

NOW = datetime(2026, 11, 1, tzinfo=UTC)
GOOD = {
    "ref": "R1",
    "occurred_at": "2025-05-01T08:30:00",
    "lon": "106.68",
    "lat": "20.86",
    "kind": "trafficking",
    "substance": "heroin",
    "quantity_g": "1.5",
    "arrested": "2",
    "source": "CAP",
}


def rows(*overrides: dict) -> pd.DataFrame:
    records = [{**GOOD, "ref": f"R{i}", **o, "line": i + 2} for i, o in enumerate(overrides)]
    return pd.DataFrame(records)


def single_reject(override: dict) -> pd.Series:
    result = validate_incidents(rows(override), now=NOW)
    assert len(result.valid) == 0, result.valid
    assert len(result.rejects) == 1, result.rejects
    return result.rejects.iloc[0]


def test_valid_row_is_converted_to_canonical_types() -> None:
    result = validate_incidents(rows({}, {"kind": "mua_ban", "occurred_at": "2025-05-01T08:30:00+00:00"}), now=NOW)
    assert result.rejects.empty
    assert list(result.valid["kind"]) == ["trafficking", "trafficking"]
    # Without an offset the time is local (UTC+7); with one it is taken as given.
    assert result.valid["occurred_at"].iloc[0] == pd.Timestamp("2025-05-01T01:30:00Z")
    assert result.valid["occurred_at"].iloc[1] == pd.Timestamp("2025-05-01T08:30:00Z")
    assert result.valid["quantity_g"].iloc[0] == 1.5 and result.valid["arrested"].iloc[0] == 2


@pytest.mark.parametrize(
    "alias, kind",
    [
        ("tang_tru", "possession"),
        ("Tin_Bao", "tip"),
        ("chua-chap", "harboring"),
        ("su_dung", "drug_use"),
        ("trong_cay", "cultivation"),
    ],
)
def test_vietnamese_aliases(alias: str, kind: str) -> None:
    assert validate_incidents(rows({"kind": alias}), now=NOW).valid["kind"].iloc[0] == kind


@pytest.mark.parametrize(
    "override, field, words",
    [
        ({"ref": ""}, "ref", "required"),
        ({"ref": "x" * 65}, "ref", "longer than 64"),
        ({"occurred_at": ""}, "occurred_at", "required"),
        ({"occurred_at": "hôm qua"}, "occurred_at", "unparseable"),
        ({"occurred_at": "2025-13-45"}, "occurred_at", "unparseable"),
        ({"occurred_at": "2026-12-01T00:00:00"}, "occurred_at", "future"),
        ({"occurred_at": "0225-03-01"}, "occurred_at", "before 1990"),
        ({"occurred_at": "1989-12-31T23:59:00"}, "occurred_at", "before 1990"),
        ({"occurred_at": "2024"}, "occurred_at", "unparseable"),
        ({"occurred_at": "2025-03"}, "occurred_at", "unparseable"),
        ({"occurred_at": "2025-03T10:00+07:00"}, "occurred_at", "unparseable"),
        ({"lon": "abc"}, "lon", "not a number"),
        ({"lat": "91"}, "lat", "out of range"),
        ({"lon": "-181"}, "lon", "out of range"),
        ({"lon": "", "lat": ""}, "lon/lat", "missing"),
        ({"kind": "smuggling"}, "kind", "unknown kind"),
        ({"quantity_g": "-3"}, "quantity_g", "negative"),
        ({"quantity_g": "nhiều"}, "quantity_g", "not a number"),
        ({"arrested": "1.5"}, "arrested", "integer"),
        ({"arrested": "-1"}, "arrested", "negative"),
        ({"arrested": "1e20"}, "arrested", "above 2,147,483,647"),
        ({"arrested": "3000000000"}, "arrested", "above"),
        ({"quantity_g": "inf"}, "quantity_g", "not a number"),
    ],
)
def test_each_rejection_names_line_ref_field_and_reason(override: dict, field: str, words: str) -> None:
    reject = single_reject(override)
    assert reject["line"] == 2
    assert reject["field"] == field
    assert words in reject["reason"]
    assert reject["ref"] == override.get("ref", "R0")


def test_projected_coordinates_with_epsg() -> None:
    result = validate_incidents(
        rows(
            {"lon": "", "lat": "", "x": "600000", "y": "2300000", "crs": "32648"},
            {"lon": "", "lat": "", "x": "1", "y": "2", "crs": "EPSG:99999"},
            {"lon": "", "lat": "", "x": "1", "y": "2", "crs": ""},
        ),
        now=NOW,
    )
    assert list(result.valid["ref"]) == ["R0"]
    assert result.valid["lon"].iloc[0] == pytest.approx(105.9609, abs=1e-3)
    assert set(result.rejects["field"]) == {"crs"}


def test_structural_error_is_the_only_reason_reported() -> None:
    frame = rows({"kind": ""})
    frame["_error"] = ["expected 9 fields, got 3"]
    result = validate_incidents(frame, now=NOW)
    assert list(result.rejects["field"]) == ["row"]


def test_missing_required_column_is_a_file_error() -> None:
    """Named by the headers the reader takes, in Vietnamese (they were the contract's codes: «kind», «lon/lat»)."""
    with pytest.raises(ContractError, match="thiếu cột bắt buộc: «Loại vụ việc»; các cột đọc được: «Vĩ độ»"):
        check_header(["ref", "occurred_at", "lon", "lat"])
    with pytest.raises(ContractError, match="thiếu cột bắt buộc: «Kinh độ» và «Vĩ độ»"):
        check_header(["ref", "occurred_at", "kind"])


def test_unknown_columns_give_one_warning() -> None:
    assert len(check_header(["ref", "occurred_at", "lon", "lat", "kind", "ten_doi_tuong", "ghi_chu"])) == 1


def test_vietnamese_headers_are_read_through_the_alias_table() -> None:
    frame = pd.DataFrame(
        [
            {
                "Số hiệu": "V1",
                "Thời gian": "05/03/2024 14:30",
                "Loại vụ việc": "Tàng trữ",
                "Kinh độ": "106,6885",
                "Vĩ độ": "20,86",
                "Khối lượng (g)": "1.250,5",
                "Số người bị bắt": "2",
                "line": 2,
            }
        ]
    )
    result = validate_incidents(frame, now=NOW)
    assert result.rejects.empty and not result.warnings
    row = result.valid.iloc[0]
    assert row["ref"] == "V1" and row["kind"] == "possession"
    assert row["occurred_at"] == pd.Timestamp("2024-03-05T07:30:00Z")  # 14:30 local
    assert (row["lon"], row["lat"], row["quantity_g"], row["arrested"]) == (106.6885, 20.86, 1250.5, 2)


def test_two_columns_for_one_field_are_a_file_error() -> None:
    frame = rows({}).assign(so_hieu="X")
    with pytest.raises(ContractError, match="so_hieu"):
        validate_incidents(frame, now=NOW)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("05/03/2024", "2024-03-04T17:00:00Z"),
        ("5/3/2024 7:05", "2024-03-05T00:05:00Z"),
        ("05-03-2024 14:30:15", "2024-03-05T07:30:15Z"),
        ("05.03.2024", "2024-03-04T17:00:00Z"),
        ("2024-03-05", "2024-03-04T17:00:00Z"),
        # The Vietnamese way of writing the time of day, after the date or before it (a report's «14h30 ngày …»).
        ("05/03/2024 14h30", "2024-03-05T07:30:00Z"),
        ("5/3/2024 7h", "2024-03-05T00:00:00Z"),
        ("05/03/2024, 7H05", "2024-03-05T00:05:00Z"),
        ("14h30 ngày 05/03/2024", "2024-03-05T07:30:00Z"),
        ("14:30 05/03/2024", "2024-03-05T07:30:00Z"),
    ],
)
def test_day_first_dates(given: str, expected: str) -> None:
    assert validate_incidents(rows({"occurred_at": given}), now=NOW).valid["occurred_at"].iloc[0] == pd.Timestamp(
        expected
    )


def test_a_year_beyond_nanoseconds_is_a_reject_not_a_crash() -> None:
    """Beside a day-first date (the general way), pandas read "2400-01-01" and "-268" at a unit nanoseconds cannot
    hold, and the import stopped with a traceback (found by fuzzing the importer)."""
    result = validate_incidents(
        rows({"occurred_at": "2400-01-01"}, {"occurred_at": "-268"}, {"occurred_at": "01/03/2025"}), now=NOW
    )
    assert list(result.valid["ref"]) == ["R2"]
    future, unparseable = result.rejects.to_dict("records")
    assert future["line"] == 2 and "future" in future["reason"]
    assert unparseable["line"] == 3 and "unparseable" in unparseable["reason"]


@pytest.mark.parametrize("given", ["31/02/2024", "05/03/2024 25h", "05/03/2024 14h75", "14h 05/03/2024 15h", "5/3/24"])
def test_impossible_day_first_date_is_rejected(given: str) -> None:
    assert single_reject({"occurred_at": given})["field"] == "occurred_at"


@pytest.mark.parametrize(
    "override, field, found, expected",
    [
        (
            {"occurred_at": "31/13/2025"},
            "occurred_at",
            "«31/13/2025»",
            "cần dạng ngày/tháng/năm, có thể kèm giờ:phút, ví dụ 05/12/2025",
        ),
        (
            {"lon": "106°41'20\"N"},
            "lon",
            "«106°41'20\"N»",
            "cần độ thập phân (dấu thập phân là chấm hoặc phẩy) hoặc độ-phút-giây",
        ),
        ({"lat": "20 51 36"}, "lat", "«20 51 36»", "ví dụ 20.8600"),
        (
            {"lon": "", "lat": "", "x": "676 000 m", "y": "2307000", "crs": "32648"},
            "x/y",
            "«x 676 000 m, y 2307000»",
            "ví dụ x 676000, y 2307000",
        ),
        (
            {"lon": "", "lat": "", "x": "676000", "y": "2307000", "crs": "UTM48"},
            "crs",
            "«UTM48»",
            "cần mã EPSG, ví dụ 32648",
        ),
        (  # the datum named instead of its projected zone: no point, which was refused as a longitude of «inf»
            {"lon": "", "lat": "", "x": "591000", "y": "2306000", "crs": "VN-2000"},
            "crs",
            "«VN-2000»",
            "cần mã EPSG của hệ tọa độ phẳng (mét), ví dụ 3405 là VN-2000 / UTM vùng 48N",
        ),
        ({"lon": "20.86", "lat": "106.683"}, "lat", "106,683", "có lẽ kinh độ và vĩ độ bị đổi chỗ"),
        (
            {"lon": "591000", "lat": "2306000"},
            "lon/lat",
            "«591000, 2306000»",
            "giống tọa độ phẳng (mét): ghi vào cột x, y và crs",
        ),
        ({"quantity_g": "2 gam"}, "quantity_g", "«2 gam»", "cần số gam, ví dụ 2,5 hoặc 2.5"),
        ({"arrested": "hai"}, "arrested", "«hai»", "ví dụ 2"),
    ],
)
def test_a_value_in_the_wrong_form_is_quoted_with_the_form_expected_and_an_example(
    override: dict, field: str, found: str, expected: str
) -> None:
    """«không đọc được» alone left a planner guessing which form the column wants."""
    reject = single_reject(override)
    assert reject["field"] == field and found in reject["reason"] and expected in reject["reason"], reject["reason"]


def test_a_commune_code_or_an_address_locates_a_row_without_point() -> None:
    result = validate_incidents(
        rows(
            {"lon": "", "lat": "", "commune_code": "11296"},
            {"lon": "", "lat": "", "address": "12 Lê Lợi", "commune": "Phường Quán Toan", "district": "Quận Hồng Bàng"},
            {"lon": "106.1", "lat": ""},
        ),
        now=NOW,
    )
    assert result.valid["commune_code"].iloc[0] == "11296" and pd.isna(result.valid["commune_code"].iloc[1])
    assert result.valid["address"].iloc[1] == "12 Lê Lợi, Phường Quán Toan, Quận Hồng Bàng"
    assert result.valid["lon"].isna().all()
    assert list(result.rejects["reason"].str.contains("only one of lon/lat")) == [True]
    check_header(["ref", "occurred_at", "kind", "address"])


@pytest.mark.parametrize(
    "times",
    [
        ["2025-05-01T08:30:00+07:00", "2025-05-01 08:30:00Z", "2025-05-01T08:30:00.123456+0700", ""],
        ["2025-05-01T08:30:00", "2025-05-01", "2025-05-01T08:30", "2025-05-01 08:30:00.5", ""],
    ],
)
def test_arrow_reads_times_as_the_general_way_does(times: list[str]) -> None:
    """A column of times all with an offset, or all without, is read by Arrow: to the same instants as the
    general way, which a day-first value among them forces."""
    fast = validate_incidents(rows(*({"occurred_at": t} for t in times)), now=NOW)
    general = validate_incidents(rows(*({"occurred_at": t} for t in [*times, "05/01/2025"])), now=NOW)
    assert list(fast.valid["occurred_at"]) == list(general.valid["occurred_at"])[: len(fast.valid)]
    assert fast.rejects["line"].tolist() == general.rejects["line"].tolist()


def test_arrow_reads_numbers_as_pandas_does() -> None:
    from models.domain.row_checks import parse_numbers

    values = pd.Series(["1e3", ".5", "+1.5", "-0", "106.6885", "", "inf", "nan"])
    fast, bad = parse_numbers(values)
    general, general_bad = parse_numbers(pd.concat([values, pd.Series(["1_000"])], ignore_index=True))
    assert fast.fillna(-1).tolist() == general.fillna(-1).tolist()[: len(values)]
    assert bad.tolist() == general_bad.tolist()[: len(values)] == [False] * 6 + [True, True]


@pytest.mark.parametrize(
    ("labels", "columns", "aliases"),
    [
        (INCIDENT_FIELD_LABELS, COLUMNS, ALIASES),
        (
            INDICATOR_FIELD_LABELS,
            indicators.COLUMNS,
            indicators.ALIASES,
        ),
    ],
    ids=["incidents", "indicators"],
)
def test_every_contract_column_has_a_vietnamese_name_that_the_aliases_accept(labels, columns, aliases) -> None:
    """The names the command line shows a column by are headers a file may use for it."""
    assert set(labels) == set(columns)
    for column, label in labels.items():
        assert aliases.get(header_key(label)) == column, (column, label, header_key(label))


def test_a_forms_indicator_table_reads_with_its_totals_and_unnumbered_rows_passed_over(tmp_path: Path) -> None:
    """The form's flattened header matches the aliases (its «STT» dropped, its units passed over); the totals row
    and the rows numbered but left blank are passed over with a warning naming their lines, where each was refused
    with two or three reasons; «-» and «N/A» in a count are unknown (not 0), said in a warning."""
    result = indicators.validate_indicators(read_table(indicator_form(tmp_path / "bieu.xlsx")))
    assert result.rejects.empty, result.rejects
    valid = result.valid
    assert valid["line"].tolist() == RECORD_ROWS
    assert valid["users_with_records"].tolist() == [120, pd.NA, 40]
    assert valid["plants_destroyed"].tolist() == [0, 0, pd.NA]
    assert valid["cultivation_m2"].tolist() == [0.0, 0.0, 0.0] and valid["population"].tolist() == [30000, 20000, 15000]
    assert result.warnings == [
        f"bỏ qua 1 dòng tổng cộng: dòng {TOTALS_ROW}",
        f"bỏ qua 2 dòng chỉ có số thứ tự, không có số liệu: dòng {BLANK_ROWS[0]}, {BLANK_ROWS[1]}",
        "bỏ qua các cột không xác định: số người nghiện không hồ sơ (người)",
        "2 dòng có ô số liệu ghi «-» hoặc «N/A» (dòng 9, 10): đọc là chưa biết, không phải 0; nếu là 0 hãy ghi số 0",
    ]


def test_a_forms_section_headings_and_subtotals_are_passed_over_not_refused() -> None:
    """A form grouped by former district: «I | Quận Hồng Bàng» (numbered in «STT») or «II. Huyện An Dương» (in one
    cell) over its communes, «Cộng quận Hồng Bàng» under them. Each such row had been refused with two or three
    reasons, once per district; now they are left out with one warning each, and the wards numbered 1, 2 are kept."""
    figures = ["0", "0", "0", "không"]  # users with records, plants destroyed, cultivation m², on a drug route
    header = ["STT", "Năm", "Mã xã", "Tên xã", "Dân số", "users_with_records", "plants_destroyed", "cultivation_m2"]
    table = pd.DataFrame(
        [
            ["I", "", "", "Quận Hồng Bàng", "50000", "5", "", ""],
            ["1", "2025", "10507", "Phường Hồng Bàng", "30000", *figures[:3]],
            ["2", "2025", "10525", "Phường Lê Chân", "20000", *figures[:3]],
            ["", "", "", "Cộng quận Hồng Bàng", "50000", "5", "", ""],
            ["II.", "", "", "Huyện An Dương", "", "", "", ""],
            ["", "B) Khu vực ngoại thành", "", "", "", "", "", ""],
            ["3", "2025", "10532", "Phường Hải An", "15000", *figures[:3]],
        ],
        columns=header,
    ).assign(on_drug_route=figures[3], line=range(8, 15))
    result = indicators.validate_indicators(table)
    assert result.rejects.empty, result.rejects
    assert result.valid["line"].tolist() == [9, 10, 14]
    assert result.warnings[:2] == [
        "bỏ qua 1 dòng tổng cộng: dòng 11",
        "bỏ qua 3 dòng tiêu đề mục («I.», «A.» …): dòng 8, 12, 13",
    ]


def indicator_table(*rows: list[str], people: tuple[str, ...]) -> pd.DataFrame:
    """An indicator table counting the people with records in the columns `people`, a row's figures in that order."""
    header = ["Năm", "Mã xã", "Dân số", *people, "Số cây bị phá hủy", "Diện tích trồng", "Trên tuyến trọng điểm"]
    return pd.DataFrame([["2025", code, "20000", *counts, "0", "0", "không"] for code, *counts in rows], columns=header)


def test_addicts_and_users_counted_in_two_columns_are_added() -> None:
    """Criterion (a) counts addicts and users with records: a form keeping them apart had its users' column ignored
    («bỏ qua các cột không xác định»), so a ward of 0 addicts and 12 users read 0 — a figure that can make it drug-free.
    The two are added; a row with one of them blank has an unknown sum, never the other part."""
    table = indicator_table(
        ["10507", "0", "12"],
        ["10525", "30", "5"],
        ["10532", "", "4"],
        people=("Người nghiện có hồ sơ", "Người sử dụng"),
    ).assign(line=[2, 3, 4])
    result = indicators.validate_indicators(table)
    assert result.rejects.empty, result.rejects
    assert result.valid["users_with_records"].tolist() == [12, 35, pd.NA]
    assert result.warnings == [
        "số người nghiện và sử dụng có hồ sơ = cột «Người nghiện có hồ sơ» + cột «Người sử dụng» (tiêu chí (a) tính cả"
        " hai); dòng 4: một cột trống nên tổng chưa biết"
    ]


def test_a_users_column_beside_one_counting_everyone_is_refused() -> None:
    """«Người nghiện và sử dụng có hồ sơ» already counts the users: adding a users' column would count them twice."""
    table = indicator_table(
        ["10507", "12", "12"], people=("Người nghiện và sử dụng có hồ sơ", "Người sử dụng trái phép")
    )
    with pytest.raises(ContractError, match="cộng thêm cột «Người sử dụng trái phép» sẽ đếm trùng"):
        indicators.validate_indicators(table.assign(line=[2]))


def test_a_name_beginning_like_a_section_or_a_subtotal_is_still_a_record() -> None:
    """Only a numeral or a capital letter followed by «.» or «)» and a space opens a section, and only «cộng» followed
    by a unit or a section's number a subtotal: «Công an phường …» written without accents, «Cộng tác viên …», a ref
    «A1» or «IV-2025» stay records."""
    table = rows({"ref": "IV-2025"}, {"ref": "A1"}, {"ref": "Cong an phuong Le Chan"}, {"ref": "Cộng tác viên 2"})
    result = validate_incidents(table, now=NOW)
    assert result.rejects.empty and result.valid["line"].tolist() == [2, 3, 4, 5]
    assert not any("bỏ qua" in w for w in result.warnings)


def test_an_incident_registers_totals_row_and_unknown_counts() -> None:
    """A register's «Cộng:» row is no incident; «-» arrested is unknown, not a bad number."""
    table = rows({"arrested": "-"}, {"ref": "Cộng:", "arrested": "5", "quantity_g": "3"}, {"quantity_g": "N/A"})
    result = validate_incidents(table, now=NOW)
    assert result.rejects.empty, result.rejects
    assert result.valid["line"].tolist() == [2, 4]
    assert result.valid["arrested"].tolist() == [pd.NA, 2] and pd.isna(result.valid["quantity_g"][1])
    assert result.warnings[0] == "bỏ qua 1 dòng tổng cộng: dòng 3"
    assert "(dòng 2, 4): đọc là chưa biết, không phải 0" in result.warnings[1]


def test_a_coordinate_out_of_range_is_quoted_with_a_decimal_comma() -> None:
    """«kinh độ ngoài [-180, 180]: 200.0» quoted the number with a decimal point; figures shown read «200», «180,5»."""
    assert single_reject({"lon": "200"})["reason"].startswith("kinh độ ngoài [-180, 180]: 200 ")
    assert single_reject({"lon": "180.5"})["reason"].startswith("kinh độ ngoài [-180, 180]: 180,5 ")
    assert single_reject({"lat": "-91.25"})["reason"].startswith("vĩ độ ngoài [-90, 90]: -91,25 ")
    assert "95,5, có lẽ kinh độ và vĩ độ bị đổi chỗ" in single_reject({"lon": "20.86", "lat": "95.5"})["reason"]


def test_two_columns_for_one_field_are_named_as_the_user_knows_them() -> None:
    """«Ngày» and «Thời gian» both mean the incident's time: the refusal named the field «occurred_at», a name the user
    never wrote; it names it by its Vietnamese label, with the file's own headers."""
    frame = rows({}).rename(columns={"occurred_at": "Ngày"}).assign(**{"Thời gian": "05/03/2025 14:30"})
    with pytest.raises(ContractError) as refused:
        validate_incidents(frame, now=NOW)
    assert "occurred_at" not in refused.value.message
    assert "«Thời gian» ← Ngày, Thời gian" in refused.value.message, refused.value.message


@pytest.mark.parametrize(
    ("day", "clock", "expected"),
    [
        ("05/03/2025", "14:30", "2025-03-05T07:30:00Z"),
        ("05/03/2025", "14h30", "2025-03-05T07:30:00Z"),
        ("5/3/2025", "7h", "2025-03-05T00:00:00Z"),
        ("2025-03-05", "14:30:15", "2025-03-05T07:30:15Z"),
        # An Excel date cell beside an Excel time cell, as the reader writes them.
        ("2025-03-05T00:00:00", "14:30:00", "2025-03-05T07:30:00Z"),
        ("05/03/2025", "", "2025-03-04T17:00:00Z"),
    ],
)
def test_a_time_of_day_in_its_own_column_is_joined_to_the_date(day: str, clock: str, expected: str) -> None:
    """Registers keep «Ngày xảy ra» and «Giờ xảy ra» in two columns: the hour was dropped as an unknown column, every
    incident stored at midnight (a warning said only «bỏ qua các cột không xác định: giờ xảy ra»)."""
    frame = rows({}).drop(columns=["occurred_at"]).assign(**{"Ngày xảy ra": day, "Giờ xảy ra": clock})
    result = validate_incidents(frame, now=NOW)
    assert result.rejects.empty, result.rejects.to_dict("records")
    assert not any("giờ" in w for w in result.warnings), result.warnings
    assert result.valid["occurred_at"].iloc[0] == pd.Timestamp(expected)


def test_a_bad_time_of_day_is_refused_quoting_the_date_and_the_time() -> None:
    frame = rows({}).drop(columns=["occurred_at"]).assign(**{"Ngày": "05/03/2025", "Giờ": "25h99"})
    [reject] = validate_incidents(frame, now=NOW).rejects.to_dict("records")
    assert reject["field"] == "occurred_at" and "«05/03/2025 25h99»" in reject["reason"], reject


def test_an_excel_date_cell_and_time_cell_make_one_time(tmp_path: Path) -> None:
    """A register's date cell beside its time cell (a time value, or a fraction of a day formatted «h:mm»)."""
    from datetime import date, time

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Số hiệu", "Ngày xảy ra", "Giờ xảy ra", "Loại vụ việc", "Mã xã"])
    sheet.append(["G1", date(2025, 3, 5), time(14, 30), "tang_tru", "10507"])
    sheet.append(["G2", date(2025, 3, 5), 0.6041666666666666, "tang_tru", "10507"])
    sheet.cell(row=3, column=3).number_format = "h:mm"
    path = tmp_path / "ngay-gio.xlsx"
    book.save(path)
    result = validate_incidents(read_table(path), now=NOW)
    assert result.rejects.empty and not result.warnings, (result.rejects.to_dict("records"), result.warnings)
    assert list(result.valid["occurred_at"]) == [pd.Timestamp("2025-03-05T07:30:00Z")] * 2


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("45721.6041666667", "2025-03-05T07:30:00Z"),  # 05/03/2025 14:30, a date cell formatted «General»
        ("45721", "2025-03-04T17:00:00Z"),
        ("45721,5", "2025-03-05T05:00:00Z"),  # as a Vietnamese CSV export writes it
    ],
)
def test_an_excel_serial_date_is_read_as_the_date_it_numbers(given: str, expected: str) -> None:
    """A date cell that lost its date format shows, and is read as, Excel's serial number (days since 30/12/1899):
    it was refused as «thời gian không hợp lệ: «45721.6041666667»»."""
    result = validate_incidents(rows({"occurred_at": given}), now=NOW)
    assert result.rejects.empty, result.rejects.to_dict("records")
    assert result.valid["occurred_at"].iloc[0] == pd.Timestamp(expected)


@pytest.mark.parametrize("given", ["2025", "12345", "99999", "-45721", "45721.5.1"])
def test_a_number_that_is_no_excel_date_of_these_years_is_still_refused(given: str) -> None:
    """Only serial numbers of 1990 to 2100 are dates: a year alone, or any other number, is refused as before."""
    [reject] = validate_incidents(rows({"occurred_at": given}), now=NOW).rejects.to_dict("records")
    assert reject["field"] == "occurred_at", reject


def test_an_excel_serial_date_takes_the_time_of_its_own_column() -> None:
    frame = rows({}).drop(columns=["occurred_at"]).assign(**{"Ngày": "45721", "Giờ": "14h30"})
    result = validate_incidents(frame, now=NOW)
    assert result.rejects.empty, result.rejects.to_dict("records")
    assert result.valid["occurred_at"].iloc[0] == pd.Timestamp("2025-03-05T07:30:00Z")


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ("106°40'48\"E", "20°51'36\"N"),
        ("106°40′48″Đ", "20°51′36″B"),  # the Vietnamese letters and the typographic marks
        ("106° 40' 48''", "20° 51' 36''"),
        ("106°40,8'", "20°51,6'"),  # degrees and decimal minutes
    ],
)
def test_coordinates_in_degrees_minutes_seconds_are_read_as_the_search_box_reads_them(lon: str, lat: str) -> None:
    """A GPS's «20°51'36"N» was refused «không nhận độ-phút-giây», though the map's search box flies there."""
    result = validate_incidents(rows({"lon": lon, "lat": lat}), now=NOW)
    assert result.rejects.empty, result.rejects.to_dict("records")
    row = result.valid.iloc[0]
    assert (round(row["lon"], 6), round(row["lat"], 6)) == (106.68, 20.86)


@pytest.mark.parametrize("lon", ["106°75'00\"E", "106°40'48\"N", "106°40'48\"E abc", "°40'"])
def test_a_malformed_degrees_minutes_seconds_value_is_still_refused(lon: str) -> None:
    """Minutes past 59, a latitude's letter on a longitude, or text beside: refused as before, the value quoted."""
    [reject] = validate_incidents(rows({"lon": lon}), now=NOW).rejects.to_dict("records")
    assert reject["field"] == "lon" and f"«{lon}»" in reject["reason"], reject


def _incident_file(tmp_path: Path, suffix: str, header: list[str], *records: list[object]) -> Path:
    """An incident table as a CSV or a workbook, with the header and records given."""
    path = tmp_path / f"vu-viec{suffix}"
    if suffix == ".csv":
        lines = [header, *records]
        path.write_text("".join(",".join(str(v) for v in line) + "\n" for line in lines), encoding="utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        for line in [header, *records]:
            sheet.append([v if v != "" else None for v in line])
        book.save(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_two_unknown_columns_of_one_name_or_blank_are_ignored_not_refusing_the_file(
    tmp_path: Path, suffix: str
) -> None:
    """Two «Ghi chú» columns, two blank header cells between named ones: columns the import ignores anyway. The whole
    file had been refused, «tiêu đề có cột trùng tên: ô tiêu đề để trống; «ghi chú»»."""
    header = ["Số hiệu", "Ngày xảy ra", "", "Loại vụ việc", "Kinh độ", "", "Vĩ độ", "Ghi chú", "Ghi chú"]
    record = ["V1", "05/03/2024", "x", "Tàng trữ", "106.68", "y", "20.86", "a", "b"]
    result = validate_incidents(read_table(_incident_file(tmp_path, suffix, header, record)), now=NOW)
    assert result.rejects.empty and result.valid["ref"].tolist() == ["V1"]
    assert result.warnings == ["bỏ qua các cột không xác định: (cột không tên), ghi chú"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_known_column_given_twice_is_still_refused_by_its_name(tmp_path: Path, suffix: str) -> None:
    header = ["Số hiệu", "Ngày xảy ra", "Loại vụ việc", "Kinh độ", "Vĩ độ", "Ngày xảy ra"]
    record = ["V1", "05/03/2024", "Tàng trữ", "106.68", "20.86", "06/03/2024"]
    with pytest.raises(InvalidInput, match="^tiêu đề có cột trùng tên: «ngày xảy ra»"):
        validate_incidents(read_table(_incident_file(tmp_path, suffix, header, record)), now=NOW)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("internal", [["line"], ["_error"], ["Line", "_error"]])
def test_a_users_column_named_as_an_internal_one_is_read_apart_and_ignored(
    tmp_path: Path, suffix: str, internal: list[str]
) -> None:
    """A column «line» or «_error» of the user's had been overwritten by the reader's line numbers and errors, its
    values lost without the warning every ignored column gets."""
    header = ["ref", "occurred_at", "kind", "lon", "lat", *internal]
    record = ["V1", "2025-05-01", "trafficking", "106.68", "20.86", *(["lỗi x"] * len(internal))]
    table = read_table(_incident_file(tmp_path, suffix, header, record))
    assert table["line"].tolist() == [2] and table["_error"].tolist() == [""]
    assert sorted(v for c, v in table.iloc[0].items() if v == "lỗi x") == ["lỗi x"] * len(internal)
    result = validate_incidents(table, now=NOW)
    assert result.rejects.empty and len(result.valid) == 1
    assert result.warnings == [f"bỏ qua các cột không xác định: {', '.join(sorted(n.lower() for n in internal))}"]


def test_a_geojson_point_beside_coordinate_properties_is_read_not_refused(tmp_path: Path) -> None:
    """A layer keeping its coordinates in its attributes too («Kinh độ», «Vĩ độ», as a table made into points does)
    was refused whole for a column the user never wrote: «nhiều cột cùng nghĩa: «Kinh độ» ← kinh độ, lon». The point
    places the feature; a feature without one is placed by its properties. A point 10,7 km from its properties'
    position (0,08° east by 0,06° north at 20,86° N) had been imported without a word: a warning names it, both
    positions given."""
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.68, 20.86]}, "properties": {"ref": "G1"}},
        {"type": "Feature", "geometry": None, "properties": {"ref": "G2"}},
    ]
    common = {"occurred_at": "2025-05-01", "kind": "tip"}
    features[0]["properties"] |= {**common, "Kinh độ": 106.6, "Vĩ độ": 20.8}
    features[1]["properties"] |= {**common, "Kinh độ": 106.7, "Vĩ độ": 20.9}
    path = tmp_path / "diem.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = validate_incidents(read_table(path), now=NOW)
    assert result.rejects.empty
    assert result.valid[["ref", "lon", "lat"]].values.tolist() == [["G1", 106.68, 20.86], ["G2", 106.7, 20.9]]
    assert result.warnings == [
        "1 đối tượng có điểm khác tọa độ ghi trong thuộc tính kinh độ, vĩ độ (dòng 1: điểm (106,68; 20,86), thuộc tính"
        " (106,6; 20,8) (cách 10,7 km)): đã dùng điểm của đối tượng; nếu thuộc tính mới đúng, hãy sửa điểm trong phần"
        " mềm bản đồ và nạp lại"
    ]


def test_a_geojson_point_and_its_coordinate_properties_in_one_place_warn_of_nothing(tmp_path: Path) -> None:
    """Properties a GIS tool read off the point, rounded to four decimals or written in degrees-minutes-seconds, are the
    same place (within `POINT_AGREEMENT_M`): no warning; a feature whose properties lie 50 m off is named."""
    point = {"type": "Point", "coordinates": [106.683012, 20.860047]}
    common = {"occurred_at": "2025-05-01", "kind": "tip"}
    features = [
        {
            "type": "Feature",
            "geometry": point,
            "properties": {"ref": "G1", **common, "Kinh độ": 106.683, "Vĩ độ": 20.86},
        },
        {"type": "Feature", "geometry": point, "properties": {"ref": "G2", **common, "x": 1, "y": 2}},
        {
            "type": "Feature",
            "geometry": point,
            "properties": {"ref": "G3", **common, "Kinh độ": "106°40'58.8\"E", "Vĩ độ": "20°51'36.2\"N"},
        },
    ]
    path = tmp_path / "diem.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = validate_incidents(read_table(path), now=NOW)
    assert result.rejects.empty and len(result.valid) == 3 and result.warnings == []
    features[0]["properties"]["Vĩ độ"] = 20.8605
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    (warning,) = validate_incidents(read_table(path), now=NOW).warnings
    assert warning.startswith("1 đối tượng có điểm khác tọa độ") and "dòng 1: điểm (106,683012; 20,860047)" in warning

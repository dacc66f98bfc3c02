"""Numbers as Vietnamese and English files write them, and header names in either language."""

import pandas as pd
import pytest

from models.domain.row_checks import decimal_mark, header_key, parse_numbers


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (["1,5", "2.5"], [1.5, 2.5]),  # each value unambiguous on its own
        (["106,6885", "20,86"], [106.6885, 20.86]),
        (["1.234,5", "1.500"], [1234.5, 1500.0]),  # decimal comma shown: the point groups thousands
        (["2.5", "1,234"], [2.5, 1234.0]),  # decimal point shown: the comma groups thousands
        (["0,125", ""], [0.125, None]),
        (["1.500", "2,000"], [1.5, 2.0]),  # no convention shown: one separator is a decimal mark
    ],
)
def test_decimal_marks(column: list[str], expected: list[float | None]) -> None:
    values, bad = parse_numbers(pd.Series(column))
    assert not bad.any()
    assert [None if pd.isna(v) else v for v in values] == expected


def test_ambiguous_value_in_a_mixed_column_is_not_a_number() -> None:
    values, bad = parse_numbers(pd.Series(["1,5", "2.5", "1.500", "x"]))
    assert list(bad) == [False, False, True, True]
    assert decimal_mark(pd.Series(["1,5", "2.5"])) is None
    assert decimal_mark(pd.Series(["1.234,5"])) == ","


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (["30.000", "20.000"], [30000.0, 20000.0]),  # a Vietnamese workbook's counts typed as text
        (["1.234.567", "5"], [1234567.0, 5.0]),
        (["30,000", "-1.000", "1.5"], [30000.0, -1000.0, 1.5]),  # 1.5 stays a decimal: refused as a count later
    ],
)
def test_a_count_with_grouped_thousands_is_the_whole_number(column: list[str], expected: list[float]) -> None:
    values, bad = parse_numbers(pd.Series(column), whole=True)
    assert not bad.any() and list(values) == expected


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Số hiệu", "so_hieu"),
        ("Kinh độ (°)", "kinh_do"),
        (" ĐỊA CHỈ ", "dia_chi"),
        ("lon", "lon"),
        ("Diện tích trồng (m²)", "dien_tich_trong_m2"),  # was "dien_tich_trong_m": the form's unit matched no alias
    ],
)
def test_header_keys(name: str, key: str) -> None:
    assert header_key(name) == key

"""One Vietnamese number format (models.numbers.vn_number) for the exports, the command line and the legal criteria's
figures: each caller's output pinned as it was before the two copies were merged."""

import math

import pytest

from gis.io.exports import vn_megabytes
from models.domain.legal_rules import _format_faithful
from models.numbers import vn_number, vn_percent


@pytest.mark.parametrize(
    ("value", "decimals", "shown"),
    [
        (None, 2, "thiếu dữ liệu"),
        (math.nan, 2, "thiếu dữ liệu"),
        (True, 2, "Có"),
        (False, 2, "Không"),
        (0, 2, "0"),
        (3000.0, 2, "3.000"),
        (-1_234_567, 2, "-1.234.567"),
        (0.5, 2, "0,50"),
        (0.12345, 2, "0,12"),
        (2.999, 2, "3,00"),
        (1_234_567.891, 2, "1.234.567,89"),
        (-1234.5, 1, "-1.234,5"),
        (87.5, 1, "87,5"),
        (0.0049, 2, "0,00"),
    ],
)
def test_exports_and_command_line_figures(value, decimals, shown) -> None:
    """The exports' (and the command line's) fixed decimals: integers whole, others to ``decimals``, missing as such."""
    assert vn_number(value, decimals) == shown


@pytest.mark.parametrize(
    ("value", "decimals", "shown"),
    [
        (0.5, 3, "0,5"),
        (0.05, 3, "0,05"),
        (0.12345, 3, "0,123"),
        (0.12345, 5, "0,12345"),
        (2.999, 3, "2,999"),
        (2.9999, 3, "3"),
        (3000.0, 3, "3.000"),
        (1_234_567.891, 3, "1.234.567,891"),
        (-1234.5, 3, "-1.234,5"),
        (749.9996, 7, "749,9996"),
    ],
)
def test_criteria_figures_drop_trailing_zeros(value, decimals, shown) -> None:
    """The legal criteria's figures: at most ``decimals`` decimals, trailing zeros dropped."""
    assert vn_number(value, decimals, trim=True) == shown


@pytest.mark.parametrize(
    ("value", "decimals", "sign", "shown"),
    [
        (3.0, 2, False, "3,00"),
        (10.9, 3, False, "10,900"),
        (1_234.5, 2, False, "1.234,50"),
        (0.48, 2, True, "+0,48"),
        (-2.5, 2, True, "-2,50"),
        (0, 2, True, "+0,00"),
        (1_234_567, 1, True, "+1.234.567,0"),
        (math.nan, 2, True, "thiếu dữ liệu"),
        (None, 3, False, "thiếu dữ liệu"),
    ],
)
def test_fixed_decimals_and_signs(value, decimals, sign, shown) -> None:
    """A table's or a difference's figures: always ``decimals`` decimals (an integer too), "+" before a positive one
    with ``sign`` (the command line's evaluation printed «10.900», «+9.31»)."""
    assert vn_number(value, decimals, fixed=True, sign=sign) == shown


def test_signed_integers_stay_whole() -> None:
    assert vn_number(3000, sign=True) == "+3.000" and vn_number(-3000, sign=True) == "-3.000"


@pytest.mark.parametrize(
    ("share", "decimals", "sign", "shown"),
    [
        (0.05, 0, False, "5 %"),
        (0.0931, 1, False, "9,3 %"),
        (5.853, 1, True, "+585,3 %"),
        (-0.2, 1, True, "-20,0 %"),
        (12.345, 1, False, "1.234,5 %"),
        (None, 1, True, "thiếu dữ liệu"),
        (math.nan, 1, False, "thiếu dữ liệu"),
    ],
)
def test_percentages_as_the_reports_write_them(share, decimals, sign, shown) -> None:
    """A share as a percentage, a space before the sign as in the reports («+8,5 %»); missing stays missing."""
    assert vn_percent(share, decimals, sign=sign) == shown


def test_the_callers_keep_their_output() -> None:
    assert _format_faithful(0.49955, ">=", 0.5) == "0,4995" and _format_faithful(0.6, ">=", 0.5) == "0,6"
    assert vn_megabytes(9_856_614) == "9,4 MB" and vn_megabytes(8 * 2**20) == "8 MB"

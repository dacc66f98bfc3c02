"""Figures as a spreadsheet holds them: the number (or day) itself and the Excel number format that shows it.

Excel sums, sorts and filters a number cell and shows it with the separators of the reader's regional settings
("1.234", "87,5" on a Vietnamese machine); a figure written as text ("87,5") it can do none of that with. What is
not a figure stays text, as the CSV shows it: "thiếu dữ liệu" for what is missing (SUM skips a text cell, where an
empty or 0 cell would count as 0), "Có" / "Không" for a yes or no. Pure and light: ``gis.io.excel`` writes the cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from models.domain.dates import local_day
from models.numbers import vn_number
from models.vocabulary import LOCAL_TZ

#: How a day cell is shown: the dd/mm/yyyy every page and printout uses.
DAY_FORMAT = "dd/mm/yyyy"
#: How an instant is shown: its Hải Phòng day and time to the second (an audit trail's lines).
TIME_FORMAT = "dd/mm/yyyy hh:mm:ss"


@dataclass(frozen=True)
class Figure:
    """A number cell (or a day cell) and its Excel number format."""

    value: float | int | date
    number_format: str

    @property
    def plain(self) -> float | int | str:
        """The figure as a GIS attribute holds it (a GeoJSON property, typed by QGIS from its values): a day as ISO
        ``yyyy-mm-dd`` (read as a date), a share as its percentage (0.307 → 30.7, as the header's «%» says), another
        number itself."""
        if isinstance(self.value, date):
            return self.value.isoformat()
        if self.number_format.endswith("%"):
            return round(self.value * 100, 9)  # 0.57 * 100 is 56.99999999999999
        return self.value


def number_format(decimals: int, unit: str = "", prefix: str = "") -> str:
    """Excel's format of a number with ``decimals`` decimals and thousands grouped (``#,##0.0``), followed by its
    unit as literal text (``#,##0" điểm"``); the unit "%" makes it a percentage (the cell holds the share). A
    ``prefix`` is literal text before it (``"tối đa "#,##0%``: a target's bound, the cell still a number)."""
    pattern = (f'"{prefix} "' if prefix else "") + "#,##0" + ("." + "0" * decimals if decimals else "")
    if unit == "%":
        return pattern + "%"
    return pattern + (f'" {unit}"' if unit else "")


def number_cell(value: Any, decimals: int = 2, unit: str = "", *, trim: bool = False, prefix: str = "") -> Figure | str:
    """``value`` as a number cell shown as :func:`models.numbers.vn_number` writes it: an integer whole without
    decimals, another number to ``decimals`` decimals (with ``trim``, at most that many: trailing zeros dropped),
    then its unit; with the unit "%" ``value`` is a share (0.307 shows 30,70 %, the decimals counted on the
    percentage). None or NaN is the text "thiếu dữ liệu", a bool "Có" / "Không": no figure."""
    if _no_figure(value):
        return vn_number(value)
    number, _, decimals = _figure(value, decimals, unit, trim)
    return Figure(int(number) if number.is_integer() else number, number_format(decimals, unit, prefix))


def number_text(value: Any, decimals: int = 2, unit: str = "", *, trim: bool = False, prefix: str = "") -> str:
    """``value`` written as its :func:`number_cell` shows in a spreadsheet under Vietnamese settings — the same
    decimals and unit («32,46%», «30%», «3 điểm») —, for a line printed beside the file (the command line's KPI
    report); what is not a figure as :func:`number_cell` words it."""
    if _no_figure(value):
        return vn_number(value)
    _, shown, decimals = _figure(value, decimals, unit, trim)
    written = (f"{prefix} " if prefix else "") + vn_number(shown, decimals, fixed=True)
    return f"{written}%" if unit == "%" else f"{written} {unit}" if unit else written


def _no_figure(value: Any) -> bool:
    """Whether ``value`` is no number: missing (None, NaN) or a yes or no."""
    return value is None or isinstance(value, bool) or (isinstance(value, float) and math.isnan(value))


def _figure(value: Any, decimals: int, unit: str, trim: bool) -> tuple[float, float, int]:
    """The number a cell holds, the number it shows (a share's percentage with the unit "%") and the decimals
    shown: none of a whole number, else ``decimals`` (with ``trim``, at most that many)."""
    number = float(value)  # a database's Decimal, numpy's numbers: what a cell holds is a float or an int
    shown = round(number * 100, 9) if unit == "%" else number  # 0.57 * 100 is 56.99999999999999
    if shown.is_integer():
        decimals = 0
    elif trim:
        decimals = len(f"{shown:.{decimals}f}".rstrip("0").partition(".")[2])
    return number, shown, decimals


def day_cell(value: date | datetime | None) -> Figure | str:
    """A day cell (a datetime's Hải Phòng day) shown dd/mm/yyyy; nothing (no such day) is an empty text."""
    return "" if value is None else Figure(local_day(value), DAY_FORMAT)


def time_cell(value: datetime | None) -> Figure | str:
    """An instant as a date-and-time cell in Hải Phòng time, shown dd/mm/yyyy hh:mm:ss (a spreadsheet holds no time
    zone: the cell is the local time the pages show); nothing is an empty text."""
    return "" if value is None else Figure(value.astimezone(LOCAL_TZ).replace(tzinfo=None), TIME_FORMAT)

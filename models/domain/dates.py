"""Dates as users write them: dd/mm/yyyy (what every page and printout shows) or ISO yyyy-mm-dd.

Windows of days are inclusive for people ("from 01/07 to 30/09") and half-open for the database
([start, end) instants in Hải Phòng's time): :class:`DayWindow` holds both views so that nothing prints
the exclusive end as if it were the last day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from models.errors import InvalidRequest
from models.vocabulary import LOCAL_TZ

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
#: Dates outside this range are typing mistakes, not police records (and would overflow timestamp arithmetic).
EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)
#: Years a classification, a report or a task may be about (the API's paths and bodies accept no others).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def parse_day(text: str) -> date:
    """A day from ``dd/mm/yyyy`` (also ``d/m/yyyy``, ``dd.mm.yyyy``, ``dd-mm-yyyy``) or ISO ``yyyy-mm-dd``."""
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise InvalidRequest(
            f"ngày không đúng dạng: {text!r} (dùng dd/mm/yyyy hoặc yyyy-mm-dd)", "expected dd/mm/yyyy or yyyy-mm-dd"
        )
    value = existing_day(year, month, day, text)
    if not EARLIEST <= value <= LATEST:
        raise InvalidRequest(f"ngày ngoài khoảng {EARLIEST:%d/%m/%Y}–{LATEST:%d/%m/%Y}: {text!r}", "date out of range")
    return value


def existing_day(year: int, month: int, day: int, text: str) -> date:
    """The day ``text`` names by its parts, else InvalidRequest saying it does not exist (30/02, month 13): written
    the right way, it is not a question of form."""
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidRequest(f"ngày không tồn tại: {text!r}", "no such day") from None


def check_year(year: int) -> int:
    """``year`` if a classification may be made for it, else InvalidRequest (a typo: 1800, 20255, -5)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidRequest(
            f"năm ngoài khoảng {FIRST_YEAR}–{LAST_YEAR}: {year}", f"a year from {FIRST_YEAR} to {LAST_YEAR}"
        )
    return year


def local_day(value: date | datetime) -> date:
    """The Hải Phòng day of an instant (a date is itself): 18:00 UTC on 31/12 is 01/01 there."""
    return value.astimezone(LOCAL_TZ).date() if isinstance(value, datetime) else value


def vn_day(value: date | datetime) -> str:
    """A day as users read it: dd/mm/yyyy (a datetime is shown as its Hải Phòng date)."""
    return f"{local_day(value):%d/%m/%Y}"


def vn_time(value: datetime, seconds: bool = False) -> str:
    """An instant as users read it: its Hải Phòng date and time, dd/mm/yyyy HH:MM (``seconds``: HH:MM:SS), whatever
    zone it comes in (16:30 UTC on 31/12 is 31/12 23:30 there, 17:30 UTC is already 01/01 00:30)."""
    return f"{value.astimezone(LOCAL_TZ):%d/%m/%Y %H:%M{':%S' if seconds else ''}}"


def day_start(day: date) -> datetime:
    """The instant a Hải Phòng day begins."""
    return datetime.combine(day, time(), LOCAL_TZ)


@dataclass(frozen=True)
class DayWindow:
    """Whole local days from ``first`` to ``last`` inclusive; ``start``/``end`` are the half-open instants."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidRequest(
                f"khoảng ngày đảo ngược: từ {vn_day(self.first)} đến {vn_day(self.last)} (ngày đầu phải trước ngày cuối)",
                "reversed window: the first day must not follow the last",
            )

    @property
    def start(self) -> datetime:
        """The first instant of the window."""
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        """The first instant after the window."""
        return day_start(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        """How many days the window holds (both ends counted)."""
        return (self.last - self.first).days + 1

    def year_before(self) -> DayWindow:
        """The same period of the previous year («cùng kỳ năm trước»): each end a year back (:func:`year_back`)."""
        return DayWindow(year_back(self.first), year_back(self.last))

    def __str__(self) -> str:
        return f"{vn_day(self.first)}–{vn_day(self.last)}"


def last_days(last: date, days: int) -> DayWindow:
    """The ``days`` Hải Phòng days ending on ``last``, both counted: 90 days to 31/10 are 03/08–31/10 (``last`` minus
    ``days`` would be 91 of them)."""
    return DayWindow(last - timedelta(days=days - 1), last)


def year_back(day: date) -> date:
    """The same day a year earlier; 29/02 becomes 28/02 (the previous year has no 29th: the last day of February, so
    that a period ending on 29/02/2028 is compared with one ending on 28/02/2027, the whole month against the whole
    month)."""
    return day.replace(year=day.year - 1, day=28) if (day.month, day.day) == (2, 29) else day.replace(year=day.year - 1)


def report_period(first: date, last: date) -> DayWindow:
    """The days of a periodic report (week, month, quarter, half year, year: any span of whole days no longer than a
    year), refused in Vietnamese when reversed or longer. A year is the longest span that does not reach into the same
    period of the year before, with which it is compared: 01/01–31/12, or 01/03/2027–29/02/2028; 01/01/2025–01/01/2026
    (366 days) would count 01/01/2025 on both sides."""
    window = DayWindow(first, last)
    if window.year_before().last >= window.first:
        raise InvalidRequest(
            f"kỳ báo cáo dài {window.days} ngày, hơn một năm: kỳ dài hơn sẽ chồng lên cùng kỳ năm trước",
            "a report period spans at most a year",
        )
    return window


def instants_window(start: datetime, end: datetime) -> str:
    """A half-open window of instants shown as the inclusive days it covers (``end`` itself is not included)."""
    if end <= start:
        raise InvalidRequest(
            f"khoảng thời gian đảo ngược hoặc rỗng: {vn_day(start)}–{vn_day(end)}", "reversed or empty window"
        )
    return f"{vn_day(start)}–{vn_day(end - timedelta(microseconds=1))}"

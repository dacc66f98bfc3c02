"""Query parameters and headers shared by the routers (bbox, kinds, dates, commune, Idempotency-Key) and their
parsing."""

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import Header, Query
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from models.domain.dates import DayWindow, existing_day
from models.errors import InvalidRequest
from models.vocabulary import KIND_ALIASES, LOCAL_TZ, HotspotStatus, IncidentKind, local_today, normalise_kind

#: Dates a request may name: wide enough for any record, narrow enough that a day's arithmetic (the next day, twelve
#: months back) never leaves Python's and PostgreSQL's calendars (9999-12-31 and 0001-01-01 used to answer 500).
DATE_RANGE = (date(1900, 1, 1), date(2100, 12, 31))


#: The client's key of a change it may send again (after losing the answer: a task's comment or transition, a hotspot
#: reported from a tip): the same key gives the first answer back.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        pattern=r"^[!-~]+$",
        description="the client's key of this change (printable ASCII): a retry with it changes nothing",
    ),
]


#: A classification run's version (a year's files and reports of the version a page shows: the classification's
#: export, the KPI report).
Version = Annotated[int | None, Query(ge=1, description="run version; default: newest approved, else the draft")]


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_day(value: object) -> object:
    """Refuse a date written other than YYYY-MM-DD: pydantic would read "0", or the number 0 of a JSON body, as
    1970-01-01 (a number as seconds since 1970: schemathesis moved a task's due date so)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value):
        try:
            year, month, day = (int(part) for part in value.split("-"))
            return existing_day(year, month, day, value)
        except InvalidRequest as exc:  # 2026-02-30: written the right way, a day that does not exist
            raise ValueError(f"{exc.message} ({exc.reason})") from None
    raise ValueError("ngày phải viết dạng YYYY-MM-DD (date must be written YYYY-MM-DD)")


def sane_date(day: date) -> date:
    """``day`` if it lies in DATE_RANGE, else a validation error (422)."""
    first, last = DATE_RANGE
    if not first <= day <= last:
        raise ValueError(
            f"ngày phải trong khoảng {first:%d/%m/%Y}–{last:%d/%m/%Y} (date must lie between {first} and {last})"
        )
    return day


#: DATE_RANGE as a pattern of the OpenAPI description (so that generated requests stay inside it).
_DAY_PATTERN = r"^(19\d\d|20\d\d|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
SaneDate = Annotated[
    date,
    BeforeValidator(iso_day),
    AfterValidator(sane_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _DAY_PATTERN}),
]
_RANGE_NOTE = f"a date between {DATE_RANGE[0]} and {DATE_RANGE[1]}"
_NUMBER = r"-?\d{1,3}(?:\.\d{1,17})?"  # a float's repr has up to 17 decimals (Leaflet sends them)


def _listed(values: tuple[str, ...]) -> str:
    """Pattern of a comma-separated list of some of ``values``."""
    one = "|".join(sorted(values, key=len, reverse=True))
    return f"^(?:{one})(?:,(?:{one}))*$"


BBox = Annotated[
    str | None,
    Query(
        max_length=100, pattern=f"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$", description="minlon,minlat,maxlon,maxlat"
    ),
]
Kinds = Annotated[
    str | None,
    Query(
        max_length=300,
        pattern=_listed(IncidentKind.values() + tuple(KIND_ALIASES)),
        description="comma-separated incident kinds (codes or their Vietnamese aliases)",
    ),
]
Statuses = Annotated[
    str | None, Query(max_length=200, pattern=_listed(HotspotStatus.values()), description="comma-separated statuses")
]
DateFrom = Annotated[SaneDate | None, Query(alias="from", description=_RANGE_NOTE)]
DateTo = Annotated[SaneDate | None, Query(alias="to", description=f"inclusive; {_RANGE_NOTE}")]
Commune = Annotated[str | None, Query(max_length=16, pattern=r"^[0-9A-Za-z_-]+$")]


#: How far back NEW_OR_RECURRED_LABEL (models.vocabulary: new in the register, or recurred) reaches: N local days.
NewDays = Annotated[
    int | None,
    Query(
        ge=1,
        le=366,
        description="entered the register, or recurred, within the last N local (Hải Phòng) days, 1 = today",
    ),
]
#: A place to be near (WGS84) and how near: a hotspot list ordered by distance.
NearLon = Annotated[float | None, Query(ge=-180, le=180, description="longitude of the place to be near (with lat)")]
NearLat = Annotated[float | None, Query(ge=-90, le=90, description="latitude of the place to be near (with lon)")]
WithinM = Annotated[
    int | None, Query(ge=10, le=20_000, description="metres from the place of lon/lat (default 1000 with them)")
]
#: The distance of a «gần đây» list when the request names only the place.
DEFAULT_WITHIN_M = 1000


def parse_near(lon: float | None, lat: float | None, within_m: int | None) -> tuple[float, float, float] | None:
    """The place to be near and the metres, (lon, lat, metres), or None; 422 for a longitude without a latitude (or
    the other way), or a distance without a place."""
    if lon is None and lat is None:
        if within_m is not None:
            raise InvalidRequest(
                "bán kính tìm quanh cần kèm vị trí: kinh độ (lon) và vĩ độ (lat)", "within_m needs lon and lat"
            )
        return None
    if lon is None or lat is None:
        raise InvalidRequest("vị trí cần cả kinh độ (lon) và vĩ độ (lat)", "lon and lat go together")
    return lon, lat, float(within_m or DEFAULT_WITHIN_M)


def new_since(days: int | None) -> datetime | None:
    """Start of the first of the last ``days`` local days (today the last: 1 = since local midnight), or None."""
    return None if days is None else local_day_start(local_today(), 1 - days)


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    """`minlon,minlat,maxlon,maxlat` into floats, 422 when malformed."""
    if not bbox:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
    except ValueError:
        raise InvalidRequest("bbox phải là minlon,minlat,maxlon,maxlat", "bbox must be 4 numbers") from None
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InvalidRequest("bbox ngoài phạm vi hoặc đảo ngược", "bbox out of range or inverted")
    return x0, y0, x1, y1


def parse_kinds(kind: str | None) -> tuple[str, ...]:
    """Comma-separated kinds or aliases into canonical codes, 422 for unknown ones."""
    if not kind:
        return ()
    kinds = [(k, normalise_kind(k)) for k in kind.split(",") if k.strip()]
    unknown = [k for k, v in kinds if v is None]
    if unknown:
        raise InvalidRequest(f"loại vụ việc không hợp lệ: {', '.join(unknown)}", "unknown kind")
    return tuple(sorted({v for _, v in kinds if v}))


def parse_statuses(status: str | None) -> tuple[str, ...]:
    """Comma-separated hotspot statuses, 422 for unknown ones."""
    values = tuple(s for s in (status or "").split(",") if s)
    unknown = [s for s in values if s not in HotspotStatus.values()]
    if unknown:
        raise InvalidRequest(
            f"trạng thái không hợp lệ: {', '.join(unknown)}",
            f"unknown status; allowed: {', '.join(HotspotStatus.values())}",
        )
    return values


def local_day_start(day: date | None, plus_days: int = 0) -> datetime | None:
    """Start of a local (Hải Phòng) day, so date filters match what users see."""
    return None if day is None else datetime.combine(day + timedelta(days=plus_days), time(), LOCAL_TZ)


def day_window(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """The instants of local days [from, to] (either open); a reversed window is refused, not answered — with no
    incidents, or with the hotspots whose time spans both days."""
    if date_from and date_to:
        DayWindow(date_from, date_to)
    return local_day_start(date_from), local_day_start(date_to, 1)

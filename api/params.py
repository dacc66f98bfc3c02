"""Query parameters shared by the routers (bbox, kinds, dates, commune) and their parsing."""

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import Query

from models.errors import InvalidRequest
from models.vocabulary import LOCAL_TZ, HotspotStatus, normalise_kind

BBox = Annotated[str | None, Query(max_length=100, description="minlon,minlat,maxlon,maxlat")]
Kinds = Annotated[str | None, Query(max_length=300, description="comma-separated incident kinds")]
DateFrom = Annotated[date | None, Query(alias="from")]
DateTo = Annotated[date | None, Query(alias="to", description="inclusive")]
Commune = Annotated[str | None, Query(max_length=16, pattern=r"^[0-9A-Za-z_-]+$")]


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

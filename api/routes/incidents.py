"""Incidents: paginated GeoJSON with bbox, date range, kind and commune filters."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.audit import record_read
from api.deps import ReaderRead
from api.params import (
    BBox,
    Commune,
    DateFrom,
    DateTo,
    Kinds,
    day_window,
    parse_bbox,
    parse_kinds,
)
from api.schemas import IncidentPage
from gis.store.incidents import incidents_page
from gis.store.selection import IncidentSelection

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


@router.get("", response_model=IncidentPage)
def list_incidents(
    request: Request,
    read: ReaderRead,
    bbox: BBox = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    kind: Kinds = None,
    commune: Commune = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> dict[str, Any]:
    """Incidents as a GeoJSON page (`numberMatched` gives the total); a team sees only its area. Every page read is
    recorded in the access log (on the primary: a replica is read-only)."""
    start, end = day_window(date_from, date_to)
    selection = IncidentSelection(
        bbox=parse_bbox(bbox),
        start=start,
        end=end,
        kinds=parse_kinds(kind),
        communes=(commune,) if commune else None,
        scope=read.scope,
    )
    page = incidents_page(read.conn, selection, limit, offset)
    record_read(request, read.primary, read.user, page["numberReturned"])
    return page

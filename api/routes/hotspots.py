"""Hotspot register: list (GeoJSON, filters), one hotspot with incidents and events, manual creation."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import AreaScopeDep, ConnDep, Writer
from api.params import BBox, Commune, DateFrom, DateTo, local_day_start, parse_bbox
from gis.services.hotspots import create_manual_hotspot
from gis.store.hotspots import hotspot_detail, hotspots_geojson
from gis.store.selection import HotspotFilter
from models.errors import InvalidRequest, NotFound, PermissionDenied
from models.vocabulary import HotspotKind, HotspotStatus

router = APIRouter(prefix="/api/hotspots", tags=["hotspots"])


class ManualHotspotIn(BaseModel):
    """A hotspot reported by hand, e.g. from a tip (no personal names in the note)."""

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    note: str = Field(min_length=1, max_length=2000)
    kind: HotspotKind = HotspotKind.SPOT
    radius_m: float = Field(default=50.0, gt=0, le=2000)


def _statuses(status: str | None) -> tuple[str, ...]:
    values = tuple(s for s in (status or "").split(",") if s)
    unknown = [s for s in values if s not in HotspotStatus.values()]
    if unknown:
        raise InvalidRequest(
            f"trạng thái không hợp lệ: {', '.join(unknown)}",
            f"unknown status; allowed: {', '.join(HotspotStatus.values())}",
        )
    return values


@router.get("")
def list_hotspots(
    conn: ConnDep,
    scope: AreaScopeDep,
    status: Annotated[str | None, Query(max_length=200)] = None,
    commune: Commune = None,
    bbox: BBox = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    footprints: bool = False,
) -> dict[str, Any]:
    """Hotspots in the user's scope as GeoJSON (centroids, or footprints)."""
    flt = HotspotFilter(
        statuses=_statuses(status),
        communes=(commune,) if commune else None,
        bbox=parse_bbox(bbox),
        start=local_day_start(date_from),
        end=local_day_start(date_to, 1),
        scope=scope,
    )
    return hotspots_geojson(conn, flt, footprints)


@router.get("/{hotspot_id}")
def get_hotspot(hotspot_id: int, conn: ConnDep, scope: AreaScopeDep) -> dict[str, Any]:
    """One hotspot with `status`, `version`, its incidents and its events (404 outside the user's scope)."""
    detail = hotspot_detail(conn, hotspot_id, scope)
    if detail is None:
        raise NotFound(f"không tìm thấy điểm nóng #{hotspot_id}", "hotspot not found")
    return detail


@router.post("", status_code=201)
def create_hotspot(body: ManualHotspotIn, conn: ConnDep, user: Writer, scope: AreaScopeDep) -> dict[str, Any]:
    """Create a hotspot by hand at a point, status `detected` (a team only inside its area)."""
    hotspot_id = create_manual_hotspot(
        conn, lon=body.lon, lat=body.lat, note=body.note, actor=user.username, kind=body.kind, radius_m=body.radius_m
    )
    detail = hotspot_detail(conn, hotspot_id, scope)
    if detail is None:
        raise PermissionDenied("điểm này nằm ngoài địa bàn của tổ", "outside the team's area")
    return detail

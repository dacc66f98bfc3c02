"""Hotspot register: list (GeoJSON, filters), one hotspot with incidents and events, manual creation."""

from fastapi import APIRouter, Request

from api.audit import record_read
from api.deps import AreaScopeDep, ConnDep, Reader, Writer
from api.params import BBox, Commune, DateFrom, DateTo, Statuses, local_day_start, parse_bbox, parse_statuses
from api.schemas import HotspotCollection, HotspotDetail, ManualHotspotIn
from gis.services.hotspots import create_manual_hotspot
from gis.store.hotspots import hotspot_detail, hotspots_geojson
from gis.store.selection import HotspotFilter
from models.errors import NotFound, PermissionDenied

router = APIRouter(prefix="/api/hotspots", tags=["hotspots"])


@router.get("", response_model=HotspotCollection)
def list_hotspots(
    conn: ConnDep,
    scope: AreaScopeDep,
    status: Statuses = None,
    commune: Commune = None,
    bbox: BBox = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    footprints: bool = False,
) -> dict:
    """Hotspots in the user's scope as GeoJSON (centroids, or footprints)."""
    flt = HotspotFilter(
        statuses=parse_statuses(status),
        communes=(commune,) if commune else None,
        bbox=parse_bbox(bbox),
        start=local_day_start(date_from),
        end=local_day_start(date_to, 1),
        scope=scope,
    )
    return hotspots_geojson(conn, flt, footprints)


@router.get("/{hotspot_id:int}", response_model=HotspotDetail)
def get_hotspot(request: Request, hotspot_id: int, conn: ConnDep, user: Reader, scope: AreaScopeDep) -> dict:
    """One hotspot with `status`, `version`, its incidents and its events (404 outside the user's scope); the read
    of its incidents is recorded in the access log."""
    detail = hotspot_detail(conn, hotspot_id, scope)
    if detail is None:
        raise NotFound(f"không tìm thấy điểm nóng #{hotspot_id}", "hotspot not found")
    record_read(request, conn, user, len(detail["properties"]["incidents"]))
    return detail


@router.post("", status_code=201, response_model=HotspotDetail)
def create_hotspot(request: Request, body: ManualHotspotIn, conn: ConnDep, user: Writer, scope: AreaScopeDep) -> dict:
    """Create a hotspot by hand at a point inside the city's extent, status `detected` (a team only inside its
    area)."""
    hotspot_id = create_manual_hotspot(
        conn,
        lon=body.lon,
        lat=body.lat,
        note=body.note,
        actor=user.username,
        kind=body.kind,
        radius_m=body.radius_m,
        city_margin_m=request.app.state.city_margin_m,
    )
    detail = hotspot_detail(conn, hotspot_id, scope)
    if detail is None:
        raise PermissionDenied("điểm này nằm ngoài địa bàn của tổ", "outside the team's area")
    return detail

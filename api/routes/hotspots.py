"""Hotspot register: list (GeoJSON, filters), one hotspot with incidents and events, manual creation, detection."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.audit import access_line, record_read
from api.deps import AreaScopeDep, Commander, ConnDep, HotspotMachine, Reader, ReaderRead, TeamRead, Writer
from api.params import (
    BBox,
    Commune,
    DateFrom,
    DateTo,
    IdempotencyKey,
    NearLat,
    NearLon,
    NewDays,
    Statuses,
    WithinM,
    day_window,
    new_since,
    parse_bbox,
    parse_near,
    parse_statuses,
)
from api.schemas import DetectionIn, DetectionOut, HotspotCollection, HotspotDetail, ManualHotspotIn, TeamReportsOut
from gis.services.hotspots import create_manual_hotspot, hotspot_card, hotspot_register, team_reports
from gis.store.access_log import record_line
from gis.store.selection import HotspotFilter
from models.errors import NotFound
from models.vocabulary import TaskState, local_today

router = APIRouter(prefix="/api/hotspots", tags=["hotspots"])


@router.get("", response_model=HotspotCollection)
def list_hotspots(
    request: Request,
    read: ReaderRead,
    machine: HotspotMachine,
    status: Statuses = None,
    commune: Commune = None,
    bbox: BBox = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    team: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="team of the newest suppression task")] = None,
    task_state: Annotated[TaskState | None, Query(description="state of the newest suppression task")] = None,
    overdue: Annotated[bool | None, Query(description="the newest suppression task is overdue")] = None,
    outside_area: Annotated[
        bool | None,
        Query(description="the newest suppression task is held by its team outside the team's area today (or not)"),
    ] = None,
    new_days: NewDays = None,
    lon: NearLon = None,
    lat: NearLat = None,
    within_m: WithinM = None,
    footprints: bool = False,
) -> dict:
    """Hotspots in the user's scope as GeoJSON (centroids, or footprints), each with its newest suppression task and
    the transitions the user may make now. ``new_days``: only those that entered the register (a detection run found
    them, a user reported them) or recurred (known since: ``recurred_at``) in the last N local days, today the first. ``lon``/``lat`` (``within_m``, 1000 by
    default): only those whose centroid lies within that many metres of the place, nearest first, each with its
    ``distance_m``. Each carries its note, a spot reported by hand the note of the member who
    reported it: the read is recorded in the access log, as the team's own list of its reports is (by the list's own
    statement; read from a replica, on the primary: a replica is read-only)."""
    start, end = day_window(date_from, date_to)
    flt = HotspotFilter(
        statuses=parse_statuses(status),
        communes=(commune,) if commune else None,
        bbox=parse_bbox(bbox),
        start=start,
        end=end,
        scope=read.scope,
        team_id=team,
        task_states=(task_state,) if task_state else (),
        overdue=overdue,
        as_of=local_today(),
        outside_area=outside_area,
        new_since=new_since(new_days),
        near=parse_near(lon, lat, within_m),
    )
    line = access_line(request, read.user)
    on_primary = read.conn is read.primary  # the line goes with the list's own statement; a replica cannot write it
    register = hotspot_register(read.conn, flt, read.user.role, machine, footprints, line if on_primary else None)
    if not on_primary:
        record_line(read.primary, line, len(register["features"]))
    return register


@router.get("/reported", response_model=TeamReportsOut)
def reported_spots(
    request: Request, read: TeamRead, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> dict[str, Any]:
    """A team user's team's spots reported by hand in its area today that are not (yet) one of its tasks, and those
    command dismissed in the last 30 days (`reason`: command's), newest first: when, by which member, the note and
    where the report stands (`status_label`). Team users only (403 to other
    roles: command reads every report in the register). The read (members' notes) is recorded in the access log."""
    reports = team_reports(read.conn, read.scope, limit)
    record_read(request, read.primary, read.user, len(reports))
    return {"reports": reports}


@router.get("/{hotspot_id:int}", response_model=HotspotDetail)
def get_hotspot(
    request: Request, hotspot_id: int, conn: ConnDep, user: Reader, scope: AreaScopeDep, machine: HotspotMachine
) -> dict:
    """One hotspot with `status`, `version`, its incidents, events, task and allowed actions (404 outside the user's
    scope); the read of its incidents is recorded in the access log."""
    detail = hotspot_card(conn, hotspot_id, scope, user.role, machine)
    if detail is None:
        raise NotFound(f"không tìm thấy điểm nóng #{hotspot_id}", "hotspot not found")
    record_read(request, conn, user, len(detail["properties"]["incidents"]))
    return detail


@router.post("/detection", response_model=DetectionOut)
def detect_hotspots(body: DetectionIn, conn: ConnDep, user: Commander, scope: AreaScopeDep) -> dict:
    """Run hotspot detection as `diaban hotspots detect` does with its defaults, over the last `days` days ending on
    `end` (default: the latest incident's day), recorded under the command user; `dry_run`: what it would do, nothing
    recorded. Command only; a command user limited to a province only where the database holds no unit outside it
    (403: a run covers every incident). A run that would write while another writes: 409, nothing waits; a window
    ending before the latest recorded run's: 409 (a dry run may look at any window); a last day after today: 422."""
    from gis.services.detection import detect_for_user  # here: it loads pandas, which the server starts without

    report = detect_for_user(conn, user.username, scope, body.days, body.end, body.dry_run)
    return report.summary() | {"lines": report.lines()}


@router.post("", status_code=201, response_model=HotspotDetail)
def create_hotspot(
    request: Request,
    body: ManualHotspotIn,
    conn: ConnDep,
    user: Writer,
    scope: AreaScopeDep,
    machine: HotspotMachine,
    key: IdempotencyKey = None,
) -> dict:
    """Create a hotspot by hand at a point inside the city's extent, status `detected` (a team only inside its area:
    403 outside it, nothing stored; 422 a note that looks like a person's name). Sent again with the same
    `Idempotency-Key` (the answer was lost, a second tap), the first hotspot is answered and nothing is stored (409: the
    key was used for another report)."""
    hotspot_id = create_manual_hotspot(
        conn,
        lon=body.lon,
        lat=body.lat,
        note=body.note,
        actor=user.username,
        kind=body.kind,
        radius_m=body.radius_m,
        city_margin_m=request.app.state.city_margin_m,
        key=key,
        scope=scope,
    )
    detail = hotspot_card(conn, hotspot_id, scope, user.role, machine)
    assert detail is not None, "a hotspot reported in the user's scope is in it"
    return detail

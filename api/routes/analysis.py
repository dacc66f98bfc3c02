"""Spatial analyses of incidents: heat surface (PNG overlay or GeoJSON cells), Gi*, emerging hot spots."""

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import Connection

from api.deps import AreaScopeDep, ConnDep
from api.params import local_day_start, parse_bbox, parse_kinds
from gis.incident_points import IncidentSelection, latest_incident_time
from gis.scoping import AreaScope, scope_communes
from gis.surfaces import cells_frame, emerging_surface, gistar_surface, grid_bounds_lonlat, heat_surface
from models.emerging import NO_PATTERN, PATTERN_LABELS_VI
from models.gistar import LEVELS
from models.heat import heat_png, robust_top

router = APIRouter(prefix="/api", tags=["analysis"])

BBox = Annotated[str | None, Query(max_length=100, description="minlon,minlat,maxlon,maxlat")]
Kinds = Annotated[str | None, Query(max_length=300, description="comma-separated incident kinds")]
DateFrom = Annotated[date | None, Query(alias="from")]
DateTo = Annotated[date | None, Query(alias="to", description="inclusive")]


def _selection(conn: Connection, scope: AreaScope, bbox: str | None, kind: str | None, date_from: date | None,
               date_to: date | None) -> IncidentSelection:
    """The incidents an analysis uses; a team analyses only its own area."""
    return IncidentSelection(start=local_day_start(date_from), end=local_day_start(date_to, 1),
                             kinds=parse_kinds(kind), bbox=parse_bbox(bbox), communes=scope_communes(conn, scope))


def _geojson(frame) -> Response:  # noqa: ANN001 - a GeoDataFrame
    return Response(frame.to_json(drop_id=True), media_type="application/geo+json")


@router.get("/heat", response_model=None)
def heat(conn: ConnDep, scope: AreaScopeDep, bbox: BBox = None, kind: Kinds = None, date_from: DateFrom = None,
         date_to: DateTo = None, cell_m: Annotated[float, Query(ge=20, le=5000)] = 100.0,
         bandwidth_m: Annotated[float, Query(ge=20, le=10_000)] = 200.0,
         kernel: Literal["gaussian", "epanechnikov", "quartic"] = "gaussian",
         format: Literal["png", "overlay", "geojson"] = "png") -> Response | dict[str, Any]:
    """Kernel density of incidents (expected incidents per km²): PNG, PNG with bounds, or GeoJSON cells."""
    surface = heat_surface(conn, _selection(conn, scope, bbox, kind, date_from, date_to), cell_m, bandwidth_m, kernel)
    bounds = grid_bounds_lonlat(surface.grid)
    if format == "geojson":
        keep = surface.values >= surface.values.max() * 0.01
        return _geojson(cells_frame(surface.grid, keep, {"density_per_km2": surface.values}))
    png = heat_png(surface.values, vmax=robust_top(surface.values))
    if format == "overlay":
        import base64

        return {"bounds": bounds, "max_per_km2": float(surface.values.max()), "n_incidents": surface.n_incidents,
                "image": "data:image/png;base64," + base64.b64encode(png).decode()}
    return Response(png, media_type="image/png", headers={
        "X-Bounds": ",".join(f"{v:.6f}" for pair in bounds for v in pair),
        "X-Max-Per-Km2": f"{surface.values.max():.3f}", "Cache-Control": "no-store"})


@router.get("/gistar")
def gistar_cells(conn: ConnDep, scope: AreaScopeDep, bbox: BBox = None, kind: Kinds = None,
                 date_from: DateFrom = None, date_to: DateTo = None,
                 cell_m: Annotated[float, Query(ge=50, le=5000)] = 250.0,
                 distance_cells: Annotated[float, Query(ge=1, le=10)] = 1.5, fdr: bool = True,
                 all_cells: bool = False) -> Response:
    """Getis-Ord Gi* per cell (z, p, bin −3..3 at 99/95/90 %, FDR-corrected); significant cells by default."""
    grid, result, mask = gistar_surface(conn, _selection(conn, scope, bbox, kind, date_from, date_to), cell_m,
                                        distance_cells, fdr)
    keep = mask if all_cells else (result.bin != 0)
    frame = cells_frame(grid, keep, {"z": result.z, "p": result.p, "bin": result.bin})
    frame["confidence"] = frame["bin"].abs().map({level: 1 - alpha for level, alpha in LEVELS})
    return _geojson(frame)


@router.get("/emerging")
def emerging(conn: ConnDep, scope: AreaScopeDep, bbox: BBox = None, kind: Kinds = None,
             end: Annotated[date | None, Query(description="last day (default: latest incident)")] = None,
             steps: Annotated[int, Query(ge=3, le=60)] = 12, step: Literal["week", "month"] = "month",
             cell_m: Annotated[float, Query(ge=100, le=5000)] = 500.0,
             distance_cells: Annotated[float, Query(ge=1, le=10)] = 1.5) -> Response:
    """Emerging hot-spot pattern per cell (17 outcomes, ArcGIS rules) over `steps` steps; patterned cells only."""
    selection = _selection(conn, scope, bbox, kind, None, None)
    stop: datetime = local_day_start(end, 1) if end else (latest_incident_time(conn) or datetime.now().astimezone())
    if not end:
        stop = stop + timedelta(seconds=1)
    grid, result = emerging_surface(conn, selection, stop, steps, step, cell_m, distance_cells)
    keep = result.pattern != NO_PATTERN
    frame = cells_frame(grid, keep, {"pattern": result.pattern})
    frame["label_vi"] = frame["pattern"].map(PATTERN_LABELS_VI)
    return _geojson(frame)

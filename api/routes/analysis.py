"""Spatial analyses of incidents: heat surface (PNG overlay or GeoJSON cells), Gi*, emerging hot spots.

Answers are cached until the incidents (or a team's area) change, keyed by every parameter; a filter
that matches no incident gets an empty answer, not an error. A heat surface or Gi* on cells under DETAILED_CELL_M is
detailed data: each one sent, computed or cached, is recorded in the access log (:func:`_record_fine_cells`).
"""

import base64
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from api.audit import access_line
from api.cache import CachedResponse, cached_response
from api.deps import MapRead, MapReadDep
from api.params import (
    BBox,
    DateFrom,
    DateTo,
    Kinds,
    SaneDate,
    day_window,
    local_day_start,
    parse_bbox,
    parse_kinds,
)
from api.schemas import EmergingCell, FeatureCollection, GiStarCell, HeatCell, HeatOverlay
from api.slots import heavy
from gis.services.analyses import (
    Memo,
    NoIncidents,
    cells_frame,
    city_emerging,
    city_gistar,
    grid_bounds_lonlat,
    heat_surface,
    study_province,
)
from gis.store.access_log import record_line
from gis.store.incidents import latest_incident_time
from gis.store.provinces import province_names
from gis.store.scoping import AreaScope, scope_communes
from gis.store.selection import IncidentSelection
from maps.geojson import cells_geojson
from maps.png import heat_png, robust_top
from models.analytics.emerging import MAP_CELL_M, MAP_STEP, MAP_STEPS, NO_PATTERN, PATTERN_LABELS_VI, EmergingOptions
from models.analytics.gistar import CONFIDENCE_LEVELS
from models.analytics.gistar import MAP_CELL_M as GISTAR_MAP_CELL_M
from models.domain.access import DETAILED_CELL_M

router = APIRouter(prefix="/api", tags=["analysis"])
GEOJSON = "application/geo+json"
EMPTY_COLLECTION = CachedResponse(b'{"type": "FeatureCollection", "features": []}', GEOJSON)
#: What an analysis answered, as the access log's rows: the incidents a heat surface spreads, the cells of a Gi* answer.
ROWS_HEADER = "X-Rows"
#: The province a Gi* or emerging answer was computed for (its code; with several provinces loaded only), and its full
#: name percent-encoded (UTF-8): at the country's zoom a nation-wide user's view centres at sea, the cells are the
#: nearest province's and may lie anywhere — the command page names it.
STUDY_PROVINCE_HEADER = "X-Study-Province"
STUDY_PROVINCE_NAME_HEADER = "X-Study-Province-Name"


class GeoJSONResponse(JSONResponse):
    """A GeoJSON answer: documented as JSON of the declared model (the routes send cached bytes)."""

    media_type = GEOJSON


def _cells(properties: type) -> dict[int | str, dict]:
    """The documented answer of a grid analysis: a GeoJSON collection of cells with these properties."""
    return {
        200: {"model": FeatureCollection[properties], "description": "cells as GeoJSON"},  # type: ignore[valid-type]
        304: {"description": "unchanged since the ETag the browser sent"},
    }


def _selection(bbox: str | None, kind: str | None, date_from: date | None, date_to: date | None) -> IncidentSelection:
    """The incidents an analysis uses, before the user's area is applied."""
    start, end = day_window(date_from, date_to)
    return IncidentSelection(
        start=start,
        end=end,
        kinds=parse_kinds(kind),
        bbox=parse_bbox(bbox),
    )


def _scoped(conn: Connection, scope: AreaScope, selection: IncidentSelection) -> IncidentSelection:
    """The selection limited to what the user may see: a team analyses only its own area."""
    return selection.within(scope_communes(conn, scope))


def _memo(request: Request) -> Memo:
    """The process's cache of city-wide analyses (kept until the data versions in their keys change)."""
    return request.app.state.analysis_memo.get_or_build


def _geojson(frame, headers: dict[str, str] | None = None) -> CachedResponse:  # noqa: ANN001 - a GeoDataFrame
    return CachedResponse(cells_geojson(frame), GEOJSON, headers or {})


def _naming_study_province(conn: Connection, province: str | None, response: Response) -> Response:
    """``response`` with the headers naming the province studied (:data:`STUDY_PROVINCE_HEADER`), when there is one
    (None: a one-province database, its whole extent)."""
    if province is not None:
        response.headers[STUDY_PROVINCE_HEADER] = province
        response.headers[STUDY_PROVINCE_NAME_HEADER] = quote(province_names(conn)[province])
    return response


def _record_fine_cells(request: Request, read: MapRead, cell_m: float, response: Response) -> Response:
    """``response``, recorded in the access log (on the primary, with its :data:`ROWS_HEADER`) when its cells are
    narrower than DETAILED_CELL_M: a lone incident's cell, or a heat surface's lone peak, places it within a block.
    Every answer sent is recorded, computed or cached, empty ones too (0 rows); a 304 sends nothing."""
    if cell_m < DETAILED_CELL_M and response.status_code in (200, 204):
        record_line(read.primary, access_line(request, read.user), int(response.headers.get(ROWS_HEADER, 0)))
    return response


def _or_empty(
    request: Request, build: Callable[[], CachedResponse], empty: CachedResponse
) -> Callable[[], CachedResponse]:
    """``build`` in one of the process's slots for heavy analyses (api.slots), answering ``empty`` when no incident
    matches. Called only when the answer is not cached: a cached answer takes no slot."""

    def answer() -> CachedResponse:
        try:
            return heavy(request, build)
        except NoIncidents:
            return empty

    return answer


@router.get(
    "/heat",
    response_class=JSONResponse,
    responses={
        200: {
            "model": HeatOverlay,
            "description": "PNG (format=png), PNG with bounds (format=overlay) or cells (format=geojson)",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                GEOJSON: {"schema": FeatureCollection[HeatCell].model_json_schema()},
            },
        },
        204: {"description": "no incident matches (format=png)"},
        304: {"description": "unchanged since the ETag the browser sent"},
    },
)
def heat(
    request: Request,
    read: MapReadDep,
    bbox: BBox = None,
    kind: Kinds = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    cell_m: Annotated[float, Query(ge=20, le=5000)] = 100.0,
    bandwidth_m: Annotated[float, Query(ge=20, le=10_000)] = 200.0,
    kernel: Literal["gaussian", "epanechnikov", "quartic"] = "gaussian",
    format: Literal["png", "overlay", "geojson"] = "png",
) -> Response:
    """Kernel density of incidents (expected incidents per km²): PNG (bounds in `X-Bounds`; 204 when no incident
    matches), PNG with bounds as JSON (`image` null when none), or GeoJSON cells."""
    conn, scope, data_key = read.conn, read.scope, read.data_key
    selection = _selection(bbox, kind, date_from, date_to)

    def build() -> CachedResponse:
        surface = heat_surface(
            conn,
            _scoped(conn, scope, selection),
            cell_m,
            bandwidth_m,
            kernel,
            request.app.state.max_analysis_cost,
            _memo(request),
        )
        bounds = grid_bounds_lonlat(surface.grid)
        rows = {ROWS_HEADER: str(surface.n_incidents)}
        if format == "geojson":
            keep = np.flatnonzero(surface.values.ravel() >= surface.values.max() * 0.01)
            cells = cells_frame(
                surface.grid,
                keep,
                {"density_per_km2": surface.values.ravel()[keep]},
                request.app.state.max_analysis_cost,
            )
            return _geojson(cells, rows)
        top = robust_top(surface.values)
        png = heat_png(surface.values, vmax=top)
        if format == "overlay":
            return CachedResponse(
                json.dumps(
                    {
                        "bounds": bounds,
                        "max_per_km2": float(surface.values.max()),
                        "scale_top_per_km2": top,
                        "n_incidents": surface.n_incidents,
                        "without_point": surface.n_without_point,
                        "outside_city": surface.n_outside_city,
                        "image": "data:image/png;base64," + base64.b64encode(png).decode(),
                    }
                ).encode(),
                "application/json",
                rows,
            )
        return CachedResponse(
            png,
            "image/png",
            {
                "X-Bounds": ",".join(f"{v:.6f}" for pair in bounds for v in pair),
                "X-Max-Per-Km2": f"{surface.values.max():.3f}",
                **rows,
            },
        )

    empty = {
        "geojson": EMPTY_COLLECTION,
        "png": CachedResponse(b"", "image/png", status_code=204),
        "overlay": CachedResponse(
            b'{"bounds": null, "max_per_km2": 0, "scale_top_per_km2": 0, "n_incidents": 0, "image": null}',
            "application/json",
        ),
    }[format]
    response = cached_response(
        request,
        request.app.state.cache,
        ("heat", selection, cell_m, bandwidth_m, kernel, format, data_key),
        _or_empty(request, build, empty),
    )
    return _record_fine_cells(request, read, cell_m, response)


@router.get("/gistar", response_class=GeoJSONResponse, responses=_cells(GiStarCell))
def gistar_cells(
    request: Request,
    read: MapReadDep,
    bbox: BBox = None,
    kind: Kinds = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    cell_m: Annotated[float, Query(ge=50, le=5000)] = GISTAR_MAP_CELL_M,
    distance_cells: Annotated[float, Query(ge=1, le=10)] = 1.5,
    fdr: bool = True,
    all_cells: bool = False,
    permutations: Annotated[int, Query(ge=0, le=9999, description="conditional permutations; 0 = normal p")] = 0,
) -> Response:
    """Getis-Ord Gi* per cell (z, p, bin −3..3 at 99/95/90 %, FDR-corrected; ``no_neighbours`` flags cells with no
    neighbour, which get no statistic); significant cells by default. Computed over the whole city, then clipped
    to the user's area and the view, so a cell's bin is the same for every user. With several provinces loaded, over
    one (`study_province`), named by the headers `X-Study-Province` (code) and `X-Study-Province-Name` (full name,
    percent-encoded UTF-8)."""
    conn, scope, data_key = read.conn, read.scope, read.data_key
    selection = _selection(bbox, kind, date_from, date_to)
    province = study_province(conn, scope, selection.bbox)

    def build() -> CachedResponse:
        city = city_gistar(
            conn,
            selection,
            cell_m,
            distance_cells,
            fdr,
            permutations,
            _memo(request),
            request.app.state.max_analysis_cost,
            province,
        )
        result = city.result
        shown = city.cells.visible(scope_communes(conn, scope), selection.bbox)
        keep = np.flatnonzero(shown if all_cells else shown & (result.bin != 0))
        frame = cells_frame(
            city.cells.lattice.grid,
            city.cells.lattice.cells[keep],
            {
                "z": result.z[keep],
                "p": result.p[keep],
                "bin": result.bin[keep],
                "no_neighbours": result.no_neighbours[keep],
            },
            request.app.state.max_analysis_cost,
        )
        frame["confidence"] = frame["bin"].abs().map({level: 1 - alpha for level, alpha in CONFIDENCE_LEVELS})
        return _geojson(frame, {ROWS_HEADER: str(len(frame))})

    response = cached_response(
        request,
        request.app.state.cache,
        ("gistar", selection, cell_m, distance_cells, fdr, all_cells, permutations, data_key),
        _or_empty(request, build, EMPTY_COLLECTION),
    )
    return _naming_study_province(conn, province, _record_fine_cells(request, read, cell_m, response))


@router.get("/emerging", response_class=GeoJSONResponse, responses=_cells(EmergingCell))
def emerging(
    request: Request,
    read: MapReadDep,
    bbox: BBox = None,
    kind: Kinds = None,
    end: Annotated[SaneDate | None, Query(description="last day (default: latest incident)")] = None,
    steps: Annotated[int, Query(ge=3, le=60)] = MAP_STEPS,
    step: Literal["week", "month"] = MAP_STEP,
    cell_m: Annotated[float, Query(ge=100, le=5000)] = MAP_CELL_M,
    distance_cells: Annotated[float, Query(ge=1, le=10)] = 1.5,
    mode: Annotated[
        Literal["diaban", "arcgis"],
        Query(description="diaban: Gi* per step over the land; arcgis: ArcGIS Pro defaults (see README)"),
    ] = "diaban",
) -> Response:
    """Emerging hot-spot pattern per cell (17 outcomes, ArcGIS rules) over `steps` steps; patterned cells only.
    Computed over the whole city, then clipped to the user's area and the view; the province studied is named as for
    Gi*."""
    conn, scope, data_key = read.conn, read.scope, read.data_key
    selection = _selection(bbox, kind, None, None)
    province = study_province(conn, scope, selection.bbox)

    def build() -> CachedResponse:
        stop = local_day_start(end, 1) if end else (latest_incident_time(conn) or datetime.now().astimezone())
        assert stop is not None
        if not end:
            stop = stop + timedelta(seconds=1)
        city = city_emerging(
            conn,
            selection,
            stop,
            steps,
            step,
            cell_m,
            distance_cells,
            EmergingOptions.preset(mode),
            _memo(request),
            request.app.state.max_analysis_cost,
            province,
        )
        shown = city.cells.visible(scope_communes(conn, scope), selection.bbox)
        keep = np.flatnonzero(shown & (city.result.pattern != NO_PATTERN))
        frame = cells_frame(
            city.cells.lattice.grid,
            city.cells.lattice.cells[keep],
            {"pattern": city.result.pattern[keep]},
            request.app.state.max_analysis_cost,
        )
        frame["label_vi"] = frame["pattern"].map(PATTERN_LABELS_VI)
        return _geojson(frame, {ROWS_HEADER: str(len(frame))})

    response = cached_response(
        request,
        request.app.state.cache,
        ("emerging", selection, end, steps, step, cell_m, distance_cells, mode, data_key),
        _or_empty(request, build, EMPTY_COLLECTION),
    )
    return _naming_study_province(conn, province, response)

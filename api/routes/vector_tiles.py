"""Vector tiles `/tiles/{layer}/{z}/{x}/{y}.mvt` for the map's heavy layers (auth and area scope apply)."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.audit import access_line
from api.cache import CachedResponse, cached_response
from api.deps import AreaScopeDep, MapReadDep, ReplicaConnDep
from api.params import DateFrom, DateTo, Kinds, day_window, parse_kinds
from gis.store.access_log import record_line
from gis.store.selection import IncidentSelection
from gis.store.tiles import DETAIL_ZOOM, LAYERS, communes_etag, tile
from gis.store.tiles import incident_tile as incidents_tile
from models.errors import NotFound

router = APIRouter(prefix="/tiles", tags=["tiles"])
MVT = "application/vnd.mapbox-vector-tile"
TILE_RESPONSE: dict[int | str, dict] = {
    200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}, "description": "a Mapbox vector tile"},
    304: {"description": "unchanged since the ETag the browser sent"},
}


#: The number of incidents a tile shows, single or counted (what the access log records).
POINTS_HEADER = "X-Incidents"
Z = Annotated[int, Path(ge=0, le=22)]
XY = Annotated[int, Path(ge=0)]


def _no_such_tile() -> NotFound:
    return NotFound("không có lớp hoặc ô bản đồ này", "no such layer or tile")


@router.get("/incidents/{z}/{x}/{y}.mvt", response_class=Response, responses=TILE_RESPONSE)
def incident_tile(
    request: Request,
    read: MapReadDep,
    z: Z,
    x: XY,
    y: XY,
    kind: Kinds = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Response:
    """Incidents (filtered by `kind`, `from`, `to`), cached until the next import and revalidated by ETag. From zoom 13
    (counts on cells under 100 m, then from street zoom single incidents: gis.store.tiles.DETAIL_ZOOM), every tile sent
    is recorded in the access log.

    One statement on a warm process (no transaction: the connection is in autocommit): the session and the data
    versions are remembered by the process, the tile written with its access line, or from the cache only the line.
    A tile read from a replica has its line written on the primary (a replica is read-only).
    """
    if x >= 2**z or y >= 2**z:
        raise _no_such_tile()
    start, end = day_window(date_from, date_to)
    selection = IncidentSelection(start=start, end=end, kinds=parse_kinds(kind))
    line = access_line(request, read.user) if z >= DETAIL_ZOOM else None
    logged = False

    def build() -> CachedResponse:
        nonlocal logged
        # The access line goes with the tile's own statement on the primary; a replica cannot write it.
        with_line = line if read.conn is read.primary else None
        body, points = incidents_tile(read.conn, z, x, y, read.scope, selection, with_line)
        logged = with_line is not None
        return CachedResponse(body, MVT, {POINTS_HEADER: str(points)})

    response = cached_response(request, request.app.state.cache, ("tile", z, x, y, selection, read.data_key), build)
    if line is not None and response.status_code == 200 and not logged:
        record_line(read.primary, line, int(response.headers[POINTS_HEADER]))
    return response


@router.get("/{layer}/{z}/{x}/{y}.mvt", response_class=Response, responses=TILE_RESPONSE)
def get_tile(request: Request, conn: ReplicaConnDep, scope: AreaScopeDep, layer: str, z: Z, x: XY, y: XY) -> Response:
    """A tile of the other layers: boundaries are cacheable for an hour (ETag), hotspots change with every
    transition and are not cached."""
    if layer not in LAYERS or layer == "incidents" or x >= 2**z or y >= 2**z:
        raise _no_such_tile()
    headers = {"Cache-Control": "no-store"}
    if layer == "communes":
        etag = communes_etag(conn, z, x, y, scope)
        headers = {"Cache-Control": "private, max-age=3600", "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
    return Response(tile(conn, layer, z, x, y, scope), media_type=MVT, headers=headers)

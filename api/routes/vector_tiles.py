"""Vector tiles `/tiles/{layer}/{z}/{x}/{y}.mvt` for the map's heavy layers (auth and area scope apply)."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.cache import CachedResponse, cached_response
from api.deps import AreaScopeDep, CacheDep, ConnDep, DataKey
from api.params import DateFrom, DateTo, Kinds, local_day_start, parse_kinds
from gis.store.selection import IncidentSelection
from gis.store.tiles import LAYERS, communes_etag, tile
from models.errors import NotFound

router = APIRouter(prefix="/tiles", tags=["tiles"])
MVT = "application/vnd.mapbox-vector-tile"
TILE_RESPONSE: dict[int | str, dict] = {
    200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}, "description": "a Mapbox vector tile"},
    304: {"description": "unchanged since the ETag the browser sent"},
}


Z = Annotated[int, Path(ge=0, le=22)]
XY = Annotated[int, Path(ge=0)]


def _no_such_tile() -> NotFound:
    return NotFound("không có lớp hoặc ô bản đồ này", "no such layer or tile")


@router.get("/incidents/{z}/{x}/{y}.mvt", response_class=Response, responses=TILE_RESPONSE)
def incident_tile(
    request: Request,
    conn: ConnDep,
    scope: AreaScopeDep,
    cache: CacheDep,
    data_key: DataKey,
    z: Z,
    x: XY,
    y: XY,
    kind: Kinds = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Response:
    """Incidents (filtered by `kind`, `from`, `to`), cached until the next import and revalidated by ETag."""
    if x >= 2**z or y >= 2**z:
        raise _no_such_tile()
    selection = IncidentSelection(
        start=local_day_start(date_from), end=local_day_start(date_to, 1), kinds=parse_kinds(kind)
    )
    return cached_response(
        request,
        cache,
        ("tile", z, x, y, selection, data_key),
        lambda: CachedResponse(tile(conn, "incidents", z, x, y, scope, selection), MVT),
    )


@router.get("/{layer}/{z}/{x}/{y}.mvt", response_class=Response, responses=TILE_RESPONSE)
def get_tile(request: Request, conn: ConnDep, scope: AreaScopeDep, layer: str, z: Z, x: XY, y: XY) -> Response:
    """A tile of the other layers: boundaries are cacheable for an hour (ETag), hotspots change with every
    transition and are not cached."""
    if layer not in LAYERS or x >= 2**z or y >= 2**z:
        raise _no_such_tile()
    headers = {"Cache-Control": "no-store"}
    if layer == "communes":
        etag = communes_etag(conn, z, x, y, scope)
        headers = {"Cache-Control": "private, max-age=3600", "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
    return Response(tile(conn, layer, z, x, y, scope), media_type=MVT, headers=headers)
